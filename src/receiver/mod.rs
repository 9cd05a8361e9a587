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
//! - `409` `{"error","step":"booking-conflict","detail"}` with `stateful` on, for a
//!   verified event that contradicts the booking held for its `pnrId` (see
//!   [`bookings`]); an event older than the booking's `version` is `200`, not applied.
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

pub mod bookings;
mod config;
mod fields;
mod flaw;
mod handler;
pub mod log;
pub mod oauth;
pub mod pki;
mod processor;
mod server;
mod state;
mod token_endpoint;

pub use config::{
    DEFAULT_DEDUPE_CAPACITY, DEFAULT_MAX_BODY_BYTES, DEFAULT_QUEUE_CAPACITY, ReceiverConfig,
    TlsSetup,
};
pub use flaw::{Flaw, HEADER_ALLOWLIST, KNOWN_ENVELOPE_KEYS};
pub use log::EventRecord;
pub use oauth::OAuthServerConfig;
pub use pki::{GeneratedPki, generate_localhost_pki};
pub use server::{RunningReceiver, StartError, StartStep, start, start_on_loopback};
pub use state::{PnrView, ReceiverStats, WebhookView};
