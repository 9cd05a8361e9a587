//! Bad command-line input: every mistake is refused before anything is sent, with
//! exit code 2 and an `error:` line saying what is wrong (and, where useful, one
//! `hint:` line saying how to fix it). All messages are kept in one snapshot.

use crate::support::cli;

use std::process::Stdio;
use std::time::Duration;

use cli::SECRET;
/// Nothing listens here; a case that wrongly got as far as sending would say "connection refused".
const ENDPOINT: &str = "https://127.0.0.1:9/hook";

struct Case {
    name: &'static str,
    args: Vec<&'static str>,
    /// The secret environment variable's value (`None`: unset).
    secret: Option<&'static str>,
    /// Words the error must contain.
    expect: &'static str,
}

fn case(
    name: &'static str,
    args: &[&'static str],
    secret: Option<&'static str>,
    expect: &'static str,
) -> Case {
    Case {
        name,
        args: args.to_vec(),
        secret,
        expect,
    }
}

fn cases() -> Vec<Case> {
    let send = |extra: &[&'static str]| {
        let mut args = vec!["send", "PNR_V3/BOOKING_CREATED", "--endpoint", ENDPOINT];
        args.extend_from_slice(extra);
        args
    };
    let run = |extra: &[&'static str]| {
        let mut args = vec![
            "run",
            "--endpoint",
            ENDPOINT,
            "--only",
            "delivery.status-200",
        ];
        args.extend_from_slice(extra);
        args
    };
    vec![
        case(
            "malformed secret",
            &send(&[]),
            Some("not-a-secret"),
            "does not start with `whsec_`",
        ),
        case("empty secret", &send(&[]), Some(""), "the secret is empty"),
        case(
            "secret prefix only",
            &run(&[]),
            Some("whsec_"),
            "nothing after `whsec_`",
        ),
        case(
            "secret not base64",
            &run(&[]),
            Some("whsec_!!!!"),
            "malformed",
        ),
        case("no secret", &run(&[]), None, "no signing secret"),
        case(
            "missing secret file",
            &send(&["--secret-file", "/nonexistent-spotcheck/secret"]),
            Some(SECRET),
            "cannot read --secret-file /nonexistent-spotcheck/secret",
        ),
        case(
            "secret file is a folder",
            &run(&["--secret-file", "/"]),
            Some(SECRET),
            "cannot read --secret-file /",
        ),
        case(
            "missing CA file",
            &send(&["--ca-cert", "/nonexistent-spotcheck/ca.pem"]),
            Some(SECRET),
            "cannot read --ca-cert /nonexistent-spotcheck/ca.pem",
        ),
        case(
            "missing payload file",
            &send(&["--payload", "/nonexistent-spotcheck/payload.json"]),
            Some(SECRET),
            "cannot read /nonexistent-spotcheck/payload.json",
        ),
        case(
            "missing scenario file",
            &run(&["--scenarios", "/nonexistent-spotcheck/s.toml"]),
            Some(SECRET),
            "/nonexistent-spotcheck/s.toml",
        ),
        case(
            "unsupported scheme (send)",
            &[
                "send",
                "PNR_V3/BOOKING_CREATED",
                "--endpoint",
                "ftp://127.0.0.1/hook",
            ],
            Some(SECRET),
            "ftp",
        ),
        case(
            "unsupported scheme (run)",
            &["run", "--endpoint", "file:///etc/passwd"],
            Some(SECRET),
            "uses `file:`; Spotnana delivers to https:// URLs",
        ),
        case(
            "no host (send)",
            &["send", "PNR_V3/BOOKING_CREATED", "--endpoint", "https://"],
            Some(SECRET),
            "empty host",
        ),
        case(
            "no host (run)",
            &["run", "--endpoint", "https://:443/hook"],
            Some(SECRET),
            "host",
        ),
        case(
            "not a URL",
            &["run", "--endpoint", "partner.example/webhooks"],
            Some(SECRET),
            "is not a valid URL",
        ),
        case(
            "credentials in the URL (send)",
            &[
                "send",
                "PNR_V3/BOOKING_CREATED",
                "--endpoint",
                "https://user:hunter2@127.0.0.1:9/hook",
            ],
            Some(SECRET),
            "carries credentials in the URL",
        ),
        case(
            "credentials in the URL (run)",
            &["run", "--endpoint", "https://user:hunter2@127.0.0.1:9/hook"],
            Some(SECRET),
            "carries credentials in the URL",
        ),
        case(
            "invalid duration",
            &send(&["--timeout", "5parsecs"]),
            Some(SECRET),
            "is not a duration",
        ),
        case(
            "zero timeout",
            &run(&["--timeout", "0s"]),
            Some(SECRET),
            "is zero",
        ),
        case(
            "enormous timeout",
            &send(&["--timeout", "500000000y"]),
            Some(SECRET),
            "10m limit",
        ),
        case(
            "report in a missing folder",
            &run(&["--report", "json=/nonexistent-spotcheck/dir/report.json"]),
            Some(SECRET),
            "folder /nonexistent-spotcheck/dir does not exist",
        ),
        case(
            "unknown report format",
            &run(&["--report", "xml=r.xml"]),
            Some(SECRET),
            "`xml` is unknown",
        ),
        case(
            "report without a path",
            &run(&["--report", "json"]),
            Some(SECRET),
            "json",
        ),
        case(
            "header without a colon",
            &send(&["--header", "X-Api-Key"]),
            Some(SECRET),
            "has no `:`",
        ),
        case(
            "unknown event",
            &send(&[])
                .into_iter()
                .map(|a| {
                    if a == "PNR_V3/BOOKING_CREATED" {
                        "PNR_V9/NOPE"
                    } else {
                        a
                    }
                })
                .collect::<Vec<_>>(),
            Some(SECRET),
            "PNR_V9",
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_is_a_short_error_and_exit_2() {
    let mut transcript = String::new();
    for case in cases() {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"));
        command
            .args(&case.args)
            .env_remove("SPOTNANA_WEBHOOK_SECRET")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(secret) = case.secret {
            command.env("SPOTNANA_WEBHOOK_SECRET", secret);
        }
        let output = tokio::time::timeout(Duration::from_secs(20), command.output())
            .await
            .unwrap_or_else(|_| panic!("{}: did not finish within 20 s", case.name))
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = case.name;
        assert_eq!(output.status.code(), Some(2), "{name}: {stdout}\n{stderr}");
        // Nothing was sent: no exchange printed, no run header.
        assert!(stdout.trim().is_empty(), "{name}: stdout: {stdout}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "{name} echoes the URL password: {stderr}"
        );
        assert!(
            !stderr.contains(SECRET),
            "{name} echoes the secret: {stderr}"
        );
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("note: "))
            .filter(|l| !l.starts_with("For more information, try"))
            // Scenario diagnostics end with a count (`1 error in 1 scenario file`).
            .filter(|l| !(l.contains(" in ") && l.contains("scenario file")))
            .collect();
        assert!(
            lines.first().is_some_and(|l| l.starts_with("error: ")),
            "{name}: {stderr}"
        );
        assert!(
            lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("  hint: ")),
            "{name}: more than an error line and a hint:\n{stderr}"
        );
        assert!(lines[0].contains(case.expect), "{name}: {stderr}");
        transcript.push_str(&format!("## {name}\n{}\n", lines.join("\n")));
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("bad_input_errors", transcript);
    });
}
