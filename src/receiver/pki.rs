//! A throw-away test PKI: a fresh local CA and a `localhost` server certificate.
//!
//! Used by the reference receiver when it serves HTTPS without a certificate of
//! its own (`spotcheck serve --tls self-signed`, and the in-process receiver of
//! `spotcheck run`). The CA is printed or written out so a client can trust it;
//! its key is never kept beyond this function.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

/// The common name of the generated CA.
pub const CA_NAME: &str = "spotcheck local CA";

/// A generated CA and the server certificate it signed, all PEM.
#[derive(Clone)]
pub struct GeneratedPki {
    /// The CA certificate (what a client must trust).
    pub ca_pem: String,
    /// The server (leaf) certificate: DNS `localhost`, IPs `127.0.0.1` and `::1`.
    pub cert_pem: String,
    /// The server's private key (PKCS#8).
    pub key_pem: String,
}

impl std::fmt::Debug for GeneratedPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedPki")
            .field("ca_pem", &self.ca_pem)
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"***redacted***")
            .finish()
    }
}

/// Generates a fresh CA ("spotcheck local CA") and a server certificate for
/// `localhost`, `127.0.0.1` and `::1` (server authentication), both valid from
/// one hour ago for 90 days (well past the 30-day expiry check).
pub fn generate_localhost_pki() -> Result<GeneratedPki, rcgen::Error> {
    let not_before = OffsetDateTime::now_utc() - Duration::hours(1);
    let not_after = not_before + Duration::days(90);

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, CA_NAME);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()])?;
    leaf_params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    leaf_params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.not_before = not_before;
    leaf_params.not_after = not_after;
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer)?;

    Ok(GeneratedPki {
        ca_pem: ca_cert.pem(),
        cert_pem: leaf_cert.pem(),
        key_pem: leaf_key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_names_localhost_and_both_loopback_ips_and_lasts_90_days() {
        let pki = generate_localhost_pki().unwrap();
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.key_pem.contains("PRIVATE KEY"));
        assert!(!format!("{pki:?}").contains("PRIVATE KEY"));
        let (_, pem) = x509_parser::pem::parse_x509_pem(pki.cert_pem.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap();
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names[0].contains("localhost"));
        let days = cert.validity().time_to_expiration().unwrap().whole_days();
        assert!((89..=90).contains(&days), "{days}");
        assert!(cert.issuer().to_string().contains(CA_NAME));
    }
}
