//! Why a run could not produce a report. No variant names a flag: `cli/` words each
//! with the flag the value came from.

use crate::delivery::endpoint::EndpointError;
use crate::target::TargetError;
use crate::tls::ClientConfigError;
use crate::tls_probe::ProbeError;

/// A run that stopped before judging the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The endpoint, the reference receiver, the trust store or the client
    /// certificate could not be set up.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The delivery client could not be built from the trust store and certificate.
    #[error(transparent)]
    Client(#[from] ClientConfigError),
    /// OAuth is configured with a token URL spotcheck cannot use.
    #[error("the token URL: {0}")]
    TokenUrl(EndpointError),
    /// OAuth is configured against a partner endpoint without its token URL.
    #[error("OAuth needs the partner's token URL")]
    NoTokenUrl,
    /// The TLS probe could not start (an endpoint it cannot parse, a trust store it
    /// cannot load).
    #[error(transparent)]
    Probe(#[from] ProbeError),
}
