//! The one catalogue of checks: every check a run can make — the TLS probe's, the
//! scenarios (built-in and the user's) and the whole-run checks — as one [`CheckInfo`]
//! shape, in the one order `run` makes them and every report lists them (TLS, the
//! scenarios, then the whole-run checks). `run`, `scenarios list`, `--only`/`--skip`/
//! `--tags`, `--shard`, replay and the diagnoses all read this list, so none of them can
//! drift from another.
//!
//! The rules that keep a check from running live here too, read from what the check
//! declares ([`crate::check::Needs`]), never from its id or suite:
//!
//! - left out of the run (not listed in its report): a whole-run check that is built in
//!   under `--no-builtin`, a check that needs OAuth in a run without it
//!   ([`Catalogue::for_run`]);
//! - skipped, with the reason: a check that runs programs without `--allow-exec`, that
//!   observes without `--state-url`, that judges signatures with `--no-hmac`
//!   ([`unmet`], in `skip.rs`, which the scenario runner reads without the tables);
//! - skipped because the certificate blocks every delivery: every check after the TLS
//!   probe ([`Gate`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

pub mod skip;

pub use skip::{Offered, Unmet, unmet};

use super::context::RunContext;
use super::filter::CheckFilter;
use super::options::RunOptions;
use super::{recovery, variants};
use crate::check::{CheckInfo, CheckResult};
use crate::scenario::Scenario;
use crate::tls_probe::{self, TlsCheck};

/// A judge's work: the check's result, once it is done.
pub type Judging<'a> = Pin<Box<dyn Future<Output = CheckResult> + Send + 'a>>;

/// A check the engine makes after the scenarios, over the whole run.
pub struct WholeRunCheck {
    /// What the check is.
    pub info: CheckInfo,
    /// Built in like the suites: `--no-builtin` leaves it out.
    pub builtin: bool,
    /// Whether the check counts its own exchanges into the run's coverage as it makes
    /// them (it makes so many that it keeps most bodies only that long), so the engine
    /// must not count them again.
    pub counts_itself: bool,
    /// Runs and judges the check, given every result so far.
    pub judge: for<'a> fn(&'a [CheckResult], &'a RunContext, &'a RunOptions) -> Judging<'a>,
}

/// The whole-run checks, in run order: the schema-generated payloads first, then the
/// retry of the first delivery that failed (which may be one of theirs), on Spotnana's
/// schedule.
static WHOLE_RUN_CHECKS: LazyLock<[WholeRunCheck; 2]> = LazyLock::new(|| {
    [
        WholeRunCheck {
            info: variants::info(),
            builtin: true,
            counts_itself: true,
            judge: |_, ctx, options| Box::pin(variants::run(ctx, options.variants)),
        },
        WholeRunCheck {
            info: recovery::info(),
            builtin: false,
            counts_itself: false,
            judge: |checks, ctx, options| {
                Box::pin(recovery::run(checks, ctx, options.retry_time_scale))
            },
        },
    ]
});

/// What a catalogue entry is, and so how the engine runs it.
#[derive(Clone, Copy)]
pub enum Kind<'a> {
    /// Judged from the TLS probe's report.
    Tls(&'static TlsCheck),
    /// A scenario file's check (built-in or the user's).
    Scenario(&'a Scenario),
    /// Judged by the engine after the scenarios, over the whole run.
    WholeRun(&'static WholeRunCheck),
}

impl Kind<'_> {
    /// What the check is.
    pub fn info(&self) -> &CheckInfo {
        match self {
            Kind::Tls(check) => &check.info,
            Kind::Scenario(scenario) => &scenario.info,
            Kind::WholeRun(check) => &check.info,
        }
    }
}

/// Every check of a run, in run order.
#[derive(Clone)]
pub struct Catalogue<'a> {
    entries: Vec<Kind<'a>>,
}

impl<'a> Catalogue<'a> {
    /// Every check a run over `scenarios` can make, before selection, in run order.
    /// `builtin` is false under `--no-builtin` (`scenarios` then holds only the user's):
    /// the built-in whole-run checks are left out with the built-in suites.
    pub fn new(scenarios: &'a [Scenario], builtin: bool) -> Catalogue<'a> {
        let entries = tls_probe::tls_checks()
            .iter()
            .map(Kind::Tls)
            .chain(scenarios.iter().map(Kind::Scenario))
            .chain(
                WHOLE_RUN_CHECKS
                    .iter()
                    .filter(move |check| builtin || !check.builtin)
                    .map(Kind::WholeRun),
            )
            .collect();
        Catalogue { entries }
    }

    /// The checks a run makes: those `filter` selects (`--only`, `--skip`, `--tags`,
    /// `--shard`), less those needing OAuth when the run has none (the legacy OAuth
    /// suite is not listed in a run without it).
    pub fn for_run(self, filter: &CheckFilter, oauth: bool) -> Catalogue<'a> {
        Catalogue {
            entries: self
                .entries
                .into_iter()
                .filter(|entry| {
                    filter.selects(entry.info()) && (oauth || !entry.info().needs.oauth)
                })
                .collect(),
        }
    }

    /// Every entry, in run order.
    pub fn entries(&self) -> &[Kind<'a>] {
        &self.entries
    }

    /// Every check, in run order.
    pub fn infos(&self) -> impl Iterator<Item = &CheckInfo> {
        self.entries.iter().map(Kind::info)
    }

    /// The TLS checks, in run order.
    pub fn tls(&self) -> impl Iterator<Item = &'static TlsCheck> + '_ {
        self.entries.iter().filter_map(|entry| match entry {
            Kind::Tls(check) => Some(*check),
            _ => None,
        })
    }

    /// The scenarios, in run order.
    pub fn scenarios(&self) -> impl Iterator<Item = &'a Scenario> + '_ {
        self.entries.iter().filter_map(|entry| match entry {
            Kind::Scenario(scenario) => Some(*scenario),
            _ => None,
        })
    }

    /// The whole-run checks, in run order.
    pub fn whole_run(&self) -> impl Iterator<Item = &'static WholeRunCheck> + '_ {
        self.entries.iter().filter_map(|entry| match entry {
            Kind::WholeRun(check) => Some(*check),
            _ => None,
        })
    }
}

/// Whether the checks after the TLS probe may deliver: the certificate gate, decided
/// once from the probe and applied to every scenario and whole-run check alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Deliveries go ahead.
    Open,
    /// The endpoint's certificate does not verify, so no delivery can succeed: every
    /// check after the probe is skipped (`--insecure-continue` keeps the gate open).
    Blocked(tls_probe::CertificateBlock),
}
