//! A booking's story: the events told about one PNR, each that booking at a point of
//! its lifecycle.
//!
//! The booking (ids, trip, travelers, product, tickets, currency, fare) is drawn once.
//! The events are placed in time ([`Beat::offset_ms`] from the story's anchor); the
//! story walks them oldest first, so `version` rises with the event time whatever
//! order they are sent in, a void or refund follows the issue, a cancellation
//! changes the statuses it cancels and nothing else. `docs/payloads.md` lists the
//! rules; the property test in `tests/stories.rs` checks them.

use rand::Rng;
use time::{Duration, OffsetDateTime};

use super::catalogue::{EventKind, EventType};
use super::fixtures::booking::{Booking, DrawSpec, State, first_version, trip_details};
use super::fixtures::{Generated, Product};
use super::random::{SeededRng, pick};

/// One event of a story, as planned: its kind, and when, relative to the story's anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beat {
    /// The event type and operation.
    pub kind: EventKind,
    /// Milliseconds from the anchor (negative: before it).
    pub offset_ms: i64,
}

/// One told event: when, and the booking's version and state then.
#[derive(Debug, Clone)]
struct Told {
    kind: EventKind,
    at: OffsetDateTime,
    version: i64,
    state: State,
}

/// A booking and the events told about it, in the order they were planned.
#[derive(Debug, Clone)]
pub struct Story {
    booking: Booking,
    told: Vec<Told>,
}

/// The products a booking can be when these events are told about it: the
/// intersection over its `PNR_V3` operations (every product when it has none).
pub fn products_for(kinds: impl IntoIterator<Item = EventKind>) -> Vec<Product> {
    let mut products = Product::ALL.to_vec();
    for kind in kinds {
        if kind.event_type == EventType::PnrV3 {
            let allowed = Product::allowed(kind.operation);
            products.retain(|p| allowed.contains(p));
        }
    }
    products
}

/// Why a story's order is not one a booking can go through, in time order of its
/// beats (indices into the planned beats): a void or refund of tickets that were
/// never issued before it, or issued only later, or a refund after a void.
pub fn incoherences(beats: &[Beat]) -> Vec<(usize, String)> {
    let order = time_order(beats);
    let mut out = Vec::new();
    let ops: Vec<(usize, &str)> = order
        .iter()
        .filter(|i| beats[**i].kind.event_type == EventType::PnrV3)
        .map(|i| (*i, beats[*i].kind.operation))
        .collect();
    let mut voided = false;
    for (n, (i, op)) in ops.iter().enumerate() {
        let issued_later = ops[n + 1..].iter().any(|(_, o)| *o == "BOOKING_TICKETED");
        match *op {
            "TICKET_VOIDED" | "TICKET_REFUNDED" if issued_later => out.push((
                *i,
                format!(
                    "{} comes before (by message_time) the BOOKING_TICKETED that issues the tickets",
                    op
                ),
            )),
            "TICKET_REFUNDED" if voided => out.push((
                *i,
                "TICKET_REFUNDED comes after TICKET_VOIDED: a voided ticket cannot be refunded"
                    .to_owned(),
            )),
            _ => {}
        }
        voided |= *op == "TICKET_VOIDED";
        if *op == "BOOKING_TICKETED" {
            voided = false;
        }
    }
    out
}

/// The beats' indices oldest first (ties in planned order).
fn time_order(beats: &[Beat]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..beats.len()).collect();
    order.sort_by_key(|i| (beats[*i].offset_ms, *i));
    order
}

impl Story {
    /// Tells `beats` about one booking drawn from `rng`, anchored at `anchor`. Beats at
    /// the same offset are told a millisecond apart, in planned order, so no two
    /// events of a booking share a time. The product is `product` or one that fits
    /// every operation ([`products_for`]).
    pub fn tell(
        beats: &[Beat],
        product: Option<Product>,
        organization_id: &str,
        anchor: OffsetDateTime,
        pnr_id: Option<&str>,
        rng: &mut SeededRng,
    ) -> Story {
        let mut at: Vec<OffsetDateTime> = Vec::with_capacity(beats.len());
        for (i, beat) in beats.iter().enumerate() {
            let ties = beats[..i]
                .iter()
                .filter(|b| b.offset_ms == beat.offset_ms)
                .count() as i64;
            at.push(anchor + Duration::milliseconds(beat.offset_ms + ties));
        }
        let product = product.unwrap_or_else(|| {
            let fits = products_for(beats.iter().map(|b| b.kind));
            match fits.as_slice() {
                [] => Product::for_operation(first_pnr_op(beats), rng),
                fits => *pick(rng, fits),
            }
        });
        let order = time_order(beats);
        let earliest = order.first().map_or(anchor, |i| at[*i]);
        let one_traveler = beats
            .iter()
            .any(|b| b.kind.operation == "SPLIT_PNR_CREATED");
        let booking = Booking::draw(
            &DrawSpec {
                product,
                organization_id,
                first_event: earliest,
                pnr_id,
                trip: None,
                one_traveler,
            },
            rng,
        );
        let first_op = order
            .iter()
            .map(|i| beats[*i].kind)
            .find(|k| k.event_type == EventType::PnrV3)
            .map_or("BOOKING_UPDATED", |k| k.operation);
        let mut version = first_version(first_op, beats.len() == 1, rng);
        let mut state = State::before(first_op, product, booking.booked_at);
        let mut seen_pnr = false;
        let mut told: Vec<Option<Told>> = vec![None; beats.len()];
        for i in order {
            let kind = beats[i].kind;
            if kind.event_type == EventType::PnrV3 {
                if seen_pnr {
                    version += rng.random_range(1..=2);
                }
                seen_pnr = true;
                state.apply(kind.operation, at[i]);
            }
            told[i] = Some(Told {
                kind,
                at: at[i],
                version,
                state: state.clone(),
            });
        }
        Story {
            booking,
            told: told.into_iter().flatten().collect(),
        }
    }

    /// The booking.
    pub fn booking(&self) -> &Booking {
        &self.booking
    }

    /// How many events the story tells.
    pub fn len(&self) -> usize {
        self.told.len()
    }

    /// Whether it tells none.
    pub fn is_empty(&self) -> bool {
        self.told.is_empty()
    }

    /// The kind of the `index`th planned event.
    pub fn kind(&self, index: usize) -> EventKind {
        self.told[index].kind
    }

    /// The `index`th planned event: its time (the envelope `timestamp`) and payload.
    /// Draws only what no rule ties to the booking (an approval's approvers, a fee's
    /// amount, an agent task's agent) from `rng`.
    pub fn event(&self, index: usize, rng: &mut SeededRng) -> (OffsetDateTime, Generated) {
        let told = &self.told[index];
        let b = &self.booking;
        let operation = told.kind.operation;
        let generated = match told.kind.event_type {
            EventType::PnrV3 => b.pnr(operation, &told.state, told.version, told.at),
            EventType::TravelerV2 => b.profile(0, operation),
            EventType::TripDetailsV3 => {
                trip_details(&b.trip, &[(b, &told.state, told.version)], told.at)
            }
            EventType::PnrApproval => b.approval(operation, told.at, rng),
            EventType::AgentTaskDetails => b.agent_task(operation, told.at, rng),
            EventType::ServiceCharge => b.service_charge(operation, told.at, rng),
        };
        (told.at, generated)
    }
}

fn first_pnr_op(beats: &[Beat]) -> &'static str {
    beats
        .iter()
        .find(|b| b.kind.event_type == EventType::PnrV3)
        .map_or("BOOKING_UPDATED", |b| b.kind.operation)
}

/// A named lifecycle `spotcheck send --lifecycle` tells: one booking's events, in time
/// order, a minute apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    /// Its name (`air-ticketed-then-voided`).
    pub name: &'static str,
    /// What it shows.
    pub about: &'static str,
    /// The `PNR_V3` operations (and other events about the booking), oldest first.
    pub events: &'static [(EventType, &'static str)],
}

impl Lifecycle {
    /// The lifecycles `send --lifecycle` knows.
    pub const ALL: &'static [Lifecycle] = &[
        Lifecycle {
            name: "air-ticketed-then-voided",
            about: "a flight booked, ticketed, then the tickets voided",
            events: &[
                (EventType::PnrV3, "BOOKING_CREATED"),
                (EventType::PnrV3, "BOOKING_TICKETED"),
                (EventType::PnrV3, "TICKET_VOIDED"),
            ],
        },
        Lifecycle {
            name: "air-ticketed-then-refunded",
            about: "a flight booked, approved, ticketed, invoiced, then refunded",
            events: &[
                (EventType::PnrV3, "BOOKING_CREATED"),
                (EventType::PnrApproval, "SOFT_APPROVAL"),
                (EventType::PnrV3, "BOOKING_TICKETED"),
                (EventType::PnrV3, "INVOICE_GENERATED"),
                (EventType::ServiceCharge, "SERVICE_FEE"),
                (EventType::PnrV3, "TICKET_REFUNDED"),
            ],
        },
        Lifecycle {
            name: "air-schedule-change",
            about: "a ticketed flight whose schedule changes (pending, then closed)",
            events: &[
                (EventType::PnrV3, "BOOKING_CREATED"),
                (EventType::PnrV3, "BOOKING_TICKETED"),
                (EventType::PnrV3, "FLIGHT_SCHEDULE_CHANGE_PENDING"),
                (EventType::PnrV3, "FLIGHT_SCHEDULE_CHANGE_CLOSED"),
                (EventType::TripDetailsV3, "TRIP_UPDATED"),
            ],
        },
        Lifecycle {
            name: "hotel-cancelled-by-traveler",
            about: "a hotel booked, its traveler's profile updated, then cancelled",
            events: &[
                (EventType::PnrV3, "BOOKING_CREATED"),
                (EventType::TravelerV2, "UPDATE"),
                (EventType::PnrV3, "BOOKING_CANCELED_BY_TRAVELER"),
                (EventType::TripDetailsV3, "TRIP_UPDATED"),
            ],
        },
    ];

    /// The lifecycle called `name`.
    pub fn named(name: &str) -> Option<&'static Lifecycle> {
        Lifecycle::ALL.iter().find(|l| l.name == name)
    }

    /// The whole story as envelopes, oldest first: one booking drawn from `rng`, the
    /// last event at `anchor`, for `organization_id`.
    pub fn envelopes(
        &self,
        organization_id: &str,
        anchor: OffsetDateTime,
        style: super::EnvelopeStyle,
        rng: &mut SeededRng,
    ) -> Vec<serde_json::Value> {
        let beats = self.beats();
        let story = Story::tell(&beats, None, organization_id, anchor, None, rng);
        (0..story.len())
            .map(|i| {
                let (at, generated) = story.event(i, rng);
                let kind = story.kind(i);
                super::Envelope {
                    timestamp: at,
                    event_type: kind.event_type.as_str(),
                    operation: kind.operation,
                    operation_summary: generated.operation_summary,
                    organization_id,
                    payload: generated.payload,
                }
                .to_json(style)
            })
            .collect()
    }

    /// Its beats, a minute apart, the last at the anchor.
    pub fn beats(&self) -> Vec<Beat> {
        let n = self.events.len() as i64;
        self.events
            .iter()
            .enumerate()
            .map(|(i, (event_type, operation))| Beat {
                kind: EventKind {
                    event_type: *event_type,
                    operation: event_type
                        .operations()
                        .iter()
                        .copied()
                        .find(|op| op == operation)
                        .expect("a lifecycle names catalogue operations"),
                },
                offset_ms: (i as i64 - (n - 1)) * 60_000,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lifecycle_is_coherent_and_fits_a_product() {
        for lifecycle in Lifecycle::ALL {
            let beats = lifecycle.beats();
            assert!(incoherences(&beats).is_empty(), "{}", lifecycle.name);
            assert!(
                !products_for(beats.iter().map(|b| b.kind)).is_empty(),
                "{}",
                lifecycle.name
            );
        }
    }

    #[test]
    fn a_void_before_its_issue_is_named() {
        let kind = |op: &str| format!("PNR_V3/{op}").parse::<EventKind>().unwrap();
        let beats = [
            Beat {
                kind: kind("BOOKING_TICKETED"),
                offset_ms: 0,
            },
            Beat {
                kind: kind("TICKET_VOIDED"),
                offset_ms: -60_000,
            },
        ];
        let found = incoherences(&beats);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 1);
    }
}
