//! `spotcheck verify`: checks the signature headers of a body and explains each step,
//! so a partner can see why their own check disagrees.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::common::{SecretArgs, parse_duration, parse_headers, read_input};
use crate::error::{SetupError, exit};
use crate::signing::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, SignatureFormat, Token, Verifier,
    VerifyError, parse_tokens, unix_now,
};

/// Options of `spotcheck verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The body, byte for byte as received (`-` or nothing: standard input).
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// A received header, `Name: value` (repeatable): the id, timestamp and signature headers.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// How far the timestamp may be from now.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub tolerance: Duration,
    /// Skip the timestamp freshness check (check the signature alone).
    #[arg(long, conflicts_with = "tolerance")]
    pub no_tolerance: bool,
    /// The Unix time to check the timestamp against (default: now), for reproducible checks.
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub now: Option<i64>,
    /// Where the signing secret comes from.
    #[command(flatten)]
    pub secret: SecretArgs,
}

/// Runs `spotcheck verify`: 0 valid, 1 invalid.
pub async fn run(args: VerifyArgs) -> Result<u8, SetupError> {
    let secret = args.secret.require()?;
    let source = match &args.secret.secret_file {
        Some(path) => format!("file {}", path.display()),
        None => format!("environment variable {}", args.secret.secret_env),
    };
    let headers = parse_headers(&args.headers)?;
    let path = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    if args.file.as_ref().is_none_or(|f| f.as_os_str() == "-")
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
    {
        eprintln!("reading the body from standard input (end it with Ctrl-D)");
    }
    let body = read_input(&path)?;
    let input = Input {
        secret: &secret,
        secret_source: &source,
        body_source: &describe_path(&path),
        headers: &headers,
        body: &body,
        tolerance: (!args.no_tolerance).then_some(args.tolerance),
        now: args.now.unwrap_or_else(unix_now),
    };
    let (valid, text) = explain(&input);
    out!("{text}");
    Ok(if valid {
        exit::CONFORMANT
    } else {
        exit::NOT_CONFORMANT
    })
}

fn describe_path(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Everything one verification looks at.
#[derive(Debug)]
pub struct Input<'a> {
    /// The secret to check against.
    pub secret: &'a Secret,
    /// Where the secret came from (for the explanation; never the secret).
    pub secret_source: &'a str,
    /// Where the body came from.
    pub body_source: &'a str,
    /// The headers given, `(name, value)`.
    pub headers: &'a [(String, String)],
    /// The raw body.
    pub body: &'a [u8],
    /// The timestamp tolerance; `None` skips the freshness check.
    pub tolerance: Option<Duration>,
    /// Unix seconds to compare the timestamp with.
    pub now: i64,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Verifies and explains step by step. Returns whether the delivery is valid and the
/// text to print (which never contains the secret).
pub fn explain(input: &Input<'_>) -> (bool, String) {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let key_len = input.secret.expose_key().len();
    line(format!(
        "secret: decoded from {} ({key_len}-byte key)",
        input.secret_source
    ));
    line(format!(
        "body: {} bytes from {}",
        input.body.len(),
        input.body_source
    ));

    let id = header(input.headers, HEADER_ID);
    let timestamp = header(input.headers, HEADER_TIMESTAMP);
    let signature = header(input.headers, HEADER_SIGNATURE);
    line("headers:".to_owned());
    for (name, value) in [
        (HEADER_ID, id),
        (HEADER_TIMESTAMP, timestamp),
        (HEADER_SIGNATURE, signature),
    ] {
        match value {
            Some(value) if name == HEADER_SIGNATURE => line(format!(
                "  {name}: present, {} token(s)",
                value.split_ascii_whitespace().count()
            )),
            Some(value) => line(format!("  {name}: present, `{value}`")),
            None => line(format!("  {name}: MISSING")),
        }
    }
    for (name, _) in input.headers {
        if ![HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE]
            .iter()
            .any(|known| known.eq_ignore_ascii_case(name))
        {
            line(format!("  {name}: not used by the signature"));
        }
    }

    if let Some(timestamp) = timestamp {
        match timestamp.trim().parse::<i64>() {
            Ok(sent) => {
                let age = input.now.saturating_sub(sent);
                let when = if age >= 0 {
                    format!("{age} s old")
                } else {
                    format!("{} s in the future", age.unsigned_abs())
                };
                let judgement = match input.tolerance {
                    None => "tolerance check skipped (--no-tolerance)".to_owned(),
                    Some(tolerance) if age.unsigned_abs() <= tolerance.as_secs() => format!(
                        "within the {} tolerance",
                        humantime::format_duration(tolerance)
                    ),
                    Some(tolerance) => format!(
                        "OUTSIDE the {} tolerance",
                        humantime::format_duration(tolerance)
                    ),
                };
                line(format!(
                    "timestamp: {sent} is {when} (now {}); {judgement}",
                    input.now
                ));
            }
            Err(_) => line(format!(
                "timestamp: `{timestamp}` is not Unix time in whole seconds"
            )),
        }
    }

    let mut matched: Option<(usize, SignatureFormat)> = None;
    if let (Some(id), Some(timestamp)) = (id, timestamp) {
        line(format!(
            "signed content: `<id>.<timestamp>.<body: N bytes>` = `{id}.{timestamp}.<body: {} bytes>`",
            input.body.len()
        ));
        let expected = input.secret.sign(id, timestamp, input.body);
        line(format!(
            "expected signature: {} (sent as `{}` or bare)",
            expected.to_base64(),
            expected.token(SignatureFormat::V1)
        ));
        if let Some(signature) = signature {
            for (index, token) in parse_tokens(signature).iter().enumerate() {
                let n = index + 1;
                match token {
                    Token::Signature { format, bytes } => {
                        let hit = bytes.as_slice() == expected.0.as_slice();
                        if hit && matched.is_none() {
                            matched = Some((n, *format));
                        }
                        line(format!(
                            "token {n}: {} form, {}",
                            format.as_str(),
                            if hit { "MATCHES" } else { "does not match" }
                        ));
                    }
                    Token::OtherVersion(version) => {
                        line(format!("token {n}: other version `{version}`, skipped"))
                    }
                    Token::Invalid(why) => line(format!("token {n}: not a signature ({why})")),
                }
            }
        }
    }

    let verifier = Verifier::new(vec![input.secret.clone()]).with_tolerance(input.tolerance);
    let result = verifier.verify(id, timestamp, signature, input.body, input.now);
    match result {
        Ok(format) => {
            let (n, format) = matched.unwrap_or((1, format));
            line(format!("valid (token {n}, form {})", format.as_str()));
            (true, out)
        }
        Err(err) => {
            line(format!("INVALID: {err}"));
            line("likely causes:".to_owned());
            for cause in likely_causes(&err, input, id, timestamp, signature, matched.is_some()) {
                line(format!("  - {cause}"));
            }
            (false, out)
        }
    }
}

fn likely_causes(
    err: &VerifyError,
    input: &Input<'_>,
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    signature_matches: bool,
) -> Vec<String> {
    let mut causes = Vec::new();
    // The three headers, when all were given: what the computations below redo.
    let given = match (id, timestamp, signature) {
        (Some(id), Some(timestamp), Some(signature)) => Some((id, timestamp, signature)),
        _ => None,
    };
    match err {
        VerifyError::MissingHeader(name) => {
            causes.push(format!(
                "the header was not given: pass --header '{name}: …' copied from the request as received"
            ));
            causes.push(
                "a proxy or framework in front of the receiver dropped or renamed the header"
                    .to_owned(),
            );
        }
        VerifyError::BadTimestamp(_) => {
            causes.push(
                "the timestamp must be whole Unix seconds (like 1700000000), not milliseconds or a date"
                    .to_owned(),
            );
            if id.is_some_and(|id| id.trim().parse::<i64>().is_ok()) {
                causes.push("the id and timestamp headers look swapped".to_owned());
            } else {
                causes.push("the value was taken from the wrong header".to_owned());
            }
        }
        VerifyError::TimestampTooOld { .. } | VerifyError::TimestampTooNew { .. } => {
            if signature_matches {
                causes.push(
                    "the signature itself matches; only the timestamp is outside the tolerance"
                        .to_owned(),
                );
            }
            causes.push(
                "the delivery was captured earlier: pass --now <Unix time it was received> or \
                 --no-tolerance to check the signature alone"
                    .to_owned(),
            );
            causes.push(
                "a replayed delivery (a receiver should refuse it), or a clock that is off: check NTP"
                    .to_owned(),
            );
        }
        VerifyError::NoTokens => causes.push(
            "the signature header is empty: copy its whole value, all tokens separated by spaces"
                .to_owned(),
        ),
        VerifyError::Malformed(_) => {
            causes.extend(given.map_or_else(Vec::new, |given| fingerprints(input, given)));
            causes.push(
                "the header was cut or altered when copied: each token is `v1,<44 Base64 characters>` \
                 or the 44 characters alone"
                    .to_owned(),
            );
            if signature.is_some_and(|s| {
                s.split_ascii_whitespace()
                    .any(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            }) {
                causes.push(
                    "a token is hex: Spotnana signatures are standard Base64, not hex".to_owned(),
                );
            }
        }
        VerifyError::NoMatch { .. } => {
            if let Some(given) = given {
                causes.extend(fingerprints(input, given));
                causes.extend(specific_mismatch(input, given));
            }
            causes.push(
                "the body was re-serialized (parsed and printed again) before verifying: \
                 verify over the raw bytes exactly as received"
                    .to_owned(),
            );
            causes.push(
                "wrong secret: another subscription's or environment's, or the old one after rotation"
                    .to_owned(),
            );
            causes.push(
                "the `v1,` prefix was not stripped before Base64-decoding or comparing the token"
                    .to_owned(),
            );
            causes.push(
                "the id or timestamp came from the wrong header, or the signed content was not \
                 joined as `id.timestamp.body` with dots"
                    .to_owned(),
            );
        }
    }
    causes
}

/// Names the common wrong computation (the same table `spotcheck run` probes the
/// endpoint with) that produces the signature given, if one does.
fn fingerprints(input: &Input<'_>, (id, timestamp, signature): (&str, &str, &str)) -> Vec<String> {
    crate::diagnose::probes::fingerprint(input.secret, id, timestamp, input.body, signature)
        .into_iter()
        .map(|probe| {
            format!(
                "FOUND (`{}`): the signature given is what you get when your code {}; fix: {}",
                probe.id, probe.mistake, probe.fix.summary
            )
        })
        .collect()
}

/// Tries the usual slips and names the one that makes the signature match.
fn specific_mismatch(
    input: &Input<'_>,
    (id, timestamp, signature): (&str, &str, &str),
) -> Vec<String> {
    let verifier = Verifier::new(vec![input.secret.clone()]).with_tolerance(None);
    let matches = |id: &str, ts: &str, body: &[u8]| {
        verifier
            .verify(Some(id), Some(ts), Some(signature), body, 0)
            .is_ok()
    };
    let mut found = Vec::new();
    let body = input.body;
    let trimmed = body
        .strip_suffix(b"\r\n")
        .or_else(|| body.strip_suffix(b"\n"));
    if let Some(trimmed) = trimmed
        && matches(id, timestamp, trimmed)
    {
        found.push(
            "FOUND: the signature matches the body without its final newline: the file has a \
             newline that was not in the request"
                .to_owned(),
        );
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Ok(compact) = serde_json::to_vec(&value)
        && compact != body
        && matches(id, timestamp, &compact)
    {
        found.push(
            "FOUND: the signature matches this JSON re-serialized compactly: these bytes are a \
             re-formatted copy of what was signed"
                .to_owned(),
        );
    }
    if matches(timestamp, id, body) {
        found.push("FOUND: the signature matches with id and timestamp swapped".to_owned());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(headers: &[(&str, &str)], body: &[u8], now: i64) -> (bool, String) {
        let secret = Secret::from_key(b"test-key".to_vec());
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        explain(&Input {
            secret: &secret,
            secret_source: "environment variable S",
            body_source: "body.json",
            headers: &headers,
            body,
            tolerance: Some(Duration::from_secs(300)),
            now,
        })
    }

    fn sig(id: &str, ts: &str, body: &[u8]) -> String {
        Secret::from_key(b"test-key".to_vec())
            .sign(id, ts, body)
            .to_base64()
    }

    #[test]
    fn valid_rotation_header_names_the_matching_token() {
        let good = sig("evt", "100", b"{}");
        let other = sig("evt", "100", b"x");
        let header = format!("v1,{other} {good}");
        let (valid, text) = run(
            &[
                ("X-Spotnana-Webhook-Id", "evt"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", &header),
            ],
            b"{}",
            110,
        );
        assert!(valid, "{text}");
        assert!(text.contains("secret: decoded from environment variable S (8-byte key)"));
        assert!(text.contains("timestamp: 100 is 10 s old (now 110); within the 5m tolerance"));
        assert!(text.contains(
            "signed content: `<id>.<timestamp>.<body: N bytes>` = `evt.100.<body: 2 bytes>`"
        ));
        assert!(text.contains("token 1: v1 form, does not match"));
        assert!(text.contains("token 2: bare form, MATCHES"));
        assert!(text.ends_with("valid (token 2, form bare)\n"), "{text}");
        assert!(!text.contains("test-key"));
    }

    #[test]
    fn trailing_newline_and_reserialization_are_found() {
        let body = b"{ \"a\": 1 }";
        let good = sig("evt", "100", body);
        let headers = [
            ("x-spotnana-webhook-id", "evt"),
            ("x-spotnana-webhook-timestamp", "100"),
            ("x-spotnana-webhook-signature", good.as_str()),
        ];
        let (valid, text) = run(&headers, b"{ \"a\": 1 }\n", 100);
        assert!(!valid);
        assert!(text.contains("INVALID: no signature matched"), "{text}");
        assert!(text.contains("without its final newline"), "{text}");

        let compact = sig("evt", "100", b"{\"a\":1}");
        let headers = [
            ("x-spotnana-webhook-id", "evt"),
            ("x-spotnana-webhook-timestamp", "100"),
            ("x-spotnana-webhook-signature", compact.as_str()),
        ];
        let (_, text) = run(&headers, body, 100);
        assert!(text.contains("re-serialized compactly"), "{text}");
    }

    #[test]
    fn stale_timestamp_with_matching_signature_says_so() {
        let good = sig("evt", "100", b"{}");
        let (valid, text) = run(
            &[
                ("x-spotnana-webhook-id", "evt"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", &good),
            ],
            b"{}",
            1000,
        );
        assert!(!valid);
        assert!(text.contains("OUTSIDE the 5m tolerance"), "{text}");
        assert!(text.contains("INVALID: timestamp is 900 s old"), "{text}");
        assert!(text.contains("the signature itself matches"), "{text}");
    }

    #[test]
    fn a_signature_keyed_with_the_whole_secret_is_fingerprinted() {
        let secret = Secret::from_key(b"test-key".to_vec());
        let whsec = secret.expose_whsec();
        let wrong = crate::signing::hmac_sha256(whsec.as_bytes(), &[b"evt.100.{}"]);
        let wrong = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, wrong);
        let header = format!("v1,{wrong}");
        let (valid, text) = run(
            &[
                ("x-spotnana-webhook-id", "evt"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", &header),
            ],
            b"{}",
            100,
        );
        assert!(!valid);
        assert!(
            text.contains("FOUND (`key-whole-secret`): the signature given is what you get when your code keys the HMAC with the whole secret string"),
            "{text}"
        );
        assert_eq!(text.matches("FOUND").count(), 1, "{text}");

        let hex: String = Secret::from_key(b"test-key".to_vec())
            .sign("evt", "100", b"{}")
            .0
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let (_, text) = run(
            &[
                ("x-spotnana-webhook-id", "evt"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", &format!("sha256={hex}")),
            ],
            b"{}",
            100,
        );
        assert!(text.contains("FOUND (`hex-digest`)"), "{text}");
    }

    #[test]
    fn missing_header_is_named() {
        let (valid, text) = run(&[("x-spotnana-webhook-id", "evt")], b"{}", 0);
        assert!(!valid);
        assert!(text.contains("  x-spotnana-webhook-timestamp: MISSING"));
        assert!(text.contains("INVALID: header `x-spotnana-webhook-timestamp` is missing"));
    }
}
