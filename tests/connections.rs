//! Connections like a careful sender, against servers built like real partner stacks:
//! a server that answers `500` and then closes the connection without
//! `Connection: close` (uvicorn on an unhandled exception), and a thread-per-connection
//! server whose few workers block on a new connection until its request arrives
//! (gunicorn's thread workers, the JDK's `HttpsServer`). Both are blocking TLS proxies
//! with their own test-CA certificate in front of the in-process reference receiver, so
//! a full `run` is judged against a correct endpoint; the state URL goes straight to
//! the receiver.

use crate::support::{self, cli, tls_fixtures};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConnection, ServerConnection, StreamOwned};
use serde_json::Value;
use tls_fixtures::{Leaf, LeafSpec, TestCa};

/// How the proxy behaves.
#[derive(Clone, Copy)]
struct Behaviour {
    /// Worker threads; each serves one connection at a time, blocking on it until its
    /// next request arrives (an idle kept-alive connection waits for a worker only
    /// once the client sends on it, as gunicorn's poller hands it back).
    workers: usize,
    /// Answer every Nth request `500` (after forwarding it) and close the connection
    /// without `Connection: close`.
    fail_every: Option<usize>,
}

/// What the proxy saw.
#[derive(Default)]
struct Seen {
    /// TCP connections accepted.
    accepted: AtomicUsize,
    /// Connections whose TLS handshake completed and that then ended without a request.
    handshake_only: AtomicUsize,
    /// Requests answered (forwarded or `500`).
    requests: AtomicUsize,
    /// `500` answers sent.
    failures: AtomicUsize,
}

type Tls = StreamOwned<ServerConnection, TcpStream>;

enum Job {
    New(TcpStream),
    Ready(Box<Tls>, usize),
}

struct Proxy {
    addr: SocketAddr,
    seen: Arc<Seen>,
}

/// Starts the proxy on 127.0.0.1, presenting `leaf`, forwarding to `upstream`
/// (trusting `upstream_ca`). Its threads end with the test process.
fn start_proxy(leaf: &Leaf, upstream: SocketAddr, upstream_ca: &str, how: Behaviour) -> Proxy {
    let server = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                leaf.chain.clone(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der.clone())),
            )
            .unwrap(),
    );
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut upstream_ca.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let client = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for _ in 0..how.workers {
        let queue = queue.clone();
        let jobs = jobs.clone();
        let (server, client, seen) = (server.clone(), client.clone(), seen.clone());
        std::thread::spawn(move || {
            loop {
                let job = match queue.lock().unwrap().recv() {
                    Ok(job) => job,
                    Err(_) => return,
                };
                let (mut tls, served) = match job {
                    Job::New(tcp) => {
                        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                        let conn = ServerConnection::new(server.clone()).unwrap();
                        (Box::new(StreamOwned::new(conn, tcp)), 0)
                    }
                    Job::Ready(tls, served) => (tls, served),
                };
                let Some(request) = read_request(&mut tls) else {
                    if served == 0 && !tls.conn.is_handshaking() {
                        seen.handshake_only.fetch_add(1, Ordering::SeqCst);
                    }
                    continue;
                };
                let answer = forward(&client, upstream, &request);
                let number = seen.requests.fetch_add(1, Ordering::SeqCst) + 1;
                if how.fail_every.is_some_and(|n| number % n == 0) {
                    seen.failures.fetch_add(1, Ordering::SeqCst);
                    let _ = tls.write_all(
                        b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\n\
                          content-length: 21\r\n\r\nInternal Server Error",
                    );
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                    continue;
                }
                if tls.write_all(&answer).and_then(|()| tls.flush()).is_err() {
                    continue;
                }
                // Back to the poller: the connection waits for a worker only once the
                // client sends again (or closes).
                let jobs = jobs.clone();
                std::thread::spawn(move || {
                    let _ = tls.sock.set_read_timeout(None);
                    let _ = tls.sock.peek(&mut [0u8; 1]);
                    let _ = tls.sock.set_read_timeout(Some(Duration::from_secs(10)));
                    let _ = jobs.send(Job::Ready(tls, served + 1));
                });
            }
        });
    }
    let accepted = seen.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            accepted.accepted.fetch_add(1, Ordering::SeqCst);
            if jobs.send(Job::New(tcp)).is_err() {
                return;
            }
        }
    });
    Proxy { addr, seen }
}

/// One request (head and `Content-Length` body), or `None` when the connection ended.
fn read_request(tls: &mut Tls) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Request::new(&mut headers);
            parsed.parse(&bytes).ok()?;
            let length = parsed
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                .unwrap_or(0usize);
            if bytes.len() >= end + 4 + length {
                bytes.truncate(end + 4 + length);
                return Some(bytes);
            }
        }
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends `request` to the receiver on a new connection (`Connection: close`) and
/// returns its answer re-framed with `Content-Length` and no `Connection` header, so
/// the client's connection to the proxy stays open.
fn forward(client: &Arc<rustls::ClientConfig>, upstream: SocketAddr, request: &[u8]) -> Vec<u8> {
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let mut head = String::new();
    for line in String::from_utf8_lossy(&request[..head_end]).split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.push_str(line);
            head.push_str("\r\n");
        }
    }
    head.push_str("connection: close\r\n\r\n");
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = ClientConnection::new(client.clone(), name).unwrap();
    let mut tls = StreamOwned::new(conn, TcpStream::connect(upstream).unwrap());
    tls.write_all(head.as_bytes()).unwrap();
    tls.write_all(&request[head_end + 4..]).unwrap();
    tls.flush().unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    let body_at = match parsed.parse(&answer) {
        Ok(httparse::Status::Complete(at)) => at,
        _ => panic!("the receiver's answer is not HTTP"),
    };
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        parsed.code.unwrap(),
        parsed.reason.unwrap_or("")
    )
    .into_bytes();
    for header in parsed.headers.iter() {
        let name = header.name.to_ascii_lowercase();
        assert_ne!(
            name, "transfer-encoding",
            "the proxy reads whole bodies only"
        );
        if name != "connection" && name != "content-length" {
            out.extend_from_slice(header.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(header.value);
            out.extend_from_slice(b"\r\n");
        }
    }
    let body = &answer[body_at..];
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// A full run (narrowed by `extra`, if given) against the reference receiver behind a
/// proxy behaving as `how`: the proxy, the run and its JSON report.
async fn full_run(how: Behaviour, extra: &[&str]) -> (Proxy, cli::Run, Value) {
    let receiver = support::start(vec![]).await;
    let ca = TestCa::new("spotcheck proxy test CA");
    let leaf = Leaf::signed(&ca, LeafSpec::default());
    let proxy = start_proxy(
        &leaf,
        receiver.running.addr,
        receiver.running.ca_pem.as_deref().unwrap(),
        how,
    );
    // The proxy's CA and the receiver's (for the state URL), in one bundle.
    let bundle = receiver.dir.path().join("both.pem");
    std::fs::write(
        &bundle,
        format!("{}{}", ca.pem, receiver.running.ca_pem.as_deref().unwrap()),
    )
    .unwrap();
    let report = receiver.dir.path().join("report.json");
    let mut args = vec![
        "run".to_owned(),
        "--endpoint".to_owned(),
        format!("https://{}/webhooks", proxy.addr),
        "--ca-cert".to_owned(),
        bundle.display().to_string(),
        "--state-url".to_owned(),
        receiver.running.state_url(),
        "--seed".to_owned(),
        "42".to_owned(),
        "--report".to_owned(),
        format!("json={}", report.display()),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let run = cli::Spotcheck::new(args)
        .secret(support::SECRET)
        .no_color()
        .timeout(Duration::from_secs(240))
        .run()
        .await;
    let json = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).expect("report is JSON"))
        .unwrap_or(Value::Null);
    receiver.running.shutdown().await;
    (proxy, run, json)
}

fn checks(report: &Value) -> &Vec<Value> {
    report["checks"]
        .as_array()
        .expect("the report lists checks")
}

fn exchanges(check: &Value) -> impl Iterator<Item = &Value> {
    check["exchanges"].as_array().into_iter().flatten()
}

fn figures(proxy: &Proxy, report: &Value) -> String {
    let errors: Vec<String> = checks(report)
        .iter()
        .flat_map(|c| exchanges(c).map(move |e| (c, e)))
        .filter(|(_, e)| !e["error"].is_null() || !e["note"].is_null())
        .map(|(c, e)| format!("{}: {} {}", c["id"], e["error"], e["note"]))
        .collect();
    format!(
        "proxy: {} connections accepted, {} handshaken without a request, {} requests; \
         report connections: {}; exchanges with an error or a note: {errors:?}",
        proxy.seen.accepted.load(Ordering::SeqCst),
        proxy.seen.handshake_only.load(Ordering::SeqCst),
        proxy.seen.requests.load(Ordering::SeqCst),
        report["connections"],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_closing_after_a_500_fails_only_the_checks_its_500s_fail() {
    let (proxy, run, report) = full_run(
        Behaviour {
            workers: 64,
            fail_every: Some(9),
        },
        &[],
    )
    .await;
    eprintln!("{}", figures(&proxy, &report));
    assert_ne!(run.code, Some(2), "{}", run.all());
    assert!(
        proxy.seen.failures.load(Ordering::SeqCst) > 0,
        "no 500 was sent"
    );
    for check in checks(&report) {
        if !matches!(check["status"].as_str(), Some("fail" | "warn")) {
            continue;
        }
        let answered_500 = exchanges(check).any(|e| e["response"]["status"] == 500);
        assert!(
            answered_500,
            "{} failed without a 500 of its own: {}\n{}",
            check["id"],
            check["message"],
            run.all()
        );
    }
    let connections = &report["connections"];
    assert!(
        connections["closed_without_notice"].as_u64().unwrap() > 0,
        "{connections}"
    );
    assert!(
        connections["closed_without_notice_after"]
            .as_array()
            .unwrap()
            .contains(&Value::from(500)),
        "{connections}"
    );
    assert!(
        run.stdout.contains(
            "closed kept-alive connections after answering 500 without `Connection: close`"
        ),
        "{}",
        run.all()
    );
}

/// The most deliveries `jobs` built-in checks running at once can have in flight: the
/// sum of the `jobs` largest per-check concurrencies (OAuth aside: this run has no
/// token endpoint).
fn most_concurrent_deliveries(jobs: usize) -> u64 {
    let mut per_check = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("scenarios")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("oauth") {
                    dirs.push(path);
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let most = text
                .lines()
                .filter_map(|line| line.trim().strip_prefix("concurrency = "))
                .filter_map(|n| n.trim().parse::<u64>().ok())
                .max()
                .unwrap_or(1);
            per_check.push(most);
        }
    }
    per_check.sort_unstable_by(|a, b| b.cmp(a));
    per_check.iter().take(jobs).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thread_per_connection_server_with_four_workers_passes_without_a_timeout() {
    let four_workers = Behaviour {
        workers: 4,
        fail_every: None,
    };
    // The TLS probe alone: its handshakes carry no request by design.
    let (probe, _, _) = full_run(four_workers, &["--only", "tls.*"]).await;
    let probe_handshakes = probe.seen.handshake_only.load(Ordering::SeqCst);
    // A per-attempt timeout well below the workers' 10 s wait for a first request, so
    // a worker held by a connection that carries no request shows as a timeout.
    let (proxy, run, report) = full_run(four_workers, &["--timeout", "5s"]).await;
    let figures = figures(&proxy, &report);
    eprintln!("{figures}; the TLS probe alone: {probe_handshakes} handshakes without a request");
    assert_eq!(run.code, Some(0), "{figures}\n{}", run.all());
    for check in checks(&report) {
        for exchange in exchanges(check) {
            assert_ne!(
                exchange["error"]["class"], "timeout",
                "{} timed out: {}",
                check["id"], exchange["error"]["message"]
            );
        }
    }
    // Every connection the deliveries opened carried a request: beyond the TLS
    // probe's own handshakes, none was handshaken and left unused.
    assert_eq!(
        proxy.seen.handshake_only.load(Ordering::SeqCst),
        probe_handshakes,
        "{figures}"
    );
    let opened = report["connections"]["opened"].as_u64().unwrap();
    // One per delivery in flight: `--jobs` (4) checks at once, each with at most its
    // own concurrency, plus one connection to the state URL (another origin).
    let needed = most_concurrent_deliveries(4) + 1;
    assert!(needed >= 3, "the scenarios have a concurrent check");
    assert!(
        opened <= needed,
        "{opened} connections opened, the checks need {needed} at most; {figures}"
    );
    assert!(report["connections"]["reused"].as_u64().unwrap() > 0);
}
