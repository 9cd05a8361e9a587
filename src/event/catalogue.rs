//! The catalogue of Spotnana webhook event types and their operations.
//!
//! Spellings are exactly as Spotnana publishes them (note `FLIGHT_CANCELLED` beside
//! `BOOKING_CANCELED_BY_TRAVELER`).

use std::fmt;
use std::str::FromStr;

/// One of the six event types Spotnana delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A PNR (booking) changed: air, hotel, car or rail.
    PnrV3,
    /// A traveler profile changed.
    TravelerV2,
    /// A trip changed.
    TripDetailsV3,
    /// An approval is pending for a PNR.
    PnrApproval,
    /// An agent task was created or updated.
    AgentTaskDetails,
    /// A TMC service fee was charged.
    ServiceCharge,
}

impl EventType {
    /// Every event type, in catalogue order.
    pub const ALL: [EventType; 6] = [
        EventType::PnrV3,
        EventType::TravelerV2,
        EventType::TripDetailsV3,
        EventType::PnrApproval,
        EventType::AgentTaskDetails,
        EventType::ServiceCharge,
    ];

    /// The wire name (`PNR_V3`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PnrV3 => "PNR_V3",
            EventType::TravelerV2 => "TRAVELER_V2",
            EventType::TripDetailsV3 => "TRIP_DETAILS_V3",
            EventType::PnrApproval => "PNR_APPROVAL",
            EventType::AgentTaskDetails => "AGENT_TASK_DETAILS",
            EventType::ServiceCharge => "SERVICE_CHARGE",
        }
    }

    /// The operations documented for this event type.
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            EventType::PnrV3 => &[
                "BOOKING_CREATED",
                "PAYMENT_DECLINED",
                "BOOKING_TICKETED",
                "SPLIT_PNR_CREATED",
                "TICKET_VOIDED",
                "TICKET_REFUNDED",
                "FLIGHT_SCHEDULE_CHANGE_PENDING",
                "FLIGHT_SCHEDULE_CHANGE_CLOSED",
                "FLIGHT_CABIN_CHANGED",
                "FLIGHT_CANCELLED",
                "FLIGHT_CHANGED",
                "FLIGHT_SEAT_CONFIRMED",
                "FLIGHT_SEAT_CHANGED",
                "FLIGHT_SEAT_CANCELLED",
                "BOOKING_UPDATED",
                "BOOKING_REBOOKED",
                "BOOKING_CANCELED_BY_TRAVELER",
                "BOOKING_CANCELED_BY_VENDOR",
                "TRIP_UPDATED",
                "BOOKING_OTHER_UPDATE",
                "INVOICE_GENERATED",
            ],
            EventType::TravelerV2 => &["CREATE", "UPDATE", "DELETE", "PURGE"],
            EventType::TripDetailsV3 => &["TRIP_UPDATED"],
            EventType::PnrApproval => &["SOFT_APPROVAL"],
            EventType::AgentTaskDetails => &["TASK_CREATE", "TASK_UPDATE"],
            EventType::ServiceCharge => &["SERVICE_FEE"],
        }
    }

    /// Whether `operation` is in the catalogue for this type.
    pub fn has_operation(self, operation: &str) -> bool {
        self.operations().contains(&operation)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = UnknownEvent;

    fn from_str(text: &str) -> Result<EventType, UnknownEvent> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| UnknownEvent::Type {
                given: text.to_owned(),
                operation: None,
                suggestion: closest(text, EventType::ALL.iter().map(|t| t.as_str())),
            })
    }
}

/// An event type together with one of its operations: what `EVENT/OPERATION` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKind {
    /// The event type.
    pub event_type: EventType,
    /// The operation (always one of `event_type.operations()`).
    pub operation: &'static str,
}

impl EventKind {
    /// Every documented `EVENT/OPERATION` pair, in catalogue order.
    pub fn all() -> impl Iterator<Item = EventKind> {
        EventType::ALL.into_iter().flat_map(|event_type| {
            event_type
                .operations()
                .iter()
                .map(move |operation| EventKind {
                    event_type,
                    operation,
                })
        })
    }

    /// Every pair of the given event types.
    pub fn all_of(types: &[EventType]) -> Vec<EventKind> {
        EventKind::all()
            .filter(|kind| types.contains(&kind.event_type))
            .collect()
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.event_type, self.operation)
    }
}

impl FromStr for EventKind {
    type Err = UnknownEvent;

    /// Parses `EVENT/OPERATION`, e.g. `PNR_V3/BOOKING_TICKETED`.
    fn from_str(text: &str) -> Result<EventKind, UnknownEvent> {
        let Some((type_text, op_text)) = text.split_once('/') else {
            return Err(UnknownEvent::Shape {
                given: text.to_owned(),
            });
        };
        let event_type: EventType = type_text.parse().map_err(|err| match err {
            UnknownEvent::Type {
                given, suggestion, ..
            } => UnknownEvent::Type {
                given,
                operation: Some(op_text.to_owned()),
                suggestion,
            },
            other => other,
        })?;
        match event_type.operations().iter().find(|op| **op == op_text) {
            Some(operation) => Ok(EventKind {
                event_type,
                operation,
            }),
            None => Err(UnknownEvent::Operation {
                event_type,
                given: op_text.to_owned(),
                suggestion: closest(op_text, event_type.operations().iter().copied()),
            }),
        }
    }
}

/// An `EVENT/OPERATION` that is not in the catalogue. Its message lists the valid values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownEvent {
    /// Not of the form `EVENT/OPERATION`.
    Shape {
        /// The text given.
        given: String,
    },
    /// The event type is unknown.
    Type {
        /// The event type given.
        given: String,
        /// The operation given after the `/`, if any.
        operation: Option<String>,
        /// The closest known event type, if any is close.
        suggestion: Option<&'static str>,
    },
    /// The operation is unknown for a known event type.
    Operation {
        /// The (known) event type.
        event_type: EventType,
        /// The operation given.
        given: String,
        /// The closest known operation, if any is close.
        suggestion: Option<&'static str>,
    },
}

impl UnknownEvent {
    /// The "did you mean" candidate, if any.
    pub fn suggestion(&self) -> Option<String> {
        match self {
            UnknownEvent::Shape { .. } => None,
            UnknownEvent::Type {
                operation,
                suggestion,
                ..
            } => suggestion.map(|s| match operation {
                Some(op) => format!("{s}/{op}"),
                None => s.to_owned(),
            }),
            UnknownEvent::Operation {
                event_type,
                suggestion,
                ..
            } => suggestion.map(|s| format!("{event_type}/{s}")),
        }
    }

    /// The valid values a user could have meant, for the message's "expected" part.
    pub fn expected(&self) -> String {
        match self {
            UnknownEvent::Operation { event_type, .. } => {
                format!("one of {}", event_type.operations().join(", "))
            }
            _ => format!(
                "EVENT/OPERATION with EVENT one of {}",
                EventType::ALL.map(|t| t.as_str()).join(", ")
            ),
        }
    }
}

impl fmt::Display for UnknownEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnknownEvent::Shape { given } => write!(
                f,
                "`{given}` is not EVENT/OPERATION (for example PNR_V3/BOOKING_CREATED); expected {}",
                self.expected()
            )?,
            UnknownEvent::Type { given, .. } => write!(
                f,
                "unknown event type `{given}`; expected {}",
                self.expected()
            )?,
            UnknownEvent::Operation {
                event_type, given, ..
            } => write!(
                f,
                "unknown operation `{given}` for {event_type}; expected {}",
                self.expected()
            )?,
        }
        if let Some(suggestion) = self.suggestion() {
            write!(f, " (did you mean `{suggestion}`?)")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownEvent {}

/// The candidate closest to `given`, when it is close enough to be a likely typo.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given_upper = given.to_ascii_uppercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&given_upper, &c.to_ascii_uppercase()),
                c,
            )
        })
        .filter(|(distance, c)| *distance <= (c.len() / 4).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_catalogue_pair() {
        let all: Vec<_> = EventKind::all().collect();
        assert_eq!(all.len(), 21 + 4 + 1 + 1 + 2 + 1);
        for kind in all {
            assert_eq!(kind.to_string().parse::<EventKind>(), Ok(kind));
        }
    }

    #[test]
    fn unknown_operation_lists_valid_ones_and_suggests() {
        let err = "PNR_V3/BOOKING_TICKETTED".parse::<EventKind>().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("unknown operation `BOOKING_TICKETTED` for PNR_V3"),
            "{text}"
        );
        assert!(text.contains("INVOICE_GENERATED"), "{text}");
        assert!(
            text.contains("did you mean `PNR_V3/BOOKING_TICKETED`?"),
            "{text}"
        );
    }

    #[test]
    fn unknown_type_and_bad_shape_are_errors() {
        let err = "PNR_V2/BOOKING_CREATED".parse::<EventKind>().unwrap_err();
        assert_eq!(err.suggestion().as_deref(), Some("PNR_V3/BOOKING_CREATED"));
        let err = "BOOKING_CREATED".parse::<EventKind>().unwrap_err();
        assert!(err.to_string().contains("is not EVENT/OPERATION"));
    }
}
