//! Memory that does not grow with the proof: raising `--variants` is how a partner
//! raises coverage, so `spotcheck run` against the built-in reference receiver must
//! keep its peak resident memory (nearly) flat as the count grows. Each payload is made
//! again when it is needed instead of kept, and an accepted delivery keeps its size and
//! excerpt, not its whole body (see docs/limits.md, "Memory").
//!
//! The guard is the growth of peak RSS per extra variant between two runs of the same
//! binary that differ only in `--variants`, so neither the machine, the build profile
//! nor the load matters, and no time is measured. Each run's peak is its `VmHWM`,
//! sampled while it runs: not `ru_maxrss`, which Linux carries over from the process
//! that spawned it (this test binary, often larger than the run).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use spotcheck::signing::{Secret, Verifier};

use crate::support::cli::{Run, SECRET, Spotcheck};
use crate::support::receiver::{check, spotcheck};
use crate::support::tls_fixtures::{Leaf, LeafSpec, PartnerRequest, TestCa, https_partner};

/// The two counts compared.
const FEW: usize = 10;
const MANY: usize = 400;

/// The most peak RSS may grow per extra variant, in KiB. What each variant must keep
/// (its exchange record for the reports: headers, 1 KiB excerpts, sizes; its recipe
/// and generator position) comes to about 3 KiB, and the allocator's slack to a little
/// more (4 to 5 KiB a variant in all, measured in a debug build). Keeping each
/// payload and body, as before, cost about 94 KiB a variant.
const KIB_PER_VARIANT: u64 = 24;

/// How long one run may take before it is killed (a debug build on a loaded
/// two-core machine takes about 10 s for `MANY`).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Runs `spotcheck run` of the variants check alone against the built-in reference
/// receiver, sampling its peak resident memory.
async fn run_variants(count: usize) -> Run {
    Spotcheck::new([
        "run",
        "--only",
        "payload.schema-variants-accepted",
        "--variants",
        &count.to_string(),
        "--seed",
        "3",
    ])
    .secret(SECRET)
    .no_color()
    .sample_peak_memory()
    .timeout(RUN_LIMIT)
    .run()
    .await
}

#[tokio::test]
async fn peak_memory_does_not_grow_with_the_variants() {
    let few = run_variants(FEW).await;
    let many = run_variants(MANY).await;
    for (count, run) in [(FEW, &few), (MANY, &many)] {
        assert_eq!(run.code, Some(0), "--variants {count}:\n{}", run.all());
        // The runs did what is measured: every variant delivered and counted.
        assert!(
            run.stdout
                .contains(&format!("all {count} variants generated")),
            "--variants {count}:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("coverage: operations"),
            "{}",
            run.stdout
        );
        assert!(run.peak_kib > 0, "--variants {count}: no peak RSS");
    }
    let growth = many.peak_kib.saturating_sub(few.peak_kib);
    let per_variant = growth / (MANY - FEW) as u64;
    eprintln!(
        "peak RSS: --variants {FEW}: {} KiB, --variants {MANY}: {} KiB ({per_variant} KiB a variant)",
        few.peak_kib, many.peak_kib
    );
    assert!(
        per_variant <= KIB_PER_VARIANT,
        "peak RSS grew {growth} KiB from --variants {FEW} ({} KiB) to {MANY} ({} KiB): \
         {per_variant} KiB per variant, over the {KIB_PER_VARIANT} KiB bound",
        few.peak_kib,
        many.peak_kib
    );
}

/// The header value of a recorded request in a JSON report.
fn header<'a>(exchange: &'a Value, name: &str) -> &'a str {
    exchange["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .and_then(|pair| pair[1].as_str())
        .unwrap_or_default()
}

/// Most accepted variants let their bodies go; the whole bodies something still reads
/// stay: `retry.recovers-after-failure` resends the variants check's first refused
/// delivery (its signature verifies over the kept body), and `--export-curl` prints
/// the shrunk payload's failing delivery with its body.
#[tokio::test]
async fn the_bodies_a_later_check_or_report_reads_are_kept() {
    spotcheck::init_crypto();
    let ca = TestCa::new("memory test CA");
    let leaf = Leaf::signed(&ca, LeafSpec::default());
    // Refuses a PNR without `totalFare` the first time its webhook id comes, takes
    // its retry.
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()]);
    let refused: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let server = https_partner(&leaf, move |request: &PartnerRequest| {
        let id = request.header("x-spotnana-webhook-id").unwrap_or_default();
        if !request.signed_for(&verifier) {
            return 401;
        }
        let event: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let needs_fare =
            event["eventType"] == "PNR_V3" && event["payload"].get("totalFare").is_none();
        if needs_fare && refused.lock().unwrap().insert(id.to_owned()) {
            500
        } else {
            200
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca_path = ca.write_pem(dir.path(), "ca.pem");
    let report_path = dir.path().join("report.json");
    let url = server.https_url();
    let report_arg = format!("json={}", report_path.display());
    let run = spotcheck(&[
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        ca_path.to_str().unwrap(),
        "--only",
        "payload.schema-variants-accepted,retry.recovers-after-failure",
        "--variants",
        "60",
        "--seed",
        "11",
        "--export-curl",
        "--report",
        &report_arg,
    ])
    .await;
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let variants = check(&report, "payload.schema-variants-accepted").unwrap();
    assert_eq!(variants["status"], "fail", "{}", run.all());
    assert!(
        variants["message"]
            .as_str()
            .unwrap()
            .contains(r#"[{"op":"remove","path":"/totalFare"}] → 500"#),
        "{variants}"
    );
    // The retry resends the first refused delivery of the check, as listed.
    let exchanges = variants["exchanges"].as_array().unwrap();
    let first_refused = exchanges
        .iter()
        .find(|e| e["response"]["status"] != 200)
        .unwrap();
    let recovery = check(&report, "retry.recovers-after-failure").unwrap();
    assert_eq!(recovery["status"], "pass", "{recovery}");
    let retried = &recovery["exchanges"][0];
    assert_eq!(
        header(retried, "x-spotnana-webhook-id"),
        header(first_refused, "x-spotnana-webhook-id"),
        "{recovery}"
    );
    assert_eq!(
        retried["request"]["body_len"], first_refused["request"]["body_len"],
        "the retry carries the whole body"
    );
    // `--export-curl` prints the last delivery (the shrunk payload) with its body.
    let last = exchanges.last().unwrap();
    assert_ne!(last["response"]["status"], 200, "{last}");
    let output = run.all();
    let curl = output
        .split("curl (the last request of this check")
        .nth(1)
        .unwrap_or_else(|| panic!("no curl command:\n{output}"));
    assert!(curl.contains("--data-binary"), "{curl}");
    assert!(!curl.contains("not shown"), "{curl}");
    assert!(
        curl.contains(header(last, "x-spotnana-webhook-id")),
        "{curl}"
    );
}
