//! `serve --stateful`: the reference receiver as a partner that keeps each booking.
//!
//! A partner that files each PNR, resolves concurrent updates by `version`, looks up
//! the ticket a void names and pays back no more than was paid is correct; this module
//! is that partner, so spotcheck's own events can be held to the same story. For each
//! `pnrId` it holds the newest applied version, the `tripId`, the travelers (user id
//! and name) and the tickets (issued, voided or refunded, with their fare); across
//! bookings, every user id with its name (also from `TRAVELER_V2` events).
//!
//! An event is judged against what is held:
//! - **older or equal `version`** than the booking's: accepted (`200`) and not applied,
//!   as Spotnana describes `version` ("used for handling conflicts in case of
//!   concurrent updates"): the receiver already holds newer data;
//! - otherwise it must agree with what is held, or it is refused (`409` with the
//!   reason): another `tripId` for the same `pnrId`; a traveler whose user id is held
//!   with another name; a ticket voided or refunded that was never issued in a
//!   booking it holds (or is already voided or refunded; a PNR first seen through its
//!   void or refund is taken as issued earlier: a partner subscribed to voids only
//!   gets exactly that); a refund (`refundInfo.refundAmount`) above the
//!   ticket's fare (or, when the ticket's fare is unknown, the booking's `totalFare`);
//! - an event that agrees is applied.
//!
//! Events without a `pnrId` (and bodies that are not JSON) are not judged here.

use std::collections::BTreeMap;

use serde_json::Value;

use super::state::BoundedMap;

/// An amount in a currency, in hundredths (cents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// Hundredths of the currency unit.
    pub cents: i64,
    /// ISO 4217 code.
    pub currency: String,
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        let cents = self.cents.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:02} {}",
            cents / 100,
            cents % 100,
            self.currency
        )
    }
}

/// A ticket as one event shows it in its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSeen {
    /// `ticketNumber`.
    pub number: String,
    /// `status` (`ISSUED`, `VOIDED`, `REFUNDED`, …).
    pub status: Option<String>,
    /// `amount` (base plus tax): the ticket's fare.
    pub fare: Option<Money>,
    /// `refundInfo.refundAmount` (base plus tax).
    pub refund: Option<Money>,
}

/// What the receiver reads of one event to keep bookings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingEvent {
    /// `payload.pnrId` (`None`: the event is about no booking).
    pub pnr_id: Option<String>,
    /// `payload.version`.
    pub version: Option<i64>,
    /// `payload.tripId`.
    pub trip_id: Option<String>,
    /// The travelers named: (user id, name), from `payload.pnrTravelers` or, for a
    /// `TRAVELER_V2` event, the user it is about.
    pub travelers: Vec<(String, String)>,
    /// `operationSummary.ticketsIssued`.
    pub issued: Vec<String>,
    /// `operationSummary.ticketsVoided`.
    pub voided: Vec<String>,
    /// `operationSummary.ticketsRefunded`.
    pub refunded: Vec<String>,
    /// Every ticket of the payload (`payload.air.travelerInfos[].tickets[]`).
    pub tickets: Vec<TicketSeen>,
    /// `payload.totalFare`.
    pub total_fare: Option<Money>,
}

impl BookingEvent {
    /// Reads an envelope; `None` for a body that is not a JSON object.
    pub fn read(body: &[u8]) -> Option<BookingEvent> {
        let envelope: Value = serde_json::from_slice(body).ok()?;
        envelope.as_object()?;
        let payload = &envelope["payload"];
        let event_type = envelope["eventType"]
            .as_str()
            .or_else(|| envelope["event_type"].as_str());
        let mut travelers: Vec<(String, String)> = payload["pnrTravelers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    t["userId"]["id"].as_str()?.to_owned(),
                    name_of(&t["personalInfo"]["name"])?,
                ))
            })
            .collect();
        if event_type == Some("TRAVELER_V2")
            && let (Some(id), Some(name)) = (
                payload["id"].as_str(),
                name_of(&payload["personalInfo"]["name"]),
            )
        {
            travelers.push((id.to_owned(), name));
        }
        let summary = &envelope["operationSummary"];
        let numbers = |key: &str| -> Vec<String> {
            summary[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        };
        let tickets = payload["air"]["travelerInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|info| info["tickets"].as_array().into_iter().flatten())
            .filter_map(|t| {
                Some(TicketSeen {
                    number: t["ticketNumber"].as_str()?.to_owned(),
                    status: t["status"].as_str().map(str::to_owned),
                    fare: fare_amount(&t["amount"]),
                    refund: fare_amount(&t["refundInfo"]["refundAmount"]),
                })
            })
            .collect();
        Some(BookingEvent {
            pnr_id: payload["pnrId"].as_str().map(str::to_owned),
            version: payload["version"].as_i64(),
            trip_id: payload["tripId"].as_str().map(str::to_owned),
            travelers,
            issued: numbers("ticketsIssued"),
            voided: numbers("ticketsVoided"),
            refunded: numbers("ticketsRefunded"),
            tickets,
            total_fare: money(&payload["totalFare"]),
        })
    }
}

/// A Spotnana `Name` as one string (`given middle family1 family2`), `None` without a
/// given or family name.
fn name_of(name: &Value) -> Option<String> {
    let parts: Vec<&str> = ["given", "middle", "family1", "family2"]
        .iter()
        .filter_map(|key| name[*key].as_str())
        .flat_map(str::split_whitespace)
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A Spotnana `Money` (`{"amount": 12.34, "currencyCode": "EUR"}`).
fn money(value: &Value) -> Option<Money> {
    let amount = value["amount"].as_f64()?;
    let currency = value["currencyCode"].as_str()?;
    Some(Money {
        cents: (amount * 100.0).round() as i64,
        currency: currency.to_owned(),
    })
}

/// A Spotnana `FareAmount` (`{"base": Money, "tax": Money}`) as one amount; the tax is
/// optional, in the base's currency.
fn fare_amount(value: &Value) -> Option<Money> {
    let base = money(&value["base"])?;
    match money(&value["tax"]) {
        Some(tax) if tax.currency == base.currency => Some(Money {
            cents: base.cents + tax.cents,
            ..base
        }),
        Some(_) => None,
        None => Some(base),
    }
}

/// Where a held ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TicketState {
    Issued,
    Voided,
    Refunded,
}

/// A ticket as held.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ticket {
    state: TicketState,
    /// Its fare when it was issued, when an event said it.
    fare: Option<Money>,
}

/// A booking as held: what its applied events said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Booking {
    version: Option<i64>,
    trip_id: Option<String>,
    travelers: BTreeMap<String, String>,
    tickets: BTreeMap<String, Ticket>,
    total_fare: Option<Money>,
}

/// How an event that does not contradict the bookings is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// It was applied (or concerns no booking).
    Applied,
    /// Its `version` is not newer than the booking's: accepted, not applied.
    Stale {
        /// The version held.
        held: i64,
        /// The event's version.
        got: i64,
    },
}

/// Why an event contradicts what is held (the `409` detail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Conflict(pub String);

/// The decision on one event, to be committed once the delivery is acknowledged.
#[derive(Debug)]
pub struct Decision {
    taken: Taken,
    /// The booking after the event (`None` when nothing changes).
    booking: Option<(String, Booking)>,
    /// Users named by the event.
    users: Vec<(String, String)>,
}

impl Decision {
    /// How the event is taken.
    pub fn taken(&self) -> &Taken {
        &self.taken
    }
}

/// Every booking and user held (the oldest forgotten beyond the capacity).
#[derive(Debug)]
pub struct Bookings {
    held: BoundedMap<String, Booking>,
    users: BoundedMap<String, String>,
}

impl Bookings {
    /// Holds at most `capacity` bookings and as many users.
    pub fn new(capacity: usize) -> Bookings {
        Bookings {
            held: BoundedMap::new(capacity),
            users: BoundedMap::new(capacity),
        }
    }

    /// Judges `event` against what is held, changing nothing: the conflict, or the
    /// decision to [`commit`](Bookings::commit) once the delivery is acknowledged.
    pub fn judge(&self, event: &BookingEvent) -> Result<Decision, Conflict> {
        let held = event.pnr_id.as_ref().and_then(|id| self.held.get(id));
        if let (Some(held), Some(got)) = (held.and_then(|b| b.version), event.version)
            && got <= held
        {
            return Ok(Decision {
                taken: Taken::Stale { held, got },
                booking: None,
                users: Vec::new(),
            });
        }
        for (user, name) in &event.travelers {
            if let Some(known) = self.users.get(user)
                && !same_name(known, name)
            {
                return Err(Conflict(format!(
                    "traveler {user} is {known}; this event names them {name}"
                )));
            }
        }
        let booking = match &event.pnr_id {
            Some(pnr) => Some((pnr.clone(), next(held.cloned(), event, pnr)?)),
            None => None,
        };
        Ok(Decision {
            taken: Taken::Applied,
            booking,
            users: event.travelers.clone(),
        })
    }

    /// Applies a decision of [`judge`](Bookings::judge).
    pub fn commit(&mut self, decision: Decision) {
        if let Some((pnr, booking)) = decision.booking {
            *self.held.entry(pnr, Booking::default) = booking;
        }
        for (user, name) in decision.users {
            self.users.entry(user, || name);
        }
    }

    /// Judges and, when it does not conflict, commits `event`.
    pub fn take(&mut self, event: &BookingEvent) -> Result<Taken, Conflict> {
        let decision = self.judge(event)?;
        let taken = decision.taken.clone();
        self.commit(decision);
        Ok(taken)
    }
}

/// Names are the same person's when equal but for case and spacing.
fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// `booking` after `event` (newer than it), or what contradicts it. `held` is `None`
/// when the PNR is first seen: a partner subscribed to voids and refunds but not to
/// ticketing gets such an event first, with nothing to look the ticket up in; the
/// payload shows the ticket itself, so it is taken as issued earlier, not refused.
fn next(held: Option<Booking>, event: &BookingEvent, pnr: &str) -> Result<Booking, Conflict> {
    let first_seen = held.is_none();
    let mut booking = held.unwrap_or_default();
    if let Some(trip) = &event.trip_id {
        match &booking.trip_id {
            Some(held) if held != trip => {
                return Err(Conflict(format!(
                    "PNR {pnr} belongs to trip {held}; this event files it under trip {trip}"
                )));
            }
            _ => booking.trip_id = Some(trip.clone()),
        }
    }
    for (user, name) in &event.travelers {
        if let Some(known) = booking.travelers.get(user)
            && !same_name(known, name)
        {
            return Err(Conflict(format!(
                "traveler {user} of PNR {pnr} is {known}; this event names them {name}"
            )));
        }
        booking.travelers.insert(user.clone(), name.clone());
    }
    if event.total_fare.is_some() && booking.total_fare.is_none() {
        booking.total_fare = event.total_fare.clone();
    }
    let seen = |number: &str| event.tickets.iter().find(|t| t.number == number);
    // Issued: the summary's, every ticket the payload shows as issued and, when the PNR
    // is first seen, the tickets it voids or refunds (issued before this partner heard).
    let issued_before = first_seen
        .then(|| event.voided.iter().chain(&event.refunded))
        .into_iter()
        .flatten();
    let issued = event
        .issued
        .iter()
        .chain(issued_before)
        .map(String::as_str)
        .chain(
            event
                .tickets
                .iter()
                .filter(|t| t.status.as_deref() == Some("ISSUED"))
                .map(|t| t.number.as_str()),
        );
    for number in issued {
        let fare = seen(number).and_then(|t| t.fare.clone());
        let ticket = booking.tickets.entry(number.to_owned()).or_insert(Ticket {
            state: TicketState::Issued,
            fare: None,
        });
        if ticket.fare.is_none() {
            ticket.fare = fare;
        }
    }
    for number in &event.voided {
        let ticket = issued_ticket(&mut booking, number, pnr, "void")?;
        ticket.state = TicketState::Voided;
    }
    for number in &event.refunded {
        let total_fare = booking.total_fare.clone();
        let ticket = issued_ticket(&mut booking, number, pnr, "refund")?;
        if let Some(refund) = seen(number).and_then(|t| t.refund.clone()) {
            let (paid, what) = match (&ticket.fare, &total_fare) {
                (Some(fare), _) if fare.currency == refund.currency => (Some(fare), "its fare"),
                (_, Some(total)) if total.currency == refund.currency => {
                    (Some(total), "the booking's total fare")
                }
                _ => (None, ""),
            };
            if let Some(paid) = paid
                && refund.cents > paid.cents
            {
                return Err(Conflict(format!(
                    "refund of {refund} for ticket {number} of PNR {pnr} is above {what}, {paid}"
                )));
            }
        }
        ticket.state = TicketState::Refunded;
    }
    booking.version = event.version.or(booking.version);
    Ok(booking)
}

/// The held ticket `number`, still issued (neither voided nor refunded), for a `what`
/// (void, refund) to act on.
fn issued_ticket<'a>(
    booking: &'a mut Booking,
    number: &str,
    pnr: &str,
    what: &str,
) -> Result<&'a mut Ticket, Conflict> {
    let Some(ticket) = booking.tickets.get_mut(number) else {
        return Err(Conflict(format!(
            "{what} of ticket {number}, never issued for PNR {pnr}"
        )));
    };
    match ticket.state {
        TicketState::Issued => Ok(ticket),
        TicketState::Voided => Err(Conflict(format!(
            "{what} of ticket {number} of PNR {pnr}, already voided"
        ))),
        TicketState::Refunded => Err(Conflict(format!(
            "{what} of ticket {number} of PNR {pnr}, already refunded"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PNR: &str = "1424700026";
    const TRIP: &str = "2644545869";
    const LUKASZ: &str = "a6b2f1c4-0000-4000-8000-000000000001";
    const ZOE: &str = "a6b2f1c4-0000-4000-8000-000000000002";

    /// A PNR_V3 event of booking [`PNR`] as Spotnana shapes it: `tickets` are
    /// `(number, status, fare in cents, refund in cents)`.
    fn pnr_event(
        operation: &str,
        version: i64,
        trip: &str,
        travelers: &[(&str, &str, &str)],
        summary: (&[&str], &[&str], &[&str]),
        tickets: &[(&str, &str, i64, Option<i64>)],
    ) -> BookingEvent {
        let eur = |cents: i64| json!({ "amount": cents as f64 / 100.0, "currencyCode": "EUR" });
        let tickets: Vec<Value> = tickets
            .iter()
            .map(|(number, status, fare, refund)| {
                let mut ticket = json!({
                    "ticketNumber": number,
                    "status": status,
                    "amount": { "base": eur(fare - fare / 10), "tax": eur(fare / 10) },
                });
                if let Some(refund) = refund {
                    ticket["refundInfo"] = json!({ "refundAmount": { "base": eur(*refund) } });
                }
                ticket
            })
            .collect();
        let body = json!({
            "eventType": "PNR_V3",
            "operation": operation,
            "timestamp": "2026-11-29T10:15:30.123Z",
            "operationSummary": {
                "ticketsIssued": summary.0,
                "ticketsVoided": summary.1,
                "ticketsRefunded": summary.2,
            },
            "payload": {
                "pnrId": PNR,
                "tripId": trip,
                "version": version,
                "pnrTravelers": travelers.iter().map(|(id, given, family)| json!({
                    "userId": { "id": id },
                    "personalInfo": { "name": { "given": given, "family1": family } },
                })).collect::<Vec<_>>(),
                "air": { "travelerInfos": [{ "travelerIdx": 0, "tickets": tickets }] },
                "totalFare": eur(174_142),
            },
        });
        BookingEvent::read(&serde_json::to_vec(&body).unwrap()).unwrap()
    }

    const NONE: &[&str] = &[];
    const ONE: &[(&str, &str, &str)] = &[(LUKASZ, "Łukasz", "Patel")];

    /// A void of `ticket` at `version`, on the usual trip and traveler.
    fn void_of(version: i64, ticket: &str) -> BookingEvent {
        pnr_event(
            "TICKET_VOIDED",
            version,
            TRIP,
            ONE,
            (NONE, &[ticket], NONE),
            &[],
        )
    }

    /// A refund of `ticket` at `version`, on the usual trip and traveler.
    fn refund_of(version: i64, ticket: &str) -> BookingEvent {
        pnr_event(
            "TICKET_REFUNDED",
            version,
            TRIP,
            ONE,
            (NONE, NONE, &[ticket]),
            &[],
        )
    }

    fn created() -> BookingEvent {
        pnr_event("BOOKING_CREATED", 1, TRIP, ONE, (NONE, NONE, NONE), &[])
    }

    fn ticketed() -> BookingEvent {
        pnr_event(
            "BOOKING_TICKETED",
            2,
            TRIP,
            ONE,
            (&["0741234567890"], NONE, NONE),
            &[("0741234567890", "ISSUED", 80_000, None)],
        )
    }

    #[test]
    fn reads_the_fields_of_a_spotnana_envelope() {
        let event = ticketed();
        assert_eq!(event.pnr_id.as_deref(), Some(PNR));
        assert_eq!(event.version, Some(2));
        assert_eq!(event.trip_id.as_deref(), Some(TRIP));
        assert_eq!(
            event.travelers,
            [(LUKASZ.to_owned(), "Łukasz Patel".to_owned())]
        );
        assert_eq!(event.issued, ["0741234567890"]);
        let fare = event.tickets[0].fare.clone().unwrap();
        assert_eq!(fare.to_string(), "800.00 EUR");
        assert_eq!(event.total_fare.unwrap().to_string(), "1741.42 EUR");
        assert_eq!(BookingEvent::read(b"not json"), None);
    }

    #[test]
    fn a_coherent_lifecycle_is_applied_event_by_event() {
        let mut bookings = Bookings::new(16);
        let voided = pnr_event(
            "TICKET_VOIDED",
            3,
            TRIP,
            ONE,
            (NONE, &["0741234567890"], NONE),
            &[("0741234567890", "VOIDED", 80_000, None)],
        );
        let reissued = pnr_event(
            "BOOKING_TICKETED",
            4,
            TRIP,
            &[(LUKASZ, "ŁUKASZ", "PATEL"), (ZOE, "Zoë", "Dvořák")],
            (&["0749999999999", "0748888888888"], NONE, NONE),
            &[
                ("0749999999999", "ISSUED", 80_000, None),
                ("0748888888888", "ISSUED", 60_000, None),
            ],
        );
        let refunded = pnr_event(
            "TICKET_REFUNDED",
            5,
            TRIP,
            &[(LUKASZ, "Łukasz", "Patel"), (ZOE, "Zoë", "Dvořák")],
            (NONE, NONE, &["0749999999999"]),
            &[("0749999999999", "REFUNDED", 80_000, Some(80_000))],
        );
        for event in [created(), ticketed(), voided, reissued, refunded] {
            assert_eq!(bookings.take(&event), Ok(Taken::Applied), "{event:?}");
        }
    }

    #[test]
    fn an_older_version_is_accepted_and_not_applied() {
        let mut bookings = Bookings::new(16);
        bookings.take(&created()).unwrap();
        bookings.take(&ticketed()).unwrap();
        // Version 1 again, arriving late, under another trip: held data is newer.
        let late = pnr_event(
            "BOOKING_CREATED",
            1,
            "9324091049",
            ONE,
            (NONE, NONE, NONE),
            &[],
        );
        assert_eq!(bookings.take(&late), Ok(Taken::Stale { held: 2, got: 1 }));
        // The same version again is not applied either.
        assert_eq!(
            bookings.take(&ticketed()),
            Ok(Taken::Stale { held: 2, got: 2 })
        );
        // Not applied: a stale event issuing a ticket does not make its void valid.
        let stale_issue = pnr_event(
            "BOOKING_TICKETED",
            2,
            TRIP,
            ONE,
            (&["0740000000000"], NONE, NONE),
            &[],
        );
        assert!(matches!(
            bookings.take(&stale_issue),
            Ok(Taken::Stale { .. })
        ));
        let void = void_of(3, "0740000000000");
        assert_eq!(
            bookings.take(&void).unwrap_err().0,
            "void of ticket 0740000000000, never issued for PNR 1424700026"
        );
        // Nor did the late event's trip replace the held one.
        let same_trip = pnr_event("BOOKING_MODIFIED", 3, TRIP, ONE, (NONE, NONE, NONE), &[]);
        assert_eq!(bookings.take(&same_trip), Ok(Taken::Applied));
    }

    #[test]
    fn another_trip_for_the_same_pnr_is_a_conflict() {
        let mut bookings = Bookings::new(16);
        bookings.take(&created()).unwrap();
        let moved = pnr_event(
            "BOOKING_TICKETED",
            15,
            "9324091049",
            ONE,
            (NONE, NONE, NONE),
            &[],
        );
        assert_eq!(
            bookings.take(&moved).unwrap_err().0,
            "PNR 1424700026 belongs to trip 2644545869; this event files it under trip 9324091049"
        );
        // Refused, so not applied: the held trip stays.
        assert_eq!(
            bookings.take(&pnr_event(
                "BOOKING_MODIFIED",
                16,
                TRIP,
                ONE,
                (NONE, NONE, NONE),
                &[]
            )),
            Ok(Taken::Applied)
        );
    }

    #[test]
    fn a_traveler_who_changed_identity_is_a_conflict() {
        let mut bookings = Bookings::new(16);
        bookings.take(&created()).unwrap();
        let renamed = pnr_event(
            "BOOKING_MODIFIED",
            2,
            TRIP,
            &[(LUKASZ, "Jürgen", "Williams")],
            (NONE, NONE, NONE),
            &[],
        );
        assert_eq!(
            bookings.take(&renamed).unwrap_err().0,
            format!("traveler {LUKASZ} is Łukasz Patel; this event names them Jürgen Williams")
        );
        // Across bookings too: a TRAVELER_V2 event about the same user id.
        let profile = json!({
            "eventType": "TRAVELER_V2",
            "operation": "TRAVELER_UPDATED",
            "payload": { "id": LUKASZ, "personalInfo": { "name": { "given": "Sofía", "family1": "Ångström" } } },
        });
        let profile = BookingEvent::read(&serde_json::to_vec(&profile).unwrap()).unwrap();
        assert!(
            bookings
                .take(&profile)
                .unwrap_err()
                .0
                .contains("Sofía Ångström")
        );
    }

    #[test]
    fn a_pnr_first_seen_through_its_void_is_taken_as_issued_earlier() {
        // A partner subscribed to voids but not to ticketing gets the void first.
        let mut bookings = Bookings::new(16);
        let void = void_of(3, "0741111111111");
        assert_eq!(bookings.take(&void), Ok(Taken::Applied));
        // Now the booking is held: the same ticket cannot be voided or refunded again.
        let again = refund_of(4, "0741111111111");
        assert_eq!(
            bookings.take(&again).unwrap_err().0,
            "refund of ticket 0741111111111 of PNR 1424700026, already voided"
        );
    }

    #[test]
    fn voiding_or_refunding_a_ticket_never_issued_is_a_conflict() {
        let mut bookings = Bookings::new(16);
        bookings.take(&created()).unwrap();
        let void = void_of(2, "0741111111111");
        assert_eq!(
            bookings.take(&void).unwrap_err().0,
            "void of ticket 0741111111111, never issued for PNR 1424700026"
        );
        let refund = refund_of(2, "0741111111111");
        assert_eq!(
            bookings.take(&refund).unwrap_err().0,
            "refund of ticket 0741111111111, never issued for PNR 1424700026"
        );
        // Issued, voided, then voided or refunded again.
        bookings.take(&ticketed()).unwrap();
        let void = void_of(3, "0741234567890");
        assert_eq!(bookings.take(&void), Ok(Taken::Applied));
        let again = refund_of(4, "0741234567890");
        assert_eq!(
            bookings.take(&again).unwrap_err().0,
            "refund of ticket 0741234567890 of PNR 1424700026, already voided"
        );
    }

    #[test]
    fn a_refund_above_the_fare_is_a_conflict() {
        let mut bookings = Bookings::new(16);
        bookings.take(&created()).unwrap();
        bookings.take(&ticketed()).unwrap();
        let too_much = pnr_event(
            "TICKET_REFUNDED",
            3,
            TRIP,
            ONE,
            (NONE, NONE, &["0741234567890"]),
            &[("0741234567890", "REFUNDED", 80_000, Some(80_001))],
        );
        assert_eq!(
            bookings.take(&too_much).unwrap_err().0,
            "refund of 800.01 EUR for ticket 0741234567890 of PNR 1424700026 is above its fare, 800.00 EUR"
        );
        let all_of_it = pnr_event(
            "TICKET_REFUNDED",
            3,
            TRIP,
            ONE,
            (NONE, NONE, &["0741234567890"]),
            &[("0741234567890", "REFUNDED", 80_000, Some(80_000))],
        );
        assert_eq!(bookings.take(&all_of_it), Ok(Taken::Applied));
    }

    #[test]
    fn todays_incoherent_story_of_one_pnr_is_refused() {
        // The issue's example: PNR 1424700026 arrives three times with three trips and
        // three sets of travelers.
        let mut bookings = Bookings::new(16);
        bookings.take(&created()).unwrap();
        let ticketed = pnr_event(
            "BOOKING_TICKETED",
            15,
            "9324091049",
            &[(ZOE, "Zoë", "Dvořák")],
            (NONE, NONE, NONE),
            &[],
        );
        assert!(bookings.take(&ticketed).is_err());
    }
}
