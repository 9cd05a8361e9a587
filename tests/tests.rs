//! spotcheck's integration tests, built as one test binary: each file in `tests/` is a
//! module of this crate and `tests/support/` is the code they share. One binary links
//! the library and its dependencies once, where a binary per file linked them forty
//! times over.
//!
//! Run one file's tests with `cargo test --test tests reports::`, one test with
//! `cargo test --test tests -- --exact reports::conformant_endpoint_snapshots`.

mod support;

mod architecture;
mod bad_input;
mod builtin_scenarios;
mod catalogue;
mod ci_files;
mod ci_tools;
mod cli_docs;
mod completions;
mod connections;
mod coverage;
mod determinism;
mod diagnose;
mod documented;
mod engine_events;
mod exec_step;
mod file_limits;
mod fixtures;
mod hardening;
mod hostile;
mod interrupt;
mod load;
mod load_capacity;
mod memory;
mod mtls;
mod oauth;
mod payload_overrides;
mod payload_schema;
mod probe_vectors;
mod receiver_abuse;
mod report_html;
mod reports;
mod repro;
mod reserializers;
mod retry;
mod routes;
mod run_cli;
mod run_flaws;
mod scenario_errors;
mod scenario_fuzz;
mod scenario_schema;
mod schema_variants;
mod secrets;
mod self_contained;
mod send;
mod sender_events;
mod serve;
mod serve_cli;
mod shard_auto;
mod sign_verify;
mod signing;
mod stateful;
mod stories;
mod strict;
mod subscription;
mod timing_alone;
mod tls_probe;
mod tls_strength;
mod unreachable;
mod verdicts;
mod where_requests_go;
mod workflows;

/// A file in `tests/` that is not declared above is never built, so its tests would
/// silently never run: each one must be a module of this binary.
#[test]
fn every_test_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let root = std::fs::read_to_string(dir.join("tests.rs")).unwrap();
    let declared: std::collections::BTreeSet<&str> = root
        .lines()
        .filter_map(|line| line.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "tests"
            && !declared.contains(module)
        {
            missing.push(format!("mod {module};"));
        }
    }
    assert!(
        missing.is_empty(),
        "test files not declared in tests/tests.rs (their tests are never built): {}",
        missing.join(" ")
    );
}
