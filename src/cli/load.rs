//! `spotcheck load`: sustained signed deliveries at a concurrency or a rate, with
//! throughput, status counts, error classes and latency percentiles.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use hyper::header::{HeaderName, HeaderValue};

use super::common::{FormatArgs, SecretArgs, TargetArgs, parse_duration, parse_headers};
use super::stop::{Interrupt, StopSignal};
use crate::delivery::request::check_custom_headers;
use crate::error::{SetupError, exit};
use crate::event::random;
use crate::load::engine::{self, LoadError, LoadRun, LoadSink, Ready};
use crate::load::mix::{self, MixError};
pub use crate::load::plan::{
    DEFAULT_CONCURRENCY, DEFAULT_DURATION, DEFAULT_MAX_RATE, DEFAULT_P99_BUDGET,
    DEFAULT_START_RATE, DEFAULT_STEP, MAX_CONCURRENCY,
};
use crate::load::plan::{LoadPlan, Shape};
use crate::load::profile::Profile;
use crate::load::ramp::{RampOptions, RampReport, Step};
use crate::load::{Live, LoadReport, Stop, WeightedKind, report_merge};
use crate::report::load as text;
use crate::report::progress::Progress;
use crate::runner::Cancel;

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
    /// Client threads, each running its share of the connections (default: one per
    /// core; half the cores, rounded up, when the endpoint is on loopback, so that a
    /// server on the same machine keeps the rest, as `wrk -t 1` does on two cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(std::num::NonZeroUsize))]
    pub threads: Option<std::num::NonZeroUsize>,
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

/// Parses a share from 0 to 1.
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(format!("`{text}` is not a share from 0 to 1, e.g. 0.05")),
    }
}

/// Parses the `--events` mix (the grammar is the load layer's; the wording is here).
pub fn parse_mix(text: &str) -> Result<Vec<WeightedKind>, SetupError> {
    mix::parse(text).map_err(|err| match err {
        MixError::Empty => SetupError::new("--events names no event")
            .with_hint("e.g. --events PNR_V3/BOOKING_TICKETED=3,TRIP"),
        err => SetupError::new(format!("--events: {err}")),
    })
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

/// Runs `spotcheck load` (or `spotcheck load merge`): builds the plan from the
/// flags, lets the engine carry it out while this sink announces it and draws the
/// progress, then prints the summary, writes the reports and picks the exit code.
pub async fn run(args: LoadArgs) -> Result<u8, SetupError> {
    if let Some(LoadAction::Merge(merge)) = args.action {
        return run_merge(merge);
    }
    // The HTML charts are of one run over time; a --find-max search is many runs.
    let paths = report_paths(&args.report, !args.find_max)?;
    let mut plan = plan(&args, &paths)?;
    // Ctrl-C, SIGTERM and SIGHUP end the load as its duration would: the summary is
    // printed and every report written, then the exit code names the signal.
    let interrupt = Interrupt::listen();
    plan.stop = interrupt.cancel.clone();
    let mut sink = Front {
        progress: None,
        quiet: args.quiet,
    };
    let code = match engine::run(plan, &mut sink).await? {
        LoadRun::Fixed(report) => finish(&report, &paths)?,
        LoadRun::FindMax(report) => find_max_finish(&report, &paths)?,
    };
    Ok(interrupt.stopped_by().map_or(code, StopSignal::exit_code))
}

/// The plan of `spotcheck load` from its flags.
fn plan(args: &LoadArgs, paths: &ReportPaths) -> Result<LoadPlan, SetupError> {
    let profile = args.profile.unwrap_or_default();
    let mix = match &args.events {
        Some(text) => parse_mix(text)?,
        None => profile.mix(),
    };
    let custom = parse_headers(&args.target.headers)?;
    check_custom_headers(&custom)?;
    let headers = custom
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
    // takes any (the engine makes one up when none is given).
    let secret = if args.target.endpoint.is_some() {
        Some(args.secret.require()?)
    } else {
        args.secret.load()?
    };
    let concurrency = args.concurrency as usize;
    let shape = if args.find_max {
        Shape::FindMax(RampOptions {
            start_rate: args.rate.unwrap_or(DEFAULT_START_RATE),
            max_rate: args.max_rate.unwrap_or(DEFAULT_MAX_RATE),
            step: args.step.unwrap_or(DEFAULT_STEP),
            p99_budget: args.p99_budget.unwrap_or(DEFAULT_P99_BUDGET),
            expect_peak: args.expect_peak,
            concurrency,
            timeout: args.target.timeout,
            seed,
            threads: args.threads,
        })
    } else {
        Shape::Fixed {
            concurrency,
            rate: args.rate,
            stop: match (args.requests, args.duration) {
                (Some(n), _) => Stop::Requests(n),
                (None, Some(d)) => Stop::Duration(d),
                (None, None) => Stop::Duration(DEFAULT_DURATION),
            },
        }
    };
    Ok(LoadPlan {
        target: args
            .target
            .spec(crate::receiver::ReceiverConfig::default())?,
        secret,
        mix,
        profile: args.profile,
        envelope: args.format.envelope,
        signature_format: args.format.signature_format,
        headers,
        redeliver_ratio: args.redeliver_ratio,
        seed,
        threads: args.threads,
        timeout: args.target.timeout,
        shape,
        series: paths.html.is_some(),
        live: !args.quiet,
        peak_memory: args.verbose,
        stop: Cancel::new().1,
    })
}

/// The terminal side of a load: the announcement, the progress bar, each search step.
struct Front {
    progress: Option<Progress>,
    quiet: bool,
}

impl LoadSink for Front {
    fn ready(&mut self, ready: &Ready<'_>) {
        let endpoint = ready.endpoint;
        if ready.reference {
            outln!(
                "no --endpoint: loading the built-in reference receiver at {endpoint} (in this process, sharing its CPU)"
            );
        }
        if ready.plain {
            outln!(
                "note: {endpoint} is plain http://; Spotnana delivers only over HTTPS (TLS 1.2+), so this measures a local test setup"
            );
        }
        match ready.shape {
            Shape::FindMax(options) => outln!(
                "load --find-max: {endpoint}, from {} req/s up to {} req/s, steps of {}, p99 budget {}, at most {} connections on {}",
                options.start_rate,
                options.max_rate,
                humantime::format_duration(options.step),
                humantime::format_duration(options.p99_budget),
                options.concurrency,
                client_threads(ready.threads)
            ),
            Shape::Fixed {
                concurrency,
                rate,
                stop,
            } => {
                let model = match rate {
                    Some(rate) => {
                        format!("open model, {rate} req/s, at most {concurrency} in flight")
                    }
                    None => format!("closed model, concurrency {concurrency}"),
                };
                let threads = client_threads(ready.threads);
                let what = match stop {
                    Stop::Requests(n) => format!("{n} requests"),
                    Stop::Duration(d) => humantime::format_duration(*d).to_string(),
                };
                outln!(
                    "load: {what} to {endpoint} ({model}, {threads}), {} event kinds, mean body {} bytes, seed {}",
                    ready.mix.len(),
                    ready.mean_body_bytes,
                    ready.seed
                );
            }
        }
    }

    fn started(&mut self, live: Option<&Arc<Live>>, stop: Stop) {
        if let Some(live) = live.filter(|_| !self.quiet) {
            self.progress = Some(Progress::load(live.clone(), stop));
        }
    }

    fn stopped(&mut self) {
        if let Some(progress) = self.progress.take() {
            progress.finish();
        }
    }

    fn step(&mut self, step: &Step) {
        outln!("{}", text::step_line(step));
    }
}

/// `1 client thread`, `4 client threads`.
fn client_threads(threads: usize) -> String {
    if threads == 1 {
        "1 client thread".to_owned()
    } else {
        format!("{threads} client threads")
    }
}

impl From<LoadError> for SetupError {
    fn from(err: LoadError) -> SetupError {
        match err {
            LoadError::Target(err) => err.into(),
            LoadError::Connector(err) => err.into(),
        }
    }
}

/// Ends `spotcheck load --find-max`: the sustainable rate and, with --expect-peak, the
/// verdict; the JSON report; the exit code.
fn find_max_finish(report: &RampReport, paths: &ReportPaths) -> Result<u8, SetupError> {
    out!("{}", text::render_ramp(report));
    if let Some(path) = &paths.json {
        let json = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_owned());
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
    out!("{}", text::render_text(report));
    if let Some(path) = &paths.json {
        write_report(path, &report.to_json())?;
    }
    if let Some(path) = &paths.html {
        write_report(path, &crate::report::load_html::render(report))?;
    }
    Ok(if report.requests > 0 && report.ok == report.requests {
        exit::CONFORMANT
    } else {
        if !report.interrupted {
            outln!("not every request was answered 200 OK");
        }
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
