//! `spotcheck load merge`: several load reports (one per CI runner of a matrix job,
//! all loading the same endpoint at the same time) added into one.
//!
//! Counts add up; the latency histograms are added, so the merged percentiles are
//! exact (to the histograms' 3 significant digits), not averages of percentiles. The
//! runs are taken to have run at the same time: the merged `duration_ms` is the
//! longest run and `throughput_rps` is `requests` over it, as in a single report.
//! That never overstates the rate: runners that started apart overlapped less.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::histogram::{EncodedHistogram, latency_histogram};
use super::report::{Latency, LoadReport, Part, RateReport};
use super::rounding::round1;
use crate::receiver::ReceiverStats;

/// Why reports cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError {
    /// The report at fault, when one is.
    pub source: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{source}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for MergeError {}

fn error(source: &str, message: impl Into<String>) -> MergeError {
    MergeError {
        source: Some(source.to_owned()),
        message: message.into(),
    }
}

/// Parses one load report; a JSON mistake is reported as `line:column`.
pub fn parse_report(source: &str, text: &str) -> Result<LoadReport, MergeError> {
    serde_json::from_str::<LoadReport>(text).map_err(|err| {
        let at = format!("{source}:{}:{}", err.line(), err.column());
        MergeError {
            source: Some(at),
            message: format!("not a spotcheck load report ({err})"),
        }
    })
}

/// Largest report file read (a load report with its histogram is a few KiB).
pub const MAX_REPORT_BYTES: u64 = 16 << 20;

/// Reads and parses one load report file.
pub fn read_report(path: &Path) -> Result<LoadReport, MergeError> {
    use std::io::Read as _;
    let source = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|err| error(&source, format!("{err}")))?;
    let mut text = String::new();
    file.take(MAX_REPORT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|err| error(&source, format!("cannot read it as text: {err}")))?;
    if text.len() as u64 > MAX_REPORT_BYTES {
        return Err(error(
            &source,
            format!(
                "is larger than {} MiB; a load report is a few KiB",
                MAX_REPORT_BYTES >> 20
            ),
        ));
    }
    parse_report(&source, &text)
}

/// Adds reports, given with where each came from, into one.
pub fn merge(reports: &[(String, LoadReport)]) -> Result<LoadReport, MergeError> {
    let Some((first_source, first)) = reports.first() else {
        return Err(MergeError {
            source: None,
            message: "no report to merge".to_owned(),
        });
    };
    let mut histogram = latency_histogram();
    let mut seen = HashSet::new();
    let mut merged = LoadReport {
        tool: concat!("spotcheck ", env!("CARGO_PKG_VERSION")).to_owned(),
        endpoint: first.endpoint.clone(),
        model: first.model.clone(),
        concurrency: 0,
        seed: None,
        events: Vec::new(),
        mean_body_bytes: 0,
        requests: 0,
        ok: 0,
        duration_ms: 0,
        throughput_rps: 0.0,
        status_counts: BTreeMap::new(),
        errors: BTreeMap::new(),
        latency_ms: Latency::of(&histogram),
        abandoned: 0,
        rate: None,
        receiver: None,
        peak_rss_kib: None,
        histogram: None,
        profile: first.profile.clone(),
        redelivered: None,
        timeline: None,
        merged_from: Some(Vec::new()),
        client_threads: None,
        interrupted: false,
    };
    let mut body_bytes: u128 = 0;
    for (source, report) in reports {
        if report.endpoint != first.endpoint {
            return Err(error(
                source,
                format!(
                    "loaded {}, but {first_source} loaded {}; merge runs against one endpoint",
                    report.endpoint, first.endpoint
                ),
            ));
        }
        let encoded = report.histogram.as_ref().ok_or_else(|| {
            error(
                source,
                "has no `histogram` (written by an older spotcheck?); re-run the load with this version",
            )
        })?;
        if !seen.insert((report.seed, report.requests, &encoded.data)) {
            return Err(error(
                source,
                "is the same run as an earlier report (same seed, requests and histogram); each run may be merged once",
            ));
        }
        let part = encoded.decode().map_err(|message| error(source, message))?;
        if part.len() != report.requests {
            return Err(error(
                source,
                format!(
                    "its histogram holds {} requests but the report says {}; the file was edited or truncated",
                    part.len(),
                    report.requests
                ),
            ));
        }
        // Same bounds on both sides (decode normalizes them), so this cannot fail.
        let _ = histogram.add(&part);

        if merged.model != report.model {
            merged.model = "mixed".to_owned();
        }
        merged.concurrency += report.concurrency;
        for event in &report.events {
            if !merged.events.contains(event) {
                merged.events.push(event.clone());
            }
        }
        body_bytes += report.mean_body_bytes as u128 * u128::from(report.requests);
        merged.requests += report.requests;
        merged.ok += report.ok;
        merged.duration_ms = merged.duration_ms.max(report.duration_ms);
        add_counts(&mut merged.status_counts, &report.status_counts);
        add_counts(&mut merged.errors, &report.errors);
        merged.abandoned += report.abandoned;
        merged.interrupted |= report.interrupted;
        if let Some(rate) = &report.rate {
            merged.rate = Some(add_rate(merged.rate, rate));
        }
        if let Some(count) = report.redelivered {
            merged.redelivered = Some(merged.redelivered.unwrap_or(0) + count);
        }
        merged.profile = if report.profile == first.profile && merged.profile == first.profile {
            first.profile.clone()
        } else {
            Some("mixed profiles".to_owned())
        };
        if let Some(receiver) = &report.receiver {
            merged.receiver = Some(add_receiver(merged.receiver, receiver));
        }
        merged.peak_rss_kib = merged.peak_rss_kib.max(report.peak_rss_kib);
        if let Some(parts) = merged.merged_from.as_mut() {
            parts.push(Part {
                source: source.clone(),
                seed: report.seed,
                requests: report.requests,
                duration_ms: report.duration_ms,
                throughput_rps: report.throughput_rps,
                p99_ms: report.latency_ms.p99,
            });
        }
    }
    merged.mean_body_bytes = match merged.requests {
        0 => first.mean_body_bytes,
        n => (body_bytes / u128::from(n)) as usize,
    };
    merged.throughput_rps = match merged.duration_ms {
        0 => 0.0,
        ms => round1(merged.requests as f64 * 1000.0 / ms as f64),
    };
    merged.latency_ms = Latency::of(&histogram);
    merged.histogram = Some(EncodedHistogram::encode(&histogram));
    Ok(merged)
}

/// Runs that share a seed sent the same webhook ids, so an endpoint that
/// deduplicates saw fewer distinct events than requests: worth a note.
pub fn shared_seeds(reports: &[(String, LoadReport)]) -> Vec<u64> {
    let mut seen = HashSet::new();
    let mut shared = Vec::new();
    for seed in reports.iter().filter_map(|(_, r)| r.seed) {
        if !seen.insert(seed) && !shared.contains(&seed) {
            shared.push(seed);
        }
    }
    shared
}

fn add_counts(total: &mut BTreeMap<String, u64>, part: &BTreeMap<String, u64>) {
    for (key, count) in part {
        *total.entry(key.clone()).or_default() += count;
    }
}

fn add_rate(total: Option<RateReport>, part: &RateReport) -> RateReport {
    match total {
        None => *part,
        Some(total) => RateReport {
            target_rps: total.target_rps + part.target_rps,
            scheduled: total.scheduled + part.scheduled,
            late: total.late + part.late,
            late_after_ms: total.late_after_ms.max(part.late_after_ms),
            dropped: total.dropped + part.dropped,
            // Percentiles do not add; the reports carry no histograms of these.
            service_time_ms: None,
            late_by_ms: None,
        },
    }
}

fn add_receiver(total: Option<ReceiverStats>, part: &ReceiverStats) -> ReceiverStats {
    let total = total.unwrap_or_default();
    ReceiverStats {
        received: total.received + part.received,
        accepted: total.accepted + part.accepted,
        rejected: total.rejected + part.rejected,
        duplicates: total.duplicates + part.duplicates,
        processed: total.processed + part.processed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;

    fn report(seed: u64, latencies_us: &[u64], statuses: &[(&str, u64)]) -> LoadReport {
        let mut histogram: Histogram<u64> = latency_histogram();
        for value in latencies_us {
            histogram.record(*value).unwrap();
        }
        let requests = latencies_us.len() as u64;
        LoadReport {
            tool: "spotcheck test".into(),
            endpoint: "https://partner.example/webhooks".into(),
            model: "closed".into(),
            concurrency: 8,
            seed: Some(seed),
            events: vec!["PNR_V3/BOOKING_TICKETED=1".into()],
            mean_body_bytes: 1000,
            requests,
            ok: statuses
                .iter()
                .filter(|(s, _)| *s == "200")
                .map(|(_, n)| n)
                .sum(),
            duration_ms: 1000 + seed,
            throughput_rps: requests as f64,
            status_counts: statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
            errors: BTreeMap::new(),
            latency_ms: Latency::of(&histogram),
            abandoned: 0,
            rate: None,
            receiver: None,
            peak_rss_kib: None,
            histogram: Some(EncodedHistogram::encode(&histogram)),
            profile: None,
            redelivered: None,
            timeline: None,
            merged_from: None,
            client_threads: Some(1),
            interrupted: false,
        }
    }

    #[test]
    fn a_merge_is_interrupted_when_one_of_its_runs_was() {
        let whole = || report(1, &[1_000; 10], &[("200", 10)]);
        let mut cut = report(2, &[1_000; 5], &[("200", 5)]);
        cut.interrupted = true;
        let merged = merge(&[("a.json".into(), whole()), ("b.json".into(), cut)]).unwrap();
        assert!(merged.interrupted);
        assert!(merged.to_json().contains(r#""interrupted": true"#));
        let cut = || {
            let mut cut = report(4, &[1_000; 5], &[("200", 5)]);
            cut.interrupted = true;
            cut
        };
        let both = merge(&[
            ("a.json".into(), cut()),
            ("b.json".into(), {
                let mut other = cut();
                other.seed = Some(5);
                other.duration_ms += 1;
                other
            }),
        ])
        .unwrap();
        assert!(
            both.interrupted,
            "two interrupted runs make an interrupted merge"
        );
        let merged = merge(&[
            ("a.json".into(), whole()),
            ("b.json".into(), report(3, &[1_000; 5], &[("200", 5)])),
        ])
        .unwrap();
        assert!(!merged.interrupted);
        // Absent, not `false`, from a report of runs that all ended by themselves.
        assert!(!merged.to_json().contains("interrupted"));
    }

    #[test]
    fn percentiles_come_from_the_added_histograms_not_from_averaging() {
        // Runner A: 900 fast requests; runner B: 100 slow ones. The true p99 of the
        // 1000 requests is slow; averaging the two p99s would say ~5 ms.
        let a = report(1, &[1_000; 900], &[("200", 900)]);
        let b = report(2, &[2_000; 100], &[("200", 90), ("503", 10)]);
        let merged = merge(&[("a.json".into(), a), ("b.json".into(), b)]).unwrap();
        assert_eq!(merged.requests, 1000);
        assert_eq!(merged.ok, 990);
        assert_eq!(merged.status_counts["200"], 990);
        assert_eq!(merged.status_counts["503"], 10);
        assert_eq!(merged.latency_ms.p50, 1.0);
        assert_eq!(merged.latency_ms.p90, 1.0);
        assert_eq!(merged.latency_ms.p99, 2.0);
        assert_eq!(merged.concurrency, 16);
        assert_eq!(merged.duration_ms, 1002);
        // 1000 requests over the longest run, 1.002 s.
        assert_eq!(merged.throughput_rps, 998.0);
        assert_eq!(merged.seed, None);
        let parts = merged.merged_from.as_ref().unwrap();
        assert_eq!(parts[1].source, "b.json");
        assert_eq!(parts[1].p99_ms, 2.0);
    }

    #[test]
    fn a_merge_of_merges_equals_one_merge() {
        let reports: Vec<_> = (0..4u64)
            .map(|i| {
                let values: Vec<u64> = (1..=250).map(|v| v * (i + 1) * 37).collect();
                (format!("{i}.json"), report(i, &values, &[("200", 250)]))
            })
            .collect();
        let all = merge(&reports).unwrap();
        let left = merge(&reports[..2]).unwrap();
        let right = merge(&reports[2..]).unwrap();
        let nested = merge(&[("l".into(), left), ("r".into(), right)]).unwrap();
        assert_eq!(nested.latency_ms, all.latency_ms);
        assert_eq!(nested.requests, all.requests);
        assert_eq!(nested.histogram, all.histogram);
    }

    #[test]
    fn the_same_run_twice_and_other_endpoints_are_refused() {
        let a = report(1, &[1_000; 10], &[("200", 10)]);
        let twice = merge(&[
            ("a.json".into(), a.clone()),
            ("copy.json".into(), a.clone()),
        ]);
        assert!(
            twice
                .unwrap_err()
                .to_string()
                .starts_with("copy.json: is the same run")
        );
        let mut other = report(2, &[1_000; 10], &[("200", 10)]);
        other.endpoint = "https://elsewhere.example/".into();
        let err = merge(&[("a.json".into(), a), ("b.json".into(), other)]).unwrap_err();
        assert!(
            err.to_string().contains("merge runs against one endpoint"),
            "{err}"
        );
    }

    #[test]
    fn an_edited_count_or_a_missing_histogram_is_refused() {
        let mut edited = report(1, &[1_000; 10], &[("200", 10)]);
        edited.requests = 11;
        let err = merge(&[("a.json".into(), edited)]).unwrap_err();
        assert!(
            err.to_string()
                .contains("holds 10 requests but the report says 11")
        );
        let mut old = report(1, &[1_000; 10], &[("200", 10)]);
        old.histogram = None;
        let err = merge(&[("old.json".into(), old)]).unwrap_err();
        assert!(err.to_string().contains("has no `histogram`"));
    }

    #[test]
    fn json_mistakes_say_where() {
        let err = parse_report("a.json", "{\n  \"tool\": 3\n}").unwrap_err();
        assert_eq!(err.source.as_deref(), Some("a.json:2:11"));
        assert!(err.message.contains("not a spotcheck load report"));
    }

    #[test]
    fn a_huge_file_is_refused_before_it_is_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_REPORT_BYTES + 10).unwrap();
        let err = read_report(&path).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("is larger than 16 MiB; a load report is a few KiB"),
            "{err}"
        );
    }

    #[test]
    fn shared_seeds_are_found() {
        let reports = vec![
            ("a".to_owned(), report(7, &[1], &[("200", 1)])),
            ("b".to_owned(), report(8, &[2], &[("200", 1)])),
            ("c".to_owned(), report(7, &[3], &[("200", 1)])),
        ];
        assert_eq!(shared_seeds(&reports), vec![7]);
    }
}
