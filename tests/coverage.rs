//! Coverage (what the run proved, measured from what the endpoint accepted) as a user
//! sees it: the JSON report's `coverage` for a run narrowed by `--events` and `--only`,
//! `--min-coverage` on both sides of the bar (exit 0, or exit 1 with the reason at
//! the top of the reports), and the HTML section drawn in headless chromium. Every run
//! is against the built-in reference receiver over loopback.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{self, chromium, cli::Spotcheck};

/// One subscribed type with two operations, and one check: the narrow run.
const NARROW: &[&str] = &[
    "run",
    "--no-project",
    "--seed",
    "7",
    "--events",
    "PNR_V3:BOOKING_CREATED+BOOKING_TICKETED",
    "--only",
    "delivery.every-subscribed-event",
];

/// Runs the narrow run with `extra` flags and JSON, Markdown and HTML reports in `dir`.
async fn narrow(dir: &Path, extra: &[&str]) -> (support::cli::Run, Value, String, String) {
    let json = dir.join("r.json");
    let markdown = dir.join("r.md");
    let html = dir.join("r.html");
    let reports = [
        format!("json={}", json.display()),
        format!("markdown={}", markdown.display()),
        format!("html={}", html.display()),
    ];
    let run = Spotcheck::new(NARROW)
        .args(extra)
        .args(reports.iter().flat_map(|r| ["--report", r.as_str()]))
        .no_color()
        .current_dir(dir)
        .timeout(Duration::from_secs(90))
        .run()
        .await;
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}\n{}", p.display(), run.all()))
    };
    let value: Value = serde_json::from_str(&read(&json)).expect("JSON report");
    let (md, page) = (read(&markdown), read(&html));
    (run, value, md, page)
}

#[tokio::test]
async fn a_run_narrowed_by_events_and_only_reports_exactly_that_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let (run, report, markdown, _) = narrow(dir.path(), &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    support::schema::assert_schema_valid(&report);
    let coverage = &report["coverage"];
    // The control delivery and one per subscribed operation: exactly the subscription.
    assert_eq!(
        coverage["operations"],
        json!([
            { "event_type": "PNR_V3", "operation": "BOOKING_CREATED", "subscribed": true, "sent": 2, "accepted": 2 },
            { "event_type": "PNR_V3", "operation": "BOOKING_TICKETED", "subscribed": true, "sent": 1, "accepted": 1 },
        ]),
        "{coverage}"
    );
    assert_eq!(
        coverage["totals"]["operations"],
        json!({ "covered": 2, "total": 2 })
    );
    // Only PNR_V3's schema and branch fields: nothing of the types not subscribed.
    let schemas: Vec<&str> = coverage["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["schema"].as_str().unwrap())
        .collect();
    assert_eq!(schemas, ["PnrData"]);
    assert!(
        coverage["enums"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["event_type"] == "PNR_V3")
    );
    let paths = &coverage["schemas"][0]["paths"];
    let covered = paths["covered"].as_u64().unwrap();
    assert!(
        covered > 50 && covered < paths["total"].as_u64().unwrap() / 2,
        "{paths}"
    );
    assert_eq!(
        coverage["schemas"][0]["largest_uncovered"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // Three PNRs, each of one product: at most three products accepted of four.
    let products = coverage["totals"]["products"]["covered"].as_u64().unwrap();
    assert!((1..=3).contains(&products), "{coverage}");
    // One check that sends compact bodies signed `v1,…`: only those are proven.
    assert_eq!(coverage["signature_variants"], json!(["v1"]));
    assert_eq!(coverage["body_styles"], json!(["compact"]));
    // The terminal line and the Markdown section say the same.
    assert!(
        run.stdout
            .contains("coverage: operations 2/2 accepted, products "),
        "{}",
        run.stdout
    );
    assert!(markdown.contains("| Subscribed operations | 2 of 2 | 100% | ██████████ |"));
    assert!(markdown.contains("| `PNR_V3` | `BOOKING_TICKETED` | yes | 1 | 1 |"));
    assert!(!markdown.contains("TRAVELER_V2"), "{markdown}");
}

#[tokio::test]
async fn min_coverage_passes_at_the_bar_and_fails_below_it_with_its_reason_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let (met, report, markdown, _) =
        narrow(dir.path(), &["--min-coverage", "operations=100%"]).await;
    assert_eq!(met.code, Some(0), "{}", met.all());
    assert!(report.get("verdict_reason").is_none());
    assert!(report["coverage"].get("below_minimum").is_none());
    assert!(markdown.starts_with("# Spotnana webhook conformance report\n\n**Conformant**"));

    let (short, report, markdown, html) = narrow(
        dir.path(),
        &["--min-coverage", "operations=100%,schema=90%"],
    )
    .await;
    assert_eq!(short.code, Some(1), "{}", short.all());
    assert_eq!(report["summary"]["failed"], 0, "every check passed");
    assert_eq!(report["summary"]["conformant"], false);
    assert_eq!(report["verdict_reason"], "below-min-coverage");
    let below = &report["coverage"]["below_minimum"];
    assert_eq!(below.as_array().unwrap().len(), 1, "{below}");
    assert_eq!(below[0]["key"], "schema");
    assert_eq!(below[0]["required_percent"], 90);
    support::schema::assert_schema_valid(&report);
    // The reason comes first: the verdict, then the note, before anything else.
    let head: Vec<&str> = markdown.lines().take(5).collect();
    assert_eq!(
        head[2], "**NOT conformant**: see the failures below.",
        "{head:?}"
    );
    assert!(
        head[4].starts_with("> **Note:** below the minimum coverage (--min-coverage): schema "),
        "{head:?}"
    );
    assert!(head[4].contains("(at least 90% required)"), "{head:?}");
    assert!(html.contains("below the minimum coverage (--min-coverage)"));
    assert!(
        short.stdout.contains("below the minimum coverage"),
        "{}",
        short.stdout
    );
    assert!(
        short.stdout.trim_end().ends_with("— NOT conformant"),
        "{}",
        short.stdout
    );
}

#[tokio::test]
async fn a_bad_min_coverage_is_a_usage_error() {
    let run = support::spotcheck(&["run", "--no-project", "--min-coverage", "paths=5%"]).await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("unknown coverage key `paths`"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn chromium_draws_the_coverage_section_with_bars() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _, _, html) = narrow(dir.path(), &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(html.contains("<h2>Coverage</h2>"));
    assert!(!html.contains('█'), "the text bars become CSS bars");
    let Some(dom) = chromium::dom(dir.path(), &dir.path().join("r.html")).await else {
        return;
    };
    assert!(dom.contains("<h2>Coverage</h2>"), "{dom}");
    assert!(
        dom.contains("<span class=\"bar\" role=\"img\" aria-label=\"100%\"><span style=\"width:100%\"></span></span>"),
        "the operations bar, full"
    );
    assert!(dom.contains("<code>BOOKING_TICKETED</code>"));
    assert!(
        dom.contains("Signature forms: v1. Body styles: compact."),
        "{dom}"
    );
}
