//! Each check judges only its own subject, and what could not run is an error.
//!
//! Against real HTTPS endpoints on loopback that answer one status to everything within
//! milliseconds (`202`, a framework default; `401`, a gateway that refuses everything),
//! a full `spotcheck run` must pass `delivery.latency`, fail `delivery.status-200`, and
//! say "could not judge" on every check whose control delivery was not accepted,
//! instead of failing it. A runtime error in a user scenario is the `error` status in
//! every report format, and the run exits 2.

use std::path::Path;

use crate::support::{self, cli, tls_fixtures};

use tls_fixtures::{Leaf, LeafSpec, TestCa, closed_port, status_server};

/// What a check of the full run must say.
#[derive(Debug, Clone, Copy)]
enum Want {
    Pass,
    /// `fail` with this in the message.
    Fail(&'static str),
    /// `warn` with this in the message.
    Warn(&'static str),
    /// `skip` with "could not judge: …", the endpoint's answer, and "(see ID)" last.
    NotJudged {
        see: &'static str,
    },
    /// `skip` with this in the message.
    Skip(&'static str),
}

/// The checks whose control delivery must get `200` (see `delivery.status-200`).
const CONTROLLED_BY_STATUS_200: [&str; 17] = [
    "delivery.trace-headers-tolerated",
    "delivery.every-subscribed-event",
    "delivery.unknown-fields-tolerated",
    "delivery.unknown-operation-tolerated",
    "delivery.large-payload",
    "delivery.concurrent-burst",
    "signature.missing-rejected",
    "signature.invalid-rejected",
    "signature.wrong-secret-rejected",
    "signature.tampered-body-rejected",
    "signature.tampered-id-rejected",
    "signature.stale-timestamp-rejected",
    "signature.future-timestamp-rejected",
    "retry.redelivery-idempotent",
    "ordering.out-of-order-accepted",
    "ordering.interleaved-organizations",
    "payload.schema-variants-accepted",
];

const NO_STATE_URL: &str = "needs an observation endpoint";

/// Runs the whole built-in suite against an endpoint that answers `status` to
/// everything; returns the run and its JSON report.
async fn full_run(status: u16) -> (cli::Run, serde_json::Value) {
    let ca = TestCa::new("spotcheck verdicts test CA");
    let leaf = Leaf::signed(&ca, LeafSpec::default());
    let server = status_server(&leaf, status).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_path = ca.write_pem(dir.path(), "ca.pem").display().to_string();
    let report = dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let url = server.https_url();
    let run = support::spotcheck(&[
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca_path,
        "--seed",
        "15",
        "--timeout",
        "5s",
        // Spotnana's two-week retry schedule in a fraction of a second.
        "--retry-time-scale",
        "10000000",
        "--report",
        &report_arg,
    ])
    .await;
    let json = std::fs::read(&report)
        .map(|bytes| serde_json::from_slice(&bytes).expect("the report is JSON"))
        .unwrap_or_else(|err| panic!("no report ({err}): {}", run.all()));
    (run, json)
}

/// Compares every check of the report with `wants` (and fails on a check `wants` does
/// not name, so a new built-in check has to be judged here too).
fn assert_checks(report: &serde_json::Value, answer: &str, wants: &[(&str, Want)]) {
    let mut problems = Vec::new();
    let checks = report["checks"].as_array().expect("checks");
    for check in checks {
        let id = check["id"].as_str().unwrap();
        let status = check["status"].as_str().unwrap();
        let message = check["message"].as_str().unwrap();
        let Some((_, want)) = wants.iter().find(|(w, _)| *w == id) else {
            problems.push(format!("{id}: not expected here ({status}: {message})"));
            continue;
        };
        let ok = match *want {
            Want::Pass => status == "pass",
            Want::Fail(text) => status == "fail" && message.contains(text),
            Want::Warn(text) => status == "warn" && message.contains(text),
            Want::NotJudged { see } => {
                status == "skip"
                    && message.starts_with("could not judge: ")
                    && message.contains(answer)
                    && message.ends_with(&format!("(see {see})"))
            }
            Want::Skip(text) => status == "skip" && message.contains(text),
        };
        if !ok {
            problems.push(format!("{id}: want {want:?}, got {status}: {message}"));
        }
    }
    for (id, _) in wants {
        if !checks.iter().any(|c| c["id"] == *id) {
            problems.push(format!("{id}: missing from the report"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn common_wants() -> Vec<(&'static str, Want)> {
    // The endpoint's TLS (rustls, TLS 1.2 and 1.3, a certificate from the test CA) is
    // fine: every TLS check passes.
    let mut wants: Vec<(&'static str, Want)> = spotcheck::tls_probe::check_infos()
        .into_iter()
        .map(|info| (&*info.id.leak(), Want::Pass))
        .collect();
    wants.extend(CONTROLLED_BY_STATUS_200.iter().map(|id| {
        (
            *id,
            Want::NotJudged {
                see: "delivery.status-200",
            },
        )
    }));
    wants.extend([
        ("delivery.latency", Want::Pass),
        ("delivery.fast-ack", Want::Pass),
        ("retry.duplicate-processed-once", Want::Skip(NO_STATE_URL)),
        ("ordering.newest-timestamp-wins", Want::Skip(NO_STATE_URL)),
    ]);
    wants
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_answering_202_to_everything_fails_only_the_status_check() {
    let (run, report) = full_run(202).await;
    let mut wants = common_wants();
    wants.extend([
        (
            "delivery.status-200",
            Want::Fail("expected 200, got 202 Accepted"),
        ),
        // Accepted, with the wrong code: the signature was accepted.
        ("signature.valid-accepted", Want::Pass),
        ("signature.clock-skew-tolerated", Want::Pass),
        ("signature.raw-body", Want::Pass),
        ("signature.rotation-accepted", Want::Pass),
        ("signature.format-tolerant", Want::Pass),
        // The forgeries were "accepted" too, so whether refusals are 4xx is moot.
        (
            "signature.rejection-is-4xx",
            Want::NotJudged {
                see: "signature.invalid-rejected",
            },
        ),
        (
            "retry.recovers-after-failure",
            Want::NotJudged {
                see: "delivery.status-200",
            },
        ),
    ]);
    assert_checks(&report, "202 Accepted", &wants);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_eq!(report["summary"]["failed"], 1, "{}", report["summary"]);
    assert_eq!(report["summary"]["errors"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_answering_401_to_everything_fails_the_status_and_signature_acceptance() {
    let (run, report) = full_run(401).await;
    let mut wants = common_wants();
    wants.extend([
        (
            "delivery.status-200",
            Want::Fail("expected 200, got 401 Unauthorized"),
        ),
        (
            "signature.valid-accepted",
            Want::Fail("expected 2xx, got 401 Unauthorized"),
        ),
        (
            "signature.raw-body",
            Want::NotJudged {
                see: "signature.valid-accepted",
            },
        ),
        (
            "signature.rotation-accepted",
            Want::NotJudged {
                see: "signature.valid-accepted",
            },
        ),
        (
            "signature.format-tolerant",
            Want::Warn("expected 2xx, got 401 Unauthorized"),
        ),
        (
            "signature.clock-skew-tolerated",
            Want::NotJudged {
                see: "signature.valid-accepted",
            },
        ),
        ("signature.rejection-is-4xx", Want::Pass),
        ("retry.recovers-after-failure", Want::Warn("still failing")),
    ]);
    assert_checks(&report, "401 Unauthorized", &wants);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_eq!(report["summary"]["failed"], 2, "{}", report["summary"]);
}

/// A user scenario whose second step uses the PNR id of a traveler event (which has
/// none): a runtime error in the scenario, not a finding about the endpoint.
const TEMPLATE_ERROR: &str = r#"
id = "custom.traveler-pnr"
title = "A booking for the traveler's PNR is accepted"
level = "required"
why = "Bookings follow profile updates."
fix = "Accept both."

[[step]]
name = "traveler"
send = "TRAVELER_V2/UPDATE"

[[step]]
send = "PNR_V3/BOOKING_CREATED"
payload = { pnrId = "{{ steps.traveler.pnr_id }}" }
"#;

const TEMPLATE_ERROR_MESSAGE: &str =
    "scenario error in step 2: step `traveler` recorded no pnr_id (did it run and send an event?)";

/// Runs the user scenarios in `dir` alone against the built-in reference receiver,
/// writing every report format into `dir`.
async fn run_user_scenarios(dir: &Path, only: &str) -> cli::Run {
    run_user_scenarios_with(dir, only, &[]).await
}

/// [`run_user_scenarios`] with more flags.
async fn run_user_scenarios_with(dir: &Path, only: &str, more: &[String]) -> cli::Run {
    let report = |format: &str, name: &str| format!("{format}={}", dir.join(name).display());
    let mut args = vec![
        "run".to_owned(),
        "--no-builtin".to_owned(),
        "--scenarios".to_owned(),
        dir.display().to_string(),
        "--only".to_owned(),
        only.to_owned(),
        "--seed".to_owned(),
        "3".to_owned(),
        "--report".to_owned(),
        report("json", "report.json"),
        "--report".to_owned(),
        report("junit", "report.xml"),
        "--report".to_owned(),
        report("markdown", "report.md"),
        "--report".to_owned(),
        report("tap", "report.tap"),
        "--report".to_owned(),
        report("html", "report.html"),
    ];
    args.extend(more.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    support::spotcheck(&args).await
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

#[tokio::test]
async fn a_runtime_error_in_a_user_scenario_is_an_error_in_every_report_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("traveler-pnr.toml"), TEMPLATE_ERROR).unwrap();
    let run = run_user_scenarios(dir.path(), "custom.*").await;
    assert_eq!(run.code, Some(2), "{}", run.all());

    // Terminal: the ERR line, the message, and the verdict.
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("custom.traveler-pnr"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.starts_with("ERR  "), "{line}");
    assert!(line.ends_with(TEMPLATE_ERROR_MESSAGE), "{line}");
    assert!(
        run.stdout
            .contains("0 passed, 0 failed, 0 warned, 0 skipped, 1 error"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ERROR: a check could not run"));

    // JSON: the status, the message and the summary.
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "report.json")).unwrap();
    let check = support::check(&json, "custom.traveler-pnr").expect("the check is reported");
    assert_eq!(check["status"], "error");
    assert_eq!(check["message"], TEMPLATE_ERROR_MESSAGE);
    assert_eq!(json["summary"]["errors"], 1);
    assert_eq!(json["summary"]["skipped"], 0);
    assert_eq!(json["summary"]["conformant"], false);

    // JUnit: an <error>, not a failure and not a skip.
    let junit = read(dir.path(), "report.xml");
    assert!(
        junit.contains(&format!(
            "<error message=\"{}\" type=\"error\">",
            TEMPLATE_ERROR_MESSAGE
        )),
        "{junit}"
    );
    assert!(
        junit.contains("errors=\"1\"")
            && !junit.contains("<skipped")
            && !junit.contains("<failure"),
        "{junit}"
    );

    // TAP: not ok, with severity error.
    let tap = read(dir.path(), "report.tap");
    assert!(
        tap.contains(
            "not ok 1 - custom.traveler-pnr A booking for the traveler's PNR is accepted\n"
        ),
        "{tap}"
    );
    assert!(tap.contains("  severity: \"error\"\n"), "{tap}");
    assert!(
        tap.contains("# 0 passed, 0 failed, 0 warned, 0 skipped, 1 error — ERROR"),
        "{tap}"
    );

    // Markdown and HTML: the row and the verdict.
    let markdown = read(dir.path(), "report.md");
    assert!(
        markdown.contains("| 🛑 ERROR | `custom.traveler-pnr` | required |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("**ERROR**: a check could not run"),
        "{markdown}"
    );
    let html = read(dir.path(), "report.html");
    assert!(
        html.contains("<tr class=\"check error\" data-check-id=\"custom.traveler-pnr\">"),
        "{html}"
    );
    assert!(html.contains("<p class=\"verdict error\">"), "{html}");
}

#[tokio::test]
async fn an_observation_whose_answer_cannot_be_read_is_an_error_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"
id = "custom.read-back"
title = "A delivered event can be read back"
level = "required"
why = "Reconciliation reads the partner's state."
fix = "Serve the state endpoint."
requires = ["state"]

[[step]]
name = "event"
send = "PNR_V3/BOOKING_CREATED"

[[step]]
observe = "GET /webhooks/{{ steps.event.webhook_id }}"
expect.json = { "/processed" = 1 }
"#;
    std::fs::write(dir.path().join("read-back.toml"), scenario).unwrap();
    let state_url = format!("https://127.0.0.1:{}/state", closed_port());
    let run = run_user_scenarios_with(
        dir.path(),
        "custom.*",
        &["--state-url".to_owned(), state_url],
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "report.json")).unwrap();
    let check = support::check(&json, "custom.read-back").expect("the check is reported");
    assert_eq!(check["status"], "error", "{check}");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "scenario error in step 2: the observation cannot be read: GET https://127.0.0.1:"
        ),
        "{message}"
    );
}

/// A partner whose verifier refuses every correctly signed delivery (the reference
/// receiver with the HMAC key not decoded): every check whose control step needs its
/// signed delivery accepted could not judge. The JSON report says so as a typed
/// reason per check (kind `precondition`, the step, what it got, what was needed, the
/// check that explains it), and the terminal and Markdown reports say each shared
/// cause once, listing its checks, instead of a line per check.
#[tokio::test]
async fn one_unmet_precondition_is_typed_in_json_and_said_once_in_the_reports() {
    let receiver = support::start(vec![spotcheck::receiver::Flaw::KeyNotDecoded]).await;
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("report.json");
    let md_path = dir.path().join("report.md");
    let json_arg = format!("json={}", json_path.display());
    let md_arg = format!("markdown={}", md_path.display());
    let url = receiver.running.webhook_url();
    let state = receiver.running.state_url();
    let ca = receiver.ca.display().to_string();
    let run = support::spotcheck(&[
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--state-url",
        &state,
        "--only",
        "delivery.*,signature.*,ordering.*",
        "--seed",
        "27",
        "--color",
        "never",
        "--report",
        &json_arg,
        "--report",
        &md_arg,
    ])
    .await;
    receiver.running.shutdown().await;
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&json_path).unwrap_or_else(|e| panic!("{e}: {}", run.all())),
    )
    .unwrap();
    let checks = report["checks"].as_array().unwrap();

    // Every "could not judge" of a control step is typed, and its message unchanged.
    // (step label, got, needed, see) and the checks with that cause.
    type Cause = (String, String, String, String);
    let mut groups: Vec<(Cause, Vec<String>)> = Vec::new();
    for check in checks {
        let message = check["message"].as_str().unwrap();
        if !message.starts_with("could not judge: step ") {
            continue;
        }
        let id = check["id"].as_str().unwrap().to_owned();
        let reason = &check["reason"];
        assert_eq!(reason["kind"], "precondition", "{id}: {check}");
        let number = reason["step"]["number"]
            .as_u64()
            .expect("the step's number");
        let name = reason["step"]["name"].as_str().unwrap_or_default();
        let got = reason["got"].as_str().expect("what it got");
        let needed = reason["needed"].as_str().expect("what was needed");
        let see = reason["see"].as_str().expect("the check that explains it");
        assert!(got.starts_with("401"), "{id}: {reason}");
        assert!(
            message.contains(&format!("got {got}, where {needed} is needed"))
                && message.ends_with(&format!("(see {see})")),
            "{id}: the message says what the reason says: {message} / {reason}"
        );
        let label = if name.is_empty() {
            format!("step {number}")
        } else {
            format!("step {number} (\"{name}\")")
        };
        let key = (label, got.to_owned(), needed.to_owned(), see.to_owned());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((key, vec![id])),
        }
    }
    let (key, ids) = groups
        .iter()
        .max_by_key(|(_, ids)| ids.len())
        .unwrap_or_else(|| panic!("no check could not judge:\n{}", run.all()));
    assert!(ids.len() >= 3, "{groups:?}");
    let (label, got, needed, see) = key;

    // The terminal says the cause once and lists the checks, not a line each.
    let headline = format!(
        "{} checks could not judge: {label} got {got}, where {needed} is needed; see {see}",
        ids.len()
    );
    assert_eq!(
        run.stdout.matches(&headline).count(),
        1,
        "{headline}\n{}",
        run.stdout
    );
    for id in ids {
        assert!(
            !run.stdout
                .lines()
                .any(|line| line.starts_with("SKIP") && line.contains(&format!(" {id} "))),
            "{id} has a line of its own:\n{}",
            run.stdout
        );
        assert!(run.stdout.contains(id.as_str()), "{id} not listed");
    }
    // No line of its own for any of them (such a line names what its step sent).
    assert!(
        !run.stdout.contains(&format!("could not judge: {label} (")),
        "{}",
        run.stdout
    );

    // The Markdown (and so the HTML) report: one row for the cause, naming each check.
    let markdown = std::fs::read_to_string(&md_path).unwrap();
    let rows: Vec<&str> = markdown
        .lines()
        .filter(|line| line.contains(&format!("checks could not judge: {label}")))
        .collect();
    assert!(
        rows.iter()
            .any(|row| ids.iter().all(|id| row.contains(&format!("`{id}`")))),
        "{markdown}"
    );
    for id in ids {
        assert!(
            !markdown
                .lines()
                .any(|line| line.starts_with(&format!("| ⏭ skip | `{id}` |"))),
            "{id} has a row of its own:\n{markdown}"
        );
    }
}
