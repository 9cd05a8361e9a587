//! The replay window: when deliveries signed a realistic clock skew away from now
//! are refused, a short ladder of offsets on each refused side finds the narrowest
//! refused and the widest accepted, so the message can say "your window is about 10 s".

use super::probing;
use crate::check::{CheckResult, DiagnosisKind};
use crate::check::{Diagnosis, ProbeRecord};
use crate::delivery::exchange::Exchange;
use crate::event::random::{self, SeededRng};
use crate::runner::context::RunContext;
use crate::runner::recovery::header;
use crate::signing::{HEADER_TIMESTAMP, SignedHeaders, unix_now};

/// The offsets (seconds) tried behind the endpoint's clock, nearest first; the
/// ladder stops at the first refusal, so at most this many deliveries per side.
const BEHIND: &[i64] = &[5, 15, 30, 60];
/// The same ahead of it.
const AHEAD: &[i64] = &[5, 15];

/// What is known of one side of the window.
#[derive(Debug, Default, Clone, Copy)]
struct Side {
    /// The largest offset accepted.
    accepted: Option<i64>,
    /// The smallest offset refused.
    refused: Option<i64>,
}

impl Side {
    fn learn(&mut self, offset: i64, accepted: bool) {
        if accepted {
            self.accepted = Some(self.accepted.map_or(offset, |a| a.max(offset)));
        } else {
            self.refused = Some(self.refused.map_or(offset, |r| r.min(offset)));
        }
    }

    /// "refuses a timestamp 15 s behind its clock (5 s was accepted)".
    fn describe(&self, name: &str) -> Option<String> {
        let refused = self.refused?;
        Some(match self.accepted.filter(|a| *a < refused) {
            Some(accepted) => format!(
                "refuses a timestamp {refused} s {name} its clock ({accepted} s was accepted)"
            ),
            None => format!("refuses a timestamp even {refused} s {name} its clock"),
        })
    }

    /// The window on this side: halfway between the widest accepted and narrowest refused.
    fn estimate(&self) -> Option<i64> {
        let refused = self.refused?;
        Some((self.accepted.unwrap_or(0).min(refused) + refused) / 2)
    }
}

/// The signed offset (timestamp minus the moment of sending, in seconds) of a
/// recorded delivery, and whether it was accepted; `None` for anything not judged
/// (no answer, a 5xx) or without a timestamp.
fn observed(exchange: &Exchange) -> Option<(i64, bool)> {
    let sent: i64 = header(exchange, HEADER_TIMESTAMP)?.parse().ok()?;
    let offset = sent - exchange.started_at_ms.div_euclid(1000);
    if probing::accepted(exchange) {
        Some((offset, true))
    } else if probing::refused(exchange) {
        Some((offset, false))
    } else {
        None
    }
}

/// Probes the window when the clock-skew check failed after its control delivery
/// (timestamp now) was accepted.
pub(super) async fn diagnose(checks: &mut [CheckResult], ctx: &RunContext, rng: &mut SeededRng) {
    let Some(index) = probing::find(checks, DiagnosisKind::ClockSkew) else {
        return;
    };
    let check = &checks[index];
    if !probing::failed(check) {
        return;
    }
    let known: Vec<(i64, bool)> = check.exchanges.iter().filter_map(observed).collect();
    // Without an accepted delivery near now, a refusal says nothing about the window.
    if !known.iter().any(|(offset, ok)| *ok && offset.abs() <= 2) {
        return;
    }
    let Some(body) = check.exchanges.first().map(|e| e.request.body.clone()) else {
        return;
    };
    let mut behind = Side::default();
    let mut ahead = Side::default();
    for (offset, ok) in &known {
        match offset {
            o if *o < -2 => behind.learn(-o, *ok),
            o if *o > 2 => ahead.learn(*o, *ok),
            _ => {}
        }
    }
    let mut records: Vec<ProbeRecord> = Vec::new();
    for (side, ladder, sign, name) in [
        (&mut behind, BEHIND, -1, "behind"),
        (&mut ahead, AHEAD, 1, "ahead"),
    ] {
        // A side the check saw accepted needs no ladder; an untried or refused one does.
        if side.accepted.is_some() && side.refused.is_none() {
            continue;
        }
        for &step in ladder {
            if side.refused.is_some_and(|r| step >= r) {
                break;
            }
            let id = random::uuid(rng);
            let timestamp = unix_now() + sign * step;
            let signed = SignedHeaders::new(&[&ctx.secret], &id, timestamp, &body, ctx.format);
            let attempt = probing::delivery(ctx, &body, &signed, rng);
            let mut sent = probing::send(
                ctx,
                vec![(
                    format!("{name}-{step}s"),
                    format!("correctly signed, timestamp {step} s {name}"),
                    attempt,
                )],
            )
            .await;
            let Some(record) = sent.pop() else { break };
            let judged = observed(&record.exchange).map(|(_, ok)| ok);
            records.push(record);
            match judged {
                Some(ok) => side.learn(step, ok),
                None => break,
            }
            if judged == Some(false) {
                break;
            }
        }
    }
    let refusals: Vec<String> = [behind.describe("behind"), ahead.describe("ahead of")]
        .into_iter()
        .flatten()
        .collect();
    if refusals.is_empty() {
        return;
    }
    let window = [behind.estimate(), ahead.estimate()]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(0);
    let finding = format!(
        "your endpoint {}: your window is about {window} s; Spotnana's clock and yours differ by seconds, so allow at least 90 s behind and 30 s ahead (5 minutes is usual)",
        probing::list(&refusals)
    );
    probing::attach(
        &mut checks[index],
        Diagnosis {
            kind: "clock-skew",
            confirmed: true,
            finding,
            cause: None,
            fixes: Vec::new(),
            steps: Vec::new(),
            probes: records,
        },
    );
}
