//! The secret never leaks: every command is run with a known secret, against a
//! conformant and a failing endpoint, with every report format and `--verbose`, and
//! neither the `whsec_…` secret, nor its Base64 body, nor the decoded key in hex
//! (either case) may appear in stdout, stderr, any report, or the receiver's log.
//!
//! The OAuth client secret and bearer tokens are checked the same way in
//! tests/oauth.rs, and the environment of `exec` programs in tests/exec_step.rs.

use crate::support::{self, cli};

use std::path::{Path, PathBuf};

use base64::Engine;
use spotcheck::receiver::{self, ReceiverConfig, TlsSetup};
use spotcheck::signing::Secret;

use cli::{Run, SECRET, Spotcheck};

/// Another valid secret: the failing endpoint verifies with it, so every delivery is refused.
const OTHER: &str = "whsec_c2VjcmV0LWtleS1mb3ItdGhlLWZhaWxpbmctZW5kcG9pbnQ=";

/// Every form in which the secret could leak.
fn forbidden() -> Vec<String> {
    let body = SECRET.strip_prefix("whsec_").unwrap();
    let key = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(key.len() >= 16);
    vec![
        SECRET.to_owned(),
        body.to_owned(),
        // Also a long prefix of the Base64 body (a truncated echo still leaks).
        body[..16].to_owned(),
        hex.clone(),
        hex.to_uppercase(),
        // The key as raw text, if it were ever printed lossily.
        String::from_utf8_lossy(&key).into_owned(),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for needle in forbidden() {
        assert!(
            !text.contains(&needle),
            "{what} leaks the secret (as `{needle}`):\n{text}"
        );
    }
}

/// Runs `spotcheck ARGS` with the secret in the environment, within 60 s; [`Run::all`]
/// is stdout + stderr.
async fn spotcheck(args: &[&str]) -> Run {
    Spotcheck::new(args).secret(SECRET).no_color().run().await
}

async fn start(secret: &str, tls: TlsSetup) -> receiver::RunningReceiver {
    let config = ReceiverConfig {
        secrets: vec![Secret::parse(secret).unwrap()],
        state: true,
        ..support::config()
    };
    support::start_with(config, tls).await
}

/// Report arguments for every file format (markdown also goes to stdout, below).
fn report_args(dir: &Path) -> (Vec<String>, Vec<PathBuf>) {
    let mut args = Vec::new();
    let mut paths = Vec::new();
    for format in ["json", "junit", "markdown", "tap", "html"] {
        let path = dir.join(format!("report.{format}"));
        args.push("--report".to_owned());
        args.push(format!("{format}={}", path.display()));
        paths.push(path);
    }
    (args, paths)
}

#[tokio::test]
async fn run_with_every_report_and_verbose_leaks_nothing() {
    let conformant = start(SECRET, TlsSetup::Generated).await;
    let failing = start(OTHER, TlsSetup::Plain).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, conformant.ca_pem.clone().unwrap()).unwrap();
    let ca = ca.display().to_string();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let secret_file = secret_file.display().to_string();

    let targets = [
        (
            conformant.webhook_url(),
            vec!["--ca-cert", ca.as_str()],
            Some(0),
        ),
        (failing.webhook_url(), vec![], Some(1)),
    ];
    for (i, (url, extra, expected)) in targets.iter().enumerate() {
        let sub = dir.path().join(format!("target{i}"));
        std::fs::create_dir(&sub).unwrap();
        let (reports, paths) = report_args(&sub);
        let mut args: Vec<&str> = vec![
            "run",
            "--endpoint",
            url,
            "--verbose",
            "--export-curl",
            "--seed",
            "5",
            "--color",
            "always",
            "--report",
            "markdown=-",
            "--timeout",
            "5s",
        ];
        args.extend(extra.iter().copied());
        args.extend(reports.iter().map(String::as_str));
        if i == 1 {
            args.extend(["--secret-file", secret_file.as_str()]);
        }
        let out = spotcheck(&args).await;
        assert_clean(&format!("run {url}"), &out.all());
        if i == 0 {
            assert_eq!(out.code, *expected, "{}", out.all());
        } else {
            assert_eq!(out.code, *expected, "{}", out.all());
            assert!(out.all().contains("FAIL"), "{}", out.all());
            // The failures were exported as curl commands and carry repro commands.
            assert!(out.all().contains("curl --silent"), "{}", out.all());
            assert!(out.all().contains("repro: spotcheck run"), "{}", out.all());
        }
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("report written");
            assert!(text.len() > 200, "{} is suspiciously short", path.display());
            assert_clean(&path.display().to_string(), &text);
        }
    }
    // The demo: no endpoint, the reference receiver in-process with this secret.
    let out = spotcheck(&["run", "--verbose", "--only", "signature.*", "--seed", "5"]).await;
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_clean("run (reference receiver)", &out.all());
    conformant.shutdown().await;
    failing.shutdown().await;
}

/// The webhook id `send` printed (`> x-spotnana-webhook-id: …`).
fn webhook_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("> x-spotnana-webhook-id: "))
        .unwrap_or_else(|| panic!("no webhook id line in {stdout}"))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn send_sign_verify_tls_and_scenarios_leak_nothing() {
    let conformant = start(SECRET, TlsSetup::Plain).await;
    let failing = start(OTHER, TlsSetup::Plain).await;
    let dir = tempfile::tempdir().unwrap();

    for (url, code) in [(conformant.webhook_url(), 0), (failing.webhook_url(), 1)] {
        let out = spotcheck(&["send", "PNR_V3/BOOKING_TICKETED", "--endpoint", &url]).await;
        assert_eq!(out.code, Some(code), "{}", out.all());
        assert_clean(&format!("send {url}"), &out.all());
    }
    // Unreachable and silent endpoints, and the built-in receiver.
    let out = spotcheck(&[
        "send",
        "PNR_V3/BOOKING_TICKETED",
        "--endpoint",
        "http://127.0.0.1:9/h",
    ])
    .await;
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert_clean("send (refused)", &out.all());
    // A traveler event (another payload than the PNR above), to the conformant
    // endpoint: it really went, the receiver accepted its webhook id.
    let out = spotcheck(&[
        "send",
        "TRAVELER_V2/UPDATE",
        "--endpoint",
        &conformant.webhook_url(),
    ])
    .await;
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_clean("send TRAVELER_V2/UPDATE", &out.all());
    let id = webhook_id(&out.stdout);
    assert_eq!(conformant.webhook(&id).deliveries, 1, "{}", out.all());
    // No endpoint: the built-in reference receiver verifies it and answers 200.
    let out = spotcheck(&["send", "TRAVELER_V2/UPDATE"]).await;
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(out.stdout.contains("< 200 OK"), "{}", out.all());
    assert_clean("send (reference receiver)", &out.all());

    // sign, then verify: a match, a mismatch (explained step by step) and a stale one.
    let body = dir.path().join("body.json");
    std::fs::write(&body, br#"{"eventType":"PNR_V3","payload":{}}"#).unwrap();
    let body = body.display().to_string();
    let signed = spotcheck(&["sign", &body, "--id", "msg_1", "--timestamp", "1700000000"]).await;
    assert_eq!(signed.code, Some(0), "{}", signed.all());
    assert_clean("sign", &signed.all());
    let signature = signed
        .all()
        .lines()
        .find_map(|l| l.strip_prefix("x-spotnana-webhook-signature: "))
        .unwrap_or_else(|| panic!("no signature line in {}", signed.all()))
        .trim()
        .to_owned();
    let sig_header = format!("x-spotnana-webhook-signature: {signature}");
    let verify = |header: String, now: &'static str| {
        let body = body.clone();
        async move {
            spotcheck(&[
                "verify",
                &body,
                "--header",
                "x-spotnana-webhook-id: msg_1",
                "--header",
                "x-spotnana-webhook-timestamp: 1700000000",
                "--header",
                &header,
                "--now",
                now,
            ])
            .await
        }
    };
    let ok = verify(sig_header.clone(), "1700000001").await;
    assert_eq!(ok.code, Some(0), "{}", ok.all());
    assert_clean("verify (match)", &ok.all());
    let bad = verify(
        "x-spotnana-webhook-signature: v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
        "1700000001",
    )
    .await;
    assert_eq!(bad.code, Some(1), "{}", bad.all());
    assert_clean("verify (mismatch)", &bad.all());
    let stale = verify(sig_header, "1800000000").await;
    assert_ne!(stale.code, Some(0), "{}", stale.all());
    assert_clean("verify (stale)", &stale.all());

    let out = spotcheck(&["tls", &conformant.webhook_url()]).await;
    assert_clean("tls", &out.all());
    let out = spotcheck(&["scenarios", "list"]).await;
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_clean("scenarios list", &out.all());
    let out = spotcheck(&["scenarios", "check", "/nonexistent-spotcheck"]).await;
    assert_clean("scenarios check", &out.all());

    conformant.shutdown().await;
    failing.shutdown().await;
}

#[tokio::test]
async fn serve_leaks_nothing_in_output_or_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let mut serve = Spotcheck::new([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--plain",
        "--state",
        "--log",
    ])
    .arg(&log)
    .secret(SECRET)
    .spawn();
    let url = serve.listening_url();
    // A valid delivery and a forged one.
    let out = spotcheck(&["send", "PNR_V3/BOOKING_CREATED", "--endpoint", &url]).await;
    assert_eq!(out.code, Some(0), "{}", out.all());
    let id = webhook_id(&out.stdout);
    let forged = Spotcheck::new(["send", "PNR_V3/BOOKING_CREATED", "--endpoint", &url])
        .secret(OTHER)
        .run()
        .await;
    assert_eq!(forged.code, Some(1));
    let forged_text = &forged.stdout;
    assert!(forged_text.contains("401"), "{forged_text}");
    assert_clean("the forged delivery's answer", forged_text);
    // serve logs the valid event; then everything it printed is checked.
    serve.wait_for("event", |line| line.contains(&id).then_some(()));
    let (stdout, stderr) = serve.kill();
    let seen = format!("{stdout}\n{stderr}");
    assert!(
        seen.contains("PNR_V3"),
        "serve printed no event line: {seen}"
    );
    assert_clean("serve output", &seen);
    let logged = std::fs::read_to_string(&log).expect("event log written");
    assert!(logged.contains("BOOKING_CREATED"), "{logged}");
    assert_clean("serve event log", &logged);
}

/// The leak detector itself catches each form (so the tests above can fail).
#[test]
fn the_detector_catches_every_form() {
    for needle in forbidden() {
        let text = format!("before {needle} after");
        let caught = std::panic::catch_unwind(|| assert_clean("sample", &text));
        assert!(caught.is_err(), "`{needle}` not caught");
    }
    assert_clean("sample", "whsec_… redacted, v1,AAAA=");
}

/// Every credential kind a partner's CI hands spotcheck, each a canary that must never
/// be printed, reported or logged (issue: redaction by value, not by header name).
mod every_credential {
    /// `--endpoint '…?code=…'` (an Azure Functions key).
    pub const ENDPOINT_CODE: &str = "canary1-endpoint-code-7f3a";
    /// `--header 'x-functions-key: …'`.
    pub const FUNCTIONS_KEY: &str = "canary2-functions-key-91bd";
    /// `--header 'Ocp-Apim-Subscription-Key: …'`.
    pub const APIM_KEY: &str = "canary3-apim-subscription-5c2e";
    /// `--state-url '…?key=…'`.
    pub const STATE_KEY: &str = "canary4-state-key-d41f";
    /// The OAuth client secret (from `--oauth-client-secret-env`).
    pub const CLIENT_SECRET: &str = "canary5-client-secret-0a9b";
    /// `--oauth-token-url '…?tenant=…'`.
    pub const TOKEN_URL_KEY: &str = "canary6-token-url-tenant-88e0";
    /// The access token the token endpoint issues (learned mid-run).
    pub const ISSUED_TOKEN: &str = "canary7-issued-token-e6c3";

    pub const ALL: [&str; 7] = [
        ENDPOINT_CODE,
        FUNCTIONS_KEY,
        APIM_KEY,
        STATE_KEY,
        CLIENT_SECRET,
        TOKEN_URL_KEY,
        ISSUED_TOKEN,
    ];
}

/// Scans outputs for every canary and the signing secret, counting what it scanned.
#[derive(Default)]
struct Scan {
    outputs: usize,
    found: Vec<String>,
}

impl Scan {
    fn text(&mut self, what: &str, text: &str) {
        self.outputs += 1;
        let lower = text.to_ascii_lowercase();
        for canary in every_credential::ALL {
            if lower.contains(canary) {
                let line = text
                    .lines()
                    .find(|l| l.to_ascii_lowercase().contains(canary))
                    .unwrap_or_default();
                self.found.push(format!("{what}: `{canary}` in: {line}"));
            }
        }
        for needle in forbidden() {
            if text.contains(&needle) {
                self.found
                    .push(format!("{what}: the signing secret as `{needle}`"));
            }
        }
    }

    fn run(&mut self, what: &str, run: &Run) {
        self.text(&format!("{what} (stdout)"), &run.stdout);
        self.text(&format!("{what} (stderr)"), &run.stderr);
    }

    fn file(&mut self, path: &Path) {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|err| panic!("{} not written: {err}", path.display()));
        assert!(text.len() > 100, "{} is suspiciously short", path.display());
        self.text(&path.display().to_string(), &text);
    }
}

/// The credential flags every delivering command takes, with the endpoint `url`.
fn credential_args(url: &str) -> Vec<String> {
    use every_credential::*;
    vec![
        "--endpoint".into(),
        format!("{url}?code={ENDPOINT_CODE}"),
        "--header".into(),
        format!("x-functions-key: {FUNCTIONS_KEY}"),
        "--header".into(),
        format!("Ocp-Apim-Subscription-Key: {APIM_KEY}"),
        "--header".into(),
        "API-Version: 2.0".into(),
    ]
}

/// `--oauth-*` flags for a token endpoint at `token_url`.
fn oauth_args(token_url: &str) -> Vec<String> {
    vec![
        "--oauth-token-url".into(),
        format!("{token_url}?tenant={}", every_credential::TOKEN_URL_KEY),
        "--oauth-client-id".into(),
        "spotnana-legacy-client".into(),
        "--oauth-client-secret-env".into(),
        "PARTNER_CLIENT_SECRET".into(),
    ]
}

async fn spotcheck_with_credentials(args: &[String]) -> Run {
    Spotcheck::new(args)
        .secret(SECRET)
        .env("PARTNER_CLIENT_SECRET", every_credential::CLIENT_SECRET)
        .no_color()
        .timeout(std::time::Duration::from_secs(120))
        .run()
        .await
}

/// A token endpoint on loopback: `/token` issues [`every_credential::ISSUED_TOKEN`],
/// `/refuse` answers `400` (the token exchange then shows in the failed check).
async fn token_endpoint() -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let server = wiremock::MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": every_credential::ISSUED_TOKEN,
            "token_type": "Bearer",
            "expires_in": 3600,
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refuse"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({"error": "invalid_client"})),
        )
        .mount(&server)
        .await;
    server
}

/// Every command that takes a credential, with every report format, `--verbose`,
/// `--export-curl`, repro lines, parked messages redelivered and setup errors: no
/// canary of any credential kind appears anywhere.
#[tokio::test]
async fn every_credential_kind_is_masked_in_every_output() {
    use every_credential::*;
    let conformant = start(SECRET, TlsSetup::Plain).await;
    let failing = start(OTHER, TlsSetup::Plain).await;
    let tokens = token_endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let mut scan = Scan::default();
    let state = format!("{}?key={STATE_KEY}", conformant.state_url());
    let strings = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();

    // run, failing: every report format, markdown on stdout, --verbose, --export-curl,
    // repro lines; OAuth with an issued token.
    let (reports, paths) = report_args(dir.path());
    let mut args = strings(&["run", "--verbose", "--export-curl", "--seed", "5"]);
    args.extend(credential_args(&failing.webhook_url()));
    args.extend(oauth_args(&format!("{}/token", tokens.uri())));
    args.extend(strings(&["--state-url", &state, "--timeout", "5s"]));
    args.extend(strings(&["--report", "markdown=-", "--no-diagnose"]));
    args.extend(reports);
    let out = spotcheck_with_credentials(&args).await;
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(out.all().contains("repro: spotcheck run"), "{}", out.all());
    assert!(out.all().contains("curl --silent"), "{}", out.all());
    scan.run("run (failing)", &out);
    for path in &paths {
        scan.file(path);
    }
    // The short header value is not mangled elsewhere (only masked in its place).
    assert!(out.stdout.contains("spotcheck run"), "{}", out.all());

    // run, conformant, some checks only: a passing run's output and reports.
    let sub = dir.path().join("conformant");
    std::fs::create_dir(&sub).unwrap();
    let (reports, paths) = report_args(&sub);
    let mut args = strings(&["run", "--verbose", "--only", "signature.*,oauth.*"]);
    args.extend(credential_args(&conformant.webhook_url()));
    args.extend(oauth_args(&format!("{}/token", tokens.uri())));
    args.extend(strings(&["--state-url", &state, "--jobs", "2"]));
    args.extend(reports);
    let out = spotcheck_with_credentials(&args).await;
    scan.run("run (conformant)", &out);
    for path in &paths {
        scan.file(path);
    }

    // run, token endpoint refusing: the token exchange, exported as curl.
    let sub = dir.path().join("refused");
    std::fs::create_dir(&sub).unwrap();
    let (reports, paths) = report_args(&sub);
    let mut args = strings(&[
        "run",
        "--verbose",
        "--export-curl",
        "--only",
        "oauth.token-issued",
    ]);
    args.extend(credential_args(&conformant.webhook_url()));
    args.extend(oauth_args(&format!("{}/refuse", tokens.uri())));
    args.extend(reports);
    let out = spotcheck_with_credentials(&args).await;
    assert_ne!(out.code, Some(0), "{}", out.all());
    assert!(out.stdout.contains("--data-binary"), "{}", out.all());
    scan.run("run (token refused)", &out);
    for path in &paths {
        scan.file(path);
    }

    // send: refused, accepted, with OAuth.
    for (what, url) in [
        ("send (refused)", failing.webhook_url()),
        ("send (accepted)", conformant.webhook_url()),
    ] {
        let mut args = strings(&["send", "PNR_V3/BOOKING_TICKETED"]);
        args.extend(credential_args(&url));
        args.extend(oauth_args(&format!("{}/token", tokens.uri())));
        let out = spotcheck_with_credentials(&args).await;
        assert!(out.stdout.contains("> "), "{}", out.all());
        scan.run(what, &out);
    }

    // send --retry to an endpoint that refuses connections parks the message; redeliver
    // sends it with the same credentials.
    let park = dir.path().join("parked");
    let mut args = strings(&["send", "PNR_V3/BOOKING_TICKETED", "--retry"]);
    args.extend(credential_args("http://127.0.0.1:9/hook"));
    args.extend(strings(&["--time-scale", "100000", "--park-dir"]));
    args.push(park.display().to_string());
    let out = spotcheck_with_credentials(&args).await;
    scan.run("send --retry (parked)", &out);
    let parked: Vec<PathBuf> = std::fs::read_dir(&park)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert_eq!(parked.len(), 1, "{}", out.all());
    let mut args = strings(&["redeliver"]);
    args.push(parked[0].display().to_string());
    args.extend(credential_args(&failing.webhook_url()));
    let out = spotcheck_with_credentials(&args).await;
    scan.run("redeliver", &out);

    // load, with both report formats.
    let json = dir.path().join("load.json");
    let html = dir.path().join("load.html");
    let mut args = strings(&["load", "--requests", "20", "--quiet", "--verbose"]);
    args.extend(credential_args(&failing.webhook_url()));
    args.push("--report".into());
    args.push(format!("json={}", json.display()));
    args.push("--report".into());
    args.push(format!("html={}", html.display()));
    let out = spotcheck_with_credentials(&args).await;
    scan.run("load", &out);
    scan.file(&json);
    scan.file(&html);

    // tls against a plain-HTTP port: the error names the URL.
    let url = format!("{}?code={ENDPOINT_CODE}", conformant.webhook_url());
    let out =
        spotcheck_with_credentials(&strings(&["tls", &url.replace("http://", "https://")])).await;
    scan.run("tls", &out);

    // Setup errors that name the endpoint, a header or the state URL.
    for args in [
        strings(&[
            "run",
            "--endpoint",
            &format!("ftp://h/x?code={ENDPOINT_CODE}"),
        ]),
        strings(&[
            "send",
            "PNR_V3/BOOKING_TICKETED",
            "--endpoint",
            "http://127.0.0.1:9/x",
            "--header",
            &format!("x-functions-key {FUNCTIONS_KEY}"),
        ]),
        strings(&[
            "run",
            "--endpoint",
            &format!("https://h x/?code={ENDPOINT_CODE}"),
        ]),
    ] {
        let out = spotcheck_with_credentials(&args).await;
        assert_ne!(out.code, Some(0), "{}", out.all());
        scan.run(&format!("error ({})", args[..2].join(" ")), &out);
    }

    eprintln!(
        "secrets: scanned {} outputs for {} credential canaries and the signing secret: {} found",
        scan.outputs,
        every_credential::ALL.len(),
        scan.found.len()
    );
    assert!(scan.outputs >= 40, "only {} outputs scanned", scan.outputs);
    assert!(
        scan.found.is_empty(),
        "{} leaks:\n{}",
        scan.found.len(),
        scan.found.join("\n")
    );
    conformant.shutdown().await;
    failing.shutdown().await;
}

/// What an `exec` program receives (its stdin document and its `SPOTCHECK_*`
/// variables) holds no credential value either: the endpoint's `?code=`, the state
/// URL's `?key=` and the `--header` values are masked as in a report.
#[cfg(unix)]
#[tokio::test]
async fn an_exec_program_gets_no_credential_value() {
    use every_credential::*;
    use std::os::unix::fs::PermissionsExt;
    let receiver = start(SECRET, TlsSetup::Plain).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let script = dir.path().join("capture.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncat > '{out}/stdin.json'\nenv | grep '^SPOTCHECK_' > '{out}/env.txt'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let scenario = dir.path().join("capture.toml");
    std::fs::write(
        &scenario,
        r#"id = "custom.exec-capture"
title = "The program sees the exchange"
level = "required"
why = "A program checks what the endpoint did."
fix = "Nothing to fix."

[[step]]
name = "booking"
send = "PNR_V3/BOOKING_CREATED"
exec = ["./capture.sh"]
"#,
    )
    .unwrap();
    let state = format!("{}?key={STATE_KEY}", receiver.state_url());
    let mut args: Vec<String> = vec!["run".into(), "--scenarios".into()];
    args.push(scenario.display().to_string());
    args.extend(
        [
            "--no-builtin",
            "--only",
            "custom.*",
            "--allow-exec",
            "--state-url",
            &state,
        ]
        .iter()
        .map(|w| w.to_string()),
    );
    args.extend(credential_args(&receiver.webhook_url()));
    let run = spotcheck_with_credentials(&args).await;
    let stdin = std::fs::read_to_string(dir.path().join("stdin.json")).unwrap_or_default();
    let env = std::fs::read_to_string(dir.path().join("env.txt")).unwrap_or_default();
    assert!(stdin.contains("\"exchange\""), "{}\n{stdin}", run.all());
    assert!(env.contains("SPOTCHECK_ENDPOINT="), "{}\n{env}", run.all());
    // The program still learns where it was sent, without the key.
    assert!(
        stdin.contains(&format!("{}?code=***redacted***", receiver.webhook_url())),
        "{stdin}"
    );
    let mut scan = Scan::default();
    scan.run("run (exec)", &run);
    scan.text("the exec program's stdin", &stdin);
    scan.text("the exec program's SPOTCHECK_* variables", &env);
    assert!(
        scan.found.is_empty(),
        "{} leaks:\n{}",
        scan.found.len(),
        scan.found.join("\n")
    );
    receiver.shutdown().await;
}
