//! `spotcheck tls URL`: the TLS probe alone.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::check::{CheckResult, Status};
use crate::cli::common::{ClientCertArgs, parse_duration};
use crate::cli::wording::tls_target_error;
use crate::error::{SetupError, exit};
use crate::target::{Target, TargetSpec};
use crate::tls_probe::{self, TlsReport};

/// Options of `spotcheck tls`.
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// The endpoint URL, e.g. `https://partner.example/webhooks`.
    #[arg(value_name = "URL")]
    pub url: String,
    /// PEM file with a private CA to trust besides the system roots.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Time allowed for each handshake, TCP connection included.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Print the report and the checks as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Client certificate for mutual TLS (presented by the handshakes when asked for).
    #[command(flatten)]
    pub client_cert: ClientCertArgs,
    /// Name overrides and proxy.
    #[command(flatten)]
    pub route: super::route::RouteArgs,
}

/// The JSON form of `spotcheck tls --json`.
#[derive(Debug, Serialize)]
struct JsonOutput<'a> {
    /// Whether no required check failed.
    conformant: bool,
    tls: &'a TlsReport,
    checks: &'a [CheckResult],
}

/// [`tls_probe::probe_url`] with its typed [`tls_probe::ProbeError`] worded for the
/// command line (the wording names the flags; the probe does not know them).
pub async fn probe(url: &str, options: &tls_probe::ProbeOptions) -> Result<TlsReport, SetupError> {
    tls_probe::probe_url(url, options)
        .await
        .map_err(SetupError::from)
}

/// Runs `spotcheck tls`: exit 0 when no required check failed, 1 otherwise, 2 for a bad
/// URL or CA file.
pub async fn run(args: TlsArgs) -> Result<u8, SetupError> {
    let spec = TargetSpec {
        endpoint: Some(args.url.clone()),
        ca_cert: args.ca_cert.clone(),
        client_cert: args.client_cert.files()?,
        routes: args.route.routes()?,
        ..TargetSpec::default()
    };
    let target = Target::build(spec).await.map_err(tls_target_error)?;
    let report =
        tls_probe::probe_url(target.endpoint(), &target.probe_options(args.timeout)).await?;
    let checks = tls_probe::checks(&report);
    let conformant = !checks.iter().any(|c| c.status == Status::Fail);
    if args.json {
        let output = JsonOutput {
            conformant,
            tls: &report,
            checks: &checks,
        };
        let text = serde_json::to_string_pretty(&output)
            .map_err(|err| SetupError::new(format!("cannot write the JSON report: {err}")))?;
        outln!("{text}");
    } else {
        out!("{}", crate::report::tls::render_text(&report, &checks));
    }
    Ok(if conformant {
        exit::CONFORMANT
    } else {
        exit::NOT_CONFORMANT
    })
}
