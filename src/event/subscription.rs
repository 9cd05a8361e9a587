//! The subscription as Spotnana configures it on the partner's onboarding form: the
//! event types, the operations of each ("let us know the operations you'd like to set
//! up") and the organizations whose events the endpoint receives.
//!
//! A run sends only what the subscription covers: Spotnana never delivers an
//! operation or an organization the partner did not sign up for, so judging an
//! endpoint on one would blame it for something it will never see.
//!
//! The command-line grammar of one `--events` item is `TYPE` (every operation of the
//! type) or `TYPE:OPERATION+OPERATION…`; the project file writes the same as a table.

use std::fmt;

use serde::Serialize;

use super::catalogue::{EventKind, EventType, closest};

/// One subscribed event type with the operations subscribed for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribedType {
    /// The event type.
    pub event_type: EventType,
    /// The operations, in catalogue order; `None`: every operation of the type.
    pub operations: Option<Vec<&'static str>>,
}

impl SubscribedType {
    /// Every operation of `event_type`.
    pub fn every(event_type: EventType) -> SubscribedType {
        SubscribedType {
            event_type,
            operations: None,
        }
    }

    /// The subscribed operations, in catalogue order.
    pub fn operations(&self) -> Vec<&'static str> {
        match &self.operations {
            Some(operations) => operations.clone(),
            None => self.event_type.operations().to_vec(),
        }
    }
}

/// What the endpoint subscribed to: event types with their operations, and the
/// organizations (none: no organization filter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The subscribed types, in catalogue order, each once.
    types: Vec<SubscribedType>,
    /// The organizations (`--org-id`), in the order given, each once; empty: every
    /// organization (a run then uses a seeded one).
    organizations: Vec<String>,
}

impl Default for Subscription {
    fn default() -> Self {
        Subscription::all()
    }
}

impl Subscription {
    /// Every type and operation of the catalogue, no organization filter.
    pub fn all() -> Subscription {
        Subscription {
            types: EventType::ALL.map(SubscribedType::every).to_vec(),
            organizations: Vec::new(),
        }
    }

    /// A subscription of these types (merged: a type given twice gets the union of its
    /// operations; every operation wins over a list) and organizations (duplicates
    /// dropped). No type at all means every type, as `--events` has always meant.
    pub fn new(types: Vec<SubscribedType>, organizations: Vec<String>) -> Subscription {
        let mut merged: Vec<SubscribedType> = Vec::new();
        for item in types {
            match merged.iter_mut().find(|m| m.event_type == item.event_type) {
                None => merged.push(item),
                Some(existing) => {
                    existing.operations = match (existing.operations.take(), item.operations) {
                        (Some(mut a), Some(b)) => {
                            a.extend(b);
                            Some(a)
                        }
                        _ => None,
                    }
                }
            }
        }
        for item in &mut merged {
            if let Some(operations) = &mut item.operations {
                let catalogue = item.event_type.operations();
                operations.sort_by_key(|op| catalogue.iter().position(|c| c == op));
                operations.dedup();
            }
        }
        merged.sort_by_key(|m| m.event_type);
        if merged.is_empty() {
            merged = EventType::ALL.map(SubscribedType::every).to_vec();
        }
        let mut unique: Vec<String> = Vec::new();
        for org in organizations {
            if !unique.contains(&org) {
                unique.push(org);
            }
        }
        Subscription {
            types: merged,
            organizations: unique,
        }
    }

    /// Parses `--events` items (`TYPE` or `TYPE:OP+OP`, each value comma-separated,
    /// blanks ignored) with these organizations.
    pub fn parse(
        events: &[String],
        organizations: Vec<String>,
    ) -> Result<Subscription, SubscriptionError> {
        let types = events
            .iter()
            .flat_map(|item| item.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(parse_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Subscription::new(types, organizations))
    }

    /// The subscribed types with their operations.
    pub fn types(&self) -> &[SubscribedType] {
        &self.types
    }

    /// The subscribed event types alone.
    pub fn event_types(&self) -> Vec<EventType> {
        self.types.iter().map(|t| t.event_type).collect()
    }

    /// Every subscribed `EVENT/OPERATION`, in catalogue order.
    pub fn kinds(&self) -> Vec<EventKind> {
        EventKind::all().filter(|kind| self.covers(*kind)).collect()
    }

    /// Whether Spotnana would deliver `kind` to this endpoint.
    pub fn covers(&self, kind: EventKind) -> bool {
        self.types.iter().any(|t| {
            t.event_type == kind.event_type
                && t.operations
                    .as_ref()
                    .is_none_or(|ops| ops.contains(&kind.operation))
        })
    }

    /// The organizations (empty: no organization filter).
    pub fn organizations(&self) -> &[String] {
        &self.organizations
    }

    /// Whether a delivery for `organization` is one Spotnana would make.
    pub fn covers_organization(&self, organization: &str) -> bool {
        self.organizations.is_empty() || self.organizations.iter().any(|o| o == organization)
    }

    /// Whether this is every type and operation (what no `--events` means).
    pub fn is_every_event(&self) -> bool {
        self.types.len() == EventType::ALL.len()
            && self.types.iter().all(|t| t.operations.is_none())
    }

    /// The `--events` value that gives these types and operations back.
    pub fn events_arg(&self) -> String {
        self.types
            .iter()
            .map(|t| match &t.operations {
                None => t.event_type.as_str().to_owned(),
                Some(ops) => format!("{}:{}", t.event_type, ops.join("+")),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Subscription {
    /// `PNR_V3:BOOKING_CREATED+BOOKING_TICKETED,TRAVELER_V2`, then the organizations.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.events_arg())?;
        if !self.organizations.is_empty() {
            write!(f, " for organization(s) {}", self.organizations.join(", "))?;
        }
        Ok(())
    }
}

/// The subscription as a report states it: each type with its operations listed, and
/// the organizations.
impl Serialize for Subscription {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(Serialize)]
        struct Type {
            #[serde(rename = "type")]
            event_type: &'static str,
            every_operation: bool,
            operations: Vec<&'static str>,
        }
        let types: Vec<Type> = self
            .types
            .iter()
            .map(|t| Type {
                event_type: t.event_type.as_str(),
                every_operation: t.operations.is_none(),
                operations: t.operations(),
            })
            .collect();
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("events", &types)?;
        map.serialize_entry("organizations", &self.organizations)?;
        map.end()
    }
}

/// Parses one `TYPE` or `TYPE:OP+OP`.
fn parse_item(item: &str) -> Result<SubscribedType, SubscriptionError> {
    let (type_text, operations) = match item.split_once(':') {
        Some((t, ops)) => (t.trim(), Some(ops)),
        None => (item, None),
    };
    let event_type = parse_type(type_text)?;
    let Some(operations) = operations else {
        return Ok(SubscribedType::every(event_type));
    };
    let operations = operations
        .split('+')
        .map(str::trim)
        .map(|op| {
            if op.is_empty() {
                Err(SubscriptionError::NoOperation { event_type })
            } else {
                parse_operation(event_type, op)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SubscribedType {
        event_type,
        operations: Some(operations),
    })
}

/// An event type by its wire name.
pub fn parse_type(text: &str) -> Result<EventType, SubscriptionError> {
    EventType::ALL
        .into_iter()
        .find(|t| t.as_str() == text)
        .ok_or_else(|| SubscriptionError::UnknownType {
            given: text.to_owned(),
            suggestion: closest(text, EventType::ALL.iter().map(|t| t.as_str())),
        })
}

/// One operation of `event_type`, as the catalogue spells it.
pub fn parse_operation(
    event_type: EventType,
    text: &str,
) -> Result<&'static str, SubscriptionError> {
    event_type
        .operations()
        .iter()
        .find(|op| **op == text)
        .copied()
        .ok_or_else(|| SubscriptionError::UnknownOperation {
            event_type,
            given: text.to_owned(),
            suggestion: closest(text, event_type.operations().iter().copied()),
        })
}

/// A subscription that names something outside the catalogue. Its message lists the
/// valid values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// Not one of the six event types.
    #[error("unknown event type `{given}`; expected one of {}{}", type_names(), did_you_mean(*suggestion))]
    UnknownType {
        /// The text given.
        given: String,
        /// The closest event type, if any is close.
        suggestion: Option<&'static str>,
    },
    /// Not an operation of this (known) event type.
    #[error("unknown operation `{given}` for {event_type}; expected one of {}{}", event_type.operations().join(", "), did_you_mean(*suggestion))]
    UnknownOperation {
        /// The event type.
        event_type: EventType,
        /// The operation given.
        given: String,
        /// The closest operation, if any is close.
        suggestion: Option<&'static str>,
    },
    /// `TYPE:` or `A++B`: an empty operation.
    #[error("an empty operation for {event_type}; expected one of {}", event_type.operations().join(", "))]
    NoOperation {
        /// The event type.
        event_type: EventType,
    },
}

impl SubscriptionError {
    /// The closest valid value, if any is close.
    pub fn suggestion(&self) -> Option<&'static str> {
        match self {
            SubscriptionError::UnknownType { suggestion, .. }
            | SubscriptionError::UnknownOperation { suggestion, .. } => *suggestion,
            SubscriptionError::NoOperation { .. } => None,
        }
    }
}

fn type_names() -> String {
    EventType::ALL.map(|t| t.as_str()).join(", ")
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(items: &[&str]) -> Result<Subscription, SubscriptionError> {
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        Subscription::parse(&items, Vec::new())
    }

    #[test]
    fn the_old_form_is_every_operation_of_each_type() {
        let sub = parse(&["PNR_V3", "TRAVELER_V2"]).unwrap();
        assert_eq!(
            sub.event_types(),
            vec![EventType::PnrV3, EventType::TravelerV2]
        );
        assert_eq!(sub.kinds().len(), 21 + 4);
        assert_eq!(sub.events_arg(), "PNR_V3,TRAVELER_V2");
        // One value holding several items (the canonical form, a project file) too.
        assert_eq!(parse(&["PNR_V3,TRAVELER_V2"]).unwrap(), sub);
        assert!(parse(&[]).unwrap().is_every_event());
        assert!(parse(&[" ", ""]).unwrap().is_every_event());
    }

    #[test]
    fn operations_narrow_a_type_and_merge_in_catalogue_order() {
        let sub = parse(&[
            "TRAVELER_V2",
            "PNR_V3:BOOKING_TICKETED+BOOKING_CREATED",
            "PNR_V3:BOOKING_CREATED",
        ])
        .unwrap();
        let kinds: Vec<String> = sub.kinds().iter().map(|k| k.to_string()).collect();
        assert_eq!(
            kinds[..2],
            ["PNR_V3/BOOKING_CREATED", "PNR_V3/BOOKING_TICKETED"]
        );
        assert_eq!(kinds.len(), 2 + 4);
        assert_eq!(
            sub.events_arg(),
            "PNR_V3:BOOKING_CREATED+BOOKING_TICKETED,TRAVELER_V2"
        );
        let merged = parse(&["PNR_V3:BOOKING_CREATED", "PNR_V3"]).unwrap();
        assert_eq!(merged.events_arg(), "PNR_V3");
    }

    #[test]
    fn unknown_values_name_the_catalogue() {
        let err = parse(&["PNR_V2"]).unwrap_err().to_string();
        assert!(err.contains("unknown event type `PNR_V2`"), "{err}");
        assert!(err.contains("SERVICE_CHARGE"), "{err}");
        assert!(err.contains("did you mean `PNR_V3`"), "{err}");
        let err = parse(&["PNR_V3:BOOKING_TICKETTED"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown operation `BOOKING_TICKETTED` for PNR_V3"),
            "{err}"
        );
        assert!(err.contains("INVOICE_GENERATED"), "{err}");
        assert!(err.contains("did you mean `BOOKING_TICKETED`"), "{err}");
        let err = parse(&["PNR_V3:"]).unwrap_err().to_string();
        assert!(err.contains("an empty operation for PNR_V3"), "{err}");
    }

    proptest::proptest! {
        /// Any mix of `TYPE` and `TYPE:OP+OP` items: the canonical `--events` value
        /// gives the same subscription back, and it covers exactly the kinds named
        /// (every kind of a type named alone).
        #[test]
        fn the_events_value_round_trips(
            picks in proptest::collection::vec(
                (0..EventType::ALL.len(), proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..4)),
                1..6,
            )
        ) {
            let mut items = Vec::new();
            let mut named: Vec<(EventType, Option<&str>)> = Vec::new();
            for (type_index, ops) in &picks {
                let event_type = EventType::ALL[*type_index];
                if ops.is_empty() {
                    items.push(event_type.as_str().to_owned());
                    named.push((event_type, None));
                } else {
                    let chosen: Vec<&str> = ops
                        .iter()
                        .map(|i| *i.get(event_type.operations()))
                        .collect();
                    items.push(format!("{event_type}:{}", chosen.join("+")));
                    named.extend(chosen.into_iter().map(|op| (event_type, Some(op))));
                }
            }
            let sub = Subscription::parse(&items, Vec::new()).unwrap();
            let again = Subscription::parse(&[sub.events_arg()], Vec::new()).unwrap();
            proptest::prop_assert_eq!(&again, &sub);
            for kind in EventKind::all() {
                let expected = named.iter().any(|(t, op)| {
                    *t == kind.event_type && op.is_none_or(|op| op == kind.operation)
                });
                proptest::prop_assert_eq!(sub.covers(kind), expected, "{}", kind);
            }
        }
    }

    #[test]
    fn organizations_filter_deliveries() {
        let sub = Subscription::new(Vec::new(), vec!["a".into(), "b".into(), "a".into()]);
        assert_eq!(sub.organizations(), ["a", "b"]);
        assert!(sub.covers_organization("b"));
        assert!(!sub.covers_organization("c"));
        assert!(Subscription::all().covers_organization("c"));
    }
}
