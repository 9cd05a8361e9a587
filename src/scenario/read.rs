//! Reading scenario files from disk: one file, or every `*.toml` under a directory,
//! confined to a file root, size and encoding limits, and ids unique across everything
//! read.
//!
//! Scenario files may come from a pull request, so nothing a file names (the file
//! itself through a symbolic link, a `payload_file`) may be read from outside the
//! file root: no absolute path, no `..` out of it, no symbolic link leading out of it,
//! regular files only (no FIFO that blocks, no device that never ends, no `/proc`
//! file), each read through a bounded reader whatever its metadata says. A refused
//! file is named with the reason, never with its contents.

use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::budget::{self, Limits};
use super::diagnostic::{Problem, ScenarioError};
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

/// The folder file access is confined to: as the user wrote it (for messages) and
/// with every symbolic link resolved (for the checks).
#[derive(Debug, Clone)]
pub struct FileRoot {
    shown: PathBuf,
    canonical: PathBuf,
}

/// Why a file is not read. Never carries any of its contents.
#[derive(Debug)]
pub enum Refusal {
    /// An absolute path where a relative one is required.
    Absolute,
    /// A path whose `..` leads out of the root.
    Escapes,
    /// A symbolic link (of the file or a folder on its way) leading out of the root.
    LinksOut,
    /// Inside `/proc`, `/sys` or `/dev`: kernel files whose size says nothing.
    Pseudo,
    /// Not a regular file: what it is instead.
    NotRegular(&'static str),
    /// Longer than the limit (in bytes).
    TooLarge(u64),
    /// The system's own error (missing, no permission…).
    Io(std::io::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Absolute => {
                f.write_str("an absolute path; only paths inside the file root are read")
            }
            Refusal::Escapes => {
                f.write_str("`..` leads out of the file root; only files inside it are read")
            }
            Refusal::LinksOut => f.write_str(
                "a symbolic link leads out of the file root; only files inside it are read",
            ),
            Refusal::Pseudo => f.write_str("a kernel file (/proc, /sys, /dev), not a regular file"),
            Refusal::NotRegular(what) => write!(f, "not a regular file ({what})"),
            Refusal::TooLarge(limit) => write!(
                f,
                "over {}; a scenario file or payload_file should be small",
                crate::units::format_size(*limit)
            ),
            Refusal::Io(err) => write!(f, "{err}"),
        }
    }
}

impl FileRoot {
    /// The root at `dir` (which must exist).
    pub fn new(dir: &Path) -> std::io::Result<FileRoot> {
        let canonical = std::fs::canonicalize(dir)?;
        if !canonical.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(FileRoot {
            shown: dir.to_path_buf(),
            canonical,
        })
    }

    /// The root as the user wrote it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// Reads `name` as written in a scenario file in `dir`: relative, inside the root.
    pub fn read_named(&self, dir: &Path, name: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
        if name.has_root() || name.is_absolute() {
            return Err(Refusal::Absolute);
        }
        let path = dir.join(name);
        if !self.lexically_holds(&path) {
            return Err(Refusal::Escapes);
        }
        self.read(&path, limit)
    }

    /// Reads `path` if it is a regular file inside the root once every link is
    /// resolved, at most `limit` bytes (one more is read to tell a longer file).
    pub fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
        let canonical = self.resolve(path)?;
        // The resolved path has no link left; its type decides before opening, so a
        // FIFO is never opened (opening one blocks until a writer comes).
        let meta = std::fs::metadata(&canonical).map_err(Refusal::Io)?;
        if !meta.is_file() {
            return Err(Refusal::NotRegular(kind(&meta.file_type())));
        }
        let file = open_no_block(&canonical).map_err(Refusal::Io)?;
        // What was opened is checked again (the path may have changed in between).
        let meta = file.metadata().map_err(Refusal::Io)?;
        if !meta.is_file() {
            return Err(Refusal::NotRegular(kind(&meta.file_type())));
        }
        // Never trust the length the metadata gives (0 for many kernel files).
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(Refusal::Io)?;
        if bytes.len() as u64 > limit {
            return Err(Refusal::TooLarge(limit));
        }
        Ok(bytes)
    }

    /// `path` with every link resolved, if that stays inside the root and out of the
    /// kernel's pseudo file systems.
    fn resolve(&self, path: &Path) -> Result<PathBuf, Refusal> {
        let canonical = std::fs::canonicalize(path).map_err(Refusal::Io)?;
        if !canonical.starts_with(&self.canonical) {
            return Err(if self.lexically_holds(path) {
                Refusal::LinksOut
            } else {
                Refusal::Escapes
            });
        }
        if ["/proc", "/sys", "/dev"]
            .iter()
            .any(|pseudo| canonical.starts_with(pseudo))
        {
            return Err(Refusal::Pseudo);
        }
        Ok(canonical)
    }

    /// Whether `path`, `..` resolved as text (no link followed), is inside the root.
    fn lexically_holds(&self, path: &Path) -> bool {
        let (Some(path), Some(root)) = (normalized(path), normalized(&self.shown)) else {
            return false;
        };
        path.starts_with(&root) || path.starts_with(&self.canonical)
    }

    /// Whether `path` (a folder or file the user named) is inside the root.
    fn holds(&self, path: &Path) -> Result<(), Refusal> {
        self.resolve(path).map(|_| ())
    }
}

/// An absolute path with `.` and `..` resolved as text.
fn normalized(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            // `..` at the top stays at the top, as the system resolves it.
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

fn kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Opens for reading without blocking on a FIFO and without following a link that
/// appeared since the path was resolved.
fn open_no_block(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    options.open(path)
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
    budget::check_run(&all, limits)
}

/// The default root of a path given: the folder itself, or the file's folder.
fn own_root(path: &Path) -> &Path {
    if path.is_dir() {
        path
    } else {
        parent_dir(path)
    }
}

/// A file's folder (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
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
