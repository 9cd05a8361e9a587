//! `--strict` over the CLI: a reference receiver whose one flaw only warns
//! (`delivery.unknown-operation-tolerated`, a recommended check), run once without and
//! once with `--strict`, and what a user sees: the exit code (README's table: `0` "with
//! `--strict`: and no warning"), the JUnit testcase (a passing case with a `WARNING`
//! note, a `<failure>` under `--strict`) and the TAP point (`# TODO warning`, plain
//! `not ok` under `--strict`).

use spotcheck::receiver::Flaw;

use crate::support;

const CHECK: &str = "delivery.unknown-operation-tolerated";

struct Outputs {
    code: Option<i32>,
    stdout: String,
    junit: String,
    tap: String,
    json: serde_json::Value,
}

async fn run(strict: bool) -> Outputs {
    let receiver = support::start(vec![Flaw::RejectUnknownOperations]).await;
    let dir = receiver.dir.path();
    let (junit, tap, json) = (dir.join("r.xml"), dir.join("r.tap"), dir.join("r.json"));
    let url = receiver.running.webhook_url();
    let ca = receiver.ca.display().to_string();
    let reports = [
        format!("junit={}", junit.display()),
        format!("tap={}", tap.display()),
        format!("json={}", json.display()),
    ];
    let mut args = vec![
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--only",
        CHECK,
        "--seed",
        "7",
    ];
    for report in &reports {
        args.extend(["--report", report.as_str()]);
    }
    if strict {
        args.push("--strict");
    }
    let output = support::spotcheck(&args).await;
    receiver.running.shutdown().await;
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), output.all()))
    };
    Outputs {
        code: output.code,
        stdout: output.stdout.clone(),
        junit: read(&junit),
        tap: read(&tap),
        json: serde_json::from_str(&read(&json)).unwrap(),
    }
}

/// The `<testcase …>…</testcase>` (or self-closed) element of `CHECK`.
fn testcase(junit: &str) -> &str {
    let start = junit
        .find(&format!("<testcase name=\"{CHECK}\""))
        .unwrap_or_else(|| panic!("no testcase for {CHECK}:\n{junit}"));
    let rest = &junit[start..];
    let open_end = rest.find('>').unwrap();
    if rest[..open_end].ends_with('/') {
        return &rest[..=open_end];
    }
    let end = rest.find("</testcase>").unwrap() + "</testcase>".len();
    &rest[..end]
}

/// The TAP test point line of `CHECK`.
fn tap_point(tap: &str) -> &str {
    tap.lines()
        .find(|line| line.contains(&format!(" - {CHECK} ")))
        .unwrap_or_else(|| panic!("no TAP point for {CHECK}:\n{tap}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_passes_without_strict_and_fails_with_it() {
    let (plain, strict) = tokio::join!(run(false), run(true));
    for outputs in [&plain, &strict] {
        assert_eq!(
            support::status_of(&outputs.json, CHECK),
            "warn",
            "the flaw only warns: {}",
            outputs.stdout
        );
        assert_eq!(outputs.json["checks"].as_array().unwrap().len(), 1);
    }

    // Exit codes: the README's table.
    assert_eq!(plain.code, Some(0), "{}", plain.stdout);
    assert_eq!(strict.code, Some(1), "{}", strict.stdout);
    assert!(plain.stdout.contains("conformant") && !plain.stdout.contains("NOT conformant"));
    assert!(
        strict.stdout.contains("NOT conformant"),
        "{}",
        strict.stdout
    );

    // JUnit: a warning is a passing testcase with a WARNING note, a failure under --strict.
    let case = testcase(&plain.junit);
    assert!(!case.contains("<failure"), "{case}");
    assert!(
        case.contains("<system-out>WARNING (recommended check failed"),
        "{case}"
    );
    assert!(plain.junit.contains(" failures=\"0\""), "{}", plain.junit);
    let case = testcase(&strict.junit);
    assert!(case.contains("<failure"), "{case}");
    assert!(case.contains("type=\"recommended\""), "{case}");
    assert!(!case.contains("WARNING (recommended"), "{case}");
    assert!(strict.junit.contains(" failures=\"1\""), "{}", strict.junit);

    // TAP: `# TODO` keeps a harness green; --strict drops it.
    let point = tap_point(&plain.tap);
    assert!(point.starts_with("not ok 1 - "), "{point}");
    assert!(
        point.ends_with(
            " # TODO warning: recommended check failed (fails the run only with --strict)"
        ),
        "{point}"
    );
    let point = tap_point(&strict.tap);
    assert!(point.starts_with("not ok 1 - "), "{point}");
    assert!(!point.contains('#'), "no directive under --strict: {point}");
}
