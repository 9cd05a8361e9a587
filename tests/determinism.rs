//! `--seed` replays exactly the same events: every byte of every request body and the
//! webhook ids are the same for the same seed, apart from the times taken from the
//! clock (the envelope `timestamp` and the dates derived from "now", and the
//! signatures over them, are fresh, as the README says). Another seed changes them.
//! Whole bodies are compared, as a wiremock endpoint received them.

use serde_json::Value;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

use crate::support::cli::{SECRET, Spotcheck};

/// `text` with every `YYYY-MM-DDTHH:MM:SS(.fff)` replaced by `[time]` (times taken
/// from the clock differ between two runs a second apart).
fn without_times(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= SHAPE.len()
            && SHAPE.iter().zip(&bytes[i..]).all(|(shape, b)| match shape {
                b'd' => b.is_ascii_digit(),
                other => other == b,
            });
        if fits {
            out.push_str("[time]");
            i += SHAPE.len();
            // Fractional seconds follow the same clock.
            if bytes.get(i) == Some(&b'.') {
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// What a request carries that the seed decides: the webhook id and the whole body
/// (times masked).
fn seeded_part(request: &wiremock::Request) -> (String, String) {
    let id = request
        .headers
        .get("x-spotnana-webhook-id")
        .expect("a webhook id")
        .to_str()
        .unwrap()
        .to_owned();
    let body = String::from_utf8(request.body.clone()).expect("a UTF-8 body");
    (id, without_times(&body))
}

async fn accepting() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// Runs `spotcheck ARGS… --seed SEED` against a fresh endpoint; what it received.
async fn received(args: &[&str], seed: &str) -> Vec<(String, String)> {
    let server = accepting().await;
    let url = format!("{}/hook", server.uri());
    let run = Spotcheck::new(args)
        .args(["--endpoint", &url, "--seed", seed])
        .secret(SECRET)
        .no_color()
        .run()
        .await;
    assert!(
        matches!(run.code, Some(0 | 1)),
        "{args:?} --seed {seed}: {}",
        run.all()
    );
    let requests = server.received_requests().await.unwrap();
    assert!(!requests.is_empty(), "{args:?}: nothing sent");
    requests.iter().map(seeded_part).collect()
}

async fn assert_seeded(args: &[&str]) {
    let (first, again, other) = tokio::join!(
        received(args, "7"),
        received(args, "7"),
        received(args, "8")
    );
    assert_eq!(first.len(), again.len(), "{args:?}");
    for (i, (a, b)) in first.iter().zip(&again).enumerate() {
        assert_eq!(a.0, b.0, "{args:?}: request {i}'s webhook id");
        assert_eq!(a.1, b.1, "{args:?}: request {i}'s body");
    }
    // Another seed: other ids, other bodies (beyond the times).
    for (i, (a, b)) in first.iter().zip(&other).enumerate() {
        assert_ne!(a.0, b.0, "{args:?}: request {i}'s id under another seed");
        assert_ne!(a.1, b.1, "{args:?}: request {i}'s body under another seed");
    }
    // The bodies are real events, not empty.
    let body: Value = serde_json::from_str(&first[0].1).unwrap();
    assert!(
        body["payload"].as_object().is_some_and(|p| p.len() > 3),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_bodies_and_ids_depend_on_the_seed_alone() {
    assert_seeded(&["send", "PNR_V3/BOOKING_TICKETED"]).await;
    assert_seeded(&["send", "TRAVELER_V2/CREATE"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_lifecycle_bodies_depend_on_the_seed_alone() {
    assert_seeded(&["send", "--lifecycle", "air-ticketed-then-voided"]).await;
}

/// A whole check's deliveries (several requests, one at a time) replay byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_deliveries_depend_on_the_seed_alone() {
    assert_seeded(&[
        "run",
        "--only",
        "delivery.trace-headers-tolerated",
        "--jobs",
        "1",
        "--no-diagnose",
    ])
    .await;
}
