//! Turning one planned send into the exact request Spotnana would make — or the
//! deliberately altered one a check needs (missing or garbage signature, rotated
//! keys, tampered bytes, stale timestamps, unusual JSON formatting).

use bytes::Bytes;
use serde_json::Value;
use time::OffsetDateTime;

use crate::delivery::request::Attempt;
use crate::event::body_style::{self, BodyStyle};
use crate::event::fixtures::{self, FixtureContext, Product};
use crate::event::random::{self, SeededRng};
use crate::event::story::Story;
use crate::event::{EnvelopeStyle, EventKind, envelope, merge_patch};
use crate::scenario::model::{SignatureSpec, SignatureToken, Tamper};
use crate::signing::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, SignatureFormat, join_tokens,
};
use std::sync::Arc;

/// Where the body comes from.
#[derive(Debug, Clone)]
pub enum Content {
    /// A generated event of this kind.
    Generated(EventKind),
    /// These exact bytes.
    Raw(Bytes),
    /// This payload, enveloped as an event of this kind (no fixture is generated).
    Payload(EventKind, Value),
}

/// Everything a single send can vary.
#[derive(Debug, Clone)]
pub struct SendPlan {
    /// The body's source.
    pub content: Content,
    /// Merged over the generated payload.
    pub payload_patch: Option<Value>,
    /// Merged over the envelope's top level.
    pub envelope_patch: Option<Value>,
    /// Grow the PNR to at least this many bytes.
    pub large: Option<usize>,
    /// Force the PNR product block.
    pub product: Option<Product>,
    /// Envelope timestamp offset from now, in milliseconds.
    pub message_offset_ms: i64,
    /// Signature header timestamp offset from now, in seconds.
    pub timestamp_offset_s: i64,
    /// The signature header.
    pub signature: SignatureSpec,
    /// Change made after signing.
    pub tamper: Option<Tamper>,
    /// How the JSON is written.
    pub body_style: BodyStyle,
    /// `audience.organizationId` (else the run's).
    pub org_id: Option<String>,
    /// The PNR id to use (else generated).
    pub pnr_id: Option<String>,
    /// Extra headers for this send.
    pub headers: Vec<(String, String)>,
    /// Headers normally sent that this send leaves out (lowercase names).
    pub omit_headers: Vec<String>,
    /// The booking this event is about and which of its story's events it is: the
    /// story gives the payload and the envelope `timestamp` (`message_offset_ms`,
    /// `product` and `pnr_id` are the story's then).
    pub story: Option<(Arc<Story>, usize)>,
}

impl SendPlan {
    /// A plain valid send of `kind`.
    pub fn new(kind: EventKind) -> SendPlan {
        SendPlan {
            content: Content::Generated(kind),
            payload_patch: None,
            envelope_patch: None,
            large: None,
            product: None,
            message_offset_ms: 0,
            timestamp_offset_s: 0,
            signature: SignatureSpec::Valid(None),
            tamper: None,
            body_style: BodyStyle::Compact,
            org_id: None,
            pnr_id: None,
            headers: Vec::new(),
            omit_headers: Vec::new(),
            story: None,
        }
    }
}

/// What composing needs from the run.
#[derive(Debug, Clone)]
pub struct ComposeContext<'a> {
    /// The endpoint URL.
    pub url: &'a str,
    /// The signing secret.
    pub secret: &'a Secret,
    /// The run's token form.
    pub format: SignatureFormat,
    /// The run's envelope style.
    pub envelope: EnvelopeStyle,
    /// The run's organization id.
    pub organization_id: &'a str,
    /// Headers on every delivery (`--header`).
    pub headers: &'a [(String, String)],
    /// Now, as Unix seconds (the signature timestamp base).
    pub now_unix: i64,
}

impl<'a> ComposeContext<'a> {
    /// The run's settings, with `now_unix` as the signature timestamp base.
    pub fn of(run: &'a super::context::RunContext, now_unix: i64) -> ComposeContext<'a> {
        ComposeContext {
            url: &run.endpoint,
            secret: &run.secret,
            format: run.format,
            envelope: run.envelope,
            organization_id: &run.organization_id,
            headers: &run.headers,
            now_unix,
        }
    }
}

/// A composed request and the facts later steps may refer to.
#[derive(Debug, Clone)]
pub struct Composed {
    /// The request to send.
    pub attempt: Attempt,
    /// The webhook id sent.
    pub webhook_id: String,
    /// The PNR id in the payload, if any.
    pub pnr_id: Option<String>,
    /// The signed body (before any tampering), for redelivery.
    pub body: Bytes,
}

/// Builds the body of a plan (without signing).
pub fn build_body(
    plan: &SendPlan,
    ctx: &ComposeContext<'_>,
    rng: &mut SeededRng,
) -> (Bytes, Option<String>) {
    let kind = match &plan.content {
        Content::Raw(bytes) => return (bytes.clone(), None),
        Content::Generated(kind) | Content::Payload(kind, _) => *kind,
    };
    let org = plan.org_id.as_deref().unwrap_or(ctx.organization_id);
    let mut message_time = OffsetDateTime::from_unix_timestamp(ctx.now_unix)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        + time::Duration::milliseconds(plan.message_offset_ms);
    let fixture_ctx = FixtureContext {
        organization_id: org,
        now: message_time,
        pnr_id: plan.pnr_id.as_deref(),
    };
    let mut generated = match (&plan.content, plan.product, &plan.story) {
        (Content::Payload(_, payload), _, _) => fixtures::Generated {
            payload: payload.clone(),
            operation_summary: envelope::empty_summary(),
        },
        (_, _, Some((story, index))) => {
            let (at, generated) = story.event(*index, rng);
            message_time = at;
            generated
        }
        (_, Some(product), _) if kind.event_type == crate::event::EventType::PnrV3 => {
            fixtures::pnr_payload(product, kind.operation, &fixture_ctx, rng)
        }
        _ => fixtures::generate(kind, &fixture_ctx, rng),
    };
    if let Some(patch) = &plan.payload_patch {
        merge_patch::merge(&mut generated.payload, patch);
    }
    if let Some(size) = plan.large {
        fixtures::inflate(&mut generated.payload, size, rng);
    }
    let mut event = envelope::Envelope {
        timestamp: message_time,
        event_type: kind.event_type.as_str(),
        operation: kind.operation,
        operation_summary: generated.operation_summary,
        organization_id: org,
        payload: generated.payload,
    }
    .to_json(ctx.envelope);
    if let Some(patch) = &plan.envelope_patch {
        merge_patch::merge(&mut event, patch);
    }
    let pnr_id = event
        .pointer("/payload/pnrId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (
        Bytes::from(body_style::write(&event, plan.body_style)),
        pnr_id,
    )
}

/// Signs `body` as `plan` says, for `webhook_id`: the id, timestamp and (unless
/// missing) signature headers.
pub fn sign_headers(
    plan: &SignatureSpec,
    ctx: &ComposeContext<'_>,
    webhook_id: &str,
    timestamp: i64,
    body: &[u8],
    rng: &mut SeededRng,
) -> Vec<(String, String)> {
    let ts = timestamp.to_string();
    let mut headers = vec![
        (HEADER_ID.to_owned(), webhook_id.to_owned()),
        (HEADER_TIMESTAMP.to_owned(), ts.clone()),
    ];
    let valid = ctx.secret.sign(webhook_id, &ts, body);
    let other = |rng: &mut SeededRng| Secret::generate(rng).sign(webhook_id, &ts, body);
    let value = match plan {
        SignatureSpec::Missing => return headers,
        SignatureSpec::Valid(format) => valid.token(format.unwrap_or(ctx.format)),
        SignatureSpec::Garbage => garbage_token(ctx.format, rng),
        SignatureSpec::WrongSecret => other(rng).token(ctx.format),
        SignatureSpec::Tokens(tokens) => join_tokens(tokens.iter().map(|token| match token {
            SignatureToken::Valid(format) => valid.token(format.unwrap_or(ctx.format)),
            SignatureToken::StaleKey => other(rng).token(ctx.format),
            SignatureToken::Garbage => garbage_token(ctx.format, rng),
        })),
    };
    headers.push((HEADER_SIGNATURE.to_owned(), value));
    headers
}

/// A token that is no signature: Base64-looking text that does not decode to 32 bytes.
fn garbage_token(format: SignatureFormat, rng: &mut SeededRng) -> String {
    let bytes: [u8; 24] = rand::Rng::random(rng);
    let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
    let text = &text[..text.len() - 3];
    match format {
        SignatureFormat::V1 => format!("v1,{text}"),
        SignatureFormat::Bare => text.to_owned(),
    }
}

/// Composes a fresh send: new webhook id (unless given), body, signature, B3 ids.
pub fn compose(
    plan: &SendPlan,
    ctx: &ComposeContext<'_>,
    webhook_id: Option<&str>,
    body: Option<(Bytes, Option<String>)>,
    rng: &mut SeededRng,
) -> Composed {
    let webhook_id = webhook_id
        .map(str::to_owned)
        .unwrap_or_else(|| random::uuid(rng));
    let (body, pnr_id) = body.unwrap_or_else(|| build_body(plan, ctx, rng));
    let timestamp = ctx.now_unix + plan.timestamp_offset_s;
    let mut signature = sign_headers(&plan.signature, ctx, &webhook_id, timestamp, &body, rng);
    signature.retain(|(name, _)| {
        !plan
            .omit_headers
            .iter()
            .any(|o| o.eq_ignore_ascii_case(name))
    });
    let mut attempt = assemble(ctx, plan, signature, body.clone(), rng);
    if let Some(tamper) = plan.tamper {
        apply_tamper(&mut attempt, tamper, rng);
    }
    Composed {
        attempt,
        webhook_id,
        pnr_id,
        body,
    }
}

fn assemble(
    ctx: &ComposeContext<'_>,
    plan: &SendPlan,
    signature: Vec<(String, String)>,
    body: Bytes,
    rng: &mut SeededRng,
) -> Attempt {
    let mut custom: Vec<(String, String)> = ctx.headers.to_vec();
    custom.extend(plan.headers.iter().cloned());
    let trace = random::trace_id(rng);
    let span = random::span_id(rng);
    let omitted = |name: &str| {
        plan.omit_headers
            .iter()
            .any(|o| o.eq_ignore_ascii_case(name))
    };
    let mut headers = Vec::with_capacity(6 + custom.len());
    crate::wire::for_each_delivery_header(
        signature.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
        trace.as_bytes(),
        span.as_bytes(),
        custom.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
        |name, value| {
            if !omitted(name) {
                headers.push((name.to_owned(), String::from_utf8_lossy(value).into_owned()));
            }
        },
    );
    Attempt {
        method: reqwest::Method::POST,
        url: ctx.url.to_owned(),
        headers,
        body,
    }
}

/// Changes a sent request after signing.
pub fn apply_tamper(attempt: &mut Attempt, tamper: Tamper, rng: &mut SeededRng) {
    match tamper {
        Tamper::Body => {
            let mut bytes = attempt.body.to_vec();
            match bytes.iter().rposition(u8::is_ascii_digit) {
                Some(i) => bytes[i] = b'0' + (bytes[i] - b'0' + 1) % 10,
                None => bytes.push(b' '),
            }
            attempt.body = Bytes::from(bytes);
        }
        Tamper::Id => set_header(attempt, HEADER_ID, random::uuid(rng)),
        Tamper::Timestamp => {
            let moved = header(attempt, HEADER_TIMESTAMP)
                .and_then(|t| t.parse::<i64>().ok())
                .map_or_else(|| "0".to_owned(), |t| (t + 1).to_string());
            set_header(attempt, HEADER_TIMESTAMP, moved);
        }
    }
}

/// A header's value in an attempt.
pub fn header<'a>(attempt: &'a Attempt, name: &str) -> Option<&'a str> {
    crate::wire::header(&attempt.headers, name)
}

fn set_header(attempt: &mut Attempt, name: &str, value: String) {
    if let Some(slot) = attempt
        .headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        slot.1 = value;
    } else {
        attempt.headers.push((name.to_owned(), value));
    }
}

/// Re-signs an earlier request for redelivery: same webhook id and body, fresh
/// timestamp, signature and trace ids.
pub fn redeliver(
    earlier: &Composed,
    plan: &SendPlan,
    ctx: &ComposeContext<'_>,
    rng: &mut SeededRng,
) -> Composed {
    compose(
        plan,
        ctx,
        Some(&earlier.webhook_id),
        Some((earlier.body.clone(), earlier.pnr_id.clone())),
        rng,
    )
}

#[cfg(test)]
mod tests {
    use crate::delivery::request::delivery_headers;
    use crate::event::{EnvelopeStyle, random};
    use crate::runner::compose::{ComposeContext, SendPlan, compose};
    use crate::signing::{Secret, SignatureFormat, SignedHeaders};

    #[test]
    fn a_composed_delivery_has_the_one_header_order() {
        let secret = Secret::from_key(b"k".to_vec());
        let run_headers = vec![("API-Version".to_owned(), "2.0".to_owned())];
        let ctx = ComposeContext {
            url: "https://partner.example/hook",
            secret: &secret,
            format: SignatureFormat::V1,
            envelope: EnvelopeStyle::EventType,
            organization_id: "org",
            headers: &run_headers,
            now_unix: 1_700_000_000,
        };
        let mut plan = SendPlan::new("PNR_V3/BOOKING_TICKETED".parse().unwrap());
        plan.headers = vec![("X-Step".to_owned(), "1".to_owned())];
        let names = header_names(&compose(&plan, &ctx, None, None, &mut random::rng(1)).attempt);
        let signed = SignedHeaders::new(&[&secret], "id", 1, b"{}", SignatureFormat::V1);
        let custom = [run_headers.clone(), plan.headers.clone()].concat();
        let expected = delivery_headers(Some(&signed), "t", "s", &custom);
        let expected: Vec<String> = expected.into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, expected);

        // A step that leaves headers out keeps the order of the rest.
        plan.omit_headers = vec!["content-type".into(), "x-b3-spanid".into()];
        let names = header_names(&compose(&plan, &ctx, None, None, &mut random::rng(1)).attempt);
        let kept: Vec<String> = expected
            .into_iter()
            .filter(|n| !["Content-Type", "X-B3-SpanId"].contains(&n.as_str()))
            .collect();
        assert_eq!(names, kept);
    }

    /// The names of an attempt's headers, in the order they are sent.
    fn header_names(attempt: &crate::delivery::request::Attempt) -> Vec<String> {
        attempt.headers.iter().map(|(n, _)| n.clone()).collect()
    }
}
