//! Spotnana's retry policy as a user sees it: `send --retry` timelines against
//! endpoints that fail a few times, fail forever or hang; parked files and
//! `redeliver`; the `retry.recovers-after-failure` check of `run`. Everything talks
//! to servers on 127.0.0.1.

use crate::support::{self, cli, partner};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use spotcheck::receiver::{Flaw, ReceiverConfig, RunningReceiver, TlsSetup};
use spotcheck::signing::{Secret, Verifier};
use tokio::io::AsyncReadExt;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use cli::{Run, SECRET, Spotcheck};
use support::expect_check;

/// The base64 key part of SECRET: must never appear in a parked file either.
const KEY_PART: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Runs `spotcheck ARGS…` with the secret in the environment, killed after `limit`.
async fn spotcheck(args: &[&str], limit: Duration) -> Run {
    Spotcheck::new(args)
        .secret(SECRET)
        .timeout(limit)
        .run()
        .await
}

async fn reference(flaws: Vec<Flaw>) -> RunningReceiver {
    let config = ReceiverConfig {
        state: true,
        flaws,
        ..support::config()
    };
    support::start_with(config, TlsSetup::Plain).await
}

/// The rows of a timeline: (attempt number, the whole line).
fn timeline(stdout: &str) -> Vec<(usize, String)> {
    let mut rows = Vec::new();
    let mut inside = false;
    for line in stdout.lines() {
        if line.trim_start().starts_with("attempt") {
            inside = true;
            continue;
        }
        if inside {
            match line.split_whitespace().next().map(str::parse::<usize>) {
                Some(Ok(n)) => rows.push((n, line.to_owned())),
                _ => break,
            }
        }
    }
    rows
}

fn webhook_id_of(stdout: &str) -> String {
    let start = stdout.find("webhook id ").expect("webhook id printed") + "webhook id ".len();
    stdout[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("header {name} missing"))
        .to_str()
        .unwrap()
}

/// Each request verifies with the secret over its own timestamp header, and that
/// timestamp was fresh (within 5 minutes of now): the signature is recomputed per attempt.
fn assert_each_signed_afresh(requests: &[Request]) {
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()]);
    let now = spotcheck::signing::unix_now();
    for (i, request) in requests.iter().enumerate() {
        let verified = verifier.verify(
            Some(header(request, "x-spotnana-webhook-id")),
            Some(header(request, "x-spotnana-webhook-timestamp")),
            Some(header(request, "x-spotnana-webhook-signature")),
            &request.body,
            now,
        );
        assert!(verified.is_ok(), "attempt {}: {verified:?}", i + 1);
    }
}

#[tokio::test]
async fn dry_run_prints_the_schedule_and_sends_nothing() {
    let server = MockServer::start().await;
    let url = format!("{}/hook", server.uri());
    let run = spotcheck(
        &[
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &url,
            "--retry",
            "--dry-run",
            "--time-scale",
            "100000",
        ],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let rows = timeline(&run.stdout);
    assert_eq!(rows.len(), 42, "{}", run.stdout);
    assert_eq!(rows.first().unwrap().0, 1);
    assert!(rows[1].1.contains("immediate"), "{}", rows[1].1);
    assert!(
        rows[6].1.contains(" 1m ") && rows[6].1.contains("600µs"),
        "{}",
        rows[6].1
    );
    assert!(rows[41].1.contains("13d 17h 3m"), "{}", rows[41].1);
    assert!(
        run.stdout
            .contains("42 attempts within 14d, the last 13d 17h 3m after the first"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("so 14d lasts 12.096s"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("dry run: nothing was sent\n"));
    assert!(server.received_requests().await.unwrap().is_empty());

    // No event is needed for a dry run; --dry-run alone (without --retry) is refused.
    let bare = spotcheck(&["send", "--retry", "--dry-run"], Duration::from_secs(20)).await;
    assert_eq!(bare.code, Some(0), "{}", bare.stderr);
    assert!(!bare.stdout.contains("scaled offset"));
    let refused = spotcheck(&["send", "--dry-run"], Duration::from_secs(20)).await;
    assert_eq!(refused.code, Some(2), "{}", refused.stdout);
    let slow = spotcheck(
        &["send", "--retry", "--dry-run", "--time-scale", "0.5"],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(slow.code, Some(2));
    assert!(slow.stderr.contains("must be 1 or more"), "{}", slow.stderr);
}

#[tokio::test]
async fn endpoint_failing_twice_accepts_the_third_attempt() {
    let receiver = reference(vec![Flaw::FailFirst(2)]).await;
    let park = tempfile::tempdir().unwrap();
    let run = spotcheck(
        &[
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &receiver.webhook_url(),
            "--retry",
            "--time-scale",
            "100000",
            "--park-dir",
            park.path().to_str().unwrap(),
        ],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let rows = timeline(&run.stdout);
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    assert!(
        rows[0].1.ends_with("500 Internal Server Error"),
        "{}",
        rows[0].1
    );
    assert!(
        rows[1].1.ends_with("500 Internal Server Error"),
        "{}",
        rows[1].1
    );
    assert!(rows[2].1.ends_with("200 OK"), "{}", rows[2].1);
    assert!(
        run.stdout.contains("delivered on attempt 3 of at most 42"),
        "{}",
        run.stdout
    );
    // The receiver counted three valid deliveries of one webhook id (it only
    // counts a 500 towards FailFirst when the signature verified) and accepted one.
    let id = webhook_id_of(&run.stdout);
    assert_eq!(receiver.webhook(&id).deliveries, 1);
    assert_eq!(receiver.stats().accepted, 1);
    assert_eq!(std::fs::read_dir(park.path()).unwrap().count(), 0);
    receiver.shutdown().await;
}

#[tokio::test]
async fn signatures_are_recomputed_when_the_clock_moves_between_attempts() {
    // Six failures, then 200: attempt 7 is the first backoff attempt, due 1 minute
    // after the first; at ×30 that is 2 s, so its timestamp is a later second.
    let server = MockServer::start().await;
    partner::fails_then_accepts(&server, 503, 6).await;
    let url = format!("{}/hook", server.uri());
    let run = spotcheck(
        &[
            "send",
            "PNR_V3/BOOKING_CREATED",
            "--endpoint",
            &url,
            "--retry",
            "--time-scale",
            "30",
        ],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.elapsed >= Duration::from_secs(2), "{:?}", run.elapsed);
    let rows = timeline(&run.stdout);
    assert_eq!(rows.len(), 7, "{}", run.stdout);
    assert!(rows[6].1.contains(" 1m "), "{}", rows[6].1);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 7);
    let ids: Vec<&str> = requests
        .iter()
        .map(|r| header(r, "x-spotnana-webhook-id"))
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    assert_each_signed_afresh(&requests);
    let first_ts: i64 = header(&requests[0], "x-spotnana-webhook-timestamp")
        .parse()
        .unwrap();
    let last_ts: i64 = header(&requests[6], "x-spotnana-webhook-timestamp")
        .parse()
        .unwrap();
    assert!(last_ts > first_ts, "{first_ts} → {last_ts}");
    assert_ne!(
        header(&requests[0], "x-spotnana-webhook-signature"),
        header(&requests[6], "x-spotnana-webhook-signature")
    );
}

#[tokio::test]
async fn endpoint_failing_forever_is_parked_then_redelivered_with_its_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let url = format!("{}/hook", server.uri());
    let park = tempfile::tempdir().unwrap();
    let park_dir = park.path().join("parked");
    let run = spotcheck(
        &[
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &url,
            "--header",
            "API-Version: 2.0",
            "--header",
            "X-Api-Key: partner-key-1",
            "--retry",
            "--time-scale",
            "1000000",
            "--park-dir",
            park_dir.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let rows = timeline(&run.stdout);
    assert_eq!(rows.len(), 42, "{}", run.stdout);
    assert!(
        rows.iter()
            .all(|(_, l)| l.ends_with("500 Internal Server Error"))
    );
    assert!(
        run.stdout.contains(
            "FAILED: no attempt got 200 OK in 42 attempts over 14d; Spotnana parks the message"
        ),
        "{}",
        run.stdout
    );

    // Every attempt: the same id and body, each signed over its own timestamp.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 42);
    let id = header(&requests[0], "x-spotnana-webhook-id").to_owned();
    assert!(
        requests
            .iter()
            .all(|r| header(r, "x-spotnana-webhook-id") == id)
    );
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    assert_each_signed_afresh(&requests);
    assert_eq!(webhook_id_of(&run.stdout), id);

    // The parked file: id, endpoint, exact body, custom headers (credential redacted),
    // the attempts; no secret, no signature.
    let files: Vec<_> = std::fs::read_dir(&park_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(
        file.file_name().unwrap().to_str().unwrap(),
        format!("{id}.json")
    );
    assert!(run.stdout.contains(&format!("parked: {}", file.display())));
    let text = std::fs::read_to_string(file).unwrap();
    for secret_part in [
        SECRET,
        KEY_PART,
        "partner-key-1",
        "x-spotnana-webhook-signature",
    ] {
        assert!(!text.contains(secret_part), "{secret_part} in {text}");
    }
    let parked: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parked["webhook_id"], id.as_str());
    assert_eq!(parked["endpoint"], url.as_str());
    assert_eq!(parked["body"]["encoding"], "utf-8");
    assert_eq!(
        parked["body"]["text"].as_str().unwrap().as_bytes(),
        &requests[0].body[..]
    );
    assert_eq!(
        parked["headers"],
        // Every --header value may be a credential: stored masked, given again.
        serde_json::json!([
            ["API-Version", "***redacted***"],
            ["X-Api-Key", "***redacted***"]
        ])
    );
    let attempts = parked["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 42);
    assert_eq!(attempts[0]["status"], 500);
    assert_eq!(attempts[41]["offset_ms"], 19_743 * 60_000);

    // Redelivery needs the redacted credential again …
    let healthy = reference(Vec::new()).await;
    let file_arg = file.to_str().unwrap();
    let refused = spotcheck(
        &["redeliver", file_arg, "--endpoint", &healthy.webhook_url()],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(refused.code, Some(2), "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains("`API-Version` was redacted when the message was parked"),
        "{}",
        refused.stderr
    );
    assert_eq!(healthy.stats().accepted, 0);
    // … and then the healthy endpoint gets the original id, fresh signature.
    let again = spotcheck(
        &[
            "redeliver",
            file_arg,
            "--endpoint",
            &healthy.webhook_url(),
            "--header",
            "X-Api-Key: partner-key-2",
            "--header",
            "API-Version: 2.0",
        ],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(again.code, Some(0), "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains(&format!("webhook id {id}")) && again.stdout.contains("200 OK"),
        "{}",
        again.stdout
    );
    assert_eq!(healthy.webhook(&id).deliveries, 1);
    healthy.shutdown().await;
}

/// A TCP endpoint that reads each request head and never answers; returns the
/// address and the webhook ids it received.
async fn hanging_endpoint() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&ids);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                if let Some(line) = text
                    .lines()
                    .find(|l| l.starts_with("x-spotnana-webhook-id:"))
                {
                    seen.lock().unwrap().push(line[22..].trim().to_owned());
                }
                // Hold the connection without answering until the client gives up.
                let _ = socket.read(&mut buf).await;
                tokio::time::sleep(Duration::from_secs(60)).await;
            });
        }
    });
    (format!("http://{addr}/hook"), ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_endpoint_times_out_every_attempt_and_is_parked() {
    let (url, ids) = hanging_endpoint().await;
    let park = tempfile::tempdir().unwrap();
    let run = spotcheck(
        &[
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &url,
            "--timeout",
            "100ms",
            "--retry",
            "--time-scale",
            "1000000",
            "--park-dir",
            park.path().to_str().unwrap(),
        ],
        Duration::from_secs(40),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let rows = timeline(&run.stdout);
    assert_eq!(rows.len(), 42, "{}", run.stdout);
    assert!(
        rows.iter()
            .all(|(_, l)| l.ends_with("timeout: no answer within 100ms")),
        "{}",
        run.stdout
    );
    // 42 attempts on the timeline; the endpoint sees those whose request reached it
    // within 100 ms (on a starved machine one may time out before it is read).
    let ids = ids.lock().unwrap().clone();
    assert!((40..=42).contains(&ids.len()), "{}", ids.len());
    assert!(ids.iter().all(|id| *id == ids[0]));
    let parked: Value = serde_json::from_slice(
        &std::fs::read(park.path().join(format!("{}.json", ids[0]))).unwrap(),
    )
    .unwrap();
    assert_eq!(parked["attempts"].as_array().unwrap().len(), 42);
    assert!(parked["attempts"][0].get("status").is_none());
    assert_eq!(
        parked["attempts"][0]["outcome"],
        "timeout: no answer within 100ms"
    );
}

/// `spotcheck run --only delivery.status-200,retry.recovers-after-failure` against
/// `endpoint`; returns the run and the JSON report.
async fn run_recovery(endpoint: &str, extra: &[&str]) -> (Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let mut args = vec![
        "run",
        "--endpoint",
        endpoint,
        "--only",
        "delivery.status-200,retry.recovers-after-failure",
        "--seed",
        "7",
        "--color",
        "never",
        "--report",
        &report_arg,
    ];
    args.extend_from_slice(extra);
    let run = spotcheck(&args, Duration::from_secs(60)).await;
    let json = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).expect("report is JSON"))
        .unwrap_or(Value::Null);
    (run, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_check_passes_when_the_endpoint_recovers() {
    let receiver = reference(vec![Flaw::FailFirst(2)]).await;
    let (run, report) = run_recovery(&receiver.webhook_url(), &[]).await;
    // delivery.status-200 itself fails (500 on the first delivery): exit 1.
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        expect_check(&report, "delivery.status-200")["status"],
        "fail"
    );
    let recovery = expect_check(&report, "retry.recovers-after-failure");
    assert_eq!(recovery["status"], "pass", "{}", run.stdout);
    assert_eq!(recovery["level"], "recommended");
    let message = recovery["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "accepted on attempt 3 after 2 failed attempts: the delivery of webhook id "
        ),
        "{message}"
    );
    assert!(
        message.contains("in delivery.status-200 got 500 Internal Server Error"),
        "{message}"
    );
    // Attempts 2 and 3 were made by the check, with the original id.
    let exchanges = recovery["exchanges"].as_array().unwrap();
    assert_eq!(exchanges.len(), 2);
    let id_of = |e: &Value| {
        e["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == "x-spotnana-webhook-id")
            .map(|h| h[1].as_str().unwrap().to_owned())
            .unwrap()
    };
    let original = &expect_check(&report, "delivery.status-200")["exchanges"][0];
    assert_eq!(id_of(&exchanges[0]), id_of(original));
    assert_eq!(id_of(&exchanges[1]), id_of(original));
    assert_eq!(receiver.webhook(&id_of(original)).deliveries, 1);
    assert!(
        run.stdout.contains("PASS  retry.recovers-after-failure"),
        "{}",
        run.stdout
    );
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_check_warns_when_the_endpoint_never_recovers() {
    let receiver = reference(vec![Flaw::Status(500)]).await;
    let (run, report) =
        run_recovery(&receiver.webhook_url(), &["--retry-time-scale", "1000000"]).await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let recovery = expect_check(&report, "retry.recovers-after-failure");
    assert_eq!(recovery["status"], "warn", "{}", run.stdout);
    let message = recovery["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("still failing after 42 attempts: last status 500 Internal Server Error;"),
        "{message}"
    );
    assert!(
        message.contains("Spotnana would park the message"),
        "{message}"
    );
    assert_eq!(recovery["exchanges"].as_array().unwrap().len(), 41);
    assert!(
        run.stdout.contains("WARN  retry.recovers-after-failure"),
        "{}",
        run.stdout
    );
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_check_stops_at_its_time_cap_against_a_hanging_endpoint() {
    let (url, ids) = hanging_endpoint().await;
    let (run, report) = run_recovery(&url, &["--timeout", "500ms"]).await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let recovery = expect_check(&report, "retry.recovers-after-failure");
    assert_eq!(recovery["status"], "warn", "{}", run.stdout);
    let message = recovery["message"].as_str().unwrap();
    assert!(
        message.starts_with("still failing after ")
            && message.contains("attempts: last attempt got no answer (timeout: "),
        "{message}"
    );
    assert!(
        message.contains("the check stopped at its time cap of 3s (6 × --timeout, at most 30 s)"),
        "{message}"
    );
    // The cap is typed in the JSON finding (the words above are the reports').
    let cause = &recovery["finding"]["cause"];
    assert_eq!(cause["kind"], "retry-out-of-time", "{recovery}");
    assert_eq!(cause["cap_ms"], 3_000);
    assert_eq!(cause["cap_timeouts"], 6);
    assert_eq!(cause["cap_max_ms"], 30_000);
    crate::support::schema::assert_schema_valid(&report);
    // 3 s of 500 ms timeouts: about six retries. Without the cap the 42 attempts
    // would take over 20 s; the upper bound leaves a loaded machine slack below that.
    let duration_ms = recovery["duration_ms"].as_u64().unwrap();
    assert!((2_900..10_000).contains(&duration_ms), "{duration_ms}");
    let ids = ids.lock().unwrap().clone();
    assert!(ids.len() >= 5, "{ids:?}");
    assert!(ids.iter().all(|id| *id == ids[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_check_is_skipped_when_nothing_failed() {
    let receiver = reference(Vec::new()).await;
    let (run, report) = run_recovery(&receiver.webhook_url(), &[]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let recovery = expect_check(&report, "retry.recovers-after-failure");
    assert_eq!(recovery["status"], "skip");
    assert_eq!(
        recovery["message"],
        "no delivery failed during the run, so there was nothing to retry"
    );
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_forgeries_are_not_retried() {
    // RejectWith500 answers 500 to forged deliveries: the rejection check warns, but
    // no correctly signed delivery failed, so nothing is retried (a forgery must not be).
    let receiver = reference(vec![Flaw::RejectWith500]).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let url = receiver.webhook_url();
    let run = spotcheck(
        &[
            "run",
            "--endpoint",
            &url,
            "--only",
            "signature.*,retry.recovers-after-failure",
            "--seed",
            "7",
            "--report",
            &report_arg,
        ],
        Duration::from_secs(60),
    )
    .await;
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        expect_check(&report, "signature.rejection-is-4xx")["status"],
        "warn",
        "{}",
        run.stdout
    );
    assert_eq!(
        expect_check(&report, "retry.recovers-after-failure")["status"],
        "skip",
        "{}",
        run.stdout
    );
    receiver.shutdown().await;
}
