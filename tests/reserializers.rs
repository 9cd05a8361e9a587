//! Re-serializers named: partners written in Python, Node and PHP (the scripts in
//! `tests/partners/`, each over loopback HTTPS with a certificate from a test CA) that
//! verify the signature over the JSON they parsed and wrote back instead of the raw
//! body, and what `spotcheck run` says about them: the library is named (and no
//! signing mistake, no other library), with the fix for its stack; a partner that
//! re-serializes outside the table still gets the "none of them" message; and
//! `spotcheck verify` names the library a signature was computed over, offline.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use spotcheck::diagnose::probes::PROBES;
use spotcheck::receiver::Flaw;
use spotcheck::signing::reserialize::SERIALIZERS;

use crate::support::tools::{self, Tool};
use crate::support::{self, SECRET, schema, tls_fixtures};

use tls_fixtures::{Leaf, LeafSpec, TestCa};

/// A partner script serving HTTPS on loopback; killed when dropped.
struct ScriptPartner {
    url: String,
    ca: PathBuf,
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for ScriptPartner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/partners")
        .join(name)
}

/// Starts `tool` on `script_name` with the certificate, key and `args`; `None` when
/// the tool is missing outside CI (a visible skip).
fn start(tool: Tool, script_name: &str, args: &[&str]) -> Option<ScriptPartner> {
    if !tools::require_tool(tool) {
        return None;
    }
    spotcheck::init_crypto();
    let ca = TestCa::new("reserializers test CA");
    let leaf = Leaf::signed(&ca, LeafSpec::default());
    let dir = tempfile::tempdir().unwrap();
    let ca_path = ca.write_pem(dir.path(), "ca.pem");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &leaf.chain_pem).unwrap();
    std::fs::write(&key, &leaf.key_pem).unwrap();
    let mut child = Command::new(tool.command())
        .arg(script(script_name))
        .arg(&cert)
        .arg(&key)
        .args(args)
        .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{script_name} printed `{line}` instead of its port"));
    Some(ScriptPartner {
        url: format!("https://127.0.0.1:{port}/webhooks"),
        ca: ca_path,
        dir,
        child,
    })
}

/// `spotcheck run` against `partner`: the signature checks whose failures the
/// libraries explain; the process and the JSON report.
async fn run(partner: &ScriptPartner) -> (support::cli::Run, Value) {
    let report = partner.dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let ca = partner.ca.display().to_string();
    let output = support::spotcheck(&[
        "run",
        "--endpoint",
        &partner.url,
        "--ca-cert",
        &ca,
        "--only",
        "signature.valid-accepted,signature.raw-body",
        "--seed",
        "19",
        "--report",
        &report_arg,
    ])
    .await;
    let json = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).expect("report is JSON"))
        .unwrap_or(Value::Null);
    (output, json)
}

/// The ids of the accepted probes of a check's diagnosis that send the event as a
/// library writes it (the others: signing mistakes, body styles, ASCII-only text).
fn accepted_libraries(check: &Value) -> Vec<String> {
    accepted_probes(check)
        .into_iter()
        .filter(|id| SERIALIZERS.iter().any(|s| s.id == id))
        .collect()
}

/// The ids of the accepted probes of a check's diagnosis.
fn accepted_probes(check: &Value) -> Vec<String> {
    check["diagnosis"]["probes"]
        .as_array()
        .map(|probes| {
            probes
                .iter()
                .filter(|p| p["accepted"] == true)
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs against `partner` and asserts that the failed check the library explains
/// (either `signature.valid-accepted`, when the event as spotcheck writes it is
/// refused, or `signature.raw-body`) names `library`, alone, with its stack's fix.
async fn assert_named(partner: &ScriptPartner, library: &str, check_id: &str) {
    let (output, report) = run(partner).await;
    assert_eq!(output.code, Some(1), "{library}: {}", output.all());
    let check = support::expect_check(&report, check_id);
    assert_eq!(check["status"], "fail", "{library}: {check}");
    let message = check["message"].as_str().unwrap();
    let serializer = SERIALIZERS.iter().find(|s| s.id == library).unwrap();
    assert!(
        message.contains(&format!(
            "your endpoint verifies the signature over the JSON it parsed and wrote back (as {} writes it), not over the bytes received",
            serializer.writer
        )),
        "{library}: {message}"
    );
    assert!(
        message.contains(&format!("fix ({}): {}", serializer.stack, serializer.fix)),
        "{library}: {message}"
    );
    for other in SERIALIZERS.iter().filter(|s| s.id != library) {
        assert!(
            !message.contains(&format!("(as {} writes it)", other.writer)),
            "{library}: also names {}: {message}",
            other.id
        );
    }
    for probe in PROBES {
        assert!(!message.contains(probe.mistake), "{library}: {message}");
    }
    assert_eq!(accepted_libraries(check), [library], "{library}: {check}");
    for probe in PROBES {
        assert!(!accepted_probes(check).contains(&probe.id.to_owned()));
    }
    assert_eq!(check["diagnosis"]["confirmed"], true);
    assert_eq!(check["diagnosis"]["fixes"].as_array().unwrap().len(), 7);
    schema::assert_schema_valid(&report);
    assert!(
        !output
            .all()
            .contains(SECRET.strip_prefix("whsec_").unwrap())
    );
}

#[tokio::test]
async fn python_json_dumps_with_default_separators_is_named() {
    let Some(partner) = start(Tool::Python, "reserializer.py", &["dumps"]) else {
        return;
    };
    assert_named(&partner, "python-json-dumps", "signature.valid-accepted").await;
}

#[tokio::test]
async fn python_json_dumps_compact_is_named() {
    let Some(partner) = start(Tool::Python, "reserializer.py", &["compact"]) else {
        return;
    };
    assert_named(
        &partner,
        "python-json-dumps-compact",
        "signature.valid-accepted",
    )
    .await;
}

/// `JSON.stringify` writes spotcheck's compact UTF-8 event back unchanged, so the valid
/// delivery is accepted: `signature.raw-body` fails, and its diagnosis names the library.
#[tokio::test]
async fn javascript_json_stringify_is_named() {
    let Some(partner) = start(Tool::Node, "reserializer.js", &[]) else {
        return;
    };
    assert_named(&partner, "javascript-json-stringify", "signature.raw-body").await;
}

#[tokio::test]
async fn php_json_encode_is_named() {
    let Some(partner) = start(Tool::Php, "reserializer.php", &[]) else {
        return;
    };
    assert_named(&partner, "php-json-encode", "signature.valid-accepted").await;
}

/// A partner that refuses envelope keys Spotnana does not document (400) and verifies
/// over `json.dumps`: the probes' values are inside the payload, so the library is
/// still named (with an invented envelope field every probe was refused, and the
/// finding was "none of them").
#[tokio::test]
async fn a_strict_envelope_python_json_dumps_is_named() {
    let Some(partner) = start(Tool::Python, "reserializer.py", &["strict-dumps"]) else {
        return;
    };
    assert_named(&partner, "python-json-dumps", "signature.valid-accepted").await;
}

/// The reference receiver with two flaws: it refuses unknown envelope fields
/// (`StrictFields`) and verifies over what `serde_json` writes back
/// (`ReserializeBeforeVerify`). The valid delivery is accepted, `signature.raw-body`
/// fails, and its diagnosis names Rust's `serde_json`, alone, with no probe refused for
/// an unknown field.
#[tokio::test]
async fn a_strict_fields_reference_receiver_that_reserializes_is_named() {
    let (output, report) = support::run_against(
        vec![Flaw::StrictFields, Flaw::ReserializeBeforeVerify],
        "signature.valid-accepted,signature.raw-body",
    )
    .await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    let valid = support::expect_check(&report, "signature.valid-accepted");
    assert_eq!(valid["status"], "pass", "{valid}");
    let check = support::expect_check(&report, "signature.raw-body");
    assert_eq!(check["status"], "fail", "{check}");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains(
            "your endpoint verifies the signature over the JSON it parsed and wrote back (as Rust's `serde_json` writes it), not over the bytes received"
        ),
        "{message}"
    );
    assert_eq!(accepted_libraries(check), ["rust-serde-json"], "{check}");
    let refused_for_a_field = check["diagnosis"]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.to_string().contains("unknown field"))
        .count();
    assert_eq!(refused_for_a_field, 0, "{check}");
    schema::assert_schema_valid(&report);
}

/// `json.dumps(…, sort_keys=True)` is in no entry of the table: nothing is named.
#[tokio::test]
async fn a_reserializer_outside_the_table_still_gets_none_of_them() {
    let Some(partner) = start(Tool::Python, "reserializer.py", &["sorted"]) else {
        return;
    };
    let (output, report) = run(&partner).await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    let check = support::expect_check(&report, "signature.valid-accepted");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "none of the 12 common signing mistakes was accepted either, nor the same event as any of {} common JSON libraries write it or with ASCII-only text, so the mistake is none of them: check each verification step",
            SERIALIZERS.len()
        )),
        "{message}"
    );
    assert!(accepted_probes(check).is_empty(), "{check}");
    assert_eq!(check["diagnosis"]["confirmed"], false);
    // The 12 signing mistakes, each library, and the ASCII-only text.
    let probes = check["diagnosis"]["probes"].as_array().unwrap().len();
    assert_eq!(probes, 12 + SERIALIZERS.len() + 1, "{check}");
}

/// An endpoint that re-encodes the text (Latin-1 read, UTF-8 written) and does not
/// touch the JSON accepts the ASCII-only text and every library's ASCII-only output:
/// the finding is the re-encoding, not a library.
#[tokio::test]
async fn a_text_re_encoding_is_told_apart() {
    let Some(partner) = start(Tool::Python, "reserializer.py", &["reencode"]) else {
        return;
    };
    let (output, report) = run(&partner).await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    let check = support::expect_check(&report, "signature.valid-accepted");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("diagnosis: your endpoint re-encodes the body's text before verifying: it accepted the same event with ASCII-only text (probe `ascii-text`)"),
        "{message}"
    );
    assert!(!message.contains("wrote back (as"), "{message}");
    assert!(accepted_probes(check).contains(&"ascii-text".to_owned()));
    assert_eq!(check["diagnosis"]["confirmed"], true);
}

/// Offline: the signature a Python verifier computed over `json.dumps` of the body
/// (by python3 itself) is named by `spotcheck verify`.
#[tokio::test]
async fn verify_names_the_library_a_signature_was_computed_over() {
    if !tools::require_tool(Tool::Python) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(
        &body,
        "{\"eventType\":\"PNR_V3\",\"payload\":{\"name\":\"Zoë Ångström\",\"amount\":1.50}}",
    )
    .unwrap();
    let computed = Command::new("python3")
        .args([
            "-c",
            "import base64,hashlib,hmac,json,sys\n\
             key = base64.b64decode(sys.argv[1].removeprefix('whsec_'))\n\
             body = json.dumps(json.loads(open(sys.argv[2], 'rb').read())).encode()\n\
             print(base64.b64encode(hmac.new(key, b'evt_1.1700000000.' + body, hashlib.sha256).digest()).decode())",
            SECRET,
        ])
        .arg(&body)
        .output()
        .unwrap();
    assert!(computed.status.success());
    let signature = String::from_utf8(computed.stdout).unwrap();
    let body_arg = body.display().to_string();
    let output = support::spotcheck(&[
        "verify",
        &body_arg,
        "--header",
        "x-spotnana-webhook-id: evt_1",
        "--header",
        "x-spotnana-webhook-timestamp: 1700000000",
        "--header",
        &format!("x-spotnana-webhook-signature: v1,{}", signature.trim()),
        "--no-tolerance",
    ])
    .await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    assert!(
        output.stdout.contains(
            "FOUND (`python-json-dumps`): the signature matches this body as Python's `json.dumps` writes it"
        ),
        "{}",
        output.stdout
    );
}
