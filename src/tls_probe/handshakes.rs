//! One probe of one endpoint: the four handshakes and the cipher scan at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::address::{AddressError, parse_address};
use super::certificate::{CertificateInfo, Trust};
use super::report::{Outcome, TlsReport, VersionResult};
use super::version::TlsVersion;
use super::{cipher_scan, legacy, modern};
use crate::tls::{ClientIdentity, TrustError};

/// The default time allowed for each handshake (TCP connection included).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Time allowed for each handshake, TCP connection included. The four handshakes run
    /// at once, so a probe ends within about this time even against a silent server.
    pub timeout: Duration,
    /// PEM with one or more CA certificates to trust besides the system roots (`--ca-cert`).
    pub ca_cert_pem: Option<Vec<u8>>,
    /// The client certificate to present when the server asks for one (`--client-cert`
    /// / `--client-key`), so a mutual-TLS endpoint does not look broken.
    pub client_identity: Option<ClientIdentity>,
    /// Where the handshakes' connections go (`--resolve`, `--connect-to`, a proxy's
    /// CONNECT tunnel); direct by default.
    pub routes: crate::route::Routes,
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            timeout: DEFAULT_TIMEOUT,
            ca_cert_pem: None,
            client_identity: None,
            routes: crate::route::Routes::direct(),
        }
    }
}

/// Why a probe could not start (what the user gave, never what the endpoint did).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL cannot be probed.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The extra CA certificates are not usable.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// Probes `url`: the four versions and the certificate.
///
/// Errors only for what the user gave: a URL that does not parse or has another
/// scheme than http/https, or a `ca_cert_pem` that holds no usable certificate. Anything
/// the endpoint does (refusing, not answering, answering garbage) is a finding in the
/// report, never an error, and never a panic. A plain `http://` URL is not probed.
pub async fn probe_url(url: &str, options: &ProbeOptions) -> Result<TlsReport, ProbeError> {
    let started = Instant::now();
    let target = parse_address(url)?;
    let trust = Arc::new(Trust::load(options.ca_cert_pem.as_deref())?);
    let mut report = TlsReport {
        url: url.to_owned(),
        scheme: target.scheme.clone(),
        host: target.host.clone(),
        port: target.port,
        versions: Vec::new(),
        certificate: None,
        cipher_suites: Vec::new(),
        duration: Duration::ZERO,
    };
    if !report.is_https() {
        report.versions = TlsVersion::ALL
            .iter()
            .map(|&version| {
                VersionResult::new(version, Outcome::NotTested, "the endpoint is plain HTTP")
            })
            .collect();
        return Ok(report);
    }
    let timeout = options.timeout;
    let identity = options.client_identity.as_ref();
    let routes = &options.routes;
    let (tls10, tls11, (tls12, cert12), (tls13, cert13), scan10, scan11, scan12) = tokio::join!(
        timed(legacy::probe(&target, routes, TlsVersion::Tls10, timeout)),
        timed(legacy::probe(&target, routes, TlsVersion::Tls11, timeout)),
        timed(modern::probe(
            &target,
            routes,
            TlsVersion::Tls12,
            &trust,
            identity,
            timeout
        )),
        timed(modern::probe(
            &target,
            routes,
            TlsVersion::Tls13,
            &trust,
            identity,
            timeout
        )),
        cipher_scan::scan(&target, routes, TlsVersion::Tls10, timeout),
        cipher_scan::scan(&target, routes, TlsVersion::Tls11, timeout),
        cipher_scan::scan(&target, routes, TlsVersion::Tls12, timeout),
    );
    // Prefer the chain seen over TLS 1.3 (what a modern client gets), else TLS 1.2's.
    report.certificate = cert13.or(cert12);
    report.versions = vec![tls10, tls11, tls12, tls13];
    report.cipher_suites = vec![scan10, scan11, scan12];
    report.duration = started.elapsed();
    Ok(report)
}

/// Runs a probe and stamps its wall time on the result.
async fn timed<T: Timed>(future: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let mut value = future.await;
    value.set_duration(started.elapsed());
    value
}

/// A probe result whose duration can be stamped afterwards.
trait Timed {
    fn set_duration(&mut self, duration: Duration);
}

impl Timed for VersionResult {
    fn set_duration(&mut self, duration: Duration) {
        self.duration = duration;
    }
}

impl Timed for (VersionResult, Option<CertificateInfo>) {
    fn set_duration(&mut self, duration: Duration) {
        self.0.duration = duration;
    }
}
