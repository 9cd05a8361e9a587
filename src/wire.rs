//! A delivery as it goes on the wire: how long Spotnana waits for its answer, its
//! headers: what a header name may be, their names, the one order they are
//! sent in, the names a custom header may not take, and the one way to look a header
//! up. The delivery client (through `compose` and `delivery::request`) and the load
//! client both write headers through [`for_each_delivery_header`], so a check and a
//! load run send the same request shape.

use std::sync::LazyLock;
use std::time::Duration;

use crate::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};

/// The `Content-Type` header name as sent.
pub const HEADER_CONTENT_TYPE: &str = "Content-Type";
/// The B3 trace id header name as sent (32 hex digits).
pub const HEADER_TRACE_ID: &str = "X-B3-TraceId";
/// The B3 span id header name as sent (16 hex digits).
pub const HEADER_SPAN_ID: &str = "X-B3-SpanId";
/// The content type of every delivery.
pub const JSON: &[u8] = b"application/json";

/// How long Spotnana waits for one delivery's answer, connection set-up included:
/// the default `--timeout` of every command and what the advice quotes.
pub const SPOTNANA_TIMEOUT: Duration = Duration::from_secs(40);
/// The longest per-delivery timeout accepted (`--timeout`, a project file's
/// `timeout`): an enormous value would let a silent endpoint hold a run forever.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// [`SPOTNANA_TIMEOUT`] as a flag takes it (`40s`): the flags' default value.
pub static SPOTNANA_TIMEOUT_TEXT: LazyLock<String> =
    LazyLock::new(|| humantime::format_duration(SPOTNANA_TIMEOUT).to_string());

/// The characters besides ASCII letters and digits an HTTP header name may hold (a
/// `token`, RFC 9110 5.6.2).
pub const HEADER_NAME_PUNCTUATION: &str = "!#$%&'*+-.^_`|~";

/// Whether `name` is a valid HTTP header name: a non-empty `token` (RFC 9110 5.1).
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || HEADER_NAME_PUNCTUATION.as_bytes().contains(&b))
}

/// Header names that neither `--header` nor a scenario's `header` may set (lowercase;
/// compare with [`is_reserved`]). A custom header is sent after these and would
/// otherwise duplicate or contradict them.
pub const RESERVED_HEADERS: &[&str] = &[
    // Framing, written by the HTTP client from the URL and the body: a second value
    // would make the request ambiguous (request smuggling) or refused.
    "host",
    "content-length",
    "transfer-encoding",
    // Hop-by-hop: the client manages the connection; HTTP/2 forbids the header.
    "connection",
    // Every delivery is JSON; a check that needs another body uses `body`.
    "content-type",
    // Set by the legacy OAuth flow (`authorization` in a scenario step).
    "authorization",
    // The signature headers, computed over the body: alter them with `signature`,
    // `timestamp` or `tamper`, never by hand.
    HEADER_ID,
    HEADER_TIMESTAMP,
    HEADER_SIGNATURE,
    // Fresh per delivery, as Spotnana sends them; `omit_headers` leaves them out.
    "x-b3-traceid",
    "x-b3-spanid",
];

/// Whether `name` is a header custom headers may not set (case-insensitive).
pub fn is_reserved(name: &str) -> bool {
    let name = name.trim();
    RESERVED_HEADERS
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(name))
}

/// The first value of header `name` (case-insensitive) among `headers`.
pub fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Calls `emit` for each header of one delivery, in the order Spotnana sends them:
/// `Content-Type: application/json`, the signature headers given (id, timestamp,
/// signature; fewer when a check leaves one out), `X-B3-TraceId`, `X-B3-SpanId`, then
/// the subscription's custom headers. Reserved names among the custom headers are
/// skipped (the CLI and the scenario checker refuse them earlier).
///
/// `emit` gets borrowed bytes so the load client can write them straight into its
/// request buffer and the delivery client can collect them.
pub fn for_each_delivery_header<'a>(
    signature: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    trace_id: &'a [u8],
    span_id: &'a [u8],
    custom: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    mut emit: impl FnMut(&'a str, &'a [u8]),
) {
    emit(HEADER_CONTENT_TYPE, JSON);
    for (name, value) in signature {
        emit(name, value);
    }
    emit(HEADER_TRACE_ID, trace_id);
    emit(HEADER_SPAN_ID, span_id);
    for (name, value) in custom {
        if !is_reserved(name) {
            emit(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        HEADER_SPAN_ID, HEADER_TRACE_ID, for_each_delivery_header, header, is_header_name,
        is_reserved,
    };

    use crate::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};

    #[test]
    fn one_order_signature_then_trace_then_custom() {
        let signature = [
            (HEADER_ID, &b"id"[..]),
            (HEADER_TIMESTAMP, b"1"),
            (HEADER_SIGNATURE, b"v1,sig"),
        ];
        let custom = [
            ("API-Version", &b"2.0"[..]),
            ("content-type", b"text/plain"),
            ("Connection", b"close"),
        ];
        let mut names = Vec::new();
        for_each_delivery_header(signature, b"t", b"s", custom, |name, _| names.push(name));
        assert_eq!(
            names,
            [
                "Content-Type",
                HEADER_ID,
                HEADER_TIMESTAMP,
                HEADER_SIGNATURE,
                HEADER_TRACE_ID,
                HEADER_SPAN_ID,
                "API-Version"
            ]
        );
    }

    #[test]
    fn reserved_names_and_lookups_ignore_case() {
        assert!(is_reserved("Content-Type"));
        assert!(is_reserved(" X-Spotnana-Webhook-Signature"));
        assert!(is_reserved("x-b3-TRACEID"));
        assert!(is_reserved("Transfer-Encoding"));
        assert!(!is_reserved("API-Version"));
        assert!(!is_reserved("X-B3-Sampled"));
        let headers = vec![("X-One".to_owned(), "1".to_owned())];
        assert_eq!(header(&headers, "x-one"), Some("1"));
        assert_eq!(header(&headers, "x-two"), None);
    }

    #[test]
    fn a_header_name_is_a_non_empty_token() {
        for name in ["X-Partner-Key", "api_version", "a", "X!#$%&'*+-.^_`|~9"] {
            assert!(is_header_name(name), "{name}");
        }
        for name in ["", "X Partner", "X:Key", "Bad\r\nName", "Ü-Key", "(x)"] {
            assert!(!is_header_name(name), "{name:?}");
        }
    }
}
