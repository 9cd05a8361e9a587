//! One fully formed HTTP request, and the headers Spotnana puts on a delivery.
//!
//! An [`Attempt`] is sent exactly as given: the runner builds deliberately broken
//! deliveries (missing or forged signatures), so nothing here validates them.

use bytes::Bytes;

use super::exchange::{RequestRecord, excerpt, recorded_value};
use crate::error::SetupError;
use crate::event::SeededRng;
use crate::event::random;
use crate::signing::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, SignatureFormat, SignedHeaders,
};

/// The `Content-Type` header name as sent.
pub const HEADER_CONTENT_TYPE: &str = "Content-Type";
/// The B3 trace id header name as sent (32 hex digits).
pub const HEADER_TRACE_ID: &str = "X-B3-TraceId";
/// The B3 span id header name as sent (16 hex digits).
pub const HEADER_SPAN_ID: &str = "X-B3-SpanId";

/// Headers that Spotnana sets itself and that custom headers cannot override
/// (lowercase; compare case-insensitively with [`is_reserved`]).
pub const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "authorization",
    HEADER_ID,
    HEADER_TIMESTAMP,
    HEADER_SIGNATURE,
    "x-b3-traceid",
    "x-b3-spanid",
    "host",
    "content-length",
];

/// Whether `name` is a header custom headers may not set (case-insensitive).
pub fn is_reserved(name: &str) -> bool {
    RESERVED_HEADERS
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(name.trim()))
}

/// Refuses custom headers that would override one Spotnana sets itself.
pub fn check_custom_headers(custom: &[(String, String)]) -> Result<(), SetupError> {
    match custom.iter().find(|(name, _)| is_reserved(name)) {
        None => Ok(()),
        Some((name, _)) => Err(SetupError::new(format!(
            "--header `{name}` cannot be set: Spotnana sets this header itself \
             and subscription custom headers cannot override it"
        ))
        .with_hint(format!(
            "custom headers are for extra headers such as `API-Version: 2.0`; reserved: {}",
            RESERVED_HEADERS.join(", ")
        ))),
    }
}

/// The headers of one delivery, in the order sent: `Content-Type: application/json`,
/// the three signature headers (when `signed` is `Some`), `X-B3-TraceId`,
/// `X-B3-SpanId`, then the custom headers. Reserved names among the custom headers
/// are dropped (the CLI refuses them earlier with [`check_custom_headers`]).
pub fn delivery_headers(
    signed: Option<&SignedHeaders>,
    trace_id: &str,
    span_id: &str,
    custom: &[(String, String)],
) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(6 + custom.len());
    headers.push((
        HEADER_CONTENT_TYPE.to_owned(),
        "application/json".to_owned(),
    ));
    if let Some(signed) = signed {
        for (name, value) in signed.pairs() {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    headers.push((HEADER_TRACE_ID.to_owned(), trace_id.to_owned()));
    headers.push((HEADER_SPAN_ID.to_owned(), span_id.to_owned()));
    headers.extend(
        custom
            .iter()
            .filter(|(name, _)| !is_reserved(name))
            .cloned(),
    );
    headers
}

/// One HTTP request exactly as it will be sent.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The method (`POST` for deliveries).
    pub method: reqwest::Method,
    /// The full URL.
    pub url: String,
    /// Headers in the order sent (duplicates allowed).
    pub headers: Vec<(String, String)>,
    /// The raw body bytes.
    pub body: Bytes,
}

impl Attempt {
    /// A `POST` of `body` to `url` with `headers`.
    pub fn post(url: impl Into<String>, headers: Vec<(String, String)>, body: Bytes) -> Attempt {
        Attempt {
            method: reqwest::Method::POST,
            url: url.into(),
            headers,
            body,
        }
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The secret-free record of this request: credential headers redacted, the
    /// first KiB of the body.
    pub fn record(&self) -> RequestRecord {
        RequestRecord {
            method: self.method.as_str().to_owned(),
            url: self.url.clone(),
            headers: self
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), recorded_value(name, value)))
                .collect(),
            body_len: self.body.len(),
            body_excerpt: excerpt(&self.body),
            body: self.body.clone(),
        }
    }
}

/// A correctly signed delivery of `body` to `url`, as Spotnana sends it: signed with
/// every secret in `secrets` (several during rotation) for `webhook_id` at
/// `timestamp` (Unix seconds), fresh B3 trace and span ids drawn from `rng`, and the
/// custom headers (reserved names dropped).
#[allow(clippy::too_many_arguments)]
pub fn signed_attempt(
    url: &str,
    secrets: &[&Secret],
    webhook_id: &str,
    timestamp: i64,
    body: Bytes,
    format: SignatureFormat,
    custom: &[(String, String)],
    rng: &mut SeededRng,
) -> Attempt {
    let signed = SignedHeaders::new(secrets, webhook_id, timestamp, &body, format);
    let trace_id = random::trace_id(rng);
    let span_id = random::span_id(rng);
    let headers = delivery_headers(Some(&signed), &trace_id, &span_id, custom);
    Attempt::post(url, headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reserved_names_are_matched_case_insensitively() {
        assert!(is_reserved("Content-Type"));
        assert!(is_reserved("X-Spotnana-Webhook-Signature"));
        assert!(is_reserved("x-b3-TRACEID"));
        assert!(!is_reserved("API-Version"));
        let err = check_custom_headers(&custom(&[("API-Version", "2"), ("authorization", "x")]))
            .unwrap_err();
        assert!(
            err.message.contains("`authorization` cannot be set"),
            "{err}"
        );
        assert!(!err.to_string().contains(": x"));
        assert!(check_custom_headers(&custom(&[("API-Version", "2")])).is_ok());
    }

    #[test]
    fn delivery_headers_order_and_dropped_reserved_custom_headers() {
        let signed = SignedHeaders {
            id: "id".into(),
            timestamp: "1".into(),
            signature: "v1,sig".into(),
        };
        let headers = delivery_headers(
            Some(&signed),
            "t",
            "s",
            &custom(&[("Content-Type", "text/plain"), ("API-Version", "2.0")]),
        );
        let names: Vec<_> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                HEADER_ID,
                HEADER_TIMESTAMP,
                HEADER_SIGNATURE,
                "X-B3-TraceId",
                "X-B3-SpanId",
                "API-Version"
            ]
        );
        assert_eq!(headers[0].1, "application/json");
        let unsigned = delivery_headers(None, "t", "s", &[]);
        assert_eq!(unsigned.len(), 3);
    }

    #[test]
    fn signed_attempt_verifies_and_carries_b3_ids() {
        let secret = Secret::from_key(b"key".to_vec());
        let mut rng = random::rng(3);
        let attempt = signed_attempt(
            "http://127.0.0.1:9/hook",
            &[&secret],
            "evt",
            1_700_000_000,
            Bytes::from_static(b"{}"),
            SignatureFormat::Bare,
            &custom(&[("Authorization", "Bearer t")]),
            &mut rng,
        );
        assert_eq!(attempt.method, reqwest::Method::POST);
        assert_eq!(attempt.header("x-b3-traceid").unwrap().len(), 32);
        assert_eq!(attempt.header("x-b3-spanid").unwrap().len(), 16);
        assert_eq!(attempt.header("authorization"), None);
        let verifier = crate::signing::Verifier::new(vec![secret]);
        let verified = verifier.verify(
            attempt.header(HEADER_ID),
            attempt.header(HEADER_TIMESTAMP),
            attempt.header(HEADER_SIGNATURE),
            &attempt.body,
            1_700_000_000,
        );
        assert_eq!(verified, Ok(SignatureFormat::Bare));
    }

    #[test]
    fn record_redacts_credentials() {
        let attempt = Attempt::post(
            "http://127.0.0.1:9/",
            custom(&[
                ("Authorization", "Bearer secret-token"),
                ("API-Version", "2"),
            ]),
            Bytes::from_static(b"{\"a\":1}"),
        );
        let record = attempt.record();
        assert_eq!(record.headers[0].1, "***redacted***");
        assert_eq!(record.headers[1].1, "2");
        assert_eq!(record.body_len, 7);
        assert_eq!(record.body_excerpt, "{\"a\":1}");
    }
}
