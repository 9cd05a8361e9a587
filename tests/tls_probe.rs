//! The TLS probe and the `tls.*` checks against real loopback servers: rustls servers
//! limited to TLS 1.2 or 1.3, `openssl s_server` accepting or refusing TLS 1.0/1.1,
//! certificates that are fine, expiring, expired, not yet valid, misnamed, self-signed
//! or from an unknown CA, and endpoints that do not answer TLS at all.

use crate::support::{cli, snapshot, tls_fixtures};

use std::time::{Duration, Instant};

use cli::{Run, Spotcheck};
use spotcheck::check::{CheckResult, Status};
use spotcheck::tls_probe::{
    self, Outcome, ProbeOptions, TlsReport, TlsVersion, certificate_blocks_delivery,
};
use tls_fixtures::*;

use Status::{Fail, Pass, Skip, Warn};

const IDS: [&str; 6] = [
    "tls.https-required",
    "tls.tls12-supported",
    "tls.tls13-supported",
    "tls.legacy-refused",
    "tls.certificate-valid",
    "tls.certificate-expiry",
];

async fn probe(url: &str, ca: Option<&TestCa>, timeout: Duration) -> (TlsReport, Vec<CheckResult>) {
    spotcheck::init_crypto();
    let options = ProbeOptions {
        timeout,
        ca_cert_pem: ca.map(|ca| ca.pem.clone().into_bytes()),
        ..ProbeOptions::default()
    };
    let report = spotcheck::cli::tls::probe(url, &options)
        .await
        .expect("probe set-up");
    let checks = tls_probe::checks(&report);
    (report, checks)
}

/// The three strength checks that follow the six (tests/tls_strength.rs covers them).
const STRENGTH_IDS: [&str; 3] = [
    "tls.forward-secrecy",
    "tls.no-weak-ciphers",
    "tls.mozilla-intermediate",
];

/// Asserts the first six statuses in order, showing what a user would see on mismatch.
fn assert_statuses(report: &TlsReport, checks: &[CheckResult], expected: [Status; 6]) {
    let ids: Vec<&str> = checks.iter().map(|c| c.info.id.as_str()).collect();
    assert_eq!(ids[..6], IDS);
    assert_eq!(ids[6..], STRENGTH_IDS);
    let got: Vec<Status> = checks.iter().take(6).map(|c| c.status).collect();
    assert_eq!(
        got,
        expected,
        "\n{}",
        spotcheck::report::tls::render_text(report, checks)
    );
}

/// The text `spotcheck tls` prints, with ports and dates replaced for snapshots.
fn assert_text_snapshot(name: &str, report: &TlsReport, checks: &[CheckResult]) {
    insta::with_settings!({prepend_module_to_snapshot => false, filters => vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[time]"),
    ]}, {
        insta::assert_snapshot!(snapshot::name(module_path!(), name), spotcheck::report::tls::render_text(report, checks));
    });
}

fn message<'a>(checks: &'a [CheckResult], id: &str) -> &'a str {
    &checks.iter().find(|c| c.info.id == id).unwrap().message
}

fn outcome(report: &TlsReport, version: TlsVersion) -> Outcome {
    report.version(version).unwrap().outcome
}

fn outcomes(report: &TlsReport) -> Vec<Outcome> {
    report.versions.iter().map(|v| v.outcome).collect()
}

const T: Duration = Duration::from_secs(10);

/// A timeout the probe must not wait for against a server that answers (or refuses)
/// at once: the test asserts it ended in a third of it, slack for a loaded machine.
const PATIENT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn tls12_only_server_with_valid_ecdsa_certificate() {
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::signed(&ca, LeafSpec::default());
    let server = rustls_server(&leaf, TLS12_ONLY).await;
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_statuses(&report, &checks, [Pass, Pass, Warn, Pass, Pass, Pass]);
    assert_eq!(
        outcomes(&report),
        [
            Outcome::Refused,
            Outcome::Refused,
            Outcome::Accepted,
            Outcome::Refused
        ]
    );
    let tls12 = report.version(TlsVersion::Tls12).unwrap();
    assert_eq!(
        tls12.cipher.as_deref(),
        Some("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
    );
    assert_eq!(
        message(&checks, "tls.tls12-supported"),
        "TLS 1.2 accepted (TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)"
    );
    assert_eq!(
        message(&checks, "tls.tls13-supported"),
        "TLS 1.3 refused: alert 70 (protocol_version)"
    );
    assert_eq!(report.version(TlsVersion::Tls13).unwrap().alert, Some(70));
    // rustls refuses the legacy ClientHellos with an alert too.
    assert!(report.version(TlsVersion::Tls10).unwrap().alert.is_some());

    let cert = report.certificate.as_ref().unwrap();
    assert_eq!(cert.subject, "CN=localhost");
    assert_eq!(cert.issuer, "CN=spotcheck test CA");
    assert_eq!(cert.sans, ["DNS:localhost", "IP:127.0.0.1"]);
    assert_eq!(cert.key, "EC 256-bit");
    assert_eq!(cert.chain_len, 2);
    assert!(cert.verified && cert.name_matches && cert.verify_error.is_none());
    assert_eq!(cert.days_left, 365);
    assert_eq!(cert.seen_with, TlsVersion::Tls12);
    assert!(message(&checks, "tls.certificate-valid").starts_with(
        "verified: CN=localhost issued by `CN=spotcheck test CA` for 127.0.0.1, valid until "
    ));
    assert_eq!(certificate_blocks_delivery(&report), None);
    assert_text_snapshot("tls12_only_valid_ecdsa", &report, &checks);
}

#[tokio::test]
async fn tls13_only_server_with_rsa_certificate_fails_tls12() {
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::signed(
        &ca,
        LeafSpec {
            key: KeyKind::Rsa,
            ..LeafSpec::default()
        },
    );
    let server = rustls_server(&leaf, TLS13_ONLY).await;
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_statuses(&report, &checks, [Pass, Fail, Pass, Pass, Pass, Pass]);
    assert_eq!(
        message(&checks, "tls.tls12-supported"),
        "TLS 1.2 refused: alert 70 (protocol_version)"
    );
    assert_eq!(
        message(&checks, "tls.tls13-supported"),
        "TLS 1.3 accepted (TLS_AES_256_GCM_SHA384)"
    );
    let cert = report.certificate.as_ref().unwrap();
    assert_eq!(cert.key, "RSA 2048-bit");
    assert_eq!(cert.seen_with, TlsVersion::Tls13);
    assert!(cert.verified);
}

#[tokio::test]
async fn certificate_expiring_in_10_days_warns() {
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::signed(
        &ca,
        LeafSpec {
            not_after_days: 10,
            ..LeafSpec::default()
        },
    );
    let server = rustls_server(&leaf, TLS12_AND_13).await;
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Pass, Warn]);
    let cert = report.certificate.as_ref().unwrap();
    assert_eq!(cert.days_left, 10);
    assert_eq!(
        message(&checks, "tls.certificate-expiry"),
        format!(
            "the certificate expires in 10 days ({}); renew it",
            cert.not_after
        )
    );
}

/// The 30-day line of `tls.certificate-expiry`, pinned from both sides with real
/// certificates: 31 days and 30 days plus an hour pass, 30 days less an hour and 29
/// days warn. (A certificate of exactly 30 days is on the line itself: whether it
/// passes depends on whether the probe runs in the second the certificate was made.)
#[tokio::test]
async fn certificate_expiry_warns_below_30_days_and_not_at_30() {
    const HOUR: i64 = 3600;
    let ca = TestCa::new("spotcheck test CA");
    for (days, seconds, expected, days_left) in [
        (31, 0, Pass, 31),
        (30, HOUR, Pass, 30),
        (30, -HOUR, Warn, 30),
        (29, 0, Warn, 29),
    ] {
        let leaf = Leaf::signed(
            &ca,
            LeafSpec {
                not_after_days: days,
                not_after_seconds: seconds,
                ..LeafSpec::default()
            },
        );
        let server = rustls_server(&leaf, TLS12_AND_13).await;
        let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;
        let cert = report.certificate.as_ref().unwrap();
        let case = format!("{days} days {seconds:+} s");
        assert_eq!(cert.days_left, days_left, "{case}");
        assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Pass, expected]);
        let want = if expected == Pass {
            format!("valid for {days_left} more days (until {})", cert.not_after)
        } else {
            format!(
                "the certificate expires in {days_left} days ({}); renew it",
                cert.not_after
            )
        };
        assert_eq!(message(&checks, "tls.certificate-expiry"), want, "{case}");
    }
}

#[tokio::test]
async fn expired_certificate_fails_and_blocks_delivery() {
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::signed(
        &ca,
        LeafSpec {
            not_before_days: -60,
            not_after_days: -2,
            ..LeafSpec::default()
        },
    );
    let server = rustls_server(&leaf, TLS12_AND_13).await;
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Fail, Warn]);
    let cert = report.certificate.as_ref().unwrap();
    assert!(!cert.verified);
    assert!(cert.name_matches);
    assert_eq!(
        message(&checks, "tls.certificate-valid"),
        format!("the certificate expired on {} (2 days ago)", cert.not_after)
    );
    assert_eq!(
        message(&checks, "tls.certificate-expiry"),
        format!("the certificate expired 2 days ago ({})", cert.not_after)
    );
    assert_text_snapshot("expired_certificate", &report, &checks);
    let block = certificate_blocks_delivery(&report).unwrap();
    assert!(
        block.problem.starts_with("the certificate expired on"),
        "{block:?}"
    );
}

#[tokio::test]
async fn not_yet_valid_certificate_fails() {
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::signed(
        &ca,
        LeafSpec {
            not_before_days: 10,
            not_after_days: 100,
            ..LeafSpec::default()
        },
    );
    let server = rustls_server(&leaf, TLS12_AND_13).await;
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Fail, Pass]);
    let cert = report.certificate.as_ref().unwrap();
    assert_eq!(
        message(&checks, "tls.certificate-valid"),
        format!(
            "the certificate is not valid yet: its validity starts {}",
            cert.not_before
        )
    );
}

#[tokio::test]
async fn certificate_for_another_name_fails() {
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::signed(
        &ca,
        LeafSpec {
            names: &["other.example", "10.9.8.7"],
            ..LeafSpec::default()
        },
    );
    let server = rustls_server(&leaf, TLS12_AND_13).await;
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Fail, Pass]);
    assert_eq!(
        message(&checks, "tls.certificate-valid"),
        "the certificate is not issued for 127.0.0.1: it names DNS:other.example, IP:10.9.8.7"
    );
    assert!(!report.certificate.as_ref().unwrap().name_matches);
}

#[tokio::test]
async fn self_signed_certificate_fails() {
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::self_signed(LeafSpec {
        key: KeyKind::Rsa,
        ..LeafSpec::default()
    });
    let server = rustls_server(&leaf, TLS12_AND_13).await;
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Fail, Pass]);
    assert_eq!(
        message(&checks, "tls.certificate-valid"),
        "the certificate is self-signed (CN=localhost): nothing in the system roots or the --ca-cert file vouches for it"
    );
    let cert = report.certificate.as_ref().unwrap();
    assert!(cert.self_signed && cert.name_matches && !cert.verified);
    assert_eq!(cert.chain_len, 1);
}

#[tokio::test]
async fn certificate_from_unknown_ca_fails() {
    let trusted = TestCa::new("spotcheck test CA");
    let unknown = TestCa::new("Unknown CA");
    let leaf = Leaf::signed(&unknown, LeafSpec::default());
    let server = rustls_server(&leaf, TLS12_AND_13).await;

    let (report, checks) = probe(&server.https_url(), Some(&trusted), T).await;
    assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Fail, Pass]);
    assert_eq!(
        message(&checks, "tls.certificate-valid"),
        "the certificate is issued by `CN=Unknown CA`, which does not chain to a CA in the system roots or the --ca-cert file"
    );

    // Without --ca-cert, the message says how to trust a private CA.
    let (report, checks) = probe(&server.https_url(), None, T).await;
    assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Fail, Pass]);
    assert_eq!(
        message(&checks, "tls.certificate-valid"),
        "the certificate is issued by `CN=Unknown CA`, which does not chain to a CA in the system roots (pass a private CA with --ca-cert)"
    );
    assert!(certificate_blocks_delivery(&report).is_some());
}

#[tokio::test]
async fn openssl_server_accepting_tls10_and_tls11_warns_legacy() {
    let ca = TestCa::new("spotcheck test CA");
    for key in [KeyKind::Rsa, KeyKind::Ecdsa] {
        let leaf = Leaf::signed(
            &ca,
            LeafSpec {
                key,
                ..LeafSpec::default()
            },
        );
        let Some(server) = OpensslServer::start(&leaf, &["-cipher", "DEFAULT@SECLEVEL=0"]).await
        else {
            return;
        };
        let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

        assert_statuses(&report, &checks, [Pass, Pass, Pass, Warn, Pass, Pass]);
        assert_eq!(outcomes(&report), [Outcome::Accepted; 4], "{key:?}");
        let expected_cipher = match key {
            KeyKind::Rsa => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            KeyKind::Ecdsa => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        };
        assert_eq!(
            message(&checks, "tls.legacy-refused"),
            format!("TLS 1.0 accepted ({expected_cipher}); TLS 1.1 accepted ({expected_cipher})")
        );
    }
}

#[tokio::test]
async fn openssl_server_limited_to_tls10_is_seen_as_accepting_it() {
    // Only TLS 1.0, at security level 0: the probe must itself run at level 0 to see it.
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::signed(
        &ca,
        LeafSpec {
            key: KeyKind::Rsa,
            ..LeafSpec::default()
        },
    );
    let Some(server) =
        OpensslServer::start(&leaf, &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]).await
    else {
        return;
    };
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_eq!(outcome(&report, TlsVersion::Tls10), Outcome::Accepted);
    assert_eq!(outcome(&report, TlsVersion::Tls11), Outcome::Refused);
    assert_eq!(outcome(&report, TlsVersion::Tls12), Outcome::Refused);
    assert_eq!(outcome(&report, TlsVersion::Tls13), Outcome::Refused);
    // No TLS 1.2/1.3 handshake: no certificate to judge.
    assert_statuses(&report, &checks, [Pass, Fail, Warn, Warn, Fail, Skip]);
    assert!(
        message(&checks, "tls.certificate-valid").starts_with("no certificate seen: "),
        "{}",
        message(&checks, "tls.certificate-valid")
    );
}

#[tokio::test]
async fn openssl_server_refusing_legacy_versions_passes() {
    let ca = TestCa::new("spotcheck test CA");
    let leaf = Leaf::signed(
        &ca,
        LeafSpec {
            key: KeyKind::Rsa,
            ..LeafSpec::default()
        },
    );
    let Some(server) = OpensslServer::start(
        &leaf,
        &["-no_tls1", "-no_tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
    )
    .await
    else {
        return;
    };
    let (report, checks) = probe(&server.https_url(), Some(&ca), T).await;

    assert_statuses(&report, &checks, [Pass, Pass, Pass, Pass, Pass, Pass]);
    assert_eq!(
        message(&checks, "tls.legacy-refused"),
        "TLS 1.0 refused: alert 70 (protocol_version); TLS 1.1 refused: alert 70 (protocol_version)"
    );
    assert_eq!(
        message(&checks, "tls.tls12-supported"),
        "TLS 1.2 accepted (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)"
    );
}

#[tokio::test]
async fn plain_http_endpoint_fails_https_required() {
    let server = plain_http_server().await;
    let (report, checks) = probe(&format!("http://{}/webhooks", server.addr), None, T).await;

    assert_statuses(&report, &checks, [Fail, Skip, Skip, Skip, Skip, Skip]);
    assert_eq!(
        message(&checks, "tls.https-required"),
        "the endpoint is plain http://; Spotnana delivers only over HTTPS"
    );
    assert_eq!(
        message(&checks, "tls.certificate-valid"),
        "endpoint is plain HTTP"
    );
    assert_eq!(outcomes(&report), [Outcome::NotTested; 4]);
    assert!(report.certificate.is_none());
    assert_eq!(certificate_blocks_delivery(&report), None);
    assert_text_snapshot("plain_http", &report, &checks);
}

#[tokio::test]
async fn https_url_on_a_plain_http_server_says_it_is_not_tls() {
    let server = plain_http_server().await;
    let started = Instant::now();
    let (report, checks) = probe(&server.https_url(), None, PATIENT).await;

    assert!(
        started.elapsed() < PATIENT / 3,
        "{:?}: it waited for the timeout",
        started.elapsed()
    );
    assert_statuses(&report, &checks, [Pass, Fail, Warn, Skip, Fail, Skip]);
    assert_eq!(outcomes(&report), [Outcome::Error; 4]);
    assert_eq!(
        message(&checks, "tls.tls12-supported"),
        "TLS 1.2: the server does not speak TLS here; it answered `HTTP/1.1 400 Bad Request\\r\\nContent-Length…`"
    );
}

#[tokio::test]
async fn silent_server_ends_within_the_timeout() {
    let server = silent_server().await;
    let timeout = Duration::from_secs(5);
    let started = Instant::now();
    let (report, checks) = probe(&server.https_url(), None, timeout).await;
    let elapsed = started.elapsed();

    // The four versions are tried at once: one timeout in all, not four in a row
    // (the slack is for a loaded machine).
    assert!(elapsed >= timeout && elapsed < 2 * timeout, "{elapsed:?}");
    assert_statuses(&report, &checks, [Pass, Fail, Warn, Skip, Fail, Skip]);
    assert_eq!(outcomes(&report), [Outcome::Error; 4]);
    for version in &report.versions {
        assert_eq!(
            version.detail, "the server accepted the TCP connection but sent nothing within 5s",
            "{}",
            version.version
        );
    }
}

#[tokio::test]
async fn server_closing_at_once_is_a_refusal_not_unreachable() {
    let server = closing_server().await;
    let started = Instant::now();
    let (report, checks) = probe(&server.https_url(), None, PATIENT).await;

    assert!(
        started.elapsed() < PATIENT / 3,
        "{:?}: it waited for the timeout",
        started.elapsed()
    );
    assert_statuses(&report, &checks, [Pass, Fail, Warn, Skip, Fail, Skip]);
    assert_eq!(outcomes(&report), [Outcome::Refused; 4]);
    // Closing a socket with our unread ClientHello in it makes the kernel send a reset;
    // when the close wins the race it is a plain close. Both are refusals.
    for version in &report.versions {
        assert!(
            [
                "the server closed the connection without answering",
                "the server reset the connection without answering"
            ]
            .contains(&version.detail.as_str()),
            "{}: {}",
            version.version,
            version.detail
        );
    }
    assert!(
        message(&checks, "tls.tls12-supported").starts_with("TLS 1.2 refused: the server "),
        "{}",
        message(&checks, "tls.tls12-supported")
    );
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = closed_port();
    let started = Instant::now();
    let (report, checks) = probe(&format!("https://127.0.0.1:{port}/"), None, PATIENT).await;

    assert!(
        started.elapsed() < PATIENT / 3,
        "{:?}: it waited for the timeout",
        started.elapsed()
    );
    assert_statuses(&report, &checks, [Pass, Fail, Warn, Skip, Fail, Skip]);
    assert_eq!(outcomes(&report), [Outcome::Unreachable; 4]);
    assert_eq!(
        message(&checks, "tls.tls12-supported"),
        format!("TLS 1.2: could not connect to 127.0.0.1:{port}: connection refused")
    );
}

#[tokio::test]
async fn bad_urls_and_ca_files_are_setup_errors() {
    spotcheck::init_crypto();
    let options = ProbeOptions::default();
    for (url, expected) in [
        ("not a url", "`not a url` is not a valid URL"),
        ("ftp://127.0.0.1/", "`ftp://127.0.0.1/` has scheme `ftp`"),
    ] {
        let err = spotcheck::cli::tls::probe(url, &options).await.unwrap_err();
        assert!(err.message.starts_with(expected), "{}", err.message);
    }
    let options = ProbeOptions {
        ca_cert_pem: Some(b"not a certificate".to_vec()),
        ..ProbeOptions::default()
    };
    let err = spotcheck::cli::tls::probe("https://127.0.0.1:1/", &options)
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "the --ca-cert file holds no certificate (no `-----BEGIN CERTIFICATE-----` block)"
    );
}

/// `spotcheck ARGS…` within 30 s; its output must be UTF-8.
async fn run_binary(args: &[&str]) -> Run {
    Spotcheck::new(args)
        .strict_utf8()
        .timeout(Duration::from_secs(30))
        .run()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spotcheck_tls_command_prints_json_and_sets_the_exit_code() {
    spotcheck::init_crypto();
    let ca = TestCa::new("spotcheck test CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_path = ca.write_pem(dir.path(), "ca.pem");
    let ca_arg = ca_path.to_str().unwrap();
    let leaf = Leaf::signed(&ca, LeafSpec::default());
    let server = rustls_server(&leaf, TLS12_AND_13).await;
    let url = format!("https://127.0.0.1:{}", server.addr.port());

    let Run {
        code,
        stdout,
        stderr,
        ..
    } = run_binary(&["tls", &url, "--ca-cert", ca_arg, "--json"]).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["conformant"], true);
    assert_eq!(json["tls"]["scheme"], "https");
    assert_eq!(json["tls"]["port"], server.addr.port());
    assert_eq!(json["tls"]["versions"][2]["version"], "TLS 1.2");
    assert_eq!(json["tls"]["versions"][2]["outcome"], "accepted");
    assert_eq!(
        json["tls"]["versions"][3]["cipher"],
        "TLS_AES_256_GCM_SHA384"
    );
    assert_eq!(json["tls"]["versions"][0]["outcome"], "refused");
    assert_eq!(json["tls"]["certificate"]["verified"], true);
    assert_eq!(json["tls"]["certificate"]["subject"], "CN=localhost");
    let checks: Vec<(String, String)> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = IDS
        .iter()
        .chain(&STRENGTH_IDS)
        .map(|id| (id.to_string(), "pass".to_owned()))
        .collect();
    assert_eq!(checks, expected);
    assert_eq!(json["checks"][4]["level"], "required");
    assert!(
        json["checks"][4]["fix"]
            .as_str()
            .unwrap()
            .contains("--ca-cert")
    );

    // Without the CA: the certificate does not verify, a required check fails → exit 1.
    let Run { code, stdout, .. } = run_binary(&["tls", &url, "--timeout", "5s"]).await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("FAIL tls.certificate-valid     the certificate is issued by `CN=spotcheck test CA`, which does not chain"), "{stdout}");
    assert!(
        stdout.contains("  TLS 1.3  accepted     TLS_AES_256_GCM_SHA384"),
        "{stdout}"
    );

    // A CA file that does not exist, and a URL that is not one: exit 2.
    let Run { code, stderr, .. } =
        run_binary(&["tls", &url, "--ca-cert", "/nonexistent/ca.pem"]).await;
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("cannot read --ca-cert /nonexistent/ca.pem"),
        "{stderr}"
    );
    let Run { code, stderr, .. } = run_binary(&["tls", "ftp://127.0.0.1/"]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("has scheme `ftp`"), "{stderr}");
}
