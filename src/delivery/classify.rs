//! Naming what went wrong on the wire: a transport error (I/O, TLS or HTTP) sorted
//! into an [`ErrorClass`] with a one-line message, for the client and its connection
//! pool alike.

use std::error::Error as StdError;
use std::io;

use super::exchange::{ErrorClass, TransportError};

/// A one-line rendering of an error and its causes, without repeated parts.
fn one_line(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in chain(err) {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace(['\n', '\r'], " ")
}

/// The error and every error below it, including the error an `io::Error` wraps
/// (whose `source()` skips it).
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut current = Some(err);
    while let Some(cause) = current {
        out.push(cause);
        if let Some(inner) = cause
            .downcast_ref::<io::Error>()
            .and_then(|io_err| io_err.get_ref())
        {
            let inner: &(dyn StdError + 'static) = inner;
            current = Some(inner);
        } else {
            current = cause.source();
        }
        if out.len() > 32 {
            break;
        }
    }
    out
}

/// Sorts a transport error (I/O, TLS or HTTP) into an [`ErrorClass`] with a one-line
/// message naming the cause. `tls` tells whether a TLS handshake was part of
/// connecting; `connecting` whether the error came before the request went out.
pub fn classify(err: &(dyn StdError + 'static), tls: bool, connecting: bool) -> TransportError {
    let causes = chain(err);
    let make = |class, message: String| TransportError {
        class,
        message,
        certificate_required: false,
    };

    for cause in &causes {
        if let Some(tls_err) = cause.downcast_ref::<rustls::Error>() {
            return TransportError {
                certificate_required: matches!(
                    tls_err,
                    rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)
                ),
                ..make(
                    ErrorClass::Tls,
                    format!("TLS handshake failed: {}", tls_err),
                )
            };
        }
    }
    for cause in &causes {
        if cause.to_string().starts_with("dns error") {
            let detail = causes.last().map(|c| c.to_string()).unwrap_or_default();
            return make(
                ErrorClass::Dns,
                format!("the host name did not resolve: {detail}"),
            );
        }
    }
    for cause in &causes {
        if let Some(io_err) = cause.downcast_ref::<io::Error>() {
            use io::ErrorKind::*;
            let (class, text) = match io_err.kind() {
                ConnectionRefused => (ErrorClass::Connect, "connection refused".to_owned()),
                ConnectionReset if connecting && tls => (
                    ErrorClass::Tls,
                    "connection reset by peer during the TLS handshake".to_owned(),
                ),
                UnexpectedEof if connecting && tls => (
                    ErrorClass::Tls,
                    "connection closed during the TLS handshake".to_owned(),
                ),
                ConnectionReset => (ErrorClass::Reset, "connection reset by peer".to_owned()),
                ConnectionAborted => (ErrorClass::Reset, "connection aborted".to_owned()),
                BrokenPipe => (
                    ErrorClass::Reset,
                    "connection closed by peer while sending (broken pipe)".to_owned(),
                ),
                UnexpectedEof => (
                    ErrorClass::Reset,
                    "connection closed before a complete answer".to_owned(),
                ),
                TimedOut => (ErrorClass::Timeout, "timed out".to_owned()),
                HostUnreachable | NetworkUnreachable | AddrNotAvailable => {
                    (ErrorClass::Connect, io_err.to_string())
                }
                _ => continue,
            };
            return make(class, text);
        }
    }
    for cause in &causes {
        if let Some(hyper_err) = cause.downcast_ref::<hyper::Error>() {
            if hyper_err.is_incomplete_message() {
                return make(
                    ErrorClass::Reset,
                    "connection closed before a complete answer".to_owned(),
                );
            }
            if hyper_err.is_parse() || hyper_err.is_parse_status() {
                return make(
                    ErrorClass::Protocol,
                    format!("the answer is not valid HTTP: {hyper_err}"),
                );
            }
            // hyper reports a connection the peer closed before the request went out
            // (e.g. right after the TLS handshake) as "canceled" or "channel closed":
            // the peer hung up, so it is a reset.
            if hyper_err.is_canceled() || hyper_err.is_closed() {
                return make(
                    ErrorClass::Reset,
                    "connection closed by the peer before the request was sent".to_owned(),
                );
            }
            if hyper_err.is_timeout() {
                return make(ErrorClass::Timeout, hyper_err.to_string());
            }
        }
    }
    let class = if connecting {
        ErrorClass::Connect
    } else {
        ErrorClass::Other
    };
    make(class, one_line(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `certificate_required` alert is recognised by its rustls type, wherever it
    /// sits in the chain (here inside an `io::Error`, as hyper hands it over), and
    /// another alert is not taken for it.
    #[test]
    fn certificate_required_is_read_from_the_typed_alert() {
        let wrapped = |alert| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                rustls::Error::AlertReceived(alert),
            )
        };
        let required = classify(
            &wrapped(rustls::AlertDescription::CertificateRequired),
            true,
            true,
        );
        assert_eq!(required.class, ErrorClass::Tls);
        assert!(required.certificate_required, "{}", required.message);
        let other = classify(
            &wrapped(rustls::AlertDescription::BadCertificate),
            true,
            true,
        );
        assert!(!other.certificate_required, "{}", other.message);
        // Words alone are not the alert.
        let words = classify(
            &io::Error::other("received fatal alert: CertificateRequired"),
            true,
            true,
        );
        assert!(!words.certificate_required, "{}", words.message);
    }

    /// An error with a text and, below it, a source (`None` for the last).
    #[derive(Debug)]
    struct Layer(String, Option<Box<dyn StdError + Send + Sync>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl StdError for Layer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn StdError + 'static))
        }
    }

    fn io(kind: io::ErrorKind) -> io::Error {
        io::Error::new(kind, Layer(format!("os said {kind:?}"), None))
    }

    /// (class, message) of `kind` classified in each of the three situations that
    /// matter: connecting over TLS, connecting in the clear, sending over TLS.
    fn three_ways(kind: io::ErrorKind) -> [(ErrorClass, String); 3] {
        [(true, true), (false, true), (true, false)].map(|(tls, connecting)| {
            let e = classify(&io(kind), tls, connecting);
            (e.class, e.message)
        })
    }

    #[test]
    fn each_io_error_kind_has_its_class_and_words() {
        use io::ErrorKind::*;
        let same = |class, text: &str| {
            let one = (class, text.to_owned());
            [one.clone(), one.clone(), one]
        };
        assert_eq!(
            three_ways(ConnectionRefused),
            same(ErrorClass::Connect, "connection refused")
        );
        assert_eq!(
            three_ways(ConnectionAborted),
            same(ErrorClass::Reset, "connection aborted")
        );
        assert_eq!(
            three_ways(BrokenPipe),
            same(
                ErrorClass::Reset,
                "connection closed by peer while sending (broken pipe)"
            )
        );
        assert_eq!(three_ways(TimedOut), same(ErrorClass::Timeout, "timed out"));
        assert_eq!(
            three_ways(HostUnreachable),
            same(ErrorClass::Connect, "os said HostUnreachable")
        );
        // A reset or an early end is the TLS handshake's only while connecting over TLS.
        let reset = (ErrorClass::Reset, "connection reset by peer".to_owned());
        assert_eq!(
            three_ways(ConnectionReset),
            [
                (
                    ErrorClass::Tls,
                    "connection reset by peer during the TLS handshake".to_owned()
                ),
                reset.clone(),
                reset
            ]
        );
        let eof = (
            ErrorClass::Reset,
            "connection closed before a complete answer".to_owned(),
        );
        assert_eq!(
            three_ways(UnexpectedEof),
            [
                (
                    ErrorClass::Tls,
                    "connection closed during the TLS handshake".to_owned()
                ),
                eof.clone(),
                eof
            ]
        );
        // Any other kind is named by its own words, a connect error while connecting.
        let denied = classify(&io(PermissionDenied), false, true);
        assert_eq!(denied.class, ErrorClass::Connect);
        assert_eq!(denied.message, "os said PermissionDenied");
        let denied = classify(&io(PermissionDenied), false, false);
        assert_eq!(denied.class, ErrorClass::Other);
    }

    #[test]
    fn a_dns_failure_names_its_deepest_cause() {
        let err = Layer(
            "client error".into(),
            Some(Box::new(Layer(
                "dns error: failed to lookup address information".into(),
                Some(Box::new(Layer("Name or service not known".into(), None))),
            ))),
        );
        let e = classify(&err, true, true);
        assert_eq!(e.class, ErrorClass::Dns);
        assert_eq!(
            e.message,
            "the host name did not resolve: Name or service not known"
        );
    }

    #[test]
    fn the_message_is_one_line_without_repeated_parts() {
        // The io::Error prints its inner error's words: said once, not twice.
        let err = Layer(
            "error sending request".into(),
            Some(Box::new(io::Error::other(Layer(
                "the peer\nsaid no".into(),
                None,
            )))),
        );
        let e = classify(&err, false, false);
        assert_eq!(e.class, ErrorClass::Other);
        assert_eq!(e.message, "error sending request: the peer said no");
    }

    #[test]
    fn a_chain_is_followed_to_its_33rd_error_and_no_further() {
        let mut err = Layer("cause 40".into(), None);
        for i in (1..40).rev() {
            err = Layer(format!("cause {i}"), Some(Box::new(err)));
        }
        let e = classify(&err, false, false);
        let parts: Vec<&str> = e.message.split(": ").collect();
        assert_eq!(parts.len(), 33, "{}", e.message);
        assert_eq!(parts[32], "cause 33");
    }

    /// What hyper's client says about `answer` (written by a loopback server that
    /// then closes the connection) to a POST.
    async fn hyper_error(answer: &'static [u8]) -> hyper::Error {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(answer).await;
        });
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        let request = hyper::Request::post("/hooks")
            .header("host", "127.0.0.1")
            .body(String::from("{}"))
            .unwrap();
        sender.send_request(request).await.unwrap_err()
    }

    #[tokio::test]
    async fn hyper_s_errors_are_sorted_by_what_the_peer_did() {
        let bad_status = classify(&hyper_error(b"HTTP/1.1 2x0 OK\r\n\r\n").await, false, false);
        assert_eq!(
            bad_status.class,
            ErrorClass::Protocol,
            "{}",
            bad_status.message
        );
        assert!(
            bad_status
                .message
                .starts_with("the answer is not valid HTTP: "),
            "{}",
            bad_status.message
        );
        let bad_header = classify(
            &hyper_error(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n").await,
            false,
            false,
        );
        assert_eq!(
            bad_header.class,
            ErrorClass::Protocol,
            "{}",
            bad_header.message
        );
        let cut = classify(
            &hyper_error(b"HTTP/1.1 200 OK\r\nconte").await,
            false,
            false,
        );
        assert_eq!(
            (cut.class, cut.message.as_str()),
            (
                ErrorClass::Reset,
                "connection closed before a complete answer"
            )
        );
    }

    /// A connection that ended before the request went out (hyper: "canceled").
    #[tokio::test]
    async fn a_connection_gone_before_sending_is_a_reset() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake::<_, String>(
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        drop(connection);
        let err = sender
            .send_request(hyper::Request::post("/").body(String::new()).unwrap())
            .await
            .unwrap_err();
        assert!(err.is_canceled() || err.is_closed(), "{err:?}");
        let e = classify(&err, false, false);
        assert_eq!(
            (e.class, e.message.as_str()),
            (
                ErrorClass::Reset,
                "connection closed by the peer before the request was sent"
            )
        );
    }
}
