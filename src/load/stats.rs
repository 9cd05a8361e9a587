//! Per-worker measurements: an HDR latency histogram, status counts and error
//! classes in fixed arrays. Nothing is stored per request, so memory stays flat
//! however long the run; workers merge their stats once, at the end.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use super::histogram::latency_histogram;
use crate::delivery::exchange::ErrorClass;

/// Status codes counted one by one: 100 to 599; anything else goes to one slot.
const STATUS_BASE: u16 = 100;
const STATUS_SLOTS: usize = 500;
const OTHER_STATUS: usize = STATUS_SLOTS;

/// The error classes a load request can end with, in report order.
pub const ERROR_CLASSES: [ErrorClass; 8] = [
    ErrorClass::Dns,
    ErrorClass::Connect,
    ErrorClass::Tls,
    ErrorClass::Timeout,
    ErrorClass::Reset,
    ErrorClass::Protocol,
    ErrorClass::Body,
    ErrorClass::Other,
];

fn error_index(class: ErrorClass) -> usize {
    ERROR_CLASSES
        .iter()
        .position(|c| *c == class)
        .unwrap_or(ERROR_CLASSES.len() - 1)
}

use super::series::{CLASSES, Series, coarse_histogram as live_histogram};

fn micros(latency: Duration) -> u64 {
    (latency.as_micros().min(u128::from(u64::MAX)) as u64).max(1)
}

/// What one worker (or, after merging, the whole run) measured.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Latency of every completed request (answered or failed), in µs. In the open
    /// model it runs from the request's scheduled send time (the response time a
    /// sender on that schedule sees, wait included), as wrk2 and k6 measure it.
    pub latency: Histogram<u64>,
    /// Open model only: service time, from when the request was actually sent.
    pub service: Option<Histogram<u64>>,
    /// Open model only: how late the late requests started (µs past their schedule).
    pub late_by: Option<Histogram<u64>>,
    /// Requests sent again with an earlier request's webhook id (`--redeliver-ratio`).
    pub redelivered: u64,
    status: Box<[u64; STATUS_SLOTS + 1]>,
    errors: [u64; ERROR_CLASSES.len()],
    /// Open model: requests sent more than [`super::LATE_AFTER`] after their scheduled time.
    pub late: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    /// Empty stats.
    pub fn new() -> Stats {
        Stats {
            latency: latency_histogram(),
            service: None,
            late_by: None,
            redelivered: 0,
            status: Box::new([0; STATUS_SLOTS + 1]),
            errors: [0; ERROR_CLASSES.len()],
            late: 0,
        }
    }

    /// Empty stats for the open model, which also keeps the service time and the
    /// lateness (two more histograms; the closed model pays for neither).
    pub fn open() -> Stats {
        Stats {
            service: Some(latency_histogram()),
            late_by: Some(live_histogram()),
            ..Stats::new()
        }
    }

    /// Open model: records when a request started against its schedule and how long
    /// it took from there (`service`). Late means more than `late_after` past it.
    pub fn record_schedule(&mut self, delay: Duration, service: Duration, late_after: Duration) {
        if let Some(histogram) = &mut self.service {
            histogram.saturating_record(micros(service));
        }
        if delay > late_after {
            self.late += 1;
            if let Some(histogram) = &mut self.late_by {
                histogram.saturating_record(micros(delay));
            }
        }
    }

    /// Records a request answered with `status`.
    pub fn record_status(&mut self, status: u16, latency: Duration) {
        let slot = status
            .checked_sub(STATUS_BASE)
            .map(usize::from)
            .filter(|slot| *slot < STATUS_SLOTS)
            .unwrap_or(OTHER_STATUS);
        self.status[slot] += 1;
        self.latency.saturating_record(micros(latency));
    }

    /// Records a request that ended without a complete answer.
    pub fn record_error(&mut self, class: ErrorClass, latency: Duration) {
        self.errors[error_index(class)] += 1;
        self.latency.saturating_record(micros(latency));
    }

    /// Adds another worker's stats to these.
    pub fn merge(&mut self, other: &Stats) {
        // Same bounds on both sides, so this cannot fail.
        let _ = self.latency.add(&other.latency);
        add_optional(&mut self.service, &other.service, latency_histogram);
        add_optional(&mut self.late_by, &other.late_by, live_histogram);
        self.redelivered += other.redelivered;
        for (mine, theirs) in self.status.iter_mut().zip(other.status.iter()) {
            *mine += theirs;
        }
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors.iter()) {
            *mine += theirs;
        }
        self.late += other.late;
    }

    /// Requests completed (answered or failed).
    pub fn requests(&self) -> u64 {
        self.status.iter().sum::<u64>() + self.errors.iter().sum::<u64>()
    }

    /// `(status, count)` for every status seen, ascending, then `0` for any status
    /// outside 100–599.
    pub fn status_counts(&self) -> Vec<(u16, u64)> {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(slot, count)| {
                let status = if slot == OTHER_STATUS {
                    0
                } else {
                    STATUS_BASE + slot as u16
                };
                (status, *count)
            })
            .collect()
    }

    /// `(class, count)` for every error class seen, in [`ERROR_CLASSES`] order.
    pub fn error_counts(&self) -> Vec<(ErrorClass, u64)> {
        ERROR_CLASSES
            .iter()
            .zip(self.errors.iter())
            .filter(|(_, count)| **count > 0)
            .map(|(class, count)| (*class, *count))
            .collect()
    }

    /// Requests answered `200 OK`.
    pub fn ok(&self) -> u64 {
        self.status[usize::from(200 - STATUS_BASE)]
    }
}

/// Adds `theirs` into `mine`, creating `mine` (with `empty`) when only `theirs` exists.
fn add_optional(
    mine: &mut Option<Histogram<u64>>,
    theirs: &Option<Histogram<u64>>,
    empty: fn() -> Histogram<u64>,
) {
    if let Some(theirs) = theirs {
        // Same bounds on both sides, so this cannot fail.
        let _ = mine.get_or_insert_with(empty).add(theirs);
    }
}

/// What the progress display and the charts read while workers run: a completion
/// counter, a coarse histogram of the latest interval and, when charts are wanted,
/// the per-second [`Series`]. Workers flush into it now and then (one lock and one
/// shared-counter update per worker every [`PUBLISH_EVERY`] and at each second
/// boundary, never per request, so cores do not trade a cache line on every request).
#[derive(Debug)]
pub struct Live {
    /// Requests completed so far (as of the workers' last publish).
    pub completed: AtomicU64,
    interval: Mutex<Histogram<u64>>,
    series: Option<Mutex<Series>>,
    start: Instant,
}

/// How often a worker flushes its recent latencies into [`Live`].
pub const PUBLISH_EVERY: Duration = Duration::from_millis(100);

impl Default for Live {
    fn default() -> Self {
        Live {
            completed: AtomicU64::new(0),
            interval: Mutex::new(live_histogram()),
            series: None,
            start: Instant::now(),
        }
    }
}

impl Live {
    /// Live figures that also keep the run's per-second series (for the charts);
    /// its seconds count from now.
    pub fn with_series() -> Live {
        Live {
            series: Some(Mutex::new(Series::default())),
            ..Live::default()
        }
    }

    /// The second of the series `at` falls in.
    pub fn second_of(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_secs()
    }

    /// Adds a worker's recent latencies and completions, and resets them.
    pub fn publish(&self, recent: &mut LiveRecent) {
        if recent.histogram.is_empty() {
            return;
        }
        self.completed
            .fetch_add(recent.histogram.len(), Ordering::Relaxed);
        if let Ok(mut shared) = self.interval.lock() {
            let _ = shared.add(&recent.histogram);
        }
        if let Some(series) = &self.series
            && let Ok(mut series) = series.lock()
        {
            series.add(recent.second, &recent.histogram, &recent.classes);
        }
        recent.histogram.reset();
        recent.classes = [0; CLASSES.len()];
    }

    /// The series so far as report points (`None` when it is not kept).
    pub fn timeline(&self, elapsed: Duration) -> Option<super::series::Timeline> {
        let series = self.series.as_ref()?.lock().ok()?;
        Some(series.timeline(elapsed))
    }

    /// The p99 (ms) of latencies published since the last call, and resets them.
    pub fn take_p99_ms(&self) -> Option<f64> {
        let mut shared = self.interval.lock().ok()?;
        if shared.is_empty() {
            return None;
        }
        let p99 = shared.value_at_quantile(0.99) as f64 / 1000.0;
        shared.reset();
        Some(p99)
    }

    /// Requests completed so far.
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
    }
}

/// A worker's latencies since it last published to [`Live`], all in one second of
/// the run.
#[derive(Debug)]
pub struct LiveRecent {
    histogram: Histogram<u64>,
    classes: [u64; CLASSES.len()],
    /// The second of the run they belong to.
    pub second: u64,
}

impl Default for LiveRecent {
    fn default() -> Self {
        LiveRecent {
            histogram: live_histogram(),
            classes: [0; CLASSES.len()],
            second: 0,
        }
    }
}

impl LiveRecent {
    /// Records one request: its latency and its status class (see [`super::series::class_of`]).
    pub fn record(&mut self, latency: Duration, class: usize) {
        self.histogram.saturating_record(micros(latency));
        if let Some(count) = self.classes.get_mut(class) {
            *count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_merge() {
        let mut a = Stats::new();
        a.record_status(200, Duration::from_millis(1));
        a.record_status(500, Duration::from_millis(2));
        a.record_status(42, Duration::from_millis(2));
        let mut b = Stats::new();
        b.record_status(200, Duration::from_millis(3));
        b.record_error(ErrorClass::Timeout, Duration::from_secs(500));
        b.late = 2;
        a.merge(&b);
        assert_eq!(a.requests(), 5);
        assert_eq!(a.ok(), 2);
        assert_eq!(a.status_counts(), vec![(200, 2), (500, 1), (0, 1)]);
        assert_eq!(a.error_counts(), vec![(ErrorClass::Timeout, 1)]);
        assert_eq!(a.late, 2);
        // The 500 s timeout is clamped to the tracked maximum, not lost.
        assert_eq!(a.latency.len(), 5);
        assert!(
            a.latency.max() >= crate::load::histogram::MAX_TRACKED.as_micros() as u64 * 99 / 100
        );
    }

    #[test]
    fn each_error_class_is_counted_under_its_own_name_in_report_order() {
        let mut stats = Stats::new();
        for (n, class) in ERROR_CLASSES.iter().rev().enumerate() {
            for _ in 0..=n {
                stats.record_error(*class, Duration::from_millis(1));
            }
        }
        let counts = stats.error_counts();
        assert_eq!(counts.len(), ERROR_CLASSES.len());
        assert_eq!(counts[0], (ErrorClass::Dns, 8));
        assert_eq!(counts[1], (ErrorClass::Connect, 7));
        assert_eq!(counts[7], (ErrorClass::Other, 1));
        assert_eq!(stats.requests(), 36);
        assert!(stats.status_counts().is_empty());
    }

    #[test]
    fn statuses_from_100_to_599_are_counted_one_by_one_and_others_together() {
        let mut stats = Stats::new();
        for status in [99, 100, 101, 599, 600, 601, 1000, 0] {
            stats.record_status(status, Duration::from_millis(1));
        }
        assert_eq!(
            stats.status_counts(),
            vec![(100, 1), (101, 1), (599, 1), (0, 5)]
        );
        assert_eq!(stats.ok(), 0);
        assert_eq!(stats.requests(), 8);
    }

    #[test]
    fn latencies_are_kept_in_microseconds_and_never_as_zero() {
        let mut stats = Stats::new();
        stats.record_status(200, Duration::ZERO);
        stats.record_status(200, Duration::from_micros(3_000));
        assert_eq!(stats.latency.min(), 1);
        assert!(
            stats.latency.equivalent(stats.latency.max(), 3_000),
            "{}",
            stats.latency.max()
        );
    }

    #[test]
    fn the_open_model_keeps_service_time_and_counts_only_what_is_later_than_allowed() {
        let late_after = Duration::from_millis(10);
        let mut stats = Stats::open();
        // On time, exactly at the bound, and two late by 20 ms.
        stats.record_schedule(Duration::ZERO, Duration::from_millis(2), late_after);
        stats.record_schedule(late_after, Duration::from_millis(2), late_after);
        for _ in 0..2 {
            stats.record_schedule(
                Duration::from_millis(20),
                Duration::from_millis(2),
                late_after,
            );
        }
        assert_eq!(stats.late, 2);
        assert_eq!(stats.service.as_ref().map(Histogram::len), Some(4));
        let late_by = stats
            .late_by
            .as_ref()
            .expect("the open model keeps lateness");
        assert_eq!(late_by.len(), 2);
        assert!(
            late_by.equivalent(late_by.min(), 20_000),
            "{}",
            late_by.min()
        );

        // The closed model keeps neither histogram.
        let mut closed = Stats::new();
        closed.record_schedule(Duration::from_millis(20), Duration::ZERO, late_after);
        assert!(closed.service.is_none() && closed.late_by.is_none());
        assert_eq!(closed.late, 1);

        // Merging into closed-model stats takes the open model's histograms along.
        let mut merged = Stats::new();
        merged.redelivered = 1;
        stats.redelivered = 2;
        merged.merge(&stats);
        merged.merge(&stats);
        assert_eq!(merged.service.as_ref().map(Histogram::len), Some(8));
        assert_eq!(merged.late_by.as_ref().map(Histogram::len), Some(4));
        assert_eq!(merged.redelivered, 5);
        assert_eq!(merged.late, 4);
    }

    #[test]
    fn live_figures_add_what_workers_publish_once_and_give_its_p99_once() {
        let live = Live::with_series();
        assert_eq!(live.take_p99_ms(), None);
        let mut recent = LiveRecent::default();
        for _ in 0..99 {
            recent.record(Duration::from_millis(1), 0);
        }
        recent.record(Duration::from_millis(50), 3);
        recent.record(Duration::from_millis(50), 99); // no such class: counted, not classed
        live.publish(&mut recent);
        live.publish(&mut recent); // already published: nothing more
        assert_eq!(live.completed(), 101);
        let p99 = live.take_p99_ms().expect("latencies were published");
        assert!((49.0..=51.0).contains(&p99), "{p99}");
        assert_eq!(live.take_p99_ms(), None, "taken once");

        let timeline = live.timeline(Duration::from_secs(1)).expect("series kept");
        assert_eq!(timeline.points.len(), 1);
        assert_eq!(timeline.points[0].requests, 101);
        assert_eq!(timeline.points[0].classes, [99, 0, 0, 1, 0]);
        assert!(Live::default().timeline(Duration::from_secs(1)).is_none());
    }

    #[test]
    fn a_moment_falls_in_the_second_of_the_run_it_is_in() {
        let live = Live::default();
        assert_eq!(live.second_of(live.start), 0);
        assert_eq!(live.second_of(live.start + Duration::from_millis(2_500)), 2);
        assert_eq!(live.second_of(live.start + Duration::from_secs(7)), 7);
    }
}
