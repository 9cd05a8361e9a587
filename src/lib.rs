//! spotcheck: the conformance harness and mock sender for Spotnana webhooks.
//!
//! The library holds everything; the `spotcheck` binary is a thin clap front.
//! Data flows one way: scenario → planned delivery → signed request → exchange
//! record → check outcome → report.

pub mod check;
pub mod cli;
pub mod delivery;
pub mod error;
pub mod event;
pub mod load;
pub mod receiver;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod signing;
pub mod tls_probe;

pub use error::{SetupError, exit};

/// Installs the process-wide rustls crypto provider (aws-lc-rs). Safe to call more than once.
pub fn init_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
