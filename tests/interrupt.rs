//! Stopping `spotcheck run` half-way: Ctrl-C (SIGINT), SIGTERM (CI cancellation,
//! `timeout`, `docker stop`, Kubernetes) and SIGHUP (a closed terminal) are each a clean
//! stop. Sending stops, exchanges in flight get a second, every requested report is
//! written with the checks done so far and the rest marked `interrupted`, and the exit
//! code names the signal: 130, 143, 129.

use std::time::{Duration, Instant};

use spotcheck::receiver::Flaw;

use crate::support::{self, cli};

/// How long the receiver holds each valid delivery before answering: far longer than
/// the test waits after SIGINT, so an exit that waited for the answers is caught.
const HELD: Duration = Duration::from_secs(30);

#[tokio::test]
async fn sigint_writes_partial_reports_and_exits_130() {
    stop_mid_run("INT", 130, "interrupted: finishing exchanges in flight").await;
}

#[tokio::test]
async fn sigterm_writes_partial_reports_and_exits_143() {
    stop_mid_run(
        "TERM",
        143,
        "interrupted (SIGTERM): finishing exchanges in flight",
    )
    .await;
}

#[tokio::test]
async fn sighup_writes_partial_reports_and_exits_129() {
    stop_mid_run(
        "HUP",
        129,
        "interrupted (SIGHUP): finishing exchanges in flight",
    )
    .await;
}

/// Runs every suite against a receiver that holds each answer, sends `signal` once
/// deliveries are in flight, and checks the exit code, the stderr line and every
/// report.
async fn stop_mid_run(signal: &str, code: i32, said: &str) {
    let receiver = support::start(vec![Flaw::SlowAck(HELD)]).await;
    let running = &receiver.running;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("report.xml");
    let markdown = dir.path().join("report.md");
    let child = cli::Spotcheck::new(["run", "--endpoint"])
        .arg(running.webhook_url())
        .arg("--ca-cert")
        .arg(&receiver.ca)
        .arg("--state-url")
        .arg(running.state_url())
        .args(["--timeout", "60s", "--seed", "1", "--color", "never"])
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("markdown={}", markdown.display()))
        .secret(support::SECRET)
        .command()
        .spawn()
        .expect("spotcheck starts");

    // The TLS probe runs before any delivery: once a delivery reaches the receiver,
    // the TLS checks are done and deliveries are in flight. Interrupt then.
    let (output, took) = signal_after_deliveries(child, running, 1, signal, HELD).await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "SIG{signal}: stdout: {stdout}\nstderr: {stderr}"
    );
    // A second of grace for exchanges in flight, then the reports: well under the
    // held answers (a loaded machine gets ten seconds of slack).
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} after SIG{signal}"
    );
    assert!(stderr.contains(said), "{stderr}");
    assert!(stdout.trim_end().ends_with("— INTERRUPTED"), "{stdout}");

    // JSON: the TLS checks (done before the signal) kept their outcome; every delivery
    // check was waiting on a held answer and is `interrupted`.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("JSON report written")).unwrap();
    let checks = report["checks"].as_array().unwrap();
    let status = |id: &str| {
        checks
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(status("tls.tls12-supported"), "pass");
    assert_eq!(status("delivery.status-200"), "interrupted");
    let interrupted = checks
        .iter()
        .filter(|c| c["status"] == "interrupted")
        .count();
    assert!(interrupted >= 20, "{interrupted} interrupted");
    assert_eq!(report["summary"]["interrupted"], interrupted);
    assert_eq!(report["summary"]["conformant"], false);

    // JUnit: interrupted checks are skipped with type="interrupted", not failures.
    let xml = std::fs::read_to_string(&junit).expect("JUnit report written");
    assert_eq!(
        xml.matches(r#"type="interrupted""#).count(),
        interrupted,
        "{xml}"
    );
    assert!(xml.contains(r#"failures="0""#), "{xml}");
    assert!(xml.contains(r#"<testcase name="delivery.status-200" classname="delivery""#));
    // And it is valid JUnit: against the project's schema (docs/junit.xsd) and the
    // published one the other reports are checked against.
    if support::tools::require_tool(support::tools::Tool::Xmllint) {
        for xsd in ["docs/junit.xsd", "tests/data/junit-10.xsd"] {
            let output = std::process::Command::new(support::tools::Tool::Xmllint.command())
                .args(["--noout", "--schema"])
                .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(xsd))
                .arg(&junit)
                .output()
                .expect("xmllint runs");
            assert!(
                output.status.success(),
                "the interrupted run's JUnit is not valid against {xsd}: {}\n{xml}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    // Markdown: says plainly that the run proves nothing.
    let md = std::fs::read_to_string(&markdown).expect("Markdown report written");
    assert!(md.contains("**INTERRUPTED**"), "{md}");
    assert!(
        md.contains("| ⏹ interrupted | `delivery.status-200` |"),
        "{md}"
    );
    assert!(
        !dir.path()
            .read_dir()
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().starts_with(".tmp") }),
        "no temporary files are left behind"
    );
    receiver.running.shutdown().await;
}

/// Starts `spotcheck ARGS` (the secret set), waits for its sixth attempt's timeline row
/// (after it the next attempt is a minute away), sends `signal`, and returns the exit
/// code and everything printed.
fn stop_after_six_attempts(command: cli::Spotcheck, signal: &str) -> (Option<i32>, String) {
    let mut child = command.secret(support::SECRET).spawn();
    tokio::task::block_in_place(|| {
        child.wait_for("sixth attempt", |line| {
            let first = line.split_whitespace().next()?;
            (first == "6").then_some(())
        });
        let kill = std::process::Command::new("kill")
            .args([format!("-{signal}").as_str(), &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(kill.success());
        let (code, stdout, stderr) = child.wait(HELD);
        (code, format!("{stdout}\n{stderr}"))
    })
}

/// SIGHUP while `redeliver --retry` waits between attempts: the message is parked
/// again (a new file beside the one given, which is left as it was), exit 129.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_during_redeliver_retry_parks_the_message_again_and_exits_129() {
    use spotcheck::delivery::park::{self, ParkedMessage};
    use spotcheck::delivery::retry::RetryMessage;
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let url = format!("{}/hook", server.uri());
    let park_dir = tempfile::tempdir().unwrap();
    let message = RetryMessage {
        endpoint: url.clone(),
        webhook_id: "evt-redeliver-1".into(),
        body: bytes::Bytes::from_static(br#"{"eventType":"PNR_V3","payload":{"pnrId":"1"}}"#),
        format: spotcheck::signing::SignatureFormat::V1,
        custom_headers: Vec::new(),
    };
    let given = park::write(park_dir.path(), &ParkedMessage::new(&message, &[], "test")).unwrap();
    let before = std::fs::read(&given).unwrap();
    let command = cli::Spotcheck::new(["redeliver", "--retry", "--park-dir"])
        .arg(park_dir.path())
        .arg(&given);
    let (code, output) = stop_after_six_attempts(command, "HUP");
    assert_eq!(code, Some(129), "{output}");
    assert_eq!(
        std::fs::read(&given).unwrap(),
        before,
        "the file given is unchanged"
    );
    let again = park_dir.path().join("evt-redeliver-1-2.json");
    assert!(
        output.contains(&format!("parked: {}", again.display())),
        "{output}"
    );
    let parked = park::read(&again).expect("parked again, complete");
    assert_eq!(parked.webhook_id, "evt-redeliver-1");
    assert_eq!(parked.attempts.len(), 6);
    assert_eq!(parked.reason, "interrupted after 6 attempts");
}

/// SIGTERM while `send --retry` waits between attempts: the message is parked with the
/// attempts made so far (as on Ctrl-C), the file is complete JSON, and the exit code
/// is 143.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_send_retry_parks_the_message_and_exits_143() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let url = format!("{}/hook", server.uri());
    let park = tempfile::tempdir().unwrap();
    let park_dir = park.path().join("parked");
    // At the real time scale, after the first attempt and its five immediate retries
    // the next attempt is a minute away: the command is waiting when the signal comes.
    let command = cli::Spotcheck::new(["send", "PNR_V3/BOOKING_TICKETED", "--endpoint"])
        .arg(&url)
        .args(["--retry", "--park-dir"])
        .arg(&park_dir);
    let (code, stdout) = stop_after_six_attempts(command, "TERM");
    assert_eq!(code, Some(143), "{stdout}");

    let files: Vec<_> = std::fs::read_dir(&park_dir)
        .expect("the park folder was made")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    assert!(
        stdout.contains(&format!("parked: {}", file.display())),
        "{stdout}"
    );
    let parked: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file).unwrap()).expect("the parked file is JSON");
    let requests = server.received_requests().await.unwrap();
    assert!(!requests.is_empty());
    let id = requests[0].headers["x-spotnana-webhook-id"]
        .to_str()
        .unwrap();
    assert_eq!(parked["webhook_id"], id);
    assert_eq!(parked["endpoint"], url.as_str());
    let attempts = parked["attempts"].as_array().unwrap().len();
    assert_eq!(attempts, 6);
    assert_eq!(requests.len(), 6);
    assert_eq!(
        parked["reason"],
        format!("interrupted after {attempts} attempts")
    );
    assert!(
        stdout.contains(&format!("interrupted after {attempts} attempts; parked:")),
        "{stdout}"
    );
    // The file is the message to send again: redeliver reads it.
    assert!(spotcheck::delivery::park::read(file).is_ok());
}

/// Starts `spotcheck load ARGS` against a receiver of the test CA with a JSON report,
/// sends `signal` once `received` deliveries reached the receiver, and returns the
/// exit code, stdout, the report and how long the exit took after the signal.
async fn stop_load(
    args: &[&str],
    signal: &str,
    received: u64,
) -> (Option<i32>, String, serde_json::Value, Duration) {
    let receiver = support::start(vec![]).await;
    let running = &receiver.running;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let child = cli::Spotcheck::new(["load", "--endpoint"])
        .arg(running.webhook_url())
        .arg("--ca-cert")
        .arg(&receiver.ca)
        .args(args)
        .args(["--seed", "1", "--quiet", "--report"])
        .arg(format!("json={}", json.display()))
        .secret(support::SECRET)
        .command()
        .spawn()
        .expect("spotcheck starts");
    let (output, took) =
        signal_after_deliveries(child, running, received, signal, Duration::from_secs(60)).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap_or_else(|err| {
        panic!(
            "no JSON report after SIG{signal} ({err}); stdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    }))
    .expect("the report is JSON");
    receiver.running.shutdown().await;
    (output.status.code(), stdout, report, took)
}

/// A 10-minute load stopped by Ctrl-C: the summary of what was answered until then,
/// the report written and marked interrupted, exit 130 at once.
#[tokio::test]
async fn sigint_ends_a_load_with_its_summary_and_report_and_exits_130() {
    let (code, stdout, report, took) =
        stop_load(&["-c", "4", "--duration", "10m"], "INT", 20).await;
    assert_eq!(code, Some(130), "{stdout}");
    assert!(took < Duration::from_secs(10), "took {took:?} after SIGINT");
    assert!(
        stdout.contains(
            "interrupted   stopped before the end: the figures cover the requests answered until then"
        ),
        "{stdout}"
    );
    assert_eq!(report["interrupted"], true, "{report}");
    // The receiver had 20 deliveries when the signal was sent: each was answered and
    // counted, or still in flight and abandoned.
    let requests = report["requests"].as_u64().unwrap();
    let abandoned = report["abandoned"].as_u64().unwrap();
    assert!(requests > 0 && requests + abandoned >= 20, "{report}");
    assert_eq!(report["ok"], requests, "{report}");
    assert!(
        stdout.contains(&format!("requests      {requests} in ")),
        "{stdout}"
    );
    // Stopped minutes before its end.
    assert!(report["duration_ms"].as_u64().unwrap() < 60_000, "{report}");
}

/// SIGTERM (CI cancellation) during an open-model run with a request count far off:
/// the ticker stops scheduling, the report is written, exit 143.
#[tokio::test]
async fn sigterm_ends_a_fixed_rate_load_and_exits_143() {
    let (code, stdout, report, took) = stop_load(
        &["--rate", "50", "-c", "4", "--requests", "1000000"],
        "TERM",
        10,
    )
    .await;
    assert_eq!(code, Some(143), "{stdout}");
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} after SIGTERM"
    );
    assert_eq!(report["interrupted"], true, "{report}");
    assert_eq!(report["model"], "open", "{report}");
    let scheduled = report["rate"]["scheduled"].as_u64().unwrap();
    assert!(
        (10..1_000_000).contains(&scheduled),
        "scheduling went on after the signal: {report}"
    );
}

/// SIGHUP during the first step of a `--find-max` search: the step cut short is not
/// judged, the search is reported as interrupted (not as unreachable), exit 129.
#[tokio::test]
async fn sighup_ends_a_find_max_search_without_judging_the_cut_step_and_exits_129() {
    let (code, stdout, report, took) = stop_load(
        &[
            "--find-max",
            "--rate",
            "20",
            "--step",
            "10m",
            "-c",
            "4",
            "--expect-peak",
            "100",
        ],
        "HUP",
        5,
    )
    .await;
    assert_eq!(code, Some(129), "{stdout}");
    assert!(took < Duration::from_secs(10), "took {took:?} after SIGHUP");
    assert_eq!(report["interrupted"], true, "{report}");
    assert_eq!(report["unreachable"], false, "{report}");
    assert_eq!(report["steps"], serde_json::json!([]), "{report}");
    assert_eq!(
        report["sustainable_rps"],
        serde_json::Value::Null,
        "{report}"
    );
    assert!(
        stdout.contains("interrupted   the search was stopped after 0 finished step(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sustainable   not known: no step finished"),
        "{stdout}"
    );
    // Cut short before any step held, the search cannot say the peak is not sustained.
    assert_eq!(report.get("peak_sustained"), None, "{report}");
    assert!(!stdout.contains("headroom"), "{stdout}");
}

/// Waits until `received` deliveries reached `running`, sends `signal` to `child`,
/// and returns its output and how long it took to exit after the signal (at most
/// `exit_within`, or the test fails).
async fn signal_after_deliveries(
    mut child: tokio::process::Child,
    running: &spotcheck::receiver::RunningReceiver,
    received: u64,
    signal: &str,
    exit_within: Duration,
) -> (std::process::Output, Duration) {
    let deadline = Instant::now() + cli::LINE_TIMEOUT;
    while running.stats().received < received {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("spotcheck exited ({status}) before {received} deliveries");
        }
        assert!(
            Instant::now() < deadline,
            "{received} deliveries did not reach the receiver within {:?}",
            cli::LINE_TIMEOUT
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().expect("still running").to_string();
    let kill = std::process::Command::new("kill")
        .args([format!("-{signal}").as_str(), &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let sent = Instant::now();
    let output = tokio::time::timeout(exit_within, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("spotcheck did not exit within {exit_within:?} of SIG{signal}"))
        .expect("spotcheck ran");
    (output, sent.elapsed())
}
