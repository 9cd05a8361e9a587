//! The reference receiver under abuse, over real sockets on 127.0.0.1: it keeps
//! answering valid signed deliveries with 200 while other clients flood it with
//! garbage, and it refuses oversized headers and bodies without growing memory.

use crate::support::{self, cli};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use spotcheck::delivery::request::signed_attempt;
use spotcheck::delivery::{Client, ClientOptions};
use spotcheck::event::random;
use spotcheck::receiver::{ReceiverConfig, RunningReceiver, TlsSetup};
use spotcheck::signing::{Secret, SignatureFormat, unix_now};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use cli::SECRET;

async fn start(max_body_bytes: usize) -> RunningReceiver {
    let config = ReceiverConfig {
        max_body_bytes,
        dedupe_capacity: 64,
        state: true,
        ..support::config()
    };
    support::start_with(config, TlsSetup::Plain).await
}

/// One valid signed delivery; returns its status (or the transport error).
async fn deliver(client: &Client, url: &str, n: u64) -> Result<u16, String> {
    let secret = Secret::parse(SECRET).unwrap();
    let mut rng = random::rng_for(n, "abuse");
    let body = format!(
        r#"{{"timestamp":"2026-01-01T00:00:00Z","eventType":"PNR_V3","operation":"BOOKING_CREATED","payload":{{"pnrId":"{n}"}}}}"#
    );
    let attempt = signed_attempt(
        url,
        &[&secret],
        &format!("abuse-{n}"),
        unix_now(),
        Bytes::from(body),
        SignatureFormat::V1,
        &[],
        &mut rng,
    );
    let exchange = client.send(&attempt).await;
    exchange.status().ok_or_else(|| exchange.outcome_text())
}

/// Writes `bytes` on a fresh connection and returns what came back (up to 4 KiB,
/// within 5 s), or what went wrong.
async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return "connect failed".into();
    };
    let _ = stream.write_all(bytes).await;
    let mut answer = vec![0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&answer[..n]).into_owned(),
        Ok(Err(err)) => format!("error: {err}"),
        Err(_) => "no answer within 5 s".into(),
    }
}

/// Garbage a hostile client might send: binary noise, broken request lines, bogus
/// framing, unsigned and forged deliveries, half requests.
fn garbage(i: u64) -> Vec<u8> {
    match i % 8 {
        0 => (0..2048u64).map(|j| (j * 31 + i * 17) as u8).collect(),
        1 => b"GET\r\n\r\n".to_vec(),
        2 => b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".to_vec(),
        3 => b"POST /webhooks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        4 => b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
        5 => b"POST /webhooks HTTP/1.1\r\nHost: x\r\nx-spotnana-webhook-id: a\r\nx-spotnana-webhook-timestamp: 99999999999999999999\r\nx-spotnana-webhook-signature: v1,\xff\xfe\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
        6 => b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec(),
        _ => b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf".to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_deliveries_get_200_during_a_garbage_flood() {
    let running = start(4 * 1024 * 1024).await;
    let addr = running.addr;
    let url = running.webhook_url();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut flooders = Vec::new();
    for task in 0..6u64 {
        let stop = stop.clone();
        let sent = sent.clone();
        flooders.push(tokio::spawn(async move {
            let mut i = task;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut stream) = TcpStream::connect(addr).await {
                    let _ = stream.write_all(&garbage(i)).await;
                    // Some connections are left open and silent (slowloris-style).
                    if i % 5 == 0 {
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            drop(stream);
                        });
                    }
                }
                sent.fetch_add(1, Ordering::Relaxed);
                i += 6;
                tokio::task::yield_now().await;
            }
        }));
    }
    // The flood is under way before the first valid delivery.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sent.load(Ordering::Relaxed) < 50 {
        assert!(Instant::now() < deadline, "the flood did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let client = Client::new(&ClientOptions {
        timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    })
    .unwrap();
    // Each valid delivery is answered within the client's 5 s timeout, and the 40
    // together well within 30 s: the flood does not starve them. (Tighter per-request
    // bounds would measure the loaded test machine, not the receiver.)
    let started = Instant::now();
    for n in 0..40u64 {
        let status = deliver(&client, &url, n).await;
        assert_eq!(status, Ok(200), "delivery {n} during the flood");
    }
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await.unwrap();
    }
    let flood = sent.load(Ordering::Relaxed);
    assert!(
        flood > 100,
        "the flood sent only {flood} garbage connections"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    // Every valid delivery was accepted; the forged/unsigned ones were not.
    let stats = running.stats();
    assert_eq!(stats.accepted, 40, "{stats:?}");
    running.shutdown().await;
}

#[tokio::test]
async fn oversized_headers_get_431_or_a_closed_connection() {
    let running = start(4 * 1024 * 1024).await;
    // One header of 1 MiB.
    let mut request = b"POST /webhooks HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    request.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
    let answer = raw(running.addr, &request).await;
    assert!(
        answer.starts_with("HTTP/1.1 431") || answer.is_empty() || answer.starts_with("error:"),
        "{answer}"
    );
    // Ten thousand small headers.
    let mut request = b"POST /webhooks HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..10_000 {
        request.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    request.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
    let answer = raw(running.addr, &request).await;
    assert!(
        answer.starts_with("HTTP/1.1 431") || answer.is_empty() || answer.starts_with("error:"),
        "{answer}"
    );
    // And the receiver still serves.
    let client = Client::new(&ClientOptions::default()).unwrap();
    assert_eq!(deliver(&client, &running.webhook_url(), 1).await, Ok(200));
    running.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let running = start(1024).await;
    // Declared too large: refused before the body is read.
    let mut request =
        b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n".to_vec();
    request.extend_from_slice(&[b'x'; 100]);
    let answer = raw(running.addr, &request).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("body-too-large"), "{answer}");
    // Chunked with no length: refused once the limit is crossed.
    let mut request =
        b"POST /webhooks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        request.extend_from_slice(b"400\r\n");
        request.extend_from_slice(&[b'y'; 0x400]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let answer = raw(running.addr, &request).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A signed delivery under the limit is still accepted.
    let client = Client::new(&ClientOptions::default()).unwrap();
    assert_eq!(deliver(&client, &running.webhook_url(), 2).await, Ok(200));
    running.shutdown().await;
}

#[tokio::test]
async fn the_dedupe_table_is_bounded() {
    // Capacity 64: after 300 distinct ids, the oldest are forgotten, so a redelivery
    // of the first id is processed again rather than remembered forever.
    let running = start(4 * 1024 * 1024).await;
    let client = Client::new(&ClientOptions::default()).unwrap();
    let url = running.webhook_url();
    for n in 0..300u64 {
        assert_eq!(deliver(&client, &url, n).await, Ok(200));
    }
    let recent = deliver(&client, &url, 299).await;
    assert_eq!(recent, Ok(200));
    let forgotten = deliver(&client, &url, 0).await;
    assert_eq!(forgotten, Ok(200));
    // Processing is asynchronous: wait for the queue to drain (bounded generously).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = running.stats();
        if stats.processed + stats.duplicates >= 302 || Instant::now() > deadline {
            // 299 was remembered (a duplicate); 0 had been forgotten (processed again).
            assert_eq!(stats.duplicates, 1, "{stats:?}");
            assert_eq!(stats.processed, 301, "{stats:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.shutdown().await;
}
