//! The `retry.recovers-after-failure` check: after the scenarios ran, the first
//! correctly signed delivery that did not get `200 OK` is retried on Spotnana's
//! policy (time-scaled), and the check says whether, and on which attempt, the
//! endpoint accepted it.
//!
//! Which delivery qualifies: an exchange of a failed (or warned) check whose request
//! verifies with the run's secret and whose timestamp was fresh (within 5 minutes)
//! when it was sent, so it was a delivery Spotnana would make and expect `200` for
//! (forgeries, tampered and stale deliveries never verify), and whose answer was not
//! `200 OK` (another status, or none). Its original delivery counts as attempt 1.
//!
//! A delivery answered with another success code (`201`, `202`, `204`) is not retried:
//! the endpoint accepted it, only with the wrong code, and a retry cannot change the
//! code it answers. When that is the only kind of failed delivery, the check could not
//! judge recovery and says so, naming `delivery.status-200`, which judges the code.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::context::RunContext;
use crate::check::{
    CheckInfo, CheckResult, Finding, FindingCause, Level, Needs, Seen, SkipReason, Status, Verdict,
};
use crate::delivery::exchange::Exchange;
use crate::delivery::retry::{
    AttemptReport, RetryEnd, RetryMessage, RetryPolicy, RetryRun, delivered, human, run_retries,
    scaled,
};
use crate::event::random;
use crate::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignatureFormat, Verifier};

/// The check's id (a public contract).
pub const CHECK_ID: &str = "retry.recovers-after-failure";
/// The default `--retry-time-scale` of `spotcheck run`: two weeks in about 12 s.
pub const DEFAULT_TIME_SCALE: f64 = 100_000.0;
/// The check may take this many request timeouts (up to [`MAX_CHECK_TIME`]).
pub const CAP_TIMEOUTS: u32 = 6;
/// The longest the check may take, whatever the timeout.
pub const MAX_CHECK_TIME: Duration = Duration::from_secs(30);

/// What the check is.
pub fn info() -> CheckInfo {
    CheckInfo {
        id: CHECK_ID.to_owned(),
        title: "After answering non-200, the endpoint accepts the retried delivery".to_owned(),
        level: Level::Recommended,
        why: "Spotnana retries a failed delivery with the same webhook id (5 immediate retries, \
              then backoff over 14 days) and then parks it: an endpoint that keeps refusing \
              the retries of a message loses that event."
            .to_owned(),
        fix: "Make failures transient: answer 200 as soon as a delivery is safely stored, and \
              never remember a failed webhook id as seen or bad; a retry must be handled like a \
              first delivery (deduplicate only ids you processed)."
            .to_owned(),
        tags: vec!["retry".to_owned()],
        needs: Needs {
            whole_run: true,
            ..Needs::default()
        },
        diagnosis: None,
    }
}

/// The real-time cap of the check: six delivery timeouts or 30 s, whichever is smaller.
pub fn time_cap(timeout: Duration) -> Duration {
    timeout.saturating_mul(CAP_TIMEOUTS).min(MAX_CHECK_TIME)
}

/// A failed delivery found in the run, ready to retry.
#[derive(Debug, Clone)]
pub struct FailedDelivery {
    /// The check whose exchange it was.
    pub check_id: String,
    /// The webhook id it carried.
    pub webhook_id: String,
    /// The exact body.
    pub body: Bytes,
    /// The signature token form that verified.
    pub format: SignatureFormat,
    /// What the endpoint answered (or why it did not).
    pub outcome: String,
    /// Whether the answer was a success code other than `200` (accepted, wrong code).
    pub other_success: bool,
}

/// The first correctly signed, fresh delivery of a failed check that did not get `200 OK`
/// and was not accepted with another success code either; failing that, the first one
/// that was (`other_success`), which is not retried.
pub fn find_failed_delivery(checks: &[CheckResult], ctx: &RunContext) -> Option<FailedDelivery> {
    let verifier = Verifier::new(vec![ctx.secret.clone()]);
    let mut failed = checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
        .flat_map(|c| c.exchanges.iter().map(move |e| (c, e)))
        // A delivery that never went out (no OAuth token) has nothing to retry.
        .filter(|(_, e)| e.request.method == "POST" && !e.not_sent && !delivered(e))
        .filter_map(|(check, exchange)| {
            let format = verifies(&verifier, exchange)?;
            Some(FailedDelivery {
                check_id: check.info.id.clone(),
                webhook_id: header(exchange, HEADER_ID)?.to_owned(),
                body: exchange.request.body.clone(),
                format,
                outcome: exchange.outcome_text(),
                other_success: exchange
                    .status()
                    .is_some_and(|status| (200..300).contains(&status)),
            })
        });
    let first = failed.next()?;
    if !first.other_success {
        return Some(first);
    }
    Some(failed.find(|f| !f.other_success).unwrap_or(first))
}

/// A header's value in a recorded request (case-insensitive name).
pub fn header<'a>(exchange: &'a Exchange, name: &str) -> Option<&'a str> {
    crate::wire::header(&exchange.request.headers, name)
}

/// The format of the token that verifies, when the request was correctly signed and
/// its timestamp was fresh at the moment it was sent.
pub fn verifies(verifier: &Verifier, exchange: &Exchange) -> Option<SignatureFormat> {
    if exchange.request.body.len() != exchange.request.body_len {
        return None;
    }
    verifier
        .verify(
            header(exchange, HEADER_ID),
            header(exchange, HEADER_TIMESTAMP),
            header(exchange, HEADER_SIGNATURE),
            &exchange.request.body,
            exchange.started_at_ms.div_euclid(1000),
        )
        .ok()
}

/// Runs the check over the run's finished checks: retries the first failed delivery
/// on Spotnana's policy with every delay divided by `time_scale`, within [`time_cap`].
pub async fn run(checks: &[CheckResult], ctx: &RunContext, time_scale: f64) -> CheckResult {
    let started = Instant::now();
    let Some(failed) = find_failed_delivery(checks, ctx) else {
        return CheckResult::new(
            info(),
            Verdict::Skipped(SkipReason::NothingFailed),
            started.elapsed(),
            Vec::new(),
        );
    };
    if failed.other_success {
        return CheckResult::new(
            info(),
            Verdict::Skipped(SkipReason::OtherSuccessOnly {
                webhook_id: failed.webhook_id.clone(),
                check: failed.check_id.clone(),
                got: failed.outcome.clone(),
                see: "delivery.status-200".to_owned(),
            }),
            started.elapsed(),
            Vec::new(),
        );
    }
    let policy = RetryPolicy::default();
    let cap = time_cap(ctx.timeout);
    let run = RetryRun {
        client: &ctx.client,
        oauth: ctx.oauth.as_ref(),
        secret: &ctx.secret,
        policy: &policy,
        time_scale,
        first_attempt: 2,
        budget: Some(cap),
    };
    let message = RetryMessage {
        endpoint: ctx.endpoint.clone(),
        webhook_id: failed.webhook_id.clone(),
        body: failed.body.clone(),
        format: failed.format,
        custom_headers: ctx.headers.clone(),
    };
    let mut rng = random::rng_for(ctx.seed, CHECK_ID);
    let mut attempts: Vec<AttemptReport> = Vec::new();
    let end = run_retries(&run, &message, &mut rng, &mut attempts, &mut |_| {}).await;
    let verdict = judge(&failed, &policy, time_scale, cap, end, &attempts);
    CheckResult::new(
        info(),
        verdict,
        started.elapsed(),
        attempts.into_iter().map(|a| a.exchange).collect(),
    )
}

fn judge(
    failed: &FailedDelivery,
    policy: &RetryPolicy,
    time_scale: f64,
    cap: Duration,
    end: RetryEnd,
    attempts: &[AttemptReport],
) -> Verdict {
    let origin = format!(
        "the delivery of webhook id {} in {} got {}",
        failed.webhook_id, failed.check_id, failed.outcome
    );
    let scale = if time_scale > 1.0 {
        format!(" (delays divided by {time_scale})")
    } else {
        String::new()
    };
    let total = attempts.last().map_or(1, |a| a.number);
    let last = match attempts.last().map(|a| &a.exchange) {
        Some(exchange) if exchange.response.is_some() => {
            format!("last status {}", exchange.outcome_text())
        }
        Some(exchange) => format!("last attempt got no answer ({})", exchange.outcome_text()),
        None => format!("last status {}", failed.outcome),
    };
    match end {
        RetryEnd::Delivered { attempt } => {
            let offset = attempts.last().map(|a| a.offset).unwrap_or_default();
            Verdict::Passed(Seen::from(format!(
                "accepted on attempt {attempt} after {} failed {}: {origin}; retried on Spotnana's \
                 schedule{scale}, the accepted attempt is due {} after the first",
                attempt - 1,
                if attempt == 2 { "attempt" } else { "attempts" },
                human(offset)
            )))
        }
        RetryEnd::Exhausted => Verdict::Failed(Finding::from(format!(
            "still failing after {total} attempts: {last}; {origin}, and every retry \
             of Spotnana's {} schedule{scale} failed, so Spotnana would park the message",
            human(policy.horizon)
        ))),
        RetryEnd::OutOfTime => Verdict::Failed(Finding::caused(FindingCause::RetryOutOfTime {
            attempts: total,
            last,
            origin,
            cap,
            cap_timeouts: CAP_TIMEOUTS,
            cap_max: MAX_CHECK_TIME,
            reached: attempts.last().map(|a| a.offset).unwrap_or_default(),
            schedule: policy.horizon,
            scaled_schedule: scaled(policy.horizon, time_scale),
            time_scale: (time_scale > 1.0).then_some(time_scale),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_is_six_timeouts_or_30_seconds() {
        assert_eq!(time_cap(Duration::from_secs(1)), Duration::from_secs(6));
        assert_eq!(time_cap(Duration::from_secs(40)), Duration::from_secs(30));
    }

    #[test]
    fn info_matches_the_design_table() {
        let info = info();
        assert_eq!(info.id, "retry.recovers-after-failure");
        assert_eq!(info.level, Level::Recommended);
        assert_eq!(info.suite(), "retry");
    }
}
