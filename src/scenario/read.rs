//! Reading scenario files from disk: one file, or every `*.toml` under a directory,
//! size and encoding limits, and ids unique across everything read.

use std::path::{Path, PathBuf};

use super::diagnostic::{Problem, ScenarioError};
use super::ids::check_unique_ids;
use super::model::{Scenario, limits};
use super::parse::load_str;

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
