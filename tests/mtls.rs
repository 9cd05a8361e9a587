//! Mutual TLS: `--client-cert` / `--client-key` against a loopback server that demands a
//! client certificate (rustls `WebPkiClientVerifier`, test CAs made by rcgen).

use crate::support::{cli, tls_fixtures};

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use cli::{Run, SECRET, Spotcheck};
use tls_fixtures::*;

/// `spotcheck ARGS…` with the secret in the environment, within 60 s.
async fn spotcheck(args: &[&str]) -> Run {
    Spotcheck::new(args).secret(SECRET).run().await
}

/// Everything a test needs: the server CA, the client certificate files, and the
/// mTLS server.
struct Setup {
    dir: tempfile::TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    key_pem: String,
    url: String,
    server: Server,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Setup {
    async fn new() -> Setup {
        spotcheck::init_crypto();
        let server_ca = TestCa::new("spotcheck server CA");
        let client_ca = TestCa::new("partner client CA");
        let leaf = Leaf::signed(&server_ca, LeafSpec::default());
        let client = Leaf::client_signed(&client_ca, "spotnana-client");
        let (server, requests) = mtls_server(&leaf, &client_ca).await;
        let dir = tempfile::tempdir().unwrap();
        let ca = server_ca.write_pem(dir.path(), "ca.pem");
        let cert = write(dir.path(), "client.pem", &client.chain_pem);
        let key = write(dir.path(), "client.key", &client.key_pem);
        let url = format!("https://127.0.0.1:{}/webhooks", server.addr.port());
        Setup {
            dir,
            ca,
            cert,
            key,
            key_pem: client.key_pem,
            url,
            server,
            requests,
        }
    }

    fn s(path: &Path) -> &str {
        path.to_str().unwrap()
    }

    /// `--endpoint URL --ca-cert CA`: the mTLS server, its certificate trusted.
    fn endpoint(&self) -> [&str; 4] {
        ["--endpoint", &self.url, "--ca-cert", Setup::s(&self.ca)]
    }

    /// `--client-cert CERT --client-key KEY`: the client certificate it accepts.
    fn identity(&self) -> Vec<&str> {
        client(Setup::s(&self.cert), Setup::s(&self.key))
    }

    /// Asserts no line of the private key appears in `text`.
    fn assert_no_key(&self, text: &str) {
        for line in self.key_pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!text.contains(line), "key material printed:\n{text}");
        }
    }
}

/// `--client-cert CERT --client-key KEY`.
fn client<'a>(cert: &'a str, key: &'a str) -> Vec<&'a str> {
    vec!["--client-cert", cert, "--client-key", key]
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_client_certificate_is_delivered() {
    let setup = Setup::new().await;
    let run = spotcheck(
        &[
            &["send", "PNR_V3/BOOKING_CREATED"][..],
            &setup.endpoint(),
            &setup.identity(),
        ]
        .concat(),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("200"), "{}", run.stdout);
    assert_eq!(setup.requests.load(Ordering::SeqCst), 1);
    setup.assert_no_key(&run.all());
    drop(setup.server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_without_client_certificate_fails_clearly() {
    let setup = Setup::new().await;
    let run =
        spotcheck(&[&["send", "PNR_V3/BOOKING_CREATED"][..], &setup.endpoint()].concat()).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_eq!(setup.requests.load(Ordering::SeqCst), 0);
    // The server's certificate_required alert, or (when the request was already on its
    // way) the reset that races it: either way a failed delivery, never a 200.
    let failed = run
        .stdout
        .lines()
        .find(|l| l.starts_with("FAILED: "))
        .unwrap_or_else(|| panic!("{}", run.all()));
    assert!(
        failed.starts_with(
            "FAILED: tls: TLS handshake failed: received fatal alert: CertificateRequired"
        ) || failed.contains("reset"),
        "{failed}"
    );
    if failed.contains("CertificateRequired") {
        assert!(
            failed.ends_with("pass --client-cert and --client-key"),
            "{failed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_probe_presents_the_client_certificate_and_works_without_it() {
    let setup = Setup::new().await;
    let with = spotcheck(
        &[
            &["tls", &setup.url, "--ca-cert", Setup::s(&setup.ca)][..],
            &setup.identity(),
            &["--json"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(with.code, Some(0), "{}", with.all());
    let json: serde_json::Value = serde_json::from_str(&with.stdout).unwrap();
    assert_eq!(
        json["tls"]["versions"][2]["outcome"], "accepted",
        "{}",
        with.stdout
    );
    assert_eq!(
        json["tls"]["versions"][3]["outcome"], "accepted",
        "{}",
        with.stdout
    );
    assert_eq!(json["tls"]["certificate"]["verified"], true);
    // The legacy probes need no client certificate: this server refuses TLS 1.0/1.1 outright.
    assert_eq!(
        json["tls"]["versions"][0]["outcome"], "refused",
        "{}",
        with.stdout
    );
    assert_eq!(
        json["tls"]["versions"][1]["outcome"], "refused",
        "{}",
        with.stdout
    );
    setup.assert_no_key(&with.all());

    // Without the client certificate the probe still runs, verifies the server's
    // certificate over TLS 1.3, and says why TLS 1.2 failed.
    let without = spotcheck(&["tls", &setup.url, "--ca-cert", Setup::s(&setup.ca)]).await;
    assert_eq!(without.code, Some(1), "{}", without.all());
    assert!(
        without.stdout.contains("PASS tls.certificate-valid"),
        "{}",
        without.all()
    );
    // The server's alert and its close race; either way the line ends with the hint.
    let line = without
        .stdout
        .lines()
        .find(|l| l.starts_with("FAIL tls.tls12-supported       TLS 1.2 refused: "))
        .unwrap_or_else(|| panic!("{}", without.all()));
    assert!(
        line.ends_with(
            "; the server asked for a client certificate (mutual TLS): pass --client-cert and --client-key"
        ),
        "{line}"
    );
}

#[tokio::test]
async fn bad_client_certificate_files_are_setup_errors() {
    let setup = Setup::new().await;
    let other = Leaf::client_signed(&TestCa::new("other"), "other");
    let other_key = write(setup.dir.path(), "other.key", &other.key_pem);
    let not_pem = write(setup.dir.path(), "not.pem", "hello");
    let base = [&["send", "PNR_V3/BOOKING_CREATED"][..], &setup.endpoint()].concat();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            client(Setup::s(&setup.cert), Setup::s(&other_key)),
            "the private key does not belong to the certificate",
        ),
        (
            client(Setup::s(&not_pem), Setup::s(&setup.key)),
            "holds no PEM certificate",
        ),
        (
            client(Setup::s(&setup.cert), Setup::s(&not_pem)),
            "holds no PEM private key",
        ),
        (
            client("/nonexistent/c.pem", Setup::s(&setup.key)),
            "cannot read --client-cert /nonexistent/c.pem",
        ),
        (vec!["--client-cert", Setup::s(&setup.cert)], "--client-key"),
    ];
    for (extra, expected) in cases {
        let args = [&base[..], &extra].concat();
        let run = spotcheck(&args).await;
        assert_eq!(run.code, Some(2), "{extra:?}: {}", run.all());
        assert!(run.stderr.contains(expected), "{extra:?}: {}", run.stderr);
        setup.assert_no_key(&run.all());
    }
    assert_eq!(setup.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_presents_the_client_certificate_to_probe_and_deliveries() {
    let setup = Setup::new().await;
    let report = setup.dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let run = spotcheck(
        &[
            &["run"][..],
            &setup.endpoint(),
            &setup.identity(),
            &[
                "--only",
                "tls.tls12-supported,delivery.status-200",
                "--report",
                &report_arg,
                "--color",
                "never",
            ],
        ]
        .concat(),
    )
    .await;
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_default())
            .unwrap_or_else(|_| panic!("{}", run.all()));
    let status = |id: &str| {
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        status("tls.tls12-supported").as_deref(),
        Some("pass"),
        "{}",
        run.all()
    );
    assert_eq!(
        status("delivery.status-200").as_deref(),
        Some("pass"),
        "{}",
        run.all()
    );
    assert!(setup.requests.load(Ordering::SeqCst) >= 1);
    setup.assert_no_key(&run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_presents_the_client_certificate_on_every_connection() {
    let setup = Setup::new().await;
    let report = setup.dir.path().join("load.json");
    let report_arg = format!("json={}", report.display());
    let load = async |with_cert: bool| {
        let mut args = [
            &["load"][..],
            &setup.endpoint(),
            &[
                "-c",
                "2",
                "--requests",
                "20",
                "--quiet",
                "--report",
                &report_arg,
            ],
        ]
        .concat();
        if with_cert {
            args.extend(setup.identity());
        }
        spotcheck(&args).await
    };
    // The server closes after each answer: 20 handshakes, each with the certificate.
    let run = load(true).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        json["status_counts"],
        serde_json::json!({"200": 20}),
        "{json:#}"
    );
    assert_eq!(setup.requests.load(Ordering::SeqCst), 20);
    setup.assert_no_key(&run.all());

    // Without it, the server's alert is a TLS error on every request.
    let run = load(false).await;
    assert_eq!(run.code, Some(1), "{}", run.all());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["errors"], serde_json::json!({"tls": 20}), "{json:#}");
    assert_eq!(setup.requests.load(Ordering::SeqCst), 20);
    drop(setup.server);
}
