//! The one trust loader: the system roots plus the certificates of a `--ca-cert` PEM
//! file, for the delivery pool, the load client and the TLS probe alike.
//!
//! One behaviour for all three, the strictest the others allowed: the file must be
//! readable, valid PEM, hold at least one certificate, and every certificate in it
//! must be usable as a trust anchor. A CA file that is silently half-used would make a
//! partner's private CA look untrusted for a reason nobody could see. System roots
//! that cannot be parsed are skipped: their absence shows up as "unknown issuer"
//! findings, which name the remedy.

use std::io;
use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

/// What is wrong with the PEM text of a CA file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemProblem {
    /// A `-----BEGIN` block that does not decode.
    #[error("is not valid PEM ({0})")]
    NotPem(String),
    /// No certificate block at all (an empty file, a key, plain text).
    #[error("holds no certificate (no `-----BEGIN CERTIFICATE-----` block)")]
    NoCertificate,
    /// A certificate that rustls refuses as a trust anchor.
    #[error("holds a certificate that cannot be used as a trust anchor ({0})")]
    Unusable(String),
}

/// Why the trusted roots could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The CA file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The file as given.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The CA file (or PEM given in memory, `path` `None`) is not usable.
    #[error("{}{problem}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Invalid {
        /// The file, when the PEM came from one.
        path: Option<PathBuf>,
        /// What is wrong with it.
        problem: PemProblem,
    },
}

/// Reads a CA file and checks it with the same rules as [`TrustAnchors::load`], so a
/// bad file stops a command before anything is sent. Returns the PEM bytes.
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>, TrustError> {
    let pem = std::fs::read(path).map_err(|source| TrustError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    anchors(&pem).map_err(|problem| TrustError::Invalid {
        path: Some(path.to_owned()),
        problem,
    })?;
    Ok(pem)
}

/// The certificates of `pem`, each checked to be usable as a trust anchor.
fn anchors(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, PemProblem> {
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<_, _>>()
        .map_err(|err| PemProblem::NotPem(err.to_string()))?;
    if certs.is_empty() {
        return Err(PemProblem::NoCertificate);
    }
    let mut check = RootCertStore::empty();
    for cert in &certs {
        check
            .add(cert.clone())
            .map_err(|err| PemProblem::Unusable(err.to_string()))?;
    }
    Ok(certs)
}

/// The roots a client trusts: the system's, plus the extra CA certificates given.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    /// Every trusted root.
    pub roots: RootCertStore,
    /// Whether extra (`--ca-cert`) certificates were added: findings then name both
    /// places a root could come from.
    pub has_extra: bool,
}

impl TrustAnchors {
    /// The system roots plus the certificates in `ca_pem`, checked as
    /// [`read_ca_file`] does.
    pub fn load(ca_pem: Option<&[u8]>) -> Result<TrustAnchors, TrustError> {
        crate::init_crypto();
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if let Some(pem) = ca_pem {
            let extra = anchors(pem).map_err(|problem| TrustError::Invalid {
                path: None,
                problem,
            })?;
            roots.add_parsable_certificates(extra);
        }
        Ok(TrustAnchors {
            roots,
            has_extra: ca_pem.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{PemProblem, TrustAnchors, TrustError, read_ca_file};

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn a_good_pem_file_adds_its_roots() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, ca_pem()).unwrap();
        let pem = read_ca_file(&path).unwrap();
        let system = TrustAnchors::load(None).unwrap();
        let with_ca = TrustAnchors::load(Some(&pem)).unwrap();
        assert!(with_ca.has_extra && !system.has_extra);
        assert_eq!(with_ca.roots.len(), system.roots.len() + 1);
    }

    #[test]
    fn a_file_without_a_certificate_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let err = read_ca_file(&path).unwrap_err();
        assert!(matches!(
            err,
            TrustError::Invalid {
                problem: PemProblem::NoCertificate,
                ..
            }
        ));
        assert!(
            err.to_string().contains("ca.pem: holds no certificate"),
            "{err}"
        );
        let err = TrustAnchors::load(Some(b"not a certificate")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "holds no certificate (no `-----BEGIN CERTIFICATE-----` block)"
        );
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = read_ca_file(&path).unwrap_err();
        assert!(
            matches!(
                &err,
                TrustError::Invalid {
                    problem: PemProblem::NotPem(_),
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_file_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_ca_file(&dir.path().join("missing.pem")).unwrap_err();
        assert!(matches!(err, TrustError::Unreadable { .. }));
        assert!(err.to_string().starts_with("cannot read "), "{err}");
        assert!(err.to_string().contains("missing.pem"), "{err}");
    }
}
