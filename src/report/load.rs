//! The terminal form of load mode's reports: a run's summary (`spotcheck load`, `load
//! merge`, and the summary block of the HTML report) and the `--find-max` search's step
//! lines and summary. `load/` measures and judges; this words.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::load::LoadReport;
use crate::load::ramp::{RampReport, Step};

/// The terminal summary of a load run (or of merged runs).
pub fn render_text(report: &LoadReport) -> String {
    let mut out = String::new();
    if report.interrupted {
        out.push_str(
            "interrupted   stopped before the end: the figures cover the requests answered until then\n",
        );
    }
    let secs = report.duration_ms as f64 / 1000.0;
    let _ = writeln!(
        out,
        "requests      {} in {secs:.2} s, {:.1} req/s ({} answered 200 OK)",
        report.requests, report.throughput_rps, report.ok
    );
    let statuses = if report.status_counts.is_empty() {
        "none".to_owned()
    } else {
        join(&report.status_counts)
    };
    let _ = writeln!(out, "status        {statuses}");
    let errors = if report.errors.is_empty() {
        "none".to_owned()
    } else {
        join(&report.errors)
    };
    let _ = writeln!(out, "errors        {errors}");
    let l = &report.latency_ms;
    let _ = writeln!(
        out,
        "latency (ms)  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}{}",
        l.p50,
        l.p90,
        l.p99,
        l.p999,
        l.max,
        if report.rate.is_some() {
            "  (from each request's scheduled send time)"
        } else {
            ""
        }
    );
    if let Some(rate) = &report.rate {
        if let Some(s) = &rate.service_time_ms {
            let _ = writeln!(
                out,
                "service (ms)  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (from when each request was sent)",
                s.p50, s.p90, s.p99, s.p999, s.max
            );
        }
        let _ = writeln!(
            out,
            "rate          target {} req/s: {} scheduled, {} late (sent > {} ms after schedule), {} dropped (never sent)",
            rate.target_rps, rate.scheduled, rate.late, rate.late_after_ms, rate.dropped
        );
        if let Some(by) = &rate.late_by_ms {
            let _ = writeln!(
                out,
                "late by (ms)  p50 {}  p90 {}  p99 {}  max {}  (how long past its scheduled time each late request was sent)",
                by.p50, by.p90, by.p99, by.max
            );
        }
    }
    if let Some(profile) = &report.profile {
        let _ = writeln!(out, "profile       {profile}");
    }
    if let Some(redelivered) = report.redelivered {
        let _ = writeln!(
            out,
            "redelivered   {redelivered} requests reused an earlier webhook id and body"
        );
    }
    if report.abandoned > 0 {
        let _ = writeln!(
            out,
            "abandoned     {} in flight when the {} (not counted)",
            report.abandoned,
            if report.interrupted {
                "run was stopped"
            } else {
                "duration ended"
            }
        );
    }
    if let Some(r) = &report.receiver {
        let _ = writeln!(
            out,
            "receiver      {} received, {} verified and accepted, {} refused, {} processed",
            r.received, r.accepted, r.rejected, r.processed
        );
    }
    if let Some(parts) = &report.merged_from {
        let _ = writeln!(
            out,
            "merged        {} runs, taken as simultaneous (duration: the longest run; throughput: all requests over it)",
            parts.len()
        );
        for part in parts {
            let seed = part.seed.map_or_else(|| "-".to_owned(), |s| s.to_string());
            let _ = writeln!(
                out,
                "  {}  {} requests in {:.2} s, {:.1} req/s, p99 {} ms, seed {seed}",
                part.source,
                part.requests,
                part.duration_ms as f64 / 1000.0,
                part.throughput_rps,
                part.p99_ms
            );
        }
    }
    if let Some(kib) = report.peak_rss_kib {
        let _ = writeln!(out, "peak RSS      {:.1} MiB", kib as f64 / 1024.0);
    }
    out
}

/// The line printed for one `--find-max` step as it ends.
pub fn step_line(step: &Step) -> String {
    let verdict = match &step.broke_because {
        None => "held".to_owned(),
        Some(why) => format!("broke: {why}"),
    };
    let service = step
        .service_time_ms
        .map_or_else(String::new, |s| format!(", service p99 {} ms", s.p99));
    format!(
        "step  {:>9.1} req/s: {} requests, {:.1} req/s done, p99 {} ms{service}: {verdict}",
        step.rate_rps, step.requests, step.throughput_rps, step.latency_ms.p99
    )
}

/// The terminal summary of a `--find-max` search.
pub fn render_ramp(report: &RampReport) -> String {
    let mut out = String::new();
    let budget = report.p99_budget_ms;
    if report.interrupted {
        out.push_str(&format!(
            "interrupted   the search was stopped after {} finished step(s); the step cut short is not judged\n",
            report.steps.len()
        ));
    }
    match report.sustainable_rps {
        Some(held) if report.reached_max => out.push_str(&format!(
            "sustainable   at least {held} req/s (the --max-rate; every step held: all 200 OK, p99 within {budget} ms)\n"
        )),
        Some(held) => out.push_str(&format!(
            "sustainable   {held} req/s (all 200 OK, p99 within {budget} ms, at most {} connections)\n",
            report.concurrency
        )),
        None if report.interrupted && report.broke_at.is_none() => {
            out.push_str("sustainable   not known: no step finished\n");
        }
        None => out.push_str("sustainable   none: even the lowest rate tried broke\n"),
    }
    if let Some(broke) = &report.broke_at {
        out.push_str(&format!(
            "broke at      {} req/s: {}\n",
            broke.rate_rps,
            broke.broke_because.as_deref().unwrap_or("")
        ));
    }
    if let (Some(peak), Some(sustained)) = (report.expect_peak_rps, report.peak_sustained) {
        let headroom = report
            .headroom
            .map_or_else(String::new, |h| format!(" ({h}× the expected peak)"));
        if sustained {
            out.push_str(&format!(
                "verdict       headroom: sustains the expected peak of {peak} req/s{headroom}\n"
            ));
        } else {
            out.push_str(&format!(
                "verdict       no headroom: does not sustain the expected peak of {peak} req/s{headroom}\n"
            ));
        }
    }
    out
}

fn join(map: &BTreeMap<String, u64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
