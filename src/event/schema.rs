//! Spotnana's published payload schemas, and validation against them.
//!
//! The harness plays Spotnana, so what it sends must be what Spotnana's own OpenAPI
//! documents allow. `schemas/spotnana/` holds the pruned, unmodified closure of the
//! payload schemas (see `schemas/spotnana/SOURCE.md`); they are embedded here and
//! compiled once, on first use, because compiling the Trip API's 655 schemas costs
//! tens of milliseconds that a run without validation should not pay.

use std::sync::OnceLock;

use serde_json::Value;

use super::EventType;

/// The Trip API (v2) schemas: `PnrData`, `TripV3DetailsResponse` and the parts the
/// undocumented payloads are built from.
pub const TRIP_DOCUMENT: &str = include_str!("../../schemas/spotnana/trip.json");
/// The User Management API schemas: `UserProfile`.
pub const USERS_DOCUMENT: &str = include_str!("../../schemas/spotnana/users.json");

/// Which published schema an event type's payload follows, if Spotnana publishes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadSchema {
    /// The schema's name under `components.schemas`.
    pub name: &'static str,
    /// The API document it belongs to (`Trip API v2`, `User Management API`).
    pub api: &'static str,
    document: &'static str,
}

impl PayloadSchema {
    /// The published schema of an event type's payload; `None` for the types whose
    /// webhook payload Spotnana documents without a schema (`PNR_APPROVAL`,
    /// `AGENT_TASK_DETAILS`, `SERVICE_CHARGE`).
    pub fn of(event_type: EventType) -> Option<PayloadSchema> {
        match event_type {
            EventType::PnrV3 => Some(PayloadSchema {
                name: "PnrData",
                api: "Trip API v2",
                document: TRIP_DOCUMENT,
            }),
            EventType::TripDetailsV3 => Some(PayloadSchema {
                name: "TripV3DetailsResponse",
                api: "Trip API v2",
                document: TRIP_DOCUMENT,
            }),
            EventType::TravelerV2 => Some(PayloadSchema {
                name: "UserProfile",
                api: "User Management API",
                document: USERS_DOCUMENT,
            }),
            EventType::PnrApproval | EventType::AgentTaskDetails | EventType::ServiceCharge => None,
        }
    }

    /// Every violation of this schema in `payload`, in document order; empty when the
    /// payload is valid.
    pub fn violations(self, payload: &Value) -> Vec<Violation> {
        self.validator()
            .iter_errors(payload)
            .map(|error| Violation {
                pointer: error.instance_path().to_string(),
                value: error.instance().clone().into_owned(),
                allowed: match error.kind() {
                    jsonschema::error::ValidationErrorKind::Enum { options } => {
                        options.as_array().cloned().unwrap_or_default()
                    }
                    _ => Vec::new(),
                },
                message: error.to_string(),
            })
            .collect()
    }

    /// Whether `payload` is valid against this schema.
    pub fn is_valid(self, payload: &Value) -> bool {
        self.validator().is_valid(payload)
    }

    /// The whole API document this schema belongs to, parsed once per process (the
    /// root its `$ref`s resolve against).
    pub fn document(self) -> &'static Value {
        static TRIP: OnceLock<Value> = OnceLock::new();
        static USERS: OnceLock<Value> = OnceLock::new();
        let cell = match self.api {
            "User Management API" => &USERS,
            _ => &TRIP,
        };
        cell.get_or_init(|| {
            serde_json::from_str(self.document).expect("the vendored schema document is JSON")
        })
    }

    /// This schema itself: `#/components/schemas/{name}` of [`PayloadSchema::document`].
    pub fn root(self) -> &'static Value {
        &self.document()["components"]["schemas"][self.name]
    }

    /// The compiled validator, built once per schema for the whole process.
    fn validator(self) -> &'static jsonschema::Validator {
        static PNR: OnceLock<jsonschema::Validator> = OnceLock::new();
        static TRIP: OnceLock<jsonschema::Validator> = OnceLock::new();
        static USER: OnceLock<jsonschema::Validator> = OnceLock::new();
        let cell = match self.name {
            "PnrData" => &PNR,
            "TripV3DetailsResponse" => &TRIP,
            _ => &USER,
        };
        cell.get_or_init(|| compile(self.document(), self.name))
    }
}

/// One way a payload breaks a published schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// JSON pointer to the offending value inside the payload (`""` for the root).
    pub pointer: String,
    /// The offending value.
    pub value: Value,
    /// The values the schema allows there, when it enumerates them (the validator's
    /// message shortens a long list; this is the whole of it).
    pub allowed: Vec<Value>,
    /// What the schema says, in the validator's words (it names the missing property
    /// of a `required`).
    pub message: String,
}

impl Violation {
    /// What the schema allows there: its values when it enumerates them, else the
    /// validator's words.
    pub fn allowed_text(&self) -> String {
        if self.allowed.is_empty() {
            return self.message.clone();
        }
        let values: Vec<String> = self
            .allowed
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        format!("allowed values: {}", values.join(", "))
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

/// Compiles `#/components/schemas/{name}` with the whole (pruned) document as the
/// root resource, so its `$ref`s resolve as they do in Spotnana's original.
fn compile(document: &Value, name: &str) -> jsonschema::Validator {
    let mut root = document.clone();
    let object = root
        .as_object_mut()
        .expect("the vendored schema document is an object");
    object.insert(
        "$schema".to_owned(),
        Value::from("https://json-schema.org/draft/2020-12/schema"),
    );
    object.insert(
        "$ref".to_owned(),
        Value::from(format!("#/components/schemas/{name}")),
    );
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|err| panic!("the vendored schema {name} does not compile: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_published_schema_compiles_and_rejects_a_wrong_type() {
        for event_type in [
            EventType::PnrV3,
            EventType::TripDetailsV3,
            EventType::TravelerV2,
        ] {
            let schema = PayloadSchema::of(event_type).unwrap();
            assert!(!schema.is_valid(&json!("not an object")), "{}", schema.name);
        }
    }

    #[test]
    fn a_wrong_enum_value_is_named_with_its_pointer() {
        let schema = PayloadSchema::of(EventType::PnrV3).unwrap();
        let violations = schema.violations(&json!({"bookingStatus": "BOOKED_NOT_PUBLISHED"}));
        let violation = violations
            .iter()
            .find(|v| v.pointer == "/bookingStatus")
            .expect("the bookingStatus violation is reported");
        assert_eq!(violation.value, json!("BOOKED_NOT_PUBLISHED"));
        assert!(
            violation.allowed.contains(&json!("CONFIRMED_STATUS")),
            "{:?}",
            violation.allowed
        );
    }

    #[test]
    fn undocumented_payloads_have_no_schema() {
        assert_eq!(PayloadSchema::of(EventType::PnrApproval), None);
    }
}
