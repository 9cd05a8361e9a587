//! Running steps: renders a step's templates, composes and sends its deliveries,
//! requests its tokens, polls its observation, runs its program, and hands the
//! answers to `judge.rs`. Judges nothing itself and words no verdict.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use super::compose::{self, ComposeContext, Composed, Content, SendPlan};
use super::context::RunContext;
use super::judge::{self, Judgement, ObserveProblem};
use crate::check::{ErrorCause, Finding};
use crate::delivery::exchange::Exchange;
use crate::delivery::request::Attempt;
use crate::event::random::{self, SeededRng};
use crate::event::{EventKind, Subscription};
use crate::scenario::model::{
    Authorization, Expect, Observe, Scenario, SendSource, SendStep, Step, TokenCredentials,
    TokenStep,
};
use crate::scenario::template::{RenderError, StepField, TemplateContext};
use crate::signing::unix_now;

/// How often an observation is polled while waiting for it to match.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// What a finished send step leaves for later steps.
#[derive(Debug, Clone)]
pub(super) struct StepRecord {
    /// The first delivery of the step (redeliver/replay/templating refer to it).
    pub(super) first: Option<Composed>,
    /// The status of the first answer.
    pub(super) status: Option<u16>,
}

/// What the templates of a step may refer to: the scenario's vars and the steps
/// before it.
pub(super) struct Scope<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) vars: &'a [(String, String)],
    pub(super) state_url: Option<&'a str>,
    pub(super) records: &'a [Option<StepRecord>],
    /// The subscription's organizations (empty: no filter).
    pub(super) organizations: &'a [String],
    /// How many `random.org_id` values the scenario drew so far.
    pub(super) orgs_drawn: &'a std::cell::Cell<usize>,
}

impl TemplateContext for Scope<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn state_url(&self) -> Option<String> {
        self.state_url.map(|s| s.trim_end_matches('/').to_owned())
    }

    fn step_value(&self, step: &str, field: StepField) -> Option<String> {
        let index = self.scenario.step_index(step)?;
        let record = self.records.get(index)?.as_ref()?;
        match field {
            StepField::WebhookId => record.first.as_ref().map(|c| c.webhook_id.clone()),
            StepField::PnrId => record.first.as_ref().and_then(|c| c.pnr_id.clone()),
            StepField::Status => record.status.map(|s| s.to_string()),
        }
    }

    /// The subscription's organizations in turn, starting after the run's own (the
    /// first), so a scenario asking for several organizations gets several when the
    /// subscription has them, and never one outside it.
    fn subscribed_organization(&self) -> Option<String> {
        if self.organizations.is_empty() {
            return None;
        }
        let drawn = self.orgs_drawn.get() + 1;
        self.orgs_drawn.set(drawn);
        Some(self.organizations[drawn % self.organizations.len()].clone())
    }
}

/// How a step's program judged its exchange.
pub(super) enum ExecResult {
    /// Exit 0, with the note to show (the first line of stdout), if any.
    Passed(Option<String>),
    /// The check fails: what the program said.
    Failed(String),
    /// An argument could not be rendered.
    ScenarioError(StepError),
}

/// Runs a step's `exec` program on `exchange` (see [`super::exec_step`]).
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_exec(
    exec: &crate::scenario::ExecStep,
    step: &Step,
    index: usize,
    scenario: &Scenario,
    scope: &Scope<'_>,
    ctx: &RunContext,
    exchange: Option<&Exchange>,
    rng: &mut SeededRng,
) -> ExecResult {
    use super::exec_step::{self as exec, Outcome};
    let mut args = Vec::with_capacity(exec.args.len());
    for arg in &exec.args {
        match arg.render(scope, rng) {
            Ok(text) => args.push(text),
            Err(err) => return ExecResult::ScenarioError(err.into()),
        }
    }
    let input = exec::InputContext {
        check_id: &scenario.info.id,
        step_name: step.name.as_deref(),
        step_number: index + 1,
        seed: ctx.seed,
        endpoint: &ctx.endpoint,
        state_url: ctx.state_url.as_deref(),
    };
    let document = exec::input_document(&input, exchange);
    let mut stdin = serde_json::to_vec(&document).unwrap_or_default();
    stdin.push(b'\n');
    let outcome = exec::run(exec::Invocation {
        program: exec.program.clone(),
        args,
        stdin,
        env: exec::environment(&input, exchange),
        hide_env: exec::hidden_variables(&ctx.exec_hide_env),
        timeout: exec.timeout,
    })
    .await;
    let name = exec
        .program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| exec.program.display().to_string());
    match outcome {
        Outcome::Passed { .. } => {
            ExecResult::Passed(outcome.note().map(|n| format!("{name}: {n}")))
        }
        Outcome::Failed {
            status,
            stdout,
            stderr_tail,
        } => {
            let stdout = stdout.trim();
            let stderr = stderr_tail.trim();
            ExecResult::Failed(match (stdout.is_empty(), stderr.is_empty()) {
                (false, _) => format!("{status}: {stdout}"),
                (true, false) => format!("{status} (no output); stderr: {stderr}"),
                (true, true) => format!("{status} (no output)"),
            })
        }
        Outcome::TimedOut => ExecResult::Failed(format!(
            "exec timed out after {}",
            humantime::format_duration(exec.timeout)
        )),
        Outcome::NotStarted(why) => ExecResult::Failed(format!("cannot run the program: {why}")),
    }
}

/// Why a send step stopped before sending.
#[derive(Debug, thiserror::Error)]
pub enum SendStop {
    /// The step could not run (a template that cannot be rendered …).
    #[error(transparent)]
    Error(#[from] StepError),
    /// Its organization is outside the subscription.
    #[error("organization {0} is outside the subscription")]
    Unsubscribed(String),
}

impl From<RenderError> for SendStop {
    fn from(err: RenderError) -> Self {
        SendStop::Error(StepError::Render(err))
    }
}

/// Why a step could not run: a mistake in the scenario, not a finding.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StepError {
    /// A template that cannot be rendered in this run.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A redelivery or replay of a step that sent nothing.
    #[error("step \"{0}\" sent nothing to refer to")]
    NothingToReferTo(String),
}

/// Composes a step's deliveries (without sending them): what `run_send` sends.
pub(super) fn compose_send(
    send: &SendStep,
    (bookings, index): (&mut super::bookings::Bookings, usize),
    scope: &Scope<'_>,
    base: &ComposeContext<'_>,
    subscription: &Subscription,
    rng: &mut SeededRng,
) -> Result<Vec<Composed>, SendStop> {
    let org = match &send.org_id {
        Some(template) => Some(template.render(scope, rng)?),
        None => None,
    };
    if let Some(org) = org.as_ref()
        && !subscription.covers_organization(org)
    {
        return Err(SendStop::Unsubscribed(org.clone()));
    }
    // The booking's story, told at the first step that names it.
    let booked = send.booking.as_deref().and_then(|name| {
        let now = time::OffsetDateTime::from_unix_timestamp(unix_now())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let organization = org.as_deref().unwrap_or(base.organization_id);
        bookings.story(name, index, organization, now, rng)
    });
    let headers = send
        .headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), value.render(scope, rng)?)))
        .collect::<Result<Vec<_>, RenderError>>()?;
    let payload_patch = render_patch(send, scope, rng)?;
    let envelope_patch = match &send.envelope {
        Some(t) => Some(t.render(scope, rng)?),
        None => None,
    };
    let raw_body = match &send.body {
        Some(t) => Some(bytes::Bytes::from(t.render(scope, rng)?)),
        None => None,
    };
    let plan_for = |content: Content| SendPlan {
        content,
        payload_patch: payload_patch.clone(),
        envelope_patch: envelope_patch.clone(),
        large: send.large.map(|l| l as usize),
        product: send.product,
        message_offset_ms: send.message_time.map_or(0, |o| o.millis),
        timestamp_offset_s: send.timestamp.map_or(0, |o| o.whole_seconds()),
        signature: send.signature.clone(),
        tamper: send.tamper,
        body_style: send.body_style.unwrap_or_default(),
        org_id: org.clone(),
        pnr_id: None,
        headers: headers.clone(),
        omit_headers: send.omit_headers.clone(),
        story: None,
    };
    let compose_ctx = |now_unix| ComposeContext {
        now_unix,
        ..base.clone()
    };
    let mut composed: Vec<Composed> = Vec::new();
    match &send.source {
        SendSource::Event(_) | SendSource::EachSubscribed => {
            let kinds: Vec<EventKind> = match &send.source {
                SendSource::Event(kind) => vec![*kind],
                _ => subscription.kinds(),
            };
            for repeat in 0..send.repeat.max(1) as usize {
                for kind in &kinds {
                    let content = match &raw_body {
                        Some(bytes) => Content::Raw(bytes.clone()),
                        None => Content::Generated(*kind),
                    };
                    let mut plan = plan_for(content);
                    plan.story = booked
                        .as_ref()
                        .map(|(story, first)| (Arc::clone(story), first + repeat));
                    composed.push(compose::compose(
                        &plan,
                        &compose_ctx(unix_now()),
                        None,
                        None,
                        rng,
                    ));
                }
            }
        }
        SendSource::Redeliver(reference) => {
            let earlier = earlier_send(scope, reference.index, &reference.name)?;
            let plan = plan_for(Content::Raw(earlier.body.clone()));
            for _ in 0..send.repeat.max(1) {
                composed.push(compose::redeliver(
                    &earlier,
                    &plan,
                    &compose_ctx(unix_now()),
                    rng,
                ));
            }
        }
        SendSource::Replay(reference) => {
            let earlier = earlier_send(scope, reference.index, &reference.name)?;
            for _ in 0..send.repeat.max(1) {
                let mut replayed = earlier.clone();
                if let Some(tamper) = send.tamper {
                    compose::apply_tamper(&mut replayed.attempt, tamper, rng);
                }
                composed.push(replayed);
            }
        }
    }
    Ok(composed)
}

/// Composes and sends a step's deliveries. Returns the first composed delivery (for
/// later references) and every exchange, in order.
pub(super) async fn run_send(
    send: &SendStep,
    booked: (&mut super::bookings::Bookings, usize),
    scope: &Scope<'_>,
    ctx: &RunContext,
    rng: &mut SeededRng,
) -> Result<(Option<Composed>, Vec<Exchange>), SendStop> {
    let base = ComposeContext::of(ctx, unix_now());
    let composed = compose_send(send, booked, scope, &base, &ctx.subscription, rng)?;
    let mut attempts: Vec<Attempt> = composed.iter().map(|c| c.attempt.clone()).collect();
    if !ctx.hmac {
        strip_hmac(&mut attempts);
    }
    let oauth = match send.authorization {
        Authorization::Default | Authorization::Issued => ctx.oauth.as_ref(),
        Authorization::None => None,
        Authorization::Forged => {
            for attempt in &mut attempts {
                let forged = random::hex(rng, 40);
                *attempt = crate::delivery::oauth::with_bearer(attempt, &forged);
            }
            None
        }
    };
    let exchanges = send_all(ctx, oauth, attempts, send.concurrency.max(1) as usize).await;
    Ok((composed.into_iter().next(), exchanges))
}

fn earlier_send(scope: &Scope<'_>, index: usize, name: &str) -> Result<Composed, StepError> {
    scope
        .records
        .get(index)
        .and_then(|r| r.as_ref())
        .and_then(|r| r.first.clone())
        .ok_or_else(|| StepError::NothingToReferTo(name.to_owned()))
}

fn render_patch(
    send: &SendStep,
    scope: &Scope<'_>,
    rng: &mut SeededRng,
) -> Result<Option<Value>, RenderError> {
    let mut patch: Option<Value> = send.payload_file.clone();
    if let Some(template) = &send.payload {
        let rendered = template.render(scope, rng)?;
        match &mut patch {
            Some(base) => crate::event::merge_patch::merge(base, &rendered),
            None => patch = Some(rendered),
        }
    }
    Ok(patch)
}

/// Takes the signature headers off (`--no-hmac`: legacy OAuth-only partners).
pub(super) fn strip_hmac(attempts: &mut [Attempt]) {
    for attempt in attempts {
        attempt.headers.retain(|(name, _)| {
            !name.eq_ignore_ascii_case(crate::signing::HEADER_SIGNATURE)
                && !name.eq_ignore_ascii_case(crate::signing::HEADER_TIMESTAMP)
        });
    }
}

/// Sends attempts with at most `concurrency` in flight; results in input order.
/// With `oauth`, each carries the run's bearer token (refetched once on a 401).
/// Every delivery goes through the run's reachability gate ([`super::reach`]).
pub(super) async fn send_all(
    ctx: &RunContext,
    oauth: Option<&crate::delivery::oauth::OAuthClient>,
    attempts: Vec<Attempt>,
    concurrency: usize,
) -> Vec<Exchange> {
    futures::stream::iter(attempts)
        .map(|attempt| {
            let client = ctx.client.clone();
            let gate = ctx.reach.clone();
            let oauth = oauth.cloned();
            async move {
                gate.deliver(&client, &attempt, || async {
                    match &oauth {
                        Some(oauth) => oauth.send(&attempt).await,
                        None => client.send(&attempt).await,
                    }
                })
                .await
            }
        })
        .buffered(concurrency)
        .collect()
        .await
}

/// Sends a token step's requests (at most `concurrency` at once) and judges every
/// answer. Returns the secret-free exchanges, in order, and the finding.
pub(super) async fn run_token(
    token: &TokenStep,
    step: &Step,
    scope: &Scope<'_>,
    ctx: &RunContext,
    rng: &mut SeededRng,
) -> (Vec<Exchange>, Judgement) {
    let expect = &step.expect;
    let Some(oauth) = ctx.oauth.as_ref() else {
        return (Vec::new(), Judgement::Error(ErrorCause::TokenNeedsOauth));
    };
    let expected: Vec<(String, Value)> = match expect
        .json
        .iter()
        .map(|(pointer, value)| Ok((pointer.clone(), value.render(scope, rng)?)))
        .collect::<Result<_, crate::scenario::template::RenderError>>()
    {
        Ok(expected) => expected,
        Err(err) => {
            return (
                Vec::new(),
                Judgement::Error(ErrorCause::Other {
                    text: format!("cannot build the expected values: {err}"),
                }),
            );
        }
    };
    let secrets: Vec<Option<String>> = (0..token.repeat.max(1))
        .map(|_| match token.credentials {
            TokenCredentials::Configured => None,
            TokenCredentials::WrongSecret => Some(format!("wrong-{}", random::hex(rng, 32))),
        })
        .collect();
    let answers: Vec<(
        Exchange,
        Result<crate::delivery::oauth::IssuedToken, crate::delivery::oauth::TokenRefusal>,
    )> = futures::stream::iter(secrets)
        .map(|secret| {
            let oauth = oauth.clone();
            async move { oauth.request_token(secret.as_deref()).await }
        })
        .buffered(token.concurrency.max(1) as usize)
        .collect()
        .await;
    let within = expect.within.unwrap_or(ctx.timeout);
    let judgement = judge::judge_tokens(&answers, token, step, &expected, within);
    (answers.into_iter().map(|(e, _)| e).collect(), judgement)
}

/// An observation that ended the check: how it was judged, and its last answer.
pub(super) struct Failure {
    pub(super) judgement: Judgement,
    pub(super) exchange: Option<Exchange>,
}

/// GETs the observation URL until the expectations hold or `within` runs out.
pub(super) async fn run_observe(
    observe: &Observe,
    expect: &Expect,
    scope: &Scope<'_>,
    ctx: &RunContext,
    rng: &mut SeededRng,
) -> Result<(Exchange, u16), Failure> {
    let rendered = observe.url.render(scope, rng).map_err(|e| Failure {
        judgement: Judgement::Error(ErrorCause::Other {
            text: format!("cannot build the observation URL: {e}"),
        }),
        exchange: None,
    })?;
    // Only the state URL's origin is read, whatever the file or a template value says.
    let state_url = ctx.state_url.as_deref().ok_or_else(|| Failure {
        judgement: Judgement::Error(ErrorCause::ObserveNeedsStateUrl),
        exchange: None,
    })?;
    let url =
        crate::scenario::observe::resolve(&observe.target, &rendered, state_url).map_err(|e| {
            Failure {
                judgement: Judgement::Error(ErrorCause::Other {
                    text: format!("the observation URL is refused: {e}"),
                }),
                exchange: None,
            }
        })?;
    let expected: Vec<(String, Value)> = expect
        .json
        .iter()
        .map(|(pointer, value)| Ok((pointer.clone(), value.render(scope, rng)?)))
        .collect::<Result<_, crate::scenario::template::RenderError>>()
        .map_err(|e| Failure {
            judgement: Judgement::Error(ErrorCause::Other {
                text: format!("cannot build the expected values: {e}"),
            }),
            exchange: None,
        })?;
    let deadline = Instant::now() + expect.within.unwrap_or(Duration::ZERO);
    loop {
        // The read-back endpoint's own credentials (`--state-header`), never the
        // endpoint's (`--header`): each goes only where the user pointed it.
        let attempt = Attempt {
            method: reqwest::Method::GET,
            url: url.clone(),
            headers: ctx.state_headers.clone(),
            body: bytes::Bytes::new(),
        };
        let mut exchange = ctx.client.send(&attempt).await;
        redact_state_headers(&mut exchange, &ctx.state_headers);
        let problem = judge::observe_problem(&exchange, expect, &expected);
        match problem {
            None => {
                let status = exchange.status().unwrap_or_default();
                return Ok((exchange, status));
            }
            Some(problem) if Instant::now() >= deadline => {
                let waited = expect
                    .within
                    .map(|w| format!(" (waited {} ms)", w.as_millis()))
                    .unwrap_or_default();
                let judgement = match problem {
                    ObserveProblem::Unreadable(message) => Judgement::Error(ErrorCause::Other {
                        text: format!(
                            "the observation cannot be read: GET {url}: {message}{waited}"
                        ),
                    }),
                    ObserveProblem::Mismatch(message) => {
                        Judgement::Failed(Finding::from(format!("GET {url}: {message}{waited}")))
                    }
                };
                return Err(Failure {
                    judgement,
                    exchange: Some(exchange),
                });
            }
            Some(_) => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

/// Every `--state-header` value is a credential: the recorded request shows
/// [`crate::delivery::park::REDACTED`] in its place, whatever the header's name.
fn redact_state_headers(exchange: &mut Exchange, state_headers: &[(String, String)]) {
    for (name, value) in &mut exchange.request.headers {
        if state_headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            *value = crate::delivery::park::REDACTED.to_owned();
        }
    }
}
