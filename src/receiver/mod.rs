//! The reference receiver: a correct Spotnana webhook endpoint.
//!
//! It verifies each delivery's signature over the raw body (both token forms,
//! several tokens during key rotation, a timestamp tolerance), answers `200` at
//! once and hands the event to a bounded queue processed in the background:
//! deduplicated by webhook id, ordered per PNR by the envelope timestamp ("newest
//! timestamp wins"), logged. With `state` on it exposes what it did under
//! `GET /state…` so scenarios can observe it.
//!
//! Answers:
//! - `200` `{"received":true,"id":…}` for a verified delivery, queued for processing.
//!   A redelivered webhook id is also `200` (idempotent) and is not processed again.
//!   A validly signed body that is not JSON is still `200`: it was received and
//!   signed by Spotnana, refusing would only make Spotnana retry the same bytes for
//!   two weeks; processing logs the parse error instead (`error` in the event log).
//! - `401` `{"error","step","detail"}` when verification fails; `step` is one of
//!   `missing-header`, `bad-timestamp`, `stale-timestamp`, `future-timestamp`,
//!   `no-signature`, `malformed-signature`, `signature-mismatch`. Never the secret.
//! - `400` `{"error","step":"invalid-payload","detail"}` with `validate_payloads` on,
//!   for a verified delivery whose payload breaks its published schema; `detail` names
//!   the first violation's JSON pointer (from the body's root) and message.
//! - `413` above `max_body_bytes`; `503` with `Retry-After: 1` when the queue is full;
//!   `405` for methods other than POST.
//!
//! Observation (`state: true`), all `200` with JSON: `GET /state` →
//! [`ReceiverStats`]; `GET /state/webhooks/{id}` → [`WebhookView`] (zeros for an
//! unknown id); `GET /state/pnrs/{pnrId}` → [`PnrView`] (zero and nulls for an
//! unknown PNR). Processing is asynchronous, so state may lag a few ms: poll.
//!
//! It is also the built-in default target of `spotcheck run`/`send`, and, through
//! test-only [`Flaw`]s, the deliberately broken endpoints that prove each
//! conformance check can fail.

mod fields;
mod flaw;
mod handler;
pub mod log;
pub mod oauth;
pub mod pki;
mod processor;
mod server;
mod state;

use std::path::PathBuf;
use std::time::Duration;

use crate::signing::{DEFAULT_TOLERANCE, Secret};

pub use flaw::{Flaw, HEADER_ALLOWLIST, KNOWN_ENVELOPE_KEYS};
pub use log::EventRecord;
pub use oauth::OAuthServerConfig;
pub use pki::{GeneratedPki, generate_localhost_pki};
pub use server::{RunningReceiver, start, start_on_loopback};
pub use state::{PnrView, ReceiverStats, WebhookView};

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
        }
    }
}

/// How the receiver serves: plain HTTP, HTTPS with a generated test PKI, or
/// HTTPS with the caller's certificate.
#[derive(Clone)]
pub enum TlsSetup {
    /// Plain HTTP (local development only; Spotnana requires HTTPS).
    Plain,
    /// HTTPS with a fresh CA and `localhost` certificate from [`generate_localhost_pki`];
    /// the CA is in [`RunningReceiver::ca_pem`].
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
