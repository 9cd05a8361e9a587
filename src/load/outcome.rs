//! What a load run measured, apart from the run itself so the report reads it
//! without depending on how the run was driven.

use std::time::Duration;

use super::stats::Stats;

/// Open-model counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateCounts {
    /// Permits the ticker issued (requests scheduled).
    pub scheduled: u64,
    /// Scheduled requests never sent: the backlog was full, or the run ended first.
    pub dropped: u64,
}

/// What a run measured.
#[derive(Debug)]
pub struct LoadOutcome {
    /// Every worker's stats merged.
    pub stats: Stats,
    /// Wall time from the first request to the last.
    pub elapsed: Duration,
    /// Requests abandoned in flight when the duration ended (not counted as requests).
    pub abandoned: u64,
    /// Open model only.
    pub rate: Option<RateCounts>,
    /// The run was stopped early (a stop signal) rather than by its duration or
    /// request count.
    pub interrupted: bool,
}
