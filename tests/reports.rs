//! The reports a user gets from `spotcheck run`: JSON (validated against
//! docs/report.schema.json), JUnit XML (validated with xmllint against the schema the
//! Jenkins xUnit plugin enforces, vendored in tests/data/junit-10.xsd),
//! the Markdown sign-off report, TAP 14 (parsed: plan, numbering, YAML blocks), the HTML
//! sign-off page and the terminal output, as insta snapshots in
//! `snapshots/` for a fixed seed against a conformant and a flawed receiver over real
//! HTTPS on loopback. Volatile parts (ports, clocks, signatures, durations) are
//! replaced by placeholders in the snapshots; everything else is what the user sees.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use spotcheck::receiver::Flaw;

use crate::support::{self, schema, snapshot, tools};

use schema::{assert_schema_valid, schema_errors};

use support::{SECRET, status_of};

/// A handful of checks covering TLS, a plain delivery, a rejection, a recommended
/// check and a redelivery: enough for every report section, small enough to review.
const SNAPSHOT_CHECKS: &str = "tls.*,delivery.status-200,delivery.trace-headers-tolerated,\
delivery.unknown-fields-tolerated,delivery.large-payload,signature.valid-accepted,signature.missing-rejected,signature.stale-timestamp-rejected,\
signature.rejection-is-4xx,retry.redelivery-idempotent";

/// What one `spotcheck run` left behind.
struct Run {
    output: Output,
    json: String,
    junit: String,
    markdown: String,
    tap: String,
    html: String,
    junit_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn report(&self) -> serde_json::Value {
        serde_json::from_str(&self.json).expect("the JSON report parses")
    }
}

/// Runs the binary against a reference receiver with these flaws, writing all three reports.
async fn run_against(flaws: Vec<Flaw>, extra: &[&str]) -> Run {
    let receiver = support::start(flaws).await;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"));
    command
        .arg("run")
        .arg("--endpoint")
        .arg(receiver.running.webhook_url())
        .arg("--ca-cert")
        .arg(&receiver.ca)
        .arg("--state-url")
        .arg(receiver.running.state_url())
        .args(extra)
        .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
        .env_remove("NO_COLOR")
        .kill_on_drop(true);
    let run = finish(command, tempfile::tempdir().unwrap()).await;
    receiver.running.shutdown().await;
    run
}

/// Adds the five `--report` options, runs the command (60 s at most) and reads the reports.
async fn finish(mut command: tokio::process::Command, dir: tempfile::TempDir) -> Run {
    let json = dir.path().join("report.json");
    let junit = dir.path().join("report.xml");
    let markdown = dir.path().join("report.md");
    let tap = dir.path().join("report.tap");
    let html = dir.path().join("report.html");
    command
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("markdown={}", markdown.display()))
        .arg("--report")
        .arg(format!("tap={}", tap.display()))
        .arg("--report")
        .arg(format!("html={}", html.display()));
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("spotcheck run finishes within 60 s")
        .expect("spotcheck runs");
    let read = |path: &Path| {
        std::fs::read_to_string(path).unwrap_or_else(|err| {
            panic!(
                "report {} missing ({err}); stderr: {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr)
            )
        })
    };
    Run {
        json: read(&json),
        junit: read(&junit),
        markdown: read(&markdown),
        tap: read(&tap),
        html: read(&html),
        junit_path: junit,
        output,
        _dir: dir,
    }
}

fn snapshot_args() -> Vec<&'static str> {
    vec![
        "--only",
        SNAPSHOT_CHECKS,
        "--seed",
        "20261129",
        "--jobs",
        "1",
        "--color",
        "never",
    ]
}

/// Snapshots a report with the volatile parts replaced by placeholders. The days a
/// certificate has left are not among them: the reference receiver's certificate runs
/// 90 days from an hour before it starts, so they read 90 (the 30-day threshold of
/// `tls.certificate-expiry` is pinned from both sides in tests/tls_probe.rs).
fn snapshot(name: &str, text: &str) {
    let filters: Vec<(&str, &str)> = vec![
        (r"(/[^\s\x22'/]+)*/\.tmp[A-Za-z0-9]{6}", "[tmpdir]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
            "[timestamp]",
        ),
        (r"\b\d{4}-\d{2}-\d{2}\b", "[date]"),
        (
            r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
            "[http-date]",
        ),
        (r"v1,[A-Za-z0-9+/]{43}=", "v1,[signature]"),
        (r"\b1\d{9}\b", "[unix-time]"),
        (r#""([a-z0-9_]*_ms)": [0-9.]+"#, r#""$1": "[ms]""#),
        (r"(?m)^  duration_ms: \d+$", "  duration_ms: [ms]"),
        (r#""port": \d+"#, r#""port": "[port]""#),
        (r#""seconds_left": -?\d+"#, r#""seconds_left": "[seconds]""#),
        (r" +\d+(\.\d+)? ms", " [ms]"),
        (r"\b\d+(\.\d+)? ms", "[ms]"),
        (r"\b\d+\.\d s\b", "[s]"),
        (r#"time="[0-9.]+""#, r#"time="[s]""#),
        // The receiver measures a signed timestamp's age when the delivery arrives: a
        // second may tick between signing and reading on a loaded machine.
        (r"timestamp is \d+ s (old|ahead)", "timestamp is [n] s $1"),
        // How many connections concurrent checks open depends on their timing.
        (
            r#""(opened|reused|resent|closed_without_notice)": \d+"#,
            r#""$1": "[count]""#,
        ),
    ];
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => filters,
    }, {
        insta::assert_snapshot!(snapshot::name(module_path!(), name), text);
    });
}

/// The published JUnit schema the reports are checked against (see its `.SOURCE`).
const JUNIT_XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/junit-10.xsd");

/// Runs `xmllint --schema tests/data/junit-10.xsd`; `None` when xmllint is not
/// installed and the test may skip it (see `tools::require_tool`).
fn xsd_validate(path: &Path) -> Option<Result<(), String>> {
    if !tools::require_tool(tools::Tool::Xmllint) {
        return None;
    }
    let output = std::process::Command::new(tools::Tool::Xmllint.command())
        .args(["--noout", "--schema", JUNIT_XSD])
        .arg(path)
        .output()
        .expect("xmllint runs");
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    Some(if output.status.success() {
        Ok(())
    } else {
        Err(text)
    })
}

#[tokio::test]
async fn conformant_endpoint_snapshots() {
    let run = run_against(vec![], &snapshot_args()).await;
    assert_eq!(run.code(), Some(0), "stdout: {}", run.stdout());
    let report = run.report();
    assert_schema_valid(&report);
    assert_eq!(report["summary"]["conformant"], true);
    assert_eq!(report["summary"]["passed"], 18);
    snapshot("conformant_json", &run.json);
    snapshot("conformant_junit", &run.junit);
    snapshot("conformant_markdown", &run.markdown);
    snapshot("conformant_terminal", &run.stdout());
    snapshot("conformant_tap", &run.tap);
    let tap = parse_tap(&run.tap);
    assert_eq!(tap.len(), 18);
    assert!(
        tap.iter()
            .all(|p| p.ok && p.directive.is_empty() && p.yaml.is_empty())
    );
    assert!(!run.html.contains("class=\"repro\""));
    assert_eq!(run.html.matches("<tr class=\"check pass\"").count(), 18);
}

/// One TAP test point.
#[derive(Debug)]
struct TapPoint {
    ok: bool,
    description: String,
    /// `# SKIP …` / `# TODO …`, empty when none.
    directive: String,
    /// The YAML diagnostic block as key → decoded string value.
    yaml: Vec<(String, String)>,
}

/// Parses TAP 14 strictly enough to catch mistakes: the version line, one plan that
/// matches the number of test points, points numbered 1..N in order, YAML blocks
/// indented by two spaces between `---` and `...` whose values are quoted strings or
/// numbers, and nothing else but comments.
fn parse_tap(text: &str) -> Vec<TapPoint> {
    let mut lines = text.lines().peekable();
    assert_eq!(lines.next(), Some("TAP version 14"), "{text}");
    let plan = lines.next().expect("a plan line");
    let planned: usize = plan
        .strip_prefix("1..")
        .and_then(|n| n.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad plan `{plan}`"));
    let mut points: Vec<TapPoint> = Vec::new();
    while let Some(line) = lines.next() {
        if line.starts_with("# ") {
            continue;
        }
        if line == "  ---" {
            let point = points
                .last_mut()
                .expect("a YAML block follows a test point");
            loop {
                let line = lines.next().expect("the YAML block ends with `  ...`");
                if line == "  ..." {
                    break;
                }
                let (key, value) = line
                    .strip_prefix("  ")
                    .and_then(|l| l.split_once(": "))
                    .unwrap_or_else(|| panic!("bad YAML line `{line}`"));
                let value = if value.starts_with('"') {
                    serde_json::from_str::<String>(value).expect("a quoted YAML string")
                } else {
                    assert!(value.parse::<u64>().is_ok(), "bad YAML value `{line}`");
                    value.to_owned()
                };
                point.yaml.push((key.to_owned(), value));
            }
            continue;
        }
        let (ok, rest) = match line.strip_prefix("not ok ") {
            Some(rest) => (false, rest),
            None => (
                true,
                line.strip_prefix("ok ")
                    .unwrap_or_else(|| panic!("not a TAP line: `{line}`")),
            ),
        };
        let (number, rest) = rest.split_once(" - ").expect("`N - description`");
        assert_eq!(number.parse::<usize>().unwrap(), points.len() + 1, "{line}");
        // A directive starts at the first unescaped ` # `.
        let (description, directive) = match rest.find(" # ") {
            Some(at) if !rest[..at].ends_with('\\') => (&rest[..at], &rest[at + 3..]),
            _ => (rest, ""),
        };
        points.push(TapPoint {
            ok,
            description: description.to_owned(),
            directive: directive.to_owned(),
            yaml: Vec::new(),
        });
    }
    assert_eq!(points.len(), planned, "the plan matches the test points");
    points
}

fn yaml<'a>(point: &'a TapPoint, key: &str) -> &'a str {
    point
        .yaml
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no `{key}` in {point:?}"))
}

/// A strict deserializer and a 100 KiB body limit (two required failures), refusals
/// answered 500 and stale timestamps accepted (two warnings).
#[tokio::test]
async fn failing_endpoint_snapshots() {
    let flaws = vec![
        Flaw::StrictFields,
        Flaw::BodyLimit(100 * 1024),
        Flaw::RejectWith500,
        Flaw::NoTimestampCheck,
    ];
    let run = run_against(flaws, &snapshot_args()).await;
    assert_eq!(run.code(), Some(1), "stdout: {}", run.stdout());
    let report = run.report();
    assert_schema_valid(&report);
    assert_eq!(
        status_of(&report, "delivery.unknown-fields-tolerated"),
        "fail"
    );
    assert_eq!(status_of(&report, "delivery.large-payload"), "fail");
    assert_eq!(report["summary"]["failed"], 2, "{}", run.stdout());
    assert_eq!(report["summary"]["passed"], 14, "{}", run.stdout());
    assert_eq!(status_of(&report, "signature.rejection-is-4xx"), "warn");
    assert_eq!(
        status_of(&report, "signature.stale-timestamp-rejected"),
        "warn"
    );
    assert_eq!(report["summary"]["conformant"], false);
    assert!(
        run.stdout().trim_end().ends_with("— NOT conformant"),
        "{}",
        run.stdout()
    );
    snapshot("failing_json", &run.json);
    snapshot("failing_junit", &run.junit);
    snapshot("failing_markdown", &run.markdown);
    snapshot("failing_terminal", &run.stdout());
    snapshot("failing_tap", &run.tap);
    snapshot("failing_html", &run.html);

    // Every failure and warning carries the command that replays it, in every format.
    for id in [
        "delivery.unknown-fields-tolerated",
        "delivery.large-payload",
        "signature.rejection-is-4xx",
        "signature.stale-timestamp-rejected",
    ] {
        let repro = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .and_then(|c| c["repro"].as_str())
            .unwrap_or_else(|| panic!("{id} has a repro"))
            .to_owned();
        assert!(
            repro.starts_with("spotcheck run --endpoint https://127.0.0.1:")
                && repro.contains(&format!(" --seed 20261129 --only {id} --ca-cert ")),
            "{repro}"
        );
        assert!(
            run.stdout().contains(&format!("  repro: {repro}\n")),
            "{id}"
        );
        assert!(
            run.markdown.contains(&format!("```sh\n{repro}\n```")),
            "{id}"
        );
        assert!(
            run.junit
                .contains(&format!("repro: {}", repro.replace('\'', "&apos;"))),
            "{id}"
        );
        assert!(
            run.html.contains(&format!(
                "data-check-id=\"{id}\"><code class=\"language-sh\">{repro}"
            )),
            "{id}"
        );
        let tap = parse_tap(&run.tap);
        let point = tap
            .iter()
            .find(|p| p.description.starts_with(&format!("{id} ")))
            .unwrap();
        assert_eq!(yaml(point, "repro"), repro);
    }
    let passing = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("repro").is_some())
        .count();
    assert_eq!(passing, 4, "only failures and warnings carry a repro");

    // TAP: failures `not ok`, warnings `not ok # TODO` (harness stays green), passes `ok`.
    let tap = parse_tap(&run.tap);
    assert_eq!(tap.len(), 18);
    let failing: Vec<&TapPoint> = tap
        .iter()
        .filter(|p| !p.ok && p.directive.is_empty())
        .collect();
    assert_eq!(failing.len(), 2, "{tap:?}");
    assert_eq!(yaml(failing[0], "severity"), "fail");
    assert_eq!(yaml(failing[0], "level"), "required");
    assert!(!yaml(failing[0], "fix").is_empty());
    let todo: Vec<&TapPoint> = tap
        .iter()
        .filter(|p| p.directive.starts_with("TODO warning"))
        .collect();
    assert_eq!(todo.len(), 2, "{tap:?}");
    assert!(todo.iter().all(|p| !p.ok && yaml(p, "severity") == "warn"));
    assert_eq!(tap.iter().filter(|p| p.ok).count(), 14);

    // JUnit: the failure carries the message and the exchange; warnings pass with a note.
    assert!(run.junit.contains(r#"failures="2""#), "{}", run.junit);
    assert!(
        run.junit.contains("&lt; 413 Payload Too Large"),
        "{}",
        run.junit
    );
    assert!(run.junit.contains("X-B3-TraceId"), "{}", run.junit);
    assert_eq!(run.junit.matches("<system-out>WARNING").count(), 2);
    if let Some(result) = xsd_validate(&run.junit_path) {
        result.expect("JUnit report validates against the published XSD");
    }
}

/// Every built-in check against the in-process reference receiver (the demo): the
/// whole JSON report, every exchange included, matches the schema, and the JUnit
/// report matches the XSD.
#[tokio::test]
async fn full_demo_run_matches_schema_and_xsd() {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"));
    command
        .args(["run", "--seed", "3", "--color", "never"])
        .kill_on_drop(true);
    let run = finish(command, tempfile::tempdir().unwrap()).await;
    assert_eq!(run.code(), Some(0), "stdout: {}", run.stdout());
    let report = run.report();
    assert_schema_valid(&report);
    assert_eq!(report["reference_receiver"], true);
    // The reference receiver's URL dies with the run: the command to reproduce it has none.
    assert!(
        run.markdown.contains("```sh\nspotcheck run --seed 3\n```"),
        "{}",
        run.markdown
    );
    assert!(report["tls"]["certificate"]["verified"] == true);
    assert!(report["latency"]["samples"].as_u64().unwrap() > 50);
    if let Some(result) = xsd_validate(&run.junit_path) {
        result.expect("JUnit report validates against the published XSD");
    }

    // The validators do reject what does not conform (so the checks above can fail).
    let mut broken = report.clone();
    broken["checks"][0]["status"] = "passed".into();
    broken["tls"]["versions"][0]["outcome"] = serde_json::Value::Null;
    broken.as_object_mut().unwrap().remove("summary");
    assert_eq!(
        schema_errors(&broken).len(),
        3,
        "{:?}",
        schema_errors(&broken)
    );
    let bad_xml = run.junit_path.with_file_name("bad.xml");
    std::fs::write(
        &bad_xml,
        run.junit
            .replacen(r#"<testcase name=""#, r#"<testcase title=""#, 1),
    )
    .unwrap();
    if let Some(result) = xsd_validate(&bad_xml) {
        let err = result.expect_err("a test case without a name does not validate");
        assert!(err.contains("'name' is required"), "{err}");
    }
}

/// A plain-HTTP endpoint: the TLS block has no certificate, the delivery checks are
/// skipped, and every report still validates; skips are `<skipped>` in JUnit.
#[tokio::test]
async fn plain_http_endpoint_reports_validate() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"));
    command
        .args(["run", "--only", "tls.*", "--color", "never", "--endpoint"])
        .arg(format!("http://127.0.0.1:{port}/hooks"))
        .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
        .kill_on_drop(true);
    let run = finish(command, tempfile::tempdir().unwrap()).await;
    assert_eq!(run.code(), Some(1));
    let report = run.report();
    assert_schema_valid(&report);
    assert!(report["tls"]["certificate"].is_null());
    assert_eq!(status_of(&report, "tls.https-required"), "fail");
    assert_eq!(run.junit.matches("<skipped").count(), 8, "{}", run.junit);
    assert!(run.markdown.contains("No certificate was seen"));
    if let Some(result) = xsd_validate(&run.junit_path) {
        result.expect("JUnit report validates against the published XSD");
    }
}

/// A skipped check's typed reason reaches JUnit and TAP too: JUnit's `<skipped>` has
/// the reason's kind as its `type` (valid against both JUnit schemas), TAP's skip point
/// keeps its directive and gains a YAML block `reason: "needs-state-url"`.
#[tokio::test]
async fn skips_carry_their_typed_reason_in_junit_and_tap() {
    let receiver = support::start(vec![]).await;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"));
    command
        .args(["run", "--color", "never", "--only"])
        .arg("retry.duplicate-processed-once,delivery.status-200")
        .arg("--endpoint")
        .arg(receiver.running.webhook_url())
        .arg("--ca-cert")
        .arg(&receiver.ca)
        .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
        .kill_on_drop(true);
    let run = finish(command, tempfile::tempdir().unwrap()).await;
    receiver.running.shutdown().await;
    assert_eq!(run.code(), Some(0), "stdout: {}", run.stdout());
    let report = run.report();
    let skipped = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "retry.duplicate-processed-once")
        .expect("the check is reported");
    assert_eq!(skipped["reason"]["kind"], "needs-state-url");
    let message = skipped["message"].as_str().unwrap();

    assert!(
        run.junit.contains(&format!(
            "<skipped message=\"{message}\" type=\"needs-state-url\"/>"
        )),
        "{}",
        run.junit
    );
    if support::tools::require_tool(support::tools::Tool::Xmllint) {
        for xsd in ["docs/junit.xsd", "tests/data/junit-10.xsd"] {
            let output = std::process::Command::new(support::tools::Tool::Xmllint.command())
                .args(["--noout", "--schema"])
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(xsd))
                .arg(&run.junit_path)
                .output()
                .expect("xmllint runs");
            assert!(
                output.status.success(),
                "not valid against {xsd}: {}\n{}",
                String::from_utf8_lossy(&output.stderr),
                run.junit
            );
        }
    }

    let tap = parse_tap(&run.tap);
    let point = tap
        .iter()
        .find(|p| p.description.starts_with("retry.duplicate-processed-once "))
        .expect("a test point for the skipped check");
    assert!(point.ok);
    assert_eq!(point.directive, format!("SKIP {message}"));
    assert_eq!(yaml(point, "reason"), "needs-state-url", "{}", run.tap);
    let passed = tap
        .iter()
        .find(|p| p.description.starts_with("delivery.status-200 "))
        .unwrap();
    assert!(
        passed.yaml.is_empty(),
        "a pass has no YAML block: {passed:?}"
    );
}

/// `--quiet` prints the summary only; `--verbose` every exchange; `--color always`
/// colours, `never` does not; `--report json=-` puts the JSON alone on stdout.
#[tokio::test]
async fn terminal_options() {
    let only = ["--only", "delivery.status-200,signature.missing-rejected"];
    let quiet = run_against(
        vec![],
        &[&only[..], &["--quiet", "--color", "never"]].concat(),
    )
    .await;
    assert_eq!(quiet.code(), Some(0));
    let lines: Vec<&str> = quiet
        .output
        .stdout
        .split(|b| *b == b'\n')
        .map(|l| std::str::from_utf8(l).unwrap())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("latency: "), "{lines:?}");
    assert!(lines[1].starts_with("coverage: operations "), "{lines:?}");
    assert!(lines[2].starts_with("2 passed, 0 failed, 0 warned, 0 skipped in "));
    assert!(lines[2].ends_with("— conformant"), "{lines:?}");

    let verbose = run_against(
        vec![],
        &[&only[..], &["--verbose", "--color", "always"]].concat(),
    )
    .await;
    let out = verbose.stdout();
    assert!(out.contains("> POST https://127.0.0.1:"), "{out}");
    assert!(out.contains("< 401 Unauthorized"), "{out}");
    assert!(out.contains("\u{1b}[32mPASS\u{1b}[0m"), "{out}");
    assert!(!out.contains(SECRET) && !out.contains(&SECRET[6..]));

    let plain = run_against(vec![], &[&only[..], &["--color", "never"]].concat()).await;
    assert!(!plain.stdout().contains('\u{1b}'));
    assert!(
        !plain.stdout().contains("> POST"),
        "passing checks show no exchanges without --verbose"
    );
    // Not a terminal: no progress bar, and nothing but the reports' own errors on stderr.
    assert!(
        plain.output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&plain.output.stderr)
    );

    let json_stdout = run_against(vec![], &[&only[..], &["--report", "json=-"]].concat()).await;
    let parsed: serde_json::Value = serde_json::from_slice(&json_stdout.output.stdout)
        .expect("with --report json=- stdout holds only the JSON report");
    assert_schema_valid(&parsed);
    assert!(String::from_utf8_lossy(&json_stdout.output.stderr).contains("— conformant"));
}

/// A report path in a missing folder fails before any delivery, with exit code 2.
#[test]
fn report_folder_must_exist() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["run", "--report", "json=/nonexistent-folder/r.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("folder /nonexistent-folder does not exist"),
        "{stderr}"
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["run", "--report", "yaml=r.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("expected json, junit, markdown, tap, html or github")
    );
}
