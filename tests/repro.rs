//! Reproducing a failure: the command printed under each failed or warned check
//! replays exactly that check (run through a real shell, against the same flawed
//! receiver, it fails the same way with the same bytes), and `--export-curl` prints the
//! signed request as a `curl` command that, run through a shell, delivers the same body
//! and headers. Neither ever holds the signing secret.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use base64::Engine as _;
use proptest::prelude::*;
use spotcheck::receiver::Flaw;
use spotcheck::report::repro::{Replay, shell_quote};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, cli, tools};

use support::SECRET;

/// Runs a command line through `bash -c` (60 s at most) with extra environment.
async fn bash(line: &str, env: &[(&str, &str)], dir: &Path) -> Output {
    let mut command = tokio::process::Command::new("bash");
    command
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env_remove("SPOTNANA_WEBHOOK_SECRET")
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("finishes within 60 s")
        .expect("bash runs")
}

/// The printed `spotcheck run …` with the binary's path in place of `spotcheck`.
fn with_binary(repro: &str) -> String {
    let rest = repro
        .strip_prefix("spotcheck ")
        .unwrap_or_else(|| panic!("a repro starts with `spotcheck `: {repro}"));
    format!("{} {rest}", shell_quote(env!("CARGO_BIN_EXE_spotcheck")))
}

/// `spotcheck run --endpoint ENDPOINT --only delivery.status-200 --seed 9 EXTRA… --color never`.
async fn run_status_200(endpoint: &str, extra: &[&str]) -> cli::Run {
    let mut args = vec![
        "run",
        "--endpoint",
        endpoint,
        "--only",
        "delivery.status-200",
        "--seed",
        "9",
    ];
    args.extend_from_slice(extra);
    args.extend(["--color", "never"]);
    support::spotcheck(&args).await
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("the JSON report was written"))
        .expect("the report is JSON")
}

/// `text` with every `YYYY-MM-DDTHH:MM:SS` replaced by `[time]`.
fn without_times(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= SHAPE.len()
            && SHAPE.iter().zip(&bytes[i..]).all(|(shape, b)| match shape {
                b'd' => b.is_ascii_digit(),
                other => other == b,
            });
        if fits {
            out.push_str("[time]");
            i += SHAPE.len();
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every text form of the test secret that must never be printed.
fn secret_forms() -> Vec<String> {
    let key = &SECRET["whsec_".len()..];
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .expect("the key is base64");
    vec![
        SECRET.to_owned(),
        key.to_owned(),
        key.trim_end_matches('=').to_owned(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes),
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
    ]
}

fn assert_secret_free(text: &str) {
    for form in secret_forms() {
        assert!(!text.contains(&form), "the secret appears as `{form}`");
    }
}

/// Against a receiver with a strict deserializer and 500 refusals: the repro of the
/// failed check, pasted into bash, fails the same check the same way with the same
/// event (same seed) and runs nothing else; the secret comes from the `--secret-file`
/// the command names, and a credential `--header` from an environment variable.
#[tokio::test]
async fn printed_repro_replays_exactly_the_failed_check() {
    let receiver = support::start(vec![Flaw::StrictFields, Flaw::RejectWith500]).await;
    let dir = receiver.dir.path().to_path_buf();
    let secret_file = dir.join("secret with space.txt");
    std::fs::write(&secret_file, SECRET).unwrap();
    let url = receiver.running.webhook_url();
    let ca = receiver.ca.display().to_string();
    let first = dir.join("first.json");
    let first_arg = format!("json={}", first.display());
    let secret_arg = secret_file.display().to_string();
    let output = support::spotcheck(&[
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--secret-file",
        &secret_arg,
        "--header",
        "X-Api-Key: hunter2",
        "--header",
        "API-Version: 2.0",
        "--envelope",
        "event_type",
        "--only",
        "delivery.*,signature.rejection-is-4xx",
        "--seed",
        "4242",
        "--color",
        "never",
        "--report",
        &first_arg,
    ])
    .await;
    let stdout = output.stdout.clone();
    assert_eq!(output.code, Some(1), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert_secret_free(&stdout);
    let report = read_json(&first);
    let failed = support::check(&report, "delivery.unknown-fields-tolerated").unwrap();
    assert_eq!(failed["status"], "fail");
    let repro = failed["repro"]
        .as_str()
        .expect("a failed check has a repro");
    assert!(stdout.contains(&format!("  repro: {repro}\n")), "{stdout}");
    assert!(repro.contains(" --seed 4242 --only delivery.unknown-fields-tolerated "));
    assert!(repro.contains(" --envelope event_type"), "{repro}");
    assert!(
        repro.contains(&format!("--secret-file '{}'", secret_file.display())),
        "{repro}"
    );
    assert!(
        repro.contains(
            r#"--header "X-Api-Key: $SPOTCHECK_HEADER_X_API_KEY" --header "API-Version: $SPOTCHECK_HEADER_API_VERSION""#
        ),
        "{repro}"
    );
    assert_secret_free(repro);
    // Passing checks have none.
    assert!(support::check(&report, "delivery.status-200").unwrap()["repro"].is_null());
    let warned = support::check(&report, "signature.rejection-is-4xx").unwrap();
    assert_eq!(warned["status"], "warn");
    assert!(
        warned["repro"]
            .as_str()
            .unwrap()
            .contains("--only signature.rejection-is-4xx")
    );

    // The words a shell sees are the intended ones.
    let words = shlex::split(repro).expect("the repro is valid shell");
    assert_eq!(
        &words[..4],
        ["spotcheck", "run", "--endpoint", url.as_str()]
    );
    assert!(words.contains(&secret_file.display().to_string()));

    let second = dir.join("second.json");
    let line = format!(
        "{} --color never --report {}",
        with_binary(repro),
        shell_quote(&format!("json={}", second.display()))
    );
    let replay = bash(
        &line,
        &[
            ("SPOTCHECK_HEADER_X_API_KEY", "hunter2"),
            ("SPOTCHECK_HEADER_API_VERSION", "2.0"),
        ],
        &dir,
    )
    .await;
    assert_eq!(
        replay.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&replay.stdout),
        String::from_utf8_lossy(&replay.stderr)
    );
    let replayed = read_json(&second);
    let checks = replayed["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1, "only the failed check runs");
    let again = &checks[0];
    assert_eq!(again["id"], failed["id"]);
    assert_eq!(again["status"], "fail");
    assert_eq!(again["message"], failed["message"]);
    assert_eq!(
        again["repro"], failed["repro"],
        "the replay prints the same repro"
    );
    // Same seed, same event: the same webhook id and body, and the same custom header.
    let request = |check: &serde_json::Value| check["exchanges"][0]["request"].clone();
    let header = |check: &serde_json::Value, name: &str| {
        request(check)["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].clone())
    };
    assert_eq!(
        header(again, "x-spotnana-webhook-id"),
        header(failed, "x-spotnana-webhook-id")
    );
    // The same bytes but for the times derived from the clock.
    let body =
        |check: &serde_json::Value| without_times(request(check)["body_excerpt"].as_str().unwrap());
    assert_eq!(body(again), body(failed));
    assert_eq!(request(again)["body_len"], request(failed)["body_len"]);
    assert!(
        request(again)["body_excerpt"]
            .as_str()
            .unwrap()
            .contains("\"event_type\""),
        "the envelope flag was replayed"
    );
    // Sent again (read from $SPOTCHECK_HEADER_API_VERSION); a --header value is
    // masked in the report's header position whatever its length.
    assert_eq!(
        header(again, "API-Version"),
        Some(serde_json::json!("***redacted***"))
    );
    receiver.running.shutdown().await;
}

/// `--export-curl` against a partner that answers 202: the printed command, pasted
/// into bash, sends the same method, path, body bytes and headers (signature and
/// timestamp as sent); a credential header is an environment reference; no secret.
/// Without `curl` only the replay through a shell is skipped (see `tools`).
#[tokio::test]
async fn exported_curl_sends_the_same_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let endpoint = format!("{}/hooks/spotnana?tenant=a&b=1", server.uri());
    let output = run_status_200(
        &endpoint,
        &[
            "--export-curl",
            "--header",
            "X-Api-Key: hunter2",
            "--header",
            "API-Version: 2.0",
        ],
    )
    .await;
    let stdout = output.stdout.clone();
    assert_eq!(output.code, Some(1), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert_secret_free(&stdout);
    // The command: from `curl ` to the first line without a continuation.
    let mut lines = stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("curl --silent"));
    let mut curl = String::new();
    for line in lines.by_ref() {
        curl.push_str(line);
        curl.push('\n');
        if !line.ends_with(" \\") {
            break;
        }
    }
    assert!(
        curl.contains(r#"--header "X-Api-Key: $SPOTCHECK_HEADER_X_API_KEY""#),
        "{curl}"
    );
    assert!(
        curl.contains("--header 'x-spotnana-webhook-signature: v1,"),
        "{curl}"
    );

    if tools::require_tool(tools::Tool::Curl) {
        replay_through_curl(&server, &curl).await;
    }

    // --quiet still leaves one line per failure with its replay command.
    let quiet = run_status_200(&endpoint, &["--quiet"]).await;
    let stdout = quiet.stdout.clone();
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.is_empty()).collect();
    // The failure, the latency line, the coverage line, the verdict.
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[2].starts_with("coverage: operations 0/30"),
        "{stdout}"
    );
    assert_eq!(
        lines[0],
        // The query values are read from the environment.
        format!(
            "FAIL  delivery.status-200  repro: spotcheck run --endpoint \"{}/hooks/spotnana?tenant=$SPOTCHECK_ENDPOINT_TENANT&b=$SPOTCHECK_ENDPOINT_B\" --seed 9 --only delivery.status-200",
            server.uri()
        )
    );

    // --quiet with --export-curl: the repro line, then the curl command asked for.
    let quiet_curl = run_status_200(&endpoint, &["--quiet", "--export-curl"]).await;
    let stdout = quiet_curl.stdout.clone();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("FAIL  delivery.status-200  repro: "),
        "{stdout}"
    );
    assert!(
        lines[2].trim_start().starts_with("curl --silent"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--header 'x-spotnana-webhook-signature: v1,"),
        "{stdout}"
    );
}

/// Runs the exported `curl` command through bash and checks that the partner got a
/// copy of spotcheck's delivery: same method, URL, body bytes and headers.
async fn replay_through_curl(server: &MockServer, curl: &str) {
    let dir = tempfile::tempdir().unwrap();
    let sent = bash(
        curl,
        &[
            ("SPOTCHECK_HEADER_X_API_KEY", "hunter2"),
            ("SPOTCHECK_HEADER_API_VERSION", "2.0"),
            ("SPOTCHECK_ENDPOINT_TENANT", "a"),
            ("SPOTCHECK_ENDPOINT_B", "1"),
        ],
        dir.path(),
    )
    .await;
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(String::from_utf8_lossy(&sent.stdout).starts_with("HTTP/1.1 202"));

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "spotcheck's delivery, then curl's");
    let (original, copy) = (&requests[0], &requests[1]);
    assert_eq!(copy.method, original.method);
    assert_eq!(copy.url, original.url);
    assert_eq!(copy.body, original.body, "byte-identical body");
    let mut original_headers: Vec<(String, String)> = original
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let mut copy_headers: Vec<(String, String)> = copy
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    original_headers.sort();
    copy_headers.sort();
    assert_eq!(copy_headers, original_headers, "the same headers");
    assert!(original_headers.contains(&("x-api-key".into(), "hunter2".into())));
}

proptest! {
    /// Any word, quoted, is one word with the same text to a POSIX shell parser.
    #[test]
    fn quoting_round_trips_through_a_shell_parser(word in "\\PC*") {
        let quoted = shell_quote(&word);
        prop_assert_eq!(shlex::split(&quoted), Some(vec![word]));
    }

    /// A whole replay command splits into exactly the intended words.
    #[test]
    fn replay_commands_split_into_their_words(
        endpoint in "[ -~]{1,40}",
        id in "[a-z]{1,8}\\.[a-z0-9-]{1,16}",
        seed in any::<u64>(),
        path in "\\PC{1,30}",
    ) {
        // (Query values become variable references: see the next property.)
        prop_assume!(!endpoint.contains('?'));
        let mut replay = Replay { endpoint: Some(endpoint.clone()), ..Replay::default() };
        replay.push("--ca-cert", &path);
        let words = shlex::split(&replay.command(seed, &id)).unwrap();
        prop_assert_eq!(words, vec![
            "spotcheck".to_owned(), "run".into(), "--endpoint".into(), endpoint,
            "--seed".into(), seed.to_string(), "--only".into(), id,
            "--ca-cert".into(), path,
        ]);
    }

    /// An endpoint's query values never appear in its replay command: each is a
    /// reference to `$SPOTCHECK_ENDPOINT_<NAME>`, and the rest of the URL is the same
    /// word the shell sees.
    #[test]
    fn endpoint_query_values_become_variable_references(
        path in "[a-z0-9/._-]{0,20}",
        pairs in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{1,20}", 1..4),
    ) {
        let query: Vec<String> = pairs
            .iter()
            .map(|(name, value)| {
                let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
                format!("{name}={value}")
            })
            .collect();
        let endpoint = format!("https://h.example/{path}?{}", query.join("&"));
        let replay = Replay { endpoint: Some(endpoint.clone()), ..Replay::default() };
        let line = replay.command(1, "a.b");
        let words = shlex::split(&line).unwrap();
        let expected: Vec<String> = pairs
            .keys()
            .map(|name| format!("{name}=$SPOTCHECK_ENDPOINT_{}", name.to_uppercase()))
            .collect();
        prop_assert_eq!(&words[3], &format!("https://h.example/{path}?{}", expected.join("&")));
        for (name, value) in &pairs {
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            prop_assert!(!line.contains(&format!("{name}={encoded}")), "{line}");
        }
    }
}

/// A user scenario `id` with `tags = ["mine"]` that expects `200` to one delivery.
fn mine(id: &str) -> String {
    format!(
        "id = \"{id}\"\ntitle = \"{id}\"\nlevel = \"required\"\nwhy = \"Because.\"\n\
         fix = \"Do it.\"\ntags = [\"mine\"]\n\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\n\
         expect = {{ status = 200 }}\n"
    )
}

/// A check judged over the whole run (`retry.recovers-after-failure` retries the first
/// delivery that failed) is replayed with the run's selection: `--only`, `--skip`,
/// `--tags` and `--no-builtin` are in its repro (and not in a single check's), and the
/// repro, run through a shell against the same receiver answering 500, retries the
/// same first failed delivery (same check, same webhook id), not the one of a check
/// the original run skipped.
#[tokio::test]
async fn whole_run_repro_keeps_the_selection_and_retries_the_same_delivery() {
    let receiver = support::start(vec![Flaw::Status(500)]).await;
    let dir = receiver.dir.path().to_path_buf();
    let scenarios = dir.join("mine");
    std::fs::create_dir(&scenarios).unwrap();
    std::fs::write(scenarios.join("1-first.toml"), mine("mine.first")).unwrap();
    std::fs::write(scenarios.join("2-second.toml"), mine("mine.second")).unwrap();
    let secret_file = dir.join("secret.txt");
    std::fs::write(&secret_file, SECRET).unwrap();
    let url = receiver.running.webhook_url();
    let ca = receiver.ca.display().to_string();
    let first = dir.join("first.json");
    let output = support::spotcheck(&[
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--secret-file",
        secret_file.to_str().unwrap(),
        "--no-builtin",
        "--scenarios",
        scenarios.to_str().unwrap(),
        "--only",
        "mine.*,retry.*",
        "--skip",
        "mine.first",
        "--tags",
        "mine,retry",
        "--retry-time-scale",
        "10000000",
        "--seed",
        "77",
        "--color",
        "never",
        "--report",
        &format!("json={}", first.display()),
    ])
    .await;
    assert_eq!(output.code, Some(1), "{}", output.stdout);
    let report = read_json(&first);
    let retry = support::check(&report, "retry.recovers-after-failure").unwrap();
    // A recommended check: a failure is a warning.
    assert_eq!(retry["status"], "warn", "{}", retry["message"]);
    let message = retry["message"].as_str().unwrap();
    assert!(message.contains(" in mine.second got 500"), "{message}");
    let repro = retry["repro"].as_str().expect("a failed check has a repro");
    assert!(
        repro.contains(
            " --seed 77 --only 'mine.*,retry.*' --skip mine.first --tags mine,retry --no-builtin "
        ),
        "{repro}"
    );
    assert!(output.stdout.contains(&format!("  repro: {repro}\n")));
    // A single check is selected by its id alone.
    let single = support::check(&report, "mine.second").unwrap()["repro"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(single.contains(" --only mine.second "), "{single}");
    assert!(
        !single.contains("--skip") && !single.contains("--tags"),
        "{single}"
    );

    let second = dir.join("second.json");
    let line = format!(
        "{} --color never --report {}",
        with_binary(repro),
        shell_quote(&format!("json={}", second.display()))
    );
    let replay = bash(&line, &[], &dir).await;
    assert_eq!(
        replay.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&replay.stdout),
        String::from_utf8_lossy(&replay.stderr)
    );
    let replayed = read_json(&second);
    let ids: Vec<&str> = replayed["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mine.second", "retry.recovers-after-failure"]);
    let again = support::check(&replayed, "retry.recovers-after-failure").unwrap();
    assert_eq!(
        again["message"], retry["message"],
        "the same first failed delivery"
    );
    receiver.running.shutdown().await;
}
