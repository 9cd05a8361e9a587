//! `load --find-max`: the endpoint's highest sustainable rate, found by loading it at
//! rising fixed rates (open model, corrected latency) until a step fails, then
//! bisecting between the last rate that held and the first that did not.
//!
//! A step holds when every request was answered `200 OK`, the p99 latency (counted
//! from each request's scheduled send time) is within the budget, and at most 1 % of
//! the scheduled requests could not be sent because every connection was busy.
//!
//! Bounded: at most [`MAX_STEPS`] steps (one more when an expected peak falls
//! between the last rate that held and the first that broke), each exactly the step
//! duration (requests still in flight at its end are abandoned, as in a `--duration`
//! run), and no step above the maximum rate, so a search takes at most
//! `(MAX_STEPS + 1) × step` and sends at most `(MAX_STEPS + 1) × step × max rate`
//! requests.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::report::Latency;
use super::rounding::round1;
use super::{Connector, LoadOptions, LoadOutcome, RequestPlan, Stop};
use crate::runner::cancel::Cancel;

/// Most steps of a search (before the one at an expected peak).
pub const MAX_STEPS: usize = 12;
/// The search stops when the rate that broke is within this share above the rate
/// that held.
pub const PRECISION: f64 = 0.10;
/// Share of scheduled requests that may go unsent before a step counts as broken.
pub const MAX_UNSENT_SHARE: f64 = 0.01;
/// Lowest rate tried when even the first step breaks.
pub const MIN_RATE: f64 = 1.0;

/// How to search.
#[derive(Debug, Clone)]
pub struct RampOptions {
    /// The first step's rate.
    pub start_rate: f64,
    /// No step goes above this rate.
    pub max_rate: f64,
    /// How long each step loads.
    pub step: Duration,
    /// A step breaks when its p99 is above this.
    pub p99_budget: Duration,
    /// The partner's expected Spotnana peak, when given: checked directly when the
    /// search ends on either side of it.
    pub expect_peak: Option<f64>,
    /// Connections (the most requests in flight).
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Seed (each step derives its own).
    pub seed: u64,
    /// Client threads (`None`: one per core).
    pub threads: Option<std::num::NonZeroUsize>,
}

/// One step of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The rate loaded (requests per second).
    pub rate_rps: f64,
    /// Requests completed.
    pub requests: u64,
    /// Requests answered `200 OK`.
    pub ok: u64,
    /// Completed requests per second.
    pub throughput_rps: f64,
    /// Latency from each request's scheduled send time.
    pub latency_ms: Latency,
    /// Service time, from when each request was sent.
    pub service_time_ms: Option<Latency>,
    /// Requests scheduled.
    pub scheduled: u64,
    /// Requests scheduled but never sent.
    pub dropped: u64,
    /// Count per HTTP status.
    pub status_counts: std::collections::BTreeMap<String, u64>,
    /// Count per error class.
    pub errors: std::collections::BTreeMap<String, u64>,
    /// Why the step broke; `null` when it held.
    pub broke_because: Option<String>,
}

impl Step {
    /// Whether the endpoint sustained this rate.
    pub fn held(&self) -> bool {
        self.broke_because.is_none()
    }

    /// Whether any request got an HTTP answer.
    pub fn answered(&self) -> bool {
        !self.status_counts.is_empty()
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct RampOutcome {
    /// Every step, in the order run.
    pub steps: Vec<Step>,
    /// The highest rate that held, if any did.
    pub sustainable_rps: Option<f64>,
    /// The lowest rate that broke, if any did.
    pub broke_at: Option<Step>,
    /// The maximum rate held: the endpoint can take at least that, perhaps more.
    pub reached_max: bool,
    /// The search was stopped (a stop signal) before it ended; the step cut short is
    /// not among `steps`.
    pub interrupted: bool,
}

/// Judges one step against the budget.
fn judge(outcome: &LoadOutcome, rate: f64, budget: Duration) -> Step {
    let stats = &outcome.stats;
    let requests = stats.requests();
    let counts = outcome.rate.unwrap_or_default();
    let latency_ms = Latency::of(&stats.latency);
    let status_counts: std::collections::BTreeMap<String, u64> = stats
        .status_counts()
        .into_iter()
        .map(|(status, count)| (status.to_string(), count))
        .collect();
    let errors: std::collections::BTreeMap<String, u64> = stats
        .error_counts()
        .into_iter()
        .map(|(class, count)| (class.as_str().to_owned(), count))
        .collect();
    let budget_ms = budget.as_secs_f64() * 1000.0;
    let list = |map: &std::collections::BTreeMap<String, u64>| {
        map.iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let not_ok = requests - stats.ok();
    let broke_because = if requests == 0 {
        Some("no request completed".to_owned())
    } else if not_ok > 0 {
        let mut others = status_counts.clone();
        others.remove("200");
        let mut what = Vec::new();
        if !others.is_empty() {
            what.push(format!("status {}", list(&others)));
        }
        if !errors.is_empty() {
            what.push(format!("errors {}", list(&errors)));
        }
        Some(format!(
            "{not_ok} of {requests} requests were not answered 200 OK ({})",
            what.join("; ")
        ))
    } else if latency_ms.p99 > budget_ms {
        Some(format!(
            "p99 {} ms is over the {} ms budget",
            latency_ms.p99, budget_ms
        ))
    } else if counts.dropped as f64 > counts.scheduled as f64 * MAX_UNSENT_SHARE {
        Some(format!(
            "{} of {} scheduled requests could not be sent: every connection was busy",
            counts.dropped, counts.scheduled
        ))
    } else {
        None
    };
    let secs = outcome.elapsed.as_secs_f64();
    Step {
        rate_rps: round1(rate),
        requests,
        ok: stats.ok(),
        throughput_rps: if secs > 0.0 {
            round1(requests as f64 / secs)
        } else {
            0.0
        },
        latency_ms,
        service_time_ms: stats.service.as_ref().map(Latency::of),
        scheduled: counts.scheduled,
        dropped: counts.dropped,
        status_counts,
        errors,
        broke_because,
    }
}

/// The next rate to try after the steps so far, or `None` when the search is done.
pub fn next_rate(options: &RampOptions, held: Option<f64>, broke: Option<f64>) -> Option<f64> {
    match (held, broke) {
        (Some(held), None) if held >= options.max_rate => None,
        (Some(held), None) => Some((held * 2.0).min(options.max_rate)),
        (None, Some(broke)) => (broke / 2.0 >= MIN_RATE).then_some(broke / 2.0),
        (Some(held), Some(broke)) => {
            (broke > held * (1.0 + PRECISION)).then_some((held + broke) / 2.0)
        }
        (None, None) => Some(options.start_rate.min(options.max_rate)),
    }
}

/// Runs the search. `stop` ends it early: the step then running is cut and not
/// judged (a shorter step would say nothing about its rate).
pub async fn find_max(
    options: &RampOptions,
    target: Arc<Connector>,
    plan: Arc<RequestPlan>,
    stop: &Cancel,
    mut on_step: impl FnMut(&Step),
) -> RampOutcome {
    let mut steps: Vec<Step> = Vec::new();
    let mut held: Option<f64> = None;
    let mut broke: Option<Step> = None;
    let mut peak_checked = false;
    let mut interrupted = false;
    loop {
        let broke_rate = broke.as_ref().map(|s| s.rate_rps);
        let mut rate = next_rate(options, held, broke_rate);
        if steps.len() >= MAX_STEPS {
            rate = None;
        }
        if rate.is_none()
            && !peak_checked
            && let Some(peak) = options.expect_peak
            && held.is_none_or(|held| held < peak)
            && broke_rate.is_some_and(|broke| broke > peak)
            && peak <= options.max_rate
        {
            // The verdict rests on a measurement at the peak itself, not on a gap.
            peak_checked = true;
            rate = Some(peak);
        }
        let Some(rate) = rate else { break };
        let load = LoadOptions {
            concurrency: options.concurrency,
            rate: Some(rate),
            stop: Stop::Duration(options.step),
            timeout: options.timeout,
            seed: options.seed.wrapping_add(steps.len() as u64),
            threads: options.threads,
        };
        let outcome = super::run(&load, target.clone(), plan.clone(), None, stop).await;
        if outcome.interrupted {
            interrupted = true;
            break;
        }
        let step = judge(&outcome, rate, options.p99_budget);
        on_step(&step);
        if step.held() {
            held = Some(held.map_or(rate, |h: f64| h.max(rate)));
        } else if broke.as_ref().is_none_or(|b| rate < b.rate_rps) {
            broke = Some(step.clone());
        }
        let unreachable = !step.answered();
        steps.push(step);
        if unreachable && held.is_none() {
            // Nothing answered at all: lower rates will not help.
            break;
        }
    }
    RampOutcome {
        reached_max: broke.is_none() && held.is_some_and(|h| h >= options.max_rate),
        sustainable_rps: held.map(round1),
        broke_at: broke,
        steps,
        interrupted,
    }
}

/// What `spotcheck load --find-max` reports (`--report json=PATH`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampReport {
    /// `spotcheck <version>`.
    pub tool: String,
    /// The endpoint loaded.
    pub endpoint: String,
    /// Always `find-max`.
    pub mode: String,
    /// Connections (the most requests in flight at each rate).
    pub concurrency: usize,
    /// Seed of the first step (step `i` uses `seed + i`).
    pub seed: u64,
    /// The event mix, `EVENT/OPERATION=weight`.
    pub events: Vec<String>,
    /// The traffic profile, when one was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// A step breaks when its p99 (from each request's scheduled time) is above this.
    pub p99_budget_ms: u64,
    /// How long each step loaded.
    pub step_ms: u64,
    /// No step went above this rate.
    pub max_rate_rps: f64,
    /// Every step, in the order run.
    pub steps: Vec<Step>,
    /// The highest rate the endpoint sustained (`null`: not even the lowest tried).
    pub sustainable_rps: Option<f64>,
    /// The maximum rate held: the endpoint can take at least that, perhaps more.
    pub reached_max: bool,
    /// The lowest rate that broke, and why (`null` when none did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broke_at: Option<Step>,
    /// The partner's expected Spotnana peak (`--expect-peak`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_peak_rps: Option<f64>,
    /// `sustainable_rps / expect_peak_rps`, when both are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom: Option<f64>,
    /// With `--expect-peak`: whether the endpoint sustained it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_sustained: Option<bool>,
    /// No step got a single HTTP answer: the search could not run.
    pub unreachable: bool,
    /// The search was stopped (Ctrl-C, SIGTERM, SIGHUP) before it ended: `steps` are
    /// the steps finished until then, and the sustainable rate a lower bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl RampReport {
    /// The report of a search.
    pub fn new(
        outcome: RampOutcome,
        options: &RampOptions,
        endpoint: String,
        events: Vec<String>,
        profile: Option<String>,
    ) -> RampReport {
        let interrupted = outcome.interrupted;
        // An interrupted search that got no answer yet was not shown unreachable.
        let unreachable = !interrupted && !outcome.steps.iter().any(Step::answered);
        // Cut short before the peak held, the search does not know whether it would.
        let peak_sustained = options.expect_peak.and_then(|peak| {
            let held = outcome.sustainable_rps.is_some_and(|held| held >= peak);
            (held || !interrupted).then_some(held)
        });
        RampReport {
            tool: concat!("spotcheck ", env!("CARGO_PKG_VERSION")).to_owned(),
            endpoint,
            mode: "find-max".to_owned(),
            concurrency: options.concurrency,
            seed: options.seed,
            events,
            profile,
            p99_budget_ms: options.p99_budget.as_millis() as u64,
            step_ms: options.step.as_millis() as u64,
            max_rate_rps: options.max_rate,
            headroom: match (outcome.sustainable_rps, options.expect_peak) {
                (Some(held), Some(peak)) => Some((held / peak * 100.0).round() / 100.0),
                _ => None,
            },
            sustainable_rps: outcome.sustainable_rps,
            reached_max: outcome.reached_max,
            broke_at: outcome.broke_at,
            steps: outcome.steps,
            expect_peak_rps: options.expect_peak,
            peak_sustained,
            unreachable,
            interrupted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> RampOptions {
        RampOptions {
            start_rate: 50.0,
            max_rate: 1000.0,
            step: Duration::from_secs(1),
            p99_budget: Duration::from_secs(1),
            expect_peak: None,
            concurrency: 8,
            timeout: Duration::from_secs(1),
            seed: 1,
            threads: None,
        }
    }

    /// One step's outcome: `ok` answers `200` and `refused` answers `503` after
    /// `latency` each, `timeouts` timeouts, `scheduled` requests of which `dropped`
    /// were never sent, over `elapsed`.
    fn step_of(
        (ok, refused, timeouts): (u64, u64, u64),
        latency: Duration,
        (scheduled, dropped): (u64, u64),
        elapsed: Duration,
    ) -> LoadOutcome {
        let mut stats = super::super::stats::Stats::open();
        for _ in 0..ok {
            stats.record_status(200, latency);
        }
        for _ in 0..refused {
            stats.record_status(503, latency);
        }
        for _ in 0..timeouts {
            stats.record_error(crate::delivery::exchange::ErrorClass::Timeout, latency);
        }
        LoadOutcome {
            stats,
            elapsed,
            abandoned: 0,
            rate: Some(super::super::outcome::RateCounts { scheduled, dropped }),
            interrupted: false,
        }
    }

    const BUDGET: Duration = Duration::from_secs(1);

    #[test]
    fn a_step_holds_when_all_is_200_within_budget_and_at_most_1_percent_unsent() {
        let fast = Duration::from_millis(5);
        // 1 of 100 unsent is the most allowed.
        let outcome = step_of((100, 0, 0), fast, (100, 1), Duration::from_secs(2));
        let step = judge(&outcome, 50.04, BUDGET);
        assert_eq!(step.broke_because, None);
        assert!(step.held() && step.answered());
        assert_eq!((step.rate_rps, step.requests, step.ok), (50.0, 100, 100));
        assert_eq!(step.throughput_rps, 50.0);
        assert_eq!((step.scheduled, step.dropped), (100, 1));
        assert_eq!(step.status_counts.get("200"), Some(&100));
        // Just under the budget still holds, and so does a p99 at the budget itself
        // (1 ms is recorded exactly).
        let slow = step_of((100, 0, 0), Duration::from_millis(990), (100, 0), BUDGET);
        assert!(judge(&slow, 50.0, BUDGET).held());
        let one_ms = Duration::from_millis(1);
        let at_budget = judge(
            &step_of((100, 0, 0), one_ms, (100, 0), BUDGET),
            50.0,
            one_ms,
        );
        assert_eq!(at_budget.latency_ms.p99, 1.0);
        assert_eq!(at_budget.broke_because, None);
    }

    #[test]
    fn a_step_breaks_on_what_was_not_200_and_says_what_it_was() {
        let outcome = step_of(
            (90, 7, 3),
            Duration::from_millis(5),
            (100, 0),
            Duration::from_secs(2),
        );
        let step = judge(&outcome, 50.0, BUDGET);
        assert_eq!(
            step.broke_because.as_deref(),
            Some("10 of 100 requests were not answered 200 OK (status 503: 7; errors timeout: 3)")
        );
        assert!(!step.held());
        let only_refused = step_of((1, 2, 0), Duration::from_millis(5), (3, 0), BUDGET);
        assert_eq!(
            judge(&only_refused, 3.0, BUDGET).broke_because.as_deref(),
            Some("2 of 3 requests were not answered 200 OK (status 503: 2)")
        );
        let only_errors = step_of((1, 0, 2), Duration::from_millis(5), (3, 0), BUDGET);
        assert_eq!(
            judge(&only_errors, 3.0, BUDGET).broke_because.as_deref(),
            Some("2 of 3 requests were not answered 200 OK (errors timeout: 2)")
        );
    }

    #[test]
    fn a_step_breaks_over_the_p99_budget_or_with_more_than_1_percent_unsent() {
        let slow = step_of((100, 0, 0), Duration::from_millis(1500), (100, 0), BUDGET);
        let why = judge(&slow, 50.0, BUDGET).broke_because.unwrap();
        assert!(
            why.starts_with("p99 1") && why.ends_with(" ms is over the 1000 ms budget"),
            "{why}"
        );
        let busy = step_of((100, 0, 0), Duration::from_millis(5), (102, 2), BUDGET);
        assert_eq!(
            judge(&busy, 50.0, BUDGET).broke_because.as_deref(),
            Some("2 of 102 scheduled requests could not be sent: every connection was busy")
        );
    }

    #[test]
    fn a_step_without_any_answer_breaks_and_was_not_answered() {
        let silent = step_of((0, 0, 0), Duration::ZERO, (10, 0), Duration::ZERO);
        let step = judge(&silent, 10.0, BUDGET);
        assert_eq!(step.broke_because.as_deref(), Some("no request completed"));
        assert!(!step.held() && !step.answered());
        assert_eq!(step.throughput_rps, 0.0);
        // Errors only: a step that broke, but not one the endpoint answered.
        let refused = step_of((0, 0, 3), Duration::from_millis(5), (3, 0), BUDGET);
        assert!(!judge(&refused, 3.0, BUDGET).answered());
    }

    /// The search stops once the rate that broke is within [`PRECISION`] of the one
    /// that held, that bound included (1.0 × 1.1 is exactly the literal 1.1).
    #[test]
    fn the_search_stops_once_the_broken_rate_is_within_the_precision() {
        let o = options();
        assert_eq!(next_rate(&o, Some(1.0), Some(1.1)), None);
        assert_eq!(next_rate(&o, Some(1.0), Some(1.2)), Some(1.1));
    }

    /// When even the first rate breaks, the rate is halved down to [`MIN_RATE`] and
    /// no further.
    #[test]
    fn an_endpoint_that_holds_nothing_is_tried_down_to_the_lowest_rate() {
        let o = options();
        let mut broke = None;
        let mut tried = Vec::new();
        while let Some(rate) = next_rate(&o, None, broke) {
            assert!(tried.len() < MAX_STEPS, "tried {tried:?} and more");
            tried.push(rate);
            broke = Some(rate);
        }
        assert_eq!(tried, [50.0, 25.0, 12.5, 6.25, 3.125, 1.5625]);
    }

    /// Against an endpoint that holds up to `capacity`, the search ends within
    /// [`PRECISION`] below it, in at most [`MAX_STEPS`] steps.
    #[test]
    fn the_search_converges_within_its_bound() {
        for capacity in [3.0, 60.0, 333.0, 999.0, 5000.0] {
            let o = options();
            let (mut held, mut broke) = (None, None);
            let mut steps = 0;
            while let Some(rate) = next_rate(&o, held, broke) {
                steps += 1;
                assert!(steps <= MAX_STEPS, "capacity {capacity}: too many steps");
                assert!(rate <= o.max_rate);
                if rate <= capacity {
                    held = Some(held.map_or(rate, |h: f64| h.max(rate)));
                } else {
                    broke = Some(broke.map_or(rate, |b: f64| b.min(rate)));
                }
            }
            let found = held.unwrap();
            let truth = capacity.min(o.max_rate);
            assert!(
                found <= truth && found >= truth / (1.0 + PRECISION) - 1e-9,
                "capacity {capacity}: found {found}"
            );
        }
    }
}
