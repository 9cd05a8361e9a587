//! `payload.schema-variants-accepted` end to end: `spotcheck run` against partners
//! over loopback TLS whose payload handling breaks on what Spotnana's schemas allow,
//! and against the built-in reference receiver, which takes every variant.

use crate::support::{receiver, tls_fixtures};

use serde_json::Value;
use spotcheck::signing::{Secret, Verifier};

use receiver::{SECRET, check, spotcheck};
use tls_fixtures::{Leaf, LeafSpec, PartnerRequest, TestCa, https_partner};

const CHECK: &str = "payload.schema-variants-accepted";

/// A partner that verifies the signature (401 when it does not) and then answers what
/// `parse` says about the event's JSON.
fn verifying(
    parse: impl Fn(&Value) -> u16 + Send + Sync + 'static,
) -> impl Fn(&PartnerRequest) -> u16 + Send + Sync + 'static {
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()]);
    move |request: &PartnerRequest| {
        if !request.signed_for(&verifier) {
            return 401;
        }
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(event) => parse(&event),
            Err(_) => 400,
        }
    }
}

/// Runs only the check against `partner` with a JSON report; the exit code and the check.
async fn run_against(
    answer: impl Fn(&PartnerRequest) -> u16 + Send + Sync + 'static,
    extra: &[&str],
) -> (Option<i32>, Value, String) {
    spotcheck::init_crypto();
    let ca = TestCa::new("variants test CA");
    let leaf = Leaf::signed(&ca, LeafSpec::default());
    let server = https_partner(&leaf, answer).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_path = ca.write_pem(dir.path(), "ca.pem");
    let report_path = dir.path().join("report.json");
    let url = server.https_url();
    let report_arg = format!("json={}", report_path.display());
    let mut args = vec![
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        ca_path.to_str().unwrap(),
        "--only",
        CHECK,
        "--seed",
        "11",
        "--report",
        &report_arg,
    ];
    args.extend_from_slice(extra);
    let run = spotcheck(&args).await;
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let check = check(&report, CHECK)
        .expect("the check is in the report")
        .clone();
    (run.code, check, run.all())
}

fn payload(event: &Value) -> &Value {
    &event["payload"]
}

#[tokio::test]
async fn a_partner_that_needs_total_fare_is_caught_with_the_field_named() {
    let (code, check, output) = run_against(
        verifying(|event| {
            let pnr = event["eventType"] == "PNR_V3";
            if pnr && payload(event).get("totalFare").is_none() {
                500
            } else {
                200
            }
        }),
        &[],
    )
    .await;
    assert_eq!(code, Some(1), "{output}");
    assert_eq!(check["status"], "fail", "{check}");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains(r#"as a JSON Patch: [{"op":"remove","path":"/totalFare"}] → 500"#),
        "{message}"
    );
    assert!(message.contains("PNR_V3"), "{message}");
    // The repro replays this check with the same seed.
    assert!(
        check["repro"]
            .as_str()
            .unwrap()
            .contains("--seed 11 --only payload.schema-variants-accepted"),
        "{check}"
    );
}

const KNOWN_STATUSES: [&str; 3] = ["CONFIRMED_STATUS", "CANCELLED_STATUS", "PENDING_STATUS"];

#[tokio::test]
async fn a_partner_whose_status_mapping_knows_only_some_values_is_caught_with_the_value_named() {
    let (code, check, output) = run_against(
        verifying(
            |event| match payload(event).get("bookingStatus").and_then(Value::as_str) {
                Some(status)
                    if event["eventType"] == "PNR_V3" && !KNOWN_STATUSES.contains(&status) =>
                {
                    500
                }
                _ => 200,
            },
        ),
        &[],
    )
    .await;
    assert_eq!(code, Some(1), "{output}");
    assert_eq!(check["status"], "fail", "{check}");
    let message = check["message"].as_str().unwrap();
    let patch_text = message
        .split("as a JSON Patch: ")
        .nth(1)
        .and_then(|rest| rest.split(" → ").next())
        .unwrap_or_else(|| panic!("no patch in: {message}"));
    let patch: Vec<Value> = serde_json::from_str(patch_text).unwrap();
    assert_eq!(patch.len(), 1, "{message}");
    assert_eq!(patch[0]["path"], "/bookingStatus", "{message}");
    let value = patch[0]["value"].as_str().unwrap();
    assert!(!KNOWN_STATUSES.contains(&value), "{message}");
    assert!(
        message.ends_with("→ 500 Internal Server Error"),
        "{message}"
    );
}

#[tokio::test]
async fn the_reference_receiver_takes_every_variant() {
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");
    let report_arg = format!("json={}", report_path.display());
    let run = spotcheck(&[
        "run",
        "--only",
        CHECK,
        "--seed",
        "3",
        "--report",
        &report_arg,
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let check = check(&report, CHECK).unwrap();
    assert_eq!(check["status"], "pass", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .starts_with("all 50 variants"),
        "{check}"
    );
    assert_eq!(
        check["exchanges"].as_array().unwrap().len(),
        1 + 50,
        "the control, then one delivery per variant"
    );
}

#[tokio::test]
async fn variants_sets_the_count_and_a_strict_partner_of_another_type_is_not_blamed() {
    // A partner that refuses every TRAVELER_V2 event is not this check's concern when
    // only PNR_V3 is subscribed.
    let (code, check, output) = run_against(
        verifying(|event| {
            if event["eventType"] == "TRAVELER_V2" {
                500
            } else {
                200
            }
        }),
        &["--variants", "7", "--events", "PNR_V3"],
    )
    .await;
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(check["status"], "pass", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .starts_with("all 7 variants"),
        "{check}"
    );
    assert!(
        check["message"].as_str().unwrap().contains("(7 PNR_V3)"),
        "{check}"
    );
}

#[tokio::test]
async fn only_types_without_a_published_schema_skip_with_the_reason() {
    let (code, check, output) =
        run_against(verifying(|_| 200), &["--events", "PNR_APPROVAL"]).await;
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(check["status"], "skip", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("published payload schema"),
        "{check}"
    );
}
