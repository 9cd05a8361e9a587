//! Why a run could not produce a report.

use crate::error::SetupError;

/// A run that stopped before judging the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target could not be set up: endpoint, reference receiver, trust store,
    /// delivery client or OAuth client.
    #[error(transparent)]
    Target(SetupError),
    /// The TLS probe could not start (an endpoint it cannot parse, a trust store it
    /// cannot load).
    #[error(transparent)]
    Probe(SetupError),
}
