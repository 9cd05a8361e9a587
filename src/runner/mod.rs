//! Runs checks: the TLS probe first, then the scenarios (built-in and the user's),
//! concurrently where independent, and collects their outcomes into a report.

pub mod compose;
pub mod exec;
pub mod execute;
pub mod filter;
pub mod recovery;
pub mod variants;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::check::{CheckResult, Status, Verdict};
use crate::delivery::client::{Client, ClientOptions};
use crate::delivery::oauth::{ClientSecret, OAuthClient, OAuthConfig};
use crate::error::SetupError;
use crate::event::{EnvelopeStyle, EventType, random};
use crate::receiver::{self, ReceiverConfig, RunningReceiver};
use crate::report::progress::Progress;
use crate::report::terminal::{self, TerminalOptions};
use crate::report::{Latency, ReportTarget, RunReport, Summary, ToolInfo, TransportOutage};
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
    /// `--shard K/N`.
    pub shard: Option<filter::Shard>,
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
    /// Legacy OAuth client credentials; `None`: no bearer tokens, `oauth.*` left out.
    pub oauth: Option<OAuthOptions>,
    /// `--no-hmac`: deliveries carry no signature headers (legacy OAuth-only partners).
    pub no_hmac: bool,
    /// `--retry-time-scale`: every delay of the `retry.recovers-after-failure`
    /// retries is divided by this ([`recovery::DEFAULT_TIME_SCALE`] by default).
    pub retry_time_scale: f64,
    /// `--variants`: how many schema-generated payloads `payload.schema-variants-accepted`
    /// delivers ([`variants::DEFAULT_COUNT`] by default).
    pub variants: usize,
    /// `--allow-exec`: scenario `exec` steps may run programs; without it a check
    /// with an `exec` step is skipped.
    pub allow_exec: bool,
    /// Environment variables `exec` programs must not see (the secret's `--secret-env`,
    /// OAuth secret variables); any variable holding a `whsec_…` value is hidden too.
    pub exec_hide_env: Vec<String>,
    /// The flags a replay of one check repeats (see [`crate::report::repro`]).
    pub replay: crate::report::repro::Replay,
    /// `--client-cert`/`--client-key`: presented to a mutual-TLS endpoint by the TLS
    /// probe and every delivery (not to the built-in reference receiver).
    pub client_identity: Option<tls_probe::ClientIdentity>,
    /// Whether failed checks the endpoint can be asked about get a diagnosis
    /// (`false` with `--no-diagnose`; see [`crate::diagnose`]).
    pub diagnose: bool,
}

/// The legacy OAuth settings of a run.
#[derive(Debug, Clone)]
pub struct OAuthOptions {
    /// The partner's token URL; `None` only with the reference receiver (its own).
    pub token_url: Option<String>,
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (redacted).
    pub client_secret: ClientSecret,
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
    /// Legacy OAuth: fetches, caches and attaches bearer tokens to deliveries.
    pub oauth: Option<OAuthClient>,
    /// Whether deliveries carry the HMAC signature headers (`false` with `--no-hmac`).
    pub hmac: bool,
    /// Whether `exec` steps may run programs (`--allow-exec`).
    pub allow_exec: bool,
    /// Environment variables `exec` programs must not see (see [`RunOptions::exec_hide_env`]).
    pub exec_hide_env: Vec<String>,
    /// Whether deliveries present a client certificate (`--client-cert`).
    pub client_certificate: bool,
}

/// Runs `spotcheck run` end to end: set-up, checks, terminal output, reports. Returns the exit code.
pub async fn run_cli(options: RunOptions) -> Result<u8, SetupError> {
    let interrupt = Interrupt::listen();
    let scenarios = load_scenarios(&options)?;
    let mut filter = filter::CheckFilter::new(&options.only, &options.skip, &options.tags)?;
    if let Some(shard) = options.shard {
        let ids: Vec<String> = tls_probe::check_infos()
            .into_iter()
            .chain(scenarios.iter().map(|s| s.info.clone()))
            .chain(options.builtin.then(variants::info))
            .chain([recovery::info()])
            .filter(|info| filter.selects(info))
            .map(|info| info.id)
            .collect();
        filter = filter.sharded(shard, ids);
    }
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
    let mut token_url = options.oauth.as_ref().and_then(|o| o.token_url.clone());
    let endpoint = match &options.endpoint {
        Some(endpoint) => endpoint.clone(),
        None => {
            let config = ReceiverConfig {
                secrets: vec![secret.clone()],
                state: true,
                oauth: options.oauth.as_ref().map(|o| receiver::OAuthServerConfig {
                    client_id: o.client_id.clone(),
                    client_secret: o.client_secret.clone(),
                }),
                ..ReceiverConfig::default()
            };
            let running = receiver::start_on_loopback(config).await?;
            ca_pem = running.ca_pem.clone().map(String::into_bytes);
            state_url.get_or_insert_with(|| running.state_url());
            if options.oauth.is_some() {
                token_url.get_or_insert_with(|| running.token_url());
            }
            let url = running.webhook_url();
            receiver = Some(running);
            url
        }
    };
    crate::delivery::endpoint::parse_endpoint(&endpoint)?;
    let client_options = ClientOptions {
        timeout: options.timeout,
        ca_cert_pem: ca_pem.clone(),
        connect_timeout: None,
        client_identity: options.client_identity.clone(),
    };
    let client = if options.insecure_continue {
        Client::new_accepting_invalid_certs(&client_options)?
    } else {
        Client::new(&client_options)?
    };
    let oauth = match (&options.oauth, token_url) {
        (Some(o), Some(token_url)) => {
            validate_token_url(&token_url)?;
            Some(OAuthClient::new(
                OAuthConfig {
                    token_url,
                    client_id: o.client_id.clone(),
                    client_secret: o.client_secret.clone(),
                },
                client.clone(),
            ))
        }
        (Some(_), None) => {
            return Err(SetupError::new("OAuth needs the partner's token URL")
                .with_hint("pass --oauth-token-url URL with --endpoint"));
        }
        (None, _) => None,
    };
    // Best effort: a warm token cache keeps later token bursts from racing the
    // deliveries' first fetch. A failure here is what oauth.token-issued reports.
    if let Some(oauth) = &oauth {
        let _ = oauth.bearer().await;
    }
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
        oauth: oauth.clone(),
        hmac: !options.no_hmac,
        allow_exec: options.allow_exec,
        exec_hide_env: options.exec_hide_env.clone(),
        client_certificate: options.client_identity.is_some(),
    });

    // A report written to stdout (`--report json=-`) keeps stdout for itself: the
    // terminal output goes to stderr then.
    let report_on_stdout = options
        .reports
        .iter()
        .any(|target| target.path.as_os_str() == "-");
    let show = |text: String| {
        if report_on_stdout {
            eprint!("{text}");
        } else {
            out!("{text}");
        }
    };
    if !options.terminal.quiet {
        show(terminal::render_header(&endpoint, receiver.is_some(), seed));
    }
    let started_at = time::OffsetDateTime::now_utc();
    let clock = Instant::now();

    // TLS first: its findings decide whether the delivery suites can run.
    let mut checks: Vec<CheckResult> = Vec::new();
    let mut tls_json = None;
    let mut blocked: Option<String> = None;
    let tls_infos: Vec<_> = tls_probe::check_infos()
        .into_iter()
        .filter(|info| filter.selects(info))
        .collect();
    if !tls_infos.is_empty() {
        let probe_options = tls_probe::ProbeOptions {
            timeout: options.timeout.min(Duration::from_secs(10)),
            ca_cert_pem: ca_pem.clone(),
            client_identity: options.client_identity.clone(),
        };
        let probe = tls_probe::probe(&endpoint, &probe_options);
        tokio::select! {
            report = probe => {
                let report = report?;
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
            () = interrupt.wait() => {
                eprintln!("interrupted: writing reports");
                checks.extend(tls_infos.into_iter().map(interrupted));
            }
        }
    }

    let selected: Vec<Scenario> = scenarios
        .into_iter()
        .filter(|s| filter.selects(&s.info))
        // The legacy OAuth suite runs only when OAuth is configured.
        .filter(|s| oauth.is_some() || !s.needs_oauth())
        .collect();
    match &blocked {
        _ if interrupt.is_set() => {
            checks.extend(selected.iter().map(|s| interrupted(s.info.clone())));
        }
        Some(reason) => {
            for scenario in &selected {
                checks.push(CheckResult::new(
                    scenario.info.clone(),
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
            let stop = Arc::new(AtomicBool::new(false));
            let run = execute::run_scenarios(&selected, &context, options.jobs, &slots, &stop);
            tokio::pin!(run);
            let mut progress = Progress::new(selected.len(), !options.terminal.quiet);
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    () = &mut run => break,
                    _ = tick.tick() => progress.update(done(&slots)),
                    () = interrupt.wait() => {
                        // Start nothing new; give exchanges in flight a second to finish.
                        stop.store(true, Ordering::SeqCst);
                        progress.finish();
                        eprintln!("interrupted: finishing exchanges in flight (1 s at most), then writing reports");
                        let _ = tokio::time::timeout(Duration::from_secs(1), &mut run).await;
                        break;
                    }
                }
            }
            progress.finish();
            let finished = slots.lock().map(|s| s.clone()).unwrap_or_default();
            for (scenario, result) in selected.iter().zip(finished) {
                checks.push(result.unwrap_or_else(|| interrupted(scenario.info.clone())));
            }
        }
    }

    // After judging: ask the endpoint what exactly it does wrong.
    if options.diagnose && blocked.is_none() && !interrupt.is_set() {
        tokio::select! {
            () = crate::diagnose::run(&mut checks, &context) => {}
            () = interrupt.wait() => {}
        }
    }

    // After the scenarios, the checks engine-made rather than scenario-made: the
    // schema-generated payloads, then the retry of the first delivery that failed
    // (which may be one of theirs), on Spotnana's schedule.
    // Built in like the suites, so `--no-builtin` leaves it out too.
    let variants_info = variants::info();
    if options.builtin && filter.selects(&variants_info) {
        let run = variants::run(&context, options.variants);
        checks.push(after_scenarios(variants_info, &blocked, &interrupt, run).await);
    }
    let recovery_info = recovery::info();
    if filter.selects(&recovery_info) {
        let run = recovery::run(&checks, &context, options.retry_time_scale);
        checks.push(after_scenarios(recovery_info, &blocked, &interrupt, run).await);
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
    let transport_outage = TransportOutage::of(&checks);
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
        connections: Some(context.client.connection_counts()),
        transport_outage,
        replay: options.replay.clone(),
    };
    show(terminal::render(&report, options.terminal));
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
    if interrupt.is_set() {
        return Ok(crate::exit::INTERRUPTED);
    }
    Ok(report.exit_code())
}

/// Runs a check that follows the scenarios: skipped when the certificate blocked the
/// delivery suites, marked interrupted after Ctrl-C.
async fn after_scenarios(
    info: crate::check::CheckInfo,
    blocked: &Option<String>,
    interrupt: &Interrupt,
    run: impl std::future::Future<Output = CheckResult>,
) -> CheckResult {
    match blocked {
        Some(reason) => CheckResult::new(
            info,
            Verdict::Skipped(format!("{reason}; delivery checks skipped")),
            Duration::ZERO,
            Vec::new(),
        ),
        None if interrupt.is_set() => interrupted(info),
        None => {
            tokio::select! {
                result = run => result,
                () = interrupt.wait() => interrupted(info),
            }
        }
    }
}

/// Ctrl-C (SIGINT), listened for from the start of the run.
struct Interrupt {
    received: tokio::sync::watch::Receiver<bool>,
}

impl Interrupt {
    fn listen() -> Interrupt {
        let (sender, received) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = sender.send(true);
                // Keep the handler installed (a second Ctrl-C must not kill the
                // process while reports are being written) until the run ends.
                std::future::pending::<()>().await;
            }
        });
        Interrupt { received }
    }

    /// Whether Ctrl-C was pressed.
    fn is_set(&self) -> bool {
        *self.received.borrow()
    }

    /// Resolves when Ctrl-C is pressed (never, if the handler could not be installed).
    async fn wait(&self) {
        let mut received = self.received.clone();
        if received.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn done(slots: &execute::Slots) -> usize {
    slots
        .lock()
        .map(|s| s.iter().filter(|r| r.is_some()).count())
        .unwrap_or(0)
}

fn load_scenarios(options: &RunOptions) -> Result<Vec<Scenario>, SetupError> {
    // The loader's diagnostics already say what and where (file:line:column).
    let mistakes =
        |err: crate::scenario::ScenarioError| SetupError::new(err.render(use_stderr_color()));
    // All problems of all files at once; ids must be unique among them.
    let user = if options.scenario_paths.is_empty() {
        Vec::new()
    } else {
        crate::scenario::load_paths(&options.scenario_paths).map_err(mistakes)?
    };
    let scenarios = if options.builtin {
        crate::scenario::with_builtin(user).map_err(mistakes)?
    } else {
        user
    };
    // Payload overrides Spotnana's schema rejects: said, never fatal.
    let warnings: Vec<crate::scenario::Problem> = scenarios
        .iter()
        .flat_map(|s| s.warnings.iter().cloned())
        .collect();
    eprint!(
        "{}",
        crate::scenario::diagnostic::render_warnings(&warnings, use_stderr_color())
    );
    Ok(scenarios)
}

fn use_stderr_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
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

/// Refuses token URLs spotcheck cannot use (the same rules as the endpoint).
fn validate_token_url(url: &str) -> Result<(), SetupError> {
    crate::delivery::endpoint::parse_endpoint(url)
        .map(drop)
        .map_err(|err| {
            let message = SetupError::from(err).message;
            SetupError::new(message.replace("--endpoint", "--oauth-token-url"))
                .with_hint("write the token URL in full, e.g. https://partner.example/oauth/token")
        })
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
