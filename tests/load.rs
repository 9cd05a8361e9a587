//! `spotcheck load` as a user runs it: against the in-process reference receiver
//! over HTTPS, a flawed receiver, plain-HTTP wiremock partners and a closed port.
//! Every run is short (a few thousand requests at most) and on 127.0.0.1 only.

use crate::support::{self, cli, partner};

use std::time::Duration;

use serde_json::Value;
use spotcheck::receiver::{Flaw, ReceiverConfig, RunningReceiver, TlsSetup};
use spotcheck::signing::{Secret, Verifier};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use cli::{Run, SECRET, Spotcheck};

/// Runs `spotcheck load ARGS --quiet --report json=…` with the secret in the environment
/// (within 60 s) and returns the run and the report.
async fn load(args: &[&str]) -> (Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("load.json");
    let report_arg = format!("json={}", report.display());
    let output =
        Spotcheck::new(
            ["load"]
                .iter()
                .chain(args)
                .chain(&["--quiet", "--report", &report_arg]),
        )
        .secret(SECRET)
        .timeout(Duration::from_secs(60))
        .run()
        .await;
    let json = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).expect("report is JSON"))
        .unwrap_or(Value::Null);
    (output, json)
}

async fn flawed_receiver(flaws: Vec<Flaw>, tls: TlsSetup) -> RunningReceiver {
    let config = ReceiverConfig {
        flaws,
        queue_capacity: 65_536,
        ..support::config()
    };
    support::start_with(config, tls).await
}

fn count(map: &Value, key: &str) -> u64 {
    map.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The fields the issue requires, present and consistent with each other.
fn assert_consistent(report: &Value) {
    let requests = report["requests"].as_u64().expect("requests");
    let statuses: u64 = report["status_counts"]
        .as_object()
        .expect("status_counts")
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let errors: u64 = report["errors"]
        .as_object()
        .expect("errors")
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(statuses + errors, requests, "counts add up: {report:#}");
    let duration_ms = report["duration_ms"].as_u64().expect("duration_ms");
    let rps = report["throughput_rps"].as_f64().expect("throughput_rps");
    if duration_ms > 50 {
        let expected = requests as f64 * 1000.0 / duration_ms as f64;
        assert!(
            (rps - expected).abs() <= expected * 0.05 + 1.0,
            "throughput {rps} vs {expected}"
        );
    }
    let l = &report["latency_ms"];
    let p: Vec<f64> = ["p50", "p90", "p99", "p999", "max"]
        .iter()
        .map(|k| l[*k].as_f64().unwrap_or_else(|| panic!("latency_ms.{k}")))
        .collect();
    assert!(
        p.windows(2).all(|w| w[0] <= w[1]),
        "percentiles ordered: {p:?}"
    );
    if requests > 0 {
        assert!(p[0] > 0.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_receiver_over_https_verifies_every_request() {
    let (output, report) = load(&["--requests", "2000", "--concurrency", "8", "--seed", "5"]).await;
    let text = output.stdout.clone();
    assert_eq!(output.code, Some(0), "{text}");
    assert!(
        text.contains(
            "no --endpoint: loading the built-in reference receiver at https://127.0.0.1:"
        ),
        "{text}"
    );
    assert!(text.contains("requests      2000 in "), "{text}");
    assert!(text.contains("status        200: 2000"), "{text}");
    assert!(text.contains("latency (ms)  p50 "), "{text}");
    assert_consistent(&report);
    assert_eq!(report["requests"], 2000);
    assert_eq!(report["ok"], 2000);
    assert_eq!(report["status_counts"], serde_json::json!({"200": 2000}));
    assert_eq!(report["errors"], serde_json::json!({}));
    assert_eq!(report["model"], "closed");
    // The receiver verified every signature and saw every webhook id once.
    assert_eq!(report["receiver"]["received"], 2000);
    assert_eq!(report["receiver"]["accepted"], 2000);
    assert_eq!(report["receiver"]["rejected"], 0);
    assert_eq!(report["receiver"]["duplicates"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_answering_500_shows_500s_and_fails() {
    let running = flawed_receiver(vec![Flaw::Status(500)], TlsSetup::Generated).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, running.ca_pem.clone().unwrap()).unwrap();
    let url = running.webhook_url();
    let (output, report) = load(&[
        "--endpoint",
        &url,
        "--ca-cert",
        ca.to_str().unwrap(),
        "--requests",
        "300",
        "-c",
        "4",
    ])
    .await;
    let stats = running.stats();
    running.shutdown().await;
    let text = output.stdout.clone();
    assert_eq!(output.code, Some(1), "{text}");
    assert!(text.contains("status        500: 300"), "{text}");
    assert!(
        text.contains("not every request was answered 200 OK"),
        "{text}"
    );
    assert!(!text.contains("plain http://"), "{text}");
    assert_consistent(&report);
    assert_eq!(report["status_counts"], serde_json::json!({"500": 300}));
    assert_eq!(report["ok"], 0);
    // They were still correctly signed: the receiver verified all of them.
    assert_eq!(stats.accepted, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_wiremock_gets_signed_requests_and_mixed_statuses_add_up() {
    let server = MockServer::start().await;
    partner::fails_then_accepts(&server, 503, 100).await;
    let url = format!("{}/hooks", server.uri());
    let (output, report) = load(&[
        "--endpoint",
        &url,
        "--requests",
        "400",
        "-c",
        "4",
        "--events",
        "PNR_V3/BOOKING_TICKETED=3,TRAVELER_V2",
    ])
    .await;
    let text = output.stdout.clone();
    assert_eq!(output.code, Some(1), "{text}");
    assert!(
        text.contains("is plain http://; Spotnana delivers only over HTTPS"),
        "{text}"
    );
    assert!(text.contains("status        200: 300, 503: 100"), "{text}");
    assert_consistent(&report);
    assert_eq!(report["requests"], 400);
    assert_eq!(count(&report["status_counts"], "503"), 100);
    assert_eq!(count(&report["status_counts"], "200"), 300);
    assert_eq!(
        report["events"],
        serde_json::json!([
            "PNR_V3/BOOKING_TICKETED=3",
            "TRAVELER_V2/CREATE=1",
            "TRAVELER_V2/UPDATE=1",
            "TRAVELER_V2/DELETE=1",
            "TRAVELER_V2/PURGE=1"
        ])
    );

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 400);
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()]);
    let mut ids = std::collections::HashSet::new();
    let mut ticketed = 0;
    for request in &received {
        assert_eq!(request.url.path(), "/hooks");
        let h = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(h("content-type"), Some("application/json"));
        assert_eq!(h("x-b3-traceid").map(str::len), Some(32));
        verifier
            .verify(
                h("x-spotnana-webhook-id"),
                h("x-spotnana-webhook-timestamp"),
                h("x-spotnana-webhook-signature"),
                &request.body,
                spotcheck::signing::unix_now(),
            )
            .expect("every request verifies");
        assert!(ids.insert(h("x-spotnana-webhook-id").unwrap().to_owned()));
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        if body["operation"] == "BOOKING_TICKETED" {
            ticketed += 1;
        }
    }
    // Weight 3 of 7: about 171 of 400.
    assert!(
        (110..240).contains(&ticketed),
        "{ticketed} BOOKING_TICKETED of 400"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_mode_counts_late_requests_instead_of_dropping_them() {
    // One connection to a receiver that takes 50 ms per answer cannot keep 200/s:
    // every request is still sent, and those that start behind schedule are late.
    let running = flawed_receiver(
        vec![Flaw::SlowAck(Duration::from_millis(50))],
        TlsSetup::Plain,
    )
    .await;
    let url = running.webhook_url();
    let (output, report) = load(&[
        "--endpoint",
        &url,
        "--rate",
        "200/s",
        "-c",
        "1",
        "--requests",
        "20",
    ])
    .await;
    let accepted = running.stats().accepted;
    running.shutdown().await;
    let text = output.stdout.clone();
    assert_eq!(output.code, Some(0), "{text}");
    assert_consistent(&report);
    assert_eq!(report["model"], "open");
    assert_eq!(report["requests"], 20);
    assert_eq!(accepted, 20);
    let rate = &report["rate"];
    assert_eq!(rate["scheduled"], 20);
    assert_eq!(rate["dropped"], 0);
    let late = rate["late"].as_u64().unwrap();
    assert!(late >= 15, "{late} late of 20: {report:#}");
    assert!(report["duration_ms"].as_u64().unwrap() >= 20 * 50);
    assert!(
        text.contains(&format!(
            "{late} late (sent > 10 ms after schedule), 0 dropped"
        )),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_mode_keeps_its_pace_when_the_endpoint_keeps_up() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let (output, report) = load(&[
        "--endpoint",
        &server.uri(),
        "--rate",
        "100",
        "-c",
        "4",
        "--duration",
        "1s",
    ])
    .await;
    assert_eq!(output.code, Some(0), "{}", output.stdout.clone());
    assert_consistent(&report);
    let rate = &report["rate"];
    let scheduled = rate["scheduled"].as_u64().unwrap();
    let requests = report["requests"].as_u64().unwrap();
    let abandoned = report["abandoned"].as_u64().unwrap();
    // The ticker keeps the pace of the clock the run measured (it catches up when the
    // machine is loaded, and never runs ahead): scheduled requests over the run's
    // own duration are 100 a second, a ratio rather than a count a loaded 2-core
    // machine may miss. The endpoint keeps up, so most scheduled requests are sent.
    let duration_s = report["duration_ms"].as_f64().unwrap() / 1000.0;
    let pace = scheduled as f64 / duration_s;
    assert!(
        (85.0..=105.0).contains(&pace),
        "{pace} scheduled/s: {report:#}"
    );
    assert_eq!(
        requests + rate["dropped"].as_u64().unwrap() + abandoned,
        scheduled
    );
    assert!(requests * 4 >= scheduled * 3, "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_counted_as_connect_errors() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/");
    let (output, report) = load(&["--endpoint", &url, "--requests", "50", "-c", "2"]).await;
    let text = output.stdout.clone();
    assert_eq!(output.code, Some(1), "{text}");
    assert!(text.contains("errors        connect: 50"), "{text}");
    assert_consistent(&report);
    assert_eq!(report["errors"], serde_json::json!({"connect": 50}));
    assert_eq!(report["status_counts"], serde_json::json!({}));
}

/// A raw loopback server: on each connection it reads one request head, then gives
/// `answer` (if any) and closes, without saying `Connection: close`. Returns its URL.
async fn one_answer_per_connection(answer: Option<&'static [u8]>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 16 * 1024];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                if let Some(answer) = answer {
                    let _ = stream.write_all(answer).await;
                }
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_closing_kept_alive_connections_gets_every_request_on_a_new_one() {
    // Node's keep-alive timeout, nginx's keepalive_requests: the server closes a
    // connection it had kept open. The request then goes out again on a new one.
    let url =
        one_answer_per_connection(Some(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")).await;
    let (output, report) = load(&["--endpoint", &url, "--requests", "60", "-c", "3"]).await;
    assert_eq!(output.code, Some(0), "{}", output.stdout);
    assert_consistent(&report);
    assert_eq!(report["status_counts"], serde_json::json!({"200": 60}));
    assert_eq!(report["errors"], serde_json::json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_that_do_not_answer_in_http_are_counted_by_error_class() {
    // A banner that is not HTTP, and a close with no answer at all.
    for (answer, class) in [
        (Some(&b"SSH-2.0-OpenSSH_9.6\r\n"[..]), "protocol"),
        (None, "reset"),
    ] {
        let url = one_answer_per_connection(answer).await;
        let (output, report) = load(&["--endpoint", &url, "--requests", "30", "-c", "3"]).await;
        let text = output.stdout.clone();
        assert_eq!(output.code, Some(1), "{text}");
        assert!(
            text.contains(&format!("errors        {class}: 30")),
            "{text}"
        );
        assert_consistent(&report);
        assert_eq!(report["errors"], serde_json::json!({ class: 30 }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_setup_errors() {
    let (output, _) = load(&["--events", "PNR_V3/NOPE", "--requests", "1"]).await;
    assert_eq!(output.code, Some(2));
    let err = &output.stderr;
    assert!(err.contains("--events"), "{err}");
    let (output, _) = load(&["--rate", "fast", "--requests", "1"]).await;
    assert_eq!(output.code, Some(2));
    assert!(output.stderr.contains("is not a rate"));
    let (output, _) = load(&["--endpoint", "ftp://127.0.0.1/", "--requests", "1"]).await;
    assert_eq!(output.code, Some(2));
}

/// `spotcheck load merge ARGS…`, ready to run.
fn merge(args: &[&std::path::Path]) -> Spotcheck {
    args.iter()
        .fold(Spotcheck::new(["load", "merge"]), |command, arg| {
            command.arg(arg)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_of_two_runners_merge_into_one_with_their_histograms_added() {
    // Two "CI runners" load the same endpoint, each with its own seed; the first
    // one's endpoint answers 503 to a share of the requests.
    let server = MockServer::start().await;
    partner::fails_then_accepts(&server, 503, 40).await;
    let endpoint = format!("{}/webhooks", server.uri());
    let (first_out, first) = load(&[
        "--endpoint",
        &endpoint,
        "--requests",
        "300",
        "-c",
        "4",
        "--seed",
        "1",
    ])
    .await;
    let (_, second) = load(&[
        "--endpoint",
        &endpoint,
        "--requests",
        "500",
        "-c",
        "2",
        "--seed",
        "2",
    ])
    .await;
    assert_eq!(first_out.code, Some(1), "{}", first_out.stdout.clone());
    for report in [&first, &second] {
        let histogram = &report["histogram"];
        assert_eq!(histogram["encoding"], "hdrhistogram-v2-deflate-base64");
        assert_eq!(histogram["unit"], "us");
        assert!(histogram["data"].as_str().unwrap().starts_with("HISTF"));
    }

    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    let total = dir.path().join("total.json");
    std::fs::write(&a, first.to_string()).unwrap();
    std::fs::write(&b, second.to_string()).unwrap();
    let output = merge(&[&a, &b])
        .arg("--report")
        .arg(format!("json={}", total.display()))
        .run()
        .await;
    let text = output.stdout.clone();
    // 40 of the 800 requests got 503: not every request was answered 200 OK.
    assert_eq!(output.code, Some(1), "{text}");
    assert!(text.contains("load merge: 2 reports of"), "{text}");
    assert!(text.contains("requests      800 in"), "{text}");
    assert!(text.contains("status        200: 760, 503: 40"), "{text}");
    assert!(text.contains("merged        2 runs"), "{text}");
    assert!(text.contains("a.json  300 requests"), "{text}");

    let merged: Value = serde_json::from_slice(&std::fs::read(&total).unwrap()).unwrap();
    assert_consistent(&merged);
    assert_eq!(merged["requests"], 800);
    assert_eq!(merged["ok"], 760);
    assert_eq!(merged["concurrency"], 6);
    assert_eq!(merged["seed"], Value::Null);
    assert_eq!(
        merged["status_counts"],
        serde_json::json!({"200": 760, "503": 40})
    );
    let longest = first["duration_ms"]
        .as_u64()
        .unwrap()
        .max(second["duration_ms"].as_u64().unwrap());
    assert_eq!(merged["duration_ms"].as_u64().unwrap(), longest);
    let max = |r: &Value| r["latency_ms"]["max"].as_f64().unwrap();
    assert_eq!(max(&merged), max(&first).max(max(&second)));
    let p50 = |r: &Value| r["latency_ms"]["p50"].as_f64().unwrap();
    assert!(p50(&merged) >= p50(&first).min(p50(&second)));
    assert!(p50(&merged) <= p50(&first).max(p50(&second)));
    let parts = merged["merged_from"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1]["seed"], 2);
    assert_eq!(parts[1]["requests"], 500);

    // A merged report merges again: the same numbers come out.
    let again = merge(&[&total]).run().await;
    assert!(
        again.stdout.clone().contains("requests      800 in"),
        "{}",
        again.stdout.clone()
    );
}

#[test]
fn merging_a_broken_or_foreign_report_is_a_setup_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"requests\": \"many\"\n}").unwrap();
    let output = merge(&[&broken]).run_blocking();
    assert_eq!(output.code, Some(2));
    let err = &output.stderr;
    assert!(err.contains("broken.json:"), "{err}");
    assert!(err.contains("not a spotcheck load report"), "{err}");
    assert!(err.contains("spotcheck load --report json=PATH"), "{err}");

    let missing = dir.path().join("missing.json");
    let output = merge(&[&missing]).run_blocking();
    assert_eq!(output.code, Some(2));
    assert!(output.stderr.contains("missing.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_endpoint_is_counted_as_timeouts_right_after_the_timeout() {
    // Accepts connections and reads, but never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let endpoint = format!("http://127.0.0.1:{port}/webhooks");
    let started = std::time::Instant::now();
    let (output, report) = load(&[
        "--endpoint",
        &endpoint,
        "--requests",
        "6",
        "-c",
        "3",
        "--timeout",
        "400ms",
    ])
    .await;
    let took = started.elapsed();
    assert_eq!(output.code, Some(1), "{}", output.all());
    assert_eq!(report["errors"], serde_json::json!({"timeout": 6}));
    assert_eq!(report["requests"], 6);
    // Two requests per connection, one after the other: each cut at 400 ms, never
    // before, so about 0.8 s in all. The upper bounds leave a loaded machine seconds of
    // slack and still catch a timeout that is not applied (the server never answers).
    let max = report["latency_ms"]["max"].as_f64().unwrap();
    assert!((400.0..3_000.0).contains(&max), "max latency {max} ms");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_runs_end_cleanly_whichever_workers_finish_first() {
    // At the deadline some workers see the stop flag and finish while others are cut
    // in flight: the end of a run must never trip over either (no panic, counts add up).
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let endpoint = format!("{}/webhooks", server.uri());
    for _ in 0..12 {
        let (output, report) =
            load(&["--endpoint", &endpoint, "--duration", "150ms", "-c", "16"]).await;
        assert!(!output.stderr.contains("panicked"), "{}", output.all());
        // On a starved machine 150 ms may end before any answer: then (only then) the
        // run says so with exit 1. Either way the counts must add up.
        let answered = report["requests"].as_u64().unwrap_or(0) > 0;
        let expected = if answered { Some(0) } else { Some(1) };
        assert_eq!(output.code, expected, "{}", output.all());
        assert_consistent(&report);
    }
}

/// The names of the client threads (`load-N`) seen in `/proc` while `spotcheck load
/// ARGS` ran against the reference receiver (Linux).
async fn load_threads_seen(args: &[&str]) -> std::collections::BTreeSet<String> {
    let mut child = Spotcheck::new(["load"].iter().chain(args).chain(&["--quiet"]))
        .secret(SECRET)
        .command()
        .spawn()
        .expect("spotcheck starts");
    let pid = child.id().expect("running");
    let mut seen = std::collections::BTreeSet::new();
    let finished = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
                for task in tasks.flatten() {
                    let comm =
                        std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
                    if comm.starts_with("load-") {
                        seen.insert(comm.trim().to_owned());
                    }
                }
            }
            if let Some(status) = child.try_wait().expect("waits") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("load finished within 60 s");
    assert!(finished.success(), "{finished:?}");
    seen
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn threads_sets_how_many_client_threads_share_the_connections() {
    let one = load_threads_seen(&["-c", "8", "--duration", "2s", "--threads", "1"]).await;
    assert_eq!(one.into_iter().collect::<Vec<_>>(), ["load-0"]);
    let three = load_threads_seen(&["-c", "8", "--duration", "2s", "--threads", "3"]).await;
    assert_eq!(
        three.into_iter().collect::<Vec<_>>(),
        ["load-0", "load-1", "load-2"]
    );
    // Never more threads than connections.
    let capped = load_threads_seen(&["-c", "2", "--duration", "2s", "--threads", "4"]).await;
    assert_eq!(capped.into_iter().collect::<Vec<_>>(), ["load-0", "load-1"]);
}

/// Without `--threads`, a loopback endpoint (here the built-in receiver, in the same
/// process) leaves the server half the cores: on two cores, one client thread.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_loopback_endpoint_gets_half_the_cores_by_default() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let seen = load_threads_seen(&["-c", "8", "--duration", "2s"]).await;
    let expected: Vec<String> = (0..cores.div_ceil(2).min(8))
        .map(|i| format!("load-{i}"))
        .collect();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        expected,
        "{cores} cores"
    );
}

/// The thread count is said where the load is announced and kept in the report, so
/// two runs on different machines can be told apart.
#[tokio::test]
async fn the_client_threads_are_announced_and_reported() {
    for (connections, threads, said) in [
        ("4", "3", "3 client threads"),
        ("2", "1", "1 client thread"),
    ] {
        let args = ["-c", connections, "--requests", "20", "--threads", threads];
        let (run, report) = load(&args).await;
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let announced = format!("(closed model, concurrency {connections}, {said})");
        assert!(run.stdout.contains(&announced), "{}", run.stdout);
        assert_eq!(report["client_threads"].to_string(), threads, "{report}");
        // A run that reached its request count was not interrupted, and says nothing
        // of it.
        assert_eq!(report.get("interrupted"), None, "{report}");
        assert!(!run.stdout.contains("interrupted"), "{}", run.stdout);
    }
}
