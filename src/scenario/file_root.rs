//! The file root: the folder a scenario file, and every file it names, must be in.
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
    pub(crate) fn holds(&self, path: &Path) -> Result<(), Refusal> {
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

/// A file's folder (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
