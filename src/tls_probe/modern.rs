//! TLS 1.2 and 1.3 handshakes through rustls (the stack deliveries use), one version per
//! handshake, capturing the certificate chain on the way.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};

use rustls::ClientConfig;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::ServerName;
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsConnector;

use super::address::Address;
use super::certificate::{CapturingVerifier, CertificateInfo, Trust};
use super::report::{Outcome, VersionResult};
use super::version::TlsVersion;
use super::wire::{self, FirstBytes, Received, Recording};
use crate::tls::ClientIdentity;

/// Handshakes at `version` (TLS 1.2 or 1.3 only) and describes the certificate, if the
/// handshake got that far.
pub(super) async fn probe(
    target: &Address,
    routes: &crate::route::Routes,
    version: TlsVersion,
    trust: &Arc<Trust>,
    identity: Option<&ClientIdentity>,
    timeout: Duration,
) -> (VersionResult, Option<CertificateInfo>) {
    let started = Instant::now();
    let protocol = match version {
        TlsVersion::Tls12 => &rustls::version::TLS12,
        TlsVersion::Tls13 => &rustls::version::TLS13,
        _ => {
            return (
                VersionResult::new(version, Outcome::Error, "rustls cannot speak this version"),
                None,
            );
        }
    };
    let verifier = Arc::new(CapturingVerifier::new(trust.clone()));
    let (config, asked) = match ClientConfig::builder_with_provider(trust.provider())
        .with_protocol_versions(&[protocol])
    {
        Ok(builder) => {
            let builder = builder
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone());
            let key = match identity.map(|id| id.certified_key(&trust.provider())) {
                None => None,
                Some(Ok(key)) => Some(key),
                Some(Err(_)) => {
                    let detail = "cannot use the client certificate with rustls";
                    return (VersionResult::new(version, Outcome::Error, detail), None);
                }
            };
            let resolver = Arc::new(AskRecorder {
                key,
                asked: AtomicBool::new(false),
            });
            (
                builder.with_client_cert_resolver(resolver.clone()),
                resolver,
            )
        }
        Err(err) => {
            let detail = format!("cannot configure the TLS client: {err}");
            return (VersionResult::new(version, Outcome::Error, detail), None);
        }
    };
    let Ok(server_name) = ServerName::try_from(target.host.clone()) else {
        let detail = format!("`{}` is not a valid TLS server name", target.host);
        return (VersionResult::new(version, Outcome::Error, detail), None);
    };
    let tcp = match wire::connect(routes, &target.host, target.port, timeout).await {
        Ok(tcp) => tcp,
        Err(detail) => {
            let detail = format!(
                "could not connect to {}:{}: {detail}",
                target.host, target.port
            );
            return (
                VersionResult::new(version, Outcome::Unreachable, detail),
                None,
            );
        }
    };
    let received = Received::default();
    let connector = TlsConnector::from(Arc::new(config));
    let remaining = timeout.saturating_sub(started.elapsed());
    let handshake = connector.connect(server_name, Recording::new(tcp, received.clone()));
    let result = match tokio::time::timeout(remaining, handshake).await {
        Ok(Ok(stream)) => {
            let (_, connection) = stream.get_ref();
            let mut result = VersionResult::new(version, Outcome::Accepted, "handshake completed");
            result.cipher = connection
                .negotiated_cipher_suite()
                .map(|suite| cipher_name(suite.suite()));
            result.key_exchange = connection
                .negotiated_key_exchange_group()
                .map(|group| format!("{:?}", group.name()));
            if let Some(cipher) = &result.cipher {
                result.detail = cipher.clone();
            }
            // The stream is dropped here: the connection closes at once (some servers,
            // like `openssl s_server`, serve one connection at a time).
            result
        }
        Ok(Err(err)) => {
            let result = failure(version, &err, &received.snapshot());
            client_certificate_hint(result, asked.asked.load(Ordering::Relaxed), identity)
        }
        Err(_) => silent(version, timeout, &received.snapshot()),
    };
    let certificate = verifier
        .take()
        .map(|captured| CertificateInfo::describe(&captured, target, trust, version));
    (result, certificate)
}

/// Answers the server's certificate request with the client certificate, if any, and
/// remembers that the server asked (so a refusal can say a client certificate is needed).
#[derive(Debug)]
struct AskRecorder {
    key: Option<Arc<CertifiedKey>>,
    asked: AtomicBool,
}

impl ResolvesClientCert for AskRecorder {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// A refusal after the server asked for a client certificate: say so.
fn client_certificate_hint(
    mut result: VersionResult,
    asked: bool,
    identity: Option<&ClientIdentity>,
) -> VersionResult {
    if !asked || result.outcome == Outcome::Accepted {
        return result;
    }
    result.detail = match identity {
        None => format!(
            "{}; the server asked for a client certificate (mutual TLS): pass --client-cert and --client-key",
            result.detail
        ),
        Some(identity) => format!(
            "{}; the server did not accept the client certificate `{}`",
            result.detail,
            identity.subject()
        ),
    };
    result
}

/// rustls' name for a suite, written as IANA does (`TLS_AES_128_GCM_SHA256`).
fn cipher_name(suite: rustls::CipherSuite) -> String {
    let name = format!("{suite:?}");
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// No complete answer within the timeout.
pub(super) fn silent(version: TlsVersion, timeout: Duration, received: &[u8]) -> VersionResult {
    match wire::classify(received) {
        FirstBytes::NotTls(excerpt) => not_tls(version, &excerpt),
        FirstBytes::Alert(description) => VersionResult::alert(version, description),
        FirstBytes::Nothing => VersionResult::new(
            version,
            Outcome::Error,
            format!(
                "the server accepted the TCP connection but sent nothing within {}",
                humantime::format_duration(timeout)
            ),
        ),
        FirstBytes::Tls => VersionResult::new(
            version,
            Outcome::Error,
            format!(
                "the handshake did not finish within {}",
                humantime::format_duration(timeout)
            ),
        ),
    }
}

/// The server answered with bytes that are not TLS.
pub(super) fn not_tls(version: TlsVersion, excerpt: &str) -> VersionResult {
    VersionResult::new(
        version,
        Outcome::Error,
        format!("the server does not speak TLS here; it answered `{excerpt}`"),
    )
}

/// A connection closed or reset before the handshake finished.
pub(super) fn closed(version: TlsVersion, reset: bool, received: &[u8]) -> VersionResult {
    let how = if reset { "reset" } else { "closed" };
    let detail = if received.is_empty() {
        format!("the server {how} the connection without answering")
    } else {
        format!("the server {how} the connection during the handshake")
    };
    VersionResult::new(version, Outcome::Refused, detail)
}

fn failure(version: TlsVersion, err: &io::Error, received: &[u8]) -> VersionResult {
    match wire::classify(received) {
        FirstBytes::NotTls(excerpt) => return not_tls(version, &excerpt),
        FirstBytes::Alert(description) => return VersionResult::alert(version, description),
        FirstBytes::Nothing | FirstBytes::Tls => {}
    }
    if let Some(tls) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        return match tls {
            rustls::Error::AlertReceived(alert) => VersionResult::alert(version, u8::from(*alert)),
            rustls::Error::InvalidMessage(_) => VersionResult::new(
                version,
                Outcome::Error,
                format!("the server's answer is not valid TLS: {tls}"),
            ),
            other => VersionResult::new(
                version,
                Outcome::Refused,
                format!("the server answered but the handshake failed: {other}"),
            ),
        };
    }
    match err.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe => {
            closed(version, false, received)
        }
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            closed(version, true, received)
        }
        _ => VersionResult::new(
            version,
            Outcome::Error,
            format!("the handshake failed: {}", wire::describe_io(err)),
        ),
    }
}
