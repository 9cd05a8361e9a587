//! The outcome of a run as data: the checks' results, their counts and verdict,
//! answer times and connection figures. The engine ([`crate::runner`]) produces a
//! [`RunReport`]; every report format (in `report/`) reads one and knows nothing
//! of how it was produced.

use std::time::Duration;

use serde::Serialize;

use crate::check::{CheckResult, Status};
use crate::delivery::connection::ConnectionCounts;
use crate::delivery::exchange::ErrorClass;

/// The tool that wrote the report.
#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    /// `spotcheck`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl ToolInfo {
    /// This build of spotcheck.
    pub fn current() -> ToolInfo {
        ToolInfo {
            name: "spotcheck",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Counts per status and the verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Checks that passed.
    pub passed: usize,
    /// Required checks that failed.
    pub failed: usize,
    /// Recommended checks that failed.
    pub warned: usize,
    /// Checks not run.
    pub skipped: usize,
    /// Checks cut short by an interruption.
    pub interrupted: usize,
    /// Checks that could not run because of an error in their scenario.
    pub errors: usize,
    /// Whether the endpoint conforms: no failure (and, with `--strict`, no warning), no
    /// error, not interrupted, reached.
    pub conformant: bool,
    /// No connection to the endpoint succeeded (the report's `unreachable` says
    /// where and why); set by the engine after counting.
    #[serde(skip)]
    pub unreachable: bool,
}

impl Summary {
    /// Counts the results; `strict` makes warnings fail the run.
    pub fn of(checks: &[CheckResult], strict: bool) -> Summary {
        let mut summary = Summary::default();
        for check in checks {
            match check.status {
                Status::Pass => summary.passed += 1,
                Status::Fail => summary.failed += 1,
                Status::Warn => summary.warned += 1,
                Status::Skip => summary.skipped += 1,
                Status::Interrupted => summary.interrupted += 1,
                Status::Error => summary.errors += 1,
            }
        }
        summary.conformant = summary.failed == 0
            && summary.interrupted == 0
            && summary.errors == 0
            && (!strict || summary.warned == 0);
        summary
    }

    /// `N passed, N failed, N warned, N skipped` (and `, N interrupted` and `, N errors`
    /// when there were any), as every format writes it.
    pub fn counts(&self) -> String {
        let mut text = format!(
            "{} passed, {} failed, {} warned, {} skipped",
            self.passed, self.failed, self.warned, self.skipped
        );
        if self.interrupted > 0 {
            text.push_str(&format!(", {} interrupted", self.interrupted));
        }
        if self.errors > 0 {
            let noun = if self.errors == 1 { "error" } else { "errors" };
            text.push_str(&format!(", {} {noun}", self.errors));
        }
        text
    }

    /// The one-line verdict every format leads with: `INTERRUPTED`, unreachable, `ERROR`
    /// (a check could not run), `conformant` or `NOT conformant`.
    pub fn verdict(&self) -> RunVerdict {
        if self.interrupted > 0 {
            RunVerdict::Interrupted
        } else if self.unreachable {
            RunVerdict::Unreachable
        } else if self.errors > 0 {
            RunVerdict::Error
        } else if self.conformant {
            RunVerdict::Conformant
        } else {
            RunVerdict::NotConformant
        }
    }
}

/// The run's overall verdict (see [`Summary::verdict`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunVerdict {
    /// Every required check passed (with `--strict`: and no warning).
    Conformant,
    /// A required check failed (with `--strict`: or a recommended one).
    NotConformant,
    /// A check could not run because of an error in its scenario (`spotcheck run`
    /// exits 2).
    Error,
    /// The run was stopped before every check finished (`spotcheck run` exits 130).
    Interrupted,
    /// No connection to the endpoint succeeded: nothing was judged (`spotcheck run`
    /// exits 2, as for any error that is not the endpoint's code).
    Unreachable,
}

/// Answer-time figures over every answered delivery of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Latency {
    /// How many answered deliveries the figures cover.
    pub samples: usize,
    /// Median answer time.
    pub p50_ms: f64,
    /// 95th percentile answer time.
    pub p95_ms: f64,
    /// Slowest answer.
    pub max_ms: f64,
}

impl Latency {
    /// Nearest-rank percentiles over the given durations (`None` when empty).
    pub fn of(mut durations: Vec<Duration>) -> Option<Latency> {
        if durations.is_empty() {
            return None;
        }
        durations.sort();
        let rank = |p: f64| {
            let index = ((p * durations.len() as f64).ceil() as usize).clamp(1, durations.len());
            round_ms(durations[index - 1])
        };
        Some(Latency {
            samples: durations.len(),
            p50_ms: rank(0.50),
            p95_ms: rank(0.95),
            max_ms: round_ms(*durations.last().expect("non-empty")),
        })
    }
}

fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// Everything a run found: the data behind every report format.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The tool.
    pub tool: ToolInfo,
    /// The endpoint tested.
    pub endpoint: String,
    /// Whether the endpoint was the built-in reference receiver.
    pub reference_receiver: bool,
    /// The seed; the same seed replays the same bytes.
    pub seed: u64,
    /// RFC 3339 start time.
    pub started_at: String,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// Event types the run treated as subscribed.
    pub events: Vec<String>,
    /// The subscription the run proved: each type with its operations, and the
    /// organizations (`--events`, `--org-id`, or the project file).
    pub subscription: crate::event::Subscription,
    /// Whether warnings fail the run (`--strict`).
    pub strict: bool,
    /// Counts and verdict.
    pub summary: Summary,
    /// Every check, in run order.
    pub checks: Vec<CheckResult>,
    /// TLS probe findings, when the probe ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tls_probe::TlsReport>,
    /// Answer times over every answered delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// What the delivery client's connections did (opened, reused, resent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections: Option<ConnectionCounts>,
    /// No connection to the endpoint succeeded: the run ended early, judging nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<Unreachable>,
    /// The endpoint stopped answering across several checks, said once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_outage: Option<TransportOutage>,
    /// How connections reached the endpoint (direct or through which proxy, the
    /// address), as found when the target was set up; absent for the built-in
    /// reference receiver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<crate::route::RouteTaken>,
    /// Why the run failed when no check did: `below-min-coverage` (the coverage fell
    /// short of `--min-coverage`; `coverage.below_minimum` says which goal). Absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_reason: Option<VerdictReason>,
    /// What the run proved: operations, products, enum values and schema paths
    /// accepted, signature forms, body styles and TLS versions (see
    /// [`crate::coverage`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<crate::coverage::Coverage>,
    /// The flags a replay of one check repeats (rendered per check as `repro`); set by
    /// the front after the engine returns, since only it knows the command line.
    #[serde(skip)]
    pub replay: crate::replay::Replay,
}

/// Why a run is not conformant beyond its checks' verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictReason {
    /// Every check may have passed, but the coverage fell short of `--min-coverage`.
    BelowMinCoverage,
}

/// No connection to the endpoint succeeded in the whole run (see `runner::reach`):
/// where it was tried and what failed. The run judged nothing and exits 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreachable {
    /// `host:port` of the endpoint.
    pub address: String,
    /// The class of the last failure (`connect`, `dns`, `timeout`, `tls`).
    pub class: ErrorClass,
    /// What the last attempt failed with, in words.
    pub message: String,
    /// How many times the first delivery was tried.
    pub attempts: usize,
    /// From the first attempt to the decision, in milliseconds.
    pub waited_ms: u64,
}

/// Transport failures (timeouts, resets, refused connections) that made several
/// checks fail: one cause, reported once, instead of scattered over unrelated checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransportOutage {
    /// When the first of them started (RFC 3339).
    pub started_at: String,
    /// How many requests the run had sent before it.
    pub after_requests: usize,
    /// How many requests failed this way.
    pub failed_requests: usize,
    /// Failed requests per error class (`timeout`, `reset`, `connect`).
    pub classes: std::collections::BTreeMap<String, usize>,
    /// The failed or warned checks they hit, in run order.
    pub checks: Vec<String>,
}

impl TransportOutage {
    /// The outage in `checks`, when transport failures hit two checks or more. Only
    /// checks that failed or warned count: a reset a check expects is not an outage.
    pub fn of(checks: &[CheckResult]) -> Option<TransportOutage> {
        let mut all: Vec<(&CheckResult, &crate::delivery::exchange::Exchange)> = checks
            .iter()
            .flat_map(|check| check.exchanges.iter().map(move |e| (check, e)))
            .collect();
        all.sort_by_key(|(_, e)| e.started_at_ms);
        let failed = |check: &CheckResult, exchange: &crate::delivery::exchange::Exchange| {
            matches!(check.status, Status::Fail | Status::Warn)
                && exchange.response.is_none()
                && exchange.error.as_ref().is_some_and(|e| {
                    matches!(
                        e.class,
                        ErrorClass::Timeout | ErrorClass::Reset | ErrorClass::Connect
                    )
                })
        };
        let first = all.iter().position(|(c, e)| failed(c, e))?;
        let mut affected: Vec<String> = Vec::new();
        let mut classes = std::collections::BTreeMap::new();
        let mut failed_requests = 0;
        for (check, exchange) in &all[first..] {
            if !failed(check, exchange) {
                continue;
            }
            failed_requests += 1;
            if let Some(error) = &exchange.error {
                *classes.entry(error.class.as_str().to_owned()).or_insert(0) += 1;
            }
            if !affected.contains(&check.info.id) {
                affected.push(check.info.id.clone());
            }
        }
        if affected.len() < 2 {
            return None;
        }
        let order = |id: &String| checks.iter().position(|c| &c.info.id == id);
        affected.sort_by_key(order);
        let started = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(all[first].1.started_at_ms) * 1_000_000,
        )
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Some(TransportOutage {
            started_at: crate::event::envelope::format_timestamp(started),
            after_requests: first,
            failed_requests,
            classes,
            checks: affected,
        })
    }
}

impl RunReport {
    /// Whether warnings count as failures.
    pub fn strict_warnings(&self) -> bool {
        self.strict
    }
}

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let ms = |n| Duration::from_millis(n);
        let latency = Latency::of((1..=100).map(ms).collect()).unwrap();
        assert_eq!(
            (latency.p50_ms, latency.p95_ms, latency.max_ms),
            (50.0, 95.0, 100.0)
        );
        let one = Latency::of(vec![ms(7)]).unwrap();
        assert_eq!((one.p50_ms, one.p95_ms, one.max_ms), (7.0, 7.0, 7.0));
        assert!(Latency::of(vec![]).is_none());
    }

    fn exchange(at_ms: i64, error: Option<ErrorClass>) -> crate::delivery::exchange::Exchange {
        use crate::delivery::exchange::{Exchange, RequestRecord, ResponseRecord, TransportError};
        Exchange {
            request: RequestRecord {
                method: "POST".into(),
                url: "https://127.0.0.1:1/".into(),
                headers: vec![],
                body_len: 0,
                body_excerpt: String::new(),
                body: bytes::Bytes::new(),
            },
            response: error.is_none().then(|| ResponseRecord {
                status: 200,
                reason: "OK".into(),
                headers: vec![],
                body_excerpt: String::new(),
                body_bytes_read: 0,
                body_truncated: false,
                body: bytes::Bytes::new(),
            }),
            error: error.map(|class| TransportError {
                class,
                message: "no answer within 2s".into(),
                certificate_required: false,
            }),
            started_at_ms: 1_767_225_600_000 + at_ms,
            duration: Duration::ZERO,
            note: None,
            not_sent: false,
        }
    }

    fn check(
        id: &str,
        failed: bool,
        exchanges: Vec<crate::delivery::exchange::Exchange>,
    ) -> CheckResult {
        use crate::check::{CheckInfo, Level, Verdict};
        CheckResult::new(
            CheckInfo {
                id: id.into(),
                title: id.into(),
                level: Level::Required,
                why: String::new(),
                fix: String::new(),
                tags: vec![],
                needs: Default::default(),
                diagnosis: None,
            },
            if failed {
                Verdict::Failed("no answer".into())
            } else {
                Verdict::Passed("ok".into())
            },
            Duration::ZERO,
            exchanges,
        )
    }

    #[test]
    fn transport_failures_over_several_failed_checks_are_one_outage() {
        let checks = vec![
            check("a.ok", false, vec![exchange(0, None), exchange(1, None)]),
            // A reset a passing check expected is no outage.
            check(
                "b.expects-reset",
                false,
                vec![exchange(2, Some(ErrorClass::Reset))],
            ),
            check(
                "c.first",
                true,
                vec![exchange(3, None), exchange(4, Some(ErrorClass::Timeout))],
            ),
            // A 4xx answer or a protocol error is the endpoint's own behaviour.
            check(
                "d.protocol",
                true,
                vec![exchange(5, Some(ErrorClass::Protocol))],
            ),
            check(
                "e.second",
                true,
                vec![
                    exchange(6, Some(ErrorClass::Reset)),
                    exchange(7, Some(ErrorClass::Timeout)),
                ],
            ),
        ];
        let outage = TransportOutage::of(&checks).expect("an outage");
        assert_eq!(outage.checks, vec!["c.first", "e.second"]);
        assert_eq!(outage.after_requests, 4);
        assert_eq!(outage.failed_requests, 3);
        assert_eq!(outage.started_at, "2026-01-01T00:00:00.004Z");
        assert_eq!(outage.classes.get("timeout"), Some(&2));
        assert_eq!(outage.classes.get("reset"), Some(&1));

        // One failed check is that check's own finding, not an outage.
        assert!(TransportOutage::of(&checks[..4]).is_none());
    }

    #[test]
    fn an_outage_lists_its_checks_in_run_order_not_time_order() {
        // The later check's failure came first in time.
        let checks = vec![
            check("a.ok", false, vec![exchange(0, None)]),
            check(
                "b.first",
                true,
                vec![exchange(9, Some(ErrorClass::Timeout))],
            ),
            check("c.second", true, vec![exchange(5, Some(ErrorClass::Reset))]),
        ];
        let outage = TransportOutage::of(&checks).expect("an outage");
        assert_eq!(outage.checks, vec!["b.first", "c.second"]);
        assert_eq!(outage.started_at, "2026-01-01T00:00:00.005Z");
    }

    #[test]
    fn each_status_is_counted_once_in_its_own_column() {
        let mut checks = fixture::one_of_each();
        // Distinct counts per status: a count added to another column, or multiplied
        // instead of added, shows.
        checks.extend(fixture::one_of_each().into_iter().skip(1));
        checks.extend(fixture::one_of_each().into_iter().skip(2));
        checks.extend(fixture::one_of_each().into_iter().skip(3));
        checks.extend(fixture::one_of_each().into_iter().skip(4));
        checks.extend(fixture::one_of_each().into_iter().skip(5));
        let summary = Summary::of(&checks, false);
        assert_eq!(
            (
                summary.passed,
                summary.failed,
                summary.warned,
                summary.skipped,
                summary.errors,
                summary.interrupted
            ),
            (1, 2, 3, 4, 5, 6)
        );
        assert!(!summary.conformant);
        assert_eq!(
            summary.counts(),
            "1 passed, 2 failed, 3 warned, 4 skipped, 6 interrupted, 5 errors"
        );
    }

    /// The summary of one check of each of these statuses (by their index in
    /// `fixture::one_of_each`: 0 pass, 1 fail, 2 warn, 3 skip, 4 error, 5 interrupted).
    fn summary_of(statuses: &[usize], strict: bool) -> Summary {
        let all = fixture::one_of_each();
        let checks: Vec<CheckResult> = statuses.iter().map(|&i| all[i].clone()).collect();
        Summary::of(&checks, strict)
    }

    #[test]
    fn conformant_means_no_failure_error_or_interruption_and_with_strict_no_warning() {
        assert!(summary_of(&[0], false).conformant);
        assert!(
            summary_of(&[0, 3], false).conformant,
            "a skip is not a failure"
        );
        assert!(summary_of(&[0, 2], false).conformant);
        assert!(!summary_of(&[0, 2], true).conformant);
        assert!(summary_of(&[0], true).conformant);
        assert!(!summary_of(&[0, 1], false).conformant);
        assert!(!summary_of(&[0, 4], false).conformant);
        assert!(!summary_of(&[0, 5], false).conformant);
    }

    #[test]
    fn counts_name_interruptions_and_errors_only_when_there_are_some() {
        assert_eq!(
            summary_of(&[0], false).counts(),
            "1 passed, 0 failed, 0 warned, 0 skipped"
        );
        assert_eq!(
            summary_of(&[0, 4], false).counts(),
            "1 passed, 0 failed, 0 warned, 0 skipped, 1 error"
        );
        assert_eq!(
            summary_of(&[4, 4, 5], false).counts(),
            "0 passed, 0 failed, 0 warned, 0 skipped, 1 interrupted, 2 errors"
        );
    }

    #[test]
    fn the_verdict_puts_interruption_before_reach_before_errors_before_findings() {
        assert_eq!(summary_of(&[0], false).verdict(), RunVerdict::Conformant);
        assert_eq!(summary_of(&[1], false).verdict(), RunVerdict::NotConformant);
        assert_eq!(summary_of(&[1, 4], false).verdict(), RunVerdict::Error);
        let mut unreachable = summary_of(&[1, 4], false);
        unreachable.unreachable = true;
        assert_eq!(unreachable.verdict(), RunVerdict::Unreachable);
        let mut cut = summary_of(&[1, 4, 5], false);
        cut.unreachable = true;
        assert_eq!(cut.verdict(), RunVerdict::Interrupted);
    }

    #[test]
    fn the_report_says_whether_warnings_fail_and_which_tool_wrote_it() {
        assert!(fixture::report(vec![], true).strict_warnings());
        assert!(!fixture::report(vec![], false).strict_warnings());
        let tool = ToolInfo::current();
        assert_eq!(
            (tool.name, tool.version),
            ("spotcheck", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn milliseconds_keep_one_decimal() {
        assert_eq!(round_ms(Duration::from_micros(1_234_567)), 1234.6);
        assert_eq!(round_ms(Duration::from_micros(50)), 0.1);
        let latency = Latency::of(vec![
            Duration::from_micros(2_340),
            Duration::from_micros(10),
        ])
        .unwrap();
        assert_eq!(
            (latency.samples, latency.p50_ms, latency.max_ms),
            (2, 0.0, 2.3)
        );
    }
}
