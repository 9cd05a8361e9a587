//! `spotcheck load` for capacity sign-off, as a user runs it against raw loopback
//! HTTP/1.1 servers with known behaviour: corrected latency at a fixed rate (an
//! endpoint that stalls now and then), `--find-max` against an endpoint with a known
//! capacity, and the HTML report's charts rendered by headless Chromium.

use crate::support::{chromium, cli};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use cli::{Run, Spotcheck};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// How a test server answers.
#[derive(Clone, Copy)]
enum Behaviour {
    /// `200` at once.
    Steady,
    /// Every `every`-th request stops the whole server for `stall`: that request
    /// and every one arriving meanwhile are answered when the stall ends (a GC
    /// pause, a lock held by a batch job).
    Stall { every: u64, stall: Duration },
    /// At most `per_second` requests a second (a token bucket holding a tenth of
    /// a second's worth); `503` beyond.
    Capacity { per_second: f64 },
}

struct Shared {
    behaviour: Behaviour,
    served: u64,
    stalled_until: Option<Instant>,
    tokens: f64,
    refilled: Instant,
}

/// A raw keep-alive HTTP/1.1 server on 127.0.0.1; aborted on drop.
struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let burst = match behaviour {
            Behaviour::Capacity { per_second } => (per_second / 10.0).max(1.0),
            _ => 0.0,
        };
        let shared = Arc::new(Mutex::new(Shared {
            behaviour,
            served: 0,
            stalled_until: None,
            tokens: burst,
            refilled: Instant::now(),
        }));
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(tcp, shared, burst).await;
                });
            }
        });
        Server { addr, task }
    }

    fn url(&self) -> String {
        format!("http://{}/webhooks", self.addr)
    }
}

/// Reads requests one after another (head, then `content-length` bytes of body)
/// and answers each as the behaviour says.
async fn serve(mut tcp: TcpStream, shared: Arc<Mutex<Shared>>, burst: f64) -> std::io::Result<()> {
    tcp.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = tcp.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let n = tcp.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..head_end + length);

        let (wait, status) = {
            let mut s = shared.lock().unwrap();
            let now = Instant::now();
            s.served += 1;
            match s.behaviour {
                Behaviour::Steady => (None, 200),
                Behaviour::Stall { every, stall } => {
                    if s.served.is_multiple_of(every) {
                        s.stalled_until = Some(now + stall);
                    }
                    (s.stalled_until.filter(|until| *until > now), 200)
                }
                Behaviour::Capacity { per_second } => {
                    let refill = (now - s.refilled).as_secs_f64() * per_second;
                    s.tokens = (s.tokens + refill).min(burst);
                    s.refilled = now;
                    if s.tokens >= 1.0 {
                        s.tokens -= 1.0;
                        (None, 200)
                    } else {
                        (None, 503)
                    }
                }
            }
        };
        if let Some(until) = wait {
            tokio::time::sleep_until(until).await;
        }
        let answer: &[u8] = if status == 200 {
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
        } else {
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
        };
        tcp.write_all(answer).await?;
    }
}

/// Runs `spotcheck load ARGS --quiet --report json=… [--report html=…]` against `url`
/// (within 90 s) and returns the run, the JSON report and the directory.
async fn load(url: &str, args: &[&str], html: bool) -> (Run, Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let mut all: Vec<String> = ["load", "--endpoint", url, "--quiet", "--seed", "3"]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect();
    all.extend(["--report".into(), format!("json={}", json.display())]);
    if html {
        all.extend([
            "--report".into(),
            format!("html={}", dir.path().join("load.html").display()),
        ]);
    }
    let run = Spotcheck::new(&all)
        .secret(SECRET)
        .timeout(Duration::from_secs(90))
        .run()
        .await;
    let report = std::fs::read(&json)
        .map(|b| serde_json::from_slice(&b).expect("report is JSON"))
        .unwrap_or(Value::Null);
    (run, report, dir)
}

fn ms(report: &Value, pointer: &str) -> f64 {
    report
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no {pointer} in {report:#}"))
}

/// The endpoint stops for 1.1 s every 300 requests while loaded at 200 req/s over two
/// connections. The requests scheduled during a stall wait for it (from 1.1 s down to
/// nothing), so about 1.5 % of all requests are charged more than 1 s from their
/// scheduled time: the corrected p99 is over 1 s. Only the two requests in flight
/// when it stalls (0.7 % of the run) took long once sent: the service-time p99 is
/// that of the steady endpoint.
///
/// (A stall of exactly 1 s could not push the p99 to 1 s: the requests it delays wait
/// from 1 s down to 0, and the 1 % slowest of them wait a little less than 1 s.)
#[tokio::test]
async fn a_stalling_endpoint_shows_in_the_corrected_p99_not_in_the_service_time() {
    let server = Server::start(Behaviour::Stall {
        every: 300,
        stall: Duration::from_millis(1100),
    })
    .await;
    let (run, report, _dir) = load(
        &server.url(),
        &["--rate", "200/s", "-z", "5s", "-c", "2"],
        false,
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let corrected = ms(&report, "/latency_ms/p99");
    let service = ms(&report, "/rate/service_time_ms/p99");
    assert!(
        corrected >= 1000.0,
        "corrected p99 {corrected} ms: {}",
        run.stdout
    );
    assert!(service < 300.0, "service p99 {service} ms: {}", run.stdout);
    assert!(
        ms(&report, "/rate/service_time_ms/max") >= 1000.0,
        "the stalled requests themselves"
    );
    assert!(
        report["rate"]["late"].as_u64().unwrap() >= 100,
        "{report:#}"
    );
    assert!(ms(&report, "/rate/late_by_ms/max") >= 500.0, "{report:#}");
    assert!(run.stdout.contains("service (ms)"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("(from each request's scheduled send time)")
    );
}

/// Against a steady endpoint the two measures agree: nothing waits for a stall.
#[tokio::test]
async fn a_steady_endpoint_has_the_same_corrected_and_service_p99() {
    let server = Server::start(Behaviour::Steady).await;
    let (run, report, _dir) = load(
        &server.url(),
        &["--rate", "200/s", "-z", "3s", "-c", "2"],
        false,
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let corrected = ms(&report, "/latency_ms/p99");
    let service = ms(&report, "/rate/service_time_ms/p99");
    assert!(corrected >= service, "{report:#}");
    // Within scheduling noise of a loaded 2-core machine; the stalled endpoint
    // above differs by a whole second.
    assert!(
        corrected - service < 100.0,
        "corrected {corrected} ms, service {service} ms"
    );
    assert!(corrected < 200.0, "{corrected}");
    assert_eq!(report["requests"], report["ok"]);
}

/// An endpoint serving at most 300 requests a second (503 beyond): the search finds
/// a sustainable rate within 20 % of 300, names the step where it broke and why,
/// stays within its bound of 13 one-second steps, and gives the verdict for an
/// expected peak it sustains.
#[tokio::test]
async fn find_max_finds_the_capacity_of_an_endpoint_within_its_time_bound() {
    let server = Server::start(Behaviour::Capacity { per_second: 300.0 }).await;
    let (run, report, _dir) = load(
        &server.url(),
        &[
            "--find-max",
            "--rate",
            "100/s",
            "--step",
            "1s",
            "-c",
            "8",
            "--expect-peak",
            "200/s",
        ],
        false,
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let found = ms(&report, "/sustainable_rps");
    assert!(
        (240.0..=360.0).contains(&found),
        "found {found} req/s: {}",
        run.stdout
    );
    let steps = report["steps"].as_array().unwrap();
    assert!(steps.len() <= 13, "{} steps", steps.len());
    assert!(
        run.elapsed < Duration::from_secs(13 + 15),
        "took {:?}",
        run.elapsed
    );
    let broke = &report["broke_at"];
    assert!(ms(broke, "/rate_rps") > found, "{report:#}");
    assert!(
        broke["broke_because"].as_str().unwrap().contains("503"),
        "{broke:#}"
    );
    assert_eq!(report["peak_sustained"], true);
    assert!(
        run.stdout.contains("verdict       headroom"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("sustainable   {found} req/s")),
        "{}",
        run.stdout
    );
}

/// An expected peak above what the endpoint takes is a "no" (exit 1); an endpoint
/// nobody answers at is "could not run" (exit 2), not a verdict.
#[tokio::test]
async fn find_max_verdicts_and_what_could_not_run() {
    let server = Server::start(Behaviour::Capacity { per_second: 100.0 }).await;
    let (run, report, _dir) = load(
        &server.url(),
        &[
            "--find-max",
            "--rate",
            "50/s",
            "--step",
            "500ms",
            "--max-rate",
            "400/s",
            "--expect-peak",
            "300/s",
        ],
        false,
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_eq!(report["peak_sustained"], false);
    assert!(
        run.stdout.contains("verdict       no headroom"),
        "{}",
        run.stdout
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("http://127.0.0.1:{port}/webhooks");
    let (run, report, _dir) = load(
        &closed,
        &["--find-max", "--step", "300ms", "--expect-peak", "10/s"],
        false,
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert_eq!(report["unreachable"], true);
    assert!(run.stderr.contains("could not run"), "{}", run.all());
}

/// The HTML load report of a fixed-rate run against the stalling endpoint, opened in
/// headless Chromium: three charts drawn as inline SVG (lines over time, bars of the
/// histogram), nothing loaded from anywhere.
#[tokio::test]
async fn the_html_report_shows_its_charts_in_a_browser() {
    let server = Server::start(Behaviour::Stall {
        every: 200,
        stall: Duration::from_millis(300),
    })
    .await;
    let (run, report, dir) = load(
        &server.url(),
        &["--rate", "200/s", "-z", "3s", "-c", "4"],
        true,
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let points = report["timeline"]["points"].as_array().expect("a timeline");
    assert!(points.len() >= 3, "{points:?}");
    let html = std::fs::read_to_string(dir.path().join("load.html")).unwrap();
    let lower = html.to_ascii_lowercase();
    for forbidden in ["<script", "<link", "<img", "url(", "http://", "https://cdn"] {
        // The endpoint's own http:// URL is the one exception, in the title and summary.
        if forbidden == "http://" {
            assert_eq!(
                lower.matches("http://").count(),
                lower.matches(&server.url()).count() + lower.matches("http://www.w3.org").count(),
                "only the endpoint and SVG namespaces"
            );
            continue;
        }
        assert!(!lower.contains(forbidden), "`{forbidden}` in the HTML");
    }
    let Some(dom) = chromium::dom(dir.path(), &dir.path().join("load.html")).await else {
        return;
    };
    for id in [
        "latency-over-time",
        "throughput-over-time",
        "latency-histogram",
    ] {
        let start = dom
            .find(&format!("<figure class=\"chart\" id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no {id} chart in the DOM"));
        let figure = &dom[start..start + dom[start..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg"), "{id}: no SVG");
        if id == "latency-histogram" {
            assert!(figure.matches("<rect").count() >= 5, "{id}: no bars");
        } else {
            // One line per series, each through every interval.
            assert!(figure.matches("<polyline").count() >= 2, "{id}: no lines");
        }
    }
    assert!(dom.contains("<p class=\"verdict conformant\">"));
    assert!(dom.contains("Latency percentiles over time"));
}
