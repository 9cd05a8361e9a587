//! Diagnose, don't just detect: after the checks are judged, ask the endpoint what
//! exactly it does wrong, and name it.
//!
//! spotcheck holds the secret, so when a check fails in a way the endpoint can be
//! asked about, it sends a few more deliveries (probes), each differing from the
//! refused one in a single known way, and reports which one the endpoint accepts:
//!
//! - correctly signed deliveries refused: the same event signed each common wrong
//!   way ([`probes::PROBES`]); exactly one accepted names the mistake;
//! - a rotation header refused in one position only: the other order;
//! - some body styles refused: the styles not yet sent;
//! - a fixed allow-list of event types or operations: read from the answers, and one
//!   known operation when an unknown one was refused;
//! - a replay window too narrow for real clocks: a short ladder of clock offsets.
//!
//! Only what the endpoint confirmed is claimed. Probes are never sent when the check
//! they explain passed, are bounded in number, are listed in the report with their
//! answers, and `--no-diagnose` turns them all off.

pub mod probes;

mod clock;
mod others;
mod signature;

pub use crate::check::{Diagnosis, ProbeRecord, StackFix};
use bytes::Bytes;
use futures::StreamExt;

use crate::check::{CheckResult, Status};
use crate::delivery::exchange::Exchange;
use crate::delivery::request::{Attempt, delivery_headers};
use crate::event::random::{self, SeededRng};
use crate::runner::RunContext;
use crate::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignedHeaders};

/// The id of the check whose failure triggers the signature probes.
pub const VALID_ACCEPTED: &str = "signature.valid-accepted";

/// Probes in flight at once.
const CONCURRENCY: usize = 4;

/// The steps of a correct verification, in order: what to check one by one when no
/// probe names the mistake (the same steps `spotcheck verify` walks through).
pub const VERIFY_STEPS: &[&str] = &[
    "read the three headers: x-spotnana-webhook-id, x-spotnana-webhook-timestamp (Unix seconds) and x-spotnana-webhook-signature",
    "refuse a timestamp more than 5 minutes from your clock",
    "take the raw body bytes exactly as received, before any JSON parsing",
    "key = the Base64-decoded bytes after `whsec_` in your secret",
    "signed content = `{webhook id}.{timestamp}.{raw body}`, joined with dots",
    "expected = standard Base64 of HMAC-SHA256(key, signed content)",
    "split the signature header on spaces, strip `v1,` from each token, and accept if any token equals expected (constant-time)",
    "`spotcheck verify` with the headers and body your endpoint received shows each of these steps",
];

/// Runs every diagnosis the judged checks call for, attaching each to its check.
pub async fn run(checks: &mut [CheckResult], ctx: &RunContext) {
    let mut rng = random::rng_for(ctx.seed, "diagnose");
    signature::diagnose(checks, ctx, &mut rng).await;
    others::rotation(checks, ctx, &mut rng).await;
    others::body_styles(checks, ctx, &mut rng).await;
    others::allow_list(checks, ctx, &mut rng).await;
    clock::diagnose(checks, ctx, &mut rng).await;
    others::client_certificate(checks, ctx);
}

/// Attaches `diagnosis` to `check`: its message ends with the finding.
fn attach(check: &mut CheckResult, diagnosis: Diagnosis) {
    check.message = format!("{}; diagnosis: {}", check.message, diagnosis.finding);
    check.diagnosis = Some(diagnosis);
}

/// Whether a check failed (or warned).
fn failed(check: &CheckResult) -> bool {
    matches!(check.status, Status::Fail | Status::Warn)
}

/// The check with this id, if it ran.
fn find(checks: &[CheckResult], id: &str) -> Option<usize> {
    checks.iter().position(|c| c.info.id == id)
}

/// Whether `id` ran and failed.
fn check_failed(checks: &[CheckResult], id: &str) -> bool {
    find(checks, id).is_some_and(|i| failed(&checks[i]))
}

/// Whether an answer accepted the delivery.
fn accepted(exchange: &Exchange) -> bool {
    exchange.status().is_some_and(|s| (200..300).contains(&s))
}

/// Whether an answer refused the delivery (a 4xx: the endpoint judged it, and said no).
fn refused(exchange: &Exchange) -> bool {
    exchange.status().is_some_and(|s| (400..500).contains(&s))
}

use crate::runner::recovery::header;

/// A delivery of `body` with these signature header values, the run's custom
/// headers and fresh trace ids, in the order Spotnana sends them.
fn delivery(
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
async fn send(ctx: &RunContext, probes: Vec<(String, String, Attempt)>) -> Vec<ProbeRecord> {
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
fn signed_headers(exchange: &Exchange) -> Option<SignedHeaders> {
    Some(SignedHeaders {
        id: header(exchange, HEADER_ID)?.to_owned(),
        timestamp: header(exchange, HEADER_TIMESTAMP)?.to_owned(),
        signature: header(exchange, HEADER_SIGNATURE)?.to_owned(),
    })
}

/// `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
