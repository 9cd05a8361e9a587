//! Ctrl-C during `spotcheck run`: sending stops, exchanges in flight get a second,
//! every requested report is written with the checks done so far and the rest marked
//! `interrupted`, and the exit code is 130.

use std::time::{Duration, Instant};

use spotcheck::receiver::Flaw;

use crate::support::{self, cli};

/// How long the receiver holds each valid delivery before answering: far longer than
/// the test waits after SIGINT, so an exit that waited for the answers is caught.
const HELD: Duration = Duration::from_secs(30);

#[tokio::test]
async fn sigint_writes_partial_reports_and_exits_130() {
    let receiver = support::start(vec![Flaw::SlowAck(HELD)]).await;
    let running = &receiver.running;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("report.xml");
    let markdown = dir.path().join("report.md");
    let mut child = cli::Spotcheck::new(["run", "--endpoint"])
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
    let deadline = Instant::now() + cli::LINE_TIMEOUT;
    while running.stats().received == 0 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("spotcheck exited ({status}) before delivering anything");
        }
        assert!(
            Instant::now() < deadline,
            "no delivery reached the receiver within {:?}",
            cli::LINE_TIMEOUT
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().expect("still running").to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let sent = Instant::now();
    let output = tokio::time::timeout(HELD, child.wait_with_output())
        .await
        .expect("spotcheck exits before the held answers come")
        .expect("spotcheck ran");
    let took = sent.elapsed();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(130),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    // A second of grace for exchanges in flight, then the reports: well under the
    // held answers (a loaded machine gets ten seconds of slack).
    assert!(took < Duration::from_secs(10), "took {took:?} after SIGINT");
    assert!(
        stderr.contains("interrupted: finishing exchanges in flight"),
        "{stderr}"
    );
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
