//! What the receiver remembers: counters, per-webhook and per-PNR records, all
//! bounded so that a long run or a hostile sender cannot grow memory without limit.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Counters over the receiver's lifetime (`GET /state`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverStats {
    /// Requests that reached the webhook handler.
    pub received: u64,
    /// Deliveries verified and queued for processing (answered as valid).
    pub accepted: u64,
    /// Requests refused (bad signature, too large, queue full, a flaw's refusal …).
    pub rejected: u64,
    /// Accepted deliveries whose webhook id had been seen before.
    pub duplicates: u64,
    /// Events processed (a duplicate is not processed again).
    pub processed: u64,
}

/// What the receiver knows about one webhook id (`GET /state/webhooks/{id}`).
///
/// An id never seen is reported with zeros (and `200`), so assertions stay simple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookView {
    /// The webhook id.
    pub id: String,
    /// How many deliveries of this id were accepted.
    pub deliveries: u64,
    /// How many times this id was processed (1 for a correct receiver, however many deliveries).
    pub processed: u64,
}

/// What the receiver knows about one PNR (`GET /state/pnrs/{pnrId}`).
///
/// A PNR never seen is reported with `eventsProcessed: 0` and nulls (and `200`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PnrView {
    /// The `payload.pnrId`.
    pub pnr_id: String,
    /// The envelope `timestamp` of the event that currently defines this PNR's state
    /// (the newest by timestamp, not the last to arrive).
    pub newest_timestamp: Option<String>,
    /// The operation of that event.
    pub operation: Option<String>,
    /// How many events for this PNR were processed.
    pub events_processed: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) accepted: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) processed: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ReceiverStats {
        ReceiverStats {
            received: self.received.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            processed: self.processed.load(Ordering::Relaxed),
        }
    }
}

/// A map that forgets its oldest keys beyond a capacity (FIFO eviction).
#[derive(Debug)]
pub(crate) struct BoundedMap<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V> BoundedMap<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedMap {
            map: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    /// The value for `key`, inserted with `make` (evicting the oldest key) if absent.
    pub(crate) fn entry(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.capacity {
                match self.order.pop_front() {
                    Some(old) => {
                        self.map.remove(&old);
                    }
                    None => break,
                }
            }
            self.order.push_back(key.clone());
            self.map.insert(key.clone(), make());
        }
        self.map.get_mut(&key).expect("inserted above")
    }
}

/// A set that forgets its oldest members beyond a capacity (the dedupe window).
#[derive(Debug)]
pub(crate) struct BoundedSet<K> {
    set: HashSet<K>,
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone> BoundedSet<K> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedSet {
            set: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn contains(&self, key: &K) -> bool {
        self.set.contains(key)
    }

    /// Inserts `key`; false when it was already present.
    pub(crate) fn insert(&mut self, key: K) -> bool {
        if self.set.contains(&key) {
            return false;
        }
        while self.set.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.set.remove(&old);
                }
                None => break,
            }
        }
        self.order.push_back(key.clone());
        self.set.insert(key);
        true
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WebhookRecord {
    pub(crate) deliveries: u64,
    pub(crate) processed: u64,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct PnrRecord {
    pub(crate) newest: Option<(Option<OffsetDateTime>, String)>,
    pub(crate) operation: Option<String>,
    pub(crate) events_processed: u64,
}

/// Observation records, shared between the handler and the processor.
#[derive(Debug)]
pub(crate) struct Observed {
    pub(crate) webhooks: BoundedMap<String, WebhookRecord>,
    pub(crate) pnrs: BoundedMap<String, PnrRecord>,
}

impl Observed {
    pub(crate) fn new(capacity: usize) -> Observed {
        Observed {
            webhooks: BoundedMap::new(capacity),
            pnrs: BoundedMap::new(capacity),
        }
    }

    pub(crate) fn webhook_view(&self, id: &str) -> WebhookView {
        let record = self
            .webhooks
            .get(&id.to_owned())
            .copied()
            .unwrap_or_default();
        WebhookView {
            id: id.to_owned(),
            deliveries: record.deliveries,
            processed: record.processed,
        }
    }

    pub(crate) fn pnr_view(&self, pnr_id: &str) -> PnrView {
        let record = self
            .pnrs
            .get(&pnr_id.to_owned())
            .cloned()
            .unwrap_or_default();
        PnrView {
            pnr_id: pnr_id.to_owned(),
            newest_timestamp: record.newest.map(|(_, text)| text),
            operation: record.operation,
            events_processed: record.events_processed,
        }
    }

    /// Applies one processed event to its PNR's record. With `last_arrival_wins`
    /// (a flaw) the event always replaces the state; otherwise only a strictly
    /// newer envelope timestamp does (an unparsable timestamp never replaces a known one).
    pub(crate) fn apply_pnr_event(
        &mut self,
        pnr_id: &str,
        timestamp_text: Option<&str>,
        timestamp: Option<OffsetDateTime>,
        operation: Option<&str>,
        last_arrival_wins: bool,
    ) {
        let record = self.pnrs.entry(pnr_id.to_owned(), PnrRecord::default);
        record.events_processed += 1;
        let replace = last_arrival_wins
            || match (&record.newest, timestamp) {
                (None, _) => true,
                (Some((Some(current), _)), Some(new)) => new > *current,
                (Some((None, _)), Some(_)) => true,
                (Some(_), None) => false,
            };
        if replace {
            record.newest = timestamp_text.map(|text| (timestamp, text.to_owned()));
            record.operation = operation.map(str::to_owned);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_set_forgets_the_oldest() {
        let mut set = BoundedSet::new(2);
        assert!(set.insert("a"));
        assert!(!set.insert("a"));
        assert!(set.insert("b"));
        assert!(set.insert("c"));
        assert!(!set.contains(&"a"));
        assert!(set.contains(&"b") && set.contains(&"c"));
    }

    #[test]
    fn bounded_map_forgets_the_oldest() {
        let mut map = BoundedMap::new(2);
        *map.entry("a", || 0) += 1;
        *map.entry("a", || 0) += 1;
        *map.entry("b", || 0) += 1;
        *map.entry("c", || 0) += 1;
        assert_eq!(map.get(&"a"), None);
        assert_eq!(map.get(&"b"), Some(&1));
    }

    #[test]
    fn newest_timestamp_wins_unless_last_arrival_wins() {
        let t1 = crate::event::envelope::parse_timestamp("2026-01-01T00:00:01.000Z");
        let t0 = crate::event::envelope::parse_timestamp("2026-01-01T00:00:00.000Z");
        let mut observed = Observed::new(8);
        observed.apply_pnr_event("p", Some("t1"), t1, Some("NEW"), false);
        observed.apply_pnr_event("p", Some("t0"), t0, Some("OLD"), false);
        let view = observed.pnr_view("p");
        assert_eq!(view.operation.as_deref(), Some("NEW"));
        assert_eq!(view.events_processed, 2);
        observed.apply_pnr_event("p", Some("t0"), t0, Some("OLD"), true);
        assert_eq!(observed.pnr_view("p").operation.as_deref(), Some("OLD"));
    }
}
