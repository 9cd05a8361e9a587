//! How the reference receiver behaves and how it serves TLS: the settings every part
//! of the receiver reads, kept apart from the parts so none of them depends on another
//! for its configuration.

use std::path::PathBuf;
use std::time::Duration;

use super::flaw::Flaw;
use super::oauth::OAuthServerConfig;
use crate::signing::{DEFAULT_TOLERANCE, Secret};

/// Default largest body accepted (4 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Default number of verified events waiting for processing before `503`.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// Default number of webhook ids (and PNRs) remembered.
pub const DEFAULT_DEDUPE_CAPACITY: usize = 65_536;

/// How the receiver behaves.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// The secrets a signature may match (several during key rotation).
    pub secrets: Vec<Secret>,
    /// How far a delivery's timestamp may be from the receiver's clock, either
    /// way; `None` disables the check. Default 5 minutes.
    pub tolerance: Option<Duration>,
    /// Largest body accepted; larger ones get `413`. Default 4 MiB.
    pub max_body_bytes: usize,
    /// Verified events waiting for processing; when full, deliveries get `503`
    /// with `Retry-After` so Spotnana retries.
    pub queue_capacity: usize,
    /// How many webhook ids are remembered for deduplication (oldest forgotten
    /// first); also bounds the per-webhook and per-PNR observation records.
    pub dedupe_capacity: usize,
    /// Expose `GET /state`, `/state/webhooks/{id}` and `/state/pnrs/{pnrId}`.
    pub state: bool,
    /// Append one JSON line per verified event to this file.
    pub log_path: Option<PathBuf>,
    /// Print one summary line per verified event to stdout.
    pub print_events: bool,
    /// Deliberate flaws (test-only); empty for the conformant receiver.
    pub flaws: Vec<Flaw>,
    /// Legacy OAuth: serve `POST /oauth/token` for these credentials and require
    /// `Authorization: Bearer <issued token>` on deliveries. `None`: no OAuth.
    pub oauth: Option<OAuthServerConfig>,
    /// Answer `400` (with the first violation) to a verified delivery whose payload
    /// breaks the schema Spotnana publishes for its event type, as a strict partner
    /// does; payloads of types without a published schema pass.
    pub validate_payloads: bool,
    /// Keep each booking (PNR) and answer `409` with the reason to an event that
    /// contradicts it; an event older than the held `version` is accepted and not
    /// applied ([`super::bookings`]).
    pub stateful: bool,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            secrets: Vec::new(),
            tolerance: Some(DEFAULT_TOLERANCE),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            dedupe_capacity: DEFAULT_DEDUPE_CAPACITY,
            state: false,
            log_path: None,
            print_events: false,
            flaws: Vec::new(),
            oauth: None,
            validate_payloads: false,
            stateful: false,
        }
    }
}

/// How the receiver serves: plain HTTP, HTTPS with a generated test PKI, or
/// HTTPS with the caller's certificate.
#[derive(Clone)]
pub enum TlsSetup {
    /// Plain HTTP (local development only; Spotnana requires HTTPS).
    Plain,
    /// HTTPS with a fresh CA and `localhost` certificate from [`generate_localhost_pki`](super::pki::generate_localhost_pki);
    /// the CA is in [`RunningReceiver::ca_pem`](super::RunningReceiver::ca_pem).
    Generated,
    /// HTTPS with this certificate chain and private key (PEM).
    Pem {
        /// Certificate chain, leaf first.
        cert_pem: String,
        /// Private key (PKCS#8, PKCS#1 or SEC1).
        key_pem: String,
    },
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsSetup::Plain => f.write_str("Plain"),
            TlsSetup::Generated => f.write_str("Generated"),
            TlsSetup::Pem { .. } => f.write_str("Pem { .. }"),
        }
    }
}
