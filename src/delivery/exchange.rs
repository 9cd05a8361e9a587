//! The record of one delivery attempt: what was sent, what came back, how long it took.
//!
//! Records are secret-free: the signing secret is never part of a request, and
//! credential-bearing headers (`Authorization`, `Cookie`, names containing `token`,
//! `secret`, `password`, `api-key`…) are redacted when a record is made.

use std::time::Duration;

use serde::Serialize;

/// The largest response body excerpt kept (the rest is read and discarded, up to the cap).
pub const BODY_EXCERPT_LIMIT: usize = 1024;

/// One HTTP attempt, answered or not.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// What was sent.
    pub request: RequestRecord,
    /// What came back, if anything did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    /// Why nothing (complete) came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TransportError>,
    /// When the attempt started (Unix milliseconds).
    pub started_at_ms: i64,
    /// From sending to the end of the response head (or the failure).
    #[serde(rename = "duration_ms", serialize_with = "serialize_ms")]
    pub duration: Duration,
    /// What the client did beyond one plain request, e.g. a resend on a fresh
    /// connection after a stale kept-alive one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The request never went out (no OAuth token to send it with, an endpoint that
    /// could not be reached): its `error` says why. Such an exchange is never judged
    /// as the endpoint's answer (no latency, no status), only as "could not judge".
    #[serde(skip)]
    pub not_sent: bool,
}

impl Exchange {
    /// The response status, if there was a response.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// Lets go of the whole request and response bodies, keeping their sizes and
    /// excerpts (all any report shows of them): for an exchange nothing will read in
    /// full again, so that a long run does not hold every body it sent.
    pub fn forget_bodies(&mut self) {
        self.request.body = bytes::Bytes::new();
        if let Some(response) = &mut self.response {
            response.body = bytes::Bytes::new();
        }
    }

    /// A short description of the result: `200 OK`, `timeout after 40s`, …
    pub fn outcome_text(&self) -> String {
        match (&self.response, &self.error) {
            (Some(response), _) => response.status_line(),
            (None, Some(error)) => format!("{}: {}", error.class.as_str(), error.message),
            (None, None) => "no answer".to_owned(),
        }
    }
}

fn serialize_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0)
}

/// The request as sent (secret-free).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// `POST`, `GET`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers in the order sent; credential values redacted.
    pub headers: Vec<(String, String)>,
    /// Body length in bytes.
    pub body_len: usize,
    /// The first KiB of the body, as text (invalid UTF-8 replaced).
    pub body_excerpt: String,
    /// The exact body bytes sent (shared with the attempt, not copied), so a failed
    /// delivery can be verified and retried; not serialized.
    #[serde(skip)]
    pub body: bytes::Bytes,
}

/// The response head and the start of its body.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseRecord {
    /// The HTTP status code.
    pub status: u16,
    /// The reason phrase's canonical text for the code (`OK`, `Accepted`).
    pub reason: String,
    /// Response headers, in order; credential values redacted.
    pub headers: Vec<(String, String)>,
    /// The first KiB of the body, as text (invalid UTF-8 replaced, control characters escaped).
    pub body_excerpt: String,
    /// How many body bytes were read (capped at 64 KiB).
    pub body_bytes_read: usize,
    /// Whether the body was longer than what was read.
    pub body_truncated: bool,
    /// The body bytes read (at most 64 KiB), for `observe` assertions; not serialized.
    #[serde(skip)]
    pub body: bytes::Bytes,
}

impl ResponseRecord {
    /// `200 OK`, `202 Accepted`.
    pub fn status_line(&self) -> String {
        if self.reason.is_empty() {
            self.status.to_string()
        } else {
            format!("{} {}", self.status, self.reason)
        }
    }
}

/// Why an attempt got no (complete) answer.
#[derive(Debug, Clone, Serialize)]
pub struct TransportError {
    /// The class of failure.
    pub class: ErrorClass,
    /// A one-line human description (no secrets).
    pub message: String,
    /// The server ended the TLS handshake with the `certificate_required` alert (RFC
    /// 8446 4.4.2.4): it wants a client certificate (mutual TLS). Read from rustls'
    /// typed error when the failure is classified, never from the message's words.
    #[serde(skip)]
    pub certificate_required: bool,
}

/// Classes of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorClass {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection could not be made (refused, unreachable).
    Connect,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// No answer within the timeout.
    Timeout,
    /// The connection was reset or closed before a complete answer.
    Reset,
    /// The peer's answer was not valid HTTP.
    Protocol,
    /// The response body was cut short or could not be read.
    Body,
    /// Anything else.
    Other,
}

impl ErrorClass {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Dns => "dns",
            ErrorClass::Connect => "connect",
            ErrorClass::Tls => "tls",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Reset => "reset",
            ErrorClass::Protocol => "protocol",
            ErrorClass::Body => "body",
            ErrorClass::Other => "other",
        }
    }
}

/// Whether a header's value may carry a credential and must be redacted in records.
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "token", "secret", "password", "passwd", "api-key", "apikey", "x-api", "auth",
    ]
    .iter()
    .any(|part| name.contains(part))
}

/// The value to record for a header: redacted when sensitive, control characters
/// escaped otherwise.
///
/// HTTP allows bytes 0x80–0xFF in header values; once decoded as UTF-8 they can form
/// C1 controls (U+009B is a terminal's CSI), so a hostile peer's header could drive
/// the user's terminal when printed. They are escaped as `\u{..}` like body excerpts.
pub fn recorded_value(name: &str, value: &str) -> String {
    // A value the run registered as a credential (a `--header` value, a token) is
    // masked in its header position whatever its name and length (see crate::redact).
    if is_sensitive_header(name) || crate::redact::is_credential(value) {
        "***redacted***".to_owned()
    } else {
        escape_controls(value)
    }
}

/// `text` with every control character except `\n` and `\t` written as `\u{..}`:
/// for text shown as several lines (body excerpts, program output).
pub fn escape_controls(text: &str) -> String {
    escape(text, |c| c == '\n' || c == '\t')
}

/// `text` with every control character written as `\u{..}`, `\n`, `\r` and `\t`
/// included (C0, DEL, C1): for a value that must stay on its line of a log, whatever
/// a peer put in it.
pub fn escape_all_controls(text: &str) -> String {
    escape(text, |_| false)
}

/// The one escaper: every control character that `keep` does not keep becomes
/// `\u{..}` (hex of its code point), so it is shown, never acted on by a terminal.
fn escape(text: &str, keep: fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && !keep(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The most response body bytes read per attempt; the rest is left unread.
pub const BODY_READ_LIMIT: usize = 64 * 1024;

/// The first [`BODY_EXCERPT_LIMIT`] bytes of a body as one printable string:
/// invalid UTF-8 is replaced with U+FFFD (a character cut by the limit is dropped),
/// and control characters other than `\n` and `\t` are escaped as `\u{..}`.
pub fn excerpt(body: &[u8]) -> String {
    let cut = body.len() > BODY_EXCERPT_LIMIT;
    let head = &body[..body.len().min(BODY_EXCERPT_LIMIT)];
    let mut out = String::with_capacity(head.len());
    let mut chunks = head.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        out.push_str(&escape_controls(chunk.valid()));
        let invalid = chunk.invalid();
        // A multi-byte character split by the excerpt limit is not an encoding error.
        let split_at_end = cut && chunks.peek().is_none() && invalid.len() < 4;
        if !invalid.is_empty() && !split_at_end {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::delivery::exchange::*;

    #[test]
    fn excerpt_escapes_controls_and_replaces_invalid_utf8() {
        assert_eq!(
            excerpt(b"ok\n\tdone\r\x1b[0m"),
            "ok\n\tdone\\u{d}\\u{1b}[0m"
        );
        assert_eq!(excerpt(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn escape_all_controls_leaves_one_printable_line() {
        assert_eq!(
            escape_all_controls("a\nb\r\tc\x1b[31m\x7f\u{9b}é"),
            "a\\u{a}b\\u{d}\\u{9}c\\u{1b}[31m\\u{7f}\\u{9b}é"
        );
        assert_eq!(escape_controls("a\nb\x1b"), "a\nb\\u{1b}");
    }

    #[test]
    fn excerpt_keeps_the_first_kib_without_a_split_character() {
        let mut body = vec![b'x'; BODY_EXCERPT_LIMIT - 1];
        body.extend_from_slice("é and more".as_bytes());
        let text = excerpt(&body);
        assert_eq!(text.len(), BODY_EXCERPT_LIMIT - 1);
        assert!(text.bytes().all(|b| b == b'x'));
    }

    #[test]
    fn sensitive_headers_are_redacted() {
        assert_eq!(
            recorded_value("Authorization", "Bearer abc"),
            "***redacted***"
        );
        assert_eq!(recorded_value("X-Api-Key", "abc"), "***redacted***");
        assert_eq!(recorded_value("API-Version", "2.0"), "2.0");
        assert_eq!(recorded_value("X-Evil", "a\u{9b}2J\tb"), "a\\u{9b}2J\tb");
    }
}
