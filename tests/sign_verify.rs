//! `spotcheck sign` and `spotcheck verify` as a user runs them.
//!
//! The known answers come from `tests/data/signing-vectors.json`, a copy of the
//! shared vectors computed with an independent implementation (Python's `hmac`).

use crate::support::cli;

use std::path::Path;
use std::time::Duration;

use cli::{Run, Spotcheck};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Debug, Deserialize)]
struct Vector {
    secret: String,
    webhook_id: String,
    timestamp: String,
    body: String,
    signature_base64: String,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str::<Vectors>(include_str!("data/signing-vectors.json"))
        .unwrap()
        .vectors
}

/// Runs the binary with `args` and the given environment (and no inherited
/// `SPOTNANA_WEBHOOK_SECRET`), killing it after 20 s.
fn spotcheck(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Spotcheck::new(args)
        .env_remove("SPOTNANA_WEBHOOK_SECRET")
        .timeout(Duration::from_secs(20));
    for (name, value) in env {
        command = command.env(name, value);
    }
    command.run_blocking()
}

fn write_body(dir: &Path, name: &str, body: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn sign_reproduces_every_vector_in_both_forms() {
    let dir = tempfile::tempdir().unwrap();
    for (i, v) in vectors().iter().enumerate() {
        let file = write_body(dir.path(), &format!("body{i}"), v.body.as_bytes());
        for (format, token) in [
            ("v1", format!("v1,{}", v.signature_base64)),
            ("bare", v.signature_base64.clone()),
        ] {
            let out = spotcheck(
                &[
                    "sign",
                    &file,
                    "--id",
                    &v.webhook_id,
                    "--timestamp",
                    &v.timestamp,
                    "--signature-format",
                    format,
                ],
                &[("SPOTNANA_WEBHOOK_SECRET", &v.secret)],
            );
            assert_eq!(out.code, Some(0), "{}", out.stderr.clone());
            assert_eq!(
                out.stdout.clone(),
                format!(
                    "x-spotnana-webhook-id: {}\nx-spotnana-webhook-timestamp: {}\nx-spotnana-webhook-signature: {token}\n",
                    v.webhook_id, v.timestamp
                )
            );
        }
    }
}

#[test]
fn sign_defaults_to_a_fresh_uuid_and_now() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_body(dir.path(), "body", b"{}");
    let v = &vectors()[0];
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let out = spotcheck(&["sign", &file], &[("SPOTNANA_WEBHOOK_SECRET", &v.secret)]);
    assert_eq!(out.code, Some(0));
    let stdout = out.stdout.clone();
    let lines: Vec<&str> = stdout.lines().collect();
    let id = lines[0].strip_prefix("x-spotnana-webhook-id: ").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let ts: u64 = lines[1]
        .strip_prefix("x-spotnana-webhook-timestamp: ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(ts >= before && ts <= before + 5);
    assert!(lines[2].starts_with("x-spotnana-webhook-signature: v1,"));
}

fn verify_args<'a>(file: &'a str, headers: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["verify", file];
    for header in headers {
        args.push("--header");
        args.push(header);
    }
    args.extend_from_slice(extra);
    args
}

fn headers_of(v: &Vector, signature: &str) -> Vec<String> {
    vec![
        format!("X-Spotnana-Webhook-Id: {}", v.webhook_id),
        format!("x-spotnana-webhook-timestamp: {}", v.timestamp),
        format!("x-spotnana-webhook-signature: {signature}"),
    ]
}

#[test]
fn verify_says_valid_for_every_vector() {
    let dir = tempfile::tempdir().unwrap();
    for (i, v) in vectors().iter().enumerate() {
        let file = write_body(dir.path(), &format!("body{i}"), v.body.as_bytes());
        for (signature, form) in [
            (format!("v1,{}", v.signature_base64), "v1"),
            (v.signature_base64.clone(), "bare"),
        ] {
            let headers = headers_of(v, &signature);
            let out = spotcheck(
                &verify_args(&file, &headers, &["--now", &v.timestamp]),
                &[("SPOTNANA_WEBHOOK_SECRET", &v.secret)],
            );
            let stdout = out.stdout.clone();
            assert_eq!(out.code, Some(0), "{stdout}{}", out.stderr.clone());
            assert!(
                stdout.ends_with(&format!("valid (token 1, form {form})\n")),
                "{stdout}"
            );
            assert!(stdout.contains(&format!("expected signature: {} ", v.signature_base64)));
            let key_secret = v.secret.trim_start_matches("whsec_");
            assert!(!stdout.contains(key_secret), "the secret leaked: {stdout}");
        }
    }
}

#[test]
fn verify_explains_a_tampered_body() {
    let dir = tempfile::tempdir().unwrap();
    let v = &vectors()[1];
    let file = write_body(dir.path(), "body", format!("{} ", v.body).as_bytes());
    let headers = headers_of(v, &format!("v1,{}", v.signature_base64));
    let out = spotcheck(
        &verify_args(&file, &headers, &["--now", &v.timestamp]),
        &[("SPOTNANA_WEBHOOK_SECRET", &v.secret)],
    );
    let stdout = out.stdout.clone();
    assert_eq!(out.code, Some(1), "{stdout}");
    assert!(
        stdout.contains("token 1: v1 form, does not match"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "INVALID: no signature matched: 1 token(s) checked against HMAC-SHA256 of `id.timestamp.body`"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("the body was re-serialized"), "{stdout}");
}

#[test]
fn verify_finds_a_trailing_newline_added_by_an_editor() {
    let dir = tempfile::tempdir().unwrap();
    let v = &vectors()[0];
    let file = write_body(dir.path(), "body", format!("{}\n", v.body).as_bytes());
    let headers = headers_of(v, &v.signature_base64);
    let out = spotcheck(
        &verify_args(&file, &headers, &["--no-tolerance"]),
        &[("SPOTNANA_WEBHOOK_SECRET", &v.secret)],
    );
    let stdout = out.stdout.clone();
    assert_eq!(out.code, Some(1));
    assert!(
        stdout.contains("FOUND: the signature matches the body without its final newline"),
        "{stdout}"
    );
}

#[test]
fn verify_explains_a_wrong_secret() {
    let dir = tempfile::tempdir().unwrap();
    let v = &vectors()[0];
    let other = &vectors()[2];
    let file = write_body(dir.path(), "body", v.body.as_bytes());
    let headers = headers_of(v, &v.signature_base64);
    let out = spotcheck(
        &verify_args(&file, &headers, &["--now", &v.timestamp]),
        &[("SPOTNANA_WEBHOOK_SECRET", &other.secret)],
    );
    let stdout = out.stdout.clone();
    assert_eq!(out.code, Some(1));
    assert!(
        stdout.contains(
            "secret: decoded from environment variable SPOTNANA_WEBHOOK_SECRET (46-byte key)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("INVALID: no signature matched"), "{stdout}");
    assert!(stdout.contains("wrong secret"), "{stdout}");
}

#[test]
fn verify_explains_a_stale_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let v = &vectors()[0];
    let file = write_body(dir.path(), "body", v.body.as_bytes());
    let headers = headers_of(v, &v.signature_base64);
    let now = (v.timestamp.parse::<i64>().unwrap() + 600).to_string();
    let out = spotcheck(
        &verify_args(&file, &headers, &["--now", &now]),
        &[("SPOTNANA_WEBHOOK_SECRET", &v.secret)],
    );
    let stdout = out.stdout.clone();
    assert_eq!(out.code, Some(1));
    assert!(
        stdout.contains(
            "timestamp: 1614265330 is 600 s old (now 1614265930); OUTSIDE the 5m tolerance"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("INVALID: timestamp is 600 s old, more than the 300 s tolerance"),
        "{stdout}"
    );
    assert!(stdout.contains("the signature itself matches"), "{stdout}");
    // A wider tolerance accepts it.
    let out = spotcheck(
        &verify_args(&file, &headers, &["--now", &now, "--tolerance", "15m"]),
        &[("SPOTNANA_WEBHOOK_SECRET", &v.secret)],
    );
    assert_eq!(out.code, Some(0), "{}", out.stdout.clone());
}

#[test]
fn verify_names_a_missing_header() {
    let dir = tempfile::tempdir().unwrap();
    let v = &vectors()[0];
    let file = write_body(dir.path(), "body", v.body.as_bytes());
    let headers = vec![
        format!("x-spotnana-webhook-id: {}", v.webhook_id),
        format!("x-spotnana-webhook-timestamp: {}", v.timestamp),
    ];
    let out = spotcheck(
        &verify_args(&file, &headers, &["--no-tolerance"]),
        &[("SPOTNANA_WEBHOOK_SECRET", &v.secret)],
    );
    let stdout = out.stdout.clone();
    assert_eq!(out.code, Some(1));
    assert!(
        stdout.contains("  x-spotnana-webhook-signature: MISSING"),
        "{stdout}"
    );
    assert!(
        stdout.contains("INVALID: header `x-spotnana-webhook-signature` is missing"),
        "{stdout}"
    );
}

#[test]
fn malformed_secret_is_a_setup_error_that_does_not_echo_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_body(dir.path(), "body", b"{}");
    let bad = "whsec_Zm9v$ecretValue!!";
    for args in [
        vec!["sign", file.as_str()],
        vec![
            "verify",
            file.as_str(),
            "--header",
            "x-spotnana-webhook-id: a",
        ],
    ] {
        let out = spotcheck(&args, &[("SPOTNANA_WEBHOOK_SECRET", bad)]);
        let stderr = out.stderr.clone();
        assert_eq!(out.code, Some(2), "{stderr}");
        assert!(
            stderr.contains(
                "the secret in environment variable SPOTNANA_WEBHOOK_SECRET is malformed"
            ),
            "{stderr}"
        );
        assert!(!stderr.contains("ecretValue"), "secret echoed: {stderr}");
        assert!(!out.stdout.clone().contains("ecretValue"));
    }
    // No secret at all: exit 2 with the hint.
    let out = spotcheck(&["sign", &file], &[]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .clone()
            .contains("hint: export SPOTNANA_WEBHOOK_SECRET=whsec_…")
    );
}
