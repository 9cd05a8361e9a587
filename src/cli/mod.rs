//! The command-line front: clap definitions and one module per command.
//!
//! Each command module owns its `Args` and a `run` function returning an exit code
//! or a [`SetupError`] (exit 2).

pub mod common;
pub mod completions;
pub mod credentials;
pub mod load;
pub mod oauth;
pub mod printout;
pub mod project;
pub mod redeliver;
pub mod route;
pub mod run;
pub mod scenario_files;
pub mod scenarios;
pub mod send;
pub mod serve;
pub mod shard;
pub mod sign;
pub mod stop;
pub mod timeline;
pub mod tls;
pub mod verify;
pub mod wording;

use clap::{Parser, Subcommand};

use crate::error::{SetupError, exit};

/// Conformance harness and mock sender for Spotnana webhooks.
#[derive(Debug, Parser)]
#[command(name = "spotcheck", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Example:\n  spotcheck completions bash > ~/.local/share/bash-completion/completions/spotcheck"
    )]
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  spotcheck man > spotcheck.1 && man ./spotcheck.1")]
    Man(completions::ManArgs),
    /// Run the conformance suites against --endpoint (or the built-in reference receiver).
    #[command(
        after_help = "Example:\n  spotcheck run --endpoint https://staging.partner.example/webhooks --report junit=spotcheck.xml"
    )]
    Run(Box<run::RunArgs>),
    /// Send one signed event like Spotnana would and print the exchange.
    #[command(
        after_help = "Example:\n  spotcheck send PNR_V3/BOOKING_TICKETED --endpoint https://staging.partner.example/webhooks"
    )]
    Send(send::SendArgs),
    /// Run the reference receiver: verifies, acknowledges at once, deduplicates, logs.
    #[command(after_help = "Example:\n  spotcheck serve --listen 127.0.0.1:8443")]
    Serve(Box<serve::ServeArgs>),
    /// Send parked messages (written by `send --retry`) again with their original webhook ids.
    #[command(
        after_help = "Example:\n  spotcheck redeliver --endpoint https://staging.partner.example/webhooks spotcheck-parked/*.json"
    )]
    Redeliver(redeliver::RedeliverArgs),
    /// Compute the signature headers of a body.
    #[command(
        after_help = "Example:\n  spotcheck sign event.json --id msg_2f1c --timestamp 1735689600"
    )]
    Sign(sign::SignArgs),
    /// Check the signature headers of a body and explain each step of a mismatch.
    #[command(
        after_help = "Example:\n  spotcheck verify event.json --now 1735689600 --header 'x-spotnana-webhook-id: msg_2f1c' \\\n    --header 'x-spotnana-webhook-timestamp: 1735689600' --header 'x-spotnana-webhook-signature: v1,…'"
    )]
    Verify(verify::VerifyArgs),
    /// Lint scenario files and list every check.
    #[command(after_help = "Example:\n  spotcheck scenarios check my-scenarios/")]
    Scenarios(scenarios::ScenariosArgs),
    /// Probe an endpoint's TLS: versions accepted and refused, certificate, the tls.* checks.
    #[command(after_help = "Example:\n  spotcheck tls https://staging.partner.example/webhooks")]
    Tls(tls::TlsArgs),
    /// Load an endpoint with freshly signed events at a concurrency or a rate: throughput, statuses, latency percentiles.
    #[command(
        after_help = "Example:\n  spotcheck load --endpoint https://staging.partner.example/webhooks --rate 200/s --duration 30s"
    )]
    Load(Box<load::LoadArgs>),
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> u8 {
    crate::init_crypto();
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    // Which defaulted flags of `run` were typed, so the project file fills only the rest.
    if let Command::Run(args) = &mut cli.command
        && let Some(("run", sub)) = matches.subcommand()
    {
        args.given = project::Given::from_matches(sub);
    }
    register_credentials(&cli.command);
    // A panic's message may quote a value: it goes through the redactor like any line.
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        errln!("thread '{}' {info}", thread.name().unwrap_or("<unnamed>"));
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            errln!("{backtrace}");
        }
    }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            errln!("error: cannot start the async runtime: {err}");
            return exit::SETUP;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => run::run(*args).await,
            Command::Completions(args) => {
                completions::run(args, <Cli as clap::CommandFactory>::command()).await
            }
            Command::Man(args) => {
                completions::run_man(args, <Cli as clap::CommandFactory>::command()).await
            }
            Command::Send(args) => send::run(args).await,
            Command::Serve(args) => serve::run(*args).await,
            Command::Redeliver(args) => redeliver::run(args).await,
            Command::Sign(args) => sign::run(args).await,
            Command::Verify(args) => verify::run(args).await,
            Command::Scenarios(args) => scenarios::run(args).await,
            Command::Tls(args) => tls::run(args).await,
            Command::Load(args) => load::run(*args).await,
        }
    });
    // Do not wait for lingering connections or blocking tasks at exit.
    runtime.shutdown_background();
    match result {
        Ok(code) => code,
        Err(err) => {
            report_setup_error(&err);
            exit::SETUP
        }
    }
}

/// Tells the run's redactor the credential values of `command`'s arguments before it
/// starts (see `credentials.rs`): `--endpoint`, `--header`, `--oauth-token-url`,
/// `--state-url`, `tls URL`. `verify`'s `--header` flags are the received request's
/// headers, which it is there to show, so they are not registered.
fn register_credentials(command: &Command) {
    match command {
        Command::Run(args) => {
            credentials::target(&args.target);
            credentials::url(args.oauth.oauth_token_url.as_deref());
            credentials::url(args.state_url.as_deref());
            credentials::headers(&args.state_headers);
        }
        Command::Send(args) => {
            credentials::target(&args.target);
            credentials::url(args.oauth.oauth_token_url.as_deref());
        }
        Command::Load(args) => credentials::target(&args.target),
        Command::Redeliver(args) => {
            credentials::url(args.endpoint.as_deref());
            credentials::headers(&args.headers);
        }
        Command::Tls(args) => credentials::url(Some(&args.url)),
        _ => {}
    }
}

/// Prints a setup error to stderr.
pub fn report_setup_error(err: &SetupError) {
    errln!("error: {err}");
}
