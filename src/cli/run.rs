//! `spotcheck run`: the conformance suites against an endpoint (or the built-in
//! reference receiver), with reports and an exit code for CI.

use std::path::PathBuf;

use clap::Args;

use super::common::{FormatArgs, SecretArgs, TargetArgs};
use crate::error::SetupError;
use crate::report::ReportTarget;
use crate::runner::{self, RunOptions};

/// Options of `spotcheck run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    secret: SecretArgs,
    #[command(flatten)]
    format: FormatArgs,
    #[command(flatten)]
    oauth: super::oauth::OAuthArgs,
    /// Extra scenario files or folders (repeatable), run after the built-in suites.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    scenarios: Vec<PathBuf>,
    /// Run only the user scenarios (and the TLS probe), not the built-in suites.
    #[arg(long)]
    no_builtin: bool,
    /// Only checks whose id matches one of these globs (repeatable, comma-separated).
    #[arg(long, value_name = "GLOB", value_delimiter = ',')]
    only: Vec<String>,
    /// Skip checks whose id matches one of these globs (repeatable, comma-separated).
    #[arg(long, value_name = "GLOB", value_delimiter = ',')]
    skip: Vec<String>,
    /// Only checks carrying one of these tags (comma-separated).
    #[arg(long, value_name = "TAG", value_delimiter = ',')]
    tags: Vec<String>,
    /// Run only the K-th of N deterministic shares of the selected checks (spread a suite over CI runners).
    #[arg(long, value_name = "K/N")]
    shard: Option<crate::runner::filter::Shard>,
    /// Seed for every generated id and payload; the same seed replays the same bytes.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Organization id in `audience.organizationId` (default: a seeded UUID).
    #[arg(long, value_name = "ID")]
    org_id: Option<String>,
    /// Subscribed event types (comma-separated; default: all six).
    #[arg(long, value_name = "TYPE", value_delimiter = ',')]
    events: Vec<String>,
    /// Partner read-back URL for observation checks (what the endpoint processed).
    #[arg(long, value_name = "URL")]
    state_url: Option<String>,
    /// Write a report: `json=PATH`, `junit=PATH`, `markdown=PATH` (`-` for stdout); repeatable.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    reports: Vec<String>,
    /// Warnings (failed recommended checks) fail the run too.
    #[arg(long)]
    strict: bool,
    /// Run the delivery suites even when the certificate does not verify (deliveries then
    /// accept the certificate; the tls.* checks still report it).
    #[arg(long)]
    insecure_continue: bool,
    /// How many checks run at the same time.
    #[arg(long, value_name = "N", default_value_t = 4)]
    jobs: usize,
    /// Show every exchange of every check.
    #[arg(long, short, conflicts_with = "quiet")]
    verbose: bool,
    /// Show only failures and the summary.
    #[arg(long, short)]
    quiet: bool,
    /// Divide every delay of the retry.recovers-after-failure retries by N (1 or more; the
    /// default replays Spotnana's two weeks in about 12 s; the check stops after 6 × --timeout or 30 s).
    #[arg(long, value_name = "N", default_value_t = crate::runner::recovery::DEFAULT_TIME_SCALE, value_parser = crate::delivery::retry::parse_time_scale)]
    retry_time_scale: f64,
    /// Colour: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

/// Runs `spotcheck run`.
pub async fn run(args: RunArgs) -> Result<u8, SetupError> {
    let reports = args
        .reports
        .iter()
        .map(|r| ReportTarget::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let secret = match &args.target.endpoint {
        Some(_) => Some(args.secret.require()?),
        None => args.secret.load()?,
    };
    let options = RunOptions {
        endpoint: args.target.endpoint.clone(),
        ca_cert: args.target.ca_cert.clone(),
        headers: super::common::parse_headers(&args.target.headers)?,
        timeout: args.target.timeout,
        secret,
        format: args.format.signature_format,
        envelope: args.format.envelope,
        scenario_paths: args.scenarios.clone(),
        builtin: !args.no_builtin,
        only: args.only.clone(),
        skip: args.skip.clone(),
        tags: args.tags.clone(),
        shard: args.shard,
        seed: args.seed,
        org_id: args.org_id.clone(),
        events: args.events.clone(),
        state_url: args.state_url.clone(),
        strict: args.strict,
        insecure_continue: args.insecure_continue,
        jobs: args.jobs.max(1),
        reports,
        terminal: crate::report::terminal::TerminalOptions {
            color: crate::report::terminal::use_color(&args.color),
            verbose: args.verbose,
            quiet: args.quiet,
        },
        oauth: args.oauth.options(args.target.endpoint.is_some())?,
        no_hmac: args.oauth.no_hmac,
        retry_time_scale: args.retry_time_scale,
        client_identity: args.target.client_cert.load()?,
    };
    runner::run_cli(options).await
}
