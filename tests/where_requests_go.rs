//! Requests go only where the user pointed them (docs/security.md, "Where requests go"):
//! an `observe` URL on another origin than `--state-url` is refused when the file is
//! loaded, and that server receives nothing; `--header` values go to the endpoint only,
//! `--state-header` values to the state URL only and are never shown; `redeliver` sends
//! to one destination, and a parked file naming another is refused and sent nowhere.
//! Every server here is a real one on loopback (wiremock, the reference receiver).

use std::path::Path;

use serde_json::Value;
use spotcheck::delivery::park::{ParkedBody, ParkedMessage};
use spotcheck::signing::SignatureFormat;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, cli};

const HEAD: &str = r#"id = "custom.read-back"
title = "A delivered event can be read back"
level = "recommended"
why = "Reconciliation reads the partner's state."
fix = "Serve the state endpoint."
requires = ["state"]
"#;

/// A scenario that sends one event and then observes `observe_url`.
fn read_back(observe_url: &str) -> String {
    format!(
        "{HEAD}\n[[step]]\nname = \"event\"\nsend = \"PNR_V3/BOOKING_CREATED\"\n\n\
         [[step]]\nobserve = \"GET {observe_url}\"\nexpect.json = {{ \"\" = \"x\" }}\n"
    )
}

/// A server that answers everything with 200 and a JSON body (what an attacker's host
/// would answer, or a state endpoint).
async fn answering_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"processed": 1})))
        .mount(&server)
        .await;
    server
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn received(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

#[tokio::test]
async fn an_observe_on_another_origin_is_refused_at_load_and_that_host_receives_nothing() {
    let endpoint = answering_server().await;
    let state = answering_server().await;
    let other = answering_server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "steal.toml",
        &read_back(&format!("{}/steal", other.uri())),
    );
    let state_url = format!("{}/state", state.uri());
    let run = support::spotcheck(&[
        "run",
        "--endpoint",
        &format!("{}/hook", endpoint.uri()),
        "--no-builtin",
        "--scenarios",
        &file,
        "--state-url",
        &state_url,
        "--header",
        "X-Api-Key: endpoint-canary",
    ])
    .await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    // file:line:col of the URL (line 13 of the file, after `observe = "GET `).
    assert!(
        run.stderr.contains(&format!("{file}:13:")),
        "no file:line:col in {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "`observe` reads only from the --state-url origin {}",
            state.uri()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("write the path under --state-url"),
        "{}",
        run.stderr
    );
    // Refused before anything was sent, to anyone.
    assert_eq!(
        received(&other).await.len(),
        0,
        "the other host got a request"
    );
    assert_eq!(received(&endpoint).await.len(), 0);
    assert_eq!(received(&state).await.len(), 0);

    // `scenarios check --state-url` refuses it the same way, and without --state-url an
    // absolute observe URL is refused with the hint to write a path.
    let check = support::spotcheck(&["scenarios", "check", &file, "--state-url", &state_url]).await;
    assert_eq!(check.code, Some(2), "{}", check.all());
    assert!(
        check.stderr.contains(&format!("{file}:13:")),
        "{}",
        check.stderr
    );
    let bare = support::spotcheck(&["scenarios", "check", &file]).await;
    assert_eq!(bare.code, Some(2), "{}", bare.all());
    assert!(
        bare.stderr
            .contains("an absolute `observe` URL needs --state-url to be checked against"),
        "{}",
        bare.stderr
    );
    assert!(
        bare.stderr.contains("write the path under --state-url"),
        "{}",
        bare.stderr
    );
    assert_eq!(received(&other).await.len(), 0);
}

#[tokio::test]
async fn an_observe_url_whose_host_a_template_could_change_is_refused_at_load() {
    let other = answering_server().await;
    let dir = tempfile::tempdir().unwrap();
    let authority = other.uri().trim_start_matches("http://").to_owned();
    // `{{ state_url }}@host` makes the state URL the userinfo of another host.
    let file = write(
        dir.path(),
        "userinfo.toml",
        &read_back(&format!("{{{{ state_url }}}}@{authority}/steal")),
    );
    let receiver = support::start(Vec::new()).await;
    let run = support::spotcheck(&[
        "run",
        "--endpoint",
        &receiver.running.webhook_url(),
        "--ca-cert",
        receiver.ca.to_str().unwrap(),
        "--no-builtin",
        "--scenarios",
        &file,
        "--state-url",
        "http://127.0.0.1",
    ])
    .await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains(&format!("{file}:13:")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("after `{{ state_url }}` an observe URL goes on with `/`"),
        "{}",
        run.stderr
    );
    assert_eq!(received(&other).await.len(), 0);
    assert_eq!(receiver.running.stats().accepted, 0);
}

/// Runs the one read-back scenario, observing `observe_url`, against `endpoint` with
/// `state`'s URL and `flags`.
async fn run_read_back(
    dir: &Path,
    observe_url: &str,
    endpoint: &MockServer,
    state: &MockServer,
    flags: &[&str],
) -> cli::Run {
    let file = write(dir, "read-back.toml", &read_back(observe_url));
    let report = format!("json={}", dir.join("report.json").display());
    let endpoint_url = format!("{}/hook", endpoint.uri());
    let state_url = format!("{}/state", state.uri());
    let mut args = vec![
        "run",
        "--endpoint",
        &endpoint_url,
        "--no-builtin",
        "--only",
        "custom.*",
        "--scenarios",
        &file,
        "--state-url",
        &state_url,
        "--header",
        "X-Api-Key: endpoint-canary",
        "--report",
        &report,
        "--export-curl",
        "--verbose",
    ];
    args.extend_from_slice(flags);
    support::spotcheck(&args).await
}

fn header<'r>(request: &'r wiremock::Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn any_header_holds(request: &wiremock::Request, canary: &str) -> bool {
    request
        .headers
        .iter()
        .any(|(_, v)| String::from_utf8_lossy(v.as_bytes()).contains(canary))
}

#[tokio::test]
async fn header_values_go_to_the_endpoint_and_never_to_the_state_url() {
    let endpoint = answering_server().await;
    let state = answering_server().await;
    let dir = tempfile::tempdir().unwrap();
    // The form the built-in observation checks use (it works on older versions too).
    let observe_url = "{{ state_url }}/webhooks/{{ steps.event.webhook_id }}";
    let run = run_read_back(dir.path(), observe_url, &endpoint, &state, &[]).await;
    // The observation expects "x" and gets {"processed": 1}: a warning, exit 0.
    assert_eq!(run.code, Some(0), "{}", run.all());

    let deliveries = received(&endpoint).await;
    assert_eq!(deliveries.len(), 1, "one delivery");
    assert_eq!(header(&deliveries[0], "x-api-key"), Some("endpoint-canary"));
    let observations = received(&state).await;
    assert!(!observations.is_empty(), "the state URL was read");
    for request in &observations {
        assert_eq!(request.method.as_str(), "GET");
        assert!(
            request.url.path().starts_with("/state/webhooks/"),
            "{}",
            request.url
        );
        assert!(
            !any_header_holds(request, "endpoint-canary"),
            "the --header value reached the state URL: {:?}",
            request.headers
        );
        assert_eq!(header(request, "x-api-key"), None);
    }
}

#[tokio::test]
async fn state_headers_go_to_the_state_url_only_and_are_never_shown() {
    let endpoint = answering_server().await;
    let state = answering_server().await;
    let dir = tempfile::tempdir().unwrap();
    // The recommended form: a path, appended to --state-url.
    let run = run_read_back(
        dir.path(),
        "/webhooks/{{ steps.event.webhook_id }}",
        &endpoint,
        &state,
        &[
            "--state-header",
            "Authorization: Bearer state-canary-token",
            "--state-header",
            "X-Read-Back: state-canary-plain",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());

    let observations = received(&state).await;
    assert!(!observations.is_empty(), "the state URL was read");
    for request in &observations {
        assert_eq!(
            header(request, "authorization"),
            Some("Bearer state-canary-token")
        );
        assert_eq!(header(request, "x-read-back"), Some("state-canary-plain"));
        assert!(!any_header_holds(request, "endpoint-canary"));
    }
    for request in &received(&endpoint).await {
        assert!(
            !any_header_holds(request, "state-canary"),
            "a --state-header value reached the endpoint: {:?}",
            request.headers
        );
    }
    // Shown nowhere: terminal (verbose, curl export, repro) and the JSON report.
    let report = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    for (channel, text) in [("terminal", run.all()), ("report", report.clone())] {
        assert!(
            !text.contains("state-canary"),
            "a --state-header value in the {channel}: {text}"
        );
    }
    let json: Value = serde_json::from_str(&report).unwrap();
    let repro = support::expect_check(&json, "custom.read-back")["repro"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        repro.contains("--state-header \"X-Read-Back: $SPOTCHECK_STATE_HEADER_X_READ_BACK\""),
        "{repro}"
    );
}

/// A parked message file as `send --retry` writes it, for `endpoint`.
fn parked_file(dir: &Path, name: &str, endpoint: &str, id: &str) -> String {
    let parked = ParkedMessage {
        spotcheck_parked: 1,
        webhook_id: id.to_owned(),
        endpoint: endpoint.to_owned(),
        parked_at: "2026-01-01T00:00:00Z".to_owned(),
        reason: "no attempt got 200 OK".to_owned(),
        signature_format: SignatureFormat::V1,
        body: ParkedBody::of(br#"{"pnrId":"attacker-chosen"}"#),
        headers: vec![("X-Api-Key".to_owned(), "***redacted***".to_owned())],
        attempts: Vec::new(),
    };
    write(dir, name, &serde_json::to_string_pretty(&parked).unwrap())
}

#[tokio::test]
async fn redeliver_sends_to_one_destination_and_refuses_a_file_naming_another() {
    let endpoint = answering_server().await;
    let other = answering_server().await;
    let dir = tempfile::tempdir().unwrap();
    let mine = parked_file(
        dir.path(),
        "mine.json",
        &format!("{}/hook", endpoint.uri()),
        "wh-mine",
    );
    let crafted = parked_file(
        dir.path(),
        "crafted.json",
        &format!("{}/steal", other.uri()),
        "wh-crafted",
    );
    let run = support::spotcheck(&[
        "redeliver",
        &mine,
        &crafted,
        "--header",
        "X-Api-Key: partner-canary",
        "--timeout",
        "10s",
    ])
    .await;
    // A refused file is a message not delivered: exit 1.
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_eq!(
        received(&other).await.len(),
        0,
        "the crafted file's host got a request"
    );
    let delivered = received(&endpoint).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        header(&delivered[0], "x-spotnana-webhook-id"),
        Some("wh-mine")
    );
    assert!(
        run.stdout.contains(&format!(
            "destination: {}/hook (from the first file, {mine})",
            endpoint.uri()
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "{crafted}: refused, not sent: it names {}/steal, not this run's destination",
            other.uri()
        )),
        "{}",
        run.stdout
    );
    assert!(!run.all().contains("partner-canary"), "{}", run.all());

    // With --endpoint every file goes there (the user named it), and only there.
    let chosen = answering_server().await;
    let run = support::spotcheck(&[
        "redeliver",
        &mine,
        &crafted,
        "--endpoint",
        &format!("{}/hook", chosen.uri()),
        "--header",
        "X-Api-Key: partner-canary",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(received(&chosen).await.len(), 2);
    assert_eq!(received(&other).await.len(), 0);
    assert_eq!(received(&endpoint).await.len(), 1);
}
