//! The checks the engine makes after the scenarios rather than a scenario file: each
//! is its [`CheckInfo`] plus a judge, run in this order through one path
//! ([`WHOLE_RUN_CHECKS`]). The schema-generated payloads come first, then the retry of
//! the first delivery that failed (which may be one of theirs), on Spotnana's schedule.

use std::future::Future;
use std::pin::Pin;

use super::context::RunContext;
use super::options::RunOptions;
use super::{recovery, variants};
use crate::check::{CheckInfo, CheckResult};

/// A judge's work: the check's result, once it is done.
pub type Judging<'a> = Pin<Box<dyn Future<Output = CheckResult> + Send + 'a>>;

/// A check the engine makes after the scenarios.
#[derive(Debug, Clone, Copy)]
pub struct WholeRunCheck {
    /// What the check is.
    pub info: fn() -> CheckInfo,
    /// Built in like the suites: `--no-builtin` leaves it out.
    pub builtin: bool,
    /// Runs and judges the check, given every result so far.
    pub judge: for<'a> fn(&'a [CheckResult], &'a RunContext, &'a RunOptions) -> Judging<'a>,
}

/// The engine-made checks, in run order.
pub const WHOLE_RUN_CHECKS: [WholeRunCheck; 2] = [
    WholeRunCheck {
        info: variants::info,
        builtin: true,
        judge: |_, ctx, options| Box::pin(variants::run(ctx, options.variants)),
    },
    WholeRunCheck {
        info: recovery::info,
        builtin: false,
        judge: |checks, ctx, options| {
            Box::pin(recovery::run(checks, ctx, options.retry_time_scale))
        },
    },
];

impl WholeRunCheck {
    /// Whether a run with (`builtin`) or without (`--no-builtin`) the built-in checks
    /// includes this one.
    pub fn included(&self, builtin: bool) -> bool {
        builtin || !self.builtin
    }
}
