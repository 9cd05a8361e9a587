//! `spotcheck serve` as wired in the CLI (not `receiver::start` with a hand-built
//! config): `--validate-payloads`, `--tolerance` and `--max-body` each change what a
//! client gets back, and `spotcheck send --payload … --replace-payload` sends exactly
//! the payload given. Each test starts the real binary on loopback (plain HTTP) and
//! talks to it with `spotcheck send` or a raw signed POST.

use std::time::Duration;

use serde_json::{Value, json};
use spotcheck::signing::{Secret, SignatureFormat, unix_now};

use crate::support::cli::{self, Background, Spotcheck};

/// `spotcheck serve --plain --listen 127.0.0.1:0 ARGS…` verifying with the test secret;
/// returns it and its webhook URL (read from its `listening on` line).
fn serve(args: &[&str]) -> (Background, String) {
    let mut serve = Spotcheck::new(["serve", "--plain", "--listen", "127.0.0.1:0"])
        .args(args)
        .secret(cli::SECRET)
        .spawn();
    let url = serve.listening_url();
    (serve, url)
}

/// One POST of `body` signed with the test secret at `timestamp`; status and JSON answer.
async fn post(url: &str, body: &[u8], timestamp: i64) -> (u16, Value) {
    let id = uuid::Uuid::new_v4().to_string();
    let signature = Secret::parse(cli::SECRET)
        .unwrap()
        .sign(&id, &timestamp.to_string(), body)
        .token(SignatureFormat::V1);
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-spotnana-webhook-id", &id)
        .header("x-spotnana-webhook-timestamp", timestamp.to_string())
        .header("x-spotnana-webhook-signature", signature)
        .body(body.to_vec())
        .timeout(Duration::from_secs(10))
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

/// A PNR_V3 event whose envelope is fine and whose payload is `payload`.
fn pnr_event(payload: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "timestamp": "2026-11-29T10:15:30.123Z",
        "eventType": "PNR_V3",
        "operation": "BOOKING_TICKETED",
        "operationSummary": {"ticketsIssued": [], "ticketsVoided": [], "ticketsRefunded": []},
        "audience": {"organizationId": "6f1c2a3b-0000-4000-8000-000000000001"},
        "payload": payload,
    }))
    .unwrap()
}

/// `serve --validate-payloads`: `spotcheck send` with a payload Spotnana's schema
/// rejects gets `400 invalid-payload` (send exits 1 and shows it), a generated event
/// gets `200`; the same invalid payload against `serve` without the flag is a `200`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_payloads_flag_refuses_what_send_replace_payload_sends() {
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("payload.json");
    // `bookingStatus` must be a published UserFacingStatus (`CONFIRMED_STATUS`).
    std::fs::write(
        &payload,
        r#"{"pnrId":"pnr-cli","bookingStatus":"CONFIRMED"}"#,
    )
    .unwrap();
    let payload = payload.display().to_string();

    let (strict, url) = serve(&["--validate-payloads"]);
    let send = |url: String, extra: Vec<String>| async move {
        Spotcheck::new([
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &url,
            "--seed",
            "3",
        ])
        .args(extra)
        .secret(cli::SECRET)
        .no_color()
        .run()
        .await
    };
    let refused = send(
        url.clone(),
        vec![
            "--payload".into(),
            payload.clone(),
            "--replace-payload".into(),
        ],
    )
    .await;
    assert_eq!(refused.code, Some(1), "{}", refused.all());
    assert!(refused.stdout.contains("400"), "{}", refused.all());
    assert!(
        refused.stdout.contains("invalid-payload"),
        "{}",
        refused.all()
    );
    assert!(
        refused.stdout.contains("/payload/bookingStatus"),
        "the refusal names the pointer: {}",
        refused.all()
    );
    let accepted = send(url.clone(), Vec::new()).await;
    assert_eq!(accepted.code, Some(0), "{}", accepted.all());
    // A raw signed POST gets the same refusal, as JSON.
    let body = pnr_event(json!({"pnrId": "pnr-raw", "bookingStatus": "CONFIRMED"}));
    let (status, answer) = post(&url, &body, unix_now()).await;
    assert_eq!(
        (status, &answer["step"]),
        (400, &json!("invalid-payload")),
        "{answer}"
    );
    strict.kill();

    // Without the flag the same delivery is accepted: the refusal is the flag's doing.
    let (lenient, url) = serve(&[]);
    let (status, answer) = post(&url, &body, unix_now()).await;
    assert_eq!(status, 200, "{answer}");
    let sent = send(
        url,
        vec!["--payload".into(), payload, "--replace-payload".into()],
    )
    .await;
    assert_eq!(sent.code, Some(0), "{}", sent.all());
    lenient.kill();
}

/// `serve --tolerance 30s`: a timestamp 2 minutes old (fine under the default 5 m) is
/// refused as stale, 5 s old is accepted. `serve --max-body 2KiB`: a signed body just
/// over 2 KiB gets `413 body-too-large`, one just under gets `200`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tolerance_and_max_body_flags_set_the_limits() {
    let (serve, url) = serve(&["--tolerance", "30s", "--max-body", "2KiB"]);
    let small = pnr_event(json!({"pnrId": "pnr-t"}));
    let now = unix_now();
    let (status, answer) = post(&url, &small, now - 120).await;
    assert_eq!(
        (status, &answer["step"]),
        (401, &json!("stale-timestamp")),
        "{answer}"
    );
    let (status, answer) = post(&url, &small, now - 5).await;
    assert_eq!(status, 200, "{answer}");

    let padded = |size: usize| {
        let mut body = pnr_event(json!({"pnrId": "pnr-b", "pad": ""}));
        let pad = size - body.len();
        body = pnr_event(json!({"pnrId": "pnr-b", "pad": "x".repeat(pad)}));
        assert_eq!(body.len(), size);
        body
    };
    let (status, answer) = post(&url, &padded(2048 + 1), unix_now()).await;
    assert_eq!(
        (status, &answer["step"]),
        (413, &json!("body-too-large")),
        "{answer}"
    );
    let (status, answer) = post(&url, &padded(2048), unix_now()).await;
    assert_eq!(status, 200, "{answer}");
    serve.kill();
}

/// `send --payload FILE --replace-payload` sends that object as the whole `payload`
/// (nothing generated is left in it); without `--replace-payload` the file is merged
/// over the generated payload. Seen by a wiremock endpoint, as bytes on the wire.
#[tokio::test]
async fn send_replace_payload_sends_exactly_the_given_payload() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.json");
    std::fs::write(&file, r#"{"pnrId":"given","custom":[1,2]}"#).unwrap();
    let url = format!("{}/hook", server.uri());
    let file = file.display().to_string();
    for replace in [true, false] {
        let mut args = vec![
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &url,
            "--payload",
            &file,
        ];
        if replace {
            args.push("--replace-payload");
        }
        let run = Spotcheck::new(&args).secret(cli::SECRET).run().await;
        assert_eq!(run.code, Some(0), "{}", run.all());
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let payload = |i: usize| -> Value {
        serde_json::from_slice::<Value>(&requests[i].body).unwrap()["payload"].clone()
    };
    assert_eq!(payload(0), json!({"pnrId": "given", "custom": [1, 2]}));
    let merged = payload(1);
    assert_eq!(merged["pnrId"], "given");
    assert_eq!(merged["custom"], json!([1, 2]));
    assert!(
        merged.as_object().unwrap().len() > 2,
        "merged over the generated payload: {merged}"
    );
}
