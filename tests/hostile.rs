//! The hostile-endpoint panel: real servers on 127.0.0.1 that misbehave at the
//! socket level, and `spotcheck send` / `spotcheck run` driven against each of them
//! as a user would. Every case asserts the finding (error class and words), the exit
//! code and a bounded run time; none may panic or hang.

use crate::support::{self, cli};

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use cli::{Run, SECRET, Spotcheck};
use support::expect_check;

/// The `--timeout` given to every run.
const TIMEOUT: &str = "2s";
/// A run against a hostile peer must end within this (2 s timeout + process start + slack).
const BOUND: Duration = Duration::from_secs(12);

/// Runs `spotcheck ARGS` with the secret in the environment, sampling its peak memory;
/// killed after 40 s.
async fn spotcheck(args: &[&str]) -> Run {
    Spotcheck::new(args)
        .secret(SECRET)
        .no_color()
        .sample_peak_memory()
        .timeout(Duration::from_secs(40))
        .run()
        .await
}

/// `spotcheck send` of one event to `url`.
async fn send(url: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "send",
        "PNR_V3/BOOKING_CREATED",
        "--endpoint",
        url,
        "--timeout",
        TIMEOUT,
        "--seed",
        "7",
    ];
    args.extend_from_slice(extra);
    let run = spotcheck(&args).await;
    // The verdict line, for the record (`cargo test -- --nocapture` lists every finding).
    eprintln!(
        "finding (send {url}): {} [exit {:?}, {:?}]",
        run.stdout.lines().last().unwrap_or(""),
        run.code,
        run.elapsed
    );
    run
}

/// `spotcheck run --only CHECKS` against `url`, with a JSON report; returns the run
/// and the report (Null when none was written).
async fn run_checks(url: &str, only: &str, extra: &[&str]) -> (Run, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let mut args = vec![
        "run",
        "--endpoint",
        url,
        "--only",
        only,
        "--timeout",
        TIMEOUT,
        "--seed",
        "7",
        "--color",
        "never",
        "--report",
        &report_arg,
    ];
    args.extend_from_slice(extra);
    let run = spotcheck(&args).await;
    let json = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).expect("the report is JSON"))
        .unwrap_or(serde_json::Value::Null);
    for check in json["checks"].as_array().into_iter().flatten() {
        eprintln!(
            "finding (run {url}): {} {}: {} [exit {:?}, {:?}]",
            check["status"], check["id"], check["message"], run.code, run.elapsed
        );
    }
    (run, json)
}

fn assert_bounded(run: &Run, bound: Duration) {
    assert!(
        run.elapsed < bound,
        "took {:?} (bound {bound:?})\n{}",
        run.elapsed,
        run.all()
    );
    assert!(
        !run.stderr.contains("panicked"),
        "spotcheck panicked:\n{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- servers

/// A server on 127.0.0.1 that hands every accepted connection to `behave`. It keeps
/// accepting until the test's runtime ends.
async fn serve<F, Fut>(behave: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let behave = Arc::new(behave);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behave(stream));
        }
    });
    addr
}

/// An HTTP server whose every connection first has its request read (head and
/// `Content-Length` body), then gets `answer`.
async fn http<F, Fut>(answer: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let answer = Arc::new(answer);
    let addr = serve(move |mut stream| {
        let answer = answer.clone();
        async move {
            if read_request(&mut stream).await {
                answer(stream).await;
            }
        }
    })
    .await;
    format!("http://{addr}/hook")
}

/// Reads one request: the head, then `Content-Length` bytes of body. False on EOF/error.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = seen.len() - head_end;
    while have < length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => have += n,
        }
    }
    true
}

/// A TLS server (generated CA, certificate for 127.0.0.1) whose every connection
/// gets `after_handshake` once the handshake completes. Returns the URL and the CA file.
async fn tls<F, Fut>(after_handshake: F) -> (String, tempfile::TempDir, String)
where
    F: Fn(tokio_rustls::server::TlsStream<TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    spotcheck::init_crypto();
    let pki = spotcheck::receiver::generate_localhost_pki().unwrap();
    let certs = rustls_pemfile::certs(&mut pki.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut pki.key_pem.as_bytes())
        .unwrap()
        .unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let after = Arc::new(after_handshake);
    let addr = serve(move |stream| {
        let acceptor = acceptor.clone();
        let after = after.clone();
        async move {
            if let Ok(Ok(tls)) =
                tokio::time::timeout(Duration::from_secs(5), acceptor.accept(stream)).await
            {
                after(tls).await;
            }
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let ca = ca.display().to_string();
    (format!("https://{addr}/hook"), dir, ca)
}

async fn hold<S>(stream: S) {
    tokio::time::sleep(Duration::from_secs(60)).await;
    drop(stream);
}

async fn write<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
    let _ = stream.flush().await;
}

// ---------------------------------------------------------------- the panel

#[tokio::test]
async fn accepts_tcp_and_never_answers() {
    // Not even the request is read: the peer accepts and sits there.
    let addr = serve(hold).await;
    let url = format!("http://{addr}/hook");
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout
            .contains("FAILED: timeout: no answer within 2s; Spotnana would retry"),
        "{}",
        run.stdout
    );
    assert!(run.elapsed >= Duration::from_secs(2), "{:?}", run.elapsed);
    assert_bounded(&run, BOUND);

    let (run, report) = run_checks(&url, "delivery.status-200", &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    let status = expect_check(&report, "delivery.status-200");
    assert_eq!(status["status"], "fail");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("no answer within 2s (timeout)"),
        "{message}"
    );
    assert_bounded(&run, BOUND);
}

#[tokio::test]
async fn answers_headers_then_stalls_the_body() {
    let url = http(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nthe first part",
        )
        .await;
        hold(stream).await;
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains(
            "FAILED: 200 OK arrived but the answer did not complete \
             (timeout: the response body did not end within 2s)"
        ),
        "{}",
        run.stdout
    );
    assert_bounded(&run, BOUND);

    let (run, report) = run_checks(&url, "delivery.status-200", &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    let status = expect_check(&report, "delivery.status-200");
    assert_eq!(status["status"], "fail", "{status}");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("did not complete") && message.contains("(timeout)"),
        "{message}"
    );
    assert_bounded(&run, BOUND);
}

#[tokio::test]
async fn drips_one_byte_a_second() {
    let url = http(|mut stream| async move {
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" {
            if stream.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains("FAILED: timeout: no answer within 2s"),
        "{}",
        run.stdout
    );
    assert_bounded(&run, BOUND);
}

#[tokio::test]
async fn drips_the_body_one_byte_a_second() {
    // The head arrives at once; the body never finishes within the timeout.
    let url = http(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n",
        )
        .await;
        for _ in 0..60 {
            if stream.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout
            .contains("(timeout: the response body did not end within 2s)"),
        "{}",
        run.stdout
    );
    assert_bounded(&run, BOUND);
}

#[tokio::test]
async fn resets_the_connection_mid_response() {
    let url = http(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf of it",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = stream.set_zero_linger();
        drop(stream);
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout
            .contains("FAILED: 200 OK arrived but the answer did not complete (reset: "),
        "{}",
        run.stdout
    );
    assert_bounded(&run, Duration::from_secs(8));

    let (run, report) = run_checks(&url, "delivery.status-200", &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    let status = expect_check(&report, "delivery.status-200");
    assert_eq!(status["status"], "fail", "{status}");
    assert!(
        status["message"].as_str().unwrap().contains("(reset)"),
        "{status}"
    );
    assert_bounded(&run, Duration::from_secs(8));
}

#[tokio::test]
async fn resets_before_any_answer() {
    let url = http(|stream| async move {
        let _ = stream.set_zero_linger();
        drop(stream);
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout
            .contains("FAILED: reset: connection reset by peer"),
        "{}",
        run.stdout
    );
    assert_bounded(&run, Duration::from_secs(8));
}

#[tokio::test]
async fn sends_a_100_mb_body() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    let url = http(move |mut stream| {
        let counter = counter.clone();
        async move {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {TOTAL}\r\n\r\n");
            write(&mut stream, head.as_bytes()).await;
            // Generated on the fly: the test never holds more than one 64 KiB chunk.
            let chunk = vec![b'z'; 64 * 1024];
            let mut sent = 0u64;
            while sent < TOTAL {
                match stream.write_all(&chunk).await {
                    Ok(()) => {
                        sent += chunk.len() as u64;
                        counter.store(sent, Ordering::Relaxed);
                    }
                    Err(_) => return,
                }
            }
        }
    })
    .await;
    let run = send(&url, &[]).await;
    // 200 arrived: delivered. Only 64 KiB of the body was read, the first KiB shown.
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("< body (first 65536 bytes read, body is longer; first 1024 shown):"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("delivered: 200 OK"), "{}", run.stdout);
    assert_bounded(&run, Duration::from_secs(8));
    // The client stopped reading: the server could not push the 100 MB through.
    let pushed = written.load(Ordering::Relaxed);
    assert!(pushed < TOTAL / 2, "the client read {pushed} bytes");
    // And its memory stayed bounded (the binary alone is ~20 MiB resident).
    assert!(run.peak_kib > 0, "VmHWM was sampled");
    assert!(
        run.peak_kib < 64 * 1024,
        "peak RSS {} KiB while a 100 MB body was offered",
        run.peak_kib
    );
}

#[tokio::test]
async fn redirect_loop() {
    // Every request is redirected to itself.
    let addr = Arc::new(std::sync::OnceLock::<String>::new());
    let location = addr.clone();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let url = http(move |mut stream| {
        let location = location.get().cloned().unwrap_or_default();
        counted.fetch_add(1, Ordering::Relaxed);
        async move {
            let answer =
                format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
            write(&mut stream, answer.as_bytes()).await;
        }
    })
    .await;
    addr.set(url.clone()).unwrap();
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains(&format!(
            "FAILED: 302 Found is a failure for Spotnana: redirects are not followed (Location: {url})"
        )),
        "{}",
        run.stdout
    );
    assert_eq!(hits.load(Ordering::Relaxed), 1, "the redirect was followed");
    assert_bounded(&run, Duration::from_secs(8));

    let (run, report) = run_checks(&url, "delivery.status-200", &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    let status = expect_check(&report, "delivery.status-200");
    assert_eq!(
        status["message"].as_str().unwrap(),
        format!(
            "step 1 (PNR_V3/BOOKING_CREATED): expected 200, got 302 Found \
             (a redirect to {url}: redirects are not followed)"
        ),
        "{status}"
    );
    assert_bounded(&run, Duration::from_secs(8));
}

#[tokio::test]
async fn informational_storm_never_reaching_a_final_answer() {
    let url = http(|mut stream| async move {
        // 1xx answers as fast as the client takes them, forever.
        loop {
            if stream
                .write_all(b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
        }
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains("FAILED: timeout: no answer within 2s")
            || run.stdout.contains("FAILED: protocol: "),
        "{}",
        run.stdout
    );
    // Known limit (docs/limits.md): at wire speed the HTTP parser spends its CPU on
    // 1xx heads and the 2 s timeout fires late (about 5 s in a debug build on 2 cores).
    // It still ends: the bound is looser, not absent.
    assert_bounded(&run, Duration::from_secs(20));
}

#[tokio::test]
async fn informational_storm_then_200() {
    let url = http(|mut stream| async move {
        let storm = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(2_000);
        write(&mut stream, &storm).await;
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        )
        .await;
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("< 200 OK"), "{}", run.stdout);
    assert_bounded(&run, Duration::from_secs(8));
}

#[tokio::test]
async fn malformed_status_line() {
    let url = http(|mut stream| async move {
        write(&mut stream, b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n").await;
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout
            .contains("FAILED: protocol: the answer is not valid HTTP"),
        "{}",
        run.stdout
    );
    assert_bounded(&run, Duration::from_secs(8));

    let (run, report) = run_checks(&url, "delivery.status-200", &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    let status = expect_check(&report, "delivery.status-200");
    assert!(
        status["message"].as_str().unwrap().contains("(protocol)"),
        "{status}"
    );
    assert_bounded(&run, Duration::from_secs(8));
}

#[tokio::test]
async fn http_0_9_style_reply() {
    // No status line, no headers: just a body, then close.
    let url = http(|mut stream| async move {
        write(&mut stream, b"<html>thanks</html>\n").await;
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout
            .contains("FAILED: protocol: the answer is not valid HTTP"),
        "{}",
        run.stdout
    );
    assert_bounded(&run, Duration::from_secs(8));
}

#[tokio::test]
async fn garbage_instead_of_a_tls_server_hello() {
    let addr = serve(|mut stream| async move {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).await; // the ClientHello
        write(
            &mut stream,
            b"\x16\x03\x03\x00\x05garbage that is no ServerHello\r\n",
        )
        .await;
        hold(stream).await;
    })
    .await;
    let url = format!("https://{addr}/hook");
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains("FAILED: tls: TLS handshake failed"),
        "{}",
        run.stdout
    );
    assert_bounded(&run, Duration::from_secs(8));

    // A plain-HTTP server on an https:// URL: TLS never completed, and not by the
    // server's TLS policy (a wrong port or scheme): the endpoint could not be reached,
    // which is no finding about its code (exit 2, see docs/verdicts.md).
    let addr = serve(|mut stream| async move {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).await;
        write(
            &mut stream,
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
    })
    .await;
    let url = format!("https://{addr}/hook");
    let (run, report) = run_checks(&url, "delivery.status-200", &[]).await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert_eq!(report["unreachable"]["class"], "tls", "{report:#}");
    assert!(
        run.stderr.contains("could not reach the endpoint at"),
        "{}",
        run.stderr
    );
    let status = expect_check(&report, "delivery.status-200");
    assert_eq!(status["status"], "skip", "{status}");
    assert_bounded(&run, Duration::from_secs(8));
}

#[tokio::test]
async fn closes_right_after_the_tls_handshake() {
    let (url, _dir, ca) = tls(|stream| async move {
        drop(stream);
    })
    .await;
    let run = send(&url, &["--ca-cert", &ca]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    // Whether the kernel reports the peer's close as a reset or as an early EOF is a
    // race; either way the finding is the `reset` class.
    assert!(
        run.stdout.contains("FAILED: reset: connection closed")
            || run
                .stdout
                .contains("FAILED: reset: connection reset by peer"),
        "{}",
        run.stdout
    );
    assert_bounded(&run, Duration::from_secs(8));
}

#[tokio::test]
async fn tls_handshake_then_silence() {
    let (url, _dir, ca) = tls(hold).await;
    let (run, report) = run_checks(&url, "delivery.status-200,tls.*", &["--ca-cert", &ca]).await;
    let status = expect_check(&report, "delivery.status-200");
    assert_eq!(status["status"], "fail", "{status}");
    assert!(
        status["message"].as_str().unwrap().contains("(timeout)"),
        "{status}"
    );
    assert_eq!(
        expect_check(&report, "tls.tls12-supported")["status"],
        "pass"
    );
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_bounded(&run, Duration::from_secs(25));
}

#[tokio::test]
async fn connection_close_on_every_answer_under_concurrency() {
    // A conformant answer, but no connection is ever reused: the burst must still pass.
    let served = Arc::new(AtomicUsize::new(0));
    let counted = served.clone();
    let url = http(move |mut stream| {
        counted.fetch_add(1, Ordering::Relaxed);
        async move {
            write(
                &mut stream,
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
            )
            .await;
            let _ = stream.shutdown().await;
        }
    })
    .await;
    let (run, report) =
        run_checks(&url, "delivery.status-200,delivery.concurrent-burst", &[]).await;
    assert_eq!(
        expect_check(&report, "delivery.status-200")["status"],
        "pass"
    );
    assert_eq!(
        expect_check(&report, "delivery.concurrent-burst")["status"],
        "pass",
        "{}",
        run.all()
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(served.load(Ordering::Relaxed) >= 33);
    assert_bounded(&run, Duration::from_secs(10));
}

#[tokio::test]
async fn invalid_utf8_and_control_characters_are_escaped_everywhere() {
    // ESC sequences (colour, window title, screen clear), BEL, CR, a C1 CSI, invalid
    // UTF-8, and a C1 control in a header value.
    let url = http(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 500 Internal Server Error\r\nX-Evil: a\xc2\x9b2Jb\r\nContent-Length: 43\r\n\r\n\x1b[31mred\x1b]0;pwned\x07\x1b[2J\r\xff\xfe\xc2\x9b1mend\x00\x7f and more",
        )
        .await;
    })
    .await;
    let run = send(&url, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_no_raw_controls("send stdout", &run.stdout);
    assert!(
        run.stdout.contains("\\u{1b}[31mred\\u{1b}]0;pwned\\u{7}"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains('\u{fffd}'), "{}", run.stdout);
    assert!(
        run.stdout.contains("< x-evil: a\\u{9b}2Jb"),
        "{}",
        run.stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<(String, std::path::PathBuf)> = ["json", "junit", "markdown"]
        .iter()
        .map(|f| (f.to_string(), dir.path().join(format!("report.{f}"))))
        .collect();
    let report_args: Vec<String> = paths
        .iter()
        .map(|(f, p)| format!("{f}={}", p.display()))
        .collect();
    let mut extra = vec!["--verbose"];
    for arg in &report_args {
        extra.push("--report");
        extra.push(arg);
    }
    let (run, _) = run_checks(&url, "delivery.status-200", &extra).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_no_raw_controls("run stdout", &run.stdout);
    assert_no_raw_controls("run stderr", &run.stderr);
    assert!(run.stdout.contains("\\u{1b}[31mred"), "{}", run.stdout);
    for (format, path) in &paths {
        let text = std::fs::read_to_string(path).expect("report written as UTF-8");
        assert_no_raw_controls(format, &text);
        if format != "junit" {
            // JUnit carries the message and the status line, not the body.
            assert!(text.contains("u{1b}[31mred"), "{format}: {text}");
        }
    }
    assert_bounded(&run, Duration::from_secs(8));
}

/// No byte that a terminal would act on: C0 controls other than `\n` and `\t`, DEL,
/// and C1 controls.
fn assert_no_raw_controls(what: &str, text: &str) {
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        panic!(
            "{what} holds a raw control character U+{:04X}:\n{text}",
            c as u32
        );
    }
}
