//! Parsing one scenario's text into the checked [`super::model`]: TOML through the
//! spanned serde model (`raw`), then the validator; every mistake becomes a
//! [`Problem`](super::Problem) at its exact position.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::budget::{Budget, Limits};
use super::diagnostic::{Problem, ScenarioError};
use super::file_root::{FileRoot, parent_dir};
use super::model::Scenario;
use super::raw::RawScenario;
use super::toml_error::toml_problem;
use super::validate::{Validator, validate};

/// Loads one scenario from text. `name` is the file name used in messages; a
/// `payload_file` is resolved relative to its directory and must stay inside it.
pub fn load_str(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let base = parent_dir(Path::new(name));
    // A folder that does not exist holds no file: any `payload_file` is then refused
    // when read, as missing.
    let root = FileRoot::new(base).ok();
    load_source(name, text, Some(base), root.as_ref(), &Limits::DEFAULT)
}

/// Loads a scenario file read from disk: its `payload_file`s resolve against `dir`
/// and stay inside `root`; it must fit `limits`.
pub(crate) fn load_file(
    name: &str,
    text: &str,
    dir: &Path,
    root: &FileRoot,
    limits: &Limits,
) -> Result<Scenario, ScenarioError> {
    load_source(name, text, Some(dir), Some(root), limits)
}

/// Loads a built-in scenario (no `payload_file`), with the default caps.
pub(crate) fn load_builtin(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    load_source(name, text, None, None, &Limits::DEFAULT)
}

/// Loads a scenario whose `payload_file`s (if any) resolve against `base_dir` inside
/// `root`; `None` forbids `payload_file` (built-ins).
fn load_source(
    name: &str,
    text: &str,
    base_dir: Option<&Path>,
    root: Option<&FileRoot>,
    limits: &Limits,
) -> Result<Scenario, ScenarioError> {
    if let Some(problem) = not_text(name, text) {
        return Err(problem.into());
    }
    let shared: Arc<str> = Arc::from(text);
    let raw: RawScenario = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => return Err(toml_problem(name, &shared, &err).into()),
    };
    let mut v = Validator {
        file: name,
        text: &shared,
        base_dir,
        root: root.filter(|_| base_dir.is_some()),
        limits,
        problems: Vec::new(),
        warnings: Vec::new(),
        step_names: HashMap::new(),
        var_sizes: HashMap::new(),
        step_sizes: HashMap::new(),
        budget: Budget::default(),
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

/// TOML is text: no control character but tab, line feed and carriage return, anywhere
/// (comments included). A file holding one (a NUL-separated `/proc` file, a binary) is
/// refused here, with where, and never quoted: a diagnostic shows only text.
fn not_text(name: &str, text: &str) -> Option<Problem> {
    let (offset, c) = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))?;
    let (line, column) = super::diagnostic::line_column(text, offset);
    Some(
        Problem::file(
            name,
            format!(
                "not a text file: control character U+{:04X} at line {line}, column {column} \
                 (byte {offset}); scenario files are UTF-8 TOML text",
                c as u32
            ),
        )
        .with_help("its contents are not shown; check that the path names a scenario file"),
    )
}
