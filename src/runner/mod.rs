//! The engine: runs checks — the TLS probe first, then the scenarios (built-in and the
//! user's), concurrently where independent, then the whole-run checks — and collects
//! their outcomes into a [`RunReport`](crate::outcome::RunReport), telling a
//! [`RunSink`] what happens as it happens. What to show, which files to write and
//! which exit code to pick are the front's (`cli/`).

pub mod bookings;
pub mod cancel;
pub mod catalogue;
pub mod compose;
pub mod context;
pub mod engine;
pub mod error;
pub mod events;
pub mod exec_step;
pub mod filter;
mod judge;
pub mod options;
pub mod reach;
pub mod recovery;
pub mod scenarios;
pub mod setup;
pub mod steps;
pub mod variants;

pub use cancel::{Cancel, CancelTrigger};
pub use context::RunContext;
pub use engine::{check_infos, run};
pub use error::RunError;
pub use events::{Interruption, RunEvent, RunSink};
pub use options::{OAuthOptions, RunOptions, RunPlan};
