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
    /// Whether the endpoint conforms: no failure (and, with `--strict`, no warning), not interrupted.
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
            }
        }
        summary.conformant =
            summary.failed == 0 && summary.interrupted == 0 && (!strict || summary.warned == 0);
        summary
    }

    /// `N passed, N failed, N warned, N skipped` (and `, N interrupted` when any were),
    /// as every format writes it.
    pub fn counts(&self) -> String {
        let mut text = format!(
            "{} passed, {} failed, {} warned, {} skipped",
            self.passed, self.failed, self.warned, self.skipped
        );
        if self.interrupted > 0 {
            text.push_str(&format!(", {} interrupted", self.interrupted));
        }
        text
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
    /// The flags a replay of one check repeats (rendered per check as `repro`).
    #[serde(skip)]
    pub replay: repro::Replay,
}

impl RunReport {
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
        if self.summary.interrupted > 0 {
            crate::exit::INTERRUPTED
        } else if self.summary.conformant {
            crate::exit::CONFORMANT
        } else {
            crate::exit::NOT_CONFORMANT
        }
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
