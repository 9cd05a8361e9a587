//! Ctrl-C during `spotcheck run`: sending stops, exchanges in flight get a second,
//! every requested report is written with the checks done so far and the rest marked
//! `interrupted`, and the exit code is 130.

use std::time::{Duration, Instant};

use spotcheck::receiver::{self, Flaw, ReceiverConfig, TlsSetup};
use spotcheck::signing::Secret;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test]
async fn sigint_writes_partial_reports_and_exits_130() {
    spotcheck::init_crypto();
    let config = ReceiverConfig {
        secrets: vec![Secret::parse(SECRET).unwrap()],
        state: true,
        flaws: vec![Flaw::SlowAck(Duration::from_secs(3))],
        ..ReceiverConfig::default()
    };
    let running = receiver::start(config, "127.0.0.1:0".parse().unwrap(), TlsSetup::Generated)
        .await
        .expect("receiver starts");
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, running.ca_pem.clone().unwrap()).unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("report.xml");
    let markdown = dir.path().join("report.md");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .arg("run")
        .arg("--endpoint")
        .arg(running.webhook_url())
        .arg("--ca-cert")
        .arg(&ca)
        .arg("--state-url")
        .arg(running.state_url())
        .args(["--timeout", "10s", "--seed", "1", "--color", "never"])
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("markdown={}", markdown.display()))
        .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spotcheck starts");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = child.id().expect("still running after 1.5 s").to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let sent = Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .expect("spotcheck exits within 5 s of SIGINT")
        .expect("spotcheck ran");
    let took = sent.elapsed();
    running.shutdown().await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(130),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?} after SIGINT");
    assert!(
        stderr.contains("interrupted: finishing exchanges in flight"),
        "{stderr}"
    );
    assert!(stdout.trim_end().ends_with("— INTERRUPTED"), "{stdout}");

    // JSON: the TLS checks (done before the signal) kept their outcome; every delivery
    // check was waiting on a 3 s answer and is `interrupted`.
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
}
