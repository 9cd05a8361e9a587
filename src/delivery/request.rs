//! A fully formed HTTP request, and the headers every Spotnana delivery carries.

use bytes::Bytes;

use crate::error::SetupError;
use crate::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignedHeaders};

/// One request exactly as it will be sent. Not validated: checks build deliberately
/// broken requests on purpose.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// `POST` for deliveries, `GET` for observations.
    pub method: reqwest::Method,
    /// The full URL.
    pub url: String,
    /// Headers in the order they are sent.
    pub headers: Vec<(String, String)>,
    /// The body bytes (shared, never copied per attempt).
    pub body: Bytes,
}

/// Header names that spotcheck sets itself and `--header` cannot override.
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
    "transfer-encoding",
    "connection",
];

/// Whether `name` is reserved (case-insensitive).
pub fn is_reserved(name: &str) -> bool {
    RESERVED_HEADERS.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// Refuses custom headers that would override reserved ones, as Spotnana does.
pub fn check_custom_headers(headers: &[(String, String)]) -> Result<(), SetupError> {
    match headers.iter().find(|(name, _)| is_reserved(name)) {
        Some((name, _)) => Err(SetupError::new(format!(
            "--header `{name}` cannot be set: spotcheck sets it on every delivery, as Spotnana does"
        ))
        .with_hint(
            "custom headers cannot override Content-Type, Authorization, the signature or the trace headers",
        )),
        None => Ok(()),
    }
}

/// The headers of one delivery: `Content-Type`, the signature headers (when given),
/// the B3 trace headers, then custom headers (reserved names among them are dropped).
pub fn delivery_headers(
    signed: Option<&SignedHeaders>,
    trace_id: &str,
    span_id: &str,
    custom: &[(String, String)],
) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(6 + custom.len());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    if let Some(signed) = signed {
        for (name, value) in signed.pairs() {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    headers.push(("x-b3-traceid".to_owned(), trace_id.to_owned()));
    headers.push(("x-b3-spanid".to_owned(), span_id.to_owned()));
    headers.extend(
        custom
            .iter()
            .filter(|(name, _)| !is_reserved(name))
            .cloned(),
    );
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_headers_cannot_be_overridden() {
        let custom = vec![
            ("API-Version".to_owned(), "2.0".to_owned()),
            ("Content-Type".to_owned(), "text/plain".to_owned()),
        ];
        let headers = delivery_headers(None, "t", "s", &custom);
        assert_eq!(
            headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-type")).count(),
            1
        );
        assert!(headers.contains(&("API-Version".to_owned(), "2.0".to_owned())));
        assert!(check_custom_headers(&custom).is_err());
        assert!(check_custom_headers(&custom[..1]).is_ok());
    }
}
