//! Spotnana's published payload schemas, and validation against them.
//!
//! The harness plays Spotnana, so what it sends must be what Spotnana's own OpenAPI
//! documents allow. `schemas/spotnana/` holds the pruned, unmodified closure of the
//! payload schemas (see `schemas/spotnana/SOURCE.md`); they are embedded here and
//! compiled once, on first use, because compiling the Trip API's 655 schemas costs
//! tens of milliseconds that a run without validation should not pay.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

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

    /// A component schema of the Trip API (`Money`, `UserOrgId`, `ApprovalInfo`, …): what
    /// the payloads Spotnana documents without a schema are built from.
    pub fn component(name: &'static str) -> PayloadSchema {
        PayloadSchema {
            name,
            api: "Trip API v2",
            document: TRIP_DOCUMENT,
        }
    }

    /// Every violation of this schema in `payload`, in document order; empty when the
    /// payload is valid.
    pub fn violations(self, payload: &Value) -> Vec<Violation> {
        violations_of(self.validator(), payload, "")
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

    /// The compiled validator, built once per schema for the whole process. The three
    /// payload schemas each have their own cell (the receiver validates with them on
    /// every request); component schemas share a locked map.
    fn validator(self) -> &'static jsonschema::Validator {
        static PNR: OnceLock<jsonschema::Validator> = OnceLock::new();
        static TRIP: OnceLock<jsonschema::Validator> = OnceLock::new();
        static USER: OnceLock<jsonschema::Validator> = OnceLock::new();
        static COMPONENTS: OnceLock<Mutex<HashMap<&'static str, &'static jsonschema::Validator>>> =
            OnceLock::new();
        let cell = match (self.name, self.api) {
            ("PnrData", _) => &PNR,
            ("TripV3DetailsResponse", _) => &TRIP,
            ("UserProfile", _) => &USER,
            (name, _) => {
                let mut components = COMPONENTS
                    .get_or_init(Mutex::default)
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                // Leaked once per component name: the map lives as long as the process.
                return components
                    .entry(name)
                    .or_insert_with(|| Box::leak(Box::new(compile(self.document(), name))));
            }
        };
        cell.get_or_init(|| compile(self.document(), self.name))
    }
}

/// Where the payloads Spotnana documents without a schema hold parts built from its
/// published component schemas: `(JSON pointer, component schema)`, `*` standing for
/// every item of an array. `docs/payloads.md` explains each.
pub fn published_parts(event_type: EventType) -> &'static [(&'static str, &'static str)] {
    match event_type {
        EventType::PnrApproval => &[
            ("/approvalInfo", "ApprovalInfo"),
            ("/traveler/userOrgId", "UserOrgId"),
            ("/traveler/name", "Name"),
            ("/approvers/*/userOrgId", "UserOrgId"),
            ("/approvers/*/name", "Name"),
            ("/pnrTotal", "Money"),
            ("/deadline", "DateTimeOffset"),
        ],
        EventType::AgentTaskDetails => &[
            ("/primaryTraveler/userOrgId", "UserOrgId"),
            ("/primaryTraveler/name", "Name"),
            ("/organization", "OrganizationId"),
            ("/travelStartDate", "DateModel"),
            ("/bookingDate", "DateModel"),
            ("/createdAt", "DateTimeOffset"),
        ],
        EventType::ServiceCharge => &[
            ("/serviceFee", "ServiceFee"),
            ("/amount", "Money"),
            ("/organizationId", "OrganizationId"),
            ("/chargedAt", "DateTimeOffset"),
        ],
        EventType::PnrV3 | EventType::TravelerV2 | EventType::TripDetailsV3 => &[],
    }
}

/// Every violation of the [`published_parts`] of an event type in `payload`; a part
/// that is absent (or an array on the way that is not one) is a violation too.
pub fn part_violations(event_type: EventType, payload: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    for (pattern, name) in published_parts(event_type) {
        let validator = PayloadSchema::component(name).validator();
        for (pointer, part) in resolve(payload, pattern) {
            match part {
                Some(part) => out.extend(violations_of(validator, part, &pointer)),
                None => out.push(Violation {
                    pointer,
                    value: Value::Null,
                    allowed: Vec::new(),
                    message: format!("the {name} part is missing"),
                }),
            }
        }
    }
    out
}

/// The values a [`published_parts`] pattern names in `value`, each with its concrete
/// pointer (`None` where the path breaks off).
fn resolve<'a>(value: &'a Value, pattern: &str) -> Vec<(String, Option<&'a Value>)> {
    let mut found = vec![(String::new(), Some(value))];
    for token in pattern.split('/').skip(1) {
        found = found
            .into_iter()
            .flat_map(|(pointer, value)| match (token, value) {
                ("*", Some(Value::Array(items))) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{pointer}/{i}"), Some(item)))
                    .collect(),
                ("*", _) => vec![(pointer, None)],
                (key, value) => {
                    let next = value.and_then(|v| v.get(key));
                    vec![(format!("{pointer}/{key}"), next)]
                }
            })
            .collect();
    }
    found
}

/// The violations `validator` finds in `value`, their pointers prefixed with `at`.
fn violations_of(validator: &jsonschema::Validator, value: &Value, at: &str) -> Vec<Violation> {
    validator
        .iter_errors(value)
        .map(|error| Violation {
            pointer: format!("{at}{}", error.instance_path()),
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
    // Format assertions on: a `uuid`, `email` or `date-time` the schema names must be
    // one (draft 2020-12 only annotates formats unless asked).
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
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

    const U: &str = "7c1f0c4e-2b7a-4a5e-9a55-0d6f4e1f2a10";

    /// Formats are asserted, not only annotated: a user id that is no UUID and an
    /// e-mail address that is none are violations.
    #[test]
    fn uuid_and_email_formats_are_asserted() {
        let part = |id: &str| json!({"userId": {"id": id}, "organizationId": {"id": "o"}});
        let user_org = PayloadSchema::component("UserOrgId");
        assert!(user_org.is_valid(&part(U)));
        let violations = user_org.violations(&part("u"));
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].pointer, "/userId/id");
        assert!(violations[0].message.contains("uuid"), "{violations:?}");

        let profile = |email: &str| json!({"personalInfo": {"email": email}, "businessInfo": {"email": email}});
        let users = PayloadSchema::of(EventType::TravelerV2).unwrap();
        let bad = users.violations(&profile("not an address"));
        assert!(
            bad.iter()
                .any(|v| v.pointer == "/personalInfo/email" && v.message.contains("email")),
            "{bad:?}"
        );
        assert!(
            !users
                .violations(&profile("zoe.angstrom@globex.example"))
                .iter()
                .any(|v| v.pointer.ends_with("email"))
        );
    }

    #[test]
    fn parts_are_checked_through_arrays_and_missing_parts_are_named() {
        let payload = json!({
            "approvalInfo": {"approvalStatus": "APPROVAL_PENDING", "approvalType": "SOFT_APPROVAL"},
            "traveler": {"userOrgId": {"userId": {"id": U}, "organizationId": {"id": "o"}},
                         "name": {"given": "A", "family1": "B"}},
            "approvers": [{"userOrgId": {"userId": {"id": U}}, "name": {"given": "C", "family1": "D"}}],
            "pnrTotal": {"amount": 1.5, "currencyCode": "EUR"},
        });
        let violations = part_violations(EventType::PnrApproval, &payload);
        let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/approvers/0/userOrgId", "/deadline"],
            "{violations:?}"
        );
        assert!(violations[0].message.contains("organizationId"));
        assert!(
            violations[1]
                .message
                .contains("DateTimeOffset part is missing")
        );
    }

    #[test]
    fn each_schema_is_found_in_its_own_api_document() {
        let users = PayloadSchema::of(EventType::TravelerV2).unwrap();
        assert_eq!(users.api, "User Management API");
        assert!(users.root()["properties"]["personalInfo"].is_object());
        assert!(users.document()["components"]["schemas"]["PnrData"].is_null());
        let pnr = PayloadSchema::of(EventType::PnrV3).unwrap();
        assert_eq!((pnr.name, pnr.api), ("PnrData", "Trip API v2"));
        assert_eq!(pnr.root()["type"], "object");
        assert_eq!(
            PayloadSchema::of(EventType::TripDetailsV3).map(|s| s.name),
            Some("TripV3DetailsResponse")
        );
        assert_eq!(PayloadSchema::component("Money").root()["type"], "object");
    }

    #[test]
    fn every_undocumented_payload_has_published_parts_and_the_others_none() {
        let names = |t| -> Vec<&str> { published_parts(t).iter().map(|(_, n)| *n).collect() };
        assert!(names(EventType::AgentTaskDetails).contains(&"DateModel"));
        assert!(names(EventType::ServiceCharge).contains(&"ServiceFee"));
        assert!(published_parts(EventType::PnrV3).is_empty());
        // A service charge missing every part is named part by part.
        let missing = part_violations(EventType::ServiceCharge, &json!({}));
        let pointers: Vec<&str> = missing.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/serviceFee", "/amount", "/organizationId", "/chargedAt"]
        );
    }

    #[test]
    fn a_violation_reads_as_its_pointer_and_what_is_allowed_there() {
        let enumerated = Violation {
            pointer: String::new(),
            value: json!("X"),
            allowed: vec![json!("CONFIRMED_STATUS"), json!(3)],
            message: "\"X\" is not one of ...".into(),
        };
        assert_eq!(
            enumerated.allowed_text(),
            "allowed values: CONFIRMED_STATUS, 3"
        );
        assert_eq!(enumerated.to_string(), "/: \"X\" is not one of ...");
        let typed = Violation {
            pointer: "/amount".into(),
            allowed: vec![],
            message: "\"x\" is not of type \"number\"".into(),
            ..enumerated
        };
        assert_eq!(typed.allowed_text(), "\"x\" is not of type \"number\"");
        assert_eq!(
            typed.to_string(),
            "/amount: \"x\" is not of type \"number\""
        );
    }
}
