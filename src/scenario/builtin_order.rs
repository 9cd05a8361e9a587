//! The order the built-in checks are reported in, read from their paths under
//! `scenarios/`: the suite's place in [`SUITES`], then the file name, whose number
//! (`01-status-200.toml`) places a check within its suite.
//!
//! `build.rs` compiles this file too (it sorts the embedded list with [`sort_key`]),
//! so it uses nothing but `core`.

/// Suites in report order: whether a correct delivery gets 200 comes first, then its
/// signature, then retries, ordering and OAuth, which assume both. A suite not named
/// here follows these, by name.
pub const SUITES: &[&str] = &["delivery", "signature", "retry", "ordering", "oauth"];

/// The sort key of a built-in file by its path relative to `scenarios/`
/// (`SUITE/NN-NAME.toml`): its suite's place, the suite, then the file name.
pub fn sort_key(relative: &str) -> (usize, &str, &str) {
    let (suite, file) = relative.split_once('/').unwrap_or(("", relative));
    let place = SUITES
        .iter()
        .position(|known| *known == suite)
        .unwrap_or(SUITES.len());
    (place, suite, file)
}
