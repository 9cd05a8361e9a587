//! Reports: the run's findings as data, and the formats that render them.
//!
//! Reports know nothing of how an outcome was produced: they read a [`RunReport`].

pub mod curl;
pub mod diagnosis;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod progress;
pub mod repro;
pub mod tap;
pub mod terminal;
pub mod write;

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
    /// error, not interrupted.
    pub conformant: bool,
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

    /// The one-line verdict every format leads with: `INTERRUPTED`, `ERROR` (a check
    /// could not run), `conformant` or `NOT conformant`.
    pub fn verdict(&self) -> RunVerdict {
        if self.interrupted > 0 {
            RunVerdict::Interrupted
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
    /// A check could not run because of an error in its scenario: exit code 2.
    Error,
    /// The run was stopped before every check finished: exit code 130.
    Interrupted,
}

impl RunVerdict {
    /// The exit code of `spotcheck run` for this verdict.
    pub fn exit_code(self) -> u8 {
        match self {
            RunVerdict::Conformant => crate::exit::CONFORMANT,
            RunVerdict::NotConformant => crate::exit::NOT_CONFORMANT,
            RunVerdict::Error => crate::exit::SETUP,
            RunVerdict::Interrupted => crate::exit::INTERRUPTED,
        }
    }
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
    /// Whether warnings fail the run (`--strict`).
    pub strict: bool,
    /// Counts and verdict.
    pub summary: Summary,
    /// Every check, in run order.
    pub checks: Vec<CheckResult>,
    /// TLS probe findings, when the probe ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<serde_json::Value>,
    /// Answer times over every answered delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// What the delivery client's connections did (opened, reused, resent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections: Option<ConnectionCounts>,
    /// The endpoint stopped answering across several checks, said once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_outage: Option<TransportOutage>,
    /// The flags a replay of one check repeats (rendered per check as `repro`).
    #[serde(skip)]
    pub replay: repro::Replay,
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

    /// One paragraph for the top of every human-readable report.
    pub fn summary(&self) -> String {
        let classes: Vec<String> = self
            .classes
            .iter()
            .map(|(class, n)| format!("{class} \u{d7}{n}"))
            .collect();
        format!(
            "The endpoint stopped answering: {} requests failed in transport ({}) from {}, \
             after {} requests, hitting {} checks: {}. One cause is likely behind them all \
             (worker or thread pool exhausted, a proxy, keep-alive settings); fix it before \
             reading those checks' failures.",
            self.failed_requests,
            classes.join(", "),
            self.started_at,
            self.after_requests,
            self.checks.len(),
            self.checks.join(", ")
        )
    }
}

/// The recommended-practice note on kept-alive connections the endpoint closed right
/// after an answer without `Connection: close` (which then made spotcheck resend).
pub fn connection_note(counts: &ConnectionCounts) -> Option<String> {
    if counts.closed_without_notice == 0 && counts.resent == 0 {
        return None;
    }
    let after: Vec<String> = counts
        .closed_without_notice_after
        .iter()
        .map(u16::to_string)
        .collect();
    let after = if after.is_empty() {
        String::new()
    } else {
        format!(" after answering {}", after.join(", "))
    };
    Some(format!(
        "The endpoint closed kept-alive connections{after} without `Connection: close` \
         ({} seen, {} requests resent once on a fresh connection; no check is failed for \
         it). Recommended: send `Connection: close` on an answer after which the server \
         closes the connection (RFC 9112 \u{a7}9.6), so senders do not send on a closed \
         connection.",
        counts.closed_without_notice, counts.resent
    ))
}

impl RunReport {
    /// The notes every human-readable report shows at its top: a transport outage
    /// and the connection-close practice, when there are any.
    pub fn top_notes(&self) -> Vec<String> {
        self.transport_outage
            .iter()
            .map(TransportOutage::summary)
            .chain(self.connections.as_ref().and_then(connection_note))
            .collect()
    }

    /// The command that replays `check` with the same seed, for a failed or warned
    /// check; `None` otherwise.
    pub fn repro(&self, check: &CheckResult) -> Option<String> {
        repro::for_check(&self.replay, self.seed, check)
    }

    /// Whether warnings count as failures.
    pub fn strict_warnings(&self) -> bool {
        self.strict
    }

    /// The process exit code this report implies.
    pub fn exit_code(&self) -> u8 {
        self.summary.verdict().exit_code()
    }
}

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
            }),
            started_at_ms: 1_767_225_600_000 + at_ms,
            duration: Duration::ZERO,
            note: None,
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
        let summary = outage.summary();
        assert!(
            summary.contains("after 4 requests, hitting 2 checks: c.first, e.second"),
            "{summary}"
        );

        // One failed check is that check's own finding, not an outage.
        assert!(TransportOutage::of(&checks[..4]).is_none());
    }

    #[test]
    fn tap_and_html_targets_parse() {
        assert_eq!(
            ReportTarget::parse("tap=-").unwrap().format,
            ReportFormat::Tap
        );
        assert_eq!(
            ReportTarget::parse("HTML=-").unwrap().format,
            ReportFormat::Html
        );
        let err = ReportTarget::parse("pdf=-").unwrap_err();
        assert!(
            err.to_string()
                .contains("expected json, junit, markdown, tap or html"),
            "{err}"
        );
    }
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The JSON report.
    Json,
    /// JUnit XML for CI test tabs.
    Junit,
    /// The Markdown sign-off report.
    Markdown,
    /// TAP version 14, a test point per check.
    Tap,
    /// The sign-off report as one self-contained HTML file.
    Html,
}

/// One `--report FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    /// The format.
    pub format: ReportFormat,
    /// Where to write it (`-` for stdout).
    pub path: std::path::PathBuf,
}

impl ReportTarget {
    /// Parses `FORMAT=PATH` and checks that the folder exists.
    pub fn parse(text: &str) -> Result<ReportTarget, crate::SetupError> {
        let hint = "write --report FORMAT=PATH with FORMAT json, junit, markdown, tap or html (- for stdout)";
        let (format, path) = text.split_once('=').ok_or_else(|| {
            crate::SetupError::new(format!("--report `{text}` is not FORMAT=PATH")).with_hint(hint)
        })?;
        let format = match format.trim().to_ascii_lowercase().as_str() {
            "json" => ReportFormat::Json,
            "junit" => ReportFormat::Junit,
            "markdown" | "md" => ReportFormat::Markdown,
            "tap" => ReportFormat::Tap,
            "html" => ReportFormat::Html,
            other => {
                return Err(crate::SetupError::new(format!(
                    "--report format `{other}` is unknown; expected json, junit, markdown, tap or html"
                ))
                .with_hint(hint));
            }
        };
        if path.is_empty() {
            return Err(
                crate::SetupError::new(format!("--report `{text}` has no path")).with_hint(hint),
            );
        }
        let path = std::path::PathBuf::from(path);
        write::check_writable(&path)?;
        Ok(ReportTarget { format, path })
    }

    /// Renders and writes the report.
    pub fn write(&self, report: &RunReport) -> std::io::Result<()> {
        let bytes = match self.format {
            ReportFormat::Json => json::render(report),
            ReportFormat::Junit => junit::render(report),
            ReportFormat::Markdown => markdown::render(report).into_bytes(),
            ReportFormat::Tap => tap::render(report).into_bytes(),
            ReportFormat::Html => html::render(report).into_bytes(),
        };
        write::write_atomic(&self.path, &bytes)
    }
}
