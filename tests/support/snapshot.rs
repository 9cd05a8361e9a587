//! Snapshot file names that do not depend on how the tests are built.
//!
//! insta names a snapshot file `<module path>__<name>.snap`. Each test file was once its
//! own binary, so the module path was the file's name (`reports`); in the one test
//! binary it is `tests::reports`. Assertions that took insta's prefix now set
//! `prepend_module_to_snapshot => false` and name the file with [`name`], so the files
//! in `snapshots/` and `tests/snapshots/` keep their names.

/// `<test file>__<name>` for a snapshot asserted in the module `module_path`
/// (pass `module_path!()`).
pub fn name(module_path: &str, name: &str) -> String {
    let file = module_path.rsplit("::").next().unwrap_or(module_path);
    format!("{file}__{name}")
}
