//! What the sender tells its front while it sends ([`SendEvent`]), and the trait
//! a front implements to hear it ([`SendSink`]).

use std::path::Path;

use crate::delivery::exchange::{Exchange, RequestRecord};
use crate::delivery::oauth::OAuthConfig;
use crate::delivery::retry::{AttemptReport, RetryPolicy};
use crate::delivery::retry_or_park::RetryOutcome;
use crate::delivery::verdict::DeliveryVerdict;

/// What the engine tells its front while it sends, in this order: per message
/// (`LifecycleEvent` or `MessageStarted` first, when there is one) either `Sending`
/// then `Answered`, or `RetryStarted`, one `Attempt` per answered attempt, then
/// `RetryFinished`.
#[derive(Debug)]
pub enum SendEvent<'a> {
    /// There was no endpoint: the in-process reference receiver was started and every
    /// message goes to it.
    ReferenceReceiver {
        /// Its URL.
        endpoint: &'a str,
    },
    /// `send --lifecycle`: the story about to be delivered.
    LifecycleStarted {
        /// The lifecycle's name.
        name: &'a str,
        /// How many events it has.
        events: usize,
        /// The booking's `pnrId`.
        pnr: &'a str,
        /// Whether the events go out shuffled.
        shuffled: bool,
    },
    /// `send --lifecycle`: one event of the story, before it is sent.
    LifecycleEvent {
        /// 1-based position in the sending order.
        number: usize,
        /// How many events the story has.
        total: usize,
        /// The event's envelope.
        event: &'a serde_json::Value,
    },
    /// `redeliver`: the parked message about to be sent.
    MessageStarted {
        /// The parked file it came from.
        source: &'a Path,
        /// Its webhook id (the original one).
        webhook_id: &'a str,
        /// Where it goes.
        endpoint: &'a str,
    },
    /// One delivery (no retry) is about to go out.
    Sending {
        /// The OAuth client's settings when the delivery carries a bearer token.
        oauth: Option<&'a OAuthConfig>,
        /// The request as recorded (credentials redacted).
        request: &'a RequestRecord,
    },
    /// That delivery's answer and Spotnana's verdict on it.
    Answered {
        /// The exchange.
        exchange: &'a Exchange,
        /// Whether Spotnana counts it as delivered, and why not.
        verdict: &'a DeliveryVerdict,
    },
    /// A retry sequence starts.
    RetryStarted {
        /// The policy followed.
        policy: &'a RetryPolicy,
        /// Every delay is divided by this.
        time_scale: f64,
        /// Where every attempt goes.
        endpoint: &'a str,
        /// The webhook id every attempt carries.
        webhook_id: &'a str,
    },
    /// One attempt of the sequence was answered (or failed).
    Attempt(&'a AttemptReport),
    /// The retry sequence ended.
    RetryFinished {
        /// How.
        outcome: &'a RetryOutcome,
        /// The webhook id every attempt carried.
        webhook_id: &'a str,
        /// How many attempts the policy makes at most.
        attempts_at_most: usize,
    },
}

/// Receives the engine's events (the front's printout; a test's recorder).
pub trait SendSink {
    /// One event.
    fn event(&mut self, event: SendEvent<'_>);
}
