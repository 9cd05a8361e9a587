//! The scenario JSON Schema: committed, current, accepted by an independent
//! validator for every built-in, refusing broken files, and in step with the loader.

use std::process::Command;

use spotcheck::scenario::{self, schema};

fn toml_to_json(text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(text).expect("valid TOML");
    serde_json::to_value(value).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema::schema()).expect("the schema is a valid JSON Schema")
}

#[test]
fn committed_schema_is_the_generated_one() {
    let output = Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["scenarios", "schema"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/scenario.schema.json"
    ))
    .expect("docs/scenario.schema.json is committed");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        committed,
        "regenerate with: cargo run -- scenarios schema > docs/scenario.schema.json"
    );
}

#[test]
fn every_builtin_scenario_validates() {
    let validator = validator();
    for (path, text) in scenario::builtin::FILES {
        let instance = toml_to_json(text);
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
}

#[test]
fn broken_scenarios_are_refused_by_the_schema_and_the_loader() {
    let validator = validator();
    let head = "id = \"custom.x\"\ntitle = \"t\"\nlevel = \"required\"\nwhy = \"w\"\nfix = \"f\"\n";
    let broken = [
        format!("{head}stauts = 1\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\n"),
        head.replace("required", "mandatory") + "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\n",
        format!("{head}[[step]]\nsend = \"PNR_V3/BOOKING_TICKETTED\"\n"),
        format!(
            "{head}[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexpect = {{ status = \"3xx\" }}\n"
        ),
        format!("{head}[[step]]\nsleep = \"soon\"\n"),
        format!("{head}[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nsignature = \"forged\"\n"),
        format!("{head}[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nrepeat = 100000\n"),
        format!("{head}[[step]]\nsned = \"PNR_V3/BOOKING_CREATED\"\n"),
    ];
    for text in &broken {
        assert!(
            !validator.is_valid(&toml_to_json(text)),
            "schema accepts:\n{text}"
        );
        assert!(
            scenario::load_str("broken.toml", text).is_err(),
            "loader accepts:\n{text}"
        );
    }
    let good = format!("{head}[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\n");
    assert!(validator.is_valid(&toml_to_json(&good)));
}

/// Every value the schema offers is one the loader takes: the two cannot drift apart.
#[test]
fn schema_vocabularies_load() {
    let head = "id = \"custom.x\"\ntitle = \"t\"\nlevel = \"required\"\nwhy = \"w\"\nfix = \"f\"\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\n";
    let mut lines: Vec<String> = Vec::new();
    lines.extend(
        schema::SIGNATURE_VALUES
            .iter()
            .map(|v| format!("signature = \"{v}\"")),
    );
    lines.extend(
        schema::SIGNATURE_TOKENS
            .iter()
            .map(|v| format!("signature = [\"{v}\", \"valid\"]")),
    );
    lines.extend(
        schema::TAMPER_VALUES
            .iter()
            .map(|v| format!("tamper = \"{v}\"")),
    );
    let step = &schema::schema()["$defs"]["step"]["properties"];
    for key in ["body_style", "product"] {
        for value in step[key]["enum"].as_array().unwrap() {
            lines.push(format!("{key} = {value}"));
        }
    }
    // OAuth keys need `requires = ["oauth"]`.
    let head = head.replace("[[step]]", "requires = [\"oauth\"]\n[[step]]");
    for line in lines {
        let text = format!("{head}{line}\n");
        if let Err(err) = scenario::load_str("vocabulary.toml", &text) {
            panic!("{line}: {}", err.render(false));
        }
    }
    for value in schema::TOKEN_VALUES {
        let text = format!(
            "id = \"custom.x\"\ntitle = \"t\"\nlevel = \"required\"\nwhy = \"w\"\nfix = \"f\"\nrequires = [\"oauth\"]\n[[step]]\ntoken = \"{value}\"\n"
        );
        if let Err(err) = scenario::load_str("token.toml", &text) {
            panic!("token = {value}: {}", err.render(false));
        }
    }
}
