//! Runs checks: the TLS probe first, then the scenarios (built-in and the user's),
//! concurrently where independent, and collects their outcomes into a report.

pub mod compose;
pub mod execute;
pub mod filter;
pub mod recovery;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::check::{CheckResult, Status, Verdict};
use crate::delivery::client::{Client, ClientOptions};
use crate::error::SetupError;
use crate::event::{EnvelopeStyle, EventType, random};
use crate::receiver::{self, ReceiverConfig, RunningReceiver, TlsSetup};
use crate::report::terminal::{self, TerminalOptions};
use crate::report::{Latency, ReportTarget, RunReport, Summary, ToolInfo};
use crate::scenario::Scenario;
use crate::signing::{Secret, SignatureFormat};
use crate::tls_probe;

/// Everything `spotcheck run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The partner endpoint; `None` starts the reference receiver.
    pub endpoint: Option<String>,
    /// Private CA to trust.
    pub ca_cert: Option<PathBuf>,
    /// Extra headers on every delivery.
    pub headers: Vec<(String, String)>,
    /// Per-delivery timeout.
    pub timeout: Duration,
    /// The signing secret (generated for the reference receiver when absent).
    pub secret: Option<Secret>,
    /// Token form.
    pub format: SignatureFormat,
    /// Envelope style.
    pub envelope: EnvelopeStyle,
    /// User scenario files or folders.
    pub scenario_paths: Vec<PathBuf>,
    /// Whether the built-in suites run.
    pub builtin: bool,
    /// `--only` globs.
    pub only: Vec<String>,
    /// `--skip` globs.
    pub skip: Vec<String>,
    /// `--tags`.
    pub tags: Vec<String>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--org-id`.
    pub org_id: Option<String>,
    /// `--events`.
    pub events: Vec<String>,
    /// `--state-url`.
    pub state_url: Option<String>,
    /// `--strict`.
    pub strict: bool,
    /// `--insecure-continue`.
    pub insecure_continue: bool,
    /// Checks run at once.
    pub jobs: usize,
    /// Reports to write.
    pub reports: Vec<ReportTarget>,
    /// Terminal output.
    pub terminal: TerminalOptions,
    /// `--retry-time-scale`: every delay of the `retry.recovers-after-failure`
    /// retries is divided by this ([`recovery::DEFAULT_TIME_SCALE`] by default).
    pub retry_time_scale: f64,
}

/// What every check of one run shares.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The delivery client.
    pub client: Client,
    /// Where deliveries go.
    pub endpoint: String,
    /// The signing secret.
    pub secret: Secret,
    /// Token form.
    pub format: SignatureFormat,
    /// Envelope style.
    pub envelope: EnvelopeStyle,
    /// `audience.organizationId`.
    pub organization_id: String,
    /// Headers on every delivery.
    pub headers: Vec<(String, String)>,
    /// Per-delivery timeout.
    pub timeout: Duration,
    /// Subscribed event types.
    pub events: Vec<EventType>,
    /// The observation URL, if any.
    pub state_url: Option<String>,
    /// The run's seed.
    pub seed: u64,
}

/// Runs `spotcheck run` end to end: set-up, checks, terminal output, reports. Returns the exit code.
pub async fn run_cli(options: RunOptions) -> Result<u8, SetupError> {
    let scenarios = load_scenarios(&options)?;
    let filter = filter::CheckFilter::new(&options.only, &options.skip, &options.tags)?;
    let events = parse_events(&options.events)?;
    let seed = options.seed.unwrap_or_else(random::fresh_seed);
    let mut rng = random::rng_for(seed, "run");
    let secret = match &options.secret {
        Some(secret) => secret.clone(),
        None => Secret::generate(&mut rng),
    };
    let organization_id = options
        .org_id
        .clone()
        .unwrap_or_else(|| random::uuid(&mut rng));

    // The endpoint: the partner's, or the reference receiver in-process.
    let mut receiver: Option<RunningReceiver> = None;
    let mut ca_pem = match &options.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|err| {
            SetupError::new(format!("cannot read --ca-cert {}: {err}", path.display()))
        })?),
        None => None,
    };
    let mut state_url = options.state_url.clone();
    let endpoint = match &options.endpoint {
        Some(endpoint) => endpoint.clone(),
        None => {
            let config = ReceiverConfig {
                secrets: vec![secret.clone()],
                state: true,
                ..ReceiverConfig::default()
            };
            let running = receiver::start(
                config,
                "127.0.0.1:0".parse().expect("loopback address"),
                TlsSetup::Generated,
            )
            .await?;
            ca_pem = running.ca_pem.clone().map(String::into_bytes);
            state_url.get_or_insert_with(|| running.state_url());
            let url = running.webhook_url();
            receiver = Some(running);
            url
        }
    };
    validate_endpoint(&endpoint)?;
    let client = Client::new(&ClientOptions {
        timeout: options.timeout,
        ca_cert_pem: ca_pem.clone(),
        connect_timeout: None,
    })?;
    let context = Arc::new(RunContext {
        client,
        endpoint: endpoint.clone(),
        secret,
        format: options.format,
        envelope: options.envelope,
        organization_id,
        headers: options.headers.clone(),
        timeout: options.timeout,
        events: events.clone(),
        state_url,
        seed,
    });

    if !options.terminal.quiet {
        print!(
            "{}",
            terminal::render_header(&endpoint, receiver.is_some(), seed)
        );
    }
    let started_at = time::OffsetDateTime::now_utc();
    let clock = Instant::now();

    // TLS first: its findings decide whether the delivery suites can run.
    let mut checks: Vec<CheckResult> = Vec::new();
    let mut tls_json = None;
    let mut blocked: Option<String> = None;
    let mut cut_short = false;
    let tls_wanted = tls_probe::check_infos()
        .iter()
        .any(|info| filter.selects(info));
    if tls_wanted {
        let report = tls_probe::probe(
            &endpoint,
            &tls_probe::ProbeOptions {
                timeout: options.timeout.min(Duration::from_secs(10)),
                ca_cert_pem: ca_pem.clone(),
            },
        )
        .await?;
        if !options.insecure_continue {
            blocked = tls_probe::certificate_blocks_delivery(&report);
        }
        checks.extend(
            tls_probe::checks(&report)
                .into_iter()
                .filter(|c| filter.selects(&c.info)),
        );
        tls_json = serde_json::to_value(&report).ok();
    }

    let selected: Vec<Scenario> = scenarios
        .into_iter()
        .filter(|s| filter.selects(&s.info()))
        .collect();
    match &blocked {
        Some(reason) => {
            for scenario in &selected {
                checks.push(CheckResult::new(
                    scenario.info(),
                    Verdict::Skipped(format!(
                        "{reason}; delivery checks skipped (--insecure-continue runs them anyway)"
                    )),
                    Duration::ZERO,
                    Vec::new(),
                ));
            }
        }
        None => {
            let slots: execute::Slots = Arc::new(std::sync::Mutex::new(vec![None; selected.len()]));
            let run = execute::run_scenarios(&selected, &context, options.jobs, &slots);
            tokio::pin!(run);
            tokio::select! {
                () = &mut run => {}
                _ = tokio::signal::ctrl_c() => {
                    cut_short = true;
                    eprintln!("interrupted: finishing exchanges in flight (1 s at most), then writing reports");
                    let _ = tokio::time::timeout(Duration::from_secs(1), &mut run).await;
                }
            }
            let finished = slots.lock().map(|s| s.clone()).unwrap_or_default();
            for (scenario, result) in selected.iter().zip(finished) {
                checks.push(result.unwrap_or_else(|| interrupted(scenario.info())));
            }
        }
    }

    // After the scenarios: retry the first delivery that failed, on Spotnana's schedule.
    let recovery_info = recovery::info();
    if filter.selects(&recovery_info) {
        let result = match &blocked {
            Some(reason) => CheckResult::new(
                recovery_info,
                Verdict::Skipped(format!("{reason}; delivery checks skipped")),
                Duration::ZERO,
                Vec::new(),
            ),
            None if cut_short => interrupted(recovery_info),
            None => {
                let run = recovery::run(&checks, &context, options.retry_time_scale);
                tokio::select! {
                    result = run => result,
                    _ = tokio::signal::ctrl_c() => interrupted(recovery::info()),
                }
            }
        };
        checks.push(result);
    }

    if let Some(running) = receiver.take() {
        running.shutdown().await;
    }
    let latency = Latency::of(
        checks
            .iter()
            .flat_map(|c| &c.exchanges)
            .filter(|e| e.response.is_some() && e.request.method == "POST")
            .map(|e| e.duration)
            .collect(),
    );
    let summary = Summary::of(&checks, options.strict);
    let report = RunReport {
        tool: ToolInfo::current(),
        endpoint,
        reference_receiver: options.endpoint.is_none(),
        seed,
        started_at: crate::event::envelope::format_timestamp(started_at),
        duration_ms: clock.elapsed().as_millis() as u64,
        events: events.iter().map(|e| e.as_str().to_owned()).collect(),
        strict: options.strict,
        summary,
        checks,
        tls: tls_json,
        latency,
    };
    print!("{}", terminal::render(&report, options.terminal));
    let mut failed_write = false;
    for target in &options.reports {
        if let Err(err) = target.write(&report) {
            eprintln!(
                "error: cannot write report {}: {err}",
                target.path.display()
            );
            failed_write = true;
        }
    }
    if failed_write {
        return Ok(crate::exit::SETUP);
    }
    Ok(report.exit_code())
}

fn load_scenarios(options: &RunOptions) -> Result<Vec<Scenario>, SetupError> {
    let mut scenarios = if options.builtin {
        crate::scenario::builtin()
    } else {
        Vec::new()
    };
    for path in &options.scenario_paths {
        let loaded =
            crate::scenario::load_path(path).map_err(|err| SetupError::new(err.render(false)))?;
        scenarios.extend(loaded);
    }
    let mut seen = std::collections::HashSet::new();
    for scenario in &scenarios {
        if !seen.insert(scenario.id.clone()) {
            return Err(
                SetupError::new(format!("check id `{}` is defined twice", scenario.id))
                    .with_hint("give each scenario file its own id"),
            );
        }
    }
    Ok(scenarios)
}

fn parse_events(raw: &[String]) -> Result<Vec<EventType>, SetupError> {
    if raw.is_empty() {
        return Ok(EventType::ALL.to_vec());
    }
    raw.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<EventType>()
                .map_err(|err| SetupError::new(format!("--events: {err}")))
        })
        .collect()
}

/// Refuses URLs spotcheck cannot or must not send to.
pub fn validate_endpoint(endpoint: &str) -> Result<(), SetupError> {
    let url = reqwest::Url::parse(endpoint).map_err(|err| {
        SetupError::new(format!("--endpoint `{endpoint}` is not a URL: {err}"))
            .with_hint("write the full URL, e.g. https://staging.partner.example/webhooks")
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(SetupError::new(format!(
            "--endpoint scheme `{}` is not supported; Spotnana delivers over https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(SetupError::new(format!(
            "--endpoint `{endpoint}` has no host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SetupError::new(
            "--endpoint carries credentials in the URL; pass them with --header instead",
        ));
    }
    Ok(())
}

/// Marks checks the run did not reach (interrupted) — used when a run is cut short.
pub fn interrupted(info: crate::check::CheckInfo) -> CheckResult {
    let mut result = CheckResult::new(
        info,
        Verdict::Skipped("run interrupted".into()),
        Duration::ZERO,
        Vec::new(),
    );
    result.status = Status::Interrupted;
    result
}
