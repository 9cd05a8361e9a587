//! The diagnoses beyond the signature computation, each asked only when its check
//! failed while correctly signed deliveries were accepted (otherwise the signature
//! diagnosis explains the failure): a rotation header refused in one position only,
//! some body styles refused, and a fixed allow-list of event types or operations;
//! and a TLS client-certificate requirement, which no delivery gets past.

use bytes::Bytes;
use serde_json::Value;

use super::probes::{HEADER_FIX, STACKS};
use super::probing;
use crate::check::{CheckResult, DiagnosisKind};
use crate::check::{Diagnosis, DiagnosisCause, ProbeRecord, StackFix};
use crate::event::body_style::BodyStyle;
use crate::event::random::{self, SeededRng};
use crate::runner::compose::{self, ComposeContext, SendPlan};
use crate::runner::context::RunContext;
use crate::signing::{Secret, SignatureFormat, SignedHeaders, join_tokens, unix_now};

/// The check declaring `kind` when it failed and correctly signed deliveries were not
/// refused (the check declaring the signature diagnosis did not fail).
fn explainable(checks: &[CheckResult], kind: DiagnosisKind) -> Option<usize> {
    let index = probing::find(checks, kind)?;
    (probing::failed(&checks[index]) && !probing::check_failed(checks, DiagnosisKind::Signature))
        .then_some(index)
}

fn diagnosis(kind: &'static str, finding: String, probes: Vec<ProbeRecord>) -> Diagnosis {
    Diagnosis {
        kind,
        confirmed: true,
        finding,
        cause: None,
        fixes: Vec::new(),
        steps: Vec::new(),
        probes,
    }
}

fn compose_context<'a>(ctx: &'a RunContext) -> ComposeContext<'a> {
    ComposeContext {
        url: &ctx.endpoint,
        secret: &ctx.secret,
        format: ctx.format,
        envelope: ctx.envelope,
        organization_id: &ctx.organization_id,
        headers: &ctx.headers,
        now_unix: unix_now(),
    }
}

/// A rotation header (a stale-key token and the valid one) refused in one position
/// only: the position the check did not reach is asked once.
pub(super) async fn rotation(checks: &mut [CheckResult], ctx: &RunContext, rng: &mut SeededRng) {
    let Some(index) = explainable(checks, DiagnosisKind::Rotation) else {
        return;
    };
    // Whether the endpoint accepted the valid token first, and last.
    let mut first: Option<bool> = None;
    let mut last: Option<bool> = None;
    let mut body: Option<Bytes> = None;
    for exchange in &checks[index].exchanges {
        let Some(signed) = probing::signed_headers(exchange) else {
            continue;
        };
        let tokens: Vec<&str> = signed.signature.split_ascii_whitespace().collect();
        if tokens.len() < 2 {
            continue;
        }
        let valid = ctx
            .secret
            .sign(&signed.id, &signed.timestamp, &exchange.request.body);
        let is_valid = |t: &&str| {
            *t == valid.token(SignatureFormat::V1) || *t == valid.token(SignatureFormat::Bare)
        };
        let verdict = if probing::accepted(exchange) {
            Some(true)
        } else if probing::refused(exchange) {
            Some(false)
        } else {
            None
        };
        match tokens.iter().position(is_valid) {
            Some(0) => first = first.or(verdict),
            Some(p) if p + 1 == tokens.len() => last = last.or(verdict),
            _ => {}
        }
        body.get_or_insert_with(|| exchange.request.body.clone());
    }
    let Some(body) = body else { return };
    let mut records = Vec::new();
    for (slot, valid_first) in [(&mut first, true), (&mut last, false)] {
        if slot.is_some() {
            continue;
        }
        let id = random::uuid(rng);
        let timestamp = unix_now().to_string();
        let valid = ctx.secret.sign(&id, &timestamp, &body).token(ctx.format);
        let stale = Secret::generate(rng)
            .sign(&id, &timestamp, &body)
            .token(ctx.format);
        let (name, signature) = if valid_first {
            ("valid-first", join_tokens([valid, stale]))
        } else {
            ("valid-last", join_tokens([stale, valid]))
        };
        let signed = SignedHeaders {
            id,
            timestamp,
            signature,
        };
        let attempt = probing::delivery(ctx, &body, &signed, rng);
        let description = format!(
            "rotation header with the valid token {}",
            if valid_first { "first" } else { "last" }
        );
        let mut sent = probing::send(ctx, vec![(name.to_owned(), description, attempt)]).await;
        if let Some(record) = sent.pop() {
            *slot = if record.accepted {
                Some(true)
            } else if probing::refused(&record.exchange) {
                Some(false)
            } else {
                None
            };
            records.push(record);
        }
    }
    let finding = match (first, last) {
        (Some(true), Some(false)) => {
            "your endpoint checks only the first token of the signature header: it accepted the valid signature first and refused it second"
        }
        (Some(false), Some(true)) => {
            "your endpoint checks only the last token of the signature header: it accepted the valid signature last and refused it first"
        }
        (Some(false), Some(false)) => {
            "your endpoint refuses a header with two tokens whichever holds the valid signature: it compares the whole header instead of each space-separated token"
        }
        _ => return,
    };
    let mut found = diagnosis("rotation", finding.to_owned(), records);
    found.fixes = STACKS
        .iter()
        .zip(HEADER_FIX.lines)
        .map(|(stack, line)| StackFix { stack, line })
        .collect();
    probing::attach(&mut checks[index], found);
}

/// How many steps of `signature.raw-body` come before its styled bodies: the control
/// (a compact body that must be accepted first). Its exchanges are not style verdicts.
const RAW_BODY_CONTROLS: usize = 1;

/// The styled sends of `signature.raw-body`, in the order of its steps after the control.
const BODY_STYLES: &[(&str, BodyStyle, Option<&str>)] = &[
    ("pretty", BodyStyle::Pretty, None),
    ("reordered", BodyStyle::Reordered, None),
    ("escaped-unicode", BodyStyle::EscapedUnicode, None),
    ("float-forms", BodyStyle::FloatForms, None),
    (
        "raw-non-ascii",
        BodyStyle::Compact,
        Some(r#"{"remarks": "Zoë Ångström · 東京 → São Paulo ✈ 🧳"}"#),
    ),
];

/// A verifier that rejects some body styles: the styles the check did not reach are
/// sent once each, and the refused ones named.
pub(super) async fn body_styles(checks: &mut [CheckResult], ctx: &RunContext, rng: &mut SeededRng) {
    let Some(index) = explainable(checks, DiagnosisKind::BodyStyle) else {
        return;
    };
    let mut verdicts: Vec<Option<bool>> = checks[index]
        .exchanges
        .iter()
        .skip(RAW_BODY_CONTROLS)
        .take(BODY_STYLES.len())
        .map(|e| {
            if probing::accepted(e) {
                Some(true)
            } else if probing::refused(e) {
                Some(false)
            } else {
                None
            }
        })
        .collect();
    let Ok(kind) = "PNR_V3/BOOKING_TICKETED".parse() else {
        return;
    };
    let attempts = BODY_STYLES
        .iter()
        .skip(verdicts.len())
        .map(|(name, style, payload)| {
            let mut plan = SendPlan::new(kind);
            plan.body_style = *style;
            plan.payload_patch = payload.and_then(|p| serde_json::from_str(p).ok());
            let composed = compose::compose(&plan, &compose_context(ctx), None, None, rng);
            (
                (*name).to_owned(),
                format!("correctly signed, body written {name}"),
                composed.attempt,
            )
        })
        .collect();
    let records = probing::send(ctx, attempts).await;
    verdicts.extend(records.iter().map(|r| {
        if r.accepted {
            Some(true)
        } else if probing::refused(&r.exchange) {
            Some(false)
        } else {
            None
        }
    }));
    let named = |want: bool| -> Vec<String> {
        BODY_STYLES
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| **v == Some(want))
            .map(|((name, ..), _)| format!("`{name}`"))
            .collect()
    };
    let (refused, accepted) = (named(false), named(true));
    if refused.is_empty() {
        return;
    }
    let accepted = if accepted.is_empty() {
        String::new()
    } else {
        format!(" (accepted: {})", probing::list(&accepted))
    };
    let finding = format!(
        "your verifier refuses correctly signed bodies written {}{accepted} while it accepts compact ones: it verifies a re-serialized copy of the JSON instead of the raw bytes received",
        probing::list(&refused)
    );
    let mut found = diagnosis("body-style", finding, records);
    if let Some(control) = checks[index].exchanges.first() {
        let body = control.request.body.clone();
        super::reserialize::after_body_styles(&mut found, ctx, &body, rng).await;
    }
    probing::attach(&mut checks[index], found);
}

/// `EVENT/OPERATION` of a delivered body.
fn kind_of(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let event = value
        .get("eventType")
        .or_else(|| value.get("event_type"))?
        .as_str()?;
    let operation = value.get("operation")?.as_str()?;
    Some(format!("{event}/{operation}"))
}

/// A fixed allow-list of event types or operations: which subscribed kinds were
/// refused while others were accepted, and whether a known operation is accepted
/// where an unknown one was refused.
pub(super) async fn allow_list(checks: &mut [CheckResult], ctx: &RunContext, rng: &mut SeededRng) {
    if let Some(index) = explainable(checks, DiagnosisKind::EventAllowList) {
        let mut refused = Vec::new();
        let mut accepted = 0usize;
        for exchange in &checks[index].exchanges {
            if probing::accepted(exchange) {
                accepted += 1;
            } else if probing::refused(exchange)
                && let Some(kind) = kind_of(&exchange.request.body)
            {
                refused.push(format!("`{kind}` ({})", exchange.outcome_text()));
            }
        }
        if !refused.is_empty() && accepted > 0 {
            let finding = format!(
                "your endpoint refuses {} while it accepted the other {accepted}: it handles a fixed list of event types or operations; answer 200 to every one you subscribed to, even those you ignore",
                probing::list(&refused)
            );
            probing::attach(
                &mut checks[index],
                diagnosis("allow-list", finding, Vec::new()),
            );
        }
    }
    if let Some(index) = explainable(checks, DiagnosisKind::UnknownOperation) {
        let Some(unknown) = checks[index]
            .exchanges
            .iter()
            .find(|e| probing::refused(e))
            .and_then(|e| kind_of(&e.request.body))
        else {
            return;
        };
        let Ok(known) = "PNR_V3/BOOKING_UPDATED".parse() else {
            return;
        };
        let composed = compose::compose(
            &SendPlan::new(known),
            &compose_context(ctx),
            None,
            None,
            rng,
        );
        let records = probing::send(
            ctx,
            vec![(
                "known-operation".to_owned(),
                format!("the same event with a known operation ({known})"),
                composed.attempt,
            )],
        )
        .await;
        if records.first().is_some_and(|r| r.accepted) {
            let finding = format!(
                "your endpoint refuses `{unknown}`, an operation it does not know, but accepted the known `{known}`: it matches operations against a fixed list; acknowledge unknown ones with 200 and ignore them"
            );
            probing::attach(
                &mut checks[index],
                diagnosis("allow-list", finding, records),
            );
        }
    }
}

/// A TLS client-certificate requirement: the first failed check whose handshakes the
/// server ended with `certificate_required` gets the finding (no probe: every
/// delivery already asked, and the alert is the answer).
pub(super) fn client_certificate(checks: &mut [CheckResult], ctx: &RunContext) {
    let Some(check) = checks.iter_mut().find(|c| {
        probing::failed(c)
            && c.exchanges
                .iter()
                .any(|e| e.error.as_ref().is_some_and(|err| err.certificate_required))
    }) else {
        return;
    };
    let cause = DiagnosisCause::ClientCertificateRequired {
        presented: ctx.client_certificate,
    };
    probing::attach(
        check,
        Diagnosis {
            cause: Some(cause),
            ..diagnosis("client-certificate", cause.to_string(), Vec::new())
        },
    );
}
