//! The endpoint's certificate: which roots we trust, what the chain says, and why it
//! does or does not verify.
//!
//! Verification is rustls' WebPKI verifier over the system roots plus the `--ca-cert`
//! certificates (added to, not replacing, the system roots). The probe's handshakes use a
//! capture-only verifier (`CapturingVerifier`) that records the chain and the real
//! verifier's verdict and then lets the handshake go on, so the details of a certificate
//! that does not verify can still be shown. It is never used for deliveries.

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::address::Address;
use super::version::TlsVersion;
use crate::tls::{TrustAnchors, TrustError};

/// The trust anchors of a probe and the verifier built on them.
#[derive(Debug)]
pub(super) struct Trust {
    /// `None` when there is no root at all (no system store and no `--ca-cert`).
    verifier: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    /// Whether `--ca-cert` certificates were added.
    has_extra: bool,
}

impl Trust {
    /// The system roots and the CA certificates in `ca_pem`, through the one trust
    /// loader ([`TrustAnchors::load`]) the delivery and load clients use.
    pub(super) fn load(ca_pem: Option<&[u8]>) -> Result<Trust, TrustError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let TrustAnchors { roots, has_extra } = TrustAnchors::load(ca_pem)?;
        let verifier = if roots.is_empty() {
            None
        } else {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .ok()
        };
        Ok(Trust {
            verifier,
            provider,
            has_extra,
        })
    }

    /// The crypto provider handshakes use.
    pub(super) fn provider(&self) -> Arc<CryptoProvider> {
        self.provider.clone()
    }
}

/// A chain the server presented and the real verifier's verdict on it.
#[derive(Debug, Clone)]
pub(super) struct Captured {
    chain: Vec<CertificateDer<'static>>,
    verdict: Result<(), rustls::Error>,
}

/// A certificate verifier for probing only: records the chain and the real verdict, then
/// accepts, so that a bad certificate can still be described. Handshake signatures are
/// still checked.
#[derive(Debug)]
pub(super) struct CapturingVerifier {
    trust: Arc<Trust>,
    captured: Mutex<Option<Captured>>,
}

impl CapturingVerifier {
    pub(super) fn new(trust: Arc<Trust>) -> CapturingVerifier {
        CapturingVerifier {
            trust,
            captured: Mutex::new(None),
        }
    }

    /// What the handshake presented, if it got that far.
    pub(super) fn take(&self) -> Option<Captured> {
        self.captured.lock().ok().and_then(|mut c| c.take())
    }
}

impl ServerCertVerifier for CapturingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = match &self.trust.verifier {
            Some(verifier) => verifier
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map(|_| ()),
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        if let Ok(mut slot) = self.captured.lock() {
            *slot = Some(Captured { chain, verdict });
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.trust.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.trust.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.trust
            .provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The leaf certificate, the chain, and whether it verifies.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    /// The leaf's subject, e.g. `CN=partner.example`.
    pub subject: String,
    /// The leaf's issuer.
    pub issuer: String,
    /// Subject alternative names: `DNS:partner.example`, `IP:127.0.0.1`.
    pub sans: Vec<String>,
    /// Start of validity (RFC 3339, UTC).
    pub not_before: String,
    /// End of validity (RFC 3339, UTC).
    pub not_after: String,
    /// Days from now to `not_after`, rounded to the nearest day (negative once expired).
    pub days_left: i64,
    /// Seconds from now to `not_after` (negative once expired).
    pub seconds_left: i64,
    /// The public key: `RSA 2048-bit`, `EC 256-bit`, …
    pub key: String,
    /// Whether the leaf is self-signed (subject equals issuer).
    pub self_signed: bool,
    /// How many certificates the server sent (leaf included).
    pub chain_len: usize,
    /// Subject of each certificate the server sent, leaf first.
    pub chain: Vec<String>,
    /// Whether the chain verifies (trusted root, name, validity period).
    pub verified: bool,
    /// Why it does not, in words (`None` when verified).
    pub verify_error: Option<String>,
    /// Whether a SAN matches the host the URL names.
    pub name_matches: bool,
    /// The handshake that showed this certificate.
    pub seen_with: TlsVersion,
}

impl CertificateInfo {
    /// Describes a captured chain for `target`.
    pub(super) fn describe(
        captured: &Captured,
        target: &Address,
        trust: &Trust,
        seen_with: TlsVersion,
    ) -> CertificateInfo {
        let now = OffsetDateTime::now_utc();
        let parsed: Vec<Option<X509Certificate<'_>>> = captured
            .chain
            .iter()
            .map(|der| X509Certificate::from_der(der).ok().map(|(_, cert)| cert))
            .collect();
        let chain = parsed
            .iter()
            .map(|cert| match cert {
                Some(cert) => cert.subject().to_string(),
                None => "(unparseable certificate)".to_owned(),
            })
            .collect();
        let mut info = CertificateInfo {
            subject: "(unparseable certificate)".to_owned(),
            issuer: String::new(),
            sans: Vec::new(),
            not_before: String::new(),
            not_after: String::new(),
            days_left: 0,
            seconds_left: 0,
            key: String::new(),
            self_signed: false,
            chain_len: captured.chain.len(),
            chain,
            verified: captured.verdict.is_ok(),
            verify_error: None,
            name_matches: false,
            seen_with,
        };
        if let Some(Some(leaf)) = parsed.first() {
            info.subject = leaf.subject().to_string();
            info.issuer = leaf.issuer().to_string();
            info.self_signed = leaf.subject().as_raw() == leaf.issuer().as_raw();
            info.sans = sans(leaf);
            let validity = leaf.validity();
            info.not_before = rfc3339(validity.not_before.timestamp());
            info.not_after = rfc3339(validity.not_after.timestamp());
            info.seconds_left = validity.not_after.timestamp() - now.unix_timestamp();
            info.days_left = (info.seconds_left + 43_200).div_euclid(86_400);
            info.key = key_description(leaf);
            info.name_matches = name_matches(leaf, target);
        }
        if let Err(err) = &captured.verdict {
            info.verify_error = Some(explain(err, &info, target, trust));
        }
        info
    }
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(dns) => format!("DNS:{dns}"),
            GeneralName::IPAddress(bytes) => match ip_from_bytes(bytes) {
                Some(ip) => format!("IP:{ip}"),
                None => "IP:(malformed)".to_owned(),
            },
            GeneralName::RFC822Name(mail) => format!("email:{mail}"),
            GeneralName::URI(uri) => format!("URI:{uri}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

fn key_description(cert: &X509Certificate<'_>) -> String {
    use x509_parser::public_key::PublicKey;
    match cert.public_key().parsed() {
        Ok(key @ PublicKey::RSA(_)) => format!("RSA {}-bit", key.key_size()),
        Ok(key @ PublicKey::EC(_)) => format!("EC {}-bit", key.key_size()),
        Ok(key) => format!("{}-bit", key.key_size()),
        Err(_) => format!("{}", cert.public_key().algorithm.algorithm),
    }
}

/// Whether a SAN of `cert` names the host (DNS names case-insensitively, with a
/// left-most `*.` wildcard; IP addresses exactly). The subject CN is not used, as
/// clients no longer do.
fn name_matches(cert: &X509Certificate<'_>, target: &Address) -> bool {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return false;
    };
    let host_ip = target.host.parse::<std::net::IpAddr>().ok();
    let host = target.host.trim_end_matches('.').to_ascii_lowercase();
    ext.value
        .general_names
        .iter()
        .any(|name| match (name, host_ip) {
            (GeneralName::IPAddress(bytes), Some(ip)) => ip_from_bytes(bytes) == Some(ip),
            (GeneralName::DNSName(dns), None) => dns_matches(dns, &host),
            _ => false,
        })
}

fn dns_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

/// Why the certificate does not verify, in words a partner can act on.
fn explain(err: &rustls::Error, info: &CertificateInfo, target: &Address, trust: &Trust) -> String {
    let roots = if trust.has_extra {
        "the system roots or the --ca-cert file"
    } else {
        "the system roots (pass a private CA with --ca-cert)"
    };
    let rustls::Error::InvalidCertificate(cert_err) = err else {
        return format!("the certificate could not be verified: {err}");
    };
    match cert_err {
        // A self-signed leaf whose name equals a trusted root's (e.g. a `CN=localhost`
        // snakeoil certificate in the system store) fails with a bad signature instead.
        CertificateError::UnknownIssuer | CertificateError::BadSignature if info.self_signed => {
            format!(
                "the certificate is self-signed ({}): nothing in {roots} vouches for it",
                info.subject
            )
        }
        CertificateError::UnknownIssuer => format!(
            "the certificate is issued by `{}`, which does not chain to a CA in {roots}",
            info.issuer
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            if info.seconds_left < 0 {
                format!(
                    "the certificate expired on {} ({} days ago)",
                    info.not_after, -info.days_left
                )
            } else {
                "a certificate in the chain has expired".to_owned()
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => format!(
            "the certificate is not valid yet: its validity starts {}",
            info.not_before
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = if info.sans.is_empty() {
                "no subject alternative name".to_owned()
            } else {
                info.sans.join(", ")
            };
            format!(
                "the certificate is not issued for {}: it names {names}",
                target.host
            )
        }
        CertificateError::BadSignature => {
            "a signature in the certificate chain does not verify".to_owned()
        }
        other if format!("{other:?}").contains("CaUsedAsEndEntity") => format!(
            "the server presents a CA certificate (basicConstraints CA:TRUE{}) as its own; clients refuse that",
            if info.self_signed {
                ", self-signed"
            } else {
                ""
            }
        ),
        other => format!("the certificate does not verify: {other}"),
    }
}
