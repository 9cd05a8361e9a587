//! Report files: checked up front that they can be written, then written atomically
//! (see [`crate::atomic_file`]).

use std::path::Path;

use crate::error::SetupError;

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
    fn a_missing_folder_is_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        assert!(check_writable(&dir.path().join("missing/r.json")).is_err());
        assert!(check_writable(&path).is_ok());
    }
}
