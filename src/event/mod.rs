//! Events: the catalogue, the envelope, seeded payload fixtures and body styles.
//!
//! Signing and the envelope know nothing of HTTP.

pub mod body_style;
pub mod catalogue;
pub mod envelope;
pub mod fixtures;
pub mod merge_patch;
pub mod random;
pub mod schema;
pub mod story;
pub mod subscription;
pub mod variants;

pub use catalogue::{EventKind, EventType, UnknownEvent};
pub use envelope::{Envelope, EnvelopeStyle};
pub use random::SeededRng;
pub use subscription::{Subscription, SubscriptionError};

use serde_json::Value;
use time::OffsetDateTime;

/// What to generate: one event of a kind, for an organization, at a message time.
#[derive(Debug, Clone)]
pub struct EventSpec<'a> {
    /// Event type and operation (chooses the payload generator).
    pub kind: EventKind,
    /// `audience.organizationId`.
    pub organization_id: &'a str,
    /// The envelope `timestamp` (message generation time).
    pub message_time: OffsetDateTime,
    /// `eventType` or `event_type`.
    pub style: EnvelopeStyle,
    /// Use this PNR id instead of a generated one (PNR events, approvals, tasks, fees).
    pub pnr_id: Option<&'a str>,
}

/// Builds a complete, realistic event envelope as JSON. Deterministic for a given
/// generator state.
pub fn build_event(spec: &EventSpec<'_>, rng: &mut SeededRng) -> Value {
    let ctx = fixtures::FixtureContext {
        organization_id: spec.organization_id,
        now: spec.message_time,
        pnr_id: spec.pnr_id,
    };
    let generated = fixtures::generate(spec.kind, &ctx, rng);
    Envelope {
        timestamp: spec.message_time,
        event_type: spec.kind.event_type.as_str(),
        operation: spec.kind.operation,
        operation_summary: generated.operation_summary,
        organization_id: spec.organization_id,
        payload: generated.payload,
    }
    .to_json(spec.style)
}
