//! What a run is asked to do ([`RunOptions`], [`RunPlan`]), as the front hands it to
//! the engine.

use std::time::Duration;

use super::filter::CheckFilter;
use crate::delivery::oauth::ClientSecret;
use crate::event::{EnvelopeStyle, Subscription};
use crate::scenario::Scenario;
use crate::signing::{Secret, SignatureFormat};
use crate::target::TargetSpec;

/// One run, ready for [`super::run`]: its options, the scenarios loaded (built-in and
/// the user's; loading and its warnings are the front's), and which checks it selects.
#[derive(Debug)]
pub struct RunPlan {
    /// What the run is asked to do.
    pub options: RunOptions,
    /// Every scenario loaded, before selection.
    pub scenarios: Vec<Scenario>,
    /// `--only`, `--skip`, `--tags` and `--shard`.
    pub filter: CheckFilter,
}

/// What a run is asked to do: the target, how deliveries are made, and which
/// knobs its checks turn. (The front's own concerns, such as report files, terminal
/// output and the replay command, are not here.)
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where deliveries go: `--endpoint` (or the reference receiver, whose secrets,
    /// state and OAuth the engine sets), `--ca-cert`, `--client-cert`/`--client-key`.
    pub target: TargetSpec,
    /// Extra headers on every delivery (`--header`); never sent to the state URL.
    pub headers: Vec<(String, String)>,
    /// Headers on every observation of the state URL (`--state-header`), and only there:
    /// the read-back endpoint's own credentials.
    pub state_headers: Vec<(String, String)>,
    /// Per-delivery timeout.
    pub timeout: Duration,
    /// The signing secret (generated for the reference receiver when absent).
    pub secret: Option<Secret>,
    /// Token form.
    pub format: SignatureFormat,
    /// Envelope style.
    pub envelope: EnvelopeStyle,
    /// Whether the built-in engine-made checks run (`payload.schema-variants-accepted`;
    /// the built-in scenarios themselves come in [`RunPlan::scenarios`]).
    pub builtin: bool,
    /// `--seed`.
    pub seed: Option<u64>,
    /// What the endpoint subscribed to: `--events` (types and operations; every one
    /// when none is given) and `--org-id` (organizations; the first is the run's own,
    /// a seeded one when none is given). Checks send nothing outside it.
    pub subscription: Subscription,
    /// `--state-url`.
    pub state_url: Option<String>,
    /// `--strict`.
    pub strict: bool,
    /// `--insecure-continue`.
    pub insecure_continue: bool,
    /// Checks run at once.
    pub jobs: usize,
    /// Legacy OAuth client credentials; `None`: no bearer tokens, `oauth.*` left out.
    pub oauth: Option<OAuthOptions>,
    /// `--no-hmac`: deliveries carry no signature headers (legacy OAuth-only partners).
    pub no_hmac: bool,
    /// `--retry-time-scale`: every delay of the `retry.recovers-after-failure`
    /// retries is divided by this ([`super::recovery::DEFAULT_TIME_SCALE`] by default).
    pub retry_time_scale: f64,
    /// `--variants`: how many schema-generated payloads `payload.schema-variants-accepted`
    /// delivers ([`super::variants::DEFAULT_COUNT`] by default).
    pub variants: usize,
    /// `--allow-exec`: scenario `exec` steps may run programs; without it a check
    /// with an `exec` step is skipped.
    pub allow_exec: bool,
    /// Environment variables `exec` programs must not see (the secret's `--secret-env`,
    /// OAuth secret variables); any variable holding a `whsec_…` value is hidden too.
    pub exec_hide_env: Vec<String>,
    /// Whether failed checks the endpoint can be asked about get a diagnosis
    /// (`false` with `--no-diagnose`; see [`crate::diagnose`]).
    pub diagnose: bool,
    /// `--min-coverage`: coverage goals below which the run is not conformant (none
    /// set by default; see [`crate::coverage::MinCoverage`]).
    pub min_coverage: crate::coverage::MinCoverage,
}

/// The legacy OAuth settings of a run.
#[derive(Debug, Clone)]
pub struct OAuthOptions {
    /// The partner's token URL; `None` only with the reference receiver (its own).
    pub token_url: Option<String>,
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (redacted).
    pub client_secret: ClientSecret,
}
