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

    fn assert_clean(self) {
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
    tally.assert_clean();
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
    tally.assert_clean();
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
    tally.assert_clean();
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
    tally.assert_clean();
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
    tally.assert_clean();
}
