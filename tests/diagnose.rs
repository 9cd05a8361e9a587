//! Diagnose, don't just detect: partner endpoints over loopback HTTPS, each written the
//! way a partner would write a verifier with one well-known mistake, and what
//! `spotcheck run` says about them: `signature.valid-accepted` fails with a message
//! naming exactly that mistake (and no other), the probes are listed in the reports,
//! `--no-diagnose` sends none, the conformant reference receiver gets none, and a
//! replay window of 10 s is measured by `signature.clock-skew-tolerated`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use spotcheck::diagnose::probes::PROBES;
use spotcheck::receiver::Flaw;

use crate::support::{self, cli, schema, tls_fixtures};

use support::SECRET;
use tls_fixtures::{Leaf, LeafSpec, TestCa};

/// A partner's verifier: headers and raw body in, accept or refuse out.
type Verifier = fn(&HeaderMap, &[u8]) -> bool;

fn hmac(key: &[u8], content: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(content);
    mac.finalize().into_bytes().to_vec()
}

fn get<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The documented key: the Base64-decoded bytes after `whsec_`.
fn key() -> Vec<u8> {
    STANDARD
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap()
}

fn id(h: &HeaderMap) -> &str {
    get(h, "x-spotnana-webhook-id")
}

fn ts(h: &HeaderMap) -> &str {
    get(h, "x-spotnana-webhook-timestamp")
}

/// `{id}.{timestamp}.{body}`.
fn documented(h: &HeaderMap, body: &[u8]) -> Vec<u8> {
    [format!("{}.{}.", id(h), ts(h)).as_bytes(), body].concat()
}

/// Accepts if any space-separated token, `v1,` stripped, equals `expected`.
fn any_token(h: &HeaderMap, expected: &str) -> bool {
    get(h, "x-spotnana-webhook-signature")
        .split(' ')
        .any(|t| t.strip_prefix("v1,").unwrap_or(t) == expected)
}

fn fresh(h: &HeaderMap) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    ts(h).parse::<i64>().is_ok_and(|t| (now - t).abs() <= 300)
}

// One verifier per mistake, as partners write them.

fn key_whole_secret(h: &HeaderMap, body: &[u8]) -> bool {
    let sig = STANDARD.encode(hmac(SECRET.as_bytes(), &documented(h, body)));
    fresh(h) && any_token(h, &sig)
}

fn key_not_decoded(h: &HeaderMap, body: &[u8]) -> bool {
    let key = SECRET.strip_prefix("whsec_").unwrap().as_bytes();
    fresh(h) && any_token(h, &STANDARD.encode(hmac(key, &documented(h, body))))
}

fn body_only(h: &HeaderMap, body: &[u8]) -> bool {
    fresh(h) && any_token(h, &STANDARD.encode(hmac(&key(), body)))
}

fn timestamp_body(h: &HeaderMap, body: &[u8]) -> bool {
    let signed = [format!("{}.", ts(h)).as_bytes(), body].concat();
    fresh(h) && any_token(h, &STANDARD.encode(hmac(&key(), &signed)))
}

fn colon_separator(h: &HeaderMap, body: &[u8]) -> bool {
    let signed = [format!("{}:{}:", id(h), ts(h)).as_bytes(), body].concat();
    fresh(h) && any_token(h, &STANDARD.encode(hmac(&key(), &signed)))
}

fn hex_digest(h: &HeaderMap, body: &[u8]) -> bool {
    let hex: String = hmac(&key(), &documented(h, body))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    fresh(h) && any_token(h, &hex)
}

fn base64url(h: &HeaderMap, body: &[u8]) -> bool {
    let sig = URL_SAFE_NO_PAD.encode(hmac(&key(), &documented(h, body)));
    fresh(h) && any_token(h, &sig)
}

fn sha256_prefix(h: &HeaderMap, body: &[u8]) -> bool {
    let sig = STANDARD.encode(hmac(&key(), &documented(h, body)));
    fresh(h) && get(h, "x-spotnana-webhook-signature") == format!("sha256={sig}")
}

fn stripe_header(h: &HeaderMap, body: &[u8]) -> bool {
    // t=<timestamp>,v1=<signature>
    let header = get(h, "x-spotnana-webhook-signature");
    let mut t = "";
    let mut v1 = "";
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value,
            Some(("v1", value)) => v1 = value,
            _ => {}
        }
    }
    let signed = [format!("{}.{t}.", id(h)).as_bytes(), body].concat();
    fresh(h) && !v1.is_empty() && v1 == STANDARD.encode(hmac(&key(), &signed))
}

fn timestamp_milliseconds(h: &HeaderMap, body: &[u8]) -> bool {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let sent_ms: i64 = ts(h).parse().unwrap_or(0);
    let sig = STANDARD.encode(hmac(&key(), &documented(h, body)));
    (now_ms - sent_ms).abs() <= 300_000 && any_token(h, &sig)
}

fn v1_prefix_kept(h: &HeaderMap, body: &[u8]) -> bool {
    let sig = STANDARD.encode(hmac(&key(), &documented(h, body)));
    fresh(h)
        && get(h, "x-spotnana-webhook-signature")
            .split(' ')
            .any(|t| t == sig)
}

/// Not one of the common mistakes: SHA-1 instead of SHA-256.
fn sha1_instead(h: &HeaderMap, body: &[u8]) -> bool {
    let _ = (h, body);
    false
}

/// Verifies correctly, with a replay window of 10 s instead of minutes.
fn ten_second_window(h: &HeaderMap, body: &[u8]) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sig = STANDARD.encode(hmac(&key(), &documented(h, body)));
    ts(h).parse::<i64>().is_ok_and(|t| (now - t).abs() <= 10) && any_token(h, &sig)
}

/// A partner endpoint on loopback HTTPS (a certificate from a test CA) and how many
/// requests it received.
struct Partner {
    url: String,
    ca: PathBuf,
    requests: Arc<AtomicUsize>,
    dir: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
}

async fn partner(verify: Verifier) -> Partner {
    spotcheck::init_crypto();
    let ca = TestCa::new("diagnose test CA");
    let leaf = Leaf::signed(&ca, LeafSpec::default());
    let dir = tempfile::tempdir().unwrap();
    let ca_path = ca.write_pem(dir.path(), "ca.pem");
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let app = axum::Router::new().route(
        "/webhooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                if verify(&headers, &body) {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        leaf.chain_pem.clone().into_bytes(),
        leaf.key_pem.clone().into_bytes(),
    )
    .await
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let server = axum_server::from_tcp_rustls(listener, config).unwrap();
    let task = tokio::spawn(async move {
        let _ = server.serve(app.into_make_service()).await;
    });
    Partner {
        url: format!("https://{addr}/webhooks"),
        ca: ca_path,
        requests,
        dir,
        _server: task,
    }
}

/// Runs `spotcheck run` against `partner` with these checks and extra flags; returns
/// the process and the JSON report.
async fn run(partner: &Partner, only: &str, extra: &[&str]) -> (cli::Run, Value) {
    let report = partner.dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let ca = partner.ca.display().to_string();
    let mut args = vec![
        "run",
        "--endpoint",
        &partner.url,
        "--ca-cert",
        &ca,
        "--only",
        only,
        "--seed",
        "19",
        "--report",
        &report_arg,
    ];
    args.extend_from_slice(extra);
    let output = support::spotcheck(&args).await;
    let json = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).expect("report is JSON"))
        .unwrap_or(Value::Null);
    (output, json)
}

fn valid_accepted(report: &Value) -> &Value {
    support::check(report, "signature.valid-accepted").expect("the check ran")
}

#[tokio::test]
async fn each_signing_mistake_is_named_alone() {
    let cases: &[(&str, Verifier)] = &[
        ("key-whole-secret", key_whole_secret),
        ("key-not-decoded", key_not_decoded),
        ("body-only", body_only),
        ("timestamp-body", timestamp_body),
        ("colon-separator", colon_separator),
        ("hex-digest", hex_digest),
        ("base64url", base64url),
        ("sha256-prefix", sha256_prefix),
        ("stripe-header", stripe_header),
        ("timestamp-milliseconds", timestamp_milliseconds),
        ("v1-prefix-kept", v1_prefix_kept),
    ];
    for (expected, verify) in cases {
        let partner = partner(*verify).await;
        let (output, report) = run(&partner, "signature.valid-accepted", &[]).await;
        assert_eq!(output.code, Some(1), "{expected}: {}", output.all());
        let check = valid_accepted(&report);
        assert_eq!(check["status"], "fail", "{expected}");
        let message = check["message"].as_str().unwrap();
        let probe = PROBES.iter().find(|p| p.id == *expected).unwrap();
        assert!(
            message.contains(&format!("diagnosis: your endpoint {}", probe.mistake)),
            "{expected}: {message}"
        );
        for other in PROBES.iter().filter(|p| p.id != *expected) {
            assert!(
                !message.contains(other.mistake),
                "{expected}: also names {}: {message}",
                other.id
            );
        }
        let diagnosis = &check["diagnosis"];
        assert_eq!(diagnosis["kind"], "signature");
        assert_eq!(diagnosis["confirmed"], true, "{expected}");
        let accepted: Vec<&str> = diagnosis["probes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["accepted"] == true)
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(accepted, [*expected]);
        // The fix shows the line to change in each stack.
        assert_eq!(diagnosis["fixes"].as_array().unwrap().len(), 7);
        // One refused delivery, then one probe each (the probe in the run's own token
        // form is not sent): all bounded, all in the report.
        let probes = diagnosis["probes"].as_array().unwrap().len();
        assert_eq!(probes, PROBES.len() - 1, "{expected}");
        assert_eq!(partner.requests.load(Ordering::SeqCst), 1 + probes);
        schema::assert_schema_valid(&report);
        assert!(
            !output
                .all()
                .contains(SECRET.strip_prefix("whsec_").unwrap())
        );
    }
}

#[tokio::test]
async fn no_probe_accepted_says_so_and_lists_the_steps() {
    let partner = partner(sha1_instead).await;
    let (output, report) = run(&partner, "signature.valid-accepted", &[]).await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    let check = valid_accepted(&report);
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("none of the 12 common signing mistakes was accepted either"),
        "{message}"
    );
    for probe in PROBES {
        assert!(!message.contains(probe.mistake), "{message}");
    }
    assert_eq!(check["diagnosis"]["confirmed"], false);
    let steps = check["diagnosis"]["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| {
        s.as_str()
            .unwrap()
            .contains("Base64-decoded bytes after `whsec_`")
    }));
    assert!(
        output.stdout.contains("check each step:"),
        "{}",
        output.stdout
    );
}

#[tokio::test]
async fn no_diagnose_sends_no_probe() {
    let partner = partner(key_whole_secret).await;
    let (output, report) = run(&partner, "signature.valid-accepted", &["--no-diagnose"]).await;
    assert_eq!(output.code, Some(1));
    let check = valid_accepted(&report);
    assert!(check.get("diagnosis").is_none());
    assert!(!check["message"].as_str().unwrap().contains("diagnosis"));
    assert_eq!(partner.requests.load(Ordering::SeqCst), 1);
    assert!(check["repro"].as_str().unwrap().contains("--no-diagnose"));
}

#[tokio::test]
async fn the_reports_show_the_diagnosis() {
    let partner = partner(key_whole_secret).await;
    let junit = partner.dir.path().join("report.xml");
    let markdown = partner.dir.path().join("report.md");
    let junit_arg = format!("junit={}", junit.display());
    let markdown_arg = format!("markdown={}", markdown.display());
    let (output, _) = run(
        &partner,
        "signature.valid-accepted",
        &["--report", &junit_arg, "--report", &markdown_arg],
    )
    .await;
    assert_eq!(output.code, Some(1));
    let junit = std::fs::read_to_string(junit).unwrap();
    assert!(
        junit.contains("diagnosis: your endpoint keys the HMAC with the whole secret string"),
        "{junit}"
    );
    assert!(junit.contains("Node/Express: const key = Buffer.from(secret.slice(&apos;whsec_&apos;.length), &apos;base64&apos;);")
        || junit.contains("Node/Express: const key = Buffer.from(secret.slice('whsec_'.length), 'base64');"), "{junit}");
    let markdown = std::fs::read_to_string(markdown).unwrap();
    assert!(
        markdown
            .contains("**Diagnosis.** your endpoint keys the HMAC with the whole secret string"),
        "{markdown}"
    );
    assert!(
        markdown
            .contains("| Python | `` key = base64.b64decode(secret.removeprefix('whsec_')) `` |"),
        "{markdown}"
    );
    assert!(markdown.contains("| `key-whole-secret` |"), "{markdown}");
    // Terminal: the finding, the fix lines and the probes.
    assert!(
        output
            .stdout
            .contains("  diagnosis: your endpoint keys the HMAC"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("key-whole-secret ("),
        "{}",
        output.stdout
    );
    assert!(!markdown.contains(SECRET.strip_prefix("whsec_").unwrap()));
}

#[tokio::test]
async fn a_ten_second_window_is_measured() {
    let partner = partner(ten_second_window).await;
    let (output, report) = run(&partner, "signature.clock-skew-tolerated", &[]).await;
    // A recommended check: a warning, the run still conforms.
    assert_eq!(output.code, Some(0), "{}", output.all());
    assert_eq!(
        support::status_of(&report, "signature.clock-skew-tolerated"),
        "warn"
    );
    let check = support::check(&report, "signature.clock-skew-tolerated").unwrap();
    let message = check["message"].as_str().unwrap();
    assert!(message.contains("your window is about 10 s"), "{message}");
    assert!(
        message.contains(
            "your endpoint refuses a timestamp 15 s behind its clock (5 s was accepted) \
             and refuses a timestamp 15 s ahead of its clock (5 s was accepted)"
        ),
        "{message}"
    );
    let probes = check["diagnosis"]["probes"].as_array().unwrap();
    assert!(probes.len() <= 6, "{probes:?}");
    schema::assert_schema_valid(&report);
}

#[tokio::test]
async fn the_reference_receiver_gets_no_probe_and_tolerates_skew() {
    let (output, json) = support::run_against(Vec::new(), "signature.*,delivery.*").await;
    assert_eq!(output.code, Some(0), "{}", output.all());
    assert_eq!(
        support::status_of(&json, "signature.clock-skew-tolerated"),
        "pass"
    );
    for check in json["checks"].as_array().unwrap() {
        assert!(check.get("diagnosis").is_none(), "{check}");
        assert!(!check["message"].as_str().unwrap().contains("diagnosis"));
    }
}

/// A reference receiver with one flaw, and the report of the checks it fails.
async fn flawed(flaws: Vec<Flaw>, only: &str) -> Value {
    let (output, json) = support::run_against(flaws, only).await;
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.all());
    json
}

fn message<'a>(report: &'a Value, id: &str) -> &'a str {
    support::check(report, id).unwrap()["message"]
        .as_str()
        .unwrap()
}

/// The message of check `id` against a reference receiver with these flaws, running
/// `signature.valid-accepted` and `id`; asserts it names `finding`, and that the
/// valid signature (accepted) got no signature probe.
async fn assert_diagnosed(flaws: Vec<Flaw>, id: &str, finding: &str) {
    let report = flawed(flaws, &format!("signature.valid-accepted,{id}")).await;
    let text = message(&report, id);
    assert!(text.contains(&format!("diagnosis: {finding}")), "{text}");
    let valid = support::check(&report, "signature.valid-accepted").unwrap();
    assert_eq!(valid["status"], "pass");
    assert!(valid.get("diagnosis").is_none());
    schema::assert_schema_valid(&report);
}

#[tokio::test]
async fn rotation_checked_in_one_position_is_named() {
    let rotation = "signature.rotation-accepted";
    let finding = "your endpoint checks only the first token of the signature header";
    assert_diagnosed(vec![Flaw::FirstTokenOnly], rotation, finding).await;
    let finding = "your endpoint checks only the last token of the signature header";
    assert_diagnosed(vec![Flaw::LastTokenOnly], rotation, finding).await;
}

#[tokio::test]
async fn refused_body_styles_are_named() {
    // This receiver re-serializes compactly in the received key order, so a
    // reordered compact body still verifies: the diagnosis says exactly which fail,
    // and which library writes the JSON back (serde_json, the receiver's own).
    let finding = "your verifier refuses correctly signed bodies written `pretty`, \
                   `escaped-unicode` and `float-forms` (accepted: `reordered` and `raw-non-ascii`) \
                   while it accepts compact ones: it verifies a re-serialized copy of the JSON \
                   instead of the raw bytes received; your endpoint verifies the signature over \
                   the JSON it parsed and wrote back (as Rust's `serde_json` writes it), not over \
                   the bytes received";
    assert_diagnosed(
        vec![Flaw::ReserializeBeforeVerify],
        "signature.raw-body",
        finding,
    )
    .await;
}

#[tokio::test]
async fn a_fixed_list_of_operations_is_named() {
    let finding = "your endpoint refuses `PNR_V3/INVOICE_GENERATED` (400 Bad Request) while it \
                   accepted the other";
    assert_diagnosed(
        vec![Flaw::RejectOperations(vec!["INVOICE_GENERATED".into()])],
        "delivery.every-subscribed-event",
        finding,
    )
    .await;
    let finding = "your endpoint refuses `PNR_V3/BOOKING_TELEPORTED`, an operation it does not \
                   know, but accepted the known `PNR_V3/BOOKING_UPDATED`";
    assert_diagnosed(
        vec![Flaw::RejectUnknownOperations],
        "delivery.unknown-operation-tolerated",
        finding,
    )
    .await;
}

#[tokio::test]
async fn a_client_certificate_requirement_is_named() {
    spotcheck::init_crypto();
    let server_ca = TestCa::new("diagnose server CA");
    let client_ca = TestCa::new("partner client CA");
    let leaf = Leaf::signed(&server_ca, LeafSpec::default());
    let (server, requests) = tls_fixtures::mtls_server(&leaf, &client_ca).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = server_ca
        .write_pem(dir.path(), "ca.pem")
        .display()
        .to_string();
    let report = dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let url = server.https_url();
    // Many deliveries: each handshake ends with the server's certificate_required
    // alert, or (when the request was already on its way) the reset that races it.
    let output = support::spotcheck(&[
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--only",
        "delivery.*,signature.valid-accepted",
        "--report",
        &report_arg,
    ])
    .await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    assert_eq!(requests.load(Ordering::SeqCst), 0);
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let diagnosed: Vec<&Value> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("diagnosis").is_some())
        .collect();
    assert_eq!(diagnosed.len(), 1, "{json}");
    assert_eq!(diagnosed[0]["diagnosis"]["kind"], "client-certificate");
    assert!(
        diagnosed[0]["message"].as_str().unwrap().contains(
            "diagnosis: your endpoint requires a TLS client certificate (it ended the handshake \
             with a certificate_required alert): pass the certificate you issued for Spotnana \
             with --client-cert and --client-key"
        ),
        "{}",
        diagnosed[0]["message"]
    );
    schema::assert_schema_valid(&json);
}

#[tokio::test]
async fn without_the_valid_signature_check_most_refusals_trigger_the_probes() {
    let partner = partner(hex_digest).await;
    let (output, report) = run(
        &partner,
        "delivery.status-200,delivery.trace-headers-tolerated",
        &[],
    )
    .await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    let check = support::check(&report, "delivery.status-200").unwrap();
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains(
            "diagnosis: your endpoint compares a hex digest instead of the standard Base64"
        ),
        "{message}"
    );
    // One diagnosis for the run, on the first check that shows the refusal.
    let trace = support::check(&report, "delivery.trace-headers-tolerated").unwrap();
    assert!(trace.get("diagnosis").is_none());
}
