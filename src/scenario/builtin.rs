//! The built-in suites: the TOML files under `scenarios/`, embedded in the binary.

use std::sync::OnceLock;

use super::diagnostic::ScenarioError;
use super::load::load_source;
use super::model::Scenario;

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../", $path)))),*]
    };
}

/// Every built-in scenario file: (path in the repository, text), in report order.
pub const FILES: &[(&str, &str)] = embed![
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
        super::load::check_unique_ids(&out)?;
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
