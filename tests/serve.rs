//! The reference receiver over real loopback connections: HTTPS with the
//! generated CA trusted, plain HTTP for the flaw switches, and `spotcheck serve`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use spotcheck::receiver::{self, Flaw, ReceiverConfig, RunningReceiver, TlsSetup};
use spotcheck::signing::{Secret, SignatureFormat, unix_now};

use crate::support::cli;

use cli::Spotcheck;

const LOOPBACK: &str = "127.0.0.1:0";
const ORG: &str = "6f1c2a3b-0000-4000-8000-000000000001";

fn secret() -> Secret {
    Secret::from_key(b"spotcheck-receiver-test-key-0001".to_vec())
}

fn other_secret() -> Secret {
    Secret::from_key(b"some-other-partner-secret-key-02".to_vec())
}

fn listen() -> SocketAddr {
    LOOPBACK.parse().unwrap()
}

fn config(flaws: Vec<Flaw>) -> ReceiverConfig {
    ReceiverConfig {
        secrets: vec![secret()],
        state: true,
        flaws,
        ..ReceiverConfig::default()
    }
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn https_client(ca_pem: &str) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only([ca])
        .build()
        .unwrap()
}

/// A conformant receiver over HTTPS with its generated CA trusted.
async fn https_receiver(config: ReceiverConfig) -> (RunningReceiver, reqwest::Client) {
    spotcheck::init_crypto();
    let running = receiver::start(config, listen(), TlsSetup::Generated)
        .await
        .unwrap();
    let client = https_client(running.ca_pem.as_deref().unwrap());
    (running, client)
}

/// A receiver over plain HTTP with these flaws.
async fn flawed(flaws: Vec<Flaw>) -> (RunningReceiver, reqwest::Client) {
    let running = receiver::start(config(flaws), listen(), TlsSetup::Plain)
        .await
        .unwrap();
    (running, plain_client())
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn event(operation: &str, pnr_id: &str, timestamp: &str) -> Vec<u8> {
    event_for(operation, pnr_id, timestamp, ORG)
}

fn event_for(operation: &str, pnr_id: &str, timestamp: &str, org: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "timestamp": timestamp,
        "eventType": "PNR_V3",
        "operation": operation,
        "operationSummary": {"ticketsIssued": [], "ticketsVoided": [], "ticketsRefunded": []},
        "audience": {"organizationId": org},
        "payload": {"pnrId": pnr_id, "tripId": "trip-1", "bookingStatus": "CONFIRMED"}
    }))
    .unwrap()
}

fn simple_event() -> Vec<u8> {
    event("BOOKING_TICKETED", "pnr-simple", "2026-11-29T10:15:30.123Z")
}

fn token(secret: &Secret, id: &str, timestamp: i64, body: &[u8], form: SignatureFormat) -> String {
    secret.sign(id, &timestamp.to_string(), body).token(form)
}

/// What the client saw.
#[derive(Debug)]
struct Reply {
    status: u16,
    json: Value,
    headers: reqwest::header::HeaderMap,
}

/// One POST with exactly these signature headers (`None` leaves a header out).
async fn deliver(
    client: &reqwest::Client,
    url: &str,
    id: Option<&str>,
    timestamp: Option<i64>,
    signature: Option<&str>,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Reply {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(id) = id {
        request = request.header("x-spotnana-webhook-id", id);
    }
    if let Some(timestamp) = timestamp {
        request = request.header("x-spotnana-webhook-timestamp", timestamp.to_string());
    }
    if let Some(signature) = signature {
        request = request.header("x-spotnana-webhook-signature", signature);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        json,
        headers,
    }
}

/// A correctly signed delivery like Spotnana's (v1 token, trace headers).
async fn valid(client: &reqwest::Client, url: &str, id: &str, body: &[u8]) -> Reply {
    let now = unix_now();
    let signature = token(&secret(), id, now, body, SignatureFormat::V1);
    deliver(
        client,
        url,
        Some(id),
        Some(now),
        Some(&signature),
        body,
        &[
            ("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"),
            ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ],
    )
    .await
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET {url}");
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// Polls a state URL until `done` holds (processing is asynchronous), or gives up
/// after 30 s (generous: reached only when the receiver is wrong).
async fn observe(client: &reqwest::Client, url: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = get_json(client, url).await;
        if done(&value) || Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (30 s at most) until the receiver has processed `n` events and handled every
/// delivery it accepted: the processor counts each queued delivery as processed or as
/// a duplicate (or both, with `Flaw::ProcessDuplicates`) in one step without an await,
/// so once `processed + duplicates` covers `accepted` the queue holds nothing that could
/// still be processed (again). A synchronisation on what the receiver did, not a sleep.
async fn processed(running: &RunningReceiver, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = running.stats();
        if stats.processed >= n && stats.processed + stats.duplicates >= stats.accepted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the receiver did not settle at {n} processed: {stats:?}"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

// ---------------------------------------------------------------- conformant

#[tokio::test]
async fn https_valid_delivery_gets_200_and_shows_in_state() {
    let (running, client) = https_receiver(config(vec![])).await;
    assert!(running.webhook_url().starts_with("https://127.0.0.1:"));
    let id = new_id();
    let body = event("BOOKING_TICKETED", "pnr-https", "2026-11-29T10:15:30.123Z");
    let reply = valid(&client, &running.webhook_url(), &id, &body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);

    let state = running.state_url();
    let summary = observe(&client, &state, |v| v["processed"] == 1).await;
    assert_eq!(
        summary,
        json!({"received": 1, "accepted": 1, "rejected": 0, "duplicates": 0, "processed": 1})
    );
    let webhook = get_json(&client, &format!("{state}/webhooks/{id}")).await;
    assert_eq!(webhook, json!({"id": id, "deliveries": 1, "processed": 1}));
    let pnr = get_json(&client, &format!("{state}/pnrs/pnr-https")).await;
    assert_eq!(
        pnr,
        json!({"pnrId": "pnr-https", "newestTimestamp": "2026-11-29T10:15:30.123Z",
               "operation": "BOOKING_TICKETED", "eventsProcessed": 1})
    );
    let unknown = get_json(&client, &format!("{state}/webhooks/never-sent")).await;
    assert_eq!(
        unknown,
        json!({"id": "never-sent", "deliveries": 0, "processed": 0})
    );
    running.shutdown().await;
}

#[tokio::test]
async fn https_localhost_name_verifies_too() {
    let (running, client) = https_receiver(config(vec![])).await;
    let url = format!("https://localhost:{}/webhooks", running.addr.port());
    // `localhost` may resolve to ::1 first; the client falls back to 127.0.0.1.
    let reply = valid(&client, &url, &new_id(), &simple_event()).await;
    assert_eq!(reply.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn an_untrusting_client_cannot_connect() {
    let (running, _) = https_receiver(config(vec![])).await;
    let other_ca = receiver::generate_localhost_pki().unwrap().ca_pem;
    let err = https_client(&other_ca)
        .post(running.webhook_url())
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    running.shutdown().await;
}

#[tokio::test]
async fn both_token_forms_and_unusual_formatting_are_accepted() {
    let (running, client) = https_receiver(config(vec![])).await;
    let url = running.webhook_url();
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&simple_event()).unwrap())
            .unwrap();
    let escaped = br#"{"timestamp":"2026-11-29T10:15:30.123Z","eventType":"PNR_V3","operation":"BOOKING_TICKETED","payload":{"pnrId":"\u0070nr","amount":1.0}}"#;
    for form in [SignatureFormat::V1, SignatureFormat::Bare] {
        for body in [simple_event(), pretty.clone(), escaped.to_vec()] {
            let id = new_id();
            let now = unix_now();
            let signature = token(&secret(), &id, now, &body, form);
            let reply = deliver(
                &client,
                &url,
                Some(&id),
                Some(now),
                Some(&signature),
                &body,
                &[],
            )
            .await;
            assert_eq!(reply.status, 200, "{form:?}: {:?}", reply.json);
        }
    }
    running.shutdown().await;
}

#[tokio::test]
async fn rotation_header_with_the_valid_token_first_or_last_is_accepted() {
    let (running, client) = https_receiver(config(vec![])).await;
    let body = simple_event();
    for valid_first in [true, false] {
        let id = new_id();
        let now = unix_now();
        let good = token(&secret(), &id, now, &body, SignatureFormat::V1);
        let stale = token(&other_secret(), &id, now, &body, SignatureFormat::V1);
        let header = if valid_first {
            format!("{good} {stale}")
        } else {
            format!("{stale} {good}")
        };
        let reply = deliver(
            &client,
            &running.webhook_url(),
            Some(&id),
            Some(now),
            Some(&header),
            &body,
            &[],
        )
        .await;
        assert_eq!(reply.status, 200, "valid first: {valid_first}");
    }
    running.shutdown().await;
}

#[tokio::test]
async fn refusals_are_401_and_name_the_failed_step() {
    let (running, client) = https_receiver(config(vec![])).await;
    let url = running.webhook_url();
    let body = simple_event();
    let id = new_id();
    let now = unix_now();
    let good = token(&secret(), &id, now, &body, SignatureFormat::V1);
    let wrong = token(&other_secret(), &id, now, &body, SignatureFormat::V1);
    let stale_at = now - 600;
    let stale = token(&secret(), &id, stale_at, &body, SignatureFormat::V1);
    let future_at = now + 600;
    let future = token(&secret(), &id, future_at, &body, SignatureFormat::V1);
    let tampered = event("BOOKING_TICKETED", "pnr-evil", "2026-11-29T10:15:30.123Z");
    // (case, id header, timestamp, signature header, body, expected step)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        i64,
        Option<&'a str>,
        &'a [u8],
        &'a str,
    );
    let cases: Vec<Case> = vec![
        ("missing", Some(&id), now, None, &body, "missing-header"),
        (
            "garbage",
            Some(&id),
            now,
            Some("v1,not-base64!!"),
            &body,
            "malformed-signature",
        ),
        ("empty", Some(&id), now, Some(" "), &body, "no-signature"),
        (
            "wrong secret",
            Some(&id),
            now,
            Some(&wrong),
            &body,
            "signature-mismatch",
        ),
        (
            "tampered body",
            Some(&id),
            now,
            Some(&good),
            &tampered,
            "signature-mismatch",
        ),
        (
            "tampered id",
            Some("another-id"),
            now,
            Some(&good),
            &body,
            "signature-mismatch",
        ),
        ("no id", None, now, Some(&good), &body, "missing-header"),
        (
            "stale",
            Some(&id),
            stale_at,
            Some(&stale),
            &body,
            "stale-timestamp",
        ),
        (
            "future",
            Some(&id),
            future_at,
            Some(&future),
            &body,
            "future-timestamp",
        ),
    ];
    for (name, id, at, signature, body, step) in cases {
        let reply = deliver(&client, &url, id, Some(at), signature, body, &[]).await;
        assert_eq!(reply.status, 401, "{name}: {:?}", reply.json);
        assert_eq!(reply.json["step"], step, "{name}: {:?}", reply.json);
        let text = reply.json.to_string();
        assert!(
            !text.contains(&secret().expose_whsec()[6..]),
            "{name} leaks the secret"
        );
    }
    let stats = running.stats();
    assert_eq!((stats.received, stats.accepted, stats.rejected), (9, 0, 9));
    running.shutdown().await;
}

#[tokio::test]
async fn a_redelivered_id_gets_200_and_is_processed_once() {
    let (running, client) = https_receiver(config(vec![])).await;
    let id = new_id();
    for _ in 0..2 {
        // Each attempt is re-signed with a fresh timestamp; the id stays.
        let reply = valid(&client, &running.webhook_url(), &id, &simple_event()).await;
        assert_eq!(reply.status, 200);
    }
    let url = format!("{}/webhooks/{id}", running.state_url());
    let webhook = observe(&client, &url, |v| v["deliveries"] == 2).await;
    processed(&running, 1).await;
    let webhook_after = get_json(&client, &url).await;
    assert_eq!(webhook, json!({"id": id, "deliveries": 2, "processed": 1}));
    assert_eq!(webhook_after, webhook);
    let summary = observe(&client, &running.state_url(), |v| v["duplicates"] == 1).await;
    assert_eq!(summary["processed"], 1);
    assert_eq!(summary["duplicates"], 1);
    running.shutdown().await;
}

#[tokio::test]
async fn an_older_event_arriving_later_does_not_win() {
    let (running, client) = https_receiver(config(vec![])).await;
    let url = running.webhook_url();
    let newer = event("BOOKING_TICKETED", "pnr-order", "2026-11-29T10:16:00.000Z");
    let older = event("BOOKING_CREATED", "pnr-order", "2026-11-29T10:15:00.000Z");
    assert_eq!(valid(&client, &url, &new_id(), &newer).await.status, 200);
    assert_eq!(valid(&client, &url, &new_id(), &older).await.status, 200);
    let pnr_url = format!("{}/pnrs/pnr-order", running.state_url());
    let pnr = observe(&client, &pnr_url, |v| v["eventsProcessed"] == 2).await;
    assert_eq!(
        pnr,
        json!({"pnrId": "pnr-order", "newestTimestamp": "2026-11-29T10:16:00.000Z",
               "operation": "BOOKING_TICKETED", "eventsProcessed": 2})
    );
    running.shutdown().await;
}

/// `validate_payloads` (`serve --validate-payloads`): after the signature is verified,
/// a payload Spotnana's published schema rejects gets `400` naming the first
/// violation's pointer; generated events and types without a published schema pass.
#[tokio::test]
async fn validate_payloads_refuses_an_invalid_payload_after_verification() {
    let (running, client) = https_receiver(ReceiverConfig {
        validate_payloads: true,
        ..config(vec![])
    })
    .await;
    let url = running.webhook_url();
    // `bookingStatus: CONFIRMED` is not a published UserFacingStatus (`CONFIRMED_STATUS` is).
    let invalid = simple_event();
    let reply = valid(&client, &url, &new_id(), &invalid).await;
    assert_eq!(reply.status, 400, "{:?}", reply.json);
    assert_eq!(reply.json["step"], "invalid-payload");
    let detail = reply.json["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("/payload/bookingStatus: \"CONFIRMED\" is not one of"),
        "{detail}"
    );
    assert!(detail.contains("PnrData"), "{detail}");

    // The signature comes first: the same body with a wrong signature is a 401.
    let now = unix_now();
    let wrong = token(&other_secret(), "id", now, &invalid, SignatureFormat::V1);
    let reply = deliver(
        &client,
        &url,
        Some("id"),
        Some(now),
        Some(&wrong),
        &invalid,
        &[],
    )
    .await;
    assert_eq!(reply.status, 401, "{:?}", reply.json);

    // What spotcheck generates is valid, for every type.
    for kind in spotcheck::event::EventKind::all() {
        let spec = spotcheck::event::EventSpec {
            kind,
            organization_id: ORG,
            message_time: time::OffsetDateTime::now_utc(),
            style: spotcheck::event::EnvelopeStyle::EventType,
            pnr_id: None,
        };
        let event = spotcheck::event::build_event(&spec, &mut spotcheck::event::random::rng(9));
        let body = serde_json::to_vec(&event).unwrap();
        let reply = valid(&client, &url, &new_id(), &body).await;
        assert_eq!(reply.status, 200, "{kind}: {:?}", reply.json);
    }

    // No published schema for PNR_APPROVAL: any payload passes.
    let mut approval: Value = serde_json::from_slice(&invalid).unwrap();
    approval["eventType"] = json!("PNR_APPROVAL");
    approval["operation"] = json!("SOFT_APPROVAL");
    let body = serde_json::to_vec(&approval).unwrap();
    assert_eq!(valid(&client, &url, &new_id(), &body).await.status, 200);
    running.shutdown().await;

    // Without the option the same invalid payload is accepted.
    let (running, client) = https_receiver(config(vec![])).await;
    let reply = valid(&client, &running.webhook_url(), &new_id(), &invalid).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    running.shutdown().await;
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let config = ReceiverConfig {
        max_body_bytes: 64 * 1024,
        ..config(vec![])
    };
    let (running, client) = https_receiver(config).await;
    let url = running.webhook_url();
    let big = format!(r#"{{"payload":{{"pad":"{}"}}}}"#, "x".repeat(70 * 1024)).into_bytes();
    let reply = valid(&client, &url, &new_id(), &big).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json["step"], "body-too-large");
    let fits = format!(r#"{{"payload":{{"pad":"{}"}}}}"#, "x".repeat(60 * 1024)).into_bytes();
    assert_eq!(valid(&client, &url, &new_id(), &fits).await.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn the_log_has_one_json_line_per_verified_event() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let config = ReceiverConfig {
        log_path: Some(log.clone()),
        ..config(vec![])
    };
    let (running, client) = https_receiver(config).await;
    let url = running.webhook_url();
    let id = new_id();
    let body = event("INVOICE_GENERATED", "pnr-log", "2026-11-29T10:15:30.123Z");
    assert_eq!(valid(&client, &url, &id, &body).await.status, 200);
    assert_eq!(valid(&client, &url, &id, &body).await.status, 200);
    // A validly signed body that is not JSON is still acknowledged, and logged with the error.
    let not_json_id = new_id();
    assert_eq!(
        valid(&client, &url, &not_json_id, b"not json").await.status,
        200
    );
    // A refused delivery is not logged.
    let refused = deliver(
        &client,
        &url,
        Some("forged"),
        Some(unix_now()),
        Some("v1,AAAA"),
        &body,
        &[],
    )
    .await;
    assert_eq!(refused.status, 401);
    running.shutdown().await;

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["webhookId"], id.as_str());
    assert_eq!(lines[0]["eventType"], "PNR_V3");
    assert_eq!(lines[0]["operation"], "INVOICE_GENERATED");
    assert_eq!(lines[0]["organizationId"], ORG);
    assert_eq!(lines[0]["pnrId"], "pnr-log");
    assert_eq!(lines[0]["traceId"], "463ac35c9f6413ad48485a3953bb6124");
    assert_eq!(lines[0]["duplicate"], false);
    assert_eq!(lines[1]["duplicate"], true);
    assert_eq!(lines[1]["processed"], false);
    assert_eq!(lines[2]["webhookId"], not_json_id.as_str());
    assert!(lines[2]["error"].as_str().unwrap().contains("not JSON"));
}

#[tokio::test]
async fn event_type_snake_case_is_understood() {
    let (running, client) = flawed(vec![]).await;
    let body = br#"{"timestamp":"2026-11-29T10:15:30.123Z","event_type":"PNR_V3","operation":"BOOKING_CREATED","payload":{"pnrId":"pnr-snake"}}"#;
    assert_eq!(
        valid(&client, &running.webhook_url(), &new_id(), body)
            .await
            .status,
        200
    );
    processed(&running, 1).await;
    assert_eq!(
        running.pnr("pnr-snake").operation.as_deref(),
        Some("BOOKING_CREATED")
    );
    running.shutdown().await;
}

#[tokio::test]
async fn state_is_hidden_unless_asked_for() {
    let config = ReceiverConfig {
        state: false,
        ..config(vec![])
    };
    let running = receiver::start(config, listen(), TlsSetup::Plain)
        .await
        .unwrap();
    assert!(running.webhook_url().starts_with("http://127.0.0.1:"));
    let response = plain_client()
        .get(running.state_url())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    running.shutdown().await;
}

#[tokio::test]
async fn a_busy_port_is_a_setup_error() {
    let first = receiver::start(config(vec![]), listen(), TlsSetup::Plain)
        .await
        .unwrap();
    let err = receiver::start(config(vec![]), first.addr, TlsSetup::Plain)
        .await
        .unwrap_err();
    assert!(err.message.contains("cannot listen on"), "{err}");
    first.shutdown().await;
}

// ---------------------------------------------------------------- spotcheck serve

#[tokio::test]
async fn serve_plain_prints_its_address_and_a_generated_secret_once() {
    let mut serve = Spotcheck::new(["serve", "--plain", "--listen", "127.0.0.1:0", "--state"])
        .env_remove("SPOTNANA_WEBHOOK_SECRET")
        .spawn();

    let url = serve.listening_url();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/webhooks"),
        "{url}"
    );
    assert!(
        !url.ends_with(":0/webhooks"),
        "the real port is printed: {url}"
    );
    let state_line = serve.next_line("state");
    assert_eq!(
        state_line,
        format!("state at {}", url.replace("/webhooks", "/state"))
    );

    let secret_line = serve.next_stderr_line("secret");
    let printed = secret_line.strip_prefix("generated secret: ").unwrap();
    let secret = Secret::parse(printed).unwrap();
    assert_eq!(
        secret.expose_key().len(),
        32,
        "a made-up secret is 32 random bytes, as every command makes one up"
    );

    let client = plain_client();
    let id = new_id();
    let body = event("BOOKING_CREATED", "pnr-cli", "2026-11-29T10:15:30.123Z");
    let now = unix_now();
    let signature = token(&secret, &id, now, &body, SignatureFormat::V1);
    let reply = deliver(
        &client,
        &url,
        Some(&id),
        Some(now),
        Some(&signature),
        &body,
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let summary = serve.next_line("event summary");
    assert!(summary.contains(&id), "{summary}");
    assert!(summary.contains("PNR_V3/BOOKING_CREATED"), "{summary}");
    assert!(summary.contains("pnr=pnr-cli"), "{summary}");
    assert!(!summary.contains(printed), "the secret is shown only once");

    let reply = deliver(
        &client,
        &url,
        Some(&id),
        Some(now),
        Some("v1,AAAA"),
        &body,
        &[],
    )
    .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn serve_self_signed_writes_a_ca_the_client_can_trust() {
    spotcheck::init_crypto();
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let secret_path = dir.path().join("secret");
    std::fs::write(&secret_path, secret().expose_whsec()).unwrap();
    let mut serve = Spotcheck::new([
        "serve",
        "--tls",
        "self-signed",
        "--listen",
        "127.0.0.1:0",
        "--quiet",
    ])
    .arg("--ca-out")
    .arg(&ca_path)
    .arg("--secret-file")
    .arg(&secret_path)
    .spawn();
    let url = serve.listening_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(
        serve.next_line("CA"),
        format!("CA certificate written to {}", ca_path.display())
    );
    let client = https_client(&std::fs::read_to_string(&ca_path).unwrap());
    assert_eq!(
        valid(&client, &url, &new_id(), &simple_event())
            .await
            .status,
        200
    );
    let (stdout, stderr) = serve.kill();
    assert!(
        !stdout.contains("whsec_") && !stderr.contains("whsec_"),
        "a given secret is never printed: {stdout}{stderr}"
    );
}

/// A validly signed delivery whose `pnrId` holds a newline, a carriage return, ANSI
/// escapes, DEL and a C1 CSI cannot forge a log line nor drive the terminal: one
/// summary line per event with the escapes visible, one JSON line in `--log` without
/// any control character.
#[tokio::test]
async fn serve_logs_are_inert_whatever_a_signed_body_holds() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let secret_path = dir.path().join("secret");
    std::fs::write(&secret_path, secret().expose_whsec()).unwrap();
    let mut serve = Spotcheck::new(["serve", "--plain", "--listen", "127.0.0.1:0"])
        .arg("--secret-file")
        .arg(&secret_path)
        .arg("--log")
        .arg(&log)
        .spawn();
    let url = serve.listening_url();
    let client = plain_client();
    let forged_pnr = "pnr-evil\n2026-11-29T10:15:31.000Z  forged-id  PNR_V3/BOOKING_CANCELED  org=x  pnr=y\r\x1b[2J\x1b[31mred\x7f\u{9b}0m";
    let evil_id = new_id();
    let body = event("BOOKING_CREATED", forged_pnr, "2026-11-29T10:15:30.123Z");
    assert_eq!(valid(&client, &url, &evil_id, &body).await.status, 200);
    let next_id = new_id();
    assert_eq!(
        valid(&client, &url, &next_id, &simple_event()).await.status,
        200
    );

    let first = serve.wait_for("the forged event's summary", |line| {
        line.contains(&evil_id).then(|| line.to_owned())
    });
    assert!(
        first.contains(
            r"pnr=pnr-evil\u{a}2026-11-29T10:15:31.000Z  forged-id  PNR_V3/BOOKING_CANCELED  org=x  pnr=y\u{d}\u{1b}[2J\u{1b}[31mred\u{7f}\u{9b}0m  trace=463ac35c9f6413ad48485a3953bb6124"
        ),
        "{first:?}"
    );
    assert!(!first.chars().any(char::is_control), "{first:?}");
    // The very next line is the next event's: nothing was forged in between.
    let second = serve.next_line("the next event's summary");
    assert!(second.contains(&next_id), "{second:?}");
    // SIGTERM stops `serve` cleanly: the queue is drained, the log complete, exit 0.
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (code, _, stderr) = serve.wait(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{stderr}");

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| {
            assert!(!l.chars().any(char::is_control), "{l:?}");
            serde_json::from_str(l).unwrap()
        })
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["webhookId"], evil_id.as_str());
    assert_eq!(
        lines[0]["pnrId"],
        r"pnr-evil\u{a}2026-11-29T10:15:31.000Z  forged-id  PNR_V3/BOOKING_CANCELED  org=x  pnr=y\u{d}\u{1b}[2J\u{1b}[31mred\u{7f}\u{9b}0m"
    );
    assert_eq!(lines[1]["webhookId"], next_id.as_str());
}

#[tokio::test]
async fn serve_with_given_certificate_files_uses_localhost_in_its_url() {
    spotcheck::init_crypto();
    let pki = receiver::generate_localhost_pki().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, &pki.cert_pem).unwrap();
    std::fs::write(&key, &pki.key_pem).unwrap();
    let mut serve = Spotcheck::new([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--quiet",
        "--secret-env",
        "SPOTCHECK_TEST_SECRET",
    ])
    .arg("--tls-cert")
    .arg(&cert)
    .arg("--tls-key")
    .arg(&key)
    .env("SPOTCHECK_TEST_SECRET", secret().expose_whsec())
    .spawn();
    let url = serve.listening_url();
    assert!(url.starts_with("https://localhost:"), "{url}");
    let client = https_client(&pki.ca_pem);
    assert_eq!(
        valid(&client, &url, &new_id(), &simple_event())
            .await
            .status,
        200
    );
}

// ---------------------------------------------------------------- flaws

#[tokio::test]
async fn flaw_status_answers_another_success_code_or_a_redirect() {
    let (running, client) = flawed(vec![Flaw::Status(202)]).await;
    let reply = valid(&client, &running.webhook_url(), &new_id(), &simple_event()).await;
    assert_eq!(reply.status, 202);
    running.shutdown().await;
    let (running, client) = flawed(vec![Flaw::Status(301)]).await;
    let reply = valid(&client, &running.webhook_url(), &new_id(), &simple_event()).await;
    assert_eq!(reply.status, 301);
    assert_eq!(reply.headers["location"], "/moved");
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_slow_ack_waits_before_answering() {
    let (running, client) = flawed(vec![Flaw::SlowAck(Duration::from_millis(300))]).await;
    let started = Instant::now();
    let reply = valid(&client, &running.webhook_url(), &new_id(), &simple_event()).await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_max_concurrent_refuses_part_of_a_burst() {
    let (running, client) = flawed(vec![Flaw::MaxConcurrent(2)]).await;
    let url = running.webhook_url();
    let burst = (0..8).map(|_| {
        let client = client.clone();
        let url = url.clone();
        async move {
            valid(&client, &url, &new_id(), &simple_event())
                .await
                .status
        }
    });
    let statuses = futures::future::join_all(burst).await;
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_body_limit_refuses_large_payloads() {
    let (running, client) = flawed(vec![Flaw::BodyLimit(1024)]).await;
    let url = running.webhook_url();
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(2048)).into_bytes();
    assert_eq!(valid(&client, &url, &new_id(), &big).await.status, 413);
    assert_eq!(valid(&client, &url, &new_id(), b"{}").await.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_reject_trace_headers_refuses_b3_and_custom_headers() {
    let (running, client) = flawed(vec![Flaw::RejectTraceHeaders]).await;
    let url = running.webhook_url();
    let reply = valid(&client, &url, &new_id(), &simple_event()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json["step"], "unexpected-header");
    let body = simple_event();
    let id = new_id();
    let now = unix_now();
    let signature = token(&secret(), &id, now, &body, SignatureFormat::V1);
    let bare = deliver(
        &client,
        &url,
        Some(&id),
        Some(now),
        Some(&signature),
        &body,
        &[],
    )
    .await;
    assert_eq!(bare.status, 200);
    let custom = deliver(
        &client,
        &url,
        Some(&id),
        Some(now),
        Some(&signature),
        &body,
        &[("api-version", "2.0")],
    )
    .await;
    assert_eq!(custom.status, 400);
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_reject_operations_refuses_a_forgotten_operation() {
    let (running, client) =
        flawed(vec![Flaw::RejectOperations(vec!["TICKET_VOIDED".into()])]).await;
    let url = running.webhook_url();
    let voided = event("TICKET_VOIDED", "p", "2026-11-29T10:15:30.123Z");
    assert_eq!(valid(&client, &url, &new_id(), &voided).await.status, 400);
    assert_eq!(
        valid(&client, &url, &new_id(), &simple_event())
            .await
            .status,
        200
    );
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_reject_unknown_operations_breaks_on_catalogue_additions() {
    let (running, client) = flawed(vec![Flaw::RejectUnknownOperations]).await;
    let url = running.webhook_url();
    let novel = event("BOOKING_TELEPORTED", "p", "2026-11-29T10:15:30.123Z");
    assert_eq!(valid(&client, &url, &new_id(), &novel).await.status, 400);
    assert_eq!(
        valid(&client, &url, &new_id(), &simple_event())
            .await
            .status,
        200
    );
    running.shutdown().await;
    // The conformant receiver tolerates it.
    let (running, client) = flawed(vec![]).await;
    assert_eq!(
        valid(&client, &running.webhook_url(), &new_id(), &novel)
            .await
            .status,
        200
    );
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_strict_fields_refuses_unknown_keys() {
    let (running, client) = flawed(vec![Flaw::StrictFields]).await;
    let url = running.webhook_url();
    let mut envelope: Value = serde_json::from_slice(&simple_event()).unwrap();
    assert_eq!(
        valid(&client, &url, &new_id(), &simple_event())
            .await
            .status,
        200
    );
    envelope["audience"]["tmcId"] = json!("tmc-1");
    let body = serde_json::to_vec(&envelope).unwrap();
    assert_eq!(valid(&client, &url, &new_id(), &body).await.status, 400);
    envelope["audience"] = json!({"organizationId": ORG});
    envelope["newTopLevelField"] = json!(true);
    let body = serde_json::to_vec(&envelope).unwrap();
    let reply = valid(&client, &url, &new_id(), &body).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json["step"], "unknown-field");
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_skip_verification_accepts_unsigned_deliveries() {
    let (running, client) = flawed(vec![Flaw::SkipVerification]).await;
    let reply = deliver(
        &client,
        &running.webhook_url(),
        None,
        None,
        None,
        &simple_event(),
        &[],
    )
    .await;
    assert_eq!(reply.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_accept_missing_signature_verifies_only_when_present() {
    let (running, client) = flawed(vec![Flaw::AcceptMissingSignature]).await;
    let url = running.webhook_url();
    let now = unix_now();
    let body = simple_event();
    assert_eq!(
        deliver(&client, &url, Some("i"), Some(now), None, &body, &[])
            .await
            .status,
        200
    );
    let wrong = token(&other_secret(), "i", now, &body, SignatureFormat::V1);
    assert_eq!(
        deliver(
            &client,
            &url,
            Some("i"),
            Some(now),
            Some(&wrong),
            &body,
            &[]
        )
        .await
        .status,
        401
    );
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_accept_undecodable_signature_swallows_decoding_errors() {
    let (running, client) = flawed(vec![Flaw::AcceptUndecodableSignature]).await;
    let url = running.webhook_url();
    let now = unix_now();
    let body = simple_event();
    let garbage = deliver(
        &client,
        &url,
        Some("i"),
        Some(now),
        Some("v1,not-base64!!"),
        &body,
        &[],
    )
    .await;
    assert_eq!(garbage.status, 200);
    let wrong = token(&other_secret(), "i", now, &body, SignatureFormat::V1);
    assert_eq!(
        deliver(
            &client,
            &url,
            Some("i"),
            Some(now),
            Some(&wrong),
            &body,
            &[]
        )
        .await
        .status,
        401
    );
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_reserialize_before_verify_breaks_unusual_formatting() {
    let (running, client) = flawed(vec![Flaw::ReserializeBeforeVerify]).await;
    let url = running.webhook_url();
    let compact = simple_event();
    assert_eq!(valid(&client, &url, &new_id(), &compact).await.status, 200);
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&compact).unwrap()).unwrap();
    let reply = valid(&client, &url, &new_id(), &pretty).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json["step"], "signature-mismatch");
    running.shutdown().await;
}

/// Sends a rotation header (stale token and valid token) in both orders.
async fn rotation_statuses(flaw: Flaw) -> (u16, u16) {
    let (running, client) = flawed(vec![flaw]).await;
    let url = running.webhook_url();
    let body = simple_event();
    let mut statuses = Vec::new();
    for valid_first in [true, false] {
        let id = new_id();
        let now = unix_now();
        let good = token(&secret(), &id, now, &body, SignatureFormat::V1);
        let stale = token(&other_secret(), &id, now, &body, SignatureFormat::V1);
        let header = if valid_first {
            format!("{good} {stale}")
        } else {
            format!("{stale} {good}")
        };
        statuses.push(
            deliver(
                &client,
                &url,
                Some(&id),
                Some(now),
                Some(&header),
                &body,
                &[],
            )
            .await
            .status,
        );
    }
    running.shutdown().await;
    (statuses[0], statuses[1])
}

#[tokio::test]
async fn flaw_first_token_only_breaks_rotation_with_the_valid_token_last() {
    assert_eq!(rotation_statuses(Flaw::FirstTokenOnly).await, (200, 401));
}

#[tokio::test]
async fn flaw_last_token_only_breaks_rotation_with_the_valid_token_first() {
    assert_eq!(rotation_statuses(Flaw::LastTokenOnly).await, (401, 200));
}

/// Statuses for the same valid delivery written as `v1,…` and as bare Base64.
async fn form_statuses(flaw: Flaw) -> (u16, u16) {
    let (running, client) = flawed(vec![flaw]).await;
    let url = running.webhook_url();
    let body = simple_event();
    let mut statuses = Vec::new();
    for form in [SignatureFormat::V1, SignatureFormat::Bare] {
        let id = new_id();
        let now = unix_now();
        let signature = token(&secret(), &id, now, &body, form);
        statuses.push(
            deliver(
                &client,
                &url,
                Some(&id),
                Some(now),
                Some(&signature),
                &body,
                &[],
            )
            .await
            .status,
        );
    }
    running.shutdown().await;
    (statuses[0], statuses[1])
}

#[tokio::test]
async fn flaw_require_v1_prefix_refuses_bare_tokens() {
    assert_eq!(form_statuses(Flaw::RequireV1Prefix).await, (200, 401));
}

#[tokio::test]
async fn flaw_require_bare_token_refuses_v1_tokens() {
    assert_eq!(form_statuses(Flaw::RequireBareToken).await, (401, 200));
}

#[tokio::test]
async fn flaw_trust_seen_signatures_accepts_a_replayed_signature_with_another_id() {
    let (running, client) = flawed(vec![Flaw::TrustSeenSignatures]).await;
    let url = running.webhook_url();
    let body = simple_event();
    let now = unix_now();
    let signature = token(&secret(), "original", now, &body, SignatureFormat::V1);
    assert_eq!(
        deliver(
            &client,
            &url,
            Some("original"),
            Some(now),
            Some(&signature),
            &body,
            &[]
        )
        .await
        .status,
        200
    );
    let replay = deliver(
        &client,
        &url,
        Some("tampered"),
        Some(now),
        Some(&signature),
        &body,
        &[],
    )
    .await;
    assert_eq!(replay.status, 200);
    running.shutdown().await;
    let (running, client) = flawed(vec![]).await;
    let url = running.webhook_url();
    assert_eq!(
        deliver(
            &client,
            &url,
            Some("original"),
            Some(now),
            Some(&signature),
            &body,
            &[]
        )
        .await
        .status,
        200
    );
    assert_eq!(
        deliver(
            &client,
            &url,
            Some("tampered"),
            Some(now),
            Some(&signature),
            &body,
            &[]
        )
        .await
        .status,
        401
    );
    running.shutdown().await;
}

/// Statuses for validly signed deliveries 10 minutes old and 10 minutes ahead.
async fn timestamp_statuses(flaws: Vec<Flaw>) -> (u16, u16) {
    let (running, client) = flawed(flaws).await;
    let url = running.webhook_url();
    let body = simple_event();
    let mut statuses = Vec::new();
    for offset in [-600, 600] {
        let id = new_id();
        let at = unix_now() + offset;
        let signature = token(&secret(), &id, at, &body, SignatureFormat::V1);
        statuses.push(
            deliver(
                &client,
                &url,
                Some(&id),
                Some(at),
                Some(&signature),
                &body,
                &[],
            )
            .await
            .status,
        );
    }
    running.shutdown().await;
    (statuses[0], statuses[1])
}

#[tokio::test]
async fn flaw_no_timestamp_check_accepts_stale_and_future_deliveries() {
    assert_eq!(timestamp_statuses(vec![]).await, (401, 401));
    assert_eq!(
        timestamp_statuses(vec![Flaw::NoTimestampCheck]).await,
        (200, 200)
    );
}

#[tokio::test]
async fn flaw_no_future_timestamp_check_accepts_only_future_deliveries() {
    assert_eq!(
        timestamp_statuses(vec![Flaw::NoFutureTimestampCheck]).await,
        (401, 200)
    );
}

#[tokio::test]
async fn flaw_reject_with_500_refuses_with_a_server_error() {
    let (running, client) = flawed(vec![Flaw::RejectWith500]).await;
    let reply = deliver(
        &client,
        &running.webhook_url(),
        Some("i"),
        Some(unix_now()),
        Some("v1,AAAA"),
        b"{}",
        &[],
    )
    .await;
    assert_eq!(reply.status, 500);
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_reject_duplicates_answers_409_to_a_redelivery() {
    let (running, client) = flawed(vec![Flaw::RejectDuplicates]).await;
    let url = running.webhook_url();
    let id = new_id();
    assert_eq!(valid(&client, &url, &id, &simple_event()).await.status, 200);
    assert_eq!(valid(&client, &url, &id, &simple_event()).await.status, 409);
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_reject_out_of_order_refuses_an_older_event() {
    let (running, client) = flawed(vec![Flaw::RejectOutOfOrder]).await;
    let url = running.webhook_url();
    let newer = event("BOOKING_TICKETED", "pnr-ooo", "2026-11-29T10:16:00.000Z");
    let older = event("BOOKING_CREATED", "pnr-ooo", "2026-11-29T10:15:00.000Z");
    assert_eq!(valid(&client, &url, &new_id(), &newer).await.status, 200);
    assert_eq!(valid(&client, &url, &new_id(), &older).await.status, 409);
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_single_organization_refuses_a_second_organization() {
    let (running, client) = flawed(vec![Flaw::SingleOrganization]).await;
    let url = running.webhook_url();
    let first = event_for("BOOKING_CREATED", "p1", "2026-11-29T10:15:00.000Z", "org-a");
    let second = event_for("BOOKING_CREATED", "p2", "2026-11-29T10:15:00.000Z", "org-b");
    assert_eq!(valid(&client, &url, &new_id(), &first).await.status, 200);
    assert_eq!(valid(&client, &url, &new_id(), &second).await.status, 403);
    assert_eq!(valid(&client, &url, &new_id(), &first).await.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_process_duplicates_processes_a_redelivery_twice() {
    let (running, client) = flawed(vec![Flaw::ProcessDuplicates]).await;
    let url = running.webhook_url();
    let id = new_id();
    assert_eq!(valid(&client, &url, &id, &simple_event()).await.status, 200);
    assert_eq!(valid(&client, &url, &id, &simple_event()).await.status, 200);
    processed(&running, 2).await;
    let webhook = get_json(&client, &format!("{}/webhooks/{id}", running.state_url())).await;
    assert_eq!(webhook, json!({"id": id, "deliveries": 2, "processed": 2}));
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_last_arrival_wins_lets_an_older_event_overwrite() {
    let (running, client) = flawed(vec![Flaw::LastArrivalWins]).await;
    let url = running.webhook_url();
    let newer = event("BOOKING_TICKETED", "pnr-law", "2026-11-29T10:16:00.000Z");
    let older = event("BOOKING_CREATED", "pnr-law", "2026-11-29T10:15:00.000Z");
    assert_eq!(valid(&client, &url, &new_id(), &newer).await.status, 200);
    assert_eq!(valid(&client, &url, &new_id(), &older).await.status, 200);
    processed(&running, 2).await;
    let pnr = get_json(&client, &format!("{}/pnrs/pnr-law", running.state_url())).await;
    assert_eq!(pnr["operation"], "BOOKING_CREATED");
    assert_eq!(pnr["newestTimestamp"], "2026-11-29T10:15:00.000Z");
    running.shutdown().await;
}

#[tokio::test]
async fn flaw_fail_first_fails_each_id_n_times_then_accepts() {
    let (running, client) = flawed(vec![Flaw::FailFirst(2)]).await;
    let url = running.webhook_url();
    let id = new_id();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(valid(&client, &url, &id, &simple_event()).await.status);
    }
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(
        valid(&client, &url, &new_id(), &simple_event())
            .await
            .status,
        500
    );
    running.shutdown().await;
}
