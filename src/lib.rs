//! spotcheck: the conformance harness and mock sender for Spotnana webhooks.
//!
//! The library holds everything; the `spotcheck` binary is a thin clap front.
//! Data flows one way: scenario → planned delivery → signed request → exchange
//! record → check outcome → report.
//!
//! A partner's own Rust tests can sign events without the CLI:
//!
//! ```
//! use spotcheck::event::{self, EnvelopeStyle, EventKind, EventSpec, random};
//! use spotcheck::signing::{Secret, SignatureFormat, SignedHeaders, Verifier};
//!
//! let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! // A realistic PNR_V3 event, the same for the same seed.
//! let mut rng = random::rng(42);
//! let kind: EventKind = "PNR_V3/BOOKING_TICKETED".parse()?;
//! let event = event::build_event(
//!     &EventSpec {
//!         kind,
//!         organization_id: "6f1c2a9e-0000-4000-8000-000000000001",
//!         message_time: time::OffsetDateTime::now_utc(),
//!         style: EnvelopeStyle::EventType,
//!         pnr_id: None,
//!     },
//!     &mut rng,
//! );
//! let body = serde_json::to_vec(&event)?;
//!
//! // The three headers Spotnana sends.
//! let now = spotcheck::signing::unix_now();
//! let headers = SignedHeaders::new(&[&secret], "msg_1", now, &body, SignatureFormat::V1);
//! assert!(headers.signature.starts_with("v1,"));
//!
//! // What a receiver does with them.
//! let verifier = Verifier::new(vec![secret]);
//! let form = verifier.verify(
//!     Some(&headers.id),
//!     Some(&headers.timestamp),
//!     Some(&headers.signature),
//!     &body,
//!     now,
//! )?;
//! assert_eq!(form, SignatureFormat::V1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Delivering it as Spotnana would (one attempt, recorded as an
//! [`delivery::exchange::Exchange`]):
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use spotcheck::delivery::{Client, ClientOptions};
//! use spotcheck::delivery::request::signed_attempt;
//! use spotcheck::signing::{Secret, SignatureFormat};
//!
//! let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let client = Client::new(&ClientOptions::default())?;
//! let mut rng = spotcheck::event::random::rng(1);
//! let attempt = signed_attempt(
//!     "https://staging.partner.example/webhooks",
//!     &[&secret],
//!     "msg_1",
//!     spotcheck::signing::unix_now(),
//!     bytes::Bytes::from_static(br#"{"eventType":"PNR_V3"}"#),
//!     SignatureFormat::V1,
//!     &[],
//!     &mut rng,
//! );
//! let exchange = client.send(&attempt).await;
//! println!("{}", exchange.outcome_text());
//! # Ok(()) }
//! ```

/// `println!` for the command's own output that does not panic when stdout is closed
/// (`spotcheck … | head`): the line is dropped and the command goes on, so reports
/// are still written and the exit code still tells the verdict. The text goes through
/// the run's redactor ([`redact`]) first.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stdout().lock(), "{}", $crate::redact::text(&text));
    }};
}

/// `print!` that does not panic when stdout is closed (see `outln!`), redacted.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{}", $crate::redact::text(&text));
        let _ = stdout.flush();
    }};
}

/// `eprintln!` through the run's redactor ([`redact`]): every line the commands write
/// to stderr (errors, notes, diagnostics) passes it.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stderr().lock(), "{}", $crate::redact::text(&text));
    }};
}

/// `eprint!` through the run's redactor (see `errln!`).
macro_rules! errout {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{}", $crate::redact::text(&text));
        let _ = stderr.flush();
    }};
}

pub mod atomic_file;
pub mod check;
pub mod cli;
pub mod coverage;
pub mod delivery;
pub mod diagnose;
pub mod error;
pub mod event;
pub mod hardening;
pub mod load;
pub mod outcome;
pub mod project;
pub mod receiver;
pub mod redact;
pub mod replay;
pub mod report;
pub mod route;
pub mod runner;
pub mod scenario;
pub mod sender;
pub mod signing;
pub mod target;
pub mod tls;
pub mod tls_probe;
pub mod units;
pub mod wire;

pub use error::{SetupError, exit};

/// Installs the process-wide rustls crypto provider (aws-lc-rs). Safe to call more than once.
pub fn init_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
