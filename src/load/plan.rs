//! What a load run is asked to do, decided by the front from its flags: the plan the
//! engine ([`super::engine::run`]) carries out. Plain data, no flag names.

use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};

use super::Stop;
use super::mix::WeightedKind;
use super::profile::Profile;
use super::ramp::RampOptions;
use crate::event::EnvelopeStyle;
use crate::runner::cancel::Cancel;
use crate::signing::{Secret, SignatureFormat};
use crate::target::TargetSpec;

/// Default number of connections.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// Most connections allowed.
pub const MAX_CONCURRENCY: usize = 4096;
/// Default run length when neither a duration nor a request count is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// Default p99 budget of a search: Spotnana's fast-acknowledgement threshold.
pub const DEFAULT_P99_BUDGET: Duration = Duration::from_secs(1);
/// Default step length of a search.
pub const DEFAULT_STEP: Duration = Duration::from_secs(5);
/// Default first rate of a search.
pub const DEFAULT_START_RATE: f64 = 50.0;
/// Default highest rate of a search.
pub const DEFAULT_MAX_RATE: f64 = 10_000.0;
/// The reference receiver's queue when it is the load's target: room for bursts (it
/// acknowledges first and processes later).
pub const RECEIVER_QUEUE: usize = 65_536;

/// A load run to carry out.
#[derive(Debug)]
pub struct LoadPlan {
    /// The endpoint (or none: the reference receiver, which the engine sizes and
    /// gives the run's secret, whatever `reference` says).
    pub target: TargetSpec,
    /// The signing secret. `None` only without an endpoint: the reference receiver
    /// takes any secret, so one is made up from the seed.
    pub secret: Option<Secret>,
    /// The event mix.
    pub mix: Vec<WeightedKind>,
    /// The traffic profile, when one was chosen (it spreads the bodies; the mix is
    /// already the profile's when no mix was given).
    pub profile: Option<Profile>,
    /// Envelope spelling.
    pub envelope: EnvelopeStyle,
    /// Signature token form.
    pub signature_format: SignatureFormat,
    /// Custom headers, already checked against the reserved ones.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Share of requests that redeliver an earlier one.
    pub redeliver_ratio: Option<f64>,
    /// Seed for ids and body choice (a shard's own already).
    pub seed: u64,
    /// Client threads (`--threads`; `None`: one per core).
    pub threads: Option<std::num::NonZeroUsize>,
    /// Per-request timeout, connecting included.
    pub timeout: Duration,
    /// One run, or a search for the highest sustained rate.
    pub shape: Shape,
    /// Record the figures over time (for charts).
    pub series: bool,
    /// Record live figures (for a progress display).
    pub live: bool,
    /// Measure spotcheck's own peak resident memory.
    pub peak_memory: bool,
    /// Raised when the load must end early (a stop signal): the requests in flight
    /// are abandoned, as at the end of a duration, and what was measured until then
    /// is reported, marked interrupted.
    pub stop: Cancel,
}

/// How the load is driven.
#[derive(Debug, Clone)]
pub enum Shape {
    /// One run: closed model (`rate` none) or open model.
    Fixed {
        /// Connections; in the open model, the most requests in flight.
        concurrency: usize,
        /// Open model: requests per second.
        rate: Option<f64>,
        /// When to stop.
        stop: Stop,
    },
    /// Fixed-rate steps up to the highest rate the endpoint sustains.
    FindMax(RampOptions),
}
