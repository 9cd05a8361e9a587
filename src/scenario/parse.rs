//! Parsing one scenario's text into the checked [`super::model`]: TOML through the
//! spanned serde model (`raw`), then the validator; every mistake becomes a
//! [`Problem`](super::Problem) at its exact position.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::diagnostic::ScenarioError;
use super::model::Scenario;
use super::raw::RawScenario;
use super::toml_error::toml_problem;
use super::validate::{Validator, validate};

/// Loads one scenario from text. `name` is the file name used in messages; a
/// `payload_file` is resolved relative to its directory.
pub fn load_str(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let base = Path::new(name).parent().map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        }
    });
    load_source(name, text, base)
}

/// Loads a scenario whose `payload_file`s (if any) resolve against `base_dir`;
/// `None` forbids `payload_file` (built-ins).
pub(crate) fn load_source(
    name: &str,
    text: &str,
    base_dir: Option<&Path>,
) -> Result<Scenario, ScenarioError> {
    let shared: Arc<str> = Arc::from(text);
    let raw: RawScenario = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => return Err(toml_problem(name, &shared, &err).into()),
    };
    let mut v = Validator {
        file: name,
        text: &shared,
        base_dir,
        problems: Vec::new(),
        warnings: Vec::new(),
        step_names: HashMap::new(),
    };
    let scenario = validate(&mut v, raw);
    match scenario {
        Some(s) if v.problems.is_empty() => Ok(s),
        _ => {
            let mut problems = v.problems;
            problems.sort_by_key(|p| p.labels.first().map_or(0, |(s, _)| s.start));
            Err(ScenarioError { problems })
        }
    }
}
