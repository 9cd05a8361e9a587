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
}
