//! The webhook handler: read the raw body, verify, answer at once, queue.
//!
//! Decision: a validly signed body that is not JSON (or not an envelope) is still
//! answered `200`: Spotnana delivered it and signed it, so refusing would only
//! make Spotnana retry the same bytes for two weeks. The processor logs the parse
//! error instead (the `error` field of the event log).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::bookings::{BookingEvent, Bookings};
use super::flaw::{Flaw, Flaws, HEADER_ALLOWLIST, KNOWN_ENVELOPE_KEYS};
use super::state::{BoundedMap, BoundedSet, Counters, Observed, WebhookRecord};
use crate::event::EventType;
use crate::event::envelope::parse_timestamp;
use crate::event::schema::PayloadSchema;
use crate::signing::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, Token, Verifier, VerifyError,
    parse_tokens, unix_now,
};

/// How long a client may take to send its body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a [`Flaw::MaxConcurrent`] receiver holds each valid request.
const CONCURRENCY_HOLD: Duration = Duration::from_millis(30);

/// One verified delivery waiting for processing.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) id: String,
    pub(crate) body: Bytes,
    pub(crate) received_at: OffsetDateTime,
    pub(crate) trace_id: Option<String>,
    pub(crate) span_id: Option<String>,
}

/// State only the flaws need (the conformant receiver keeps none of it).
#[derive(Debug)]
pub(crate) struct FlawState {
    trusted_tokens: BoundedSet<String>,
    newest_by_pnr: BoundedMap<String, OffsetDateTime>,
    first_organization: Option<String>,
    failures: BoundedMap<String, usize>,
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) verifier: Verifier,
    pub(crate) untimed_verifier: Verifier,
    pub(crate) tolerance: Option<Duration>,
    pub(crate) body_limit: usize,
    pub(crate) flaws: Flaws,
    pub(crate) counters: Counters,
    pub(crate) observed: Mutex<Observed>,
    pub(crate) flaw_state: Mutex<FlawState>,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) queue: mpsc::Sender<Queued>,
    /// Legacy OAuth token issuing and bearer checking, when configured.
    pub(crate) oauth: Option<super::oauth::TokenIssuer>,
    /// Refuse (`400`) a payload its published schema rejects.
    pub(crate) validate_payloads: bool,
    /// The bookings held with `stateful` on.
    pub(crate) bookings: Option<Mutex<Bookings>>,
}

impl Shared {
    pub(crate) fn new(
        config: &super::config::ReceiverConfig,
        queue: mpsc::Sender<Queued>,
    ) -> Shared {
        let flaws = Flaws::new(config.flaws.clone());
        let body_limit = flaws
            .body_limit()
            .map_or(config.max_body_bytes, |n| n.min(config.max_body_bytes));
        let capacity = config.dedupe_capacity;
        let secrets: Vec<Secret> = if flaws.has(&Flaw::KeyNotDecoded) {
            config
                .secrets
                .iter()
                .map(|s| Secret::from_key(s.expose_whsec().into_bytes()))
                .collect()
        } else {
            config.secrets.clone()
        };
        Shared {
            verifier: Verifier::new(secrets.clone()).with_tolerance(config.tolerance),
            untimed_verifier: Verifier::new(secrets).with_tolerance(None),
            tolerance: config.tolerance,
            body_limit,
            flaws,
            counters: Counters::default(),
            observed: Mutex::new(Observed::new(capacity)),
            flaw_state: Mutex::new(FlawState {
                trusted_tokens: BoundedSet::new(capacity),
                newest_by_pnr: BoundedMap::new(capacity),
                first_organization: None,
                failures: BoundedMap::new(capacity),
            }),
            in_flight: AtomicUsize::new(0),
            queue,
            oauth: config.oauth.clone().map(super::oauth::TokenIssuer::new),
            validate_payloads: config.validate_payloads,
            bookings: config.stateful.then(|| Mutex::new(Bookings::new(capacity))),
        }
    }

    pub(crate) fn observed(&self) -> MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn flaw_state(&self) -> MutexGuard<'_, FlawState> {
        self.flaw_state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A refusal: status, the step that failed, and a short explanation.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    step: &'static str,
    detail: String,
    retry_after: bool,
    /// A bearer-token refusal (answered with `WWW-Authenticate: Bearer`).
    bearer: bool,
}

impl Refusal {
    fn new(status: StatusCode, step: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal {
            status,
            step,
            detail: detail.into(),
            retry_after: false,
            bearer: false,
        }
    }

    fn into_response(self) -> Response {
        let body = json!({
            "error": self.status.canonical_reason().unwrap_or("refused"),
            "step": self.step,
            "detail": self.detail,
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.bearer {
            super::oauth::challenge(&mut response);
        }
        response
    }
}

/// The name of the verification step that failed, as shown in the `401` body.
pub(crate) fn verify_step(err: &VerifyError) -> &'static str {
    match err {
        VerifyError::MissingHeader(_) => "missing-header",
        VerifyError::BadTimestamp(_) => "bad-timestamp",
        VerifyError::TimestampTooOld { .. } => "stale-timestamp",
        VerifyError::TimestampTooNew { .. } => "future-timestamp",
        VerifyError::NoTokens => "no-signature",
        VerifyError::Malformed(_) => "malformed-signature",
        VerifyError::NoMatch { .. } => "signature-mismatch",
    }
}

/// Decrements the in-flight count when the request ends, however it ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The webhook endpoint (every path except `/state…`).
pub(crate) async fn webhook(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    Counters::bump(&shared.counters.received);
    match handle(&shared, request).await {
        Ok(response) => {
            Counters::bump(&shared.counters.accepted);
            response
        }
        Err(refusal) => {
            Counters::bump(&shared.counters.rejected);
            refusal.into_response()
        }
    }
}

async fn handle(shared: &Shared, request: Request) -> Result<Response, Refusal> {
    let in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&shared.in_flight);
    let flaws = &shared.flaws;
    if let Some(max) = flaws.max_concurrent()
        && in_flight > max
    {
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too-many-requests",
            format!("more than {max} requests in flight"),
        ));
    }
    if request.method() != Method::POST {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method",
            "webhooks are delivered with POST",
        ));
    }
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    if flaws.has(&Flaw::RejectTraceHeaders)
        && let Some(name) = headers
            .keys()
            .find(|name| !HEADER_ALLOWLIST.contains(&name.as_str()))
    {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "unexpected-header",
            format!("header `{name}` is not allowed"),
        ));
    }
    if let Some(issuer) = &shared.oauth {
        super::oauth::check_bearer(issuer, flaws, &headers).map_err(|(status, step, detail)| {
            let mut refusal = Refusal::new(status, step, detail);
            refusal.bearer = true;
            refusal
        })?;
    }
    let body = read_body(&headers, body, shared.body_limit).await?;
    verify(shared, &headers, &body).map_err(|mut refusal| {
        if flaws.has(&Flaw::RejectWith500) {
            refusal.status = StatusCode::INTERNAL_SERVER_ERROR;
        }
        refusal
    })?;
    let id = header_text(&headers, HEADER_ID).unwrap_or_default();
    if flaws.inspects_envelope() {
        inspect_envelope(shared, &body)?;
    }
    if shared.validate_payloads {
        validate_payload(&body)?;
    }
    if flaws.has(&Flaw::RejectDuplicates) && shared.observed().webhook_view(&id).deliveries > 0 {
        return Err(Refusal::new(
            StatusCode::CONFLICT,
            "duplicate",
            "this webhook id was delivered before",
        ));
    }
    if let Some(n) = flaws.fail_first() {
        let mut state = shared.flaw_state();
        let failures = state.failures.entry(id.clone(), || 0);
        if *failures < n {
            *failures += 1;
            return Err(Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "temporary-failure",
                "simulated failure, try again",
            ));
        }
    }
    if flaws.max_concurrent().is_some() {
        tokio::time::sleep(CONCURRENCY_HOLD).await;
    }
    if let Some(delay) = flaws.slow_ack() {
        tokio::time::sleep(delay).await;
    }
    // Stateful: judged against the bookings held and applied once queued, under one
    // lock so two deliveries of one PNR are judged one after the other. A redelivered
    // webhook id was judged already (and answered 200): it is not judged again. The
    // body is read before taking the lock.
    let event = match &shared.bookings {
        Some(_) if shared.observed().webhook_view(&id).deliveries == 0 => BookingEvent::read(&body),
        _ => None,
    };
    let mut bookings = match (&shared.bookings, &event) {
        (Some(bookings), Some(_)) => Some(bookings.lock().unwrap_or_else(|e| e.into_inner())),
        _ => None,
    };
    let decision = match (&bookings, event) {
        (Some(held), Some(event)) => Some(held.judge(&event).map_err(|conflict| {
            Refusal::new(StatusCode::CONFLICT, "booking-conflict", conflict.0)
        })?),
        _ => None,
    };
    let queued = Queued {
        id: id.clone(),
        body,
        received_at: OffsetDateTime::now_utc(),
        trace_id: header_text(&headers, "x-b3-traceid"),
        span_id: header_text(&headers, "x-b3-spanid"),
    };
    if let Err(err) = shared.queue.try_send(queued) {
        let mut refusal = Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "queue-full",
            match err {
                mpsc::error::TrySendError::Full(_) => "the processing queue is full, retry later",
                mpsc::error::TrySendError::Closed(_) => "the receiver is shutting down",
            },
        );
        refusal.retry_after = true;
        return Err(refusal);
    }
    if let (Some(held), Some(decision)) = (&mut bookings, decision) {
        held.commit(decision);
    }
    drop(bookings);
    shared
        .observed()
        .webhooks
        .entry(id.clone(), WebhookRecord::default)
        .deliveries += 1;
    Ok(acknowledge(flaws, &id))
}

fn acknowledge(flaws: &Flaws, id: &str) -> Response {
    let body = axum::Json(json!({ "received": true, "id": id }));
    match flaws
        .status()
        .and_then(|code| StatusCode::from_u16(code).ok())
    {
        Some(status) if status.is_redirection() => {
            (status, [(header::LOCATION, "/moved")], body).into_response()
        }
        Some(status) => (status, body).into_response(),
        None => (StatusCode::OK, body).into_response(),
    }
}

/// A header's value as text (several values joined by a space, as rotation tokens
/// would be); `None` when absent. Non-UTF-8 bytes are replaced, which then fails
/// verification rather than looking "missing".
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let parts: Vec<String> = values
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    Some(parts.join(" "))
}

async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "the body did not arrive in time",
        )),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => {
            let inner = err.into_inner();
            if inner
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(too_large())
            } else {
                Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "body-unreadable",
                    "the body could not be read",
                ))
            }
        }
    }
}

fn unauthorized(err: VerifyError) -> Refusal {
    Refusal::new(StatusCode::UNAUTHORIZED, verify_step(&err), err.to_string())
}

/// Verifies a delivery, bending the rules as the flaws in force say.
fn verify(shared: &Shared, headers: &HeaderMap, body: &Bytes) -> Result<(), Refusal> {
    let flaws = &shared.flaws;
    if flaws.has(&Flaw::SkipVerification) {
        return Ok(());
    }
    let id = header_text(headers, HEADER_ID);
    let timestamp = header_text(headers, HEADER_TIMESTAMP);
    let signature = header_text(headers, HEADER_SIGNATURE);
    if flaws.is_empty() {
        return shared
            .verifier
            .verify(
                id.as_deref(),
                timestamp.as_deref(),
                signature.as_deref(),
                body,
                unix_now(),
            )
            .map(|_| ())
            .map_err(unauthorized);
    }
    let Some(original) = signature else {
        if flaws.has(&Flaw::AcceptMissingSignature) {
            return Ok(());
        }
        // Let the verifier name the first missing header, as without flaws.
        return shared
            .verifier
            .verify(id.as_deref(), timestamp.as_deref(), None, body, unix_now())
            .map(|_| ())
            .map_err(unauthorized);
    };
    if flaws.has(&Flaw::AcceptUndecodableSignature) {
        let tokens = parse_tokens(&original);
        if tokens.is_empty() || tokens.iter().any(|t| matches!(t, Token::Invalid(_))) {
            return Ok(());
        }
    }
    if flaws.has(&Flaw::TrustSeenSignatures) {
        let state = shared.flaw_state();
        if original
            .split_ascii_whitespace()
            .any(|token| state.trusted_tokens.contains(&token.to_owned()))
        {
            return Ok(());
        }
    }
    let mut tokens: Vec<&str> = original.split_ascii_whitespace().collect();
    if flaws.has(&Flaw::FirstTokenOnly) {
        tokens.truncate(1);
    }
    if flaws.has(&Flaw::LastTokenOnly) && tokens.len() > 1 {
        tokens.drain(..tokens.len() - 1);
    }
    for (flaw, keep, form) in [
        (
            Flaw::RequireV1Prefix,
            (|t: &str| t.starts_with("v1,")) as fn(&str) -> bool,
            "`v1,<base64>`",
        ),
        (
            Flaw::RequireBareToken,
            |t: &str| !t.contains(','),
            "bare Base64",
        ),
    ] {
        if flaws.has(&flaw) && !tokens.is_empty() {
            tokens.retain(|t| keep(t));
            if tokens.is_empty() {
                return Err(unauthorized(VerifyError::Malformed(format!(
                    "only {form} tokens are accepted"
                ))));
            }
        }
    }
    let signature = tokens.join(" ");
    let reserialized;
    let checked: &[u8] = if flaws.has(&Flaw::ReserializeBeforeVerify) {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "invalid-json", "not JSON"))?;
        reserialized = serde_json::to_vec(&value).unwrap_or_default();
        &reserialized
    } else if flaws.has(&Flaw::TrimBodyBeforeVerify) {
        body.trim_ascii()
    } else {
        body
    };
    let now = unix_now();
    let verifier = if flaws.has(&Flaw::NoTimestampCheck) {
        &shared.untimed_verifier
    } else if flaws.has(&Flaw::NoFutureTimestampCheck) {
        if let (Some(tolerance), Some(sent)) = (
            shared.tolerance,
            timestamp
                .as_deref()
                .and_then(|t| t.trim().parse::<i64>().ok()),
        ) {
            let age = now.saturating_sub(sent);
            if age > i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX) {
                return Err(unauthorized(VerifyError::TimestampTooOld {
                    age_secs: age,
                    tolerance_secs: tolerance.as_secs(),
                }));
            }
        }
        &shared.untimed_verifier
    } else {
        &shared.verifier
    };
    verifier
        .verify(
            id.as_deref(),
            timestamp.as_deref(),
            Some(&signature),
            checked,
            now,
        )
        .map_err(unauthorized)?;
    if flaws.has(&Flaw::TrustSeenSignatures) {
        let mut state = shared.flaw_state();
        for token in original.split_ascii_whitespace() {
            state.trusted_tokens.insert(token.to_owned());
        }
    }
    Ok(())
}

/// `--validate-payloads`: a verified delivery whose payload breaks the schema Spotnana
/// publishes for its event type gets `400` naming the first violation, as a strict
/// partner that validates against Spotnana's OpenAPI documents answers. Everything
/// else passes as without the option: a body that is not a JSON object, an event
/// type without a published schema (or an unknown one), an envelope without payload.
fn validate_payload(body: &[u8]) -> Result<(), Refusal> {
    let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    let schema = envelope
        .get("eventType")
        .or_else(|| envelope.get("event_type"))
        .and_then(Value::as_str)
        .and_then(|name| name.parse::<EventType>().ok())
        .and_then(PayloadSchema::of);
    let (Some(schema), Some(payload)) = (schema, envelope.get("payload")) else {
        return Ok(());
    };
    match schema.violations(payload).into_iter().next() {
        None => Ok(()),
        Some(violation) => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid-payload",
            format!(
                "/payload{}: {} ({} {})",
                violation.pointer, violation.message, schema.api, schema.name
            ),
        )),
    }
}

/// The envelope checks of the flaws that look inside the body before answering.
fn inspect_envelope(shared: &Shared, body: &[u8]) -> Result<(), Refusal> {
    let flaws = &shared.flaws;
    let bad = |step: &'static str, detail: String| {
        Err(Refusal::new(StatusCode::BAD_REQUEST, step, detail))
    };
    let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(body) else {
        return bad("invalid-json", "the body is not a JSON object".into());
    };
    let operation = envelope
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("");
    let event_type = envelope
        .get("eventType")
        .or_else(|| envelope.get("event_type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if flaws.has(&Flaw::StrictFields) {
        if let Some(key) = envelope
            .keys()
            .find(|k| !KNOWN_ENVELOPE_KEYS.contains(&k.as_str()))
        {
            return bad("unknown-field", format!("unknown field `{key}`"));
        }
        if let Some(Value::Object(audience)) = envelope.get("audience")
            && let Some(key) = audience.keys().find(|k| k.as_str() != "organizationId")
        {
            return bad("unknown-field", format!("unknown field `audience.{key}`"));
        }
    }
    if flaws.rejects_operation(operation) {
        return bad(
            "unsupported-operation",
            format!("operation `{operation}` is not handled"),
        );
    }
    if flaws.has(&Flaw::RejectUnknownOperations) {
        let known = event_type
            .parse::<EventType>()
            .is_ok_and(|t| t.has_operation(operation));
        if !known {
            return bad(
                "unknown-operation",
                format!("`{event_type}/{operation}` is not a known event"),
            );
        }
    }
    if flaws.has(&Flaw::SingleOrganization) {
        let organization = envelope
            .get("audience")
            .and_then(|a| a.get("organizationId"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut state = shared.flaw_state();
        let first = state
            .first_organization
            .get_or_insert_with(|| organization.clone());
        if *first != organization {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "wrong-organization",
                format!("organization `{organization}` is not this receiver's"),
            ));
        }
    }
    if flaws.has(&Flaw::RejectOutOfOrder) {
        let pnr_id = envelope
            .get("payload")
            .and_then(|p| p.get("pnrId"))
            .and_then(Value::as_str);
        let timestamp = envelope
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_timestamp);
        if let (Some(pnr_id), Some(timestamp)) = (pnr_id, timestamp) {
            let mut state = shared.flaw_state();
            let newest = state.newest_by_pnr.entry(pnr_id.to_owned(), || timestamp);
            if timestamp < *newest {
                return Err(Refusal::new(
                    StatusCode::CONFLICT,
                    "out-of-order",
                    format!("an event newer than this one was already seen for PNR `{pnr_id}`"),
                ));
            }
            *newest = timestamp;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receiver::config::ReceiverConfig;
    use crate::signing::{Secret, SignatureFormat};

    fn signed_request(secret: &Secret, id: &str) -> Request {
        let body = br#"{"eventType":"PNR_V3"}"#;
        let now = unix_now();
        let signature = secret
            .sign(id, &now.to_string(), body)
            .token(SignatureFormat::V1);
        axum::http::Request::builder()
            .method(Method::POST)
            .uri("/webhooks")
            .header(HEADER_ID, id)
            .header(HEADER_TIMESTAMP, now.to_string())
            .header(HEADER_SIGNATURE, signature)
            .body(Body::from(body.to_vec()))
            .unwrap()
    }

    #[tokio::test]
    async fn a_full_queue_answers_503_with_retry_after() {
        let secret = Secret::from_key(b"queue-test".to_vec());
        let config = ReceiverConfig {
            secrets: vec![secret.clone()],
            ..ReceiverConfig::default()
        };
        // Nobody drains this queue of one.
        let (sender, _receiver) = mpsc::channel(1);
        let shared = Arc::new(Shared::new(&config, sender));
        let first = webhook(State(shared.clone()), signed_request(&secret, "a")).await;
        assert_eq!(first.status(), StatusCode::OK);
        let second = webhook(State(shared.clone()), signed_request(&secret, "b")).await;
        assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(second.headers()[header::RETRY_AFTER], "1");
        let stats = shared.counters.snapshot();
        assert_eq!((stats.accepted, stats.rejected), (1, 1));
        let get = axum::http::Request::builder()
            .method(Method::GET)
            .uri("/webhooks")
            .body(Body::empty())
            .unwrap();
        let get = webhook(State(shared), get).await;
        assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
