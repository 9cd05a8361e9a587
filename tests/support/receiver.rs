//! Shared test helper: a reference receiver on loopback HTTPS with its CA written to a
//! temporary file, and the `spotcheck` binary run against it (through `cli.rs`, which the
//! test crate includes as `mod cli` next to this one).

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use spotcheck::receiver::{self, Flaw, ReceiverConfig, RunningReceiver, TlsSetup};
use spotcheck::signing::Secret;

/// The signing secret every helper uses (a vector secret from the shared vectors).
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A running receiver and the files a client needs to trust it.
pub struct TestReceiver {
    pub running: RunningReceiver,
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
}

/// Starts a receiver with these flaws (state exposed), over HTTPS with a generated CA.
pub async fn start(flaws: Vec<Flaw>) -> TestReceiver {
    spotcheck::init_crypto();
    let config = ReceiverConfig {
        secrets: vec![Secret::parse(SECRET).unwrap()],
        state: true,
        flaws,
        ..ReceiverConfig::default()
    };
    let running = receiver::start(config, "127.0.0.1:0".parse().unwrap(), TlsSetup::Generated)
        .await
        .expect("receiver starts");
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, running.ca_pem.clone().unwrap()).unwrap();
    TestReceiver { running, dir, ca }
}

/// Runs `spotcheck ARGS…` with the test secret in the environment and `NO_COLOR=1`,
/// within 60 s. Needs `support/cli.rs` included as `cli` in the test crate.
pub async fn spotcheck(args: &[&str]) -> crate::cli::Run {
    crate::cli::Spotcheck::new(args)
        .secret(SECRET)
        .no_color()
        .timeout(Duration::from_secs(60))
        .run()
        .await
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
