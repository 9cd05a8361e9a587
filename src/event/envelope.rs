//! The webhook envelope: `timestamp`, `eventType`, `operation`, `operationSummary`,
//! `audience.organizationId` and `payload`.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// Which spelling of the event type field the envelope uses (the docs show both).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum EnvelopeStyle {
    /// `"eventType"` (spotcheck's default).
    #[default]
    #[value(name = "eventType")]
    #[serde(rename = "eventType")]
    EventType,
    /// `"event_type"`.
    #[value(name = "event_type")]
    #[serde(rename = "event_type")]
    EventTypeSnake,
}

impl EnvelopeStyle {
    /// The JSON field name for the event type.
    pub fn field(self) -> &'static str {
        match self {
            EnvelopeStyle::EventType => "eventType",
            EnvelopeStyle::EventTypeSnake => "event_type",
        }
    }
}

/// Formats a message timestamp: ISO-8601 UTC with milliseconds (`2026-11-29T10:15:30.123Z`).
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// Parses an envelope timestamp (RFC 3339), as the reference receiver does to order events.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// The parts of one envelope.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    /// When Spotnana generated the message.
    pub timestamp: OffsetDateTime,
    /// The event type's wire name.
    pub event_type: &'a str,
    /// The operation's wire name.
    pub operation: &'a str,
    /// `operationSummary` (tickets issued, voided, refunded).
    pub operation_summary: Value,
    /// `audience.organizationId`.
    pub organization_id: &'a str,
    /// The event payload.
    pub payload: Value,
}

impl Envelope<'_> {
    /// The envelope as JSON, fields in the documented order.
    pub fn to_json(&self, style: EnvelopeStyle) -> Value {
        let mut map = Map::new();
        map.insert(
            "timestamp".into(),
            Value::String(format_timestamp(self.timestamp)),
        );
        map.insert(
            style.field().into(),
            Value::String(self.event_type.to_owned()),
        );
        map.insert("operation".into(), Value::String(self.operation.to_owned()));
        map.insert("operationSummary".into(), self.operation_summary.clone());
        map.insert(
            "audience".into(),
            json!({ "organizationId": self.organization_id }),
        );
        map.insert("payload".into(), self.payload.clone());
        Value::Object(map)
    }
}

/// An empty `operationSummary`.
pub fn empty_summary() -> Value {
    json!({ "ticketsIssued": [], "ticketsVoided": [], "ticketsRefunded": [] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_has_milliseconds_and_z() {
        let at = time::macros::datetime!(2026-11-29 10:15:30.123456 UTC);
        assert_eq!(format_timestamp(at), "2026-11-29T10:15:30.123Z");
        assert_eq!(
            parse_timestamp("2026-11-29T10:15:30.123Z")
                .unwrap()
                .millisecond(),
            123
        );
    }

    #[test]
    fn envelope_field_order_and_style() {
        let env = Envelope {
            timestamp: time::macros::datetime!(2026-01-02 03:04:05 UTC),
            event_type: "PNR_V3",
            operation: "BOOKING_CREATED",
            operation_summary: empty_summary(),
            organization_id: "org",
            payload: json!({"pnrId": "1"}),
        };
        let text = serde_json::to_string(&env.to_json(EnvelopeStyle::EventTypeSnake)).unwrap();
        assert_eq!(
            text,
            r#"{"timestamp":"2026-01-02T03:04:05.000Z","event_type":"PNR_V3","operation":"BOOKING_CREATED","operationSummary":{"ticketsIssued":[],"ticketsVoided":[],"ticketsRefunded":[]},"audience":{"organizationId":"org"},"payload":{"pnrId":"1"}}"#
        );
    }
}
