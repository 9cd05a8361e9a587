//! `spotcheck run`: the conformance suites against an endpoint (or the built-in
//! reference receiver), with reports and an exit code for CI.
//!
//! The front of the engine ([`crate::runner::run`]): the flags, the scenarios and
//! their warnings, the stop signals (Ctrl-C, SIGTERM, SIGHUP), everything shown on
//! the terminal, the report files and the exit code are decided here; the engine only
//! runs checks and tells what happens.

use std::path::PathBuf;

use clap::Args;

use super::common::{FormatArgs, SecretArgs, TargetArgs};
use super::stop::{Interrupt, StopSignal, StopSignals};
use crate::error::{SetupError, exit};
use crate::event::Subscription;
use crate::outcome::RunVerdict;
use crate::receiver::ReceiverConfig;
use crate::replay::Replay;
use crate::report::output::ReportTarget;
use crate::report::progress::Progress;
use crate::report::terminal::{self, TerminalOptions};
use crate::runner::filter::CheckFilter;
use crate::runner::{self, Interruption, RunEvent, RunOptions, RunPlan, RunSink};
use crate::scenario::Scenario;

/// Options of `spotcheck run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    secret: SecretArgs,
    #[command(flatten)]
    format: FormatArgs,
    #[command(flatten)]
    pub(crate) oauth: super::oauth::OAuthArgs,
    /// Extra scenario files or folders (repeatable), run after the built-in suites.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    scenarios: Vec<PathBuf>,
    #[command(flatten)]
    files: super::scenario_files::ScenarioFileArgs,
    /// Run only the user scenarios (and the TLS probe), not the built-in suites (nor
    /// payload.schema-variants-accepted).
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
    /// Run only the K-th of N deterministic shares of the selected checks (spread a suite over CI runners);
    /// `auto` reads the runner's index and total from GitLab, CircleCI or Buildkite, `auto/N` a Kubernetes
    /// Indexed Job's JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "K/N|auto")]
    shard: Option<super::shard::ShardArg>,
    /// Seed for every generated id and payload; the same seed replays the same bytes.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Organization id in `audience.organizationId` (default: a seeded UUID); repeatable:
    /// the subscription's organization filter, every delivery goes to one of them (the
    /// first is the run's own).
    #[arg(long, value_name = "ID")]
    org_id: Vec<String>,
    /// Subscribed event types, comma-separated (default: all six), each `TYPE` (every
    /// operation) or `TYPE:OPERATION+OPERATION` (only those), e.g.
    /// `PNR_V3:BOOKING_CREATED+BOOKING_TICKETED,TRAVELER_V2`.
    #[arg(long, value_name = "TYPE[:OP+OP]", value_delimiter = ',')]
    events: Vec<String>,
    /// Partner read-back URL for observation checks (what the endpoint processed).
    #[arg(long, value_name = "URL")]
    pub(crate) state_url: Option<String>,
    /// Header on every observation of --state-url, and only there, `Name: value`
    /// (repeatable): the read-back endpoint's own credentials (--header values go to the
    /// endpoint only). Values are never shown.
    #[arg(long = "state-header", value_name = "NAME: VALUE")]
    pub(crate) state_headers: Vec<String>,
    /// Write a report: `json=PATH`, `junit=PATH`, `markdown=PATH`, `tap=PATH` (TAP 14),
    /// `html=PATH` (self-contained sign-off page) or `github=PATH` (GitHub Actions
    /// annotations); `-` for stdout; repeatable.
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
    /// How many payloads payload.schema-variants-accepted generates from Spotnana's
    /// published schemas and delivers (1 to 10000; seeded by --seed).
    #[arg(long, value_name = "N", default_value_t = crate::runner::variants::DEFAULT_COUNT, value_parser = crate::runner::variants::parse_count)]
    variants: usize,
    /// Let scenario `exec` steps run their programs (without it, checks that run a
    /// program are skipped: scenario files from elsewhere never run programs silently).
    #[arg(long)]
    allow_exec: bool,
    /// Coverage goals, comma-separated `KEY=PERCENT` with KEY one of `operations`,
    /// `products`, `enums`, `schema` (e.g. `operations=100%,schema=60%`): a run whose
    /// coverage falls short is not conformant (exit 1, reason `below-min-coverage`).
    #[arg(long, value_name = "KEY=N%,…", value_parser = parse_min_coverage)]
    min_coverage: Option<crate::coverage::MinCoverage>,
    /// Send no diagnosis probes: by default, when a check fails in a way the endpoint
    /// can be asked about (correctly signed deliveries refused, a rotation header
    /// refused in one position, some body styles or operations refused, a narrow
    /// replay window), a few more deliveries find out and name exactly what is wrong.
    #[arg(long)]
    no_diagnose: bool,
    /// Under each failed or warned check, print its last request as a `curl` command
    /// (headers and body as sent; header and query values, and the OAuth client secret,
    /// as `$SPOTCHECK_…` references: see docs/security.md).
    #[arg(long)]
    export_curl: bool,
    /// Read this project file instead of the `spotcheck.toml` found from the working
    /// directory upward (see the README's "Project file").
    #[arg(long, value_name = "PATH", conflicts_with = "no_project")]
    project: Option<PathBuf>,
    /// Read no project file.
    #[arg(long)]
    no_project: bool,
    /// Which defaulted flags were typed (set by the front after parsing).
    #[arg(skip)]
    pub(crate) given: super::project::Given,
    /// Colour: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

/// Runs `spotcheck run`: loads the scenarios, hands the engine the run and a stop
/// signal, shows its progress, renders the terminal report, writes the report files
/// and maps the outcome to the exit code.
pub async fn run(mut args: RunArgs) -> Result<u8, SetupError> {
    if let Some(project) = super::project::find(args.project.as_deref(), args.no_project)? {
        let flags = super::project::RunFlags {
            target: &mut args.target,
            secret: &mut args.secret,
            events: &mut args.events,
            org_id: &mut args.org_id,
            reports: &mut args.reports,
            min_coverage: &mut args.min_coverage,
            given: args.given,
        };
        super::project::apply(&project, flags);
        // The file's endpoint and headers are credentials like the flags' (registered
        // before the file was read): the redactor learns them too.
        super::credentials::target(&args.target);
    }
    let reports = args
        .reports
        .iter()
        .map(|r| ReportTarget::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let secret = args.secret.for_target(args.target.endpoint.is_some())?;
    let terminal = TerminalOptions {
        color: terminal::use_color(&args.color),
        verbose: args.verbose,
        quiet: args.quiet,
        export_curl: args.export_curl,
    };
    let headers = super::common::parse_headers(&args.target.headers)?;
    let state_headers = super::common::parse_state_headers(&args.state_headers)?;
    let shard = super::common::resolve_shard(args.shard)?;
    let options = RunOptions {
        target: args.target.spec(ReceiverConfig::default())?,
        headers,
        state_headers,
        timeout: args.target.timeout,
        secret,
        format: args.format.signature_format,
        envelope: args.format.envelope,
        builtin: !args.no_builtin,
        seed: args.seed,
        subscription: Subscription::default(),
        state_url: args.state_url.clone(),
        strict: args.strict,
        insecure_continue: args.insecure_continue,
        jobs: args.jobs.max(1),
        oauth: args.oauth.options(args.target.endpoint.is_some())?,
        no_hmac: args.oauth.no_hmac,
        retry_time_scale: args.retry_time_scale,
        variants: args.variants,
        allow_exec: args.allow_exec,
        exec_hide_env: std::iter::once(args.secret.secret_env.clone())
            .chain(args.oauth.secret.oauth_client_secret_env.clone())
            .collect(),
        diagnose: !args.no_diagnose,
        min_coverage: args.min_coverage.unwrap_or_default(),
    };

    let interrupt = Interrupt::listen();
    let scenarios = load_scenarios(
        &args.scenarios,
        &args.files,
        options.builtin,
        args.state_url.as_deref(),
    )?;
    let mut filter = CheckFilter::new(&args.only, &args.skip, &args.tags)?;
    if let Some(shard) = shard {
        let ids: Vec<String> = runner::check_infos(&scenarios, options.builtin)
            .into_iter()
            .filter(|info| filter.selects(info))
            .map(|info| info.id)
            .collect();
        filter = filter.sharded(shard, ids);
    }
    let options = RunOptions {
        subscription: subscription(&args.events, &args.org_id)?,
        ..options
    };
    let plan = RunPlan {
        options,
        scenarios,
        filter,
    };

    // A report written to stdout (`--report json=-`) keeps stdout for itself: the
    // terminal output goes to stderr then.
    let mut front = Front {
        report_on_stdout: reports.iter().any(|target| target.path.as_os_str() == "-"),
        quiet: terminal.quiet,
        progress: None,
        done: 0,
        signals: interrupt.signals.clone(),
    };
    let mut report = runner::run(plan, &mut front, &interrupt.cancel)
        .await
        .map_err(SetupError::from)?;
    report.replay = replay(&args, shard);
    // Infrastructure, not a finding: said once, on stderr, like any error.
    if let Some(unreachable) = &report.unreachable {
        errln!("error: {}", unreachable.summary());
    }
    front.show(terminal::render(&report, terminal));
    let mut failed_write = false;
    for target in &reports {
        if let Err(err) = target.write(&report) {
            errln!(
                "error: cannot write report {}: {err}",
                target.path.display()
            );
            failed_write = true;
        }
    }
    if failed_write {
        return Ok(exit::SETUP);
    }
    if let Some(signal) = interrupt.stopped_by() {
        return Ok(signal.exit_code());
    }
    Ok(exit_code(report.summary.verdict()))
}

/// The exit code of `spotcheck run` for the run's verdict.
fn exit_code(verdict: RunVerdict) -> u8 {
    match verdict {
        RunVerdict::Conformant => exit::CONFORMANT,
        RunVerdict::NotConformant => exit::NOT_CONFORMANT,
        RunVerdict::Error | RunVerdict::Unreachable => exit::SETUP,
        RunVerdict::Interrupted => exit::INTERRUPTED,
    }
}

/// The terminal side of a run: the header, the progress bar over the scenarios and
/// the "interrupted" lines, from the engine's events.
struct Front {
    /// Whether a report goes to stdout, so the terminal output goes to stderr.
    report_on_stdout: bool,
    /// `--quiet`: no header and no progress bar.
    quiet: bool,
    /// The bar while scenarios run.
    progress: Option<Progress>,
    /// Scenarios finished so far.
    done: usize,
    /// The stop signals, to name the one that interrupted the run.
    signals: StopSignals,
}

impl Front {
    /// `interrupted`, or `interrupted (SIGTERM)` when another signal than Ctrl-C
    /// stopped the run.
    fn interrupted(&self) -> String {
        match self.signals.received() {
            Some(signal) if signal != StopSignal::Interrupt => {
                format!("interrupted ({})", signal.name())
            }
            _ => "interrupted".to_owned(),
        }
    }

    /// Prints the command's own output where it goes (see `report_on_stdout`).
    fn show(&self, text: String) {
        if self.report_on_stdout {
            errout!("{text}");
        } else {
            out!("{text}");
        }
    }
}

impl RunSink for Front {
    fn event(&mut self, event: RunEvent<'_>) {
        match event {
            RunEvent::RunStarted {
                endpoint,
                reference_receiver,
                seed,
            } => {
                if !self.quiet {
                    self.show(terminal::render_header(endpoint, reference_receiver, seed));
                }
            }
            RunEvent::ScenariosStarted { total } => {
                self.progress = Some(Progress::new(total, !self.quiet));
            }
            RunEvent::CheckStarted(_) => {
                if let Some(progress) = &mut self.progress {
                    progress.update(self.done);
                }
            }
            RunEvent::CheckFinished(_) => {
                if let Some(progress) = &mut self.progress {
                    self.done += 1;
                    progress.update(self.done);
                }
            }
            RunEvent::ScenariosFinished => {
                if let Some(progress) = self.progress.take() {
                    progress.finish();
                }
            }
            RunEvent::Interrupted(Interruption::TlsProbe) => {
                errln!("{}: writing reports", self.interrupted());
            }
            RunEvent::Interrupted(Interruption::Scenarios { grace }) => {
                if let Some(progress) = &self.progress {
                    progress.finish();
                }
                errln!(
                    "{}: finishing exchanges in flight ({} s at most), then writing reports",
                    self.interrupted(),
                    grace.as_secs()
                );
            }
            RunEvent::CheckDiagnosed(_) | RunEvent::RunFinished(_) => {}
        }
    }
}

/// The scenarios of the run (the user's, then the built-in ones), their override
/// warnings printed. Every `observe` URL is held to `state_url`'s origin here, before
/// anything is sent (absolute ones are refused without `--state-url`).
fn load_scenarios(
    paths: &[PathBuf],
    files: &super::scenario_files::ScenarioFileArgs,
    builtin: bool,
    state_url: Option<&str>,
) -> Result<Vec<Scenario>, SetupError> {
    // The loader's diagnostics already say what and where (file:line:column).
    let mistakes =
        |err: crate::scenario::ScenarioError| SetupError::new(err.render(use_stderr_color()));
    if let Some(url) = state_url {
        crate::scenario::observe::origin_of(url).map_err(|err| {
            SetupError::new(format!("--state-url: {err}")).with_hint(
                "give your read-back endpoint's URL, e.g. https://partner.example/spotcheck-state",
            )
        })?;
    }
    // All problems of all files at once; ids must be unique among them.
    let user = if paths.is_empty() {
        Vec::new()
    } else {
        crate::scenario::load_paths_with(paths, &files.options()).map_err(mistakes)?
    };
    crate::scenario::check_origins(&user, state_url).map_err(mistakes)?;
    // What all of them may send together (the same check as `scenarios check`).
    crate::scenario::check_run_budget(&user, builtin, &files.limits()).map_err(mistakes)?;
    let scenarios = if builtin {
        crate::scenario::with_builtin(user).map_err(mistakes)?
    } else {
        user
    };
    // Payload overrides Spotnana's schema rejects: said, never fatal.
    let warnings: Vec<crate::scenario::Problem> = scenarios
        .iter()
        .flat_map(|s| s.warnings.iter().cloned())
        .collect();
    errout!(
        "{}",
        crate::scenario::diagnostic::render_warnings(&warnings, use_stderr_color())
    );
    Ok(scenarios)
}

fn use_stderr_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// `--events` and `--org-id`: the subscription (every type and operation when no
/// `--events` is given).
fn subscription(events: &[String], orgs: &[String]) -> Result<Subscription, SetupError> {
    Subscription::parse(events, orgs.to_vec()).map_err(|err| {
        SetupError::new(format!("--events: {err}")).with_hint(
            "write TYPE (every operation) or TYPE:OPERATION+OPERATION, comma-separated, \
             e.g. --events 'PNR_V3:BOOKING_CREATED+BOOKING_TICKETED,TRAVELER_V2'",
        )
    })
}

/// The flags of this run a replay must repeat: everything that changes the bytes
/// sent, the target, which deliveries happen or the verdict; never a secret (only
/// where it comes from). A whole-run check (judged over every delivery of the run)
/// also keeps the selection (`--only`, `--skip`, `--tags`, `--shard`, `--no-builtin`):
/// it decides which delivery fails first.
///
/// Every argument struct is destructured without `..` (here, and in each struct's
/// `replay_into` in `common.rs`, `oauth.rs`, `route.rs`): a new flag does not compile
/// until it is either repeated or listed as not changing what is sent.
fn replay(args: &RunArgs, shard: Option<crate::runner::filter::Shard>) -> Replay {
    let RunArgs {
        target,
        secret,
        format,
        oauth,
        scenarios,
        files,
        no_builtin,
        only,
        skip,
        tags,
        // Replayed as the share it resolved to (`auto` reads the environment).
        shard: _,
        // The replay's own `--seed` is written by `Replay::command`.
        seed: _,
        org_id,
        events,
        state_url,
        state_headers,
        // Presentation and output files: what is sent does not depend on them.
        reports: _,
        verbose: _,
        quiet: _,
        export_curl: _,
        color: _,
        strict,
        insecure_continue,
        // Scheduling only: a check that measures time runs alone whatever --jobs.
        jobs: _,
        retry_time_scale,
        variants,
        allow_exec,
        no_diagnose,
        // A goal over the whole run's coverage: what is sent does not depend on it.
        min_coverage: _,
        // The project file has been applied to the flags above, which are replayed.
        project: _,
        no_project: _,
        given: _,
    } = args;
    let mut replay = Replay {
        endpoint: target.endpoint.clone(),
        args: Vec::new(),
        ca_cert: target.ca_cert.clone(),
        ..Replay::default()
    };
    target.replay_into(&mut replay);
    secret.replay_into(&mut replay);
    format.replay_into(&mut replay);
    oauth.replay_into(&mut replay);
    let path = |p: &PathBuf| p.display().to_string();
    for scenarios in scenarios {
        replay.push("--scenarios", &path(scenarios));
    }
    for (flag, value) in files.replay_flags() {
        replay.push(flag, &value);
    }
    for org in org_id {
        replay.push("--org-id", org);
    }
    if !events.is_empty() {
        replay.push("--events", &events.join(","));
    }
    if let Some(url) = state_url {
        replay.push_url("--state-url", url, crate::replay::STATE_URL_ENV);
    }
    // Every --state-header value is a credential: the command reads it from a variable.
    for (name, _) in super::common::parse_state_headers(state_headers).unwrap_or_default() {
        replay.args.push("--state-header".into());
        replay
            .args
            .push(super::common::state_header_reference(&name));
    }
    if *strict {
        replay.push_flag("--strict");
    }
    if *insecure_continue {
        replay.push_flag("--insecure-continue");
    }
    if *allow_exec {
        replay.push_flag("--allow-exec");
    }
    if *no_diagnose {
        replay.push_flag("--no-diagnose");
    }
    if *retry_time_scale != crate::runner::recovery::DEFAULT_TIME_SCALE {
        replay.push("--retry-time-scale", &retry_time_scale.to_string());
    }
    if *variants != crate::runner::variants::DEFAULT_COUNT {
        replay.push("--variants", &variants.to_string());
    }
    // The selection, for a whole-run check only (a single check's replay selects it
    // with `--only ID`).
    if !only.is_empty() {
        replay.push_selection("--only", &only.join(","));
    }
    if !skip.is_empty() {
        replay.push_selection("--skip", &skip.join(","));
    }
    if !tags.is_empty() {
        replay.push_selection("--tags", &tags.join(","));
    }
    if let Some(shard) = shard {
        replay.push_selection("--shard", &format!("{}/{}", shard.index, shard.count));
    }
    if *no_builtin {
        replay.push_selection_flag("--no-builtin");
    }
    replay
}

/// `--min-coverage`'s value, worded for clap.
fn parse_min_coverage(text: &str) -> Result<crate::coverage::MinCoverage, String> {
    crate::coverage::MinCoverage::parse(text).map_err(|err| err.to_string())
}
