//! Executes scenarios: renders templates, composes and sends each step's deliveries,
//! judges the answers against the step's expectations, and turns the first unmet
//! expectation into the check's finding.

use super::catalogue::skip::{self as catalogue, Unmet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use super::compose::{self, ComposeContext, Composed, Content, SendPlan};
use super::context::RunContext;
use crate::check::{CheckResult, Verdict};
use crate::delivery::exchange::Exchange;
use crate::delivery::request::Attempt;
use crate::event::random::{self, SeededRng};
use crate::event::subscription::SubscribedType;
use crate::event::{EventKind, Subscription};
use crate::outcome::Latency;
use crate::scenario::model::{
    Action, Authorization, Expect, Observe, Precondition, Scenario, SendSource, SendStep, Step,
    TokenCredentials, TokenStep,
};
use crate::scenario::template::{StepField, TemplateContext};
use crate::signing::unix_now;

/// How often an observation is polled while waiting for it to match.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// What executing scenarios reports to the engine, by scenario index (input order).
#[derive(Debug)]
pub enum ScenarioProgress {
    /// The scenario at this index started.
    Started(usize),
    /// The scenario at this index finished with this result.
    Finished(usize, Box<CheckResult>),
}

/// Runs the scenarios `jobs` at a time, sending each start and result to `progress`
/// as soon as it is known, so an interrupted run keeps what it found. Once `stop` is
/// set (Ctrl-C), no further scenario starts.
///
/// A scenario that measures time ([`crate::check::Needs::measures_time`]) runs alone:
/// it starts when every scenario started before it has finished, and nothing starts
/// until it has finished. Otherwise its answer times would include the queue that
/// spotcheck's own other deliveries (a burst of 32) make on an endpoint with a few
/// workers: a verdict about spotcheck's scheduling, not about the endpoint. The lane
/// is a fair read-write lock: the others share it, a timing check takes it alone, and
/// the scenarios still start in input order.
pub async fn run_scenarios(
    scenarios: &[Scenario],
    ctx: &Arc<RunContext>,
    jobs: usize,
    progress: tokio::sync::mpsc::UnboundedSender<ScenarioProgress>,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) {
    let lane = Arc::new(tokio::sync::RwLock::new(()));
    let stopped = |ctx: &RunContext, stop: &std::sync::atomic::AtomicBool| {
        // Stopped (Ctrl-C), or the endpoint could not be reached at all.
        stop.load(std::sync::atomic::Ordering::SeqCst) || ctx.reach.unreachable().is_some()
    };
    futures::stream::iter(scenarios.iter().enumerate())
        .for_each_concurrent(jobs.max(1), |(index, scenario)| {
            let ctx = Arc::clone(ctx);
            let progress = progress.clone();
            let stop = Arc::clone(stop);
            let lane = Arc::clone(&lane);
            async move {
                if stopped(&ctx, &stop) {
                    return;
                }
                // Held until the result is sent, so the order of the events shows it.
                let (_alone, _shared);
                if scenario.info.needs.measures_time {
                    _alone = lane.write().await;
                } else {
                    _shared = lane.read().await;
                }
                if stopped(&ctx, &stop) {
                    return;
                }
                // The engine may have stopped listening (an interrupted run); nothing to do then.
                let _ = progress.send(ScenarioProgress::Started(index));
                let result = run_scenario(scenario, &ctx).await;
                let _ = progress.send(ScenarioProgress::Finished(index, Box::new(result)));
            }
        })
        .await;
}

/// What a finished send step leaves for later steps.
#[derive(Debug, Clone)]
struct StepRecord {
    /// The first delivery of the step (redeliver/replay/templating refer to it).
    first: Option<Composed>,
    /// The status of the first answer.
    status: Option<u16>,
}

struct Scope<'a> {
    scenario: &'a Scenario,
    vars: &'a [(String, String)],
    state_url: Option<&'a str>,
    records: &'a [Option<StepRecord>],
    /// The subscription's organizations (empty: no filter).
    organizations: &'a [String],
    /// How many `random.org_id` values the scenario drew so far.
    orgs_drawn: &'a std::cell::Cell<usize>,
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

/// Runs one scenario to its verdict.
pub async fn run_scenario(scenario: &Scenario, ctx: &RunContext) -> CheckResult {
    let started = Instant::now();
    let mut exchanges = Vec::new();
    // The skip rules are the catalogue's (one place); only their words are here.
    let verdict = if let Some(unmet) = catalogue::unmet(scenario, catalogue::Offered::of(ctx)) {
        Verdict::Skipped(match unmet {
            Unmet::Exec { command } => format!(
                "runs a program (`{}`); pass --allow-exec to allow it",
                short_command(&command)
            ),
            Unmet::StateUrl => "needs an observation endpoint: pass --state-url (your read-back URL of what was processed)"
                .to_owned(),
            Unmet::Hmac => "--no-hmac: deliveries carry no signature to check".to_owned(),
        })
    } else {
        match within_subscription(scenario, &ctx.subscription) {
            Err(reason) => Verdict::Skipped(reason),
            Ok(None) => execute(scenario, ctx, &mut exchanges).await,
            Ok(Some((adapted, stand_ins))) => {
                with_note(execute(&adapted, ctx, &mut exchanges).await, &stand_ins)
            }
        }
    };
    CheckResult::new(scenario.info.clone(), verdict, started.elapsed(), exchanges)
}

/// The scenario as it runs within the subscription: unchanged (`Ok(None)`), with
/// stand-ins (`Ok(Some)`: the scenario with each unsubscribed `EVENT/OPERATION`
/// replaced, and a note naming each replacement), or the reason it cannot run (`Err`).
///
/// A step that sends an event kind the endpoint did not subscribe to sends a kind
/// Spotnana would send it instead: the first subscribed operation of the same type, or,
/// when the step writes nothing specific to its type (no `payload`, `payload_file`,
/// `large` or `product`), the first subscribed kind of any type. A check that judges
/// what the endpoint processed (an `observe` or `exec` step) may depend on the kind, so
/// it is never changed: it is skipped, saying why. So is a step for an organization
/// outside the subscription. (An envelope override such as an unknown `operation` is
/// the check's own test, not a kind it sends: only the step's `EVENT/OPERATION` counts.)
fn within_subscription(
    scenario: &Scenario,
    subscription: &Subscription,
) -> Result<Option<(Scenario, Vec<String>)>, String> {
    let judges_processing = scenario
        .steps
        .iter()
        .any(|step| step.exec.is_some() || matches!(step.action, Action::Observe(_)));
    let mut adapted: Option<Scenario> = None;
    let mut notes: Vec<String> = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let Action::Send(send) = &step.action else {
            continue;
        };
        if let Some(org) = send.org_id.as_ref().filter(|org| org.is_literal())
            && !subscription.covers_organization(org.source())
        {
            return Err(unsubscribed_organization(
                &step.label(index),
                org.source(),
                subscription,
            ));
        }
        let SendSource::Event(kind) = send.source else {
            continue;
        };
        if subscription.covers(kind) {
            continue;
        }
        let outside = format!(
            "{} sends {kind}, outside the subscription ({})",
            step.label(index),
            subscription.events_arg()
        );
        if judges_processing {
            return Err(format!(
                "{outside}, and the check judges what the endpoint processed, which may depend \
                 on the event: Spotnana would not deliver it to this endpoint; subscribe to it \
                 (--events) to have this check judged"
            ));
        }
        let type_specific = send.payload.is_some()
            || send.payload_file.is_some()
            || send.large.is_some()
            || send.product.is_some();
        let kinds = subscription.kinds();
        let stand_in = kinds
            .iter()
            .find(|k| k.event_type == kind.event_type)
            .or_else(|| kinds.first().filter(|_| !type_specific));
        let Some(stand_in) = stand_in else {
            return Err(format!(
                "{outside}, with a payload written for {}: Spotnana would not deliver it to this \
                 endpoint; subscribe to {} (--events) to have this check judged",
                kind.event_type, kind.event_type
            ));
        };
        let note = format!("{stand_in} sent for {kind}");
        if !notes.contains(&note) {
            notes.push(note);
        }
        let changed = adapted.get_or_insert_with(|| scenario.clone());
        if let Action::Send(send) = &mut changed.steps[index].action {
            send.source = SendSource::Event(*stand_in);
        }
    }
    Ok(adapted.map(|scenario| (scenario, notes)))
}

/// The verdict with the stand-ins named, so the report says what was actually sent.
fn with_note(verdict: Verdict, stand_ins: &[String]) -> Verdict {
    let note = format!(" (within the subscription: {})", stand_ins.join(", "));
    match verdict {
        Verdict::Passed(message) => Verdict::Passed(message + &note),
        Verdict::Failed(message) => Verdict::Failed(message + &note),
        Verdict::Skipped(message) => Verdict::Skipped(message + &note),
        Verdict::Error(message) => Verdict::Error(message + &note),
    }
}

/// The skip reason of a step whose organization is outside the subscription.
fn unsubscribed_organization(label: &str, org: &str, subscription: &Subscription) -> String {
    format!(
        "{label} sends for organization {org}, outside the subscription's organizations ({}): \
         Spotnana would not deliver it to this endpoint; add it with --org-id to have this check judged",
        subscription.organizations().join(", ")
    )
}

async fn execute(scenario: &Scenario, ctx: &RunContext, exchanges: &mut Vec<Exchange>) -> Verdict {
    let mut rng = random::rng_for(ctx.seed, &scenario.info.id);
    let orgs_drawn = std::cell::Cell::new(0);
    let base = Scope {
        scenario,
        vars: &[],
        state_url: ctx.state_url.as_deref(),
        records: &[],
        organizations: ctx.subscription.organizations(),
        orgs_drawn: &orgs_drawn,
    };
    let vars = match scenario.resolve_vars(&base, &mut rng) {
        Ok(vars) => vars,
        Err(err) => return Verdict::Error(format!("scenario error in [vars]: {err}")),
    };
    let mut records: Vec<Option<StepRecord>> = vec![None; scenario.steps.len()];
    let mut bookings = super::bookings::Bookings::of(scenario);
    let mut answered = 0usize;
    let mut notes: Vec<String> = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let label = step.label(index);
        // What templates of this step may refer to: vars and the steps before it.
        let scope = Scope {
            scenario,
            vars: &vars,
            state_url: ctx.state_url.as_deref(),
            records: &records,
            organizations: ctx.subscription.organizations(),
            orgs_drawn: &orgs_drawn,
        };
        // The exchange an `exec` on this step judges: the step's first delivery, or
        // for an `exec` alone the scenario's most recent exchange.
        let mut exec_exchange: Option<usize> = exchanges.len().checked_sub(1);
        match &step.action {
            Action::Exec => {}
            Action::Sleep(duration) => tokio::time::sleep(*duration).await,
            Action::Token(token) => {
                let (sent, judged) = run_token(token, step, &scope, ctx, &mut rng).await;
                answered += sent.iter().filter(|e| e.response.is_some()).count();
                let first_status = sent.first().and_then(Exchange::status);
                exchanges.extend(sent);
                if let Some(verdict) = judged.verdict(&label, &describe_token(token), step) {
                    return verdict;
                }
                records[index] = Some(StepRecord {
                    first: None,
                    status: first_status,
                });
            }
            Action::Observe(observe) => {
                match run_observe(observe, &step.expect, &scope, ctx, &mut rng).await {
                    Ok((exchange, status)) => {
                        exchanges.push(exchange);
                        records[index] = Some(StepRecord {
                            first: None,
                            status: Some(status),
                        });
                    }
                    Err(Failure {
                        judgement,
                        exchange,
                    }) => {
                        exchanges.extend(exchange);
                        if let Some(verdict) = judgement.verdict(&label, "", step) {
                            return verdict;
                        }
                    }
                }
            }
            Action::Send(send) => {
                let booked = (&mut bookings, index);
                let outcome = run_send(send, booked, &scope, ctx, &mut rng).await;
                let (composed, sent) = match outcome {
                    Ok(pair) => pair,
                    Err(SendStop::Error(message)) => {
                        return Verdict::Error(format!("scenario error in {label}: {message}"));
                    }
                    Err(SendStop::Unsubscribed(org)) => {
                        return Verdict::Skipped(unsubscribed_organization(
                            &label,
                            &org,
                            &ctx.subscription,
                        ));
                    }
                };
                let first_status = sent.first().and_then(Exchange::status);
                let judged = match step
                    .precondition
                    .as_ref()
                    .and_then(|pre| unmet_precondition(&sent, pre))
                {
                    // A delivery that never went out is not the endpoint's answer: no
                    // status, no latency to judge.
                    _ if let Some(unsent) = not_sent(&sent) => Judgement::NotSent(unsent),
                    Some(unmet) => Judgement::NotJudged(unmet),
                    None => judge_sends(&sent, &step.expect, ctx.timeout)
                        .map_or_else(Judgement::Failed, |()| Judgement::Met),
                };
                answered += sent.iter().filter(|e| e.response.is_some()).count();
                exec_exchange = (!sent.is_empty()).then_some(exchanges.len());
                exchanges.extend(sent);
                if let Some(verdict) = judged.verdict(&label, &describe_send(send), step) {
                    return verdict;
                }
                records[index] = Some(StepRecord {
                    first: composed,
                    status: first_status,
                });
            }
        }
        if let Some(exec) = &step.exec {
            let scope = Scope {
                scenario,
                vars: &vars,
                state_url: ctx.state_url.as_deref(),
                records: &records,
                organizations: ctx.subscription.organizations(),
                orgs_drawn: &orgs_drawn,
            };
            let exchange = exec_exchange.and_then(|i| exchanges.get(i));
            match run_exec(exec, step, index, scenario, &scope, ctx, exchange, &mut rng).await {
                ExecResult::Passed(note) => notes.extend(note),
                ExecResult::Failed(message) => {
                    return Verdict::Failed(format!(
                        "{label} (`{}`): {message}",
                        short_command(&exec.display)
                    ));
                }
                ExecResult::ScenarioError(message) => {
                    return Verdict::Error(format!("scenario error in {label}: {message}"));
                }
            }
        }
    }
    let summary = summarize(exchanges, answered);
    if notes.is_empty() {
        Verdict::Passed(summary)
    } else {
        Verdict::Passed(format!("{summary}; {}", notes.join("; ")))
    }
}

/// How a step's answers measured up, before it becomes the check's verdict.
enum Judgement {
    /// Every expectation holds.
    Met,
    /// The check's own finding: what was seen instead.
    Failed(String),
    /// An answer did not meet the step's precondition: the check could not judge.
    NotJudged(String),
    /// A delivery of the step was never sent (no OAuth token to send it with, an
    /// unreachable endpoint): the check could not judge, and the cause is not a
    /// precondition of this step.
    NotSent(String),
    /// The step could not run: a template that cannot be rendered, an observation
    /// whose answer cannot be read. A mistake in the scenario, not a finding.
    Error(String),
}

impl Judgement {
    /// The check's verdict when this ends it (`None`: go on with the next step).
    /// `what` describes the step's requests (empty when its label says enough).
    fn verdict(self, label: &str, what: &str, step: &Step) -> Option<Verdict> {
        let step_text = if what.is_empty() {
            label.to_owned()
        } else {
            format!("{label} ({what})")
        };
        match self {
            Judgement::Met => None,
            Judgement::Failed(message) => Some(Verdict::Failed(format!("{step_text}: {message}"))),
            Judgement::NotJudged(message) => {
                let see = step
                    .precondition
                    .as_ref()
                    .and_then(|p| p.see.as_deref())
                    .map(|id| format!(" (see {id})"))
                    .unwrap_or_default();
                Some(Verdict::Skipped(format!(
                    "could not judge: {step_text} {message}{see}"
                )))
            }
            Judgement::NotSent(message) => Some(Verdict::Skipped(format!(
                "could not judge: {step_text} {message}"
            ))),
            Judgement::Error(message) => Some(Verdict::Error(format!(
                "scenario error in {label}: {message}"
            ))),
        }
    }
}

/// What the first answer that does not meet `pre` got, when every delivery of the
/// step was answered: a delivery without an answer is a failure of the check it
/// belongs to (the step's own expectations say so), never a reason to skip it.
fn unmet_precondition(sent: &[Exchange], pre: &Precondition) -> Option<String> {
    if sent.iter().any(|e| e.response.is_none()) {
        return None;
    }
    sent.iter().enumerate().find_map(|(i, exchange)| {
        let status = exchange.status()?;
        (!pre.status.matches(status)).then(|| {
            format!(
                "{}got {}, where {} is needed",
                which("delivery", i, sent.len()),
                exchange.outcome_text(),
                pre.status
            )
        })
    })
}

/// What the first delivery of a step that never went out says, e.g. `was not sent:
/// no OAuth token from …`.
fn not_sent(sent: &[Exchange]) -> Option<String> {
    sent.iter().enumerate().find_map(|(i, exchange)| {
        exchange.not_sent.then(|| {
            let why = exchange
                .error
                .as_ref()
                .map_or("no reason recorded", |e| e.message.as_str());
            format!("{}was not sent: {why}", which("delivery", i, sent.len()))
        })
    })
}

/// `delivery 2 of 5: ` for the `i`th of several requests of a step; empty for one.
fn which(noun: &str, i: usize, total: usize) -> String {
    if total > 1 {
        format!("{noun} {} of {total}: ", i + 1)
    } else {
        String::new()
    }
}

/// A command as written, cut to a readable length for one-line messages.
fn short_command(display: &str) -> String {
    const MAX: usize = 60;
    if display.chars().count() <= MAX {
        display.to_owned()
    } else {
        let cut: String = display.chars().take(MAX).collect();
        format!("{cut} …")
    }
}

/// How a step's program judged its exchange.
enum ExecResult {
    /// Exit 0, with the note to show (the first line of stdout), if any.
    Passed(Option<String>),
    /// The check fails with this message.
    Failed(String),
    /// An argument could not be rendered.
    ScenarioError(String),
}

/// Runs a step's `exec` program on `exchange` (see [`super::exec_step`]).
#[allow(clippy::too_many_arguments)]
async fn run_exec(
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
            Err(err) => return ExecResult::ScenarioError(err.to_string()),
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

fn summarize(exchanges: &[Exchange], answered: usize) -> String {
    let mut counts: Vec<(u16, usize)> = Vec::new();
    for status in exchanges
        .iter()
        .filter(|e| e.request.method == "POST")
        .filter_map(Exchange::status)
    {
        match counts.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((status, 1)),
        }
    }
    counts.sort();
    let statuses = counts
        .iter()
        .map(|(s, n)| {
            if *n == 1 {
                s.to_string()
            } else {
                format!("{s} ×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let slowest = exchanges
        .iter()
        .filter(|e| e.response.is_some())
        .map(|e| e.duration)
        .max()
        .unwrap_or_default();
    if answered == 0 {
        "as expected".to_owned()
    } else {
        format!(
            "{answered} {} as expected ({statuses}; slowest {} ms)",
            if answered == 1 { "answer" } else { "answers" },
            slowest.as_millis()
        )
    }
}

/// A one-line description of what a send step alters, for messages.
fn describe_send(send: &SendStep) -> String {
    use crate::scenario::model::{SignatureSpec, Tamper};
    let mut parts = vec![match &send.source {
        SendSource::Event(kind) => kind.to_string(),
        SendSource::EachSubscribed => "each subscribed event".to_owned(),
        SendSource::Redeliver(r) => format!("redelivery of \"{}\"", r.name),
        SendSource::Replay(r) => format!("replay of \"{}\"", r.name),
    }];
    match &send.signature {
        SignatureSpec::Valid(None) => {}
        SignatureSpec::Valid(Some(format)) => {
            parts.push(format!("signature as {}", format.as_str()))
        }
        SignatureSpec::Missing => parts.push("no signature header".into()),
        SignatureSpec::Garbage => parts.push("garbage signature".into()),
        SignatureSpec::WrongSecret => parts.push("signed with another secret".into()),
        SignatureSpec::Tokens(tokens) => parts.push(format!("{} signature tokens", tokens.len())),
    }
    if let Some(offset) = send.timestamp {
        parts.push(format!("timestamp {offset}"));
    }
    if let Some(tamper) = send.tamper {
        parts.push(
            match tamper {
                Tamper::Body => "body changed after signing",
                Tamper::Id => "webhook id changed after signing",
                Tamper::Timestamp => "timestamp changed after signing",
            }
            .into(),
        );
    }
    if let Some(style) = send.body_style {
        parts.push(format!("body written {style:?}").to_lowercase());
    }
    if send.repeat > 1 {
        parts.push(format!(
            "×{} at concurrency {}",
            send.repeat, send.concurrency
        ));
    }
    parts.join(", ")
}

/// For a 3xx answer: says that redirects are not followed (as Spotnana does not
/// follow them) and where it pointed, so a redirect loop or an http→https redirect is
/// recognisable in the report. Empty for other answers.
fn redirect_note(exchange: &Exchange) -> String {
    let Some(response) = exchange
        .response
        .as_ref()
        .filter(|r| (300..400).contains(&r.status))
    else {
        return String::new();
    };
    let location = crate::wire::header(&response.headers, "location")
        .map(|value| format!(" to {value}"))
        .unwrap_or_default();
    format!(" (a redirect{location}: redirects are not followed)")
}

/// Checks every answer of a send step against its expectations.
fn judge_sends(sent: &[Exchange], expect: &Expect, timeout: Duration) -> Result<(), String> {
    let within = expect.within.unwrap_or(timeout);
    for (i, exchange) in sent.iter().enumerate() {
        let which = which("delivery", i, sent.len());
        let Some(status) = exchange.status() else {
            let error = exchange
                .error
                .as_ref()
                .map(|e| format!("{} ({})", e.message, e.class.as_str()))
                .unwrap_or_else(|| "no answer".into());
            return Err(format!(
                "{which}no answer after {} ms: {error}",
                exchange.duration.as_millis()
            ));
        };
        if let Some(expected) = &expect.status
            && !expected.matches(status)
        {
            return Err(format!(
                "{which}expected {expected}, got {}{}",
                exchange.outcome_text(),
                redirect_note(exchange)
            ));
        }
        // A status that arrived but whose answer then broke off (body reset, stalled
        // past the timeout) is not a delivery: Spotnana's client fails the attempt and
        // retries. Only matters where the step expects success; a refusal that
        // breaks off is still a refusal.
        if let (Some(error), Some(expected)) = (&exchange.error, &expect.status)
            && expected.matches(200)
        {
            return Err(format!(
                "{which}{} arrived but the answer did not complete: {} ({})",
                exchange.outcome_text(),
                error.message,
                error.class.as_str()
            ));
        }
        if exchange.duration > within {
            return Err(format!(
                "{which}answered in {} ms, over the {} ms limit",
                exchange.duration.as_millis(),
                within.as_millis()
            ));
        }
    }
    if let Some(limit) = expect.p95_within
        && let Some(latency) = Latency::of(sent.iter().map(|e| e.duration).collect())
        && latency.p95_ms > limit.as_secs_f64() * 1000.0
    {
        return Err(format!(
            "p95 answer time {} ms over {} deliveries is above {} ms (p50 {} ms, max {} ms)",
            latency.p95_ms,
            latency.samples,
            limit.as_millis(),
            latency.p50_ms,
            latency.max_ms
        ));
    }
    Ok(())
}

/// Why a send step stopped before sending.
enum SendStop {
    /// The step could not run (a template that cannot be rendered …).
    Error(String),
    /// Its organization is outside the subscription.
    Unsubscribed(String),
}

impl SendStop {
    /// The reason as one message (for callers that only report it).
    fn message(self) -> String {
        match self {
            SendStop::Error(message) => message,
            SendStop::Unsubscribed(org) => {
                format!("organization {org} is outside the subscription")
            }
        }
    }
}

impl From<String> for SendStop {
    fn from(message: String) -> Self {
        SendStop::Error(message)
    }
}

/// Every delivery a run of `scenario` with `seed` composes, in order, without
/// sending any: each send step as the run composes it, as if every answer were 200
/// (observations, token requests, sleeps and programs are passed over). What the
/// story property test (`tests/stories.rs`) reads.
pub fn compose_scenario(
    scenario: &Scenario,
    seed: u64,
    base: &ComposeContext<'_>,
    events: &[crate::event::EventType],
) -> Result<Vec<Composed>, String> {
    let mut rng = random::rng_for(seed, &scenario.info.id);
    let state_url = Some("https://state.invalid");
    let subscription = Subscription::new(
        events.iter().copied().map(SubscribedType::every).collect(),
        Vec::new(),
    );
    let orgs_drawn = std::cell::Cell::new(0);
    let vars = scenario
        .resolve_vars(
            &Scope {
                scenario,
                vars: &[],
                state_url,
                records: &[],
                organizations: &[],
                orgs_drawn: &orgs_drawn,
            },
            &mut rng,
        )
        .map_err(|e| e.to_string())?;
    let mut records: Vec<Option<StepRecord>> = vec![None; scenario.steps.len()];
    let mut bookings = super::bookings::Bookings::of(scenario);
    let mut all = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let Action::Send(send) = &step.action else {
            continue;
        };
        let scope = Scope {
            scenario,
            vars: &vars,
            state_url,
            records: &records,
            organizations: &[],
            orgs_drawn: &orgs_drawn,
        };
        let composed = compose_send(
            send,
            (&mut bookings, index),
            &scope,
            base,
            &subscription,
            &mut rng,
        )
        .map_err(SendStop::message)?;
        records[index] = Some(StepRecord {
            first: composed.first().cloned(),
            status: Some(200),
        });
        all.extend(composed);
    }
    Ok(all)
}

/// Composes and sends a step's deliveries. Returns the first composed delivery (for
/// later references) and every exchange, in order.
/// Composes a step's deliveries (without sending them): what `run_send` sends.
fn compose_send(
    send: &SendStep,
    (bookings, index): (&mut super::bookings::Bookings, usize),
    scope: &Scope<'_>,
    base: &ComposeContext<'_>,
    subscription: &Subscription,
    rng: &mut SeededRng,
) -> Result<Vec<Composed>, SendStop> {
    let org = match &send.org_id {
        Some(template) => Some(template.render(scope, rng).map_err(|e| e.to_string())?),
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
        .map(|(name, value)| {
            Ok((
                name.clone(),
                value.render(scope, rng).map_err(|e| e.to_string())?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let payload_patch = render_patch(send, scope, rng)?;
    let envelope_patch = match &send.envelope {
        Some(t) => Some(t.render(scope, rng).map_err(|e| e.to_string())?),
        None => None,
    };
    let raw_body = match &send.body {
        Some(t) => Some(bytes::Bytes::from(
            t.render(scope, rng).map_err(|e| e.to_string())?,
        )),
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

async fn run_send(
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

fn earlier_send(scope: &Scope<'_>, index: usize, name: &str) -> Result<Composed, String> {
    scope
        .records
        .get(index)
        .and_then(|r| r.as_ref())
        .and_then(|r| r.first.clone())
        .ok_or_else(|| format!("step \"{name}\" sent nothing to refer to"))
}

fn render_patch(
    send: &SendStep,
    scope: &Scope<'_>,
    rng: &mut SeededRng,
) -> Result<Option<Value>, String> {
    let mut patch: Option<Value> = send.payload_file.clone();
    if let Some(template) = &send.payload {
        let rendered = template.render(scope, rng).map_err(|e| e.to_string())?;
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

fn describe_token(token: &TokenStep) -> String {
    let mut text = match token.credentials {
        TokenCredentials::Configured => "token request with the configured client credentials",
        TokenCredentials::WrongSecret => "token request with a wrong client secret",
    }
    .to_owned();
    if token.repeat > 1 {
        text.push_str(&format!(
            ", ×{} at concurrency {}",
            token.repeat, token.concurrency
        ));
    }
    text
}

/// Sends a token step's requests (at most `concurrency` at once) and judges every
/// answer. Returns the secret-free exchanges, in order, and the finding.
async fn run_token(
    token: &TokenStep,
    step: &Step,
    scope: &Scope<'_>,
    ctx: &RunContext,
    rng: &mut SeededRng,
) -> (Vec<Exchange>, Judgement) {
    let expect = &step.expect;
    let Some(oauth) = ctx.oauth.as_ref() else {
        return (
            Vec::new(),
            Judgement::Error("OAuth is not configured".to_owned()),
        );
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
                Judgement::Error(format!("cannot build the expected values: {err}")),
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
    let total = answers.len();
    // A precondition is judged like an expectation of its status alone (with 200, a
    // usable token), and only when every request was answered.
    if let Some(pre) = &step.precondition
        && answers.iter().all(|(e, _)| e.response.is_some())
    {
        let needed = Expect {
            status: Some(pre.status.clone()),
            ..Expect::default()
        };
        let unmet = answers
            .iter()
            .enumerate()
            .find_map(|(i, (exchange, parsed))| {
                token_problem(exchange, parsed, &needed, &[], Duration::MAX, false).map(|problem| {
                    format!(
                        "{}does not meet the precondition: {problem}",
                        which("request", i, total)
                    )
                })
            });
        if let Some(unmet) = unmet {
            let exchanges = answers.into_iter().map(|(e, _)| e).collect();
            return (exchanges, Judgement::NotJudged(unmet));
        }
    }
    let mut failures: Vec<String> = Vec::new();
    for (i, (exchange, parsed)) in answers.iter().enumerate() {
        // The shape of a token response is judged on a single request that is not a
        // precondition (the subject of `oauth.token-issued`); a precondition needs a
        // usable token, and a burst judges that every request got one.
        let shape = token.repeat <= 1 && step.precondition.is_none();
        if let Some(problem) = token_problem(exchange, parsed, expect, &expected, within, shape) {
            failures.push(format!("{}{problem}", which("request", i, total)));
        }
    }
    let exchanges = answers.into_iter().map(|(e, _)| e).collect();
    let verdict = match failures.as_slice() {
        [] => Judgement::Met,
        [one] => Judgement::Failed(one.clone()),
        [first, ..] => Judgement::Failed(format!(
            "{} of {total} token requests failed; first: {first}",
            failures.len()
        )),
    };
    (exchanges, verdict)
}

fn token_problem(
    exchange: &Exchange,
    parsed: &Result<crate::delivery::oauth::IssuedToken, crate::delivery::oauth::TokenRefusal>,
    expect: &Expect,
    expected: &[(String, Value)],
    within: Duration,
    shape: bool,
) -> Option<String> {
    let Some(response) = &exchange.response else {
        return Some(format!(
            "no answer after {} ms: {}",
            exchange.duration.as_millis(),
            exchange.outcome_text()
        ));
    };
    let wants_token = expect.status.as_ref().is_none_or(|s| s.matches(200));
    if let Some(status) = &expect.status
        && !status.matches(response.status)
    {
        return Some(match parsed {
            Err(problem) if wants_token => problem.to_string(),
            Ok(_) => format!(
                "expected {status}, got {}: a token was issued",
                response.status_line()
            ),
            Err(_) => format!("expected {status}, got {}", response.status_line()),
        });
    }
    if wants_token
        && response.status == 200
        && let Err(problem) = parsed
    {
        return Some(format!("the token response is not usable: {problem}"));
    }
    if shape
        && wants_token
        && response.status == 200
        && let Ok(token) = parsed
        && !token.deviations.is_empty()
    {
        return Some(format!(
            "the token response deviates from RFC 6749 and Spotnana's documentation: {}; \
             the token was still used for the deliveries, as Spotnana's sender does",
            token.deviations.join("; ")
        ));
    }
    if !expected.is_empty() {
        let observed: Value = match serde_json::from_slice(&response.body) {
            Ok(value) => value,
            Err(err) => return Some(format!("the answer is not JSON: {err}")),
        };
        for (pointer, want) in expected {
            match observed.pointer(pointer) {
                Some(got) if json_equal(got, want) => {}
                Some(got) => return Some(format!("{pointer} is {got}, expected {want}")),
                None => return Some(format!("{pointer} is absent, expected {want}")),
            }
        }
    }
    if exchange.duration > within {
        return Some(format!(
            "answered in {} ms, over the {} ms limit",
            exchange.duration.as_millis(),
            within.as_millis()
        ));
    }
    None
}

struct Failure {
    judgement: Judgement,
    exchange: Option<Exchange>,
}

/// Why an observation does not (yet) show what the step expects.
enum ObserveProblem {
    /// The answer cannot be read (no answer, or not JSON where JSON is expected): the
    /// observation endpoint does not work, so nothing can be concluded.
    Unreadable(String),
    /// The answer says something other than expected: the check's finding.
    Mismatch(String),
}

/// GETs the observation URL until the expectations hold or `within` runs out.
async fn run_observe(
    observe: &Observe,
    expect: &Expect,
    scope: &Scope<'_>,
    ctx: &RunContext,
    rng: &mut SeededRng,
) -> Result<(Exchange, u16), Failure> {
    let rendered = observe.url.render(scope, rng).map_err(|e| Failure {
        judgement: Judgement::Error(format!("cannot build the observation URL: {e}")),
        exchange: None,
    })?;
    // Only the state URL's origin is read, whatever the file or a template value says.
    let state_url = ctx.state_url.as_deref().ok_or_else(|| Failure {
        judgement: Judgement::Error(
            "cannot build the observation URL: it needs --state-url (an observation endpoint)"
                .to_owned(),
        ),
        exchange: None,
    })?;
    let url =
        crate::scenario::observe::resolve(&observe.target, &rendered, state_url).map_err(|e| {
            Failure {
                judgement: Judgement::Error(format!("the observation URL is refused: {e}")),
                exchange: None,
            }
        })?;
    let expected: Vec<(String, Value)> = expect
        .json
        .iter()
        .map(|(pointer, value)| Ok((pointer.clone(), value.render(scope, rng)?)))
        .collect::<Result<_, crate::scenario::template::RenderError>>()
        .map_err(|e| Failure {
            judgement: Judgement::Error(format!("cannot build the expected values: {e}")),
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
        let problem = observe_problem(&exchange, expect, &expected);
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
                    ObserveProblem::Unreadable(message) => Judgement::Error(format!(
                        "the observation cannot be read: GET {url}: {message}{waited}"
                    )),
                    ObserveProblem::Mismatch(message) => {
                        Judgement::Failed(format!("GET {url}: {message}{waited}"))
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

fn observe_problem(
    exchange: &Exchange,
    expect: &Expect,
    expected: &[(String, Value)],
) -> Option<ObserveProblem> {
    use ObserveProblem::{Mismatch, Unreadable};
    let Some(response) = &exchange.response else {
        return Some(Unreadable(format!(
            "no answer: {}",
            exchange.outcome_text()
        )));
    };
    if let Some(status) = &expect.status
        && !status.matches(response.status)
    {
        return Some(Mismatch(format!(
            "expected {status}, got {}",
            response.status_line()
        )));
    }
    if expected.is_empty() {
        return None;
    }
    let observed: Value = match serde_json::from_slice(&response.body) {
        Ok(value) => value,
        Err(err) => return Some(Unreadable(format!("the answer is not JSON: {err}"))),
    };
    for (pointer, want) in expected {
        match observed.pointer(pointer) {
            Some(got) if json_equal(got, want) => {}
            Some(got) => return Some(Mismatch(format!("{pointer} is {got}, expected {want}"))),
            None => return Some(Mismatch(format!("{pointer} is absent, expected {want}"))),
        }
    }
    None
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}
