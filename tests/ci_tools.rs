//! A test that needs an external program never passes silently without it: with `CI`
//! set it fails naming the program and its Debian package; without, it skips with a
//! line `cargo test` really shows. Proved by running this test binary again, with a
//! `PATH` where `curl` cannot be found, as `cargo test` runs it (output captured).

use crate::support::tools;

use std::process::{Command, Output};

use tools::Tool;

/// Run only by the tests below, in a child process whose `PATH` has no `curl`.
#[test]
#[ignore = "run by the tests below with a PATH without curl"]
fn needs_curl() {
    if !tools::require_tool(Tool::Curl) {
        return;
    }
    panic!("curl was found on a PATH that does not have it");
}

/// `needs_curl` as libtest names it (`ci_tools::needs_curl`): its module path in the
/// test binary without the binary's own name. libtest also names the test's thread so,
/// which is what a skip line shows.
fn needs_curl_name() -> String {
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, module)| module);
    format!("{module}::needs_curl")
}

/// Runs `needs_curl` in this test binary with an empty `PATH`, `CI` as given.
fn run_needs_curl(ci: Option<&str>) -> Output {
    let empty = tempfile::tempdir().unwrap();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--ignored",
            "--exact",
            &needs_curl_name(),
            "--test-threads",
            "1",
        ])
        .env("PATH", empty.path());
    match ci {
        Some(value) => command.env("CI", value),
        None => command.env_remove("CI"),
    };
    command.output().expect("the test binary runs")
}

#[test]
fn missing_tool_fails_under_ci_naming_it_and_its_package() {
    let output = run_needs_curl(Some("true"));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(101), "{all}");
    assert!(
        all.contains(
            "`curl` is not installed (Debian package `curl`; .ci/run installs it); \
             CI is set, so this test fails instead of skipping"
        ),
        "{all}"
    );
    let failed = format!("test {} ... FAILED", needs_curl_name());
    assert!(all.contains(&failed), "{all}");
}

#[test]
fn missing_tool_outside_ci_is_a_skip_cargo_test_shows() {
    let output = run_needs_curl(None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    // Captured output of a passing test is dropped: the line is there only because
    // it bypasses the capture.
    assert!(
        stderr.contains(&format!(
            "SKIPPED ({}): `curl` is not installed (Debian package `curl`; .ci/run installs it)",
            needs_curl_name()
        )),
        "stdout: {stdout}\nstderr: {stderr}"
    );
}

#[test]
fn installed_tools_are_found() {
    // The same answer as the shell's lookup `.ci/run` uses.
    for tool in [Tool::Chromium, Tool::Xmllint, Tool::Openssl, Tool::Curl] {
        let on_path = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {}", tool.command()))
            .output()
            .unwrap()
            .status
            .success();
        assert_eq!(tool.installed(), on_path, "{tool:?}");
    }
}
