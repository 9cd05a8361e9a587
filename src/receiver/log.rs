//! The event log: one JSON line per verified event (`--log PATH`) and one
//! human summary line per event on stdout (`print_events`).
//!
//! Neither contains headers beyond the webhook id and trace ids, nor any secret.

use std::path::Path;

use serde::Serialize;
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
    /// The one-line summary printed to stdout.
    pub fn summary(&self) -> String {
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
        if self.print {
            outln!("{}", record.summary());
        }
        if let Some(file) = &mut self.file {
            let mut line = serde_json::to_vec(record).unwrap_or_default();
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
