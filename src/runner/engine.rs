//! The engine of `spotcheck run`: sets up the target, runs the TLS probe, then the
//! scenarios (several at once), the diagnoses and the whole-run checks, telling a
//! [`RunSink`] what happens as it happens, and returns the [`RunReport`]. It prints
//! nothing, writes no file and picks no exit code: that is the front's (`cli/`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::cancel::Cancel;
use super::catalogue::{Catalogue, Gate};
use super::context::RunContext;
use super::error::RunError;
use super::events::{Interruption, RunEvent, RunSink};
use super::options::{RunOptions, RunPlan};
use super::scenarios::{self, ScenarioProgress};
use super::setup::{self, RunTarget};
use crate::check::{CheckInfo, CheckResult, SkipReason, Status, Verdict};
use crate::coverage::Tally;
use crate::delivery::exchange::Exchange;
use crate::event::random;
use crate::outcome::{
    Latency, RunReport, Summary, ToolInfo, TransportOutage, Unreachable, VerdictReason,
};
use crate::scenario::Scenario;
use crate::target::{self, Target};
use crate::tls_probe::{self, TlsCheck, TlsReport};

/// How long exchanges in flight may still take once a stop is asked.
const INTERRUPT_GRACE: Duration = Duration::from_secs(1);

/// Every check a run over `scenarios` can make, in run order (the TLS checks, the
/// scenarios, then the whole-run checks), before selection: what `--shard` divides.
/// The [`Catalogue`]'s list.
pub fn check_infos(scenarios: &[Scenario], builtin: bool) -> Vec<CheckInfo> {
    Catalogue::new(scenarios, builtin)
        .infos()
        .cloned()
        .collect()
}

/// Runs `plan` to its report, sending every event to `sink`; `cancel` stops it early
/// (the checks not reached are reported as interrupted).
pub async fn run(
    plan: RunPlan,
    sink: &mut impl RunSink,
    cancel: &Cancel,
) -> Result<RunReport, RunError> {
    let RunPlan {
        options,
        scenarios,
        filter,
    } = plan;
    let seed = options.seed.unwrap_or_else(random::fresh_seed);
    let mut rng = random::rng_for(seed, "run");
    let secret = target::secret_or_made_up(options.secret.clone(), &mut rng);
    let organization_id = options
        .subscription
        .organizations()
        .first()
        .cloned()
        .unwrap_or_else(|| random::uuid(&mut rng));
    let RunTarget {
        target,
        mut receiver,
        state_url,
        client,
        oauth,
    } = setup::target(&options, &secret).await?;
    let endpoint = target.endpoint().to_owned();
    let oauth_configured = oauth.is_some();
    // What the run proves, counted as each check is recorded.
    let coverage = Tally::new(&options.subscription, (!options.no_hmac).then_some(&secret));
    let context = Arc::new(RunContext {
        client,
        endpoint: endpoint.clone(),
        secret,
        format: options.format,
        envelope: options.envelope,
        organization_id,
        headers: options.headers.clone(),
        state_headers: options.state_headers.clone(),
        timeout: options.timeout,
        subscription: options.subscription.clone(),
        state_url,
        seed,
        oauth,
        hmac: !options.no_hmac,
        allow_exec: options.allow_exec,
        exec_hide_env: options.exec_hide_env.clone(),
        client_certificate: target.identity().is_some(),
        reach: Default::default(),
        coverage: Arc::new(std::sync::Mutex::new(coverage)),
    });
    sink.event(RunEvent::RunStarted {
        endpoint: &endpoint,
        reference_receiver: receiver.is_some(),
        seed,
    });
    let started_at = time::OffsetDateTime::now_utc();
    let clock = Instant::now();

    // The checks this run makes, in run order.
    let catalogue = Catalogue::new(&scenarios, options.builtin).for_run(&filter, oauth_configured);
    let mut engine = Engine {
        sink,
        checks: Vec::new(),
        options: &options,
        catalogue: &catalogue,
        context: &context,
        cancel,
    };
    // TLS first: its findings decide whether the delivery suites can run.
    let (tls, gate) = engine.probe_tls(&target).await?;
    let selected: Vec<Scenario> = catalogue.scenarios().cloned().collect();
    engine.scenarios(&selected, &gate).await;
    let unreachable = context.reach.unreachable();
    if let Some(unreachable) = &unreachable {
        // Nothing was judged: what the TLS probe could not connect to is no finding.
        for check in &mut engine.checks {
            if matches!(check.status, Status::Fail | Status::Warn | Status::Error) {
                *check = not_judged(check.clone(), unreachable);
            }
        }
    } else {
        // After judging: ask the endpoint what exactly it does wrong.
        if options.diagnose && gate == Gate::Open && !cancel.is_set() {
            engine.diagnose().await;
        }
        engine.forget_unread_bodies();
        engine.whole_run_checks(&gate).await;
    }

    if let Some(running) = receiver.take() {
        running.shutdown().await;
    }
    let Engine { sink, checks, .. } = engine;
    // What the run proved, from the exchanges it made; below the goals the run fails.
    let mut coverage = context.tally().take().finish(tls.as_ref());
    let below_min_coverage = unreachable.is_none() && coverage.apply_minimum(&options.min_coverage);
    let latency = Latency::of(
        checks
            .iter()
            .flat_map(|c| &c.exchanges)
            .filter(|e| e.response.is_some() && e.request.method == "POST")
            .map(|e| e.duration)
            .collect(),
    );
    let report = RunReport {
        tool: ToolInfo::current(),
        endpoint,
        reference_receiver: options.target.endpoint.is_none(),
        seed,
        started_at: crate::event::envelope::format_timestamp(started_at),
        duration_ms: clock.elapsed().as_millis() as u64,
        events: options
            .subscription
            .event_types()
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        subscription: options.subscription.clone(),
        strict: options.strict,
        summary: Summary {
            conformant: Summary::of(&checks, options.strict).conformant
                && unreachable.is_none()
                && !below_min_coverage,
            unreachable: unreachable.is_some(),
            ..Summary::of(&checks, options.strict)
        },
        unreachable,
        transport_outage: TransportOutage::of(&checks),
        checks,
        tls,
        latency,
        connections: Some(context.client.connection_counts()),
        route: target.route().cloned(),
        verdict_reason: below_min_coverage.then_some(VerdictReason::BelowMinCoverage),
        coverage: Some(coverage),
        replay: Default::default(),
    };
    sink.event(RunEvent::RunFinished(&report));
    Ok(report)
}

/// One run under way: what it shares, and the checks judged so far, each told to the
/// sink as it is recorded.
struct Engine<'r, S: RunSink> {
    sink: &'r mut S,
    checks: Vec<CheckResult>,
    options: &'r RunOptions,
    /// The checks this run makes (selected), in run order.
    catalogue: &'r Catalogue<'r>,
    context: &'r Arc<RunContext>,
    cancel: &'r Cancel,
}

impl<S: RunSink> Engine<'_, S> {
    /// Records a finished check and tells the sink.
    fn finished(&mut self, result: CheckResult) {
        self.sink.event(RunEvent::CheckFinished(&result));
        self.record(result);
    }

    /// Records a check, counting its exchanges into the run's coverage.
    fn record(&mut self, result: CheckResult) {
        let mut tally = self.context.tally();
        for exchange in &result.exchanges {
            tally.observe(exchange);
        }
        drop(tally);
        self.checks.push(result);
    }

    /// The selected `tls.*` checks: the probe's report, and the certificate gate for
    /// the checks after it.
    async fn probe_tls(&mut self, target: &Target) -> Result<(Option<TlsReport>, Gate), RunError> {
        let tls: Vec<&'static TlsCheck> = self.catalogue.tls().collect();
        if tls.is_empty() {
            return Ok((None, Gate::Open));
        }
        for check in &tls {
            self.sink.event(RunEvent::CheckStarted(&check.info));
        }
        let probe_options = target.probe_options(self.options.timeout.min(Duration::from_secs(10)));
        let probe = tls_probe::probe_url(&self.context.endpoint, &probe_options);
        tokio::select! {
            report = probe => {
                let report = report?;
                let gate = match tls_probe::certificate_blocks_delivery(&report) {
                    Some(block) if !self.options.insecure_continue => Gate::Blocked(block),
                    _ => Gate::Open,
                };
                for check in tls {
                    self.finished(check.judged(&report));
                }
                Ok((Some(report), gate))
            }
            () = self.cancel.wait() => {
                self.sink.event(RunEvent::Interrupted(Interruption::TlsProbe));
                for check in tls {
                    self.finished(CheckResult::interrupted(check.info.clone()));
                }
                Ok((None, Gate::Open))
            }
        }
    }

    /// The selected scenarios: executed several at once, or all held at the gate (the
    /// certificate blocks deliveries, or the run was stopped).
    async fn scenarios(&mut self, selected: &[Scenario], gate: &Gate) {
        let held: Vec<CheckResult> = selected
            .iter()
            .filter_map(|scenario| held(&scenario.info, gate, self.cancel))
            .collect();
        if !held.is_empty() {
            for result in held {
                self.finished(result);
            }
            return;
        }
        self.sink.event(RunEvent::ScenariosStarted {
            total: selected.len(),
        });
        let results = run_scenarios(
            selected,
            self.context,
            self.options.jobs,
            self.sink,
            self.cancel,
        )
        .await;
        self.sink.event(RunEvent::ScenariosFinished);
        let unreachable = self.context.reach.unreachable().is_some();
        for (scenario, result) in selected.iter().zip(results) {
            match result {
                // Told to the sink when it arrived.
                Some(result) => self.record(result),
                // The run ended early: what it did not start is not listed.
                None if unreachable => {}
                None => self.finished(CheckResult::interrupted(scenario.info.clone())),
            }
        }
    }

    /// Asks the endpoint what exactly it does wrong, attaching each finding to the
    /// check it explains (a stop cuts it short).
    async fn diagnose(&mut self) {
        tokio::select! {
            () = crate::diagnose::run(&mut self.checks, self.context) => {}
            () = self.cancel.wait() => {}
        }
        for check in self.checks.iter().filter(|c| c.diagnosis.is_some()) {
            self.sink.event(RunEvent::CheckDiagnosed(check));
        }
    }

    /// Lets go of the whole bodies no one reads any more, before the whole-run checks
    /// (`--variants 10000` makes the longest stretch of the run). The diagnosis has
    /// read what it needed; after it only a failed or warned check's bodies are read
    /// (`retry.recovers-after-failure` resends one, `--export-curl` prints the last),
    /// and every report shows an exchange by its sizes and excerpts.
    fn forget_unread_bodies(&mut self) {
        for check in &mut self.checks {
            if !matches!(check.status, Status::Fail | Status::Warn) {
                check.exchanges.iter_mut().for_each(Exchange::forget_bodies);
            }
        }
    }

    /// The checks the engine makes over the whole run, after the scenarios.
    async fn whole_run_checks(&mut self, gate: &Gate) {
        let checks: Vec<_> = self.catalogue.whole_run().collect();
        for check in checks {
            self.sink.event(RunEvent::CheckStarted(&check.info));
            let result = match held(&check.info, gate, self.cancel) {
                Some(result) => result,
                None => {
                    let judging = (check.judge)(&self.checks, self.context, self.options);
                    tokio::select! {
                        result = judging => result,
                        () = self.cancel.wait() => CheckResult::interrupted(check.info.clone()),
                    }
                }
            };
            if check.counts_itself {
                // Its exchanges are in the coverage already, and most bodies let go.
                self.sink.event(RunEvent::CheckFinished(&result));
                self.checks.push(result);
            } else {
                self.finished(result);
            }
        }
    }
}

/// Executes the selected scenarios, telling `sink` each start and finish as it happens;
/// returns their results in input order, `None` for those a stop left unfinished.
async fn run_scenarios(
    selected: &[Scenario],
    context: &Arc<RunContext>,
    jobs: usize,
    sink: &mut impl RunSink,
    cancel: &Cancel,
) -> Vec<Option<CheckResult>> {
    let mut results: Vec<Option<CheckResult>> = vec![None; selected.len()];
    let stop = Arc::new(AtomicBool::new(false));
    let mut record = |progress: ScenarioProgress, sink: &mut dyn FnMut(RunEvent<'_>)| match progress
    {
        ScenarioProgress::Started(index) => sink(RunEvent::CheckStarted(&selected[index].info)),
        ScenarioProgress::Finished(index, mut result) => {
            // An endpoint nobody could connect to: start nothing more, judge nothing.
            if let Some(unreachable) = context.reach.unreachable() {
                stop.store(true, Ordering::SeqCst);
                if matches!(result.status, Status::Fail | Status::Warn | Status::Error) {
                    *result = not_judged(*result, &unreachable);
                }
            }
            sink(RunEvent::CheckFinished(&result));
            results[index] = Some(*result);
        }
    };
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let execution = scenarios::run_scenarios(selected, context, jobs, sender, &stop);
    tokio::pin!(execution);
    loop {
        tokio::select! {
            Some(progress) = receiver.recv() => record(progress, &mut |e| sink.event(e)),
            () = &mut execution => break,
            () = cancel.wait() => {
                // Start nothing new; give exchanges in flight a moment to finish.
                stop.store(true, Ordering::SeqCst);
                sink.event(RunEvent::Interrupted(Interruption::Scenarios {
                    grace: INTERRUPT_GRACE,
                }));
                let _ = tokio::time::timeout(INTERRUPT_GRACE, &mut execution).await;
                break;
            }
        }
    }
    // What arrived after the last turn of the loop (or during the grace).
    while let Ok(progress) = receiver.try_recv() {
        record(progress, &mut |e| sink.event(e));
    }
    results
}

/// `check` as not judged: no connection to the endpoint succeeded in the run.
fn not_judged(check: CheckResult, unreachable: &Unreachable) -> CheckResult {
    CheckResult::new(
        check.info,
        Verdict::Skipped(SkipReason::Unreachable {
            address: unreachable.address.to_string(),
            error: unreachable.message.clone(),
        }),
        check.duration,
        check.exchanges,
    )
}

/// The gate every check after the TLS probe passes: `Some` result when it may not
/// run — interrupted after a stop, skipped when the certificate blocks deliveries.
fn held(info: &CheckInfo, gate: &Gate, cancel: &Cancel) -> Option<CheckResult> {
    if cancel.is_set() {
        return Some(CheckResult::interrupted(info.clone()));
    }
    match gate {
        Gate::Open => None,
        Gate::Blocked(block) => Some(CheckResult::new(
            info.clone(),
            Verdict::Skipped(SkipReason::CertificateBlocked {
                problem: format!(
                    "the endpoint's TLS certificate does not verify ({}); no delivery can succeed",
                    block.problem
                ),
                can_continue: true,
            }),
            Duration::ZERO,
            Vec::new(),
        )),
    }
}
