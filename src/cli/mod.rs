//! The command-line front: clap definitions and one module per command.
//!
//! Each command module owns its `Args` and a `run` function returning an exit code
//! or a [`SetupError`] (exit 2).

pub mod common;
pub mod completions;
pub mod load;
pub mod oauth;
pub mod redeliver;
pub mod run;
pub mod scenarios;
pub mod send;
pub mod serve;
pub mod sign;
pub mod timeline;
pub mod tls;
pub mod verify;

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
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff).
    Man(completions::ManArgs),
    /// Run the conformance suites against --endpoint (or the built-in reference receiver).
    Run(run::RunArgs),
    /// Send one signed event like Spotnana would and print the exchange.
    Send(send::SendArgs),
    /// Run the reference receiver: verifies, acknowledges at once, deduplicates, logs.
    Serve(Box<serve::ServeArgs>),
    /// Send parked messages (written by `send --retry`) again with their original webhook ids.
    Redeliver(redeliver::RedeliverArgs),
    /// Compute the signature headers of a body.
    Sign(sign::SignArgs),
    /// Check the signature headers of a body and explain each step of a mismatch.
    Verify(verify::VerifyArgs),
    /// Lint scenario files and list every check.
    Scenarios(scenarios::ScenariosArgs),
    /// Probe an endpoint's TLS: versions accepted and refused, certificate, the tls.* checks.
    Tls(tls::TlsArgs),
    /// Load an endpoint with freshly signed events at a concurrency or a rate: throughput, statuses, latency percentiles.
    Load(Box<load::LoadArgs>),
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> u8 {
    crate::init_crypto();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return exit::SETUP;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Completions(args) => completions::run(args).await,
            Command::Man(args) => completions::run_man(args).await,
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

/// Prints a setup error to stderr.
pub fn report_setup_error(err: &SetupError) {
    eprintln!("error: {err}");
}
