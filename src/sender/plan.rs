//! What the front asks the sender to do: where to ([`TargetPlan`]), what
//! ([`What`]: one event per organization, or one booking's lifecycle; or parked
//! messages for [`RedeliverPlan`]) and how ([`Mode`]: once, or on the retry policy).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::delivery::RetryPolicy;
use crate::delivery::retry::RetryMessage;
use crate::event::{EnvelopeStyle, EventKind};
use crate::runner::OAuthOptions;
use crate::signing::{Secret, SignatureFormat};
use crate::target::TargetSpec;

/// `spotcheck send`: what to build and deliver, where and how.
#[derive(Debug)]
pub struct SendPlan {
    /// Seed of every generated id and value (printed by the front so a run replays).
    pub seed: u64,
    /// Where the messages go.
    pub target: TargetPlan,
    /// What is sent.
    pub what: What,
    /// Signature token form.
    pub format: SignatureFormat,
    /// Envelope spelling.
    pub envelope: EnvelopeStyle,
    /// Subscription custom headers (already checked against the reserved names).
    pub custom_headers: Vec<(String, String)>,
    /// Once, or on Spotnana's retry policy.
    pub mode: Mode,
}

/// The destination of `send`: the endpoint, or the reference receiver started
/// in-process when there is none.
#[derive(Debug)]
pub struct TargetPlan {
    /// The endpoint, trust, client certificate and routes (its `reference` is filled
    /// in by the engine with the secret and OAuth credentials).
    pub spec: TargetSpec,
    /// Per-delivery timeout.
    pub timeout: Duration,
    /// The signing secret; `None` only without an endpoint: the engine then draws one
    /// from the seed for the reference receiver.
    pub secret: Option<Secret>,
    /// Legacy OAuth: bearer tokens from the token URL (the reference receiver's when
    /// the options name none).
    pub oauth: Option<OAuthOptions>,
    /// Whether the signature headers are sent (`false` with `--no-hmac`).
    pub hmac: bool,
}

/// What `send` delivers.
#[derive(Debug)]
pub enum What {
    /// One event of `kind` per organization, in the order given; none given: one
    /// organization drawn from the seed.
    Event {
        /// The event type and operation.
        kind: EventKind,
        /// `audience.organizationId` of each event.
        organizations: Vec<String>,
        /// JSON laid over (or replacing) each event's `payload`.
        payload: Option<Payload>,
    },
    /// Every event of one booking's story, each signed.
    Lifecycle(Lifecycle),
}

/// `--payload`: JSON merged over the generated `payload` object, or replacing it.
#[derive(Debug, Clone)]
pub struct Payload {
    /// The JSON.
    pub patch: Value,
    /// Replace instead of merging (RFC 7396).
    pub replace: bool,
}

/// `send --lifecycle`.
#[derive(Debug)]
pub struct Lifecycle {
    /// The story.
    pub lifecycle: &'static crate::event::story::Lifecycle,
    /// The booking's organization; `None`: drawn from the seed.
    pub organization: Option<String>,
    /// Deliver the events in a seeded order that is not the story's.
    pub shuffled: bool,
}

/// Once, or on Spotnana's retry policy.
#[derive(Debug, Clone)]
pub enum Mode {
    /// One delivery per message, judged on its one answer.
    Once,
    /// Retried on the policy until `200 OK`; parked when every attempt failed or the
    /// sequence was interrupted.
    Retry {
        /// The policy.
        policy: RetryPolicy,
        /// Every delay is divided by this (1 = real time).
        time_scale: f64,
        /// Where an undelivered message is parked.
        park_dir: PathBuf,
    },
}

/// `spotcheck redeliver`: parked messages, every one to the run's one destination.
#[derive(Debug)]
pub struct RedeliverPlan {
    /// The destination (its endpoint is every message's).
    pub spec: TargetSpec,
    /// Per-delivery timeout.
    pub timeout: Duration,
    /// The signing secret.
    pub secret: Secret,
    /// Each message with the file it was read from, in the order given.
    pub messages: Vec<(PathBuf, RetryMessage)>,
    /// Once, or on the retry policy again.
    pub mode: Mode,
}

/// One message of `send` before it has a destination: the body and how to sign it.
#[derive(Debug, Clone)]
pub struct Message {
    /// The exact body bytes (compact JSON).
    pub body: Bytes,
    /// `x-spotnana-webhook-id`.
    pub webhook_id: String,
    /// Signature token form.
    pub format: SignatureFormat,
    /// Subscription custom headers.
    pub custom_headers: Vec<(String, String)>,
}

impl Message {
    /// The message addressed to `endpoint`.
    pub fn to(&self, endpoint: &str) -> RetryMessage {
        RetryMessage {
            endpoint: endpoint.to_owned(),
            webhook_id: self.webhook_id.clone(),
            body: self.body.clone(),
            format: self.format,
            custom_headers: self.custom_headers.clone(),
        }
    }
}

/// Lays the `--payload` JSON over the event's `payload` object (or replaces it).
pub fn apply_payload(event: &mut Value, patch: &Value, replace: bool) {
    let Some(object) = event.as_object_mut() else {
        return;
    };
    let slot = object.entry("payload").or_insert(Value::Null);
    if replace {
        *slot = patch.clone();
    } else {
        crate::event::merge_patch::merge(slot, patch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_merges_or_replaces_the_payload_object() {
        let mut event = json!({"eventType": "PNR_V3", "payload": {"pnrId": "1", "tripId": "2"}});
        apply_payload(
            &mut event,
            &json!({"pnrId": "9", "tripId": null, "x": 1}),
            false,
        );
        assert_eq!(event["payload"], json!({"pnrId": "9", "x": 1}));
        apply_payload(&mut event, &json!({"only": true}), true);
        assert_eq!(event["payload"], json!({"only": true}));
        assert_eq!(event["eventType"], "PNR_V3");
    }
}
