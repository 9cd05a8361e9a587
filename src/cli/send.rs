//! `spotcheck send EVENT/OPERATION`: one signed event, delivered the way Spotnana
//! delivers it, and the exchange printed with a verdict.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::common::{FormatArgs, SecretArgs, TargetArgs, parse_headers, read_input};
use super::stop::Interrupt;
use super::timeline::Printout;
use crate::delivery::RetryPolicy;
use crate::delivery::request::check_custom_headers;
use crate::error::{SetupError, exit};
use crate::event::{self, EventKind, random};
use crate::sender::{Lifecycle, Mode, Payload, SendPlan, TargetPlan, What};

/// Options of `spotcheck send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The event to send, e.g. `PNR_V3/BOOKING_TICKETED` (not needed with --dry-run
    /// or --lifecycle).
    #[arg(value_name = "EVENT/OPERATION", required_unless_present_any = ["dry_run", "lifecycle"])]
    pub event: Option<String>,
    /// Send the whole story of one booking instead of one event: every event of its
    /// lifecycle, each signed, oldest first (one pnrId, trip, travelers and tickets;
    /// version rising with the timestamp).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["event", "payload", "retry"], value_parser = lifecycle_names())]
    pub lifecycle: Option<String>,
    /// With --lifecycle: deliver the events shuffled (a seeded order that is not the
    /// story's), as Spotnana may; the timestamps and versions still tell the order.
    #[arg(long, requires = "lifecycle")]
    pub out_of_order: bool,
    /// Endpoint, CA, custom headers and timeout.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Where the signing secret comes from.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Signature token form and envelope spelling.
    #[command(flatten)]
    pub format: FormatArgs,
    /// Legacy OAuth: bearer token from the partner's token URL.
    #[command(flatten)]
    pub oauth: super::oauth::OAuthArgs,
    /// JSON file (`-` for standard input) merged over the generated event's `payload` object
    /// (RFC 7396: objects merge, `null` removes a key).
    #[arg(long, value_name = "FILE|-")]
    pub payload: Option<PathBuf>,
    /// Replace the generated `payload` object with the --payload JSON instead of merging.
    #[arg(long, requires = "payload")]
    pub replace_payload: bool,
    /// `audience.organizationId` of the event (default: a UUID drawn from the seed);
    /// repeatable: one event per organization, in the order given (`--lifecycle`: one
    /// booking, for the first).
    #[arg(long, value_name = "ID")]
    pub org_id: Vec<String>,
    /// Seed for every generated id and value (default: random; printed so a run can be replayed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Follow Spotnana's retry policy on anything but 200 OK: 5 immediate retries, then
    /// backoff from 1 minute doubling (at most 12 h apart) for 14 days, then park the message.
    #[arg(long)]
    pub retry: bool,
    /// Divide every retry delay by N (1 or more; 100000 replays two weeks in about 12 s).
    #[arg(long, value_name = "N", default_value = "1", value_parser = crate::delivery::retry::parse_time_scale, requires = "retry")]
    pub time_scale: f64,
    /// Print the retry schedule (attempt, offset) and exit without sending.
    #[arg(long, requires = "retry")]
    pub dry_run: bool,
    /// Folder a message is parked in (as JSON) when every retry failed.
    #[arg(long, value_name = "DIR", default_value = crate::delivery::park::DEFAULT_PARK_DIR, requires = "retry")]
    pub park_dir: PathBuf,
}

/// Runs `spotcheck send`: builds the plan from the flags, hands it to the sender
/// ([`crate::sender::send`]) with the printout as its sink, and maps the outcome to
/// the exit code: 0 when every event got `200 OK`, 1 otherwise; with `--retry`, 1 when
/// a message was parked, the stop signal's code when one interrupted the retries.
pub async fn run(args: SendArgs) -> Result<u8, SetupError> {
    if args.dry_run {
        let text = super::timeline::render_schedule(&RetryPolicy::default(), args.time_scale);
        super::timeline::print_flush(&format!("{text}dry run: nothing was sent\n"));
        return Ok(exit::CONFORMANT);
    }
    let what = match &args.lifecycle {
        Some(name) => {
            let Some(lifecycle) = crate::event::story::Lifecycle::named(name) else {
                return Err(SetupError::new(format!("unknown lifecycle `{name}`")));
            };
            What::Lifecycle(Lifecycle {
                lifecycle,
                // One booking belongs to one organization: the first given.
                organization: args.org_id.first().cloned(),
                shuffled: args.out_of_order,
            })
        }
        None => event_plan(&args)?,
    };
    let custom_headers = parse_headers(&args.target.headers)?;
    check_custom_headers(&custom_headers)?;
    let target = target_plan(&args)?;
    let mode = if args.retry {
        Mode::Retry {
            policy: RetryPolicy::default(),
            time_scale: args.time_scale,
            park_dir: args.park_dir.clone(),
        }
    } else {
        Mode::Once
    };
    let seed = args.seed.unwrap_or_else(random::fresh_seed);
    let plan = SendPlan {
        seed,
        target,
        what,
        format: args.format.signature_format,
        envelope: args.format.envelope,
        custom_headers,
        mode,
    };
    // With --retry, a stop (Ctrl-C, SIGTERM, SIGHUP) parks the message being retried
    // instead of losing it.
    let (interrupt, cancel) = Interrupt::when(args.retry);
    let mut printout = Printout {
        send_seed: Some(seed),
    };
    let outcome = crate::sender::send(plan, &mut printout, &cancel).await?;
    let signals = interrupt.as_ref().map(|i| &i.signals);
    // The worst message's code is the command's: an interruption, then a refusal.
    Ok(outcome
        .messages
        .iter()
        .map(|message| super::timeline::exit_code(message, signals))
        .max()
        .unwrap_or(exit::CONFORMANT))
}

/// `send EVENT/OPERATION`: the event, its organizations and the `--payload` (whose
/// values Spotnana's schema rejects are warned about, and sent anyway).
fn event_plan(args: &SendArgs) -> Result<What, SetupError> {
    let kind: EventKind = args
        .event
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|err: event::UnknownEvent| SetupError::new(err.to_string()))?;
    let payload = match &args.payload {
        Some(path) => {
            let patch = read_payload(path)?;
            for violation in
                crate::scenario::overrides::payload_violations(kind, &patch, args.replace_payload)
            {
                errln!("{}", override_warning(path, kind, &violation));
            }
            Some(Payload {
                patch,
                replace: args.replace_payload,
            })
        }
        None => None,
    };
    Ok(What::Event {
        kind,
        organizations: args.org_id.clone(),
        payload,
    })
}

/// The destination: the endpoint (refused before anything is sent when it is not an
/// `http(s)://` URL or carries credentials) with the partner's secret, or the built-in
/// reference receiver with the secret from the environment or one drawn from the seed;
/// the OAuth client's settings; the trust store and client identity.
fn target_plan(args: &SendArgs) -> Result<TargetPlan, SetupError> {
    let oauth = args.oauth.options(args.target.endpoint.is_some())?;
    if let Some(endpoint) = &args.target.endpoint {
        // The same refusals as `run` (scheme, no host, credentials in the URL)
        // first, so a password in the URL is never sent nor echoed in the printout.
        check_endpoint(endpoint)?;
    }
    let secret = args.secret.for_target(args.target.endpoint.is_some())?;
    if let Some(token_url) = oauth.as_ref().and_then(|o| o.token_url.as_deref()) {
        check_endpoint(token_url).map_err(|err| {
            SetupError::new(err.message.replace("--endpoint", "--oauth-token-url"))
        })?;
    }
    Ok(TargetPlan {
        spec: args
            .target
            .spec(crate::receiver::ReceiverConfig::default())?,
        timeout: args.target.timeout,
        secret,
        oauth,
        hmac: !args.oauth.no_hmac,
    })
}

/// The lifecycles `--lifecycle` takes, each with what it tells (shown by `--help`).
fn lifecycle_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::event::story::Lifecycle::ALL
            .iter()
            .map(|l| clap::builder::PossibleValue::new(l.name).help(l.about)),
    )
}

/// Checks that the endpoint is an absolute `http(s)://` URL; notes on stderr when it is
/// plain HTTP (Spotnana delivers over HTTPS only).
pub fn check_endpoint(endpoint: &str) -> Result<(), SetupError> {
    let url = crate::delivery::endpoint::parse_endpoint(endpoint)?;
    if url.scheme() == "http" {
        errln!(
            "note: {endpoint} is plain http://; Spotnana delivers only over HTTPS (TLS 1.2+), \
             so use this for a local dev server only"
        );
    }
    Ok(())
}

/// One warning line for a `--payload` value Spotnana's schema rejects (sent anyway).
fn override_warning(
    path: &std::path::Path,
    kind: EventKind,
    violation: &crate::event::schema::Violation,
) -> String {
    format!(
        "warning: --payload {}: {} = {} is not what Spotnana sends for {} ({allowed}); sending it anyway",
        path.display(),
        if violation.pointer.is_empty() {
            "/"
        } else {
            &violation.pointer
        },
        violation.value,
        kind.event_type.as_str(),
        allowed = violation.allowed_text()
    )
}

fn read_payload(path: &std::path::Path) -> Result<Value, SetupError> {
    let bytes = read_input(path)?;
    serde_json::from_slice(&bytes).map_err(|err| {
        SetupError::new(format!(
            "--payload {} is not valid JSON: {err}",
            path.display()
        ))
    })
}
