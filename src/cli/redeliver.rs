//! `spotcheck redeliver FILE…`: sends parked messages (written by `send --retry`)
//! again, with their original webhook ids and bodies and a fresh timestamp and
//! signature, the way Spotnana redelivers a parked message after manual intervention.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::common::{SecretArgs, parse_headers, parse_timeout};
use super::stop::Interrupt;
use super::timeline::Printout;
use crate::delivery::RetryPolicy;
use crate::delivery::destination;
use crate::delivery::exchange::escape_controls;
use crate::delivery::park::{self, ParkError};
use crate::delivery::request::check_custom_headers;
use crate::delivery::retry::{RetryMessage, parse_time_scale};
use crate::error::{SetupError, exit};
use crate::sender::{Mode, RedeliverPlan};
use crate::target::TargetSpec;

/// Options of `spotcheck redeliver`.
#[derive(Debug, Args)]
pub struct RedeliverArgs {
    /// Parked message files (JSON written into `send --retry`'s --park-dir).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Send every file to this URL instead of the endpoint stored in them (without it,
    /// the first file's endpoint; a file naming another endpoint is refused, not sent).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// PEM file with a private CA to trust for the endpoint's certificate.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Header to send, `Name: value` (repeatable): replaces a stored header of that name;
    /// needed for credential headers, which are stored redacted.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Per-delivery timeout, connection set-up included (Spotnana uses 40 s).
    #[arg(long, value_name = "DURATION", default_value = crate::wire::SPOTNANA_TIMEOUT_TEXT.as_str(), value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Client certificate for mutual TLS.
    #[command(flatten)]
    pub client_cert: super::common::ClientCertArgs,
    /// Name overrides and proxy.
    #[command(flatten)]
    pub route: super::route::RouteArgs,
    /// Where the signing secret comes from.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Follow Spotnana's retry policy again for each message instead of sending it once.
    #[arg(long)]
    pub retry: bool,
    /// With --retry: divide every retry delay by N (1 or more).
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_time_scale, requires = "retry")]
    pub time_scale: f64,
    /// With --retry: folder a message is parked in again when every retry failed.
    #[arg(long, value_name = "DIR", default_value = park::DEFAULT_PARK_DIR, requires = "retry")]
    pub park_dir: PathBuf,
}

/// Runs `spotcheck redeliver`: every file is read and checked before anything is sent,
/// and every message goes to one destination (`--endpoint`, or the first file's
/// endpoint): a file naming another endpoint is refused, named and not sent. Exit 0
/// when every message got `200 OK`, 1 otherwise (a refused file included).
pub async fn run(args: RedeliverArgs) -> Result<u8, SetupError> {
    let overrides = parse_headers(&args.headers)?;
    check_custom_headers(&overrides)?;
    let mut files = Vec::new();
    for path in &args.files {
        files.push((path.clone(), park::read(path)?));
    }
    let first = files.first().map(|(path, _)| path.clone());
    let Some(destination) = destination::split(args.endpoint.as_deref(), files) else {
        return Err(SetupError::new("no parked message file given"));
    };
    super::send::check_endpoint(&destination.endpoint)?;
    let mut messages: Vec<(PathBuf, RetryMessage)> = Vec::new();
    for (path, parked) in &destination.accepted {
        let message = parked
            .to_message(Some(&destination.endpoint), &overrides)
            .map_err(|problem| {
                SetupError::new(format!("{}: {}", path.display(), SetupError::from(problem)))
            })?;
        messages.push((path.clone(), message));
    }
    let from = match (&args.endpoint, &first) {
        (Some(_), _) => "--endpoint".to_owned(),
        (None, Some(path)) => format!("the first file, {}", path.display()),
        (None, None) => String::new(),
    };
    outln!(
        "destination: {} (from {from}); every message goes there",
        escape_controls(&destination.endpoint)
    );
    for (path, endpoint) in &destination.refused {
        outln!(
            "{}: refused, not sent: it names {}, not this run's destination; \
             redeliver it in a run of its own, or pass --endpoint",
            path.display(),
            escape_controls(endpoint)
        );
    }
    let secret = args.secret.require()?;
    let spec = TargetSpec {
        endpoint: Some(destination.endpoint.clone()),
        ca_cert: args.ca_cert.clone(),
        client_cert: args.client_cert.files()?,
        routes: args.route.routes()?,
        ..TargetSpec::default()
    };
    let mode = if args.retry {
        Mode::Retry {
            policy: RetryPolicy::default(),
            time_scale: args.time_scale,
            park_dir: args.park_dir.clone(),
        }
    } else {
        Mode::Once
    };
    let plan = RedeliverPlan {
        spec,
        timeout: args.timeout,
        secret,
        messages,
        mode,
    };
    // With --retry, a stop (Ctrl-C, SIGTERM, SIGHUP) parks the message being retried
    // and ends the command.
    let (interrupt, cancel) = Interrupt::when(args.retry);
    let outcome =
        crate::sender::redeliver(plan, &mut Printout { send_seed: None }, &cancel).await?;
    if let Some(stopped) = outcome.messages.iter().find(|m| m.interrupted()) {
        return Ok(super::timeline::exit_code(
            stopped,
            interrupt.as_ref().map(|i| &i.signals),
        ));
    }
    Ok(
        if destination.refused.is_empty() && outcome.all_delivered() {
            exit::CONFORMANT
        } else {
            exit::NOT_CONFORMANT
        },
    )
}

/// A parked file's problem in this front's words: the flags that fix it named
/// (`send` and `redeliver` both write and read parked files).
impl From<ParkError> for SetupError {
    fn from(err: ParkError) -> SetupError {
        match &err {
            ParkError::NotParked { .. } => SetupError::new(err.to_string())
                .with_hint("pass files written by `spotcheck send --retry` into its --park-dir"),
            ParkError::Redacted { name } => {
                SetupError::new(format!("{err}; give it again with --header '{name}: …'"))
            }
            _ => SetupError::new(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parked_file_problems_name_the_flag_that_fixes_them() {
        let redacted = SetupError::from(ParkError::Redacted {
            name: "X-Api-Key".into(),
        });
        assert_eq!(
            redacted.message,
            "header `X-Api-Key` was redacted when the message was parked; \
             give it again with --header 'X-Api-Key: …'"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "[]").unwrap();
        let not_parked = SetupError::from(park::read(&path).unwrap_err());
        assert!(not_parked.message.contains("is not a parked message"));
        assert_eq!(
            not_parked.hint.as_deref(),
            Some("pass files written by `spotcheck send --retry` into its --park-dir")
        );
    }
}
