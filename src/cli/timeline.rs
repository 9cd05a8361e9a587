//! Printing retries: the policy's schedule (`send --retry --dry-run`) and the live
//! timeline of a retried delivery (`send --retry`, `redeliver --retry`) with how it
//! ended, and the exit code of a message's outcome; [`Printout`], the sink that prints
//! every event of the sender (`send`, `redeliver`). The walk, the retries and the
//! parking are [`crate::delivery`]'s, run by [`crate::sender`].

use std::io::Write;

use crate::delivery::retry::{AttemptReport, Gap, RetryPolicy, human, scaled};
use crate::delivery::retry_or_park::RetryOutcome;
use crate::error::exit;
use crate::sender::{MessageOutcome, SendEvent, SendSink};

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

/// The head of a retry sequence's printout: the policy, the time scale, where every
/// attempt goes, and the timeline's column header.
pub fn retry_head(
    policy: &RetryPolicy,
    time_scale: f64,
    endpoint: &str,
    webhook_id: &str,
) -> String {
    let mut head = format!("retrying on Spotnana's policy: {}.\n", policy.describe());
    if time_scale > 1.0 {
        head.push_str(&format!(
            "time scale ×{}: every delay divided by {} (the {} schedule lasts {}).\n",
            time_scale,
            time_scale,
            human(policy.horizon),
            human(scaled(policy.horizon, time_scale))
        ));
    }
    head.push_str(&format!(
        "POST {endpoint} webhook id {webhook_id} on every attempt, each with a fresh timestamp and signature\n\n"
    ));
    head.push_str(&timeline_header());
    head
}

/// How a retry sequence ended, in words: delivered on which attempt, or parked (with
/// the last answer) and how to send it again.
pub fn retry_end(outcome: &RetryOutcome, webhook_id: &str, attempts_at_most: usize) -> String {
    match outcome {
        RetryOutcome::Interrupted { path, attempts } => format!(
            "\ninterrupted after {attempts} attempts; parked: {} (send it again with `spotcheck redeliver {}`)\n",
            path.display(),
            path.display()
        ),
        RetryOutcome::Delivered { attempt } => format!(
            "\ndelivered on attempt {attempt} of at most {attempts_at_most}: 200 OK (webhook id {webhook_id} on every attempt)\n"
        ),
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
            text
        }
    }
}

/// The exit code of one message's outcome: 0 delivered, 1 not (parked, refused), the
/// stop signal's code (130, 143, 129) when one interrupted its retries.
pub fn exit_code(outcome: &MessageOutcome, signals: Option<&StopSignals>) -> u8 {
    if outcome.interrupted() {
        signals
            .and_then(StopSignals::received)
            .map_or(exit::INTERRUPTED, StopSignal::exit_code)
    } else if outcome.delivered() {
        exit::CONFORMANT
    } else {
        exit::NOT_CONFORMANT
    }
}

/// Writes `text` to standard output (redacted) at once: the timeline is live.
pub fn print_flush(text: &str) {
    let mut out = crate::redact::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The printout of `send` and `redeliver`, from the sender's events: the request as
/// sent (`send` only), each answer with its verdict, the live retry timeline and how
/// it ended.
#[derive(Debug, Clone, Copy)]
pub struct Printout {
    /// `send`'s seed, printed before each delivery (with the request) so a run can be
    /// replayed; `None` for `redeliver`, which prints only the answers.
    pub send_seed: Option<u64>,
}

impl SendSink for Printout {
    fn event(&mut self, event: SendEvent<'_>) {
        // A closed pipe (`| head`) is not an error worth a panic.
        let mut out = crate::redact::stdout();
        match event {
            SendEvent::ReferenceReceiver { endpoint } => {
                let _ = writeln!(
                    out,
                    "no --endpoint: delivering to the built-in reference receiver at {endpoint}\n"
                );
            }
            SendEvent::LifecycleStarted {
                name,
                events,
                pnr,
                shuffled,
            } => {
                let order = if shuffled { "shuffled" } else { "oldest first" };
                let _ = writeln!(
                    out,
                    "lifecycle {name}: {events} events of PNR {pnr}, {order}"
                );
            }
            SendEvent::LifecycleEvent {
                number,
                total,
                event,
            } => {
                let _ = writeln!(
                    out,
                    "\n[{number}/{total}] {}/{} at {} (version {})",
                    event["eventType"]
                        .as_str()
                        .or(event["event_type"].as_str())
                        .unwrap_or("?"),
                    event["operation"].as_str().unwrap_or("?"),
                    event["timestamp"].as_str().unwrap_or("?"),
                    event
                        .pointer("/payload/version")
                        .map_or("-".to_owned(), serde_json::Value::to_string)
                );
            }
            SendEvent::MessageStarted {
                source,
                webhook_id,
                endpoint,
            } => {
                let _ = writeln!(
                    out,
                    "{}: webhook id {webhook_id} → POST {endpoint}",
                    source.display()
                );
            }
            SendEvent::Sending { oauth, request } => {
                let Some(seed) = self.send_seed else { return };
                let _ = writeln!(out, "seed {seed} (replay with --seed {seed})");
                if let Some(oauth) = oauth {
                    let _ = writeln!(
                        out,
                        "OAuth: bearer token from {} (client id {})",
                        oauth.token_url, oauth.client_id
                    );
                }
                let _ = writeln!(out, "> {} {}", request.method, request.url);
                for (name, value) in &request.headers {
                    let _ = writeln!(out, "> {name}: {value}");
                }
                let _ = writeln!(out, "> ({} bytes of JSON)", request.body_len);
            }
            SendEvent::Answered { exchange, verdict } => {
                let _ = write!(out, "{}", super::printout::render_response(exchange));
                let _ = writeln!(out, "{}", super::printout::verdict_line(verdict));
            }
            SendEvent::RetryStarted {
                policy,
                time_scale,
                endpoint,
                webhook_id,
            } => {
                if let Some(seed) = self.send_seed {
                    let _ = writeln!(out, "seed {seed} (replay with --seed {seed})");
                }
                let head = retry_head(policy, time_scale, endpoint, webhook_id);
                let _ = write!(out, "{head}");
            }
            SendEvent::Attempt(attempt) => {
                let _ = write!(out, "{}", timeline_line(attempt));
            }
            SendEvent::RetryFinished {
                outcome,
                webhook_id,
                attempts_at_most,
            } => {
                let end = retry_end(outcome, webhook_id, attempts_at_most);
                let _ = write!(out, "{end}");
            }
        }
        let _ = out.flush();
    }
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
