//! Writing report files atomically: a temporary file beside the target, then a rename,
//! so a reader never sees half a report.

use std::io::Write;
use std::path::Path;

use crate::error::SetupError;

/// Writes `bytes` to `path` atomically; `-` writes to standard output.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        return out.flush();
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Checks up front that a report can be written there (its folder exists), so a
/// typo fails the run before any delivery instead of losing the findings at the end.
pub fn check_writable(path: &Path) -> Result<(), SetupError> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(SetupError::new(format!(
            "cannot write report {}: folder {} does not exist",
            path.display(),
            dir.display()
        ))
        .with_hint("create the folder first, or choose another path"));
    }
    if path.is_dir() {
        return Err(SetupError::new(format!(
            "cannot write report {}: it is a folder",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(check_writable(&dir.path().join("missing/r.json")).is_err());
        assert!(check_writable(&path).is_ok());
    }
}
