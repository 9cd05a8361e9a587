//! The load engine: a [`LoadPlan`] in, a report out. It makes up the secret the
//! reference receiver takes when none is given, sizes that receiver for bursts, sets
//! up the target, pre-builds the bodies and the request plan, runs the load (or the
//! `find-max` search) with live figures when asked, and reads the receiver's settled
//! counters. It prints nothing and picks no exit code: what happens is told to a
//! [`LoadSink`], and what the front shows and how it exits is the front's.

use std::sync::Arc;
use std::time::Duration;

use super::mix::WeightedKind;
use super::plan::{LoadPlan, RECEIVER_QUEUE, Shape};
use super::ramp::{self, RampReport, Step};
use super::report::{LoadReport, RunInfo};
use super::request::{RequestPlan, Templates};
use super::stats::Live;
use super::{LoadOptions, Stop};
use crate::event::random;
use crate::receiver::{ReceiverConfig, ReceiverStats, RunningReceiver};
use crate::target::{self, Target, TargetError};

/// What a load run ended with.
#[derive(Debug)]
pub enum LoadRun {
    /// One run's report.
    Fixed(Box<LoadReport>),
    /// A search's report.
    FindMax(Box<RampReport>),
}

/// Why a load could not start (what the user gave or the machine allows; never what
/// the endpoint answered, which is in the report).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target could not be set up.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The endpoint's address (or its proxy's) could not be resolved for the client.
    #[error(transparent)]
    Connector(#[from] super::connector::ResolveError),
}

/// The target is set up and the bodies are built: what the front may announce.
#[derive(Debug)]
pub struct Ready<'a> {
    /// The endpoint loaded.
    pub endpoint: &'a str,
    /// Whether it is the in-process reference receiver (no endpoint was given).
    pub reference: bool,
    /// Whether it is plain `http://`.
    pub plain: bool,
    /// The mix.
    pub mix: &'a [WeightedKind],
    /// The mean size of the pre-built bodies.
    pub mean_body_bytes: usize,
    /// The seed.
    pub seed: u64,
    /// How the load is driven.
    pub shape: &'a Shape,
    /// Client threads sharing the connections ([`super::client_threads`]).
    pub threads: usize,
}

/// Where the engine tells what happens, in this order: `ready` once, then for one run
/// `started` and `stopped`, for a search `step` after each step.
pub trait LoadSink {
    /// The target is set up; no request has been sent yet.
    fn ready(&mut self, _ready: &Ready<'_>) {}
    /// One run begins. `live` is given when the plan asked for live figures.
    fn started(&mut self, _live: Option<&Arc<Live>>, _stop: Stop) {}
    /// The run's requests are over (its report is being made).
    fn stopped(&mut self) {}
    /// One step of a search ended.
    fn step(&mut self, _step: &Step) {}
}

/// Carries out `plan`.
pub async fn run(plan: LoadPlan, sink: &mut (dyn LoadSink + Send)) -> Result<LoadRun, LoadError> {
    let LoadPlan {
        mut target,
        secret,
        mix,
        profile,
        envelope,
        signature_format,
        headers,
        redeliver_ratio,
        seed,
        threads,
        timeout,
        shape,
        series,
        live,
        peak_memory,
        stop: interrupt,
    } = plan;
    // The reference receiver takes any secret: one is made up when none is given.
    let secret = target::secret_or_made_up(secret, &mut random::rng_for(seed, "load-secret"));
    target.reference = ReceiverConfig {
        secrets: vec![secret.clone()],
        queue_capacity: RECEIVER_QUEUE,
        ..ReceiverConfig::default()
    };
    let mut destination = Target::build(target).await?;
    let endpoint = destination.endpoint().to_owned();
    let reference = destination.receiver().is_some();
    let connector = destination.load_connector().await?;
    let receiver = destination.take_receiver();
    // Decided once, here, so that the front can say it and the report keep it.
    let mut shape = shape;
    let connections = match &shape {
        Shape::Fixed { concurrency, .. } => *concurrency,
        Shape::FindMax(options) => options.concurrency,
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let client_threads = super::client_threads(threads, &connector.addrs, cores, connections);
    let threads = std::num::NonZeroUsize::new(client_threads);
    if let Shape::FindMax(options) = &mut shape {
        options.threads = threads;
    }
    let templates =
        Templates::build_spread(&mix, envelope, seed, profile.unwrap_or_default().spread());
    let mean_body_bytes = templates.mean_body_bytes();
    sink.ready(&Ready {
        endpoint: &endpoint,
        reference,
        plain: connector.plain,
        mix: &mix,
        mean_body_bytes,
        seed,
        shape: &shape,
        threads: client_threads,
    });
    let mut requests = RequestPlan::new(
        connector.path.clone(),
        connector.host.clone(),
        &secret,
        signature_format,
        templates,
        headers,
    );
    requests.redeliver_ratio = redeliver_ratio.unwrap_or(0.0);
    let events: Vec<String> = mix
        .iter()
        .map(|m| format!("{}={}", m.kind, m.weight))
        .collect();
    let profile_name = profile.map(|p| p.to_string());
    let (concurrency, rate, stop) = match shape {
        Shape::FindMax(options) => {
            let outcome = ramp::find_max(
                &options,
                Arc::new(connector),
                Arc::new(requests),
                &interrupt,
                |s| sink.step(s),
            )
            .await;
            return Ok(LoadRun::FindMax(Box::new(RampReport::new(
                outcome,
                &options,
                endpoint,
                events,
                profile_name,
            ))));
        }
        Shape::Fixed {
            concurrency,
            rate,
            stop,
        } => (concurrency, rate, stop),
    };
    let options = LoadOptions {
        concurrency,
        rate,
        stop,
        timeout,
        seed,
        threads,
    };
    // Live figures are recorded only when there is a display or a chart to show them.
    let figures = if series {
        Some(Arc::new(Live::with_series()))
    } else {
        live.then(|| Arc::new(Live::default()))
    };
    sink.started(figures.as_ref().filter(|_| live), stop);
    let outcome = super::run(
        &options,
        Arc::new(connector),
        Arc::new(requests),
        figures.clone(),
        &interrupt,
    )
    .await;
    sink.stopped();
    let info = RunInfo {
        endpoint,
        concurrency: options.concurrency,
        rate,
        seed,
        events,
        mean_body_bytes,
        profile: profile_name,
        redeliver: redeliver_ratio.is_some(),
        threads: client_threads,
    };
    let mut report = LoadReport::new(&info, &outcome);
    report.timeline = figures.and_then(|live| live.timeline(outcome.elapsed));
    if let Some(receiver) = receiver {
        report.receiver = Some(settled_stats(&receiver).await);
        receiver.shutdown().await;
    }
    if peak_memory {
        report.peak_rss_kib = super::peak_rss_kib();
    }
    Ok(LoadRun::Fixed(Box::new(report)))
}

/// The receiver's counters once its background processing has caught up (or after 2 s).
async fn settled_stats(receiver: &RunningReceiver) -> ReceiverStats {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let stats = receiver.stats();
        if stats.processed + stats.duplicates >= stats.accepted
            || tokio::time::Instant::now() >= give_up
        {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
