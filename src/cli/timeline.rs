//! Printing retries: the policy's schedule (`send --retry --dry-run`) and the live
//! timeline of a retried delivery (`send --retry`, `redeliver --retry`) with how it
//! ended. The walk, the retries and the parking are [`crate::delivery`]'s.

use std::io::Write;
use std::path::Path;

use crate::delivery::Client;
use crate::delivery::retry::{
    AttemptReport, Gap, RetryMessage, RetryPolicy, RetryRun, human, scaled,
};
use crate::delivery::retry_or_park::{RetryOutcome, retry_or_park};
use crate::error::{SetupError, exit};
use crate::event::SeededRng;
use crate::signing::Secret;

use super::stop::{StopSignal, StopSignals};

/// The schedule as a table: attempt number, offset from the first attempt, the gap
/// since the previous attempt and, when `scale` is above 1, the scaled offset.
pub fn render_schedule(policy: &RetryPolicy, scale: f64) -> String {
    let walk = policy.walk();
    let mut out = format!("Spotnana's retry policy: {}.\n", policy.describe());
    if scale > 1.0 {
        out.push_str(&format!(
            "time scale ×{scale}: every delay is divided by {scale}, so {} lasts {}.\n",
            human(policy.horizon),
            human(scaled(policy.horizon, scale))
        ));
    }
    out.push('\n');
    let scaled_column = scale > 1.0;
    let mut header = format!("{:>7}  {:<12}  {:<12}", "attempt", "offset", "gap");
    if scaled_column {
        header.push_str("  scaled offset");
    }
    out.push_str(header.trim_end());
    out.push('\n');
    for step in &walk {
        let gap = match step.gap {
            Gap::First => "-".to_owned(),
            Gap::Immediate => "immediate".to_owned(),
            Gap::After(gap) => human(gap),
        };
        let mut row = format!(
            "{:>7}  {:<12}  {:<12}",
            step.number,
            human(step.offset),
            gap
        );
        if scaled_column {
            row.push_str(&format!("  {}", human(scaled(step.offset, scale))));
        }
        out.push_str(row.trim_end());
        out.push('\n');
    }
    let last = walk.last().map(|step| step.offset).unwrap_or_default();
    out.push_str(&format!(
        "\n{} attempts within {}, the last {} after the first; if none gets 200 OK the message is parked.\n",
        walk.len(),
        human(policy.horizon),
        human(last)
    ));
    out
}

/// The timeline's column header.
pub fn timeline_header() -> String {
    format!(
        "{:>7}  {:<12}  {:<10}  {:>9}  status\n",
        "attempt", "offset", "real time", "latency"
    )
}

/// One timeline row: attempt, offset on Spotnana's schedule, real time since the
/// first attempt, answer time, and the status (or why there was none).
pub fn timeline_line(attempt: &AttemptReport) -> String {
    format!(
        "{:>7}  {:<12}  {:<10}  {:>9}  {}\n",
        attempt.number,
        human(attempt.offset),
        human(attempt.elapsed),
        format!("{} ms", attempt.exchange.duration.as_millis()),
        attempt.exchange.outcome_text()
    )
}

/// What `send --retry` needs besides the message.
#[derive(Debug, Clone)]
pub struct RetryPrintOptions<'a> {
    /// The policy.
    pub policy: &'a RetryPolicy,
    /// `--time-scale`.
    pub time_scale: f64,
    /// `--park-dir`.
    pub park_dir: &'a Path,
    /// The stop signals, listened for since the command started.
    pub stop: &'a StopSignals,
}

/// Sends `message` on the policy ([`retry_or_park`]), printing each attempt as it is
/// answered; a stop signal (Ctrl-C, SIGTERM, SIGHUP) interrupts (and parks). Returns
/// the exit code: 0 delivered, 1 parked, the signal's code (130, 143, 129) interrupted.
pub async fn retry_and_print(
    client: &Client,
    secret: &Secret,
    message: &RetryMessage,
    options: &RetryPrintOptions<'_>,
    rng: &mut SeededRng,
) -> Result<u8, SetupError> {
    let schedule_len = options.policy.schedule().len();
    let mut head = format!(
        "retrying on Spotnana's policy: {}.\n",
        options.policy.describe()
    );
    if options.time_scale > 1.0 {
        head.push_str(&format!(
            "time scale ×{}: every delay divided by {} (the {} schedule lasts {}).\n",
            options.time_scale,
            options.time_scale,
            human(options.policy.horizon),
            human(scaled(options.policy.horizon, options.time_scale))
        ));
    }
    head.push_str(&format!(
        "POST {} webhook id {} on every attempt, each with a fresh timestamp and signature\n\n",
        message.endpoint, message.webhook_id
    ));
    head.push_str(&timeline_header());
    print_flush(&head);

    let run = RetryRun {
        client,
        oauth: None,
        secret,
        policy: options.policy,
        time_scale: options.time_scale,
        first_attempt: 1,
        budget: None,
    };
    let mut print_line = |attempt: &AttemptReport| print_flush(&timeline_line(attempt));
    let interrupted = async {
        options.stop.wait().await;
    };
    let outcome = retry_or_park(
        &run,
        message,
        options.park_dir,
        rng,
        &mut print_line,
        interrupted,
    )
    .await?;
    match outcome {
        RetryOutcome::Interrupted { path, attempts } => {
            print_flush(&format!(
                "\ninterrupted after {attempts} attempts; parked: {} (send it again with `spotcheck redeliver {}`)\n",
                path.display(),
                path.display()
            ));
            Ok(options
                .stop
                .received()
                .map_or(exit::INTERRUPTED, StopSignal::exit_code))
        }
        RetryOutcome::Delivered { attempt } => {
            print_flush(&format!(
                "\ndelivered on attempt {attempt} of at most {}: 200 OK (webhook id {} on every attempt)\n",
                schedule_len, message.webhook_id
            ));
            Ok(exit::CONFORMANT)
        }
        RetryOutcome::Parked { path, reason, last } => {
            let mut text = String::from("\n");
            if let Some(last) = &last {
                text.push_str("last answer:\n");
                text.push_str(&super::printout::render_response(last));
            }
            text.push_str(&format!(
                "FAILED: {reason}; Spotnana parks the message for manual intervention.\n\
                 parked: {} (send it again with `spotcheck redeliver {}`)\n",
                path.display(),
                path.display()
            ));
            print_flush(&text);
            Ok(exit::NOT_CONFORMANT)
        }
    }
}

fn print_flush(text: &str) {
    let mut out = crate::redact::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_table_lists_every_attempt_and_the_horizon() {
        let text = render_schedule(&RetryPolicy::default(), 100_000.0);
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with(' ') && l.trim_start().starts_with(|c: char| c.is_ascii_digit())
            })
            .collect();
        assert_eq!(rows.len(), 42, "{text}");
        assert!(rows[1].contains("immediate"), "{}", rows[1]);
        assert!(
            rows[6].contains("1m") && rows[6].contains("600µs"),
            "{}",
            rows[6]
        );
        assert!(
            rows[41].starts_with("     42  13d 17h 3m    12h "),
            "{}",
            rows[41]
        );
        assert!(text.contains("14d lasts 12.096s"), "{text}");
        assert!(text.contains("42 attempts within 14d"), "{text}");
        assert!(!render_schedule(&RetryPolicy::default(), 1.0).contains("scaled offset"));
    }
}
