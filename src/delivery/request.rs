//! One fully formed HTTP request, and the headers Spotnana puts on a delivery.
//!
//! An [`Attempt`] is sent exactly as given: the runner builds deliberately broken
//! deliveries (missing or forged signatures), so nothing here validates them.

use bytes::Bytes;

use super::exchange::{RequestRecord, excerpt, recorded_value};
use crate::event::SeededRng;
use crate::event::random;
use crate::signing::{Secret, SignatureFormat, SignedHeaders};

pub use crate::wire::{
    HEADER_CONTENT_TYPE, HEADER_SPAN_ID, HEADER_TRACE_ID, RESERVED_HEADERS, is_reserved,
};

/// Why custom headers cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomHeaderError {
    /// A custom header would override one Spotnana sets itself.
    #[error(
        "`{0}` cannot be set: Spotnana sets this header itself and subscription custom headers cannot override it"
    )]
    Reserved(String),
}

/// Refuses custom headers that would override one Spotnana sets itself.
pub fn check_custom_headers(custom: &[(String, String)]) -> Result<(), CustomHeaderError> {
    match custom.iter().find(|(name, _)| is_reserved(name)) {
        None => Ok(()),
        Some((name, _)) => Err(CustomHeaderError::Reserved(name.clone())),
    }
}

/// The headers of one delivery, in the order sent (see
/// [`crate::wire::for_each_delivery_header`]): `Content-Type`, the three signature
/// headers (when `signed` is `Some`), the B3 ids, then the custom headers with
/// reserved names dropped.
pub fn delivery_headers(
    signed: Option<&SignedHeaders>,
    trace_id: &str,
    span_id: &str,
    custom: &[(String, String)],
) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(6 + custom.len());
    let signature = signed
        .map(SignedHeaders::pairs)
        .into_iter()
        .flatten()
        .map(|(name, value)| (name, value.as_bytes()));
    crate::wire::for_each_delivery_header(
        signature,
        trace_id.as_bytes(),
        span_id.as_bytes(),
        custom.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
        |name, value| headers.push((name.to_owned(), String::from_utf8_lossy(value).into_owned())),
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
        crate::wire::header(&self.headers, name)
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
    use crate::delivery::request::*;
    use crate::event::random;
    use crate::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, SignatureFormat};
    use bytes::Bytes;

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
        assert_eq!(err, CustomHeaderError::Reserved("authorization".into()));
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
