//! Reaching the endpoint the way the partner's network requires: through an HTTP
//! CONNECT proxy named by the proxy variables (the loopback proxy of
//! `support/proxy.rs` records every tunnel), not when `NO_PROXY` names the host, a
//! refusing proxy as a set-up error, and `--resolve` / `--connect-to` reaching a
//! server under the endpoint's own name. Loopback (127.0.0.1) only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::support::cli::{Run, SECRET, Spotcheck};
use crate::support::proxy::ConnectProxy;
use crate::support::tls_fixtures::{Leaf, LeafSpec, TestCa, https_partner};
use crate::support::{self, TestReceiver};

/// `spotcheck ARGS…` with the test secret and `env` set.
async fn spotcheck(args: &[&str], env: &[(&str, &str)]) -> Run {
    env.iter()
        .fold(Spotcheck::new(args), |command, (name, value)| {
            command.env(name, value)
        })
        .secret(SECRET)
        .no_color()
        .timeout(Duration::from_secs(90))
        .run()
        .await
}

fn ca_arg(receiver: &TestReceiver) -> String {
    receiver.ca.display().to_string()
}

/// The distinct targets the proxy was asked to tunnel to.
fn targets(proxy: &ConnectProxy) -> Vec<String> {
    let mut targets: Vec<String> = proxy.tunnels().into_iter().map(|t| t.target).collect();
    targets.sort();
    targets.dedup();
    targets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_goes_through_the_proxy_the_variables_name_and_not_when_no_proxy_matches() {
    let receiver = support::start(vec![]).await;
    let url = receiver.running.webhook_url();
    let authority = url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let ca = ca_arg(&receiver);
    let proxy = ConnectProxy::tunnelling().await;
    let args = [
        "send",
        "PNR_V3/BOOKING_TICKETED",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
    ];

    // Upper-case and lower-case forms alike.
    for name in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"] {
        let before = proxy.carrying();
        let run = spotcheck(&args, &[(name, &proxy.url())]).await;
        assert_eq!(run.code, Some(0), "{name}: {}", run.all());
        assert!(
            proxy.carrying() > before,
            "{name}: the delivery went through the proxy"
        );
        assert_eq!(targets(&proxy), vec![authority.clone()]);
    }
    // HTTP_PROXY is for http:// endpoints only.
    let before = proxy.tunnels().len();
    let carried = proxy.carrying();
    let run = spotcheck(&args, &[("HTTP_PROXY", &proxy.url())]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(
        proxy.tunnels().len(),
        before,
        "HTTP_PROXY is not for https://"
    );

    // NO_PROXY naming the host (or `*`), or --no-proxy: direct, the proxy sees nothing.
    for (no_proxy, flag) in [
        ("127.0.0.1", None),
        ("127.0.0.0/8", None),
        ("localhost,*", None),
        ("", Some("--no-proxy")),
    ] {
        let mut args = args.to_vec();
        args.extend(flag);
        let run = spotcheck(
            &args,
            &[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", no_proxy)],
        )
        .await;
        assert_eq!(run.code, Some(0), "{no_proxy} {flag:?}: {}", run.all());
        assert_eq!(
            proxy.tunnels().len(),
            before,
            "NO_PROXY={no_proxy} {flag:?}"
        );
    }

    // --proxy replaces the variables.
    let run = spotcheck(
        &[&args[..], &["--proxy", &proxy.url()]].concat(),
        &[("HTTPS_PROXY", "http://127.0.0.1:9")],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(proxy.carrying() > carried);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_goes_through_the_proxy_and_its_reports_say_so() {
    let receiver = support::start(vec![]).await;
    let url = receiver.running.webhook_url();
    let ca = ca_arg(&receiver);
    let proxy = ConnectProxy::tunnelling().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let markdown = dir.path().join("report.md");
    let run = spotcheck(
        &[
            "run",
            "--endpoint",
            &url,
            "--ca-cert",
            &ca,
            "--only",
            "tls.*,delivery.status-200",
            "--verbose",
            "--report",
            &format!("json={}", json.display()),
            "--report",
            &format!("markdown={}", markdown.display()),
        ],
        &[("HTTPS_PROXY", &proxy.url())],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    // The TLS probe's handshakes and the deliveries all went through the tunnel.
    assert!(proxy.carrying() >= 5, "{:?}", proxy.tunnels());
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["route"]["via"], "proxy");
    assert_eq!(report["route"]["proxy"], proxy.url());
    assert_eq!(report["route"]["address"], proxy.addr.to_string());
    assert!(
        run.stdout
            .contains(&format!("route: through the proxy {}", proxy.url())),
        "{}",
        run.stdout
    );
    let markdown = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        markdown.contains(&format!("| Route | through the proxy {}", proxy.url())),
        "{markdown}"
    );
    // The deliveries alone (no TLS probe) go through it too.
    let before = proxy.carrying();
    let run = spotcheck(
        &[
            "run",
            "--endpoint",
            &url,
            "--ca-cert",
            &ca,
            "--only",
            "delivery.status-200",
        ],
        &[("HTTPS_PROXY", &proxy.url())],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(proxy.carrying() > before, "{:?}", proxy.tunnels());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_opens_its_connections_through_the_proxy() {
    let receiver = support::start(vec![]).await;
    let url = receiver.running.webhook_url();
    let ca = ca_arg(&receiver);
    let proxy = ConnectProxy::tunnelling().await;
    let args = [
        "load",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--requests",
        "20",
        "--concurrency",
        "2",
        "--quiet",
    ];
    let run = spotcheck(&args, &[("https_proxy", &proxy.url())]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(proxy.carrying() >= 2, "{:?}", proxy.tunnels());
    let before = proxy.tunnels().len();
    let run = spotcheck(
        &args,
        &[("https_proxy", &proxy.url()), ("no_proxy", "127.0.0.1")],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(proxy.tunnels().len(), before);
}

/// `(id, status)` of every check, and every version's outcome, of `tls --json`.
fn verdicts(run: &Run) -> (Vec<(String, String)>, Vec<String>) {
    let json: Value = serde_json::from_str(&run.stdout).expect("tls --json prints JSON");
    let checks = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].to_string(), c["status"].to_string()))
        .collect();
    let versions = json["tls"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["outcome"].to_string())
        .collect();
    (checks, versions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_probe_gives_the_same_verdicts_through_the_proxy_as_direct() {
    let receiver = support::start(vec![]).await;
    let url = receiver.running.webhook_url();
    let ca = ca_arg(&receiver);
    let proxy = ConnectProxy::tunnelling().await;
    let args = ["tls", &url, "--ca-cert", &ca, "--json"];
    let direct = spotcheck(&args, &[]).await;
    assert_eq!(direct.code, Some(0), "{}", direct.all());
    assert!(proxy.tunnels().is_empty());
    let proxied = spotcheck(&args, &[("HTTPS_PROXY", &proxy.url())]).await;
    assert_eq!(proxied.code, Some(0), "{}", proxied.all());
    // The legacy ClientHellos, the rustls handshakes and the cipher scan all tunnelled.
    assert!(proxy.carrying() >= 4, "{:?}", proxy.tunnels());
    assert_eq!(verdicts(&proxied), verdicts(&direct));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_refusing_the_tunnel_is_a_setup_error_naming_it_and_its_status() {
    let receiver = support::start(vec![]).await;
    let url = receiver.running.webhook_url();
    let ca = ca_arg(&receiver);
    let proxy = ConnectProxy::refusing(407).await;
    let password = "pr0xy-s3cret";
    let with_credentials = format!("http://alice:{password}@{}", proxy.addr);
    for args in [
        vec![
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &url,
            "--ca-cert",
            &ca,
        ],
        vec![
            "run",
            "--endpoint",
            &url,
            "--ca-cert",
            &ca,
            "--only",
            "delivery.status-200",
        ],
        vec!["tls", &url, "--ca-cert", &ca],
        vec![
            "load",
            "--endpoint",
            &url,
            "--ca-cert",
            &ca,
            "--requests",
            "1",
        ],
    ] {
        let run = spotcheck(&args, &[("HTTPS_PROXY", &with_credentials)]).await;
        assert_eq!(run.code, Some(2), "{}: {}", args[0], run.all());
        let wanted = format!("the proxy {} refused the tunnel", proxy.url());
        assert!(run.stderr.contains(&wanted), "{}: {}", args[0], run.stderr);
        assert!(run.stderr.contains("407"), "{}", run.stderr);
        assert!(!run.all().contains(password), "{}", run.all());
    }
    // The credentials went to the proxy as Proxy-Authorization basic.
    let tunnel = &proxy.tunnels()[0];
    assert_eq!(
        tunnel.authorization.as_deref(),
        Some("Basic YWxpY2U6cHIweHktczNjcmV0")
    );
    // On --proxy, credentials are refused before anything is sent.
    let before = proxy.tunnels().len();
    let run = spotcheck(
        &[
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &url,
            "--proxy",
            &with_credentials,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(run.stderr.contains("carries credentials"), "{}", run.stderr);
    assert!(!run.all().contains(password), "{}", run.all());
    assert_eq!(proxy.tunnels().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_and_connect_to_reach_a_server_under_the_endpoints_name() {
    spotcheck::init_crypto();
    let ca = TestCa::new("spotcheck route CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_path = ca.write_pem(dir.path(), "ca.pem");
    let ca_arg = ca_path.display().to_string();
    let leaf = Leaf::signed(
        &ca,
        LeafSpec {
            names: &["partner.test"],
            ..LeafSpec::default()
        },
    );
    let hosts = Arc::new(Mutex::new(Vec::new()));
    let seen = hosts.clone();
    let server = https_partner(&leaf, move |request| {
        seen.lock()
            .unwrap()
            .push(request.header("host").unwrap_or_default().to_owned());
        200
    })
    .await;
    let port = server.addr.port();

    // --resolve: the name on the server's own port, resolved to loopback.
    let endpoint = format!("https://partner.test:{port}/webhooks");
    let resolve = format!("partner.test:{port}:127.0.0.1");
    let run = spotcheck(
        &[
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            &endpoint,
            "--ca-cert",
            &ca_arg,
            "--resolve",
            &resolve,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(
        hosts.lock().unwrap().last().unwrap(),
        &format!("partner.test:{port}")
    );

    // --connect-to: the endpoint's port 8443 is served on another loopback port.
    let connect_to = format!("partner.test:8443:127.0.0.1:{port}");
    let run = spotcheck(
        &[
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            "https://partner.test:8443/webhooks",
            "--ca-cert",
            &ca_arg,
            "--connect-to",
            &connect_to,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(hosts.lock().unwrap().last().unwrap(), "partner.test:8443");

    // The TLS probe: the certificate verifies for the endpoint's name.
    let run = spotcheck(
        &[
            "tls",
            &endpoint,
            "--ca-cert",
            &ca_arg,
            "--resolve",
            &resolve,
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["tls"]["certificate"]["verified"], true,
        "{}",
        run.stdout
    );
    assert_eq!(json["tls"]["host"], "partner.test");

    // The load client, and the repro command of a run, repeat the route.
    let run = spotcheck(
        &[
            "load",
            "--endpoint",
            &endpoint,
            "--ca-cert",
            &ca_arg,
            "--resolve",
            &resolve,
            "--requests",
            "5",
            "--quiet",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = dir.path().join("run.json");
    let run = spotcheck(
        &[
            "run",
            "--endpoint",
            &endpoint,
            "--ca-cert",
            &ca_arg,
            "--resolve",
            &resolve,
            "--only",
            "delivery.status-200,signature.missing-rejected",
            "--report",
            &format!("json={}", report.display()),
        ],
        &[],
    )
    .await;
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["route"]["via"], "direct", "{}", run.all());
    assert_eq!(json["route"]["address"], format!("127.0.0.1:{port}"));
    let repro = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c["repro"].as_str())
        .expect("the partner answers 200 to everything: a check fails");
    assert!(repro.contains(&format!("--resolve {resolve}")), "{repro}");
}
