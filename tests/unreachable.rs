//! An endpoint nobody can connect to is not judged non-conformant: the run ends early
//! with exit 2 and one message naming the address and the error (terminal and JSON);
//! an endpoint that answered and then stopped keeps its verdicts and the grouped
//! transport note.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::receiver::spotcheck;
use crate::support::schema::assert_schema_valid;

/// A loopback port with nothing listening on it (bound, then closed).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

#[tokio::test]
async fn a_closed_port_ends_the_run_early_with_exit_2_and_one_message() {
    let port = closed_port().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let endpoint = format!("http://127.0.0.1:{port}/hook");
    let run = spotcheck(&[
        "run",
        "--endpoint",
        &endpoint,
        "--report",
        &format!("json={}", json.display()),
    ])
    .await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    // The grace for a slow start (3 s), not the retry schedule and 30 failed checks.
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    let address = format!("127.0.0.1:{port}");
    assert!(
        run.stderr.contains(&format!(
            "error: could not reach the endpoint at {address}: connection refused"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("ERROR: the endpoint could not be reached"),
        "{}",
        run.stdout
    );
    // One message: no transport note, no failed check, no "NOT conformant".
    assert!(!run.all().contains("stopped answering"), "{}", run.all());
    assert!(!run.all().contains("FAIL"), "{}", run.all());
    assert!(!run.all().contains("NOT conformant"), "{}", run.all());

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_schema_valid(&report);
    assert_eq!(report["unreachable"]["address"], address.as_str());
    assert_eq!(report["unreachable"]["class"], "connect");
    assert_eq!(report["unreachable"]["message"], "connection refused");
    assert_eq!(report["summary"]["conformant"], false);
    assert_eq!(report["summary"]["failed"], 0);
    assert!(report.get("transport_outage").is_none(), "{report:#}");
}

/// A plain-HTTP server that answers `answers` deliveries with `200` (one per
/// connection), then closes its listener: every later connection is refused.
async fn answers_then_stops(answers: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    answering(listener, answers)
}

/// Serves `answers` deliveries on `listener` (see [`answers_then_stops`]).
fn answering(listener: TcpListener, answers: usize) -> (u16, Arc<AtomicUsize>) {
    let port = listener.local_addr().unwrap().port();
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    tokio::spawn(async move {
        while count.load(Ordering::SeqCst) < answers {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 8192];
            // Read the head, then the body its Content-Length announces.
            let body_len = loop {
                let Ok(n) = socket.read(&mut buf).await else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                head.extend_from_slice(&buf[..n]);
                if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
                    let len: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    break Some(len.saturating_sub(head.len() - end - 4));
                }
            };
            let Some(mut missing) = body_len else {
                continue;
            };
            while missing > 0 {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => missing = missing.saturating_sub(n),
                }
            }
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            let _ = socket.shutdown().await;
            count.fetch_add(1, Ordering::SeqCst);
        }
        // The listener is dropped here: connections are refused from now on.
    });
    (port, answered)
}

#[tokio::test]
async fn an_endpoint_that_answered_then_stopped_is_judged_as_before() {
    let (port, answered) = answers_then_stops(3).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let endpoint = format!("http://127.0.0.1:{port}/hook");
    let run = spotcheck(&[
        "run",
        "--endpoint",
        &endpoint,
        "--report",
        &format!("json={}", json.display()),
        "--retry-time-scale",
        "1000000",
    ])
    .await;
    assert_eq!(answered.load(Ordering::SeqCst), 3);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stdout.contains("NOT conformant"), "{}", run.stdout);
    assert!(!run.all().contains("could not reach"), "{}", run.all());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_schema_valid(&report);
    assert!(report.get("unreachable").is_none(), "{report:#}");
    assert!(
        report["transport_outage"]["classes"]["connect"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{:#}",
        report["transport_outage"]
    );
}

/// An endpoint that starts listening a second after the run began (a container still
/// coming up) is not called unreachable: the first delivery is tried again for 3 s.
#[tokio::test]
async fn an_endpoint_that_starts_a_second_late_is_reached() {
    let port = closed_port().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let endpoint = format!("http://127.0.0.1:{port}/hook");
    let report_arg = format!("json={}", json.display());
    let running = tokio::spawn(async move {
        spotcheck(&[
            "run",
            "--endpoint",
            &endpoint,
            "--only",
            "delivery.status-200",
            "--report",
            &report_arg,
        ])
        .await
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let (_, answered) = answering(listener, usize::MAX);
    let run = running.await.unwrap();
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(answered.load(Ordering::SeqCst) >= 1);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report.get("unreachable").is_none(), "{report:#}");
}
