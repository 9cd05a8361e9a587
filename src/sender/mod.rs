//! The mock sender's engine: `spotcheck send` and `spotcheck redeliver` as plan →
//! outcome, shaped like the run's engine ([`crate::runner::run`]).
//!
//! The front builds a plan ([`SendPlan`], [`RedeliverPlan`]) from its flags; the
//! engine sets up the destination, builds and signs each message, delivers it once or
//! on Spotnana's retry policy, tells a [`SendSink`] what happens as typed
//! [`SendEvent`]s, and returns a [`SendOutcome`]: per message, the verdict of its one
//! exchange or how its retry sequence ended ([`RetryOutcome`](crate::delivery::retry_or_park::RetryOutcome)). The engine prints
//! nothing and picks no exit code: the front words the events and maps the outcome to
//! an exit code, so how a retry ended is a type here, never a number read back.

mod engine;
pub mod events;
pub mod outcome;
pub mod plan;

pub use engine::{SendError, redeliver, send};
pub use events::{SendEvent, SendSink};
pub use outcome::{MessageOutcome, SendOutcome};
pub use plan::{Lifecycle, Message, Mode, Payload, RedeliverPlan, SendPlan, TargetPlan, What};
