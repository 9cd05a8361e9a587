//! Seeded payload fixtures and body styles, as the rest of spotcheck uses them.

use proptest::prelude::*;
use serde_json::{Value, json};
use spotcheck::event::body_style::{self, BodyStyle};
use spotcheck::event::fixtures::{self, FixtureContext, Product};
use spotcheck::event::{EnvelopeStyle, EventKind, EventSpec, EventType, build_event, random};
use time::macros::datetime;

use crate::support::snapshot;

const ORG: &str = "7c1f0c4e-2b7a-4a5e-9a55-0d6f4e1f2a10";

fn spec(kind: EventKind) -> EventSpec<'static> {
    EventSpec {
        kind,
        organization_id: ORG,
        message_time: datetime!(2026-11-29 10:15:30.123 UTC),
        style: EnvelopeStyle::EventType,
        pnr_id: None,
    }
}

fn ctx() -> FixtureContext<'static> {
    FixtureContext {
        organization_id: ORG,
        now: datetime!(2026-11-29 10:15:30.123 UTC),
        pnr_id: None,
    }
}

fn event_bytes(kind: EventKind, seed: u64) -> Vec<u8> {
    let event = build_event(&spec(kind), &mut random::rng(seed));
    body_style::write(&event, BodyStyle::Compact)
}

fn kind(text: &str) -> EventKind {
    text.parse().unwrap()
}

/// Every object in `value`, depth first.
fn objects(value: &Value) -> Vec<&serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                out.push(map);
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

/// Asserts every Money object (`amount` + `currencyCode`) is a non-negative float with
/// at most two decimals and an ISO currency code; returns how many there were.
fn check_money(payload: &Value, label: &str) -> usize {
    let mut count = 0;
    for map in objects(payload) {
        let (Some(amount), Some(currency)) = (map.get("amount"), map.get("currencyCode")) else {
            if let Some(amount) = map.get("amount") {
                assert!(
                    amount.is_object(),
                    "{label}: bare amount {amount} without currencyCode"
                );
            }
            continue;
        };
        count += 1;
        assert!(amount.is_f64(), "{label}: amount {amount} is not a float");
        let amount = amount.as_f64().unwrap();
        assert!(
            amount.is_finite() && amount >= 0.0,
            "{label}: amount {amount}"
        );
        let cents = amount * 100.0;
        assert!(
            (cents - cents.round()).abs() < 1e-6,
            "{label}: {amount} has more than cents"
        );
        let currency = currency.as_str().unwrap_or_default();
        assert!(
            currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()),
            "{label}: currency {currency:?}"
        );
    }
    count
}

fn expected_keys(event_type: EventType) -> &'static [&'static str] {
    match event_type {
        EventType::PnrV3 => &[
            "pnrId",
            "tripId",
            "version",
            "createdVia",
            "sourceInfo",
            "pnrTravelers",
            "totalFare",
            "bookingStatus",
            "invoiceInfos",
            "documents",
            "createdAt",
            "updatedAt",
        ],
        EventType::TravelerV2 => &[
            "id",
            "personalInfo",
            "businessInfo",
            "persona",
            "isActive",
            "tier",
            "travelPreferences",
            "membershipInfo",
            "externalId",
        ],
        EventType::TripDetailsV3 => &["basicTripInfo", "pnrs", "tripStatus", "tripBookingStatus"],
        EventType::PnrApproval => &[
            "pnrId",
            "tripId",
            "approvalId",
            "appliedApprovalType",
            "deadline",
            "approvers",
        ],
        EventType::AgentTaskDetails => &[
            "id",
            "taskType",
            "priority",
            "status",
            "pnrId",
            "tripId",
            "assignee",
            "createdAt",
        ],
        EventType::ServiceCharge => &["entity", "amount", "pnrId", "tripId"],
    }
}

const PRODUCT_KEYS: [&str; 4] = ["airPnr", "hotelPnr", "carPnr", "railPnr"];

#[test]
fn same_seed_gives_identical_bytes_and_other_seeds_differ() {
    for kind in EventKind::all() {
        let a = event_bytes(kind, 42);
        assert_eq!(
            a,
            event_bytes(kind, 42),
            "{kind}: same seed, different bytes"
        );
        assert_ne!(
            a,
            event_bytes(kind, 43),
            "{kind}: different seeds, same bytes"
        );
    }
}

#[test]
fn every_kind_has_its_keys_and_valid_money() {
    for kind in EventKind::all() {
        for seed in 0..8 {
            let event = build_event(&spec(kind), &mut random::rng(seed));
            let label = format!("{kind} seed {seed}");
            assert_eq!(event["eventType"], kind.event_type.as_str(), "{label}");
            assert_eq!(event["operation"], kind.operation, "{label}");
            let summary = event["operationSummary"].as_object().unwrap();
            for key in ["ticketsIssued", "ticketsVoided", "ticketsRefunded"] {
                assert!(summary[key].is_array(), "{label}: {key}");
            }
            let payload = event["payload"].as_object().expect("payload is an object");
            for key in expected_keys(kind.event_type) {
                assert!(payload.contains_key(*key), "{label}: payload lacks `{key}`");
            }
            let money = check_money(&event["payload"], &label);
            if matches!(kind.event_type, EventType::PnrV3 | EventType::ServiceCharge) {
                assert!(money >= 2, "{label}: only {money} Money objects");
            }
        }
    }
}

#[test]
fn pnr_payloads_have_one_product_block_that_fits_the_operation() {
    for kind in EventKind::all_of(&[EventType::PnrV3]) {
        for seed in 0..12 {
            let generated = fixtures::generate(kind, &ctx(), &mut random::rng(seed));
            let payload = &generated.payload;
            let present: Vec<_> = PRODUCT_KEYS
                .iter()
                .filter(|k| payload.get(**k).is_some())
                .collect();
            assert_eq!(present.len(), 1, "{kind}: product blocks {present:?}");
            let op = kind.operation;
            let key = *present[0];
            if op.starts_with("FLIGHT_")
                || op.starts_with("TICKET_")
                || ["BOOKING_TICKETED", "SPLIT_PNR_CREATED", "PAYMENT_DECLINED"].contains(&op)
            {
                assert_eq!(key, "airPnr", "{kind}");
            }
            if op == "BOOKING_REBOOKED" || op.starts_with("BOOKING_CANCELED_BY_") {
                assert!(key == "hotelPnr" || key == "carPnr", "{kind}: {key}");
            }
            if op == "BOOKING_REBOOKED" {
                assert!(payload[key]["rebookReference"]["cancelledPnrIds"][0].is_string());
            }
            let status = payload["bookingStatus"].as_str().unwrap();
            match op {
                "TICKET_VOIDED" => assert_eq!(status, "VOIDED_STATUS"),
                "TICKET_REFUNDED" => assert_eq!(status, "REFUNDED_STATUS"),
                "PAYMENT_DECLINED" => assert_eq!(status, "PAYMENT_DECLINED_STATUS"),
                "BOOKING_CANCELED_BY_TRAVELER" | "BOOKING_CANCELED_BY_VENDOR" => {
                    assert_eq!(status, "CANCELLED_STATUS")
                }
                _ => assert!(status.ends_with("_STATUS"), "{status}"),
            }
            if op == "INVOICE_GENERATED" {
                let invoice = &payload["invoiceInfos"][0];
                assert_eq!(invoice["productType"], "PNR", "{kind}");
                assert_eq!(
                    invoice["transactionFareDetail"]["amount"], payload["totalFare"],
                    "{kind}: the invoice is for the whole fare"
                );
            }
            let pnr_id = payload["pnrId"].as_str().unwrap();
            assert!(pnr_id.len() == 10 && pnr_id.bytes().all(|b| b.is_ascii_digit()));
            let locator = payload["sourceInfo"]["sourcePnrId"].as_str().unwrap();
            assert_eq!(locator.len(), 6);
            for traveler in payload["pnrTravelers"].as_array().unwrap() {
                assert_eq!(traveler["businessInfo"]["organizationId"]["id"], ORG);
                assert!(traveler["personalInfo"]["name"]["given"].is_string());
            }
        }
    }
}

#[test]
fn forced_products_and_fixed_pnr_id() {
    let context = FixtureContext {
        pnr_id: Some("1234567890"),
        ..ctx()
    };
    for product in Product::ALL {
        let generated =
            fixtures::pnr_payload(product, "BOOKING_UPDATED", &context, &mut random::rng(5));
        assert!(
            generated.payload.get(product.key()).is_some(),
            "{product:?}"
        );
        assert_eq!(generated.payload["pnrId"], "1234567890");
    }
    let air = fixtures::pnr_payload(Product::Air, "BOOKING_CREATED", &ctx(), &mut random::rng(1));
    let legs = air.payload["airPnr"]["legs"].as_array().unwrap();
    let flight = &legs[0]["flights"][0];
    for key in ["origin", "destination"] {
        let code = flight[key].as_str().unwrap();
        assert!(
            code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
            "{code}"
        );
    }
    assert!(flight["marketing"]["airlineCode"].is_string());
    assert!(
        flight["departureDateTime"]["iso8601"]
            .as_str()
            .unwrap()
            .starts_with("2026-")
            || flight["departureDateTime"]["iso8601"]
                .as_str()
                .unwrap()
                .starts_with("2027-")
    );
    // No ticket before ticketing.
    assert_eq!(
        air.payload["airPnr"]["travelerInfos"][0]["tickets"],
        json!([])
    );
    for (key, kind_text) in [
        ("pnrId", "PNR_APPROVAL/SOFT_APPROVAL"),
        ("pnrId", "AGENT_TASK_DETAILS/TASK_CREATE"),
        ("pnrId", "SERVICE_CHARGE/SERVICE_FEE"),
    ] {
        let generated = fixtures::generate(kind(kind_text), &context, &mut random::rng(5));
        assert_eq!(generated.payload[key], "1234567890", "{kind_text}");
    }
    let trip = fixtures::generate(
        kind("TRIP_DETAILS_V3/TRIP_UPDATED"),
        &context,
        &mut random::rng(5),
    );
    assert_eq!(trip.payload["pnrs"][0]["pnrId"], "1234567890");
}

#[test]
fn ticket_operations_summarize_the_payload_tickets() {
    for (op, key, status) in [
        ("BOOKING_TICKETED", "ticketsIssued", "ISSUED"),
        ("TICKET_VOIDED", "ticketsVoided", "VOIDED"),
        ("TICKET_REFUNDED", "ticketsRefunded", "REFUNDED"),
    ] {
        for seed in 0..16 {
            let generated = fixtures::generate(
                kind(&format!("PNR_V3/{op}")),
                &ctx(),
                &mut random::rng(seed),
            );
            let summary = &generated.operation_summary;
            let numbers = summary[key].as_array().unwrap();
            assert!(!numbers.is_empty(), "{op} seed {seed}: empty {key}");
            for other in ["ticketsIssued", "ticketsVoided", "ticketsRefunded"] {
                if other != key {
                    assert_eq!(summary[other], json!([]), "{op}: {other}");
                }
            }
            let tickets: Vec<&Value> = generated.payload["airPnr"]["travelerInfos"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|info| info["tickets"].as_array().unwrap())
                .collect();
            assert_eq!(
                tickets.len(),
                numbers.len(),
                "{op}: one summary entry per ticket"
            );
            for number in numbers {
                let number = number.as_str().unwrap();
                assert!(
                    number.len() == 13 && number.bytes().all(|b| b.is_ascii_digit()),
                    "{number}"
                );
                let ticket = tickets
                    .iter()
                    .find(|t| t["ticketNumber"] == number)
                    .unwrap_or_else(|| panic!("{op}: {number} not in the payload"));
                assert_eq!(ticket["status"], status);
            }
        }
    }
    let created = fixtures::generate(kind("PNR_V3/BOOKING_UPDATED"), &ctx(), &mut random::rng(1));
    assert_eq!(
        created.operation_summary,
        json!({"ticketsIssued": [], "ticketsVoided": [], "ticketsRefunded": []})
    );
}

#[test]
fn names_are_sometimes_non_ascii() {
    let non_ascii = (0..20)
        .filter(|seed| !event_bytes(kind("PNR_V3/BOOKING_CREATED"), *seed).is_ascii())
        .count();
    assert!(
        non_ascii >= 5,
        "only {non_ascii} of 20 PNRs carry non-ASCII text"
    );
    let traveler_non_ascii = (0..20)
        .filter(|seed| !event_bytes(kind("TRAVELER_V2/CREATE"), *seed).is_ascii())
        .count();
    assert!(
        (3..20).contains(&traveler_non_ascii),
        "{traveler_non_ascii}"
    );
}

#[test]
fn traveler_delete_deactivates() {
    let g = |op: &str| {
        fixtures::generate(
            kind(&format!("TRAVELER_V2/{op}")),
            &ctx(),
            &mut random::rng(3),
        )
    };
    assert_eq!(g("CREATE").payload["isActive"], true);
    assert_eq!(g("UPDATE").payload["isActive"], true);
    assert_eq!(g("DELETE").payload["isActive"], false);
    assert_eq!(g("DELETE").payload["persona"], "EMPLOYEE");
}

#[test]
fn inflate_reaches_300_kib_realistically_and_deterministically() {
    const TARGET: usize = 300 * 1024;
    for product in Product::ALL {
        let inflated = |seed| {
            let mut rng = random::rng(seed);
            let mut payload =
                fixtures::pnr_payload(product, "BOOKING_UPDATED", &ctx(), &mut rng).payload;
            fixtures::inflate(&mut payload, TARGET, &mut rng);
            payload
        };
        let payload = inflated(9);
        let bytes = serde_json::to_vec(&payload).unwrap();
        assert!(bytes.len() >= TARGET, "{product:?}: {} bytes", bytes.len());
        assert!(
            bytes.len() < TARGET + 8 * 1024,
            "{product:?}: overshoot {}",
            bytes.len()
        );
        assert_eq!(bytes, serde_json::to_vec(&inflated(9)).unwrap());
        assert!(payload.get(product.key()).is_some());
        assert!(payload["bookingHistory"].as_array().unwrap().len() > 100);
        if product == Product::Air {
            assert!(payload["airPnr"]["legs"].as_array().unwrap().len() > 50);
            assert!(payload["airPnr"]["airPnrRemarks"].as_array().unwrap().len() > 50);
        }
        check_money(&payload, "inflated");
    }
}

// ------------------------------------------------------------------ body styles

/// A realistic PNR event with non-ASCII text and float amounts.
fn realistic_event() -> Value {
    (0..100)
        .map(|seed| {
            build_event(
                &spec(kind("PNR_V3/BOOKING_TICKETED")),
                &mut random::rng(seed),
            )
        })
        .find(|event| !serde_json::to_vec(event).unwrap().is_ascii())
        .expect("some seed gives a non-ASCII traveler")
}

#[test]
fn every_non_compact_style_changes_the_bytes_of_a_realistic_event() {
    let event = realistic_event();
    let compact = body_style::write(&event, BodyStyle::Compact);
    assert_eq!(compact, serde_json::to_vec(&event).unwrap());
    for style in BodyStyle::ALL {
        let bytes = body_style::write(&event, style);
        let parsed: Value =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{style}: invalid JSON: {e}"));
        assert!(
            same(&parsed, &event),
            "{style}: parses to a different value"
        );
        if style != BodyStyle::Compact {
            assert_ne!(bytes, compact, "{style}: same bytes as compact");
        }
    }
    let escaped = body_style::write(&event, BodyStyle::EscapedUnicode);
    assert!(escaped.is_ascii());
    let text = String::from_utf8(escaped).unwrap();
    assert!(text.contains("\\u") && text.contains("\\/"), "{text}");
    let floats = String::from_utf8(body_style::write(&event, BodyStyle::FloatForms)).unwrap();
    assert!(floats.contains("0, \"currencyCode\""), "{floats}");
}

/// Equal values, floats compared numerically (serde_json's default float parsing can be
/// one ULP off, and FloatForms writes different digits).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) else {
                    return false;
                };
                close(x, y)
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Equal within a few ULPs (or both practically zero).
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs()) || (a - b).abs() < 1e-300
}

fn object_keys_reversed(original: &Value, written: &Value) -> bool {
    match (original, written) {
        (Value::Object(o), Value::Object(w)) => {
            o.keys().rev().eq(w.keys()) && o.iter().all(|(k, v)| object_keys_reversed(v, &w[k]))
        }
        (Value::Array(o), Value::Array(w)) => {
            o.iter().zip(w).all(|(a, b)| object_keys_reversed(a, b))
        }
        _ => true,
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        (-100_000_000i64..100_000_000).prop_map(|c| json!(c as f64 / 100.0)),
        // Floats serde_json writes with an exponent and no dot (`1e+300`, `5e-324`).
        (1u32..10, -323i32..308).prop_filter_map("finite", |(m, e)| {
            serde_json::Number::from_f64(format!("{m}e{e}").parse().ok()?).map(Value::Number)
        }),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\/a-zéŁ中😀\u{2028}\u{10FFFF}]{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"/é😀\\x00-\\x1f]{0,6}", inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_style_is_valid_json_for_the_same_value(value in arb_json()) {
        let compact = body_style::write(&value, BodyStyle::Compact);
        let reference: Value = serde_json::from_slice(&compact).unwrap();
        prop_assert!(same(&reference, &value));
        for style in BodyStyle::ALL {
            let bytes = body_style::write(&value, style);
            let parsed: Value = match serde_json::from_slice(&bytes) {
                Ok(parsed) => parsed,
                Err(e) => return Err(TestCaseError::fail(format!(
                    "{style}: invalid JSON ({e}): {}", String::from_utf8_lossy(&bytes)
                ))),
            };
            match style {
                // Same number digits as compact: must parse to exactly the same value.
                BodyStyle::Compact | BodyStyle::Pretty | BodyStyle::Reordered
                | BodyStyle::EscapedUnicode => prop_assert_eq!(&parsed, &reference, "{}", style),
                BodyStyle::FloatForms => prop_assert!(same(&parsed, &value), "{}", style),
            }
            if style == BodyStyle::EscapedUnicode {
                prop_assert!(bytes.is_ascii());
                prop_assert!(!bytes.windows(2).any(|w| w[1] == b'/' && w[0] != b'\\'));
            }
            if style == BodyStyle::Reordered {
                prop_assert!(object_keys_reversed(&value, &parsed));
            }
        }
    }
}

/// A seed replays the same event across versions: a change here changes every
/// `--seed` run, so review the diff as carefully as the first snapshot.
#[test]
fn seeded_pnr_event_snapshot() {
    let event = build_event(&spec(kind("PNR_V3/BOOKING_TICKETED")), &mut random::rng(7));
    let pretty = String::from_utf8(body_style::write(&event, BodyStyle::Pretty)).unwrap();
    insta::with_settings!({prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(snapshot::name(module_path!(), "seeded_pnr_event_snapshot"), pretty);
    });
}
