//! Running scenarios: schedules them (a check that measures time runs alone), decides
//! per scenario whether the run can judge it at all, and runs its steps in order,
//! stopping at the first step whose judgement ends the check. Sending is
//! [`super::steps`], judging `judge.rs`; the verdict it returns is typed and
//! worded by the reports.

use super::catalogue::skip::{self as catalogue, Unmet};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;

use super::compose::{ComposeContext, Composed};
use super::context::RunContext;
use super::judge::{self, Judgement};
use super::steps::{self, ExecResult, Failure, Scope, SendStop, StepRecord};
use crate::check::{
    CheckError, CheckResult, ErrorCause, Finding, SkipReason, StandIn, StepRef, Unsubstitutable,
    Verdict,
};
use crate::delivery::exchange::Exchange;
use crate::event::Subscription;
use crate::event::random;
use crate::event::subscription::SubscribedType;
use crate::scenario::model::{Action, Scenario, SendSource};

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

/// Runs one scenario to its verdict.
pub async fn run_scenario(scenario: &Scenario, ctx: &RunContext) -> CheckResult {
    let started = Instant::now();
    let mut exchanges = Vec::new();
    let mut stand_ins = Vec::new();
    // The skip rules are the catalogue's (one place); the reports word them.
    let verdict = if let Some(unmet) = catalogue::unmet(scenario, catalogue::Offered::of(ctx)) {
        Verdict::Skipped(match unmet {
            Unmet::Exec { command } => SkipReason::NeedsExec { command },
            Unmet::StateUrl => SkipReason::NeedsStateUrl,
            Unmet::Hmac => SkipReason::NeedsHmac,
        })
    } else {
        match within_subscription(scenario, &ctx.subscription) {
            Err(reason) => Verdict::Skipped(reason),
            Ok(None) => execute(scenario, ctx, &mut exchanges).await,
            Ok(Some((adapted, adapted_stand_ins))) => {
                stand_ins = adapted_stand_ins;
                execute(&adapted, ctx, &mut exchanges).await
            }
        }
    };
    CheckResult::with_stand_ins(
        scenario.info.clone(),
        verdict,
        stand_ins,
        started.elapsed(),
        exchanges,
    )
}

/// A step as a verdict names it, by its label alone.
fn step_ref(scenario: &Scenario, index: usize) -> StepRef {
    StepRef {
        number: index + 1,
        name: scenario.steps[index].name.clone(),
        sends: None,
        program: None,
    }
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
#[allow(clippy::result_large_err)] // once per check: the size does not matter
fn within_subscription(
    scenario: &Scenario,
    subscription: &Subscription,
) -> Result<Option<(Scenario, Vec<StandIn>)>, SkipReason> {
    let judges_processing = scenario
        .steps
        .iter()
        .any(|step| step.exec.is_some() || matches!(step.action, Action::Observe(_)));
    let mut adapted: Option<Scenario> = None;
    let mut notes: Vec<StandIn> = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let Action::Send(send) = &step.action else {
            continue;
        };
        if let Some(org) = send.org_id.as_ref().filter(|org| org.is_literal())
            && !subscription.covers_organization(org.source())
        {
            return Err(unsubscribed_organization(
                step_ref(scenario, index),
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
        let outside = |why| SkipReason::OutsideSubscription {
            step: step_ref(scenario, index),
            event: kind.to_string(),
            event_type: kind.event_type.to_string(),
            subscription: subscription.events_arg(),
            why,
        };
        if judges_processing {
            return Err(outside(Unsubstitutable::JudgesProcessing));
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
            return Err(outside(Unsubstitutable::TypeSpecificPayload));
        };
        let note = StandIn {
            sent: stand_in.to_string(),
            instead_of: kind.to_string(),
        };
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

/// The skip reason of a step whose organization is outside the subscription.
fn unsubscribed_organization(step: StepRef, org: &str, subscription: &Subscription) -> SkipReason {
    SkipReason::OutsideOrganizations {
        step,
        organization: org.to_owned(),
        organizations: subscription.organizations().to_vec(),
    }
}

/// Runs the scenario's steps in order until one ends the check.
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
        Err(err) => {
            return Verdict::Error(CheckError {
                step: None,
                cause: ErrorCause::Other {
                    text: err.to_string(),
                },
            });
        }
    };
    let mut records: Vec<Option<StepRecord>> = vec![None; scenario.steps.len()];
    let mut bookings = super::bookings::Bookings::of(scenario);
    let mut answered = 0usize;
    let mut notes: Vec<String> = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
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
                let (sent, judged) = steps::run_token(token, step, &scope, ctx, &mut rng).await;
                answered += sent.iter().filter(|e| e.response.is_some()).count();
                let first_status = sent.first().and_then(Exchange::status);
                exchanges.extend(sent);
                if let Some(verdict) =
                    judged.verdict(index, Some(judge::describe_token(token)), step)
                {
                    return verdict;
                }
                records[index] = Some(StepRecord {
                    first: None,
                    status: first_status,
                });
            }
            Action::Observe(observe) => {
                match steps::run_observe(observe, &step.expect, &scope, ctx, &mut rng).await {
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
                        if let Some(verdict) = judgement.verdict(index, None, step) {
                            return verdict;
                        }
                    }
                }
            }
            Action::Send(send) => {
                let booked = (&mut bookings, index);
                let outcome = steps::run_send(send, booked, &scope, ctx, &mut rng).await;
                let (composed, sent) = match outcome {
                    Ok(pair) => pair,
                    Err(SendStop::Error(err)) => return step_error(scenario, index, err),
                    Err(SendStop::Unsubscribed(org)) => {
                        return Verdict::Skipped(unsubscribed_organization(
                            step_ref(scenario, index),
                            &org,
                            &ctx.subscription,
                        ));
                    }
                };
                let first_status = sent.first().and_then(Exchange::status);
                let judged = match step
                    .precondition
                    .as_ref()
                    .and_then(|pre| judge::unmet_precondition(&sent, pre))
                {
                    // A delivery that never went out is not the endpoint's answer: no
                    // status, no latency to judge.
                    _ if let Some(unsent) = judge::not_sent(&sent) => unsent,
                    Some(unmet) => Judgement::NotJudged(unmet),
                    None => judge::judge_sends(&sent, &step.expect, ctx.timeout)
                        .map_or_else(Judgement::Failed, |()| Judgement::Met),
                };
                answered += sent.iter().filter(|e| e.response.is_some()).count();
                exec_exchange = (!sent.is_empty()).then_some(exchanges.len());
                exchanges.extend(sent);
                if let Some(verdict) = judged.verdict(index, Some(judge::describe_send(send)), step)
                {
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
            match steps::run_exec(exec, step, index, scenario, &scope, ctx, exchange, &mut rng)
                .await
            {
                ExecResult::Passed(note) => notes.extend(note),
                ExecResult::Failed(said) => {
                    return Verdict::Failed(Finding {
                        step: Some(StepRef {
                            program: Some(exec.display.clone()),
                            ..step_ref(scenario, index)
                        }),
                        ..Finding::from(said)
                    });
                }
                ExecResult::ScenarioError(err) => return step_error(scenario, index, err),
            }
        }
    }
    let mut seen = judge::summarize(exchanges, answered);
    seen.notes = notes;
    Verdict::Passed(seen)
}

/// The verdict of a step that could not run.
fn step_error(scenario: &Scenario, index: usize, err: steps::StepError) -> Verdict {
    Verdict::Error(CheckError {
        step: Some(step_ref(scenario, index)),
        cause: ErrorCause::Other {
            text: err.to_string(),
        },
    })
}

/// Every delivery a run of `scenario` with `seed` composes, in order, without
/// sending any: each send step as the run composes it, as if every answer were 200
/// (observations, token requests, sleeps and programs are passed over). What the
/// story property test (`tests/stories.rs`) reads.
/// Why a scenario's deliveries could not be composed.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A `[vars]` template cannot be rendered.
    #[error("[vars]: {0}")]
    Vars(crate::scenario::template::RenderError),
    /// A send step cannot be composed.
    #[error("step {number}: {stop}")]
    Step {
        /// 1-based step number.
        number: usize,
        /// Why.
        stop: SendStop,
    },
}

pub fn compose_scenario(
    scenario: &Scenario,
    seed: u64,
    base: &ComposeContext<'_>,
    events: &[crate::event::EventType],
) -> Result<Vec<Composed>, ComposeError> {
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
        .map_err(ComposeError::Vars)?;
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
        let composed = steps::compose_send(
            send,
            (&mut bookings, index),
            &scope,
            base,
            &subscription,
            &mut rng,
        )
        .map_err(|stop| ComposeError::Step {
            number: index + 1,
            stop,
        })?;
        records[index] = Some(StepRecord {
            first: composed.first().cloned(),
            status: Some(200),
        });
        all.extend(composed);
    }
    Ok(all)
}
