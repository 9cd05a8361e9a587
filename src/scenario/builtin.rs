//! The built-in suites: the TOML files under `scenarios/`, embedded in the binary at
//! build time (by `build.rs`).

use std::sync::OnceLock;

use super::diagnostic::ScenarioError;
use super::ids::check_unique_ids;
use super::model::Scenario;
use super::parse::load_builtin;

/// Every built-in scenario file: (path in the repository, text), in report order
/// (see [`super::builtin_order`]). `build.rs` lists the folder, so a new file under
/// `scenarios/SUITE/` is embedded without touching this list.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// Loads the built-in scenarios (or the problems, which a test rules out).
pub fn try_builtin() -> Result<Vec<Scenario>, ScenarioError> {
    let mut out = Vec::with_capacity(FILES.len());
    let mut problems = Vec::new();
    for (path, text) in FILES {
        match load_builtin(path, text) {
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
                .filter_map(|(path, text)| load_builtin(path, text).ok())
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
