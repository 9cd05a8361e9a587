//! Warnings for payload overrides Spotnana's published schema rejects: a scenario's
//! `payload = { … }` / `payload_file`, and `send --payload`. They name the place
//! (`file:line:column`), the JSON pointer, the value and the allowed values, and never
//! change the exit code.

use crate::support::receiver;

use receiver::spotcheck;

const HEAD: &str = r#"id = "custom.override"
title = "An override"
level = "required"
why = "Because."
fix = "Do it."
"#;

/// A scenario whose `payload` sets a `bookingStatus` Spotnana does not publish, next to
/// a templated id and a valid fare (neither warned about).
fn scenario_text() -> String {
    format!(
        r#"{HEAD}
[[step]]
send = "PNR_V3/BOOKING_CREATED"
payload = {{ pnrId = "{{{{ random.pnr_id }}}}", bookingStatus = "BOOKED", totalFare = {{ amount = 12.5, currencyCode = "USD" }} }}
expect = {{ status = 200 }}
"#
    )
}

/// 1-based line and column of the first `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

#[tokio::test]
async fn scenarios_check_warns_with_the_position_pointer_value_and_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    let text = scenario_text();
    std::fs::write(&path, &text).unwrap();
    let run = spotcheck(&["scenarios", "check", path.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("ok: 1 check in 1 file"),
        "{}",
        run.all()
    );
    let (line, column) = position(&text, "\"BOOKED\"");
    let stderr = &run.stderr;
    assert!(
        stderr.contains(&format!("mine.toml:{line}:{column}")),
        "expected mine.toml:{line}:{column} in:\n{stderr}"
    );
    assert!(
        stderr.contains(r#"payload override /bookingStatus = "BOOKED" is not what Spotnana sends"#),
        "{stderr}"
    );
    assert!(
        stderr.contains("allowed values: UNKNOWN_STATUS, PENDING_STATUS, CONFIRMED_STATUS"),
        "{stderr}"
    );
    assert!(stderr.contains("1 warning in 1 scenario file"), "{stderr}");
    assert!(
        !stderr.contains("/pnrId") && !stderr.contains("/totalFare"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_valid_override_and_the_built_in_suites_raise_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fine.toml");
    let text = scenario_text().replace("\"BOOKED\"", "\"CONFIRMED_STATUS\"");
    std::fs::write(&path, text).unwrap();
    let run = spotcheck(&["scenarios", "check", path.to_str().unwrap(), "scenarios"]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(!run.stderr.contains("warning"), "{}", run.all());
}

#[tokio::test]
async fn run_warns_and_still_runs_the_check_without_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, scenario_text()).unwrap();
    let run = spotcheck(&["run", "--no-builtin", "--scenarios", path.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    // Without the built-in suites, the schema-variants check is left out too.
    assert!(
        !run.stdout.contains("payload.schema-variants-accepted"),
        "{}",
        run.all()
    );
    assert!(run.stderr.contains("mine.toml:"), "{}", run.all());
    assert!(run.stderr.contains("/bookingStatus"), "{}", run.all());
    assert!(
        run.stdout.contains("PASS") && run.stdout.contains("custom.override"),
        "{}",
        run.all()
    );
}

#[tokio::test]
async fn send_warns_about_a_payload_file_and_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payload.json");
    std::fs::write(
        &path,
        r#"{"bookingStatus": "BOOKED", "pnrId": "1234567890"}"#,
    )
    .unwrap();
    let run = spotcheck(&[
        "send",
        "PNR_V3/BOOKING_CREATED",
        "--payload",
        path.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let stderr = &run.stderr;
    assert!(
        stderr.contains(&format!(
            "warning: --payload {}: /bookingStatus = \"BOOKED\" is not what Spotnana sends for PNR_V3 (allowed values: UNKNOWN_STATUS,",
            path.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("warning:").count(),
        1,
        "only the file's own value: {stderr}"
    );
}
