//! Shared test helper: validates a JSON report against docs/report.schema.json.

/// The schema errors of a JSON report (empty when it conforms).
pub fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/report.schema.json"
        ))
        .expect("docs/report.schema.json exists"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    validator
        .iter_errors(report)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect()
}

/// Panics with every schema error of a JSON report.
pub fn assert_schema_valid(report: &serde_json::Value) {
    let errors = schema_errors(report);
    assert!(
        errors.is_empty(),
        "report does not match docs/report.schema.json:\n{}",
        errors.join("\n")
    );
}
