//! The background processor: deduplicate by webhook id, parse the envelope,
//! record per-PNR state (newest envelope timestamp wins), log.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::fields::{Parsed, parse};
use super::flaw::Flaw;
use super::handler::{Queued, Shared};
use super::log::{EventLog, EventRecord};
use super::state::{BoundedSet, Counters, WebhookRecord};
use crate::event::envelope::{format_timestamp, parse_timestamp};

/// Runs until `stop` fires (then drains what is queued) or every sender is gone.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut queue: mpsc::Receiver<Queued>,
    mut log: EventLog,
    dedupe_capacity: usize,
    mut stop: oneshot::Receiver<()>,
) {
    let mut seen = BoundedSet::new(dedupe_capacity);
    loop {
        tokio::select! {
            item = queue.recv() => match item {
                Some(item) => process(&shared, &mut seen, &mut log, item).await,
                None => return,
            },
            _ = &mut stop => {
                queue.close();
                while let Ok(item) = queue.try_recv() {
                    process(&shared, &mut seen, &mut log, item).await;
                }
                return;
            }
        }
    }
}

async fn process(shared: &Shared, seen: &mut BoundedSet<String>, log: &mut EventLog, item: Queued) {
    let duplicate = !seen.insert(item.id.clone());
    if duplicate {
        Counters::bump(&shared.counters.duplicates);
    }
    let processed = !duplicate || shared.flaws.has(&Flaw::ProcessDuplicates);
    let (parsed, error) = match parse(&item.body) {
        Ok(parsed) => (parsed, None),
        Err(error) => (Parsed::default(), Some(error)),
    };
    if processed {
        Counters::bump(&shared.counters.processed);
        let mut observed = shared.observed();
        observed
            .webhooks
            .entry(item.id.clone(), WebhookRecord::default)
            .processed += 1;
        if let Some(pnr_id) = &parsed.pnr_id {
            let timestamp = parsed.timestamp.as_deref().and_then(parse_timestamp);
            observed.apply_pnr_event(
                pnr_id,
                parsed.timestamp.as_deref(),
                timestamp,
                parsed.operation.as_deref(),
                shared.flaws.has(&Flaw::LastArrivalWins),
            );
        }
    }
    let record = EventRecord {
        time: format_timestamp(item.received_at),
        webhook_id: item.id,
        event_type: parsed.event_type,
        operation: parsed.operation,
        organization_id: parsed.organization_id,
        pnr_id: parsed.pnr_id,
        timestamp: parsed.timestamp,
        trace_id: item.trace_id,
        span_id: item.span_id,
        duplicate,
        processed,
        error,
    };
    log.write(&record).await;
}
