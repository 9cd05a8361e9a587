//! `spotcheck serve`: run the reference receiver until Ctrl-C (or SIGTERM, SIGHUP).
//!
//! Without a secret (`--secret-env`/`--secret-file`) a fresh one is generated and
//! printed once to stderr as `generated secret: whsec_…`. This is the one place
//! spotcheck deliberately shows a secret: the user needs it to sign deliveries
//! to this receiver, and nothing else could tell them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::common::{SecretArgs, parse_duration};
use crate::error::{SetupError, exit};
use crate::receiver::{self, ReceiverConfig, TlsSetup};
use crate::target;
use crate::units::{self, SizeError};

/// Where the server certificate comes from when not given as files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsMode {
    /// A fresh local CA and a certificate for localhost, 127.0.0.1 and ::1.
    SelfSigned,
}

/// Options of `spotcheck serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the real one is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Server certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key", conflicts_with_all = ["plain", "tls"])]
    pub tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Generate the certificate (the default when no --tls-cert and no --plain).
    #[arg(long, value_enum, value_name = "MODE", conflicts_with = "plain")]
    pub tls: Option<TlsMode>,
    /// Write the generated CA certificate here, to trust it (e.g. `spotcheck run --ca-cert PATH`).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["plain", "tls_cert"])]
    pub ca_out: Option<PathBuf>,
    /// Serve plain HTTP (local development only: Spotnana requires HTTPS).
    #[arg(long)]
    pub plain: bool,
    /// The signing secret.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Legacy OAuth: a token endpoint and bearer checks.
    #[command(flatten)]
    pub oauth: super::oauth::ServeOAuthArgs,
    /// How far a delivery's timestamp may be from this clock, either way.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub tolerance: Duration,
    /// Expose GET /state, /state/webhooks/{id} and /state/pnrs/{pnrId}.
    #[arg(long)]
    pub state: bool,
    /// Append one JSON line per verified event to this file.
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// Largest body accepted, in bytes (suffixes: KiB, MiB, KB, MB …).
    #[arg(long, value_name = "SIZE", default_value = "4MiB", value_parser = parse_size)]
    pub max_body: usize,
    /// Do not print a summary line per event.
    #[arg(long, short)]
    pub quiet: bool,
    /// Answer 400 with the first violation to a payload that Spotnana's published
    /// schema for its event type rejects (PNR_V3, TRIP_DETAILS_V3, TRAVELER_V2), after
    /// verifying the signature, as a strict partner does.
    #[arg(long)]
    pub validate_payloads: bool,
    /// Keep each booking (PNR) and answer 409 with the reason to an event that
    /// contradicts it (another tripId, a traveler whose name changed, a void or refund
    /// of a ticket never issued, a refund above the fare); an event older than the
    /// held version is answered 200 and not applied.
    #[arg(long)]
    pub stateful: bool,
}

/// Parses `--max-body` with [`units::parse_size`] (the grammar scenario files use
/// too), worded for a command line.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let too_large = || format!("`{text}` is too large");
    match units::parse_size(text) {
        Ok(bytes) => usize::try_from(bytes).map_err(|_| too_large()),
        Err(SizeError::NotANumber) => Err(format!(
            "`{text}` is not a size; write e.g. 4MiB, 100KiB or 65536"
        )),
        Err(SizeError::OutOfRange) => Err(too_large()),
        Err(unit @ SizeError::UnknownUnit(_)) => Err(unit.to_string()),
    }
}

fn read_pem(path: &PathBuf, what: &str) -> Result<String, SetupError> {
    std::fs::read_to_string(path)
        .map_err(|err| SetupError::new(format!("cannot read {what} {}: {err}", path.display())))
}

/// Runs `spotcheck serve`.
pub async fn run(args: ServeArgs) -> Result<u8, SetupError> {
    let oauth = args.oauth.config()?;
    let given = args.secret.load()?;
    let made_up = given.is_none();
    // `serve` has no seed: a made-up secret comes from the operating system's generator.
    let secret = target::secret_or_made_up(given, &mut rand::rng());
    if made_up {
        // The one intended place a secret is shown: the user needs it to sign.
        errln!("generated secret: {}", secret.expose_whsec());
        errln!(
            "  (set {} to it, or pass --secret-env/--secret-file to use your own)",
            args.secret.secret_env
        );
    }
    let tls = if args.plain {
        TlsSetup::Plain
    } else if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        TlsSetup::Pem {
            cert_pem: read_pem(cert, "--tls-cert")?,
            key_pem: read_pem(key, "--tls-key")?,
        }
    } else {
        TlsSetup::Generated
    };
    let config = ReceiverConfig {
        secrets: vec![secret],
        tolerance: Some(args.tolerance),
        max_body_bytes: args.max_body,
        state: args.state,
        log_path: args.log.clone(),
        print_events: !args.quiet,
        oauth: oauth.clone(),
        validate_payloads: args.validate_payloads,
        stateful: args.stateful,
        ..ReceiverConfig::default()
    };
    let running = receiver::start(config, args.listen, tls).await?;
    if let (Some(path), Some(ca_pem)) = (&args.ca_out, &running.ca_pem) {
        std::fs::write(path, ca_pem).map_err(|err| {
            SetupError::new(format!("cannot write --ca-out {}: {err}", path.display()))
        })?;
    }
    outln!("listening on {}", running.webhook_url());
    if args.state {
        outln!("state at {}", running.state_url());
    }
    if let Some(oauth) = &oauth {
        outln!(
            "OAuth token endpoint at {} (client id {}); deliveries need Authorization: Bearer",
            running.token_url(),
            oauth.client_id
        );
    }
    match (&args.ca_out, &running.ca_pem) {
        (Some(path), Some(_)) => outln!("CA certificate written to {}", path.display()),
        (None, Some(_)) => errln!(
            "note: the generated CA is not saved; pass --ca-out PATH to trust it (--ca-cert PATH)"
        ),
        _ => {}
    }
    if args.validate_payloads {
        outln!("validating payloads against Spotnana's published schemas (400 on a violation)");
    }
    if args.stateful {
        outln!(
            "keeping each booking: 409 to an event that contradicts it, older versions accepted and not applied"
        );
    }
    if args.plain {
        errln!("warning: plain HTTP; Spotnana delivers only over HTTPS (TLS 1.2+)");
    }
    wait_for_stop().await;
    errln!("shutting down");
    running.shutdown().await;
    Ok(exit::CONFORMANT)
}

/// Waits for a stop signal: Ctrl-C, SIGTERM or SIGHUP (the receiver then drains its
/// queue and exits 0: stopping is how `serve` ends).
async fn wait_for_stop() {
    super::stop::StopSignals::listen().wait().await;
}

/// The receiver's start failures in this front's words: the flag or file that fixes
/// them named (`run`, `send` and `load` start the same receiver when there is no
/// `--endpoint`).
impl From<receiver::StartError> for SetupError {
    fn from(err: receiver::StartError) -> SetupError {
        let hint = match err.step {
            receiver::StartStep::Listen => {
                Some("pick another --listen address or port (port 0 picks a free one)")
            }
            receiver::StartStep::TlsCertificate => {
                Some("give a PEM certificate chain (leaf first) and its PEM private key")
            }
            _ => None,
        };
        let error = SetupError::new(err.message);
        match hint {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_failures_keep_their_message_and_name_the_fix() {
        let busy = SetupError::from(receiver::StartError {
            step: receiver::StartStep::Listen,
            message: "cannot listen on 127.0.0.1:1: in use".into(),
        });
        assert_eq!(busy.message, "cannot listen on 127.0.0.1:1: in use");
        assert_eq!(
            busy.hint.as_deref(),
            Some("pick another --listen address or port (port 0 picks a free one)")
        );
        let log = SetupError::from(receiver::StartError {
            step: receiver::StartStep::EventLog,
            message: "cannot open the event log x: denied".into(),
        });
        assert_eq!(log.hint, None);
    }

    #[test]
    fn sizes_accept_binary_and_decimal_suffixes() {
        assert_eq!(parse_size("4MiB"), Ok(4 * 1024 * 1024));
        assert_eq!(parse_size("100KiB"), Ok(102_400));
        assert_eq!(parse_size("1 MB"), Ok(1_000_000));
        assert_eq!(parse_size("65536"), Ok(65_536));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(parse_size("4XB").unwrap_err().contains("unit"));
        assert!(
            parse_size("99999999999GiB")
                .unwrap_err()
                .contains("too large")
        );
    }
}
