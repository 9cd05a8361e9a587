//! The rustls client configuration of every sender: the delivery pool, the load
//! client and (through the same trust anchors) the TLS probe.

use std::sync::Arc;

use super::identity::ClientIdentity;
use super::trust::{TrustAnchors, TrustError};

/// Why a client configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    /// The extra CA certificates are not usable.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// rustls refuses the client certificate and key.
    #[error("the client certificate cannot be used for TLS")]
    ClientCertificate,
}

/// TLS 1.2 or newer, the system roots plus the PEM certificates of `ca_pem` (checked
/// by the one trust loader, [`TrustAnchors::load`]), and `identity` for mutual TLS.
/// The caller sets ALPN: HTTP/2 and HTTP/1.1 for deliveries, HTTP/1.1 alone for load.
pub fn client_config(
    ca_pem: Option<&[u8]>,
    identity: Option<&ClientIdentity>,
) -> Result<rustls::ClientConfig, ClientConfigError> {
    let anchors = TrustAnchors::load(ca_pem)?;
    let config = rustls::ClientConfig::builder_with_protocol_versions(&[
        &rustls::version::TLS13,
        &rustls::version::TLS12,
    ])
    .with_root_certificates(anchors.roots);
    match identity {
        None => Ok(config.with_no_client_auth()),
        Some(identity) => {
            let (chain, key) = identity.rustls_parts();
            config
                .with_client_auth_cert(chain, key)
                .map_err(|_| ClientConfigError::ClientCertificate)
        }
    }
}

/// Accepts any server certificate (still checking the handshake signatures), for
/// `run --insecure-continue` only: the TLS checks have already judged the certificate.
#[derive(Debug)]
pub struct AcceptAnyCertificate(pub Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
