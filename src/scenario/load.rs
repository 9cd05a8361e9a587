//! Reading scenario files: TOML parsing, conversion of parser errors into
//! [`Problem`]s with "did you mean", directories, and duplicate ids.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::event::catalogue::closest;

use super::diagnostic::{Problem, ScenarioError};
use super::model::{Scenario, limits};
use super::raw::{EXPECT_KEYS, PRECONDITION_KEYS, RawScenario, SCENARIO_KEYS, STEP_KEYS};
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

/// Loads a file, or every `*.toml` under a directory (recursively, in name order).
/// All problems of all files are reported together; ids must be unique.
pub fn load_path(path: impl AsRef<Path>) -> Result<Vec<Scenario>, ScenarioError> {
    load_paths(&[path.as_ref().to_path_buf()])
}

/// Loads several files or directories (see [`load_path`]); ids must be unique across all.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        collect_files(path, &mut files, &mut problems);
    }
    let mut scenarios = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        match read_limited(file) {
            Ok(text) => match load_str(&name, &text) {
                Ok(s) => scenarios.push(s),
                Err(e) => problems.extend(e.problems),
            },
            Err(message) => problems.push(Problem::file(&name, message)),
        }
    }
    if let Err(e) = check_unique_ids(&scenarios) {
        problems.extend(e.problems);
    }
    if problems.is_empty() {
        Ok(scenarios)
    } else {
        Err(ScenarioError { problems })
    }
}

fn read_limited(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > limits::MAX_FILE {
        return Err("file is over 16MiB; a scenario file should be small".to_owned());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 (invalid byte at offset {}); scenario files are UTF-8 TOML",
            e.utf8_error().valid_up_to()
        )
    })
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            problems.push(Problem::file(&shown, format!("cannot read: {e}")));
            return;
        }
    };
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return;
    }
    let mut found = Vec::new();
    walk(path, &mut found, problems, 0);
    if found.is_empty() {
        problems.push(
            Problem::file(&shown, "the directory holds no *.toml scenario files")
                .with_help("scenario files end in .toml"),
        );
    }
    found.sort();
    files.extend(found);
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>, problems: &mut Vec<Problem>, depth: usize) {
    if depth > 16 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem::file(
                &dir.display().to_string(),
                format!("cannot read: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, found, problems, depth + 1);
        } else if path.extension().is_some_and(|e| e == "toml") {
            found.push(path);
        }
    }
}

/// Errors for every id defined twice (pointing at the second, naming the first).
pub fn check_unique_ids(scenarios: &[Scenario]) -> Result<(), ScenarioError> {
    let mut seen: HashMap<&str, &Scenario> = HashMap::new();
    let mut problems = Vec::new();
    for s in scenarios {
        if let Some(first) = seen.get(s.info.id.as_str()) {
            let (line, column) =
                super::diagnostic::line_column(&first.origin.text, first.origin.id_span.start);
            let where_first = if first.origin.builtin {
                format!("built-in check {} ({})", first.info.id, first.origin.file)
            } else {
                format!("{}:{line}:{column}", first.origin.file)
            };
            problems.push(
                Problem::at(
                    &s.origin.file,
                    &s.origin.text,
                    s.origin.id_span.clone(),
                    format!("duplicate check id `{}`", s.info.id),
                    "already defined",
                )
                .with_help(format!(
                    "first defined at {where_first}; check ids must be unique, give this one another name"
                )),
            );
        } else {
            seen.insert(&s.info.id, s);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ScenarioError { problems })
    }
}

/// The built-in scenarios followed by `user` ones; a user id equal to a built-in id is an error.
pub fn with_builtin(user: Vec<Scenario>) -> Result<Vec<Scenario>, ScenarioError> {
    let mut all = super::builtin::builtin();
    all.extend(user);
    check_unique_ids(&all)?;
    Ok(all)
}

/// Turns a TOML/serde error into a problem with a plain message and a suggestion.
fn toml_problem(name: &str, text: &Arc<str>, err: &toml::de::Error) -> Problem {
    let message = err.message().trim().to_owned();
    let span = err.span().unwrap_or(0..0);
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, tail)) = rest.split_once('`')
    {
        let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let (table, keys) = which_table(&expected);
        let mut label = String::from("unknown key");
        if let Some(s) = closest(field, keys.iter().copied()) {
            label = format!("did you mean `{s}`?");
        }
        let mut help = format!("{table} keys are: {}", keys.join(", "));
        if field == "within" && table == "step" {
            help = format!(
                "`within` belongs in the expectation: expect = {{ status = 200, within = \"2s\" }}; {help}"
            );
        }
        return Problem::at(
            name,
            text,
            span,
            format!("unknown key `{field}` in {table}"),
            label,
        )
        .with_help(help);
    }
    if let Some((what, accepted)) = message.split_once("; expected a status code") {
        let (accepted, suggestion) = match accepted.split_once(" (did you mean ") {
            Some((list, rest)) => (list, Some(rest.trim_end_matches(')').trim_end_matches('?'))),
            None => (accepted, None),
        };
        let label = suggestion.map_or("not a status".to_owned(), |s| format!("did you mean {s}?"));
        return Problem::at(
            name,
            text,
            span,
            format!("{what} in `expect.status`"),
            label,
        )
        .with_help(format!("expected a status code{accepted}"));
    }
    if message.contains("$__toml_private_datetime") {
        return Problem::at(
            name,
            text,
            span,
            "a TOML date-time cannot be used here",
            "date-time",
        )
        .with_help(
            "JSON has no date type: write the date as a string, e.g. \"2026-11-29T10:15:30Z\"",
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        return Problem::at(
            name,
            text,
            span,
            format!("missing key `{field}`"),
            "in this table",
        )
        .with_help("a scenario needs id, title, level, why and fix, and one [[step]] or more");
    }
    let friendly = message
        .replace("expected i64", "expected an integer")
        .replace("expected u32", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("expected struct RawStep", "expected a [[step]] table")
        .replace(
            "expected struct RawExpect",
            "expected a table such as { status = 200 }",
        )
        .replace("expected a string or map", "expected a string");
    let is_syntax = err.span().is_some()
        && !friendly.starts_with("invalid type")
        && !friendly.contains("status");
    let label = if friendly.starts_with("invalid type") {
        "wrong type"
    } else if is_syntax {
        "here"
    } else {
        ""
    };
    let mut p = Problem::at(name, text, span, friendly.clone(), label);
    if is_syntax && !friendly.contains("expected") && !friendly.contains("duplicate") {
        p = p.with_help("this is not valid TOML; see https://toml.io");
    }
    p
}

/// Names the table that has exactly these keys.
fn which_table(expected: &[&str]) -> (&'static str, &'static [&'static str]) {
    for (name, keys) in [
        ("step", STEP_KEYS),
        ("expect", EXPECT_KEYS),
        ("precondition", PRECONDITION_KEYS),
        ("scenario", SCENARIO_KEYS),
    ] {
        if expected.iter().all(|k| keys.contains(k)) && expected.len() == keys.len() {
            return (name, keys);
        }
    }
    if expected.iter().all(|k| STEP_KEYS.contains(k)) && expected.contains(&"send") {
        ("step", STEP_KEYS)
    } else if expected.contains(&"status") {
        ("expect", EXPECT_KEYS)
    } else {
        ("scenario", SCENARIO_KEYS)
    }
}
