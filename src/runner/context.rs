//! What every check of one run shares ([`RunContext`]): the client, the target, the
//! secret and the run's knobs. A file of its own so the diagnoses and the whole-run
//! checks can use it without depending on the engine.

use std::time::Duration;

use crate::delivery::client::Client;
use crate::delivery::oauth::OAuthClient;
use crate::event::{EnvelopeStyle, Subscription};
use crate::signing::{Secret, SignatureFormat};

/// What every check of one run shares.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The delivery client.
    pub client: Client,
    /// Where deliveries go.
    pub endpoint: String,
    /// The signing secret.
    pub secret: Secret,
    /// Token form.
    pub format: SignatureFormat,
    /// Envelope style.
    pub envelope: EnvelopeStyle,
    /// `audience.organizationId`.
    pub organization_id: String,
    /// Headers on every delivery (`--header`); never sent to the state URL.
    pub headers: Vec<(String, String)>,
    /// Headers on every observation (`--state-header`: the read-back endpoint's own
    /// credentials); sent only to the state URL's origin, never recorded in clear.
    pub state_headers: Vec<(String, String)>,
    /// Per-delivery timeout.
    pub timeout: Duration,
    /// What the endpoint subscribed to: checks send only its types, operations and
    /// organizations.
    pub subscription: Subscription,
    /// The observation URL, if any.
    pub state_url: Option<String>,
    /// The run's seed.
    pub seed: u64,
    /// Legacy OAuth: fetches, caches and attaches bearer tokens to deliveries.
    pub oauth: Option<OAuthClient>,
    /// Whether deliveries carry the HMAC signature headers (`false` with `--no-hmac`).
    pub hmac: bool,
    /// Whether `exec` steps may run programs (`--allow-exec`).
    pub allow_exec: bool,
    /// Environment variables `exec` programs must not see (see [`super::RunOptions::exec_hide_env`]).
    pub exec_hide_env: Vec<String>,
    /// Whether deliveries present a client certificate (`--client-cert`).
    pub client_certificate: bool,
    /// Whether the endpoint could be reached: the first delivery decides, every
    /// delivery to the endpoint goes through it (see [`super::reach`]).
    pub reach: super::reach::Gate,
    /// What the run proved so far: each check's exchanges are counted as the check is
    /// recorded (and `payload.schema-variants-accepted` counts its own as it sends
    /// them), so no body has to be kept to the end of the run for coverage.
    /// Shared by the context's clones (it is one run).
    pub coverage: std::sync::Arc<std::sync::Mutex<crate::coverage::Tally>>,
}

impl RunContext {
    /// The run's coverage tally (a check that panicked while holding it left it
    /// whole: each observation is made under the lock, start to end).
    pub fn tally(&self) -> std::sync::MutexGuard<'_, crate::coverage::Tally> {
        self.coverage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
