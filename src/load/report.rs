//! The load report: a JSON document (`--report json=PATH`) and the terminal summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::histogram::EncodedHistogram;
use super::outcome::{LoadOutcome, RateCounts};
use super::rounding::round1;
use crate::receiver::ReceiverStats;

/// One run in a merged report's `merged_from` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Where the report was read from, as given.
    pub source: String,
    /// The run's seed (`null` when the part was itself a merge).
    pub seed: Option<u64>,
    /// The run's completed requests.
    pub requests: u64,
    /// The run's wall time.
    pub duration_ms: u64,
    /// The run's throughput.
    pub throughput_rps: f64,
    /// The run's own p99, to spot an outlier runner.
    pub p99_ms: f64,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest request.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// Open-model figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateReport {
    /// Target arrival rate (requests per second).
    pub target_rps: f64,
    /// Requests the ticker scheduled.
    pub scheduled: u64,
    /// Requests sent more than `late_after_ms` after their scheduled time (still sent and counted).
    pub late: u64,
    /// The lateness threshold.
    pub late_after_ms: u64,
    /// Scheduled requests never sent (backlog full, or the run ended first).
    pub dropped: u64,
    /// Service time: from when each request was actually sent to its answer (what
    /// `latency_ms` was before it counted from the schedule). Absent in merged reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_time_ms: Option<Latency>,
    /// How late the `late` requests started, past their scheduled time (2 significant
    /// digits). Absent when none was late, and in merged reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_by_ms: Option<Latency>,
}

/// What `spotcheck load` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// `spotcheck <version>`.
    pub tool: String,
    /// The endpoint loaded.
    pub endpoint: String,
    /// `closed` (fixed concurrency) or `open` (fixed arrival rate); a merge of both is `mixed`.
    pub model: String,
    /// Connections (workers); for a merged report, the sum over its parts.
    pub concurrency: usize,
    /// Seed of ids and body choice; `null` in a merged report (each part lists its own).
    pub seed: Option<u64>,
    /// The event mix, `EVENT/OPERATION=weight`.
    pub events: Vec<String>,
    /// Mean body size in bytes.
    pub mean_body_bytes: usize,
    /// Requests completed (answered or failed); the sum of `status_counts` and `errors`.
    pub requests: u64,
    /// Requests answered `200 OK`.
    pub ok: u64,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// `requests` per second of `duration_ms`.
    pub throughput_rps: f64,
    /// Count per HTTP status (`"0"` for a status outside 100–599).
    pub status_counts: BTreeMap<String, u64>,
    /// Count per error class (`connect`, `tls`, `timeout`, `reset`, `protocol`, `body`, …).
    pub errors: BTreeMap<String, u64>,
    /// Latency percentiles of all completed requests. Closed model: from when each
    /// request was sent. Open model: from when it was scheduled, so that waiting
    /// behind a stalled endpoint counts (the service time is in `rate`).
    pub latency_ms: Latency,
    /// Requests still in flight when the duration ended (not in `requests`).
    pub abandoned: u64,
    /// Open model only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateReport>,
    /// The in-process reference receiver's counters, when it was the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<ReceiverStats>,
    /// Peak resident memory of spotcheck (KiB), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_kib: Option<u64>,
    /// The latency histogram itself (µs, HdrHistogram V2 + DEFLATE, base64), so that
    /// `spotcheck load merge` can add runs with exact percentiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<EncodedHistogram>,
    /// The traffic profile (`uniform`, `schedule-change`, `mixed`), when one was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Requests sent again with an earlier request's webhook id and body
    /// (`--redeliver-ratio`), when a ratio was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redelivered: Option<u64>,
    /// The run over time (latency percentiles, throughput, status classes), kept
    /// when an HTML report was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<super::series::Timeline>,
    /// A merged report: the runs it adds up, in the order given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<Part>>,
    /// Client threads that shared the connections (`--threads`, or one per core, half
    /// of them for a loopback endpoint). Absent in merged reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_threads: Option<usize>,
    /// The run was stopped (Ctrl-C, SIGTERM, SIGHUP) before its duration or request
    /// count: the figures cover what was answered until then. A merged report is
    /// interrupted when one of its runs was. Absent when not interrupted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

/// How the run was set up, for the report.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The endpoint.
    pub endpoint: String,
    /// Connections.
    pub concurrency: usize,
    /// Open-model rate.
    pub rate: Option<f64>,
    /// Seed.
    pub seed: u64,
    /// Event mix.
    pub events: Vec<String>,
    /// Mean body size.
    pub mean_body_bytes: usize,
    /// The traffic profile, when one was chosen.
    pub profile: Option<String>,
    /// Client threads that shared the connections.
    pub threads: usize,
    /// Whether a redelivery ratio was given.
    pub redeliver: bool,
}

fn ms(micros: u64) -> f64 {
    (micros as f64 / 1000.0 * 1000.0).round() / 1000.0
}

impl Latency {
    /// The percentiles of a latency histogram in µs (all zero when it is empty).
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        Latency {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: ms(h.mean().round() as u64),
        }
    }
}

impl LoadReport {
    /// Builds the report from a run's outcome.
    pub fn new(info: &RunInfo, outcome: &LoadOutcome) -> LoadReport {
        let stats = &outcome.stats;
        let requests = stats.requests();
        let secs = outcome.elapsed.as_secs_f64();
        let latency_ms = Latency::of(&stats.latency);
        let rate = match (info.rate, outcome.rate) {
            (Some(target_rps), Some(RateCounts { scheduled, dropped })) => Some(RateReport {
                target_rps,
                scheduled,
                late: stats.late,
                late_after_ms: super::worker::LATE_AFTER.as_millis() as u64,
                dropped,
                service_time_ms: stats.service.as_ref().map(Latency::of),
                late_by_ms: stats
                    .late_by
                    .as_ref()
                    .filter(|h| !h.is_empty())
                    .map(Latency::of),
            }),
            _ => None,
        };
        LoadReport {
            tool: concat!("spotcheck ", env!("CARGO_PKG_VERSION")).to_owned(),
            endpoint: info.endpoint.clone(),
            model: if info.rate.is_some() {
                "open"
            } else {
                "closed"
            }
            .to_owned(),
            concurrency: info.concurrency,
            seed: Some(info.seed),
            events: info.events.clone(),
            mean_body_bytes: info.mean_body_bytes,
            requests,
            ok: stats.ok(),
            duration_ms: outcome.elapsed.as_millis() as u64,
            throughput_rps: if secs > 0.0 {
                round1(requests as f64 / secs)
            } else {
                0.0
            },
            status_counts: stats
                .status_counts()
                .into_iter()
                .map(|(status, count)| (status.to_string(), count))
                .collect(),
            errors: stats
                .error_counts()
                .into_iter()
                .map(|(class, count)| (class.as_str().to_owned(), count))
                .collect(),
            latency_ms,
            abandoned: outcome.abandoned,
            rate,
            receiver: None,
            peak_rss_kib: None,
            histogram: Some(EncodedHistogram::encode(&stats.latency)),
            profile: info.profile.clone(),
            redelivered: info.redeliver.then_some(stats.redelivered),
            timeline: None,
            merged_from: None,
            client_threads: Some(info.threads),
            interrupted: outcome.interrupted,
        }
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }
}
