//! The built-in suites: the TOML files under `scenarios/`, embedded in the binary.

use std::sync::OnceLock;

use super::diagnostic::ScenarioError;
use super::ids::check_unique_ids;
use super::model::Scenario;
use super::parse::load_source;

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../", $path)))),*]
    };
}

/// Every built-in scenario file: (path in the repository, text), in report order.
pub const FILES: &[(&str, &str)] = embed![
    "scenarios/delivery/status-200.toml",
    "scenarios/delivery/latency.toml",
    "scenarios/delivery/fast-ack.toml",
    "scenarios/delivery/trace-headers-tolerated.toml",
    "scenarios/delivery/every-subscribed-event.toml",
    "scenarios/delivery/unknown-fields-tolerated.toml",
    "scenarios/delivery/unknown-operation-tolerated.toml",
    "scenarios/delivery/large-payload.toml",
    "scenarios/delivery/concurrent-burst.toml",
    "scenarios/signature/valid-accepted.toml",
    "scenarios/signature/raw-body.toml",
    "scenarios/signature/rotation-accepted.toml",
    "scenarios/signature/format-tolerant.toml",
    "scenarios/signature/missing-rejected.toml",
    "scenarios/signature/invalid-rejected.toml",
    "scenarios/signature/wrong-secret-rejected.toml",
    "scenarios/signature/tampered-body-rejected.toml",
    "scenarios/signature/tampered-id-rejected.toml",
    "scenarios/signature/stale-timestamp-rejected.toml",
    "scenarios/signature/future-timestamp-rejected.toml",
    "scenarios/signature/clock-skew-tolerated.toml",
    "scenarios/signature/rejection-is-4xx.toml",
    "scenarios/retry/redelivery-idempotent.toml",
    "scenarios/retry/duplicate-processed-once.toml",
    "scenarios/ordering/out-of-order-accepted.toml",
    "scenarios/ordering/interleaved-organizations.toml",
    "scenarios/ordering/newest-timestamp-wins.toml",
    "scenarios/oauth/token-issued.toml",
    "scenarios/oauth/concurrent-token-requests.toml",
    "scenarios/oauth/bad-credentials-rejected.toml",
    "scenarios/oauth/bearer-required.toml",
];

/// Loads the built-in scenarios (or the problems, which a test rules out).
pub fn try_builtin() -> Result<Vec<Scenario>, ScenarioError> {
    let mut out = Vec::with_capacity(FILES.len());
    let mut problems = Vec::new();
    for (path, text) in FILES {
        match load_source(path, text, None) {
            Ok(mut s) => {
                s.origin.builtin = true;
                out.push(s);
            }
            Err(e) => problems.extend(e.problems),
        }
    }
    if problems.is_empty() {
        check_unique_ids(&out)?;
        Ok(out)
    } else {
        Err(ScenarioError { problems })
    }
}

/// The built-in scenarios, in report order. Parsed once per process.
///
/// Every file is checked by `tests/builtin_scenarios.rs`; should one ever fail to
/// load anyway, it is left out (and that test fails).
pub fn builtin() -> Vec<Scenario> {
    static CACHE: OnceLock<Vec<Scenario>> = OnceLock::new();
    CACHE
        .get_or_init(|| match try_builtin() {
            Ok(all) => all,
            Err(_) => FILES
                .iter()
                .filter_map(|(path, text)| load_source(path, text, None).ok())
                .map(|mut s| {
                    s.origin.builtin = true;
                    s
                })
                .collect(),
        })
        .clone()
}

/// The built-in scenarios followed by `user` ones; a user id equal to a built-in id is an error.
pub fn with_builtin(user: Vec<Scenario>) -> Result<Vec<Scenario>, ScenarioError> {
    let mut all = builtin();
    all.extend(user);
    check_unique_ids(&all)?;
    Ok(all)
}
