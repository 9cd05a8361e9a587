//! Per-interval figures of a run, for the charts of the HTML load report: latency
//! percentiles, throughput and answers by status class over time.
//!
//! Memory is bounded whatever the run's length: there are at most [`MAX_POINTS`]
//! intervals, each a coarse histogram (2 significant digits, ≈21 KiB) and five
//! counts. Intervals start at one second; when a run outgrows them, neighbours are
//! added pairwise and the interval doubles (2 s, 4 s, …), so a ten-minute run has
//! 150 points of 4 s. Workers add their latest latencies when they publish (at most
//! every [`super::stats::PUBLISH_EVERY`] and at each second boundary), never per
//! request, and only when the series is wanted.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::delivery::exchange::ErrorClass;

/// Most intervals kept.
pub const MAX_POINTS: usize = 240;

/// The status classes counted over time, in chart order.
pub const CLASSES: [&str; 5] = ["200", "other 1xx-3xx", "4xx", "5xx", "no answer"];

/// Index in [`CLASSES`] of a request's outcome.
pub fn class_of(outcome: &Result<u16, ErrorClass>) -> usize {
    match outcome {
        Ok(200) => 0,
        Ok(400..=499) => 2,
        Ok(500..=599) => 3,
        Ok(_) => 1,
        Err(_) => 4,
    }
}

/// A coarse latency histogram (µs), enough for a chart and for the live p99.
pub fn coarse_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, super::histogram::MAX_TRACKED.as_micros() as u64, 2)
        .expect("static histogram bounds are valid")
}

#[derive(Debug)]
struct Bucket {
    latency: Histogram<u64>,
    classes: [u64; CLASSES.len()],
}

impl Bucket {
    fn new() -> Bucket {
        Bucket {
            latency: coarse_histogram(),
            classes: [0; CLASSES.len()],
        }
    }

    fn add(&mut self, latency: &Histogram<u64>, classes: &[u64; CLASSES.len()]) {
        // Same bounds on both sides, so this cannot fail.
        let _ = self.latency.add(latency);
        for (mine, theirs) in self.classes.iter_mut().zip(classes) {
            *mine += theirs;
        }
    }
}

/// The run's intervals so far.
#[derive(Debug)]
pub struct Series {
    /// Interval length in seconds (1, 2, 4, …).
    width: u64,
    buckets: Vec<Bucket>,
}

impl Default for Series {
    fn default() -> Self {
        Series {
            width: 1,
            buckets: Vec::new(),
        }
    }
}

impl Series {
    /// Adds what completed during second `second` of the run.
    pub fn add(&mut self, second: u64, latency: &Histogram<u64>, classes: &[u64; CLASSES.len()]) {
        let mut index = second / self.width;
        while index >= MAX_POINTS as u64 {
            self.halve();
            index = second / self.width;
        }
        let index = index as usize;
        while self.buckets.len() <= index {
            self.buckets.push(Bucket::new());
        }
        self.buckets[index].add(latency, classes);
    }

    /// Adds neighbouring intervals pairwise: half as many, twice as long.
    fn halve(&mut self) {
        let old = std::mem::take(&mut self.buckets);
        let mut pairs = old.into_iter();
        while let Some(mut first) = pairs.next() {
            if let Some(second) = pairs.next() {
                first.add(&second.latency, &second.classes);
            }
            self.buckets.push(first);
        }
        self.width *= 2;
    }

    /// The intervals as report points; `elapsed` is the run's length (the last
    /// interval's rate is taken over the part of it the run lasted).
    pub fn timeline(&self, elapsed: Duration) -> Timeline {
        let secs = elapsed.as_secs_f64();
        let points = self
            .buckets
            .iter()
            .enumerate()
            .map(|(index, bucket)| {
                let start = index as u64 * self.width;
                let span = (secs - start as f64).clamp(0.001, self.width as f64);
                let requests = bucket.latency.len();
                let ms = |quantile: f64| {
                    if requests == 0 {
                        0.0
                    } else {
                        bucket.latency.value_at_quantile(quantile) as f64 / 1000.0
                    }
                };
                Point {
                    t_s: start,
                    requests,
                    rps: super::rounding::round1(requests as f64 / span),
                    p50_ms: ms(0.5),
                    p90_ms: ms(0.9),
                    p99_ms: ms(0.99),
                    max_ms: if requests == 0 {
                        0.0
                    } else {
                        bucket.latency.max() as f64 / 1000.0
                    },
                    classes: bucket.classes,
                }
            })
            .collect();
        Timeline {
            interval_s: self.width,
            points,
        }
    }
}

/// The run over time (the `timeline` of a load report written with an HTML form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Length of each interval in seconds.
    pub interval_s: u64,
    /// One point per interval, in order.
    pub points: Vec<Point>,
}

/// One interval: what completed in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Start of the interval, seconds into the run.
    pub t_s: u64,
    /// Requests completed in it.
    pub requests: u64,
    /// Completed requests per second.
    pub rps: f64,
    /// Median latency (ms; 2 significant digits).
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Counts per status class, in the order `200`, other 1xx–3xx, `4xx`, `5xx`,
    /// no answer (a connection, TLS, timeout or protocol error).
    pub classes: [u64; CLASSES.len()],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_stay_bounded_and_keep_every_request() {
        let mut series = Series::default();
        let mut one = coarse_histogram();
        one.record(1_000).unwrap();
        let classes = [1, 0, 0, 0, 0];
        for second in 0..1_000 {
            series.add(second, &one, &classes);
        }
        assert!(series.buckets.len() <= MAX_POINTS);
        assert_eq!(series.width, 8);
        let timeline = series.timeline(Duration::from_secs(1_000));
        assert_eq!(
            timeline.points.iter().map(|p| p.requests).sum::<u64>(),
            1_000
        );
        assert_eq!(timeline.points[0].rps, 1.0);
        assert_eq!(
            timeline.points.iter().map(|p| p.classes[0]).sum::<u64>(),
            1_000
        );
    }
}
