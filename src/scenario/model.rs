//! The validated scenario model: what the runner executes. Every value here has been
//! checked by the loader (names exist, references point backwards, limits hold), so
//! the runner only has to render templates and send.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use crate::check::CheckInfo;
use crate::event::{EventKind, SeededRng};
use crate::signing::SignatureFormat;
use crate::units::Offset;

use super::diagnostic::Problem;
use super::json::JsonTemplate;
use super::status::StatusExpect;
use super::template::{RenderError, StepField, Template, TemplateContext};

/// Limits a scenario may not exceed (checked at load time, reported as errors).
pub mod limits {
    use std::time::Duration;

    /// Most steps in one file.
    pub const MAX_STEPS: usize = 200;
    /// Largest `repeat`.
    pub const MAX_REPEAT: u32 = 10_000;
    /// Largest `concurrency`.
    pub const MAX_CONCURRENCY: u32 = 256;
    /// Longest `sleep`.
    pub const MAX_SLEEP: Duration = Duration::from_secs(60);
    /// Largest `large`.
    pub const MAX_LARGE: u64 = 16 << 20;
    /// Longest `within` / `p95_within`.
    pub const MAX_WITHIN: Duration = Duration::from_secs(600);
    /// Largest scenario file or `payload_file`.
    pub const MAX_FILE: u64 = 16 << 20;
    /// `exec_timeout` when none is written.
    pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(10);
    /// Longest `exec_timeout`.
    pub const MAX_EXEC_TIMEOUT: Duration = Duration::from_secs(300);
    /// Most arguments (program included) of one `exec`.
    pub const MAX_EXEC_ARGS: usize = 64;
}

/// One check, as written in one scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// What the check is: id (`suite.name`, e.g. `ordering.out-of-order-accepted`),
    /// title, level, why, fix and tags, as every report shows them.
    pub info: CheckInfo,
    /// Capabilities the run must have; without them the check is skipped with a reason.
    pub requires: Vec<Capability>,
    /// `[vars]`, in file order; each may use the ones before it.
    pub vars: Vec<Var>,
    /// The steps, in order (at least one).
    pub steps: Vec<Step>,
    /// The most it can send (deliveries and body bytes), computed at load time.
    pub budget: super::budget::Budget,
    /// Payload overrides (`payload`, `payload_file`) that make a payload Spotnana's
    /// published schema rejects, each at its `file:line:column`: warnings, never errors.
    pub warnings: Vec<Problem>,
    /// Where it came from.
    pub origin: Origin,
}

impl Scenario {
    /// The suite: the part of the id before the first `.`.
    pub fn suite(&self) -> &str {
        self.info.suite()
    }

    /// Whether it needs `--state-url` (`requires = ["state"]`).
    pub fn needs_state(&self) -> bool {
        self.info.needs.state_url
    }

    /// The programs its `exec` steps run, in step order (empty when it runs none).
    /// A check that runs programs is skipped unless the run allows it (`--allow-exec`).
    pub fn exec_steps(&self) -> impl Iterator<Item = &ExecStep> {
        self.steps.iter().filter_map(|s| s.exec.as_ref())
    }

    /// Whether any step runs a program (`exec`).
    pub fn runs_programs(&self) -> bool {
        self.exec_steps().next().is_some()
    }

    /// Whether it needs OAuth configured (`requires = ["oauth"]`).
    pub fn needs_oauth(&self) -> bool {
        self.info.needs.oauth
    }

    /// The index of the step called `name`.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.name.as_deref() == Some(name))
    }

    /// Renders `[vars]` in order. `base` supplies `state_url` (vars cannot use steps or
    /// each other's later entries; the loader guarantees it). Returns `(name, value)` pairs.
    pub fn resolve_vars(
        &self,
        base: &dyn TemplateContext,
        rng: &mut SeededRng,
    ) -> Result<Vec<(String, String)>, RenderError> {
        struct Layer<'a> {
            base: &'a dyn TemplateContext,
            done: &'a [(String, String)],
        }
        impl TemplateContext for Layer<'_> {
            fn var(&self, name: &str) -> Option<String> {
                self.done
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .or_else(|| self.base.var(name))
            }
            fn state_url(&self) -> Option<String> {
                self.base.state_url()
            }
            fn step_value(&self, step: &str, field: StepField) -> Option<String> {
                self.base.step_value(step, field)
            }
            fn subscribed_organization(&self) -> Option<String> {
                self.base.subscribed_organization()
            }
        }
        let mut done: Vec<(String, String)> = Vec::with_capacity(self.vars.len());
        for var in &self.vars {
            let value = var.value.render(&Layer { base, done: &done }, rng)?;
            done.push((var.name.clone(), value));
        }
        Ok(done)
    }
}

/// Where a scenario was loaded from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The file name as given (`scenarios/delivery/01-status-200.toml` for built-ins).
    pub file: String,
    /// Whether it is one of the built-in suites embedded in the binary.
    pub builtin: bool,
    /// The file's text (for later diagnostics).
    pub text: Arc<str>,
    /// Byte range of the `id` value in `text`.
    pub id_span: Range<usize>,
}

/// What a run must provide for a scenario to be meaningful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// `state`: an observation endpoint (`--state-url`).
    State,
    /// `oauth`: the legacy OAuth client-credentials flow (`--oauth-token-url`).
    OAuth,
    /// `hmac`: HMAC-signed deliveries (skipped with `--no-hmac`).
    Hmac,
}

impl Capability {
    /// The spelling in `requires`.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::State => "state",
            Capability::OAuth => "oauth",
            Capability::Hmac => "hmac",
        }
    }
}

/// One `[vars]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: Template,
}

/// One `[[step]]`.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its `name`, if given (used by `redeliver`, `replay` and `{{ steps.NAME.… }}`).
    pub name: Option<String>,
    /// What it does.
    pub action: Action,
    /// What must hold afterwards.
    pub expect: Expect,
    /// `exec = […]`: a partner program run after the step's action (and its
    /// expectations) with the step's exchange on stdin; its exit code is the outcome.
    /// Always set when `action` is [`Action::Exec`].
    pub exec: Option<ExecStep>,
    /// `precondition = { status = …, see = "check.id" }`: what the step's answers must
    /// be before the check can judge anything. When an answer does not meet it, the
    /// check is skipped with "could not judge: …" (never passed, never failed: its own
    /// subject was not reached); a delivery without any answer still fails the check.
    pub precondition: Option<Precondition>,
}

/// A step's precondition (see [`Step::precondition`]).
///
/// A control delivery is the usual one: `signature.invalid-rejected` first sends a
/// correctly signed event, which must get `200`; only then does a refused garbage
/// signature show that signatures are checked. If the control got `202`, the endpoint's
/// status handling is wrong, which `delivery.status-200` reports; the signature check
/// could not judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    /// The status every answer of the step must have (default `200`).
    pub status: StatusExpect,
    /// The check that judges this condition on its own, named in the message.
    pub see: Option<String>,
}

impl Step {
    /// `step 3` or `step 3 ("first")` (1-based), for messages.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => format!("step {} (\"{name}\")", index + 1),
            None => format!("step {}", index + 1),
        }
    }
}

/// What a step does: exactly one of these.
#[derive(Debug, Clone)]
pub enum Action {
    /// Deliver an event (or several: `repeat`, `send = "each"`).
    Send(Box<SendStep>),
    /// Wait.
    Sleep(Duration),
    /// Read the partner's observation endpoint.
    Observe(Observe),
    /// Ask the partner's OAuth token endpoint for a token (`token = …`).
    Token(TokenStep),
    /// Nothing but its [`Step::exec`] program: a step with `exec` and no other action.
    /// The program gets the scenario's most recent exchange (`null` before any).
    Exec,
}

/// `exec = ["program", "arg", …]`: a partner-supplied program that judges an exchange.
///
/// Run with no shell: the program gets the exchange as one JSON document on stdin and
/// `SPOTCHECK_*` variables in its environment (never the signing secret). Exit 0
/// passes (the first line of stdout is the note), anything else fails the check with
/// its stdout as the message; past `timeout` it is killed and the check fails.
#[derive(Debug, Clone)]
pub struct ExecStep {
    /// The program: a path (resolved against the scenario file's directory at load
    /// time when it holds a `/` and is relative) or a bare name looked up on `PATH`.
    pub program: std::path::PathBuf,
    /// The arguments after the program; `{{ … }}` templates render like other step values.
    pub args: Vec<Template>,
    /// How long the program may run (default 10 s, at most 5 min).
    pub timeout: Duration,
    /// The command as written in the file (`./check-db.sh --table events`), for messages.
    pub display: String,
}

/// `token = "issued" | "bad-credentials"`: client-credentials token requests.
///
/// With `expect.status` 200 (the default) every answer must also be a valid token
/// response: `access_token` (non-empty string), `expires_in` (positive number) and
/// `token_type` `Bearer` (any case). `expect.json` compares fields of each answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenStep {
    /// Which credentials are sent.
    pub credentials: TokenCredentials,
    /// How many token requests; at least 1.
    pub repeat: u32,
    /// How many are in flight at once; at least 1.
    pub concurrency: u32,
}

/// The credentials of a token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCredentials {
    /// `issued`: the configured client id and secret.
    Configured,
    /// `bad-credentials`: the configured client id with a wrong (random) secret.
    WrongSecret,
}

/// `authorization = …` on a send: the `Authorization` header of the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Authorization {
    /// Not written: the run's bearer token when OAuth is configured, else none.
    #[default]
    Default,
    /// `issued`: the token the partner issued (fetched and cached by the run).
    Issued,
    /// `none`: no `Authorization` header.
    None,
    /// `forged`: `Bearer` with a random token the partner never issued.
    Forged,
}

/// Which event a send step delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum SendSource {
    /// `send = "EVENT/OPERATION"`: a generated event of this kind.
    Event(EventKind),
    /// `send = "each"`: one event of each subscribed type and operation (the runner
    /// expands it from `--events`; `repeat` and `concurrency` apply to the whole set).
    EachSubscribed,
    /// `redeliver = "NAME"`: the same webhook id and body as that step, with a fresh
    /// timestamp and signature (a Spotnana retry).
    Redeliver(StepRef),
    /// `replay = "NAME"`: that step's exact request again: same id, timestamp,
    /// signature and body (a captured request replayed).
    Replay(StepRef),
}

/// A reference to an earlier send step (the loader checks it exists and comes before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    /// Its index in [`Scenario::steps`].
    pub index: usize,
    /// Its name.
    pub name: String,
}

/// A delivery and how it differs from what Spotnana would send.
///
/// The body is built in this order: generate the event for `source` (with `product`,
/// `org_id`, `message_time`), merge `payload_file` then `payload` over `payload`, merge
/// `envelope` over the top level, inflate to `large`, write it in `body_style` — unless
/// `body` is given, which is sent as is. Then sign (per `signature`, at now +
/// `timestamp`), then apply `tamper`.
#[derive(Debug, Clone)]
pub struct SendStep {
    /// Which event.
    pub source: SendSource,
    /// Merged over the generated payload.
    pub payload: Option<JsonTemplate>,
    /// Merged over the envelope's top level (unknown fields, unknown operations).
    pub envelope: Option<JsonTemplate>,
    /// JSON read at load time from `payload_file` (relative to the scenario file), merged
    /// over the payload before `payload`. Its strings are not templates.
    pub payload_file: Option<serde_json::Value>,
    /// Raw body bytes, sent as written (after rendering templates). Excludes
    /// `payload`, `envelope`, `payload_file`, `large`, `body_style`, `product`.
    pub body: Option<Template>,
    /// Inflate the PNR until the body is at least this many bytes.
    pub large: Option<u64>,
    /// For PNR events: which kind of booking.
    pub product: Option<Product>,
    /// `booking = "b1"`: the booking this event is about. Every step naming the same
    /// booking tells one story (one PNR, trip, travelers, tickets and fare, `version`
    /// rising with `message_time`); see `docs/payloads.md`.
    pub booking: Option<String>,
    /// Envelope `timestamp` = now + this (e.g. `-60s` for an older message).
    pub message_time: Option<Offset>,
    /// Signature timestamp header = now + this (e.g. `-10m` for a stale one).
    pub timestamp: Option<Offset>,
    /// How the signature header is written.
    pub signature: SignatureSpec,
    /// What is changed after signing.
    pub tamper: Option<Tamper>,
    /// How the JSON body is written.
    pub body_style: Option<BodyStyle>,
    /// `audience.organizationId` (default: the run's `--org-id`).
    pub org_id: Option<Template>,
    /// Extra headers, in file order (never a reserved name; see [`RESERVED_HEADERS`]).
    pub headers: Vec<(String, Template)>,
    /// Headers spotcheck normally sends that this step leaves out (lowercase).
    pub omit_headers: Vec<String>,
    /// How many deliveries (each a new event with its own webhook id); at least 1.
    pub repeat: u32,
    /// How many of the `repeat` deliveries are in flight at once; at least 1.
    pub concurrency: u32,
    /// The `Authorization` header (legacy OAuth).
    pub authorization: Authorization,
}

/// Header names a step cannot set with `header`: the one list every custom header is
/// checked against (content and signature headers are spotcheck's job; use
/// `signature`, `timestamp` and `tamper` to alter signing).
pub use crate::wire::RESERVED_HEADERS;

/// How the signature header of a send is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureSpec {
    /// `valid` (the run's `--signature-format`), `bare` or `v1`: one correct token.
    Valid(Option<SignatureFormat>),
    /// `missing`: no signature header at all.
    Missing,
    /// `garbage`: one token that is not a signature.
    Garbage,
    /// `wrong-secret`: a well-formed signature made with another (random) secret.
    WrongSecret,
    /// A list: several space-separated tokens (key rotation), in this order.
    Tokens(Vec<SignatureToken>),
}

/// One token of a rotated signature header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureToken {
    /// `valid` (run's format), `valid-bare`/`bare`, `valid-v1`/`v1`: the correct signature.
    Valid(Option<SignatureFormat>),
    /// `stale-key`: a signature made with another random key (an old key), run's format.
    StaleKey,
    /// `garbage`: not a signature.
    Garbage,
}

/// What a send changes after signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Change one byte of the body.
    Body,
    /// Change the webhook id header.
    Id,
    /// Change the timestamp header (by one second).
    Timestamp,
}

pub use crate::event::body_style::BodyStyle;
pub use crate::event::fixtures::Product;

/// `observe = "GET URL"`: read the partner's observation endpoint (only on the
/// `--state-url` origin: see the `observe` module).
#[derive(Debug, Clone)]
pub struct Observe {
    /// The URL (after `GET `): a path under `--state-url` or `{{ state_url }}/…`.
    pub url: Template,
    /// How the URL is written, which says where it can point.
    pub target: ObserveTarget,
    /// Where the URL is in the file (for a refusal once `--state-url` is known).
    pub url_span: std::ops::Range<usize>,
}

/// How an `observe` URL is written, which says where it can point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObserveTarget {
    /// `{{ state_url }}/…`: under `--state-url` by construction.
    StateUrl,
    /// A path (`/pnrs/{{ pnr }}` or `pnrs/…`), appended to `--state-url`'s path (the
    /// recommended form: it cannot name a host).
    Path,
    /// An absolute URL written out; `origin` is its `scheme://host:port`, which must be
    /// `--state-url`'s.
    Absolute {
        /// The URL's origin, as `scheme://host[:port]`.
        origin: String,
    },
}

/// What must hold after a step.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The HTTP status. Sends and observes without `expect.status` get `Some(Code(200))`
    /// (a step with a `precondition`: its status); `None` only for sleeps.
    pub status: Option<StatusExpect>,
    /// Observe: JSON pointer → expected value (the observed JSON must hold each).
    pub json: Vec<(String, JsonTemplate)>,
    /// Send: each answer within this time (default: the run's `--timeout`).
    /// Observe: keep polling until everything matches, up to this long (default: one GET).
    pub within: Option<Duration>,
    /// Send with `repeat`: the 95th percentile of answer times must be under this.
    pub p95_within: Option<Duration>,
}
