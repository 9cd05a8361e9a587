//! Reading scenario files from disk: one file, or every `*.toml` under a directory,
//! confined to a [`FileRoot`], size and encoding limits, ids unique across everything
//! read, and the caps of a whole run.

use std::path::{Path, PathBuf};

use super::budget::{Limits, figure};
use super::diagnostic::{Problem, ScenarioError};
use super::file_root::{FileRoot, Refusal, parent_dir};
use super::ids::check_unique_ids;
use super::model::{Scenario, limits};
use super::parse::load_file;

/// How scenario files are loaded: the file root and the caps.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The folder no scenario file, nor any file one names, may be read from outside
    /// of. `None`: each path given is its own root (a folder, or a file's folder).
    pub file_root: Option<PathBuf>,
    /// The caps every scenario must fit.
    pub limits: Limits,
}

/// Loads a file, or every `*.toml` under a directory (recursively, in name order).
/// All problems of all files are reported together; ids must be unique.
pub fn load_path(path: impl AsRef<Path>) -> Result<Vec<Scenario>, ScenarioError> {
    load_paths(&[path.as_ref().to_path_buf()])
}

/// Loads several files or directories (see [`load_path`]); ids must be unique across all.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    load_paths_with(paths, &LoadOptions::default())
}

/// Loads several files or directories confined to `options.file_root` (by default each
/// path given is its own root: the folder, or the file's folder), each scenario within
/// `options.limits`; ids must be unique across all.
pub fn load_paths_with(
    paths: &[PathBuf],
    options: &LoadOptions,
) -> Result<Vec<Scenario>, ScenarioError> {
    let mut problems = Vec::new();
    let given_root = match &options.file_root {
        Some(dir) => match FileRoot::new(dir) {
            Ok(root) => Some(root),
            Err(err) => {
                let problem = Problem::file(
                    &dir.display().to_string(),
                    format!("cannot be the file root: {err}"),
                )
                .with_help("--file-root names an existing folder holding the scenario files");
                return Err(problem.into());
            }
        },
        None => None,
    };
    let mut scenarios = Vec::new();
    for path in paths {
        let root = match &given_root {
            Some(root) => root.clone(),
            None => match FileRoot::new(own_root(path)) {
                Ok(root) => root,
                Err(err) => {
                    let shown = path.display().to_string();
                    problems.push(Problem::file(&shown, format!("cannot read: {err}")));
                    continue;
                }
            },
        };
        if given_root.is_none()
            && let Err(problem) = relative_stays_here(path)
        {
            problems.push(problem);
            continue;
        }
        let mut files = Vec::new();
        collect_files(path, &root, &mut files, &mut problems);
        for file in &files {
            let name = file.display().to_string();
            match read_text(&root, file) {
                Ok(text) => {
                    let dir = parent_dir(file);
                    match load_file(&name, &text, dir, &root, &options.limits) {
                        Ok(s) => scenarios.push(s),
                        Err(e) => problems.extend(e.problems),
                    }
                }
                Err(message) => problems.push(Problem::file(&name, message)),
            }
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

/// The scenarios of a run (the user's, and the built-ins unless `builtin` is false)
/// against the run's caps. `spotcheck scenarios check` calls it too, so it refuses
/// what `run` would.
pub fn check_run_budget(
    user: &[Scenario],
    builtin: bool,
    limits: &Limits,
) -> Result<(), ScenarioError> {
    let mut all = if builtin {
        super::builtin()
    } else {
        Vec::new()
    };
    all.extend(user.iter().filter(|s| !s.origin.builtin).cloned());
    check_run(&all, limits)
}

/// A relative path given is part of the project (a pull request may have made
/// `scenarios/` a link to the home folder): without --file-root, a link in it must not
/// lead out of the current folder. An absolute path, or `..` typed by the user, is the
/// user's own choice.
fn relative_stays_here(path: &Path) -> Result<(), Problem> {
    if path.is_absolute() {
        return Ok(());
    }
    let here = FileRoot::new(Path::new(".")).map_err(|err| {
        Problem::file(
            &path.display().to_string(),
            format!("cannot read the current folder: {err}"),
        )
    })?;
    match here.holds(path) {
        // Only a link is the project's doing; `..` the user typed is the user's choice,
        // and a missing path is reported when it is read.
        Err(Refusal::LinksOut) => Err(Problem::file(
            &path.display().to_string(),
            "not read: a symbolic link leads out of the current folder; only files inside it \
             are read",
        )
        .with_help(
            "give --file-root DIR to read scenario files from a folder outside the current one",
        )),
        _ => Ok(()),
    }
}

/// The default root of a path given: the folder itself, or the file's folder.
fn own_root(path: &Path) -> &Path {
    if path.is_dir() {
        path
    } else {
        parent_dir(path)
    }
}

/// A scenario file's text: inside the root, a regular file, at most 16 MiB, UTF-8.
fn read_text(root: &FileRoot, path: &Path) -> Result<String, String> {
    let bytes = root
        .read(path, limits::MAX_FILE)
        .map_err(|refusal| match refusal {
            Refusal::Io(err) => format!("cannot read: {err}"),
            other => format!("not read: {other}"),
        })?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 (invalid byte at offset {}); scenario files are UTF-8 TOML",
            e.utf8_error().valid_up_to()
        )
    })
}

fn collect_files(
    path: &Path,
    root: &FileRoot,
    files: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
) {
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            problems.push(Problem::file(&shown, format!("cannot read: {e}")));
            return;
        }
    };
    if let Err(refusal) = root.holds(path) {
        problems.push(
            Problem::file(&shown, format!("not read: {refusal}")).with_help(format!(
                "the file root is `{}`; give --file-root DIR to read scenario files elsewhere",
                root.shown().display()
            )),
        );
        return;
    }
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
        // A link is not followed into a folder; a linked `*.toml` is read only if it
        // resolves inside the root (checked when it is read).
        if kind.is_dir() {
            walk(&path, found, problems, depth + 1);
        } else if path.extension().is_some_and(|e| e == "toml") {
            found.push(path);
        }
    }
}

/// Checks the scenarios of one run together against the run's caps: the deliveries
/// and body bytes of all of them. The problem points at the scenario whose addition
/// goes over, with both figures.
fn check_run(scenarios: &[Scenario], limits: &Limits) -> Result<(), ScenarioError> {
    let mut deliveries = 0u64;
    let mut bytes = 0u64;
    let mut problems = Vec::new();
    for scenario in scenarios {
        let before = (deliveries, bytes);
        deliveries = deliveries.saturating_add(scenario.budget.deliveries);
        bytes = bytes.saturating_add(scenario.budget.bytes);
        let over_count = deliveries > limits.run_deliveries && before.0 <= limits.run_deliveries;
        let over_bytes = bytes > limits.run_bytes && before.1 <= limits.run_bytes;
        let (message, help) = if over_count {
            (
                format!(
                    "with this scenario the run sends up to {deliveries} deliveries, over the \
                     limit of {} per run",
                    limits.run_deliveries
                ),
                "run fewer scenarios at once (--only, --shard), lower `repeat`, or raise the \
                 limit with --max-run-deliveries N",
            )
        } else if over_bytes {
            (
                format!(
                    "with this scenario the run sends up to {} of bodies, over the limit of {} \
                     per run",
                    figure(bytes),
                    crate::units::format_size(limits.run_bytes)
                ),
                "run fewer scenarios at once (--only, --shard), lower `repeat` or `large`, or \
                 raise the limit with --max-run-bytes SIZE",
            )
        } else {
            continue;
        };
        let origin = &scenario.origin;
        problems.push(
            Problem::at(
                &origin.file,
                &origin.text,
                origin.id_span.clone(),
                message,
                format!(
                    "this scenario: up to {} deliveries, {}",
                    scenario.budget.deliveries,
                    figure(scenario.budget.bytes)
                ),
            )
            .with_help(help),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ScenarioError { problems })
    }
}
