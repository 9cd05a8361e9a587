//! What travels on the socket: connecting with a deadline, recording the first bytes a
//! server sends, and reading what they say (a TLS alert, a TLS handshake, or not TLS at all).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::route::{RouteError, Routes};

/// How many of the server's first bytes are kept for diagnosis.
const RECORD_LIMIT: usize = 64;

/// Opens a TCP connection to `host:port` within `timeout` (name resolution included),
/// along the command's routes: `--connect-to`, `--resolve`, or a CONNECT tunnel
/// through the proxy, so the probe's own ClientHellos reach the endpoint unchanged.
///
/// The error is a finding for the user: "connection refused", "no answer within 2s", …
pub(super) async fn connect(
    routes: &Routes,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, String> {
    let attempt = async {
        match routes.connect(true, host, port).await {
            Ok(connected) => Ok(connected.stream),
            Err(RouteError::Connect { error, .. }) => Err(describe_io(&error)),
            Err(RouteError::Resolve { host, message }) => {
                Err(format!("cannot resolve {host}: {message}"))
            }
            Err(other) => Err(other.to_string()),
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "no TCP connection within {}",
            humantime::format_duration(timeout)
        )),
    }
}

/// A short, lower-case description of a socket error.
pub(super) fn describe_io(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset by the server".to_owned(),
        io::ErrorKind::UnexpectedEof => "the server closed the connection".to_owned(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "timed out".to_owned(),
        _ => err.to_string(),
    }
}

/// The first bytes a server sent, shared between a stream wrapper and the prober.
#[derive(Debug, Clone, Default)]
pub(super) struct Received(Arc<Mutex<Vec<u8>>>);

impl Received {
    fn push(&self, bytes: &[u8]) {
        if let Ok(mut kept) = self.0.lock() {
            let room = RECORD_LIMIT.saturating_sub(kept.len());
            kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    /// A copy of what was received so far.
    pub(super) fn snapshot(&self) -> Vec<u8> {
        self.0.lock().map(|kept| kept.clone()).unwrap_or_default()
    }
}

/// A stream that keeps a copy of the first bytes read from it.
#[derive(Debug)]
pub(super) struct Recording<S> {
    inner: S,
    received: Received,
}

impl<S> Recording<S> {
    /// Wraps `inner`; what it reads is copied into `received`.
    pub(super) fn new(inner: S, received: Received) -> Recording<S> {
        Recording { inner, received }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recording<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            this.received.push(&buf.filled()[before..]);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recording<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What the first bytes from the server say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FirstBytes {
    /// Nothing arrived.
    Nothing,
    /// The first record is a TLS alert with this description number.
    Alert(u8),
    /// The first record is TLS (a handshake); the failure happened later.
    Tls,
    /// The server does not speak TLS; a printable excerpt of what it sent.
    NotTls(String),
}

/// Reads the first bytes a server sent in answer to a ClientHello.
pub(super) fn classify(bytes: &[u8]) -> FirstBytes {
    match bytes {
        [] => FirstBytes::Nothing,
        // Alert record: type 21, version (2), length (2), level, description.
        [0x15, 0x03, _, _, _, _, description, ..] => FirstBytes::Alert(*description),
        [0x15, 0x03, ..] | [0x14 | 0x16 | 0x17, 0x03, ..] => FirstBytes::Tls,
        [0x14..=0x17] => FirstBytes::Tls,
        _ => FirstBytes::NotTls(printable(bytes)),
    }
}

/// A printable one-line excerpt of raw bytes (at most 40 characters).
pub(super) fn printable(bytes: &[u8]) -> String {
    let text: String = bytes
        .iter()
        .take(40)
        .map(|&b| match b {
            b'\r' => "\\r".to_owned(),
            b'\n' => "\\n".to_owned(),
            0x20..=0x7e => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect();
    if bytes.len() > 40 {
        format!("{text}…")
    } else {
        text
    }
}

/// The name of a TLS alert description (RFC 8446 §6, RFC 5246 §7.2).
pub(super) fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown alert",
    }
}

/// `alert 70 (protocol_version)`.
pub(super) fn describe_alert(description: u8) -> String {
    format!("alert {description} ({})", alert_name(description))
}

#[cfg(test)]
mod tests {
    use crate::tls_probe::wire::*;

    #[test]
    fn reads_alerts_handshakes_and_plain_text() {
        assert_eq!(classify(&[]), FirstBytes::Nothing);
        assert_eq!(
            classify(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 70]),
            FirstBytes::Alert(70)
        );
        assert_eq!(classify(&[0x16, 0x03, 0x03, 0x00, 0x7a]), FirstBytes::Tls);
        assert_eq!(
            classify(b"HTTP/1.1 400 Bad Request\r\n"),
            FirstBytes::NotTls("HTTP/1.1 400 Bad Request\\r\\n".to_owned())
        );
        assert_eq!(describe_alert(40), "alert 40 (handshake_failure)");
    }
}
