//! Every payload spotcheck generates is one Spotnana's published schemas accept:
//! `PNR_V3` → `PnrData`, `TRIP_DETAILS_V3` → `TripV3DetailsResponse`, `TRAVELER_V2` →
//! `UserProfile`, over many seeds, every operation, every product block, every body
//! style and the large-payload inflation.

use std::collections::BTreeMap;

use serde_json::Value;
use spotcheck::event::body_style::{self, BodyStyle};
use spotcheck::event::fixtures::{self, FixtureContext, Product};
use spotcheck::event::schema::{self, PayloadSchema};
use spotcheck::event::{EventKind, EventType, random};
use time::macros::datetime;

const ORG: &str = "7c1f0c4e-2b7a-4a5e-9a55-0d6f4e1f2a10";
const SEEDS: u64 = 200;

fn ctx() -> FixtureContext<'static> {
    FixtureContext {
        organization_id: ORG,
        now: datetime!(2026-11-29 10:15:30.123 UTC),
        pnr_id: None,
    }
}

/// Pointer with array indices folded (`/legs/0/flights/1` → `/legs/*/flights/*`).
fn fold(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|part| {
            if part.parse::<usize>().is_ok() {
                "*"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Collects failures; panics at the end with the first few in full and a tally.
#[derive(Default)]
struct Tally {
    validated: usize,
    failures: Vec<String>,
    by_pointer: BTreeMap<String, usize>,
}

impl Tally {
    fn check(&mut self, schema: PayloadSchema, payload: &Value, label: &str) {
        let violations = schema.violations(payload);
        self.record(violations, schema.name, label);
    }

    fn record(&mut self, violations: Vec<schema::Violation>, against: &str, label: &str) {
        self.validated += 1;
        if violations.is_empty() {
            return;
        }
        for v in &violations {
            // One line per kind of violation: the value is folded out of the message.
            let message = v.message.replace(&v.value.to_string(), "<value>");
            *self
                .by_pointer
                .entry(format!("{} {message}", fold(&v.pointer)))
                .or_default() += 1;
        }
        let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
        self.failures.push(format!(
            "{label} against {against}:\n  {}",
            listed.join("\n  ")
        ));
    }

    /// Panics unless exactly `expected` payloads were validated (a loop that ran over
    /// nothing, or over fewer kinds than meant, would otherwise be a clean pass) and
    /// none had a violation.
    fn assert_clean(self, expected: usize) {
        assert_eq!(
            self.validated, expected,
            "validated {} payloads, expected {expected}",
            self.validated
        );
        if self.failures.is_empty() {
            eprintln!("{} payloads validated", self.validated);
            return;
        }
        let mut tally: Vec<_> = self.by_pointer.into_iter().collect();
        tally.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let tally: Vec<String> = tally.iter().map(|(k, n)| format!("{n:6} {k}")).collect();
        panic!(
            "{} of {} payloads are invalid; first ones:\n{}\nall violations:\n{}",
            self.failures.len(),
            self.validated,
            self.failures
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n"),
            tally.join("\n")
        );
    }
}

/// The event types Spotnana publishes a schema for (README, docs/payloads.md): the
/// expected counts come from this list, not from `PayloadSchema::of`, so a type
/// that silently lost its schema is a wrong count rather than fewer clean payloads.
const PUBLISHED: [EventType; 3] = [
    EventType::PnrV3,
    EventType::TripDetailsV3,
    EventType::TravelerV2,
];

/// How many operations the published types have together.
fn published_kinds() -> usize {
    EventKind::all()
        .filter(|k| PUBLISHED.contains(&k.event_type))
        .count()
}

fn published() -> Vec<(EventKind, PayloadSchema)> {
    EventKind::all()
        .filter_map(|kind| PayloadSchema::of(kind.event_type).map(|s| (kind, s)))
        .collect()
}

#[test]
fn every_operation_over_many_seeds_is_valid() {
    let mut tally = Tally::default();
    for seed in 0..SEEDS {
        for (kind, schema) in published() {
            let generated = fixtures::generate(kind, &ctx(), &mut random::rng(seed));
            tally.check(
                schema,
                &generated.payload,
                &format!("seed {seed} {}/{}", kind.event_type, kind.operation),
            );
        }
    }
    tally.assert_clean(SEEDS as usize * published_kinds());
}

#[test]
fn every_product_block_of_every_pnr_operation_is_valid() {
    let schema = PayloadSchema::of(EventType::PnrV3).unwrap();
    let mut tally = Tally::default();
    for seed in 0..SEEDS / 4 {
        for operation in EventType::PnrV3.operations() {
            for product in Product::ALL {
                let generated =
                    fixtures::pnr_payload(product, operation, &ctx(), &mut random::rng(seed));
                tally.check(
                    schema,
                    &generated.payload,
                    &format!("seed {seed} PNR_V3/{operation} {product:?}"),
                );
            }
        }
    }
    tally.assert_clean(
        (SEEDS / 4) as usize * EventType::PnrV3.operations().len() * Product::ALL.len(),
    );
}

#[test]
fn every_body_style_reparses_to_a_valid_payload() {
    let mut tally = Tally::default();
    for seed in 0..20 {
        for (kind, schema) in published() {
            let generated = fixtures::generate(kind, &ctx(), &mut random::rng(seed));
            for style in BodyStyle::ALL {
                let bytes = body_style::write(&generated.payload, style);
                let reparsed: Value = serde_json::from_slice(&bytes).unwrap();
                tally.check(
                    schema,
                    &reparsed,
                    &format!("seed {seed} {}/{} {style}", kind.event_type, kind.operation),
                );
            }
        }
    }
    tally.assert_clean(20 * published_kinds() * BodyStyle::ALL.len());
}

#[test]
fn large_payloads_stay_valid() {
    let mut tally = Tally::default();
    for seed in 0..10 {
        for (kind, schema) in published() {
            let mut generated = fixtures::generate(kind, &ctx(), &mut random::rng(seed));
            fixtures::inflate(&mut generated.payload, 64 * 1024, &mut random::rng(seed));
            assert!(serde_json::to_vec(&generated.payload).unwrap().len() >= 64 * 1024);
            tally.check(
                schema,
                &generated.payload,
                &format!("seed {seed} {}/{} large", kind.event_type, kind.operation),
            );
        }
    }
    tally.assert_clean(10 * published_kinds());
}

/// The three types Spotnana documents without a schema: the parts built from its
/// published component schemas (`schema::published_parts`) validate, over as many
/// seeds as the others.
#[test]
fn undocumented_payloads_have_valid_published_parts() {
    let mut tally = Tally::default();
    for seed in 0..SEEDS {
        for kind in EventKind::all().filter(|k| PayloadSchema::of(k.event_type).is_none()) {
            assert!(
                !schema::published_parts(kind.event_type).is_empty(),
                "{kind}"
            );
            let generated = fixtures::generate(kind, &ctx(), &mut random::rng(seed));
            let violations = schema::part_violations(kind.event_type, &generated.payload);
            tally.record(
                violations,
                "its published parts",
                &format!("seed {seed} {kind}"),
            );
        }
    }
    tally.assert_clean(SEEDS as usize * (EventKind::all().count() - published_kinds()));
}

/// Formats are assertions, not annotations: a generated traveler profile with one
/// e-mail address that is none, or a user id that is no UUID, is invalid, where the
/// same profile as generated is valid.
#[test]
fn a_bad_email_or_uuid_in_a_generated_payload_is_a_violation() {
    let kind = EventKind::all()
        .find(|k| k.event_type == EventType::TravelerV2)
        .unwrap();
    let schema = PayloadSchema::of(EventType::TravelerV2).unwrap();
    let generated = fixtures::generate(kind, &ctx(), &mut random::rng(5)).payload;
    let clean = schema.violations(&generated);
    assert!(clean.is_empty(), "{clean:?}");
    // The e-mail address replaced by one that is none.
    let mut bad_email = generated.clone();
    let email = bad_email
        .pointer_mut("/personalInfo/email")
        .expect("a generated profile has an e-mail address");
    *email = Value::from("x");
    let violations = schema.violations(&bad_email);
    assert!(
        violations
            .iter()
            .any(|v| v.pointer == "/personalInfo/email" && v.message.contains("email")),
        "{violations:?}"
    );
    // Each value that looks like a UUID, replaced by one that is not: the schema
    // declares at least one of them `format: uuid`, and that one is a violation.
    let mut pointers = Vec::new();
    uuid_like(&generated, String::new(), &mut pointers);
    assert!(!pointers.is_empty(), "no UUID in {generated}");
    let caught: Vec<&String> = pointers
        .iter()
        .filter(|pointer| {
            let mut bad = generated.clone();
            *bad.pointer_mut(pointer).unwrap() = Value::from("not-a-uuid");
            schema
                .violations(&bad)
                .iter()
                .any(|v| &v.pointer == *pointer && v.message.contains("uuid"))
        })
        .collect();
    assert!(
        !caught.is_empty(),
        "no bad UUID was refused among {pointers:?}"
    );
}

/// JSON pointers of the strings in `value` shaped like a UUID (8-4-4-4-12 hex).
fn uuid_like(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            let parts: Vec<&str> = text.split('-').collect();
            let shape = parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12];
            if shape
                && parts
                    .iter()
                    .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
            {
                out.push(at);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                uuid_like(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                uuid_like(item, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
}
