//! What the engine tells its front while a run goes on, as nextest's runner tells its
//! reporter: typed events, in order, to a [`RunSink`]. The front decides what to show
//! (a header, a progress bar, the "interrupted" lines); the engine prints nothing.

use std::time::Duration;

use crate::check::{CheckInfo, CheckResult};
use crate::outcome::RunReport;

/// One thing that happened in a run.
///
/// The order a sink sees: [`RunEvent::RunStarted`] first; then, per check,
/// [`RunEvent::CheckStarted`] (except for checks the run never reached) and exactly one
/// [`RunEvent::CheckFinished`]; [`RunEvent::CheckDiagnosed`] for each check a
/// diagnosis then explained; [`RunEvent::RunFinished`] last. The scenario phase is
/// bracketed by [`RunEvent::ScenariosStarted`] and [`RunEvent::ScenariosFinished`]
/// when the scenarios run at all (not when the certificate blocked them or the run was
/// already interrupted).
#[derive(Debug, Clone, Copy)]
pub enum RunEvent<'a> {
    /// The target is set up; checks are about to run.
    RunStarted {
        /// The endpoint deliveries go to.
        endpoint: &'a str,
        /// Whether it is the built-in reference receiver.
        reference_receiver: bool,
        /// The run's seed.
        seed: u64,
    },
    /// The selected scenarios start executing, several at once.
    ScenariosStarted {
        /// How many scenarios are selected.
        total: usize,
    },
    /// A check started.
    CheckStarted(&'a CheckInfo),
    /// A check finished with this result (as judged, before any diagnosis).
    CheckFinished(&'a CheckResult),
    /// Every selected scenario finished, or was left unfinished by an interruption.
    ScenariosFinished,
    /// A diagnosis explained a finished check: its result now carries the diagnosis.
    CheckDiagnosed(&'a CheckResult),
    /// The run was asked to stop.
    Interrupted(Interruption),
    /// The run is over; its report follows.
    RunFinished(&'a RunReport),
}

/// Where a stop request found the run, and what the engine does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// During the TLS probe: nothing more runs; the report follows.
    TlsProbe,
    /// While scenarios ran: none starts any more, exchanges in flight get `grace`.
    Scenarios {
        /// How long exchanges in flight may still take.
        grace: Duration,
    },
}

/// Receives a run's events (see [`RunEvent`] for their order).
pub trait RunSink {
    /// Called for each event, in order, from the engine's task.
    fn event(&mut self, event: RunEvent<'_>);
}

/// A sink that ignores every event (a run with no front).
impl RunSink for () {
    fn event(&mut self, _: RunEvent<'_>) {}
}
