//! The legacy OAuth 2.0 client-credentials suite over loopback HTTPS: every oauth.*
//! check passes against the reference receiver with OAuth on, each token-endpoint or
//! bearer flaw makes the check that exists for it fail, and the client secret never
//! appears in output or reports.

use crate::support::{self, cli};

use std::process::{Command, Output};
use std::time::Duration;

use spotcheck::receiver::{self, Flaw, OAuthServerConfig, ReceiverConfig, TlsSetup};

use cli::SECRET;
const CLIENT_ID: &str = "spotnana-legacy-client";
const CLIENT_SECRET: &str = "cs-4f9d1c2b7e-very-secret";
const OAUTH_CHECKS: [&str; 4] = [
    "oauth.token-issued",
    "oauth.concurrent-token-requests",
    "oauth.bad-credentials-rejected",
    "oauth.bearer-required",
];

struct Ran {
    output: Output,
    stdout: String,
    report: serde_json::Value,
    report_text: String,
}

impl Ran {
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn check(&self, id: &str) -> &serde_json::Value {
        support::expect_check(&self.report, id)
    }

    fn status(&self, id: &str) -> &str {
        support::status_of(&self.report, id)
    }

    fn message(&self, id: &str) -> &str {
        support::message_of(&self.report, id)
    }

    fn assert_no_secret(&self) {
        let stderr = String::from_utf8_lossy(&self.output.stderr);
        for text in [&self.stdout, &self.report_text, &stderr.to_string()] {
            assert!(
                !text.contains(CLIENT_SECRET),
                "client secret leaked:\n{text}"
            );
            assert!(!text.contains(SECRET), "signing secret leaked");
        }
    }
}

async fn start(flaws: Vec<Flaw>) -> receiver::RunningReceiver {
    let config = ReceiverConfig {
        state: true,
        flaws,
        oauth: Some(OAuthServerConfig {
            client_id: CLIENT_ID.to_owned(),
            client_secret: spotcheck::delivery::oauth::ClientSecret::new(CLIENT_SECRET),
        }),
        ..support::config()
    };
    support::start_with(config, TlsSetup::Generated).await
}

/// `spotcheck run` against a receiver with OAuth on and `flaws`, with the OAuth flags
/// unless `oauth` is false.
async fn run_against(flaws: Vec<Flaw>, oauth: bool, extra: &[&str]) -> Ran {
    let running = start(flaws).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, running.ca_pem.clone().unwrap()).unwrap();
    let report = dir.path().join("report.json");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"));
    command
        .arg("run")
        .arg("--endpoint")
        .arg(running.webhook_url())
        .arg("--ca-cert")
        .arg(&ca)
        .args(["--seed", "7", "--color", "never", "--jobs", "1"])
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .args(extra)
        .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
        .env("PARTNER_CLIENT_SECRET", CLIENT_SECRET)
        .kill_on_drop(true);
    if oauth {
        command
            .arg("--oauth-token-url")
            .arg(running.token_url())
            .args(["--oauth-client-id", CLIENT_ID])
            .args(["--oauth-client-secret-env", "PARTNER_CLIENT_SECRET"]);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("spotcheck run finishes within 60 s")
        .expect("spotcheck runs");
    running.shutdown().await;
    let report_text = std::fs::read_to_string(&report).unwrap_or_default();
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        report: serde_json::from_str(&report_text).unwrap_or(serde_json::Value::Null),
        report_text,
        output,
    }
}

#[tokio::test]
async fn the_oauth_suite_passes_against_the_reference_receiver() {
    let ran = run_against(vec![], true, &["--only", "oauth.*"]).await;
    for id in OAUTH_CHECKS {
        assert_eq!(
            ran.status(id),
            "pass",
            "{id}: {}\n{}",
            ran.message(id),
            ran.stdout
        );
    }
    assert_eq!(ran.code(), Some(0), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("PASS  oauth.bearer-required"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.message("oauth.concurrent-token-requests")
            .starts_with("17 answers as expected (200 ×17; slowest "),
        "{}",
        ran.message("oauth.concurrent-token-requests")
    );
    // The token requests are in the report, credentials redacted.
    let exchanges = ran.check("oauth.token-issued")["exchanges"]
        .as_array()
        .unwrap();
    let form = exchanges[0]["request"]["body_excerpt"].as_str().unwrap();
    assert_eq!(
        form,
        format!("grant_type=client_credentials&client_id={CLIENT_ID}&client_secret=***redacted***")
    );
    let answer = exchanges[0]["response"]["body_excerpt"].as_str().unwrap();
    assert!(
        answer.contains(r#""access_token":"***redacted***""#),
        "{answer}"
    );
    assert!(answer.contains(r#""token_type":"Bearer""#), "{answer}");
    ran.assert_no_secret();
}

#[tokio::test]
async fn every_delivery_of_a_run_carries_the_bearer_token() {
    // The reference receiver with OAuth on refuses deliveries without a token, so the
    // delivery and signature suites pass only if every delivery carries it.
    let ran = run_against(
        vec![],
        true,
        &["--only", "delivery.status-200,signature.*,oauth.*"],
    )
    .await;
    assert_eq!(ran.code(), Some(0), "{}", ran.stdout);
    assert_eq!(ran.status("delivery.status-200"), "pass");
    assert_eq!(ran.status("signature.missing-rejected"), "pass");
    let request = &ran.check("delivery.status-200")["exchanges"][0]["request"];
    let headers = request["headers"].as_array().unwrap();
    assert!(
        headers
            .iter()
            .any(|h| h[0] == "Authorization" && h[1] == "***redacted***"),
        "{headers:?}"
    );
    ran.assert_no_secret();
}

#[tokio::test]
async fn without_oauth_flags_the_suite_is_not_run_but_is_listed() {
    let ran = run_against(vec![], false, &["--only", "delivery.status-200,oauth.*"]).await;
    for id in OAUTH_CHECKS {
        assert_eq!(ran.status(id), "absent", "{id}");
        assert!(!ran.stdout.contains(id));
    }
    // Deliveries without a token are refused by this receiver: the run says so.
    assert_eq!(ran.status("delivery.status-200"), "fail");
    assert_eq!(ran.code(), Some(1));

    let list = Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["scenarios", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    for id in OAUTH_CHECKS {
        assert!(listed.contains(id), "{id} missing from:\n{listed}");
    }
}

struct FlawCase {
    flaw: Flaw,
    check: &'static str,
    says: &'static str,
}

#[tokio::test]
async fn each_flaw_fails_the_check_that_exists_for_it() {
    let cases = [
        FlawCase {
            flaw: Flaw::TokenJsonOnly,
            check: "oauth.token-issued",
            says: "expected 200, got 415 Unsupported Media Type; spotcheck sent the form Spotnana sends",
        },
        FlawCase {
            flaw: Flaw::TokenNoType,
            check: "oauth.token-issued",
            says: "token_type is missing; add \"token_type\": \"Bearer\" to the token response",
        },
        FlawCase {
            flaw: Flaw::TokenAnyCredentials,
            check: "oauth.bad-credentials-rejected",
            says: "expected 4xx, got 200 OK: a token was issued",
        },
        FlawCase {
            flaw: Flaw::TokenConcurrencyLimit(4),
            check: "oauth.concurrent-token-requests",
            says: "of 16 token requests failed; first: request",
        },
        FlawCase {
            flaw: Flaw::BearerNotRequired,
            check: "oauth.bearer-required",
            says: "step 2 (PNR_V3/BOOKING_CREATED): expected not-2xx, got 200 OK",
        },
    ];
    for case in cases {
        let ran = run_against(vec![case.flaw.clone()], true, &["--only", "oauth.*"]).await;
        assert_eq!(
            ran.status(case.check),
            "fail",
            "{:?}: {}\n{}",
            case.flaw,
            ran.message(case.check),
            ran.stdout
        );
        assert!(
            ran.message(case.check).contains(case.says),
            "{:?}: {}",
            case.flaw,
            ran.message(case.check)
        );
        assert!(
            ran.stdout.contains(&format!("FAIL  {}", case.check)),
            "{}",
            ran.stdout
        );
        assert_eq!(ran.code(), Some(1), "{:?}", case.flaw);
        ran.assert_no_secret();
    }
}

#[tokio::test]
async fn flaws_that_do_not_touch_a_check_leave_it_passing() {
    // A lenient token endpoint fails only the credentials check; a token endpoint that
    // cannot take a burst fails only the burst check (checks run one at a time).
    let any = run_against(
        vec![Flaw::TokenAnyCredentials],
        true,
        &["--only", "oauth.*"],
    )
    .await;
    for id in [
        "oauth.token-issued",
        "oauth.concurrent-token-requests",
        "oauth.bearer-required",
    ] {
        assert_eq!(any.status(id), "pass", "{id}: {}", any.message(id));
    }
    let burst = run_against(
        vec![Flaw::TokenConcurrencyLimit(4)],
        true,
        &["--only", "oauth.*"],
    )
    .await;
    for id in [
        "oauth.token-issued",
        "oauth.bad-credentials-rejected",
        "oauth.bearer-required",
    ] {
        assert_eq!(burst.status(id), "pass", "{id}: {}", burst.message(id));
    }
}

#[tokio::test]
async fn send_fetches_a_token_and_shows_it_redacted() {
    let running = start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, running.ca_pem.clone().unwrap()).unwrap();
    // `spotcheck send` with the OAuth flags, the client secret in the environment.
    let send = |client_secret: &str| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"));
        command
            .args(["send", "PNR_V3/BOOKING_TICKETED", "--endpoint"])
            .arg(running.webhook_url())
            .arg("--ca-cert")
            .arg(&ca)
            .arg("--oauth-token-url")
            .arg(running.token_url())
            .args(["--oauth-client-id", CLIENT_ID])
            .args(["--oauth-client-secret-env", "PARTNER_CLIENT_SECRET"])
            .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
            .env("PARTNER_CLIENT_SECRET", client_secret)
            .kill_on_drop(true);
        async move {
            tokio::time::timeout(Duration::from_secs(30), command.output())
                .await
                .unwrap()
                .unwrap()
        }
    };
    let output = send(CLIENT_SECRET).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("> Authorization: ***redacted***"),
        "{stdout}"
    );
    assert!(stdout.contains("< 200 OK"), "{stdout}");
    assert!(!stdout.contains(CLIENT_SECRET));

    // A wrong client secret: no token, nothing delivered, exit 1 with the reason.
    let output = send("not-the-secret").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("no OAuth token from"), "{stdout}");
    assert!(
        stdout.contains("expected 200, got 401 Unauthorized"),
        "{stdout}"
    );
    assert!(!stdout.contains("not-the-secret"));
    running.shutdown().await;
}

#[tokio::test]
async fn serve_with_oauth_is_a_peer_the_suite_passes_against() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut serve = cli::Spotcheck::new(["serve", "--listen", "127.0.0.1:0", "--quiet"])
        .args(["--oauth-client-id", CLIENT_ID])
        .args(["--oauth-client-secret-env", "PARTNER_CLIENT_SECRET"])
        .arg("--ca-out")
        .arg(&ca)
        .secret(SECRET)
        .env("PARTNER_CLIENT_SECRET", CLIENT_SECRET)
        .spawn();
    let mut webhook = None;
    let mut token = None;
    while webhook.is_none() || token.is_none() {
        let line = serve.next_line("URL");
        if let Some(url) = line.strip_prefix("listening on ") {
            webhook = Some(url.to_owned());
        }
        if let Some(rest) = line.strip_prefix("OAuth token endpoint at ") {
            assert_eq!(
                rest.split_once(' ').map(|(_, r)| r),
                Some(
                    format!("(client id {CLIENT_ID}); deliveries need Authorization: Bearer")
                        .as_str()
                )
            );
            token = rest.split(' ').next().map(str::to_owned);
        }
    }
    let (webhook, token) = (webhook.unwrap(), token.unwrap());
    assert!(token.starts_with("https://127.0.0.1:") && token.ends_with("/oauth/token"));
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"))
            .args(["run", "--only", "oauth.*", "--color", "never", "--endpoint"])
            .arg(&webhook)
            .arg("--ca-cert")
            .arg(&ca)
            .args(["--oauth-token-url", &token, "--oauth-client-id", CLIENT_ID])
            .args(["--oauth-client-secret-env", "PARTNER_CLIENT_SECRET"])
            .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
            .env("PARTNER_CLIENT_SECRET", CLIENT_SECRET)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}");
}

#[test]
fn the_scenario_format_checks_token_steps_and_authorization() {
    use spotcheck::scenario::{Action, Authorization, TokenCredentials, load_str};
    let head = "id = \"oauth.x\"\ntitle = \"t\"\nlevel = \"required\"\nwhy = \"w\"\nfix = \"f\"\n";
    let good = format!(
        "{head}requires = [\"oauth\"]\n\n[[step]]\ntoken = \"bad-credentials\"\nrepeat = 3\nconcurrency = 3\nexpect = {{ status = \"4xx\" }}\n\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nauthorization = \"forged\"\nexpect = {{ status = \"not-2xx\" }}\n"
    );
    let scenario = load_str("case.toml", &good).unwrap_or_else(|e| panic!("{}", e.render(false)));
    assert!(scenario.needs_oauth());
    let Action::Token(token) = &scenario.steps[0].action else {
        panic!("a token step");
    };
    assert_eq!(token.credentials, TokenCredentials::WrongSecret);
    assert_eq!((token.repeat, token.concurrency), (3, 3));
    let Action::Send(send) = &scenario.steps[1].action else {
        panic!("a send step");
    };
    assert_eq!(send.authorization, Authorization::Forged);

    let without = format!("{head}\n[[step]]\ntoken = \"issued\"\n");
    let err = load_str("case.toml", &without).unwrap_err().render(false);
    assert!(
        err.contains("`token` is used but the scenario does not require OAuth"),
        "{err}"
    );
    assert!(err.contains("requires = [\"oauth\"]"), "{err}");

    let typo = format!(
        "{head}requires = [\"oauth\"]\n\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nauthorization = \"forget\"\n"
    );
    let err = load_str("case.toml", &typo).unwrap_err().render(false);
    assert!(err.contains("unknown authorization \"forget\""), "{err}");
    assert!(err.contains("did you mean \"forged\"?"), "{err}");

    let misplaced = format!(
        "{head}requires = [\"oauth\"]\n\n[[step]]\ntoken = \"issued\"\nauthorization = \"none\"\n"
    );
    let err = load_str("case.toml", &misplaced).unwrap_err().render(false);
    assert!(
        err.contains("`authorization` does not apply to a `token` step"),
        "{err}"
    );
}

/// A token response without `token_type` (a public sample receiver for Spotnana's
/// legacy flow answers `{"access_token": "abc", "expires_in": 3600}`) fails
/// `oauth.token-issued`, naming the field, and the token is still used for the
/// deliveries, as Spotnana's sender does: the endpoint (which answers 200 to
/// anything, checking no signature) is judged on its own behaviour, not on the token.
#[tokio::test]
async fn a_token_without_token_type_fails_only_token_issued_and_is_still_used() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token":"abc","expires_in":3600}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/deliver"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let run = cli::Spotcheck::new([
        "run",
        "--endpoint",
        &format!("{}/deliver", server.uri()),
        "--oauth-token-url",
        &format!("{}/auth", server.uri()),
        "--oauth-client-id",
        CLIENT_ID,
        "--oauth-client-secret-env",
        "PARTNER_CLIENT_SECRET",
        "--skip",
        "tls.*",
        "--seed",
        "7",
        "--report",
        &format!("json={}", report.display()),
    ])
    .secret(SECRET)
    .env("PARTNER_CLIENT_SECRET", CLIENT_SECRET)
    .no_color()
    .run()
    .await;
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let status = |id: &str| support::status_of(&report, id).to_owned();
    let message = |id: &str| support::message_of(&report, id).to_owned();
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(!run.all().contains("no OAuth token"), "{}", run.all());

    assert_eq!(status("oauth.token-issued"), "fail");
    assert!(
        message("oauth.token-issued").contains("token_type is missing"),
        "{}",
        message("oauth.token-issued")
    );
    // The token was used: every delivery carried it and was answered.
    for id in [
        "delivery.status-200",
        "delivery.latency",
        "delivery.fast-ack",
    ] {
        assert_eq!(status(id), "pass", "{id}: {}", message(id));
    }
    let headers = &support::expect_check(&report, "delivery.status-200")["exchanges"][0]["request"]
        ["headers"];
    assert!(
        headers
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == "Authorization"),
        "{headers}"
    );
    // The real flaw: no signature is verified.
    for id in [
        "signature.missing-rejected",
        "signature.invalid-rejected",
        "signature.wrong-secret-rejected",
    ] {
        assert_eq!(status(id), "fail", "{id}: {}", message(id));
        assert!(message(id).contains("got 200 OK"), "{id}: {}", message(id));
    }
    // The other oauth checks judge their own subjects with the (usable) token.
    assert_eq!(
        status("oauth.concurrent-token-requests"),
        "pass",
        "{}",
        message("oauth.concurrent-token-requests")
    );
    // No retry check that contradicts the run: nothing it could retry failed for
    // want of a token.
    assert_ne!(
        message("retry.recovers-after-failure"),
        "",
        "retry.recovers-after-failure missing"
    );
    assert!(
        !message("retry.recovers-after-failure").contains("no OAuth token"),
        "{}",
        message("retry.recovers-after-failure")
    );
}

/// A token endpoint that issues no usable token: the deliveries are never sent, so
/// they are neither latency nor status failures; the checks say they could not judge.
#[tokio::test]
async fn deliveries_never_sent_are_not_judged_as_answers() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"token":"abc","expires_in":3600}"#, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/deliver"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let run = cli::Spotcheck::new([
        "run",
        "--endpoint",
        &format!("{}/deliver", server.uri()),
        "--oauth-token-url",
        &format!("{}/auth", server.uri()),
        "--oauth-client-id",
        CLIENT_ID,
        "--oauth-client-secret-env",
        "PARTNER_CLIENT_SECRET",
        "--only",
        "oauth.token-issued,delivery.*,retry.recovers-after-failure",
        "--report",
        &format!("json={}", report.display()),
    ])
    .secret(SECRET)
    .env("PARTNER_CLIENT_SECRET", CLIENT_SECRET)
    .no_color()
    .run()
    .await;
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let status = |id: &str| support::status_of(&report, id).to_owned();
    let message = |id: &str| support::message_of(&report, id).to_owned();
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_eq!(status("oauth.token-issued"), "fail");
    assert!(message("oauth.token-issued").contains("access_token is missing"));
    for id in [
        "delivery.status-200",
        "delivery.latency",
        "delivery.fast-ack",
    ] {
        assert_eq!(status(id), "skip", "{id}: {}", message(id));
        assert!(
            message(id).starts_with("could not judge:") && message(id).contains("was not sent"),
            "{id}: {}",
            message(id)
        );
    }
    assert_ne!(status("retry.recovers-after-failure"), "pass");
}
