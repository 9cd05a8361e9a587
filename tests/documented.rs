//! Behaviours the README documents, each through the CLI as a user runs it, with what
//! reached the endpoint (a wiremock server recording every request) as the evidence:
//! `load --profile schedule-change|mixed`, `load --redeliver-ratio`, `--no-hmac`,
//! `run --tags`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::cli::{SECRET, Spotcheck};

async fn accepting() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// Runs `spotcheck load --endpoint URL ARGS… --seed 11 --quiet` against a fresh
/// accepting endpoint and returns every request it received.
async fn load(args: &[&str]) -> Vec<Request> {
    let server = accepting().await;
    let url = format!("{}/hooks", server.uri());
    let run = Spotcheck::new(["load", "--endpoint", &url, "--seed", "11", "--quiet"])
        .args(args)
        .secret(SECRET)
        .no_color()
        .run()
        .await;
    assert_eq!(run.code, Some(0), "{args:?}: {}", run.all());
    server.received_requests().await.unwrap()
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// `--profile schedule-change`: only PNR_V3 schedule-change operations, equally
/// weighted, over at most 64 PNRs and 16 organizations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_profile_schedule_change_sends_only_schedule_changes() {
    let requests = load(&[
        "--profile",
        "schedule-change",
        "--requests",
        "150",
        "-c",
        "2",
    ])
    .await;
    assert_eq!(requests.len(), 150);
    let mut operations: BTreeMap<String, usize> = BTreeMap::new();
    let (mut pnrs, mut orgs) = (BTreeSet::new(), BTreeSet::new());
    for request in &requests {
        let body = body(request);
        assert_eq!(body["eventType"], "PNR_V3", "{body}");
        *operations
            .entry(body["operation"].as_str().unwrap().to_owned())
            .or_default() += 1;
        pnrs.insert(body["payload"]["pnrId"].to_string());
        orgs.insert(body["audience"]["organizationId"].to_string());
    }
    let names: Vec<&str> = operations.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "FLIGHT_CHANGED",
            "FLIGHT_SCHEDULE_CHANGE_CLOSED",
            "FLIGHT_SCHEDULE_CHANGE_PENDING"
        ]
    );
    // Equally weighted: each of the three is a third, give or take sampling.
    for (operation, count) in &operations {
        assert!((25..=75).contains(count), "{operation}: {count} of 150");
    }
    assert!(pnrs.len() <= 64 && pnrs.len() > 16, "{} PNRs", pnrs.len());
    assert!(
        orgs.len() <= 16 && orgs.len() > 1,
        "{} organizations",
        orgs.len()
    );
}

/// `--profile mixed`: PNR_V3 most (70 %), then TRAVELER_V2 (15 %), then
/// TRIP_DETAILS_V3 (10 %), the rest together about 5 %, over 4 organizations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_profile_mixed_weighs_the_catalogue() {
    let requests = load(&["--profile", "mixed", "--requests", "400", "-c", "2"]).await;
    assert_eq!(requests.len(), 400);
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut orgs = BTreeSet::new();
    for request in &requests {
        let body = body(request);
        *types
            .entry(body["eventType"].as_str().unwrap().to_owned())
            .or_default() += 1;
        orgs.insert(body["audience"]["organizationId"].to_string());
    }
    let share = |t: &str| types.get(t).copied().unwrap_or(0) as f64 / 400.0;
    assert!((0.60..=0.80).contains(&share("PNR_V3")), "{types:?}");
    assert!((0.08..=0.22).contains(&share("TRAVELER_V2")), "{types:?}");
    assert!(
        (0.04..=0.16).contains(&share("TRIP_DETAILS_V3")),
        "{types:?}"
    );
    let rest = 1.0 - share("PNR_V3") - share("TRAVELER_V2") - share("TRIP_DETAILS_V3");
    assert!(rest > 0.0 && rest <= 0.12, "{types:?}");
    assert_eq!(orgs.len(), 4, "{orgs:?}");
}

/// `--redeliver-ratio 0.25`: about a quarter of the requests repeat the webhook id
/// and the body of an earlier first delivery, with a fresh timestamp and signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_redeliver_ratio_repeats_earlier_deliveries() {
    let requests = load(&["--redeliver-ratio", "0.25", "--requests", "200", "-c", "1"]).await;
    assert_eq!(requests.len(), 200);
    let mut first: BTreeMap<String, &Request> = BTreeMap::new();
    let mut redeliveries = 0;
    for request in &requests {
        let id = header(request, "x-spotnana-webhook-id").unwrap().to_owned();
        match first.get(&id) {
            Some(original) => {
                redeliveries += 1;
                assert_eq!(original.body, request.body, "a redelivery repeats the body");
                assert_ne!(
                    header(original, "x-b3-traceid"),
                    header(request, "x-b3-traceid"),
                    "new B3 ids"
                );
            }
            None => {
                first.insert(id, request);
            }
        }
    }
    assert!((25..=75).contains(&redeliveries), "{redeliveries} of 200");

    // Without the flag every webhook id is new.
    let requests = load(&["--requests", "100", "-c", "1"]).await;
    let ids: BTreeSet<&str> = requests
        .iter()
        .map(|r| header(r, "x-spotnana-webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 100);
}

/// `--no-hmac` (with OAuth): the delivery carries the bearer token and none of the
/// signature headers; without it both are sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_hmac_sends_the_bearer_token_without_signature_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token":"tok-123","token_type":"Bearer","expires_in":3600}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/deliver"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let endpoint = format!("{}/deliver", server.uri());
    let token_url = format!("{}/auth", server.uri());
    for no_hmac in [true, false] {
        let mut args = vec![
            "send",
            "PNR_V3/BOOKING_CREATED",
            "--endpoint",
            &endpoint,
            "--oauth-token-url",
            &token_url,
            "--oauth-client-id",
            "client-1",
            "--oauth-client-secret-env",
            "PARTNER_CLIENT_SECRET",
        ];
        if no_hmac {
            args.push("--no-hmac");
        }
        let run = Spotcheck::new(&args)
            .secret(SECRET)
            .env("PARTNER_CLIENT_SECRET", "client-secret-value")
            .no_color()
            .run()
            .await;
        assert_eq!(run.code, Some(0), "{}", run.all());
    }
    let deliveries: Vec<Request> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/deliver")
        .collect();
    assert_eq!(deliveries.len(), 2);
    for (delivery, signed) in deliveries.iter().zip([false, true]) {
        assert_eq!(header(delivery, "authorization"), Some("Bearer tok-123"));
        assert_eq!(
            header(delivery, "x-spotnana-webhook-signature").is_some(),
            signed,
            "signature header with --no-hmac={}",
            !signed
        );
        assert_eq!(
            header(delivery, "x-spotnana-webhook-timestamp").is_some(),
            signed
        );
    }
}

/// `run --tags ordering` runs exactly the checks whose scenario files carry that tag
/// (read here from `scenarios/` with the `toml` crate, not from spotcheck).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_tags_selects_exactly_the_tagged_checks() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut expected = BTreeSet::new();
    for suite in std::fs::read_dir(&root).unwrap() {
        for file in std::fs::read_dir(suite.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let scenario: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
            let tagged = scenario
                .get("tags")
                .and_then(|t| t.as_array())
                .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some("ordering")));
            if tagged {
                expected.insert(scenario["id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(expected.len() >= 2, "{expected:?}");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let run = Spotcheck::new([
        "run",
        "--tags",
        "ordering",
        "--seed",
        "5",
        "--report",
        &format!("json={}", report.display()),
    ])
    .secret(SECRET)
    .no_color()
    .run()
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let ran: BTreeSet<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ran, expected, "{}", run.stdout);
}
