//! Shared test helper: a reference receiver on loopback HTTPS with its CA written to a
//! temporary file, and the `spotcheck` binary run against it (through `cli.rs`). Its
//! helpers are re-exported at `support::`, where most tests call them.

use std::path::PathBuf;
use std::time::Duration;

use spotcheck::receiver::{self, Flaw, ReceiverConfig, RunningReceiver, TlsSetup};
use spotcheck::signing::Secret;

pub use super::cli::SECRET;

/// A running receiver and the files a client needs to trust it.
pub struct TestReceiver {
    pub running: RunningReceiver,
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
}

/// The receiver configuration every test starts from: it verifies with [`SECRET`].
pub fn config() -> ReceiverConfig {
    ReceiverConfig {
        secrets: vec![Secret::parse(SECRET).unwrap()],
        ..ReceiverConfig::default()
    }
}

/// Starts a receiver with `config` on 127.0.0.1 (a free port), served with `tls`.
pub async fn start_with(config: ReceiverConfig, tls: TlsSetup) -> RunningReceiver {
    spotcheck::init_crypto();
    receiver::start(config, "127.0.0.1:0".parse().unwrap(), tls)
        .await
        .expect("receiver starts")
}

/// Starts a receiver with these flaws (state exposed), over HTTPS with a generated CA.
pub async fn start(flaws: Vec<Flaw>) -> TestReceiver {
    let config = ReceiverConfig {
        state: true,
        flaws,
        ..config()
    };
    let running = start_with(config, TlsSetup::Generated).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, running.ca_pem.clone().unwrap()).unwrap();
    TestReceiver { running, dir, ca }
}

/// Runs `spotcheck ARGS…` with the test secret in the environment and `NO_COLOR=1`,
/// within 60 s. Needs `support/cli.rs` included as `cli` in the test crate.
pub async fn spotcheck(args: &[&str]) -> super::cli::Run {
    super::cli::Spotcheck::new(args)
        .secret(SECRET)
        .no_color()
        .timeout(Duration::from_secs(60))
        .run()
        .await
}

/// `spotcheck run --only ONLY` (seed 19) against a reference receiver with these
/// flaws: what the process did and its JSON report.
pub async fn run_against(flaws: Vec<Flaw>, only: &str) -> (super::cli::Run, serde_json::Value) {
    let receiver = start(flaws).await;
    let report = receiver.dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let url = receiver.running.webhook_url();
    let ca = receiver.ca.display().to_string();
    let output = spotcheck(&[
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--only",
        only,
        "--seed",
        "19",
        "--report",
        &report_arg,
    ])
    .await;
    receiver.running.shutdown().await;
    let json = serde_json::from_slice(&std::fs::read(&report).unwrap())
        .unwrap_or_else(|err| panic!("no JSON report ({err}):\n{}", output.all()));
    (output, json)
}

/// The status of check `id` in a JSON report (`absent` if missing).
pub fn status_of<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    check(report, id)
        .and_then(|c| c["status"].as_str())
        .unwrap_or("absent")
}

/// Check `id` in a JSON report.
pub fn check<'a>(report: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == id))
}

/// Check `id` in a JSON report; panics, naming the checks there are, when it is missing.
pub fn expect_check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    check(report, id).unwrap_or_else(|| {
        let ids: Vec<&str> = report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str())
            .collect();
        panic!("check {id} is not in the report (it has {ids:?})")
    })
}

/// The message of check `id` in a JSON report (empty if missing).
pub fn message_of<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    check(report, id)
        .and_then(|c| c["message"].as_str())
        .unwrap_or("")
}
