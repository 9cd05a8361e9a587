//! Spotnana's retry policy and the engine that follows it.
//!
//! The policy (Spotnana's developer documentation; `docs/retry.md`): a failed delivery (anything but `200 OK`, or
//! no answer) is retried up to 5 times at once, then with exponential backoff (1
//! minute, doubling, capped at 12 hours between attempts) until 14 days have passed
//! since the first attempt; then the message is parked for manual intervention.
//! Every attempt carries the same webhook id and body, a fresh timestamp and a fresh
//! signature.
//!
//! [`RetryPolicy::schedule`] is the single source of the attempt offsets: the engine,
//! `spotcheck send --retry --dry-run` and `docs/retry.md` all use it. A time scale
//! divides every delay so that two weeks replay in seconds.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::client::Client;
use super::exchange::{ErrorClass, Exchange, TransportError};
use super::request::signed_attempt;
use crate::event::SeededRng;
use crate::signing::{Secret, SignatureFormat, unix_now};

/// The most attempts a schedule may hold (a guard against absurd policies).
pub const MAX_ATTEMPTS: usize = 10_000;

/// When to retry a failed delivery. [`Default`] is Spotnana's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries sent at once, right after the previous answer (Spotnana: 5).
    pub immediate: u32,
    /// The first backoff delay after the immediate retries (Spotnana: 1 minute).
    pub first_backoff: Duration,
    /// What each backoff delay is multiplied by (Spotnana: 2).
    pub factor: u32,
    /// The longest delay between two attempts (Spotnana: 12 hours).
    pub cap: Duration,
    /// No attempt starts later than this after the first one; then the message is
    /// parked (Spotnana: 14 days).
    pub horizon: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            immediate: 5,
            first_backoff: Duration::from_secs(60),
            factor: 2,
            cap: Duration::from_secs(12 * 3600),
            horizon: Duration::from_secs(14 * 24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The offset of every attempt from the first one, first attempt included (so the
    /// first entry is zero and the immediate retries are zero too: each is sent as
    /// soon as the previous attempt has its answer). Never longer than [`MAX_ATTEMPTS`].
    pub fn schedule(&self) -> Vec<Duration> {
        let immediate = (self.immediate as usize).min(MAX_ATTEMPTS - 1);
        let mut offsets = vec![Duration::ZERO; 1 + immediate];
        let mut offset = Duration::ZERO;
        let mut delay = self.first_backoff.min(self.cap);
        while !delay.is_zero() && offsets.len() < MAX_ATTEMPTS {
            offset = offset.saturating_add(delay);
            if offset > self.horizon {
                break;
            }
            offsets.push(offset);
            delay = delay.saturating_mul(self.factor).min(self.cap);
        }
        offsets
    }

    /// The schedule walked in order: every attempt with its offset and how long after
    /// the previous attempt it is sent (the table `send --retry --dry-run` prints).
    pub fn walk(&self) -> Vec<ScheduledAttempt> {
        let mut previous: Option<Duration> = None;
        self.schedule()
            .into_iter()
            .enumerate()
            .map(|(index, offset)| {
                let gap = match previous {
                    None => Gap::First,
                    Some(previous) if offset == previous => Gap::Immediate,
                    Some(previous) => Gap::After(offset - previous),
                };
                previous = Some(offset);
                ScheduledAttempt {
                    number: index + 1,
                    offset,
                    gap,
                }
            })
            .collect()
    }

    /// One line describing the policy, for printouts and reports.
    pub fn describe(&self) -> String {
        format!(
            "first attempt + {} immediate retries, then backoff from {} multiplied by {} \
             (at most {} between attempts) until {} after the first attempt; then the \
             message is parked",
            self.immediate,
            human(self.first_backoff),
            self.factor,
            human(self.cap),
            human(self.horizon)
        )
    }
}

/// One attempt of the schedule, as [`RetryPolicy::walk`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledAttempt {
    /// 1-based attempt number.
    pub number: usize,
    /// Its offset from the first attempt.
    pub offset: Duration,
    /// How long after the previous attempt it is sent.
    pub gap: Gap,
}

/// How long after the previous attempt one is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// The first attempt: there is no previous one.
    First,
    /// As soon as the previous attempt has its answer (the immediate retries).
    Immediate,
    /// This long after the previous attempt's offset.
    After(Duration),
}

/// Parses `--time-scale`: a finite number, 1 or more.
pub fn parse_time_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number; write e.g. 100000"))?;
    if !scale.is_finite() || scale < 1.0 {
        return Err(format!(
            "`{text}` is not allowed: the time scale divides every delay and must be 1 or more"
        ));
    }
    Ok(scale)
}

/// `delay` divided by the time scale (`scale` below 1 or not finite counts as 1).
pub fn scaled(delay: Duration, scale: f64) -> Duration {
    if scale.is_finite() && scale > 1.0 {
        delay.div_f64(scale)
    } else {
        delay
    }
}

/// A compact human duration: `0s`, `1m`, `17h 3m`, `13d 17h 3m`, `12.096s`, `600µs`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if d < Duration::from_millis(1) && !d.is_zero() {
        return format!("{}µs", d.as_micros());
    }
    if secs < 60 {
        let text = format!("{:.3}", d.as_secs_f64());
        let text = text.trim_end_matches('0').trim_end_matches('.');
        return format!("{text}s");
    }
    let (days, hours, minutes, seconds) =
        (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut parts = Vec::new();
    for (value, unit) in [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")] {
        if value > 0 {
            parts.push(format!("{value}{unit}"));
        }
    }
    parts.join(" ")
}

/// What is retried: one message, always with the same id and body.
#[derive(Debug, Clone)]
pub struct RetryMessage {
    /// Where it goes.
    pub endpoint: String,
    /// `x-spotnana-webhook-id`, the same on every attempt.
    pub webhook_id: String,
    /// The exact body bytes, the same on every attempt.
    pub body: Bytes,
    /// Signature token form.
    pub format: SignatureFormat,
    /// Subscription custom headers (reserved names are dropped when sending).
    pub custom_headers: Vec<(String, String)>,
}

/// How one retry sequence runs.
#[derive(Debug, Clone)]
pub struct RetryRun<'a> {
    /// The delivery client (its timeout bounds each attempt).
    pub client: &'a Client,
    /// Legacy OAuth: each attempt carries the run's bearer token, as every delivery
    /// of the run does (`None`: no `Authorization`).
    pub oauth: Option<&'a super::oauth::OAuthClient>,
    /// The signing secret; each attempt is signed afresh.
    pub secret: &'a Secret,
    /// The policy.
    pub policy: &'a RetryPolicy,
    /// Every delay is divided by this (1 = real time).
    pub time_scale: f64,
    /// The 1-based number of the first attempt this run sends: 1 normally, 2 when
    /// attempt 1 already happened elsewhere (the run's failed delivery).
    pub first_attempt: usize,
    /// A real-time budget for the whole sequence: no attempt starts after it, and an
    /// attempt still in flight when it ends is cut short and recorded as a timeout.
    pub budget: Option<Duration>,
}

/// One attempt of a retry sequence.
#[derive(Debug, Clone)]
pub struct AttemptReport {
    /// 1-based attempt number (the first delivery is attempt 1).
    pub number: usize,
    /// Its offset from the first attempt on the policy's (unscaled) schedule.
    pub offset: Duration,
    /// When it actually started, in real time since the sequence started.
    pub elapsed: Duration,
    /// The `x-spotnana-webhook-timestamp` it carried (Unix seconds).
    pub timestamp: i64,
    /// What was sent and what came back.
    pub exchange: Exchange,
}

impl AttemptReport {
    /// Whether this attempt counts as delivered: `200 OK`, answered completely.
    pub fn delivered(&self) -> bool {
        delivered(&self.exchange)
    }
}

/// Whether an exchange counts as delivered for Spotnana: `200`, answered completely.
pub fn delivered(exchange: &Exchange) -> bool {
    exchange.status() == Some(200) && exchange.error.is_none()
}

/// How a retry sequence ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryEnd {
    /// An attempt got `200 OK`.
    Delivered {
        /// Its 1-based number.
        attempt: usize,
    },
    /// Every attempt of the schedule failed: the message is to be parked.
    Exhausted,
    /// The real-time budget ran out before the schedule did.
    OutOfTime,
}

/// Sends `message` on the policy's schedule until an attempt gets `200 OK`, the
/// schedule ends or the budget runs out. Each attempt is signed afresh at the
/// current time with the same webhook id, appended to `attempts` and passed to
/// `on_attempt` as soon as it is answered (so a caller that stops waiting keeps
/// what happened). B3 trace ids come from `rng`.
pub async fn run_retries(
    run: &RetryRun<'_>,
    message: &RetryMessage,
    rng: &mut SeededRng,
    attempts: &mut Vec<AttemptReport>,
    on_attempt: &mut (dyn FnMut(&AttemptReport) + Send),
) -> RetryEnd {
    let schedule = run.policy.schedule();
    let first = run.first_attempt.max(1);
    let start = Instant::now();
    let base = schedule.get(first - 1).copied().unwrap_or_default();
    let budget_end = run.budget.map(|b| start + b);
    for (index, offset) in schedule.iter().enumerate().skip(first - 1) {
        let due = start + scaled(offset.saturating_sub(base), run.time_scale);
        if budget_end.is_some_and(|end| due > end) {
            return RetryEnd::OutOfTime;
        }
        tokio::time::sleep_until(due).await;
        let timestamp = unix_now();
        let attempt = signed_attempt(
            &message.endpoint,
            &[run.secret],
            &message.webhook_id,
            timestamp,
            message.body.clone(),
            message.format,
            &message.custom_headers,
            rng,
        );
        let elapsed = start.elapsed();
        let started_at_ms = unix_millis();
        let sent = Instant::now();
        let sending = async {
            match run.oauth {
                Some(oauth) => oauth.send(&attempt).await,
                None => run.client.send(&attempt).await,
            }
        };
        let exchange = match budget_end {
            None => sending.await,
            Some(end) => match tokio::time::timeout_at(end, sending).await {
                Ok(exchange) => exchange,
                Err(_) => cut_short(
                    &attempt,
                    started_at_ms,
                    sent.elapsed(),
                    run.budget.unwrap_or_default(),
                ),
            },
        };
        let report = AttemptReport {
            number: index + 1,
            offset: *offset,
            elapsed,
            timestamp,
            exchange,
        };
        let done = report.delivered();
        let cut = budget_end.is_some_and(|end| Instant::now() >= end);
        on_attempt(&report);
        attempts.push(report);
        if done {
            return RetryEnd::Delivered { attempt: index + 1 };
        }
        if cut {
            return RetryEnd::OutOfTime;
        }
    }
    RetryEnd::Exhausted
}

/// The record of an attempt the budget cut short.
fn cut_short(
    attempt: &super::request::Attempt,
    started_at_ms: i64,
    duration: Duration,
    budget: Duration,
) -> Exchange {
    Exchange {
        request: attempt.record(),
        response: None,
        error: Some(TransportError {
            class: ErrorClass::Timeout,
            message: format!(
                "no answer before the retry time budget of {} ran out",
                human(budget)
            ),
            certificate_required: false,
        }),
        started_at_ms,
        duration,
        note: None,
        not_sent: false,
    }
}

fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spotnana_schedule_is_immediate_then_doubling_then_capped_within_14_days() {
        let schedule = RetryPolicy::default().schedule();
        let minutes: Vec<u64> = schedule.iter().map(|d| d.as_secs() / 60).collect();
        // First attempt and five immediate retries.
        assert_eq!(&minutes[..6], &[0; 6]);
        // 1, 2, 4 … 512 minutes apart, then 12 h apart.
        assert_eq!(
            &minutes[6..17],
            &[1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 1743]
        );
        for pair in schedule[16..].windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::from_secs(12 * 3600));
        }
        let last = *schedule.last().unwrap();
        assert!(last <= Duration::from_secs(14 * 86_400));
        assert!(last + Duration::from_secs(12 * 3600) > Duration::from_secs(14 * 86_400));
        assert_eq!(schedule.len(), 42);
        assert_eq!(human(last), "13d 17h 3m");
    }

    #[test]
    fn the_walk_gives_each_attempt_its_gap_from_the_previous_one() {
        let walk = RetryPolicy::default().walk();
        assert_eq!(walk.len(), 42);
        assert_eq!(walk[0].gap, Gap::First);
        assert!(walk[1..6].iter().all(|step| step.gap == Gap::Immediate));
        assert_eq!(walk[6].gap, Gap::After(Duration::from_secs(60)));
        assert_eq!(walk[7].gap, Gap::After(Duration::from_secs(120)));
        assert_eq!(walk[41].gap, Gap::After(Duration::from_secs(12 * 3600)));
        assert_eq!(walk[41].number, 42);
        let offsets: Vec<Duration> = walk.iter().map(|step| step.offset).collect();
        assert_eq!(offsets, RetryPolicy::default().schedule());
    }

    #[test]
    fn degenerate_policies_stay_finite() {
        let none = RetryPolicy {
            first_backoff: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert_eq!(none.schedule().len(), 6);
        let flat = RetryPolicy {
            immediate: 0,
            factor: 1,
            first_backoff: Duration::from_nanos(1),
            ..RetryPolicy::default()
        };
        assert_eq!(flat.schedule().len(), MAX_ATTEMPTS);
        let huge = RetryPolicy {
            immediate: u32::MAX,
            ..RetryPolicy::default()
        };
        assert_eq!(huge.schedule().len(), MAX_ATTEMPTS);
    }

    #[test]
    fn time_scale_parsing_and_scaling() {
        assert_eq!(parse_time_scale("100000"), Ok(100_000.0));
        assert_eq!(parse_time_scale(" 1 "), Ok(1.0));
        for bad in ["0.5", "0", "-3", "NaN", "inf", "fast"] {
            assert!(parse_time_scale(bad).is_err(), "{bad}");
        }
        assert_eq!(
            scaled(Duration::from_secs(14 * 86_400), 100_000.0),
            Duration::from_millis(12_096)
        );
        assert_eq!(scaled(Duration::from_secs(5), 0.1), Duration::from_secs(5));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::ZERO), "0s");
        assert_eq!(human(Duration::from_micros(600)), "600µs");
        assert_eq!(human(Duration::from_millis(12_096)), "12.096s");
        assert_eq!(human(Duration::from_millis(2_500)), "2.5s");
        assert_eq!(human(Duration::from_secs(60)), "1m");
        assert_eq!(human(Duration::from_secs(14 * 86_400)), "14d");
        assert_eq!(human(Duration::from_secs(3_661)), "1h 1m 1s");
    }

    #[test]
    fn policy_description_names_the_numbers() {
        assert_eq!(
            RetryPolicy::default().describe(),
            "first attempt + 5 immediate retries, then backoff from 1m multiplied by 2 \
             (at most 12h between attempts) until 14d after the first attempt; then the \
             message is parked"
        );
    }
}
