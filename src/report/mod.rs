//! Reports: the formats that render a run's outcome.
//!
//! Reports know nothing of how an outcome was produced: they read a
//! [`RunReport`], whose data model lives in
//! [`crate::outcome`] (re-exported here under its old paths).

pub mod coverage;
pub mod curl;
pub mod diagnosis;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod load;
pub mod load_html;
pub mod markdown;
pub mod notes;
pub mod output;
pub mod progress;
pub mod repro;
pub mod tap;
pub mod terminal;
pub mod tls;
pub mod wording;
pub mod write;

pub use crate::outcome::{Latency, RunReport, RunVerdict, Summary, ToolInfo, TransportOutage};
