//! What the probe found: the result at each TLS version and the whole report.

use std::time::Duration;

use serde::{Serialize, Serializer};

use super::certificate::CertificateInfo;
use super::cipher_scan::SuiteScan;
use super::version::TlsVersion;
use super::wire;

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
    pub(super) fn new(
        version: TlsVersion,
        outcome: Outcome,
        detail: impl Into<String>,
    ) -> VersionResult {
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
    pub(super) fn alert(version: TlsVersion, description: u8) -> VersionResult {
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

pub(super) fn serialize_ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}
