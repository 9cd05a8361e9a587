//! The event log: one JSON line per verified event (`--log PATH`) and one
//! human summary line per event on stdout (`print_events`).
//!
//! Neither contains headers beyond the webhook id and trace ids, nor any secret.
//!
//! Both are inert: every value comes from the delivery (a header, a body field, an
//! error naming what the body held), so every control character in it (C0 with `\n`,
//! `\r` and ESC, DEL, C1) is written as `\u{..}`. A signed delivery cannot forge a
//! log line nor drive the terminal of whoever reads the log.

use std::path::Path;

use serde::Serialize;

use crate::delivery::exchange::escape_all_controls;
use tokio::io::AsyncWriteExt;

/// One verified event as the processor saw it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// When the delivery was received (RFC 3339, UTC, milliseconds).
    pub time: String,
    /// `x-spotnana-webhook-id`.
    pub webhook_id: String,
    /// `eventType` (or `event_type`) of the envelope.
    pub event_type: Option<String>,
    /// `operation` of the envelope.
    pub operation: Option<String>,
    /// `audience.organizationId`.
    pub organization_id: Option<String>,
    /// `payload.pnrId`, when the payload has one.
    pub pnr_id: Option<String>,
    /// The envelope `timestamp`.
    pub timestamp: Option<String>,
    /// `X-B3-TraceId`.
    pub trace_id: Option<String>,
    /// `X-B3-SpanId`.
    pub span_id: Option<String>,
    /// Whether this webhook id had been seen before.
    pub duplicate: bool,
    /// Whether the event was processed (false for a deduplicated redelivery).
    pub processed: bool,
    /// Why the body could not be read as an event envelope, if it could not.
    pub error: Option<String>,
}

impl EventRecord {
    /// The record with every control character of every text value escaped
    /// ([`escape_all_controls`]): what both logs write.
    pub fn inert(&self) -> EventRecord {
        let text = |value: &str| escape_all_controls(value);
        let optional = |value: &Option<String>| value.as_deref().map(text);
        EventRecord {
            time: text(&self.time),
            webhook_id: text(&self.webhook_id),
            event_type: optional(&self.event_type),
            operation: optional(&self.operation),
            organization_id: optional(&self.organization_id),
            pnr_id: optional(&self.pnr_id),
            timestamp: optional(&self.timestamp),
            trace_id: optional(&self.trace_id),
            span_id: optional(&self.span_id),
            duplicate: self.duplicate,
            processed: self.processed,
            error: optional(&self.error),
        }
    }

    /// The one-line summary printed to stdout, every value escaped (one line, always).
    pub fn summary(&self) -> String {
        self.inert().summary_of_inert()
    }

    /// The summary line of a record whose values are already escaped.
    fn summary_of_inert(&self) -> String {
        let kind = match (&self.event_type, &self.operation) {
            (Some(t), Some(o)) => format!("{t}/{o}"),
            (Some(t), None) => t.clone(),
            (None, Some(o)) => format!("?/{o}"),
            (None, None) => "?".to_owned(),
        };
        let mut line = format!(
            "{}  {}  {}  org={}  pnr={}  trace={}",
            self.time,
            self.webhook_id,
            kind,
            self.organization_id.as_deref().unwrap_or("-"),
            self.pnr_id.as_deref().unwrap_or("-"),
            self.trace_id.as_deref().unwrap_or("-"),
        );
        if self.duplicate {
            line.push_str(if self.processed {
                "  duplicate (processed again)"
            } else {
                "  duplicate (not processed again)"
            });
        }
        if let Some(error) = &self.error {
            line.push_str("  error: ");
            line.push_str(error);
        }
        line
    }
}

/// Where event records go.
///
/// This is the one place below the command line that writes to stdout, on purpose: a
/// server's event log is its own output edge, like an access log. `serve` runs until
/// stopped and has no report to hand a line to; each line is written as its event is
/// processed, in the receiver's background task, where returning lines to the front
/// would need a channel and a task of the front's only to copy them to stdout. What a
/// line says is the pure [`EventRecord::summary`]; the in-process receiver of `run`
/// and `load` never prints (`print` is set by `serve` only, unless `--quiet`).
#[derive(Debug)]
pub(crate) struct EventLog {
    file: Option<tokio::fs::File>,
    print: bool,
}

impl EventLog {
    /// Opens (creates, appends to) the log file, if any.
    pub(crate) async fn open(path: Option<&Path>, print: bool) -> std::io::Result<EventLog> {
        let file = match path {
            Some(path) => Some(
                tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await?,
            ),
            None => None,
        };
        Ok(EventLog { file, print })
    }

    /// Writes one record. A failing log write is reported on stderr once per
    /// failure and never stops the receiver.
    pub(crate) async fn write(&mut self, record: &EventRecord) {
        let record = record.inert();
        if self.print {
            outln!("{}", record.summary_of_inert());
        }
        if let Some(file) = &mut self.file {
            // JSON escapes C0 controls itself but not DEL nor C1: the inert record
            // has none left.
            let mut line = serde_json::to_vec(&record).unwrap_or_default();
            line.push(b'\n');
            let result = async {
                file.write_all(&line).await?;
                file.flush().await
            }
            .await;
            if let Err(err) = result {
                eprintln!("warning: cannot write the event log: {err}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_logged_value_stays_on_one_printable_line() {
        let forged =
            "pnr-1\n2026-01-01T00:00:00Z  forged  PNR_V3/BOOKING_CREATED\r\x1b[31mred\x7f\u{9b}2J";
        let record = EventRecord {
            time: "2026-11-29T10:15:30.123Z".into(),
            webhook_id: "id\x1b]0;title\x07".into(),
            event_type: Some("PNR_V3\n".into()),
            operation: Some("BOOKING_CREATED".into()),
            organization_id: Some("org\r".into()),
            pnr_id: Some(forged.into()),
            timestamp: None,
            trace_id: Some("\u{85}trace".into()),
            span_id: Some("\x00".into()),
            duplicate: false,
            processed: true,
            error: Some("bad\nline".into()),
        };
        let summary = record.summary();
        let json = serde_json::to_string(&record.inert()).unwrap();
        for line in [&summary, &json] {
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
        assert!(
            summary.contains(r"pnr=pnr-1\u{a}2026-01-01T00:00:00Z  forged  PNR_V3/BOOKING_CREATED\u{d}\u{1b}[31mred\u{7f}\u{9b}2J"),
            "{summary}"
        );
        assert!(summary.contains(r"id\u{1b}]0;title\u{7}"), "{summary}");
        assert!(summary.ends_with(r"error: bad\u{a}line"), "{summary}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["spanId"], r"\u{0}");
        assert_eq!(back["traceId"], r"\u{85}trace");
    }
}
