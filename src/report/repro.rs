//! Each failed or warned check's replay command, as the report formats print it
//! (the command itself is built by [`crate::replay`]).

pub use crate::replay::{Replay, header_env_name, shell_quote};

use crate::check::{CheckResult, Status};

/// The replay command of a failed or warned check; `None` for every other outcome.
pub fn for_check(replay: &Replay, seed: u64, check: &CheckResult) -> Option<String> {
    matches!(check.status, Status::Fail | Status::Warn)
        .then(|| replay.command_for(seed, &check.info))
}
