//! Diagnose, don't just detect: after the checks are judged, ask the endpoint what
//! exactly it does wrong, and name it.
//!
//! spotcheck holds the secret, so when a check fails in a way the endpoint can be
//! asked about, it sends a few more deliveries (probes), each differing from the
//! refused one in a single known way, and reports which one the endpoint accepts:
//!
//! - correctly signed deliveries refused: the same event signed each common wrong
//!   way ([`probes::PROBES`]); exactly one accepted names the mistake;
//! - a rotation header refused in one position only: the other order;
//! - some body styles refused: the styles not yet sent;
//! - a fixed allow-list of event types or operations: read from the answers, and one
//!   known operation when an unknown one was refused;
//! - a replay window too narrow for real clocks: a short ladder of clock offsets.
//!
//! Only what the endpoint confirmed is claimed. Probes are never sent when the check
//! they explain passed, are bounded in number, are listed in the report with their
//! answers, and `--no-diagnose` turns them all off.

pub mod probes;

mod clock;
mod others;
mod probing;
mod reserialize;
mod signature;

pub use crate::check::{Diagnosis, ProbeRecord, StackFix};

use crate::check::CheckResult;
use crate::event::random;
use crate::runner::context::RunContext;

/// Runs every diagnosis the judged checks call for, attaching each to its check.
pub async fn run(checks: &mut [CheckResult], ctx: &RunContext) {
    let mut rng = random::rng_for(ctx.seed, "diagnose");
    signature::diagnose(checks, ctx, &mut rng).await;
    others::rotation(checks, ctx, &mut rng).await;
    others::body_styles(checks, ctx, &mut rng).await;
    others::allow_list(checks, ctx, &mut rng).await;
    clock::diagnose(checks, ctx, &mut rng).await;
    others::client_certificate(checks, ctx);
}
