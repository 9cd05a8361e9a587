//! The client certificate (`--client-cert` / `--client-key`) for partners whose endpoint
//! requires mutual TLS: loaded and checked once, then presented by the delivery client,
//! the TLS probe's handshakes and the load generator.
//!
//! The key never appears in output: [`ClientIdentity`]'s `Debug` shows only the
//! certificate subject, and errors name the file, never its content.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// Which of the two files a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityFile {
    /// The certificate chain (`--client-cert`).
    Certificate,
    /// The private key (`--client-key`).
    Key,
}

/// What is wrong with a certificate and key pair. Never holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityProblem {
    /// The certificate file has a block that does not decode.
    #[error("the certificate file is not valid PEM")]
    CertificateNotPem,
    /// The certificate file has no certificate block.
    #[error(
        "the certificate file holds no PEM certificate (expected a `-----BEGIN CERTIFICATE-----` block)"
    )]
    NoCertificate,
    /// The key file has no private key block.
    #[error(
        "the key file holds no PEM private key (expected `-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`)"
    )]
    NoKey,
    /// The key file has a block that does not decode.
    #[error("the key file is not valid PEM")]
    KeyNotPem,
    /// The key is not the certificate's.
    #[error("the private key does not belong to the certificate")]
    Mismatch,
    /// rustls cannot use the key (its text is never echoed: it may describe the key).
    #[error("the private key cannot be used")]
    UnusableKey,
    /// rustls refuses the pair for another reason.
    #[error("the certificate or key cannot be used ({0})")]
    Unusable(String),
    /// The HTTPS client library refuses the pair.
    #[error("the client certificate cannot be used by the HTTPS client")]
    RefusedByHttpClient,
}

/// Why a client identity could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// One of the two files could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// Which file.
        file: IdentityFile,
        /// The file as given.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The files were read but do not make a usable identity.
    #[error("{} / {}: {problem}", cert.display(), key.display())]
    Invalid {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What is wrong.
        problem: IdentityProblem,
    },
}

/// A client certificate chain and its private key, checked to match.
#[derive(Clone)]
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
    subject: String,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("subject", &self.subject)
            .field("chain_len", &self.chain.len())
            .field("key", &"[redacted]")
            .finish()
    }
}

impl ClientIdentity {
    /// Reads the certificate file (PEM, leaf first, intermediates after) and the key
    /// file (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC). Errors name the file and the problem:
    /// unreadable, no PEM certificate, no PEM private key, a key that does not belong
    /// to the certificate.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<ClientIdentity, IdentityError> {
        let read = |file, path: &Path| {
            std::fs::read(path).map_err(|source| IdentityError::Unreadable {
                file,
                path: path.to_owned(),
                source,
            })
        };
        let cert_pem = read(IdentityFile::Certificate, cert_path)?;
        let key_pem = read(IdentityFile::Key, key_path)?;
        ClientIdentity::from_pem(&cert_pem, &key_pem).map_err(|problem| IdentityError::Invalid {
            cert: cert_path.to_owned(),
            key: key_path.to_owned(),
            problem,
        })
    }

    /// Builds the identity from PEM text (see [`ClientIdentity::load`]).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<ClientIdentity, IdentityProblem> {
        let mut chain = Vec::new();
        for item in rustls_pemfile::certs(&mut &cert_pem[..]) {
            match item {
                Ok(der) => chain.push(der),
                Err(_) => return Err(IdentityProblem::CertificateNotPem),
            }
        }
        if chain.is_empty() {
            return Err(IdentityProblem::NoCertificate);
        }
        let key = match rustls_pemfile::private_key(&mut &key_pem[..]) {
            Ok(Some(key)) => key,
            Ok(None) => return Err(IdentityProblem::NoKey),
            Err(_) => return Err(IdentityProblem::KeyNotPem),
        };
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider).map_err(
            |err| match err {
                rustls::Error::InconsistentKeys(_) => IdentityProblem::Mismatch,
                // Never echo rustls' text about the key itself: name the class only.
                rustls::Error::General(_) => IdentityProblem::UnusableKey,
                other => IdentityProblem::Unusable(other.to_string()),
            },
        )?;
        let subject = x509_parser::parse_x509_certificate(&chain[0])
            .map(|(_, cert)| cert.subject().to_string())
            .unwrap_or_else(|_| "(unparsed)".to_owned());
        Ok(ClientIdentity {
            chain,
            key: Arc::new(key),
            subject,
        })
    }

    /// The leaf certificate's subject, e.g. `CN=partner-client`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The chain and key for a rustls `with_client_auth_cert`.
    pub fn rustls_parts(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.chain.clone(), self.key.clone_key())
    }

    /// The chain and key as a rustls [`CertifiedKey`] for `provider`.
    pub(crate) fn certified_key(
        &self,
        provider: &rustls::crypto::CryptoProvider,
    ) -> Result<Arc<CertifiedKey>, rustls::Error> {
        let (chain, key) = self.rustls_parts();
        CertifiedKey::from_der(chain, key, provider).map(Arc::new)
    }

    /// The identity for reqwest (the delivery client).
    pub fn reqwest_identity(&self) -> Result<reqwest::Identity, IdentityProblem> {
        reqwest::Identity::from_pem(&self.normalized_pem())
            .map_err(|_| IdentityProblem::RefusedByHttpClient)
    }

    /// The certificates then the key, re-encoded as plain PEM blocks (without the
    /// `EC PARAMETERS` and other blocks some tools add, which reqwest refuses).
    pub(crate) fn normalized_pem(&self) -> Vec<u8> {
        let mut out = String::new();
        for cert in &self.chain {
            pem_block(&mut out, "CERTIFICATE", cert.as_ref());
        }
        let (label, der) = match &*self.key {
            PrivateKeyDer::Pkcs1(key) => ("RSA PRIVATE KEY", key.secret_pkcs1_der()),
            PrivateKeyDer::Sec1(key) => ("EC PRIVATE KEY", key.secret_sec1_der()),
            PrivateKeyDer::Pkcs8(key) => ("PRIVATE KEY", key.secret_pkcs8_der()),
            _ => ("PRIVATE KEY", &[][..]),
        };
        pem_block(&mut out, label, der);
        out.into_bytes()
    }
}

fn pem_block(out: &mut String, label: &str, der: &[u8]) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    out.push_str(&format!("-----BEGIN {label}-----\n"));
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
}

#[cfg(test)]
mod tests {
    use super::{ClientIdentity, IdentityProblem};

    fn pair(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn loads_a_matching_pair_and_never_shows_the_key() {
        let (cert, key) = pair("client.example");
        let identity = ClientIdentity::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
        assert_eq!(identity.subject(), "CN=rcgen self signed cert");
        let debug = format!("{identity:?}");
        assert!(debug.contains("[redacted]"), "{debug}");
        let body = key.lines().nth(1).unwrap();
        assert!(!debug.contains(body));
        // The normalized PEM is what reqwest accepts.
        assert!(identity.reqwest_identity().is_ok());
        let pem = String::from_utf8(identity.normalized_pem()).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
        assert!(pem.contains("-----BEGIN PRIVATE KEY-----\n"));
    }

    #[test]
    fn mismatched_or_missing_parts_are_named() {
        let (cert, _) = pair("a.example");
        let (_, other_key) = pair("b.example");
        let err = ClientIdentity::from_pem(cert.as_bytes(), other_key.as_bytes()).unwrap_err();
        assert_eq!(err, IdentityProblem::Mismatch);
        let err = ClientIdentity::from_pem(b"nothing", other_key.as_bytes()).unwrap_err();
        assert_eq!(err, IdentityProblem::NoCertificate);
        let err = ClientIdentity::from_pem(cert.as_bytes(), cert.as_bytes()).unwrap_err();
        assert_eq!(err, IdentityProblem::NoKey);
        assert!(!err.to_string().contains(cert.lines().nth(1).unwrap()));
    }
}
