//! The TLS probe: which protocol versions an endpoint accepts, and what its certificate is.
//!
//! For an `https://` endpoint [`probe`] makes four handshakes at once, one per version:
//! TLS 1.0 and 1.1 with the project's own ClientHello, judged from the server's first
//! flight (rustls cannot speak them, and no system TLS library is linked; see `legacy`),
//! TLS 1.2 and 1.3 through rustls, the stack deliveries use (see `modern`). The rustls handshakes also capture the certificate chain and verify it
//! against the system roots plus `--ca-cert` (see [`certificate`]). Each handshake ends in
//! one [`Outcome`]: accepted (with the cipher), refused (an alert, a reset, a closed
//! connection), unreachable (no TCP connection at all), or error (no TLS answer in time,
//! or an answer that is not TLS). At the same time the cipher scan (see `cipher_scan`)
//! lists every TLS 1.0–1.2 suite the server accepts with hand-built ClientHellos, so weak
//! suites are found even though no local library can negotiate them. [`checks`] turns
//! the report into the nine `tls.*` checks.
//!
//! A plain `http://` endpoint is not probed: its report has every version `not-tested`,
//! and the checks fail `tls.https-required` and skip the rest.

pub mod certificate;
mod checks;
pub mod cipher_scan;
mod hello;
mod identity;
mod legacy;
mod modern;
mod render;
mod strength;
pub mod suites;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};

use crate::error::SetupError;

pub use certificate::CertificateInfo;
pub use checks::{EXPIRY_WARN_DAYS, certificate_blocks_delivery, check_infos, checks};
pub use cipher_scan::{AcceptedSuite, SuiteScan};
pub use identity::ClientIdentity;
pub use render::render_text;

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
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            timeout: DEFAULT_TIMEOUT,
            ca_cert_pem: None,
            client_identity: None,
        }
    }
}

/// A TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.0 (RFC 2246), deprecated.
    Tls10,
    /// TLS 1.1 (RFC 4346), deprecated.
    Tls11,
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl TlsVersion {
    /// Every version, oldest first (the order of [`TlsReport::versions`]).
    pub const ALL: [TlsVersion; 4] = [
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];

    /// `TLS 1.0`, …, `TLS 1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS 1.0",
            TlsVersion::Tls11 => "TLS 1.1",
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TlsVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How one handshake ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The handshake completed at the version asked for.
    Accepted,
    /// The server answered the ClientHello with an alert, a reset or a close.
    Refused,
    /// No TCP connection: refused, unresolvable, or no answer to the SYN in time.
    Unreachable,
    /// Connected, but no usable TLS answer: silence until the timeout, or bytes that are
    /// not TLS (plain HTTP, …), or a local failure.
    Error,
    /// Not probed (a plain `http://` endpoint).
    NotTested,
}

impl Outcome {
    /// `accepted`, `refused`, `unreachable`, `error`, `not-tested`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Refused => "refused",
            Outcome::Unreachable => "unreachable",
            Outcome::Error => "error",
            Outcome::NotTested => "not-tested",
        }
    }
}

/// The result of the handshake at one version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionResult {
    /// The version asked for (the only one offered).
    pub version: TlsVersion,
    /// How it ended.
    pub outcome: Outcome,
    /// The negotiated cipher suite (IANA name), when accepted.
    pub cipher: Option<String>,
    /// The negotiated key-exchange group (e.g. `X25519`), when known.
    pub key_exchange: Option<String>,
    /// The TLS alert the server sent, when it refused with one.
    pub alert: Option<u8>,
    /// What was seen, in words: `alert 70 (protocol_version)`, `connection refused`, …
    pub detail: String,
    /// How long the handshake (TCP connection included) took.
    #[serde(rename = "duration_ms", serialize_with = "serialize_ms")]
    pub duration: Duration,
}

impl VersionResult {
    fn new(version: TlsVersion, outcome: Outcome, detail: impl Into<String>) -> VersionResult {
        VersionResult {
            version,
            outcome,
            cipher: None,
            key_exchange: None,
            alert: None,
            detail: detail.into(),
            duration: Duration::ZERO,
        }
    }

    /// Refused by a TLS alert.
    fn alert(version: TlsVersion, description: u8) -> VersionResult {
        VersionResult {
            alert: Some(description),
            ..VersionResult::new(version, Outcome::Refused, wire::describe_alert(description))
        }
    }
}

/// Everything the probe found about one endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct TlsReport {
    /// The URL probed, as given.
    pub url: String,
    /// `https` or `http`.
    pub scheme: String,
    /// The host (name or IP address, without brackets).
    pub host: String,
    /// The port (the scheme's default when the URL has none).
    pub port: u16,
    /// One result per version, oldest first.
    pub versions: Vec<VersionResult>,
    /// The leaf certificate and what verification said; `None` when no TLS 1.2/1.3
    /// handshake got as far as the certificate (or the endpoint is plain HTTP).
    pub certificate: Option<CertificateInfo>,
    /// The cipher scan at TLS 1.0, 1.1 and 1.2 (in that order): every suite the server
    /// accepted. Empty for a plain `http://` endpoint.
    pub cipher_suites: Vec<SuiteScan>,
    /// The whole probe's wall time.
    #[serde(rename = "duration_ms", serialize_with = "serialize_ms")]
    pub duration: Duration,
}

impl TlsReport {
    /// The cipher scan at one version (TLS 1.0, 1.1 or 1.2).
    pub fn suite_scan(&self, version: TlsVersion) -> Option<&SuiteScan> {
        self.cipher_suites
            .iter()
            .find(|scan| scan.version == version)
    }

    /// Whether the endpoint is `https://`.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// The result at one version.
    pub fn version(&self, version: TlsVersion) -> Option<&VersionResult> {
        self.versions
            .iter()
            .find(|result| result.version == version)
    }
}

/// Where to probe: parsed from the endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `https` or `http`.
    pub scheme: String,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port (explicit or the scheme's default).
    pub port: u16,
    /// Whether `host` is an IP address (no SNI is sent for those).
    pub host_is_ip: bool,
}

/// Parses an endpoint URL. Errors (exit 2) for a URL that does not parse, a scheme
/// other than `http`/`https`, or a missing host.
pub fn parse_target(url: &str) -> Result<Target, SetupError> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|err| {
        SetupError::new(format!("`{url}` is not a valid URL: {err}"))
            .with_hint("write the full endpoint URL, e.g. https://partner.example/webhooks")
    })?;
    let scheme = parsed.scheme().to_owned();
    if scheme != "https" && scheme != "http" {
        return Err(SetupError::new(format!(
            "`{url}` has scheme `{scheme}`; the endpoint must be https:// (or http:// to see why not)"
        )));
    }
    let raw_host = match parsed.host_str() {
        Some(host) if !host.is_empty() => host,
        _ => return Err(SetupError::new(format!("`{url}` has no host"))),
    };
    let unbracketed = raw_host.trim_start_matches('[').trim_end_matches(']');
    let host_is_ip = unbracketed.parse::<std::net::IpAddr>().is_ok();
    let host = unbracketed.to_owned();
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Ok(Target {
        scheme,
        host,
        port,
        host_is_ip,
    })
}

/// Probes `url`: the four versions and the certificate.
///
/// Errors only for what the user gave (exit 2): a URL that does not parse or has another
/// scheme than http/https, or a `ca_cert_pem` that holds no usable certificate. Anything
/// the endpoint does (refusing, not answering, answering garbage) is a finding in the
/// report, never an error, and never a panic. A plain `http://` URL is not probed.
pub async fn probe(url: &str, options: &ProbeOptions) -> Result<TlsReport, SetupError> {
    let started = Instant::now();
    let target = parse_target(url)?;
    let trust = Arc::new(certificate::Trust::load(options.ca_cert_pem.as_deref())?);
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
    let (tls10, tls11, (tls12, cert12), (tls13, cert13), scan10, scan11, scan12) = tokio::join!(
        timed(legacy::probe(&target, TlsVersion::Tls10, timeout)),
        timed(legacy::probe(&target, TlsVersion::Tls11, timeout)),
        timed(modern::probe(
            &target,
            TlsVersion::Tls12,
            &trust,
            identity,
            timeout
        )),
        timed(modern::probe(
            &target,
            TlsVersion::Tls13,
            &trust,
            identity,
            timeout
        )),
        cipher_scan::scan(&target, TlsVersion::Tls10, timeout),
        cipher_scan::scan(&target, TlsVersion::Tls11, timeout),
        cipher_scan::scan(&target, TlsVersion::Tls12, timeout),
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

fn serialize_ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}
