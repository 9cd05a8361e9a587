//! `serve --stateful`: the reference receiver keeps each booking and holds spotcheck
//! (or anyone) to one story per PNR. Hand-built events of one booking, signed like
//! Spotnana's, over loopback HTTPS with the generated CA trusted: a coherent lifecycle
//! is answered 200 throughout (an older version too, accepted and not applied); each
//! kind of contradiction is answered 409 with the reason.

use std::time::Duration;

use serde_json::{Value, json};
use spotcheck::receiver::{self, ReceiverConfig, RunningReceiver, TlsSetup};
use spotcheck::signing::{Secret, SignatureFormat, unix_now};

use crate::support::cli::{SECRET, Spotcheck};

const ORG: &str = "6f1c2a3b-0000-4000-8000-000000000001";
const LUKASZ: &str = "a6b2f1c4-0000-4000-8000-000000000001";
const ZOE: &str = "a6b2f1c4-0000-4000-8000-000000000002";

/// A stateful receiver over HTTPS and a client trusting its CA.
async fn stateful() -> (RunningReceiver, reqwest::Client) {
    spotcheck::init_crypto();
    let config = ReceiverConfig {
        secrets: vec![Secret::parse(SECRET).unwrap()],
        stateful: true,
        ..ReceiverConfig::default()
    };
    let running = receiver::start(config, "127.0.0.1:0".parse().unwrap(), TlsSetup::Generated)
        .await
        .unwrap();
    let ca = reqwest::Certificate::from_pem(running.ca_pem.as_deref().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .tls_certs_only([ca])
        .build()
        .unwrap();
    (running, client)
}

fn eur(cents: i64) -> Value {
    json!({ "amount": cents as f64 / 100.0, "currencyCode": "EUR" })
}

/// One booking's facts for an event.
struct Pnr<'a> {
    id: &'a str,
    trip: &'a str,
    travelers: &'a [(&'a str, &'a str, &'a str)],
}

/// A PNR_V3 event of `pnr` at `version`: `summary` is (issued, voided, refunded),
/// `tickets` are (number, status, fare in cents, refund in cents).
fn pnr_event(
    pnr: &Pnr<'_>,
    operation: &str,
    version: i64,
    summary: (&[&str], &[&str], &[&str]),
    tickets: &[(&str, &str, i64, Option<i64>)],
) -> Vec<u8> {
    let tickets: Vec<Value> = tickets
        .iter()
        .map(|(number, status, fare, refund)| {
            let mut ticket = json!({
                "ticketNumber": number,
                "status": status,
                "amount": { "base": eur(fare * 9 / 10), "tax": eur(fare - fare * 9 / 10) },
            });
            if let Some(refund) = refund {
                ticket["refundInfo"] = json!({ "refundAmount": { "base": eur(*refund) } });
            }
            ticket
        })
        .collect();
    serde_json::to_vec(&json!({
        "timestamp": format!("2026-11-29T10:{:02}:00.000Z", version),
        "eventType": "PNR_V3",
        "operation": operation,
        "operationSummary": {
            "ticketsIssued": summary.0,
            "ticketsVoided": summary.1,
            "ticketsRefunded": summary.2,
        },
        "audience": { "organizationId": ORG },
        "payload": {
            "pnrId": pnr.id,
            "tripId": pnr.trip,
            "version": version,
            "pnrTravelers": pnr.travelers.iter().map(|(id, given, family)| json!({
                "userId": { "id": id },
                "personalInfo": { "name": { "given": given, "family1": family } },
            })).collect::<Vec<_>>(),
            "air": { "travelerInfos": [{ "travelerIdx": 0, "tickets": tickets }] },
            "totalFare": eur(174_142),
            "bookingStatus": "CONFIRMED_STATUS",
        },
    }))
    .unwrap()
}

/// Delivers `body` signed like Spotnana (v1 token) with webhook id `id`; returns the
/// status and the JSON answer.
async fn deliver(client: &reqwest::Client, url: &str, id: &str, body: &[u8]) -> (u16, Value) {
    let now = unix_now();
    let signature = Secret::parse(SECRET)
        .unwrap()
        .sign(id, &now.to_string(), body)
        .token(SignatureFormat::V1);
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-spotnana-webhook-id", id)
        .header("x-spotnana-webhook-timestamp", now.to_string())
        .header("x-spotnana-webhook-signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

const NONE: &[&str] = &[];
const T1: &str = "0741234567890";
const T2: &str = "0741234567891";
const T9: &str = "0749999999999";

#[tokio::test]
async fn a_coherent_booking_is_accepted_throughout_and_an_older_version_is_not_applied() {
    let (running, client) = stateful().await;
    let url = running.webhook_url();
    let two = [(LUKASZ, "Łukasz", "Patel"), (ZOE, "Zoë", "Dvořák")];
    let pnr = Pnr {
        id: "1424700026",
        trip: "2644545869",
        travelers: &two,
    };
    let issued = [(T1, "ISSUED", 80_000, None), (T2, "ISSUED", 60_000, None)];
    let steps: Vec<(&str, Vec<u8>)> = vec![
        (
            "created",
            pnr_event(&pnr, "BOOKING_CREATED", 1, (NONE, NONE, NONE), &[]),
        ),
        (
            "ticketed",
            pnr_event(
                &pnr,
                "BOOKING_TICKETED",
                2,
                (&[T1, T2], NONE, NONE),
                &issued,
            ),
        ),
        // Arrives late, older than what is held: accepted, not applied (had it been,
        // its other trip, renamed traveler and ticket T9 would be held now).
        (
            "late modification",
            pnr_event(
                &Pnr {
                    id: pnr.id,
                    trip: "9324091049",
                    travelers: &[(LUKASZ, "Jürgen", "Williams")],
                },
                "BOOKING_MODIFIED",
                1,
                (&[T9], NONE, NONE),
                &[(T9, "ISSUED", 10_000, None)],
            ),
        ),
        (
            "voided",
            pnr_event(
                &pnr,
                "TICKET_VOIDED",
                3,
                (NONE, &[T1], NONE),
                &[(T1, "VOIDED", 80_000, None), (T2, "ISSUED", 60_000, None)],
            ),
        ),
        (
            "refunded",
            pnr_event(
                &pnr,
                "TICKET_REFUNDED",
                4,
                (NONE, NONE, &[T2]),
                &[
                    (T1, "VOIDED", 80_000, None),
                    (T2, "REFUNDED", 60_000, Some(55_000)),
                ],
            ),
        ),
        (
            "invoiced",
            pnr_event(&pnr, "INVOICE_GENERATED", 5, (NONE, NONE, NONE), &[]),
        ),
    ];
    for (what, body) in &steps {
        let (status, answer) =
            deliver(&client, &url, &uuid::Uuid::new_v4().to_string(), body).await;
        assert_eq!(status, 200, "{what}: {answer}");
    }
    // The same traveler in their own profile event: the same name, accepted.
    let profile = serde_json::to_vec(&json!({
        "timestamp": "2026-11-29T10:06:00.000Z",
        "eventType": "TRAVELER_V2",
        "operation": "TRAVELER_UPDATED",
        "payload": { "id": ZOE, "personalInfo": { "name": { "given": "Zoë", "family1": "Dvořák" } } },
    }))
    .unwrap();
    assert_eq!(deliver(&client, &url, "profile-1", &profile).await.0, 200);

    // Not applied: the late event's ticket was never held, so its void contradicts.
    let (status, answer) = deliver(
        &client,
        &url,
        "void-t9",
        &pnr_event(&pnr, "TICKET_VOIDED", 6, (NONE, &[T9], NONE), &[]),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        answer["detail"],
        format!("void of ticket {T9}, never issued for PNR 1424700026")
    );
    running.shutdown().await;
}

#[tokio::test]
async fn each_contradiction_is_answered_409_with_the_reason() {
    let (running, client) = stateful().await;
    let url = running.webhook_url();
    let one = [(LUKASZ, "Łukasz", "Patel")];
    // Each case: its own booking, created then ticketed (T1 at 800.00 EUR), then the
    // contradicting event, and the reason expected.
    let cases: Vec<(&str, Vec<u8>, String)> = {
        let pnr = |id: &'static str| Pnr {
            id,
            trip: "2644545869",
            travelers: &one,
        };
        vec![
            (
                "1000000001",
                pnr_event(
                    &Pnr { trip: "8609602995", ..pnr("1000000001") },
                    "BOOKING_MODIFIED",
                    3,
                    (NONE, NONE, NONE),
                    &[],
                ),
                "PNR 1000000001 belongs to trip 2644545869; this event files it under trip 8609602995".to_owned(),
            ),
            (
                "1000000002",
                pnr_event(
                    &Pnr { travelers: &[(LUKASZ, "Sofía", "Ångström")], ..pnr("1000000002") },
                    "BOOKING_MODIFIED",
                    3,
                    (NONE, NONE, NONE),
                    &[],
                ),
                format!("traveler {LUKASZ} is Łukasz Patel; this event names them Sofía Ångström"),
            ),
            (
                "1000000003",
                pnr_event(&pnr("1000000003"), "TICKET_VOIDED", 3, (NONE, &[T9], NONE), &[]),
                format!("void of ticket {T9}, never issued for PNR 1000000003"),
            ),
            (
                "1000000004",
                pnr_event(
                    &pnr("1000000004"),
                    "TICKET_REFUNDED",
                    3,
                    (NONE, NONE, &[T1]),
                    &[(T1, "REFUNDED", 80_000, Some(95_000))],
                ),
                format!("refund of 950.00 EUR for ticket {T1} of PNR 1000000004 is above its fare, 800.00 EUR"),
            ),
        ]
    };
    for (id, contradiction, reason) in cases {
        let pnr = Pnr {
            id,
            trip: "2644545869",
            travelers: &one,
        };
        for body in [
            pnr_event(&pnr, "BOOKING_CREATED", 1, (NONE, NONE, NONE), &[]),
            pnr_event(
                &pnr,
                "BOOKING_TICKETED",
                2,
                (&[T1], NONE, NONE),
                &[(T1, "ISSUED", 80_000, None)],
            ),
        ] {
            let (status, answer) =
                deliver(&client, &url, &uuid::Uuid::new_v4().to_string(), &body).await;
            assert_eq!(status, 200, "{id}: {answer}");
        }
        let webhook_id = uuid::Uuid::new_v4().to_string();
        let (status, answer) = deliver(&client, &url, &webhook_id, &contradiction).await;
        assert_eq!(status, 409, "{id}: {answer}");
        assert_eq!(answer["step"], "booking-conflict", "{answer}");
        assert_eq!(answer["detail"], reason.as_str());
        // Refused, so not applied and not acknowledged: a redelivery is refused again.
        assert_eq!(
            deliver(&client, &url, &webhook_id, &contradiction).await.0,
            409
        );
    }
    running.shutdown().await;
}

/// `spotcheck serve --stateful` says so when it starts and refuses a contradiction.
#[tokio::test]
async fn serve_stateful_refuses_a_second_trip_for_one_pnr() {
    let mut serve = Spotcheck::new(["serve", "--plain", "--listen", "127.0.0.1:0", "--stateful"])
        .secret(SECRET)
        .spawn();
    let url = serve.listening_url();
    serve.wait_for("the stateful note", |line| {
        line.starts_with("keeping each booking: 409").then_some(())
    });
    let client = reqwest::Client::new();
    let travelers = [(LUKASZ, "Łukasz", "Patel")];
    let first = Pnr {
        id: "2000000001",
        trip: "1111111111",
        travelers: &travelers,
    };
    let second = Pnr {
        id: "2000000001",
        trip: "2222222222",
        travelers: &travelers,
    };
    let created = pnr_event(&first, "BOOKING_CREATED", 1, (NONE, NONE, NONE), &[]);
    assert_eq!(deliver(&client, &url, "w-1", &created).await.0, 200);
    let moved = pnr_event(&second, "BOOKING_MODIFIED", 2, (NONE, NONE, NONE), &[]);
    let (status, answer) = deliver(&client, &url, "w-2", &moved).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        answer["detail"],
        "PNR 2000000001 belongs to trip 1111111111; this event files it under trip 2222222222"
    );
}
