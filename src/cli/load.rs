//! `spotcheck load`: sustained signed deliveries at a concurrency or a rate, with
//! throughput, status counts, error classes and latency percentiles.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use hyper::header::{HeaderName, HeaderValue};

use super::common::{FormatArgs, SecretArgs, TargetArgs, parse_duration, parse_headers};
use crate::delivery::request::check_custom_headers;
use crate::error::{SetupError, exit};
use crate::event::{EventKind, EventType, random};
use crate::load::profile::Profile;
use crate::load::ramp::{self, RampOptions, RampReport};
use crate::load::report::RunInfo;
use crate::load::{
    self, Connector, Live, LoadOptions, LoadReport, RequestPlan, Stop, Templates, WeightedKind,
    report_merge,
};
use crate::signing::Secret;

/// Default number of connections.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// Most connections allowed.
pub const MAX_CONCURRENCY: usize = 4096;
/// Default run length when neither --duration nor --requests is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Options of `spotcheck load`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LoadArgs {
    /// `merge`: combine reports instead of loading.
    #[command(subcommand)]
    pub action: Option<LoadAction>,
    /// Endpoint (https://…; http:// is allowed here for local testing), CA, headers,
    /// per-request timeout. Without --endpoint the reference receiver is loaded.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Open model: a constant arrival rate, e.g. `500/s` (or `500`). Requests that
    /// cannot start on time are still sent and counted as late.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Connections. Closed model: requests in flight at all times. With --rate: the
    /// most requests in flight.
    #[arg(long, short = 'c', value_name = "C", default_value_t = DEFAULT_CONCURRENCY as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_CONCURRENCY as u64))]
    pub concurrency: u64,
    /// How long to run (default 10s).
    #[arg(long, short = 'z', value_name = "DURATION", value_parser = parse_duration,
          conflicts_with = "requests")]
    pub duration: Option<Duration>,
    /// How many requests to send.
    #[arg(long, short = 'n', value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// Event mix: comma-separated `EVENT/OPERATION` or `EVENT` (all its operations),
    /// each optionally `=WEIGHT`, e.g. `PNR_V3/BOOKING_TICKETED=3,TRIP`. Default: every kind.
    #[arg(long, value_name = "MIX")]
    pub events: Option<String>,
    /// Traffic profile: `uniform` (every kind evenly, the default), `schedule-change`
    /// (an airline schedule change: FLIGHT_SCHEDULE_CHANGE_* and FLIGHT_CHANGED for 64
    /// PNRs of 16 organizations) or `mixed` (70 % PNR_V3, 15 % TRAVELER_V2, 10 %
    /// TRIP_DETAILS_V3, 5 % the rest).
    #[arg(long, value_name = "NAME", conflicts_with = "events")]
    pub profile: Option<Profile>,
    /// Share of requests (0 to 1) that redeliver an earlier request: same webhook id
    /// and body, new timestamp and signature, as Spotnana retries.
    #[arg(long, value_name = "RATIO", value_parser = parse_ratio)]
    pub redeliver_ratio: Option<f64>,
    /// Find the highest rate the endpoint sustains: fixed-rate steps from --rate
    /// (default 50/s), doubling until one breaks (a non-200 answer, or p99 over
    /// --p99-budget), then bisecting; at most 12 steps of --step each.
    #[arg(long, conflicts_with_all = ["duration", "requests"])]
    pub find_max: bool,
    /// With --find-max: the p99 latency a step may reach (default 1s, Spotnana's
    /// fast-acknowledgement threshold).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "find_max")]
    pub p99_budget: Option<Duration>,
    /// With --find-max: how long each step loads (default 5s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "find_max")]
    pub step: Option<Duration>,
    /// With --find-max: no step goes above this rate (default 10000/s).
    #[arg(long, value_name = "N/s", value_parser = parse_rate, requires = "find_max")]
    pub max_rate: Option<f64>,
    /// With --find-max: the partner's expected Spotnana peak; exit 0 when the
    /// endpoint sustains it, 1 when not, 2 when the search could not run.
    #[arg(long, value_name = "N/s", value_parser = parse_rate, requires = "find_max")]
    pub expect_peak: Option<f64>,
    /// Seed for ids and body choice (default: random; printed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// This runner's share of a distributed load: `K/N`, or `auto` (`auto/N`) as for
    /// `run`. Each share sends with its own seed (`--seed` + K − 1), so the runners'
    /// webhook ids differ and `load merge` adds distinct runs.
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<super::shard::ShardArg>,
    /// Write a report: `json=PATH`, or `html=PATH` (charts of latency, throughput and
    /// status over time, and the latency histogram).
    #[arg(long, value_name = "FORMAT=PATH")]
    pub report: Vec<String>,
    /// Also print spotcheck's peak resident memory.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Where the signing secret comes from.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Signature token form and envelope spelling.
    #[command(flatten)]
    pub format: FormatArgs,
}

/// Subcommands of `spotcheck load`.
#[derive(Debug, clap::Subcommand)]
pub enum LoadAction {
    /// Combine load reports of concurrent runs (a CI matrix) into one, with exact percentiles.
    #[command(after_help = MERGE_EXAMPLE)]
    Merge(MergeArgs),
}

const MERGE_EXAMPLE: &str = "Example:
  spotcheck load merge runner-*/load.json --report json=load-total.json";

/// Options of `spotcheck load merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Load reports written by `spotcheck load --report json=PATH`.
    #[arg(value_name = "REPORT", required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,
    /// Write the merged report: `json=PATH`.
    #[arg(long, value_name = "FORMAT=PATH")]
    pub report: Vec<String>,
}

/// Parses `500/s`, `500` or `2.5/s`.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches("/s").trim();
    match number.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 10_000_000.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate; write requests per second, e.g. 500/s"
        )),
    }
}

/// Default p99 budget of `--find-max`: Spotnana's fast-acknowledgement threshold.
pub const DEFAULT_P99_BUDGET: Duration = Duration::from_secs(1);
/// Default step length of `--find-max`.
pub const DEFAULT_STEP: Duration = Duration::from_secs(5);
/// Default first rate of `--find-max`.
pub const DEFAULT_START_RATE: f64 = 50.0;
/// Default highest rate of `--find-max`.
pub const DEFAULT_MAX_RATE: f64 = 10_000.0;

/// Parses a share from 0 to 1.
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(format!("`{text}` is not a share from 0 to 1, e.g. 0.05")),
    }
}

/// Parses the `--events` mix.
pub fn parse_mix(text: &str) -> Result<Vec<WeightedKind>, SetupError> {
    let mut mix = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, weight) = match item.split_once('=') {
            Some((name, weight)) => {
                let weight: u32 = weight
                    .trim()
                    .parse()
                    .ok()
                    .filter(|w| (1..=1000).contains(w))
                    .ok_or_else(|| {
                        SetupError::new(format!(
                            "--events: the weight in `{item}` is not a whole number from 1 to 1000"
                        ))
                    })?;
                (name.trim(), weight)
            }
            None => (item, 1),
        };
        if name.contains('/') {
            let kind: EventKind = name.parse().map_err(|err: crate::event::UnknownEvent| {
                SetupError::new(format!("--events: {err}"))
            })?;
            mix.push(WeightedKind { kind, weight });
        } else {
            let event_type: EventType =
                name.parse().map_err(|err: crate::event::UnknownEvent| {
                    SetupError::new(format!("--events: {err}"))
                })?;
            mix.extend(
                EventKind::all_of(&[event_type])
                    .into_iter()
                    .map(|kind| WeightedKind { kind, weight }),
            );
        }
    }
    if mix.is_empty() {
        return Err(SetupError::new("--events names no event")
            .with_hint("e.g. --events PNR_V3/BOOKING_TICKETED=3,TRIP"));
    }
    Ok(mix)
}

/// Where the reports go.
#[derive(Debug, Default)]
struct ReportPaths {
    json: Option<PathBuf>,
    html: Option<PathBuf>,
}

fn report_paths(reports: &[String], html_allowed: bool) -> Result<ReportPaths, SetupError> {
    let mut paths = ReportPaths::default();
    for report in reports {
        match report.split_once('=') {
            Some(("json", path)) if !path.is_empty() => paths.json = Some(PathBuf::from(path)),
            Some(("html", path)) if !path.is_empty() && html_allowed => {
                paths.html = Some(PathBuf::from(path));
            }
            _ => {
                let formats = if html_allowed {
                    "`json=PATH` and `html=PATH`"
                } else {
                    "`json=PATH`"
                };
                return Err(SetupError::new(format!(
                    "--report `{report}`: this writes {formats} reports"
                )));
            }
        }
    }
    for path in paths.json.iter().chain(&paths.html) {
        crate::report::write::check_writable(path)?;
    }
    Ok(paths)
}

fn write_report(path: &std::path::Path, text: &str) -> Result<(), SetupError> {
    let text = crate::redact::text(text);
    crate::atomic_file::write_atomic(path, text.as_bytes()).map_err(|err| {
        SetupError::new(format!("cannot write the report {}: {err}", path.display()))
    })?;
    outln!("report        {}", path.display());
    Ok(())
}

/// Runs `spotcheck load` (or `spotcheck load merge`).
pub async fn run(args: LoadArgs) -> Result<u8, SetupError> {
    if let Some(LoadAction::Merge(merge)) = args.action {
        return run_merge(merge);
    }
    // The HTML charts are of one run over time; a --find-max search is many runs.
    let paths = report_paths(&args.report, !args.find_max)?;
    let profile = args.profile.unwrap_or_default();
    let mix = match &args.events {
        Some(text) => parse_mix(text)?,
        None => profile.mix(),
    };
    let custom = parse_headers(&args.target.headers)?;
    check_custom_headers(&custom)?;
    let custom = custom
        .into_iter()
        .map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SetupError::new(format!("--header name `{name}` is not valid")))?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                SetupError::new(format!(
                    "--header `{name}` has a value that is not valid in HTTP"
                ))
            })?;
            Ok((name, value))
        })
        .collect::<Result<Vec<_>, SetupError>>()?;
    let shard = super::common::resolve_shard(args.shard)?;
    let seed = match (args.seed, shard) {
        (Some(seed), Some(shard)) => shard.seed(seed),
        (Some(seed), None) => seed,
        (None, _) => random::fresh_seed(),
    };

    // The partner's endpoint needs the partner's secret; the reference receiver
    // takes any, so one is made up when none is given.
    let secret = if args.target.endpoint.is_some() {
        args.secret.require()?
    } else {
        match args.secret.load()? {
            Some(secret) => secret,
            None => Secret::generate(&mut random::rng_for(seed, "load-secret")),
        }
    };
    let reference = crate::receiver::ReceiverConfig {
        secrets: vec![secret.clone()],
        // Room for bursts: the receiver acknowledges first and processes later.
        queue_capacity: 65_536,
        ..crate::receiver::ReceiverConfig::default()
    };
    let mut destination = crate::target::Target::build(args.target.spec(reference)?).await?;
    let endpoint = destination.endpoint().to_owned();
    if destination.receiver().is_some() {
        outln!(
            "no --endpoint: loading the built-in reference receiver at {endpoint} (in this process, sharing its CPU)"
        );
    }
    let target = destination.load_connector().await?;
    let receiver = destination.take_receiver();
    if target.plain {
        outln!(
            "note: {endpoint} is plain http://; Spotnana delivers only over HTTPS (TLS 1.2+), so this measures a local test setup"
        );
    }
    let templates = Templates::build_spread(&mix, args.format.envelope, seed, profile.spread());
    let mean_body_bytes = templates.mean_body_bytes();
    let mut plan = RequestPlan::new(
        target.path.clone(),
        target.host.clone(),
        &secret,
        args.format.signature_format,
        templates,
        custom,
    );
    plan.redeliver_ratio = args.redeliver_ratio.unwrap_or(0.0);
    let events: Vec<String> = mix
        .iter()
        .map(|m| format!("{}={}", m.kind, m.weight))
        .collect();
    let profile_name = args.profile.map(|p| p.to_string());
    if args.find_max {
        let options = RampOptions {
            start_rate: args.rate.unwrap_or(DEFAULT_START_RATE),
            max_rate: args.max_rate.unwrap_or(DEFAULT_MAX_RATE),
            step: args.step.unwrap_or(DEFAULT_STEP),
            p99_budget: args.p99_budget.unwrap_or(DEFAULT_P99_BUDGET),
            expect_peak: args.expect_peak,
            concurrency: args.concurrency as usize,
            timeout: args.target.timeout,
            seed,
        };
        return find_max(options, target, plan, endpoint, events, profile_name, paths).await;
    }
    let stop = match (args.requests, args.duration) {
        (Some(n), _) => Stop::Requests(n),
        (None, Some(d)) => Stop::Duration(d),
        (None, None) => Stop::Duration(DEFAULT_DURATION),
    };
    let options = LoadOptions {
        concurrency: args.concurrency as usize,
        rate: args.rate,
        stop,
        timeout: args.target.timeout,
        seed,
    };
    let model = match args.rate {
        Some(rate) => format!(
            "open model, {rate} req/s, at most {} in flight",
            options.concurrency
        ),
        None => format!("closed model, concurrency {}", options.concurrency),
    };
    let what = match stop {
        Stop::Requests(n) => format!("{n} requests"),
        Stop::Duration(d) => humantime::format_duration(d).to_string(),
    };
    outln!(
        "load: {what} to {endpoint} ({model}), {} event kinds, mean body {mean_body_bytes} bytes, seed {seed}",
        mix.len()
    );

    // Live figures are recorded only when there is a progress bar or a chart to show
    // them.
    let live = if paths.html.is_some() {
        Some(Arc::new(Live::with_series()))
    } else {
        (!args.quiet).then(|| Arc::new(Live::default()))
    };
    let progress = live
        .clone()
        .filter(|_| !args.quiet)
        .map(|live| progress::start(live, stop));
    let outcome = load::run(&options, Arc::new(target), Arc::new(plan), live.clone()).await;
    if let Some(progress) = progress {
        progress.finish().await;
    }

    let info = RunInfo {
        endpoint,
        concurrency: options.concurrency,
        rate: args.rate,
        seed,
        events,
        mean_body_bytes,
        profile: profile_name,
        redeliver: args.redeliver_ratio.is_some(),
    };
    let mut report = LoadReport::new(&info, &outcome);
    report.timeline = live.and_then(|live| live.timeline(outcome.elapsed));
    if let Some(receiver) = receiver {
        report.receiver = Some(settled_stats(&receiver).await);
        receiver.shutdown().await;
    }
    if args.verbose {
        report.peak_rss_kib = load::peak_rss_kib();
    }
    finish(&report, &paths)
}

/// Runs `spotcheck load --find-max`: prints each step as it ends, then the
/// sustainable rate and, with --expect-peak, the verdict.
async fn find_max(
    options: RampOptions,
    target: Connector,
    plan: RequestPlan,
    endpoint: String,
    events: Vec<String>,
    profile: Option<String>,
    paths: ReportPaths,
) -> Result<u8, SetupError> {
    outln!(
        "load --find-max: {endpoint}, from {} req/s up to {} req/s, steps of {}, p99 budget {}, at most {} connections",
        options.start_rate,
        options.max_rate,
        humantime::format_duration(options.step),
        humantime::format_duration(options.p99_budget),
        options.concurrency
    );
    let outcome = ramp::find_max(&options, Arc::new(target), Arc::new(plan), |step| {
        outln!("{}", RampReport::step_line(step));
    })
    .await;
    let report = RampReport::new(outcome, &options, endpoint, events, profile);
    out!("{}", report.render_text());
    if let Some(path) = &paths.json {
        let json = serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".to_owned());
        write_report(path, &json)?;
    }
    if report.unreachable {
        return Err(SetupError::new(format!(
            "--find-max could not run: no request to {} got an HTTP answer",
            report.endpoint
        ))
        .with_hint(
            "check that the endpoint is up and reachable (see the errors of each step above)",
        ));
    }
    Ok(match (report.peak_sustained, report.sustainable_rps) {
        (Some(true), _) | (None, Some(_)) => exit::CONFORMANT,
        _ => exit::NOT_CONFORMANT,
    })
}

/// Prints the summary, writes the reports and gives the exit code.
fn finish(report: &LoadReport, paths: &ReportPaths) -> Result<u8, SetupError> {
    out!("{}", report.render_text());
    if let Some(path) = &paths.json {
        write_report(path, &report.to_json())?;
    }
    if let Some(path) = &paths.html {
        write_report(path, &load::html::render(report))?;
    }
    Ok(if report.requests > 0 && report.ok == report.requests {
        exit::CONFORMANT
    } else {
        outln!("not every request was answered 200 OK");
        exit::NOT_CONFORMANT
    })
}

/// Runs `spotcheck load merge`.
fn run_merge(args: MergeArgs) -> Result<u8, SetupError> {
    let paths = report_paths(&args.report, true)?;
    let mut reports = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let report = report_merge::read_report(path).map_err(merge_error)?;
        reports.push((path.display().to_string(), report));
    }
    let merged = report_merge::merge(&reports).map_err(merge_error)?;
    outln!(
        "load merge: {} reports of {}",
        reports.len(),
        merged.endpoint
    );
    let shared = report_merge::shared_seeds(&reports);
    if !shared.is_empty() {
        outln!(
            "note: several runs used seed {}: they sent the same webhook ids, so an endpoint that deduplicates saw fewer distinct events (give each runner its own --seed)",
            shared
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    finish(&merged, &paths)
}

fn merge_error(err: report_merge::MergeError) -> SetupError {
    SetupError::new(err.to_string())
        .with_hint("merge reports written by `spotcheck load --report json=PATH`, one per run")
}

/// The receiver's counters once its background processing has caught up (or after 2 s).
async fn settled_stats(
    receiver: &crate::receiver::RunningReceiver,
) -> crate::receiver::ReceiverStats {
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

mod progress {
    //! The progress bar: live rate and the p99 of the last interval, on stderr
    //! (hidden when stderr is not a terminal).

    use std::sync::Arc;
    use std::time::Duration;

    use indicatif::{ProgressBar, ProgressStyle};
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;
    use tokio::time::Instant;

    use crate::load::{Live, Stop, live_rate};

    /// A running progress display.
    pub struct Progress {
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
    }

    /// Starts drawing.
    pub fn start(live: Arc<Live>, stop: Stop) -> Progress {
        let (len, template) = match stop {
            Stop::Requests(n) => (n, "{bar:30} {pos}/{len} requests  {msg}"),
            Stop::Duration(d) => (d.as_millis() as u64, "{bar:30} {elapsed}  {msg}"),
        };
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        let (tx, mut rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let start = Instant::now();
            let mut p99 = None;
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
                match stop {
                    Stop::Requests(_) => bar.set_position(live.completed()),
                    Stop::Duration(_) => bar.set_position(start.elapsed().as_millis() as u64),
                }
                if let Some(latest) = live.take_p99_ms() {
                    p99 = Some(latest);
                }
                let p99 = p99
                    .map(|p| format!("{p:.1} ms"))
                    .unwrap_or_else(|| "-".into());
                bar.set_message(format!("{:.0} req/s  p99 {p99}", live_rate(&live, start)));
            }
            bar.finish_and_clear();
        });
        Progress { stop: tx, task }
    }

    impl Progress {
        /// Stops and clears the bar.
        pub async fn finish(self) {
            let _ = self.stop.send(());
            let _ = self.task.await;
        }
    }
}
