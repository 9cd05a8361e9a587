//! Checks that measure time run alone: on an endpoint whose handling is serialised
//! (one worker, as Puma's threads holding kept-alive connections are), a timing
//! check's answer times must be the endpoint's, not the queue spotcheck's own burst
//! makes beside it. Read from the JSON report: no exchange of another check overlaps
//! the exchanges of `delivery.latency` or `delivery.fast-ack`.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::receiver::spotcheck;

/// How long the one worker holds each request.
const HOLD: Duration = Duration::from_millis(40);

/// A plain-HTTP endpoint with keep-alive whose one worker handles one request at a
/// time, holding each for [`HOLD`], and answers `200` to anything.
async fn one_worker_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let worker = Arc::new(tokio::sync::Mutex::new(()));
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, Arc::clone(&worker)));
        }
    });
    url
}

/// Serves the requests of one kept-alive connection, each through the one worker.
async fn serve(mut socket: TcpStream, worker: Arc<tokio::sync::Mutex<()>>) {
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // The head.
        let end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        // The body.
        while buffer.len() < end + length {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..end + length);
        {
            let _turn = worker.lock().await;
            tokio::time::sleep(HOLD).await;
        }
        if socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    }
}

/// One exchange of a report: its check, start and end in milliseconds.
struct Span {
    check: String,
    start: f64,
    end: f64,
}

fn spans(report: &serde_json::Value) -> Vec<Span> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|check| {
            let id = check["id"].as_str().unwrap().to_owned();
            check["exchanges"].as_array().unwrap().iter().map(move |e| {
                let start = e["started_at_ms"].as_f64().unwrap();
                Span {
                    check: id.clone(),
                    start,
                    end: start + e["duration_ms"].as_f64().unwrap(),
                }
            })
        })
        .collect()
}

/// Every exchange of another check that overlaps the exchanges of `timing` (from the
/// first start to the last end). `started_at_ms` is whole milliseconds, so a boundary
/// within 1 ms is a rounding, not an overlap.
fn overlapping(report: &serde_json::Value, timing: &str) -> Vec<String> {
    let all = spans(report);
    let own: Vec<&Span> = all.iter().filter(|s| s.check == timing).collect();
    assert!(!own.is_empty(), "{timing} sent nothing");
    let from = own.iter().map(|s| s.start).fold(f64::MAX, f64::min);
    let to = own.iter().map(|s| s.end).fold(f64::MIN, f64::max);
    all.iter()
        .filter(|s| s.check != timing && s.start < to - 1.0 && s.end > from + 1.0)
        .map(|s| format!("{} [{:.0}, {:.0}]", s.check, s.start - from, s.end - from))
        .collect()
}

async fn run(endpoint: &str, only: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let run = spotcheck(&[
        "run",
        "--endpoint",
        endpoint,
        "--only",
        only,
        "--report",
        &format!("json={}", json.display()),
    ])
    .await;
    // The endpoint verifies no signature: the run is not conformant, but it ran.
    assert!(matches!(run.code, Some(0 | 1)), "{}", run.all());
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

#[tokio::test]
async fn a_timing_check_never_shares_the_endpoint_with_a_burst() {
    let endpoint = one_worker_endpoint().await;
    // Both start together without the rule (--jobs 4): the burst's 32 deliveries
    // would queue ahead of fast-ack's on the one worker.
    let report = run(
        &endpoint,
        "delivery.fast-ack,delivery.concurrent-burst,delivery.status-200",
    )
    .await;
    let overlaps = overlapping(&report, "delivery.fast-ack");
    assert!(overlaps.is_empty(), "beside fast-ack: {overlaps:?}");
    let fast_ack = crate::support::receiver::expect_check(&report, "delivery.fast-ack");
    assert_eq!(fast_ack["status"], "pass", "{}", fast_ack["message"]);
    let burst = crate::support::receiver::expect_check(&report, "delivery.concurrent-burst");
    assert_eq!(burst["status"], "pass", "{}", burst["message"]);
}

#[tokio::test]
async fn fast_ack_is_stable_over_repeated_runs_of_the_delivery_suite() {
    let endpoint = one_worker_endpoint().await;
    for round in 1..=3 {
        let report = run(&endpoint, "delivery.*").await;
        for timing in ["delivery.latency", "delivery.fast-ack"] {
            let overlaps = overlapping(&report, timing);
            assert!(
                overlaps.is_empty(),
                "run {round}: beside {timing}: {overlaps:?}"
            );
        }
        let fast_ack = crate::support::receiver::expect_check(&report, "delivery.fast-ack");
        assert_eq!(
            fast_ack["status"], "pass",
            "run {round}: {}",
            fast_ack["message"]
        );
    }
}
