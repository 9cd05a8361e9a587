//! `spotcheck send` against partners on 127.0.0.1 (wiremock), as a user runs it.

use crate::support::cli;

use std::time::Duration;

use serde_json::Value;
use spotcheck::signing::{Secret, SignatureFormat, Verifier};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use cli::{Run, SECRET, Spotcheck};

/// Runs `spotcheck send …` with the secret in the environment (unless `secret` is
/// `None`), killed after 20 s.
async fn send(args: &[&str], secret: Option<&str>) -> Run {
    let command = Spotcheck::new(["send"].iter().chain(args))
        .env_remove("SPOTNANA_WEBHOOK_SECRET")
        .timeout(Duration::from_secs(20));
    match secret {
        Some(secret) => command.secret(secret),
        None => command,
    }
    .run()
    .await
}

async fn partner(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(status).set_body_string("thanks"))
        .mount(&server)
        .await;
    server
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("header {name} missing"))
        .to_str()
        .unwrap()
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn delivers_a_signed_event_and_reports_200() {
    let server = partner(200).await;
    let url = format!("{}/hook", server.uri());
    assert!(url.starts_with("http://127.0.0.1:"));
    let run = send(
        &[
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &url,
            "--header",
            "API-Version: 2.0",
            "--seed",
            "42",
        ],
        Some(SECRET),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("seed 42 (replay with --seed 42)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("> POST {url}\n")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("> Content-Type: application/json\n"));
    // Every --header value may be a credential: shown masked, whatever its length.
    assert!(
        run.stdout.contains("> API-Version: ***redacted***\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("< 200 OK ("), "{}", run.stdout);
    assert!(run.stdout.contains("<   thanks\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .ends_with("delivered: 200 OK is the answer Spotnana counts as success\n"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("plain http://"), "{}", run.stderr);
    assert!(!run.stdout.contains("MfKQ9r8") && !run.stderr.contains("MfKQ9r8"));

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(header(request, "content-type"), "application/json");
    assert!(is_hex(header(request, "x-b3-traceid"), 32));
    assert!(is_hex(header(request, "x-b3-spanid"), 16));
    assert_eq!(header(request, "api-version"), "2.0");
    assert!(header(request, "user-agent").starts_with("spotcheck/"));
    let id = header(request, "x-spotnana-webhook-id");
    let timestamp = header(request, "x-spotnana-webhook-timestamp");
    let signature = header(request, "x-spotnana-webhook-signature");
    assert!(signature.starts_with("v1,"));
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()]);
    let now = spotcheck::signing::unix_now();
    assert_eq!(
        verifier.verify(
            Some(id),
            Some(timestamp),
            Some(signature),
            &request.body,
            now
        ),
        Ok(SignatureFormat::V1)
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["eventType"], "PNR_V3");
    assert_eq!(body["operation"], "BOOKING_TICKETED");
    assert!(
        !String::from_utf8_lossy(&request.body).contains("\n"),
        "the body is compact JSON"
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_webhook_and_organization_ids() {
    let server = partner(200).await;
    let url = format!("{}/hook", server.uri());
    for _ in 0..2 {
        let run = send(
            &["TRAVELER_V2/CREATE", "--endpoint", &url, "--seed", "7"],
            Some(SECRET),
        )
        .await;
        assert_eq!(run.code, Some(0), "{}", run.stderr);
    }
    let received = server.received_requests().await.unwrap();
    let ids: Vec<&str> = received
        .iter()
        .map(|r| header(r, "x-spotnana-webhook-id"))
        .collect();
    assert_eq!(ids[0], ids[1]);
    let orgs: Vec<Value> = received
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["audience"]["organizationId"].clone()
        })
        .collect();
    assert_eq!(orgs[0], orgs[1]);
    assert_ne!(
        header(&received[0], "x-b3-traceid"),
        "",
        "trace ids are always sent"
    );
}

#[tokio::test]
async fn payload_file_org_id_and_bare_signatures_are_applied() {
    let server = partner(200).await;
    let url = format!("{}/hook", server.uri());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.json");
    std::fs::write(&file, r#"{"pnrId": "PNR-FROM-FILE", "extra": {"x": 1}}"#).unwrap();
    let run = send(
        &[
            "PNR_V3/BOOKING_CREATED",
            "--endpoint",
            &url,
            "--payload",
            file.to_str().unwrap(),
            "--org-id",
            "org-123",
            "--signature-format",
            "bare",
            "--envelope",
            "event_type",
        ],
        Some(SECRET),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let received = server.received_requests().await.unwrap();
    let request = &received[0];
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["payload"]["pnrId"], "PNR-FROM-FILE");
    assert_eq!(body["payload"]["extra"]["x"], 1);
    assert!(
        body["payload"].get("tripId").is_some(),
        "merged, not replaced"
    );
    assert_eq!(body["audience"]["organizationId"], "org-123");
    assert_eq!(body["event_type"], "PNR_V3");
    assert!(!header(request, "x-spotnana-webhook-signature").starts_with("v1,"));
}

#[tokio::test]
async fn accepted_202_is_a_failure_with_the_reason() {
    let server = partner(202).await;
    let run = send(
        &[
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &format!("{}/hook", server.uri()),
        ],
        Some(SECRET),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.contains("< 202 Accepted ("));
    assert!(
        run.stdout.ends_with(
            "FAILED: 202 Accepted is a failure for Spotnana: only 200 OK counts, so it will retry this delivery\n"
        ),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_redirect_is_reported_and_not_followed() {
    let server = MockServer::start().await;
    let elsewhere = format!("{}/elsewhere", server.uri());
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(301).insert_header("Location", elsewhere.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let run = send(
        &[
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &format!("{}/hook", server.uri()),
        ],
        Some(SECRET),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stdout.contains("< 301 Moved Permanently ("),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "FAILED: 301 Moved Permanently is a failure for Spotnana: redirects are not followed (Location: {elsewhere})"
        )),
        "{}",
        run.stdout
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "the Location was not followed");
    server.verify().await;
}

#[tokio::test]
async fn server_error_is_a_failure() {
    let server = partner(500).await;
    let run = send(
        &[
            "SERVICE_CHARGE/SERVICE_FEE",
            "--endpoint",
            &format!("{}/hook", server.uri()),
        ],
        Some(SECRET),
    )
    .await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.contains(
            "FAILED: 500 Internal Server Error is a failure for Spotnana: only 200 OK counts"
        ),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_partner_that_hangs_times_out_within_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let run = send(
        &[
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &format!("{}/hook", server.uri()),
            "--timeout",
            "1s",
        ],
        Some(SECRET),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    assert!(run.stdout.contains("< no answer ("), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "FAILED: timeout: no answer within 1s; Spotnana would retry this delivery; \
             Spotnana waits 40 s per attempt: answer 200 at once and process later"
        ),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn reserved_custom_headers_are_refused() {
    let server = partner(200).await;
    let run = send(
        &[
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &format!("{}/hook", server.uri()),
            "--header",
            "Content-Type: text/plain",
        ],
        Some(SECRET),
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("error: --header `Content-Type` cannot be set"),
        "{}",
        run.stderr
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn unknown_events_and_missing_secrets_are_setup_errors() {
    let server = partner(200).await;
    let url = format!("{}/hook", server.uri());
    let run = send(
        &["PNR_V3/BOOKING_TICKTED", "--endpoint", &url],
        Some(SECRET),
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(
            "unknown operation `BOOKING_TICKTED` for PNR_V3; expected one of BOOKING_CREATED"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("did you mean `PNR_V3/BOOKING_TICKETED`?")
    );

    let run = send(&["PNR_V3/BOOKING_CREATED", "--endpoint", &url], None).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("no signing secret: environment variable SPOTNANA_WEBHOOK_SECRET is not set"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: export SPOTNANA_WEBHOOK_SECRET=whsec_…")
    );

    let run = send(
        &["PNR_V3/BOOKING_CREATED", "--endpoint", &url],
        Some("whsec_%%not-base64%%"),
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("is malformed"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-base64"), "{}", run.stderr);
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// `send --lifecycle`: one booking's whole story, each event signed, oldest first;
/// `--out-of-order` delivers the same events in another order, and `--seed` replays
/// the same bodies.
#[tokio::test]
async fn a_lifecycle_is_one_booking_signed_in_order_or_shuffled() {
    async fn bodies(args: &[&str]) -> Vec<Value> {
        let server = partner(200).await;
        let url = format!("{}/hook", server.uri());
        let mut all = vec![
            "--lifecycle",
            "air-ticketed-then-voided",
            "--endpoint",
            &url,
        ];
        all.extend(args);
        let run = send(&all, Some(SECRET)).await;
        assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("lifecycle air-ticketed-then-voided: 3 events of PNR "),
            "{}",
            run.stdout
        );
        let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()]);
        let received = server.received_requests().await.unwrap();
        received
            .iter()
            .map(|request| {
                let signed = verifier.verify(
                    Some(header(request, "x-spotnana-webhook-id")),
                    Some(header(request, "x-spotnana-webhook-timestamp")),
                    Some(header(request, "x-spotnana-webhook-signature")),
                    &request.body,
                    spotcheck::signing::unix_now(),
                );
                assert_eq!(signed, Ok(SignatureFormat::V1));
                serde_json::from_slice(&request.body).unwrap()
            })
            .collect()
    }
    let in_order = bodies(&["--seed", "5"]).await;
    let operations: Vec<&str> = in_order
        .iter()
        .map(|b| b["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        operations,
        ["BOOKING_CREATED", "BOOKING_TICKETED", "TICKET_VOIDED"]
    );
    let pnrs: std::collections::BTreeSet<&str> = in_order
        .iter()
        .map(|b| b["payload"]["pnrId"].as_str().unwrap())
        .collect();
    assert_eq!(pnrs.len(), 1, "one PNR");
    let versions: Vec<i64> = in_order
        .iter()
        .map(|b| b["payload"]["version"].as_i64().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert_eq!(
        in_order[1]["operationSummary"]["ticketsIssued"],
        in_order[2]["operationSummary"]["ticketsVoided"],
        "the void names the tickets the ticketing issued"
    );

    let shuffled = bodies(&["--seed", "5", "--out-of-order"]).await;
    let order: Vec<&str> = shuffled
        .iter()
        .map(|b| b["operation"].as_str().unwrap())
        .collect();
    assert_ne!(order, operations, "shuffled");
    let mut same: Vec<(Value, Value)> = shuffled
        .iter()
        .map(|b| {
            (
                b["payload"]["version"].clone(),
                b["payload"]["pnrId"].clone(),
            )
        })
        .collect();
    same.sort_by_key(|(v, _)| v.as_i64());
    let expected: Vec<(Value, Value)> = in_order
        .iter()
        .map(|b| {
            (
                b["payload"]["version"].clone(),
                b["payload"]["pnrId"].clone(),
            )
        })
        .collect();
    assert_eq!(same, expected, "the same seed tells the same story");
}

#[tokio::test]
async fn send_help_lists_the_lifecycles() {
    let run = send(&["--help"], None).await;
    assert_eq!(run.code, Some(0));
    for name in spotcheck::event::story::Lifecycle::ALL
        .iter()
        .map(|l| l.name)
    {
        assert!(run.stdout.contains(name), "{name}: {}", run.stdout);
    }
    let run = send(&["--lifecycle", "air-voided"], Some(SECRET)).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("air-ticketed-then-voided"),
        "{}",
        run.stderr
    );
}
