//! The signature probes: when correctly signed deliveries are refused, the same
//! event signed each common wrong way ([`PROBES`]), and which one the endpoint accepts.

use super::probes::{PROBES, STACKS};
use super::probing;
use crate::check::CheckResult;
use crate::check::DiagnosisKind;
use crate::check::{Diagnosis, ProbeRecord, StackFix};
use crate::delivery::exchange::Exchange;
use crate::event::random::{self, SeededRng};
use crate::runner::context::RunContext;
use crate::runner::recovery::verifies;
use crate::signing::{SignedHeaders, Verifier, unix_now};

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

/// Which check to explain and the refused, correctly signed delivery whose body the
/// probes sign again: the check declaring `diagnosis = "signature"` (the built-in
/// `signature.valid-accepted`) when it failed with a refusal, or (when it did not run)
/// the first failed check holding such a delivery, provided most correctly signed
/// deliveries of the run were refused with 401 or 403. The flag says which: `true`
/// when the target is not the declaring check.
fn target(checks: &[CheckResult], ctx: &RunContext) -> Option<(usize, Exchange, bool)> {
    let verifier = Verifier::new(vec![ctx.secret.clone()]);
    let signed_refusal = |e: &Exchange| {
        e.request.method == "POST" && probing::refused(e) && verifies(&verifier, e).is_some()
    };
    if let Some(index) = probing::find(checks, DiagnosisKind::Signature) {
        let check = &checks[index];
        if !probing::failed(check) {
            return None;
        }
        let refused = check.exchanges.iter().find(|e| signed_refusal(e))?;
        return Some((index, refused.clone(), false));
    }
    let signed: Vec<&Exchange> = checks
        .iter()
        .flat_map(|c| &c.exchanges)
        .filter(|e| e.request.method == "POST" && verifies(&verifier, e).is_some())
        .collect();
    let unauthorized = signed
        .iter()
        .filter(|e| matches!(e.status(), Some(401 | 403)))
        .count();
    if signed.is_empty() || unauthorized * 2 <= signed.len() {
        return None;
    }
    checks.iter().enumerate().find_map(|(index, check)| {
        if !probing::failed(check) {
            return None;
        }
        let refused = check.exchanges.iter().find(|e| signed_refusal(e))?;
        Some((index, refused.clone(), true))
    })
}

/// Sends the signature probes when correctly signed deliveries were refused.
pub(super) async fn diagnose(checks: &mut [CheckResult], ctx: &RunContext, rng: &mut SeededRng) {
    let Some((index, refused, inferred)) = target(checks, ctx) else {
        return;
    };
    let body = refused.request.body.clone();
    if inferred && control_accepted(ctx, &body, rng).await {
        // The refusals were not about the signature the run sends (e.g. a check
        // refused another token form or a timestamp): the probes could only mislead.
        return;
    }
    let attempts = PROBES
        .iter()
        .filter(|probe| probe.applies(ctx.format))
        .map(|probe| {
            let id = random::uuid(rng);
            let timestamp = probe.timestamp(unix_now());
            let signature = probe.signature(&ctx.secret, &id, &timestamp, &body, ctx.format);
            let signed = SignedHeaders {
                id,
                timestamp,
                signature,
            };
            let attempt = probing::delivery(ctx, &body, &signed, rng);
            (probe.id.to_owned(), probe.mistake.to_owned(), attempt)
        })
        .collect();
    let records = probing::send(ctx, attempts).await;
    let mut diagnosis = judge(records);
    if diagnosis.probes.iter().all(|r| !r.accepted) {
        super::reserialize::after_signing_mistakes(&mut diagnosis, ctx, &body, rng).await;
    }
    probing::attach(&mut checks[index], diagnosis);
}

/// Whether the endpoint accepts `body` signed exactly as the run signs it, once more.
/// Asked only when `signature.valid-accepted` did not run, so that refusals of
/// something else are not read as a wrong verifier.
async fn control_accepted(ctx: &RunContext, body: &bytes::Bytes, rng: &mut SeededRng) -> bool {
    let id = random::uuid(rng);
    let signed = SignedHeaders::new(&[&ctx.secret], &id, unix_now(), body, ctx.format);
    let attempt = probing::delivery(ctx, body, &signed, rng);
    let records = probing::send(
        ctx,
        vec![(
            "control".to_owned(),
            "correctly signed, as the run signs".to_owned(),
            attempt,
        )],
    )
    .await;
    records.first().is_some_and(|r| r.accepted)
}

/// What the answers to the probes confirm.
fn judge(records: Vec<ProbeRecord>) -> Diagnosis {
    let accepted: Vec<&ProbeRecord> = records.iter().filter(|r| r.accepted).collect();
    let (confirmed, finding, fixes, steps) = match accepted.as_slice() {
        [one] => {
            let probe = PROBES
                .iter()
                .find(|p| p.id == one.id)
                .expect("records come from the table");
            let fixes = STACKS
                .iter()
                .zip(probe.fix.lines)
                .map(|(stack, line)| StackFix { stack, line })
                .collect();
            (
                true,
                format!(
                    "your endpoint {}: it accepted the same event signed that way (probe `{}`) and refused the correct signature; fix: {}",
                    probe.mistake, probe.id, probe.fix.summary
                ),
                fixes,
                Vec::new(),
            )
        }
        [] => (
            false,
            format!(
                "none of the {} common signing mistakes was accepted either, so the mistake is none of them: check each verification step",
                records.len()
            ),
            Vec::new(),
            steps(),
        ),
        several => (
            false,
            format!(
                "the endpoint accepted {} differently wrong signatures ({}), so it does not verify consistently and no single mistake can be named: check each verification step",
                several.len(),
                probing::list(
                    &several
                        .iter()
                        .map(|r| format!("`{}`", r.id))
                        .collect::<Vec<_>>()
                )
            ),
            Vec::new(),
            steps(),
        ),
    };
    Diagnosis {
        kind: "signature",
        confirmed,
        finding,
        cause: None,
        fixes,
        steps,
        probes: records,
    }
}

fn steps() -> Vec<String> {
    VERIFY_STEPS.iter().map(|s| (*s).to_owned()).collect()
}
