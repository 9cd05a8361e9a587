//! What every diagnosis does: find the failed check it explains, send probes (a few
//! at once) built like Spotnana's deliveries, read the answers, and attach the finding.

use bytes::Bytes;
use futures::StreamExt;

use crate::check::{CheckResult, Diagnosis, DiagnosisKind, ProbeRecord, Status};
use crate::delivery::exchange::Exchange;
use crate::delivery::request::{Attempt, delivery_headers};
use crate::event::random::{self, SeededRng};
use crate::runner::context::RunContext;
use crate::runner::recovery::header;
use crate::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignedHeaders};

/// Probes in flight at once.
pub(super) const CONCURRENCY: usize = 4;

/// Attaches `diagnosis` to `check`: its finding carries it (and its message ends
/// with it).
pub(super) fn attach(check: &mut CheckResult, diagnosis: Diagnosis) {
    check.diagnose(diagnosis);
}

/// Whether a check failed (or warned).
pub(super) fn failed(check: &CheckResult) -> bool {
    matches!(check.status, Status::Fail | Status::Warn)
}

/// The check that declares this diagnosis (`diagnosis = "…"` in its scenario file),
/// if it ran: declared on the check, so a renamed check keeps its diagnosis.
pub(super) fn find(checks: &[CheckResult], kind: DiagnosisKind) -> Option<usize> {
    checks.iter().position(|c| c.info.diagnosis == Some(kind))
}

/// Whether the check declaring this diagnosis ran and failed.
pub(super) fn check_failed(checks: &[CheckResult], kind: DiagnosisKind) -> bool {
    find(checks, kind).is_some_and(|i| failed(&checks[i]))
}

/// Whether an answer accepted the delivery.
pub(super) fn accepted(exchange: &Exchange) -> bool {
    exchange.status().is_some_and(|s| (200..300).contains(&s))
}

/// Whether an answer refused the delivery (a 4xx: the endpoint judged it, and said no).
pub(super) fn refused(exchange: &Exchange) -> bool {
    exchange.status().is_some_and(|s| (400..500).contains(&s))
}

/// A delivery of `body` with these signature header values, the run's custom
/// headers and fresh trace ids, in the order Spotnana sends them.
pub(super) fn delivery(
    ctx: &RunContext,
    body: &Bytes,
    signed: &SignedHeaders,
    rng: &mut SeededRng,
) -> Attempt {
    let trace = random::trace_id(rng);
    let span = random::span_id(rng);
    let headers = delivery_headers(Some(signed), &trace, &span, &ctx.headers);
    Attempt::post(&ctx.endpoint, headers, body.clone())
}

/// Sends probes (a few at once), each with the run's bearer token when OAuth is
/// configured; results in input order.
pub(super) async fn send(
    ctx: &RunContext,
    probes: Vec<(String, String, Attempt)>,
) -> Vec<ProbeRecord> {
    futures::stream::iter(probes)
        .map(|(id, description, attempt)| async move {
            let exchange = match &ctx.oauth {
                Some(oauth) => oauth.send(&attempt).await,
                None => ctx.client.send(&attempt).await,
            };
            ProbeRecord {
                id,
                description,
                accepted: accepted(&exchange),
                exchange,
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// The signature headers of a recorded request, when all three are there.
pub(super) fn signed_headers(exchange: &Exchange) -> Option<SignedHeaders> {
    Some(SignedHeaders {
        id: header(exchange, HEADER_ID)?.to_owned(),
        timestamp: header(exchange, HEADER_TIMESTAMP)?.to_owned(),
        signature: header(exchange, HEADER_SIGNATURE)?.to_owned(),
    })
}

/// `a, b and c`.
pub(super) fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
