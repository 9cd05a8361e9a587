//! `spotcheck verify`: checks the signature headers of a body and explains each step,
//! so a partner can see why their own check disagrees. The diagnosis is
//! [`crate::signing::explain`]'s; this module reads the arguments and words it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::common::{SecretArgs, parse_duration, parse_headers, read_input};
use crate::error::{SetupError, exit};
use crate::signing::explain::{
    Cause, Explanation, Freshness, HeaderReading, Input, KnownMistake, Outcome, TimestampReading,
    TokenReading, explain,
};
use crate::signing::reserialize::{Serializer, by_id};
use crate::signing::{HEADER_SIGNATURE, Secret, unix_now};

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
        errln!("reading the body from standard input (end it with Ctrl-D)");
    }
    let body = read_input(&path)?;
    let input = Input {
        secret: &secret,
        headers: &headers,
        body: &body,
        tolerance: (!args.no_tolerance).then_some(args.tolerance),
        now: args.now.unwrap_or_else(unix_now),
    };
    let explanation = explain(&input, &known_mistakes);
    let (valid, text) = render(&explanation, &source, &describe_path(&path));
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

/// The explanation as printed, step by step (never the secret); and whether the
/// delivery is valid.
pub fn render(explanation: &Explanation, secret_source: &str, body_source: &str) -> (bool, String) {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "secret: decoded from {secret_source} ({}-byte key)",
        explanation.key_len
    ));
    line(format!(
        "body: {} bytes from {body_source}",
        explanation.body_len
    ));
    line("headers:".to_owned());
    for reading in &explanation.headers {
        line(match reading {
            HeaderReading::Signature { tokens } => {
                format!("  {HEADER_SIGNATURE}: present, {tokens} token(s)")
            }
            HeaderReading::Present { name, value } => format!("  {name}: present, `{value}`"),
            HeaderReading::Missing { name } => format!("  {name}: MISSING"),
            HeaderReading::Unused { name } => format!("  {name}: not used by the signature"),
        });
    }
    match &explanation.timestamp {
        Some(TimestampReading::Seconds {
            sent,
            now,
            age,
            freshness,
        }) => {
            let when = if *age >= 0 {
                format!("{age} s old")
            } else {
                format!("{} s in the future", age.unsigned_abs())
            };
            let judgement = match freshness {
                Freshness::Unchecked => "tolerance check skipped (--no-tolerance)".to_owned(),
                Freshness::Within(tolerance) => format!(
                    "within the {} tolerance",
                    humantime::format_duration(*tolerance)
                ),
                Freshness::Outside(tolerance) => format!(
                    "OUTSIDE the {} tolerance",
                    humantime::format_duration(*tolerance)
                ),
            };
            line(format!(
                "timestamp: {sent} is {when} (now {now}); {judgement}"
            ));
        }
        Some(TimestampReading::NotSeconds { value }) => line(format!(
            "timestamp: `{value}` is not Unix time in whole seconds"
        )),
        None => {}
    }
    if let Some(signed) = &explanation.signed {
        line(format!(
            "signed content: `<id>.<timestamp>.<body: N bytes>` = `{}.{}.<body: {} bytes>`",
            signed.id, signed.timestamp, explanation.body_len
        ));
        line(format!(
            "expected signature: {} (sent as `{}` or bare)",
            signed.expected, signed.expected_token
        ));
        for (index, token) in signed.tokens.iter().enumerate() {
            let n = index + 1;
            line(match token {
                TokenReading::Signature { format, matches } => format!(
                    "token {n}: {} form, {}",
                    format.as_str(),
                    if *matches {
                        "MATCHES"
                    } else {
                        "does not match"
                    }
                ),
                TokenReading::OtherVersion(version) => {
                    format!("token {n}: other version `{version}`, skipped")
                }
                TokenReading::Invalid(why) => format!("token {n}: not a signature ({why})"),
            });
        }
    }
    match &explanation.outcome {
        Outcome::Valid { token, format } => {
            line(format!("valid (token {token}, form {})", format.as_str()));
            (true, out)
        }
        Outcome::Invalid { error, causes } => {
            line(format!("INVALID: {error}"));
            line("likely causes:".to_owned());
            for cause in causes {
                line(format!("  - {}", cause_text(cause)));
            }
            (false, out)
        }
    }
}

/// One likely cause in words, with the flags that help named.
fn cause_text(cause: &Cause) -> String {
    match cause {
        Cause::HeaderNotGiven { name } => format!(
            "the header was not given: pass --header '{name}: …' copied from the request as received"
        ),
        Cause::HeaderDropped => {
            "a proxy or framework in front of the receiver dropped or renamed the header".to_owned()
        }
        Cause::TimestampNotSeconds => {
            "the timestamp must be whole Unix seconds (like 1700000000), not milliseconds or a date"
                .to_owned()
        }
        Cause::HeadersSwapped => "the id and timestamp headers look swapped".to_owned(),
        Cause::TimestampFromWrongHeader => "the value was taken from the wrong header".to_owned(),
        Cause::OnlyTimestampOff => {
            "the signature itself matches; only the timestamp is outside the tolerance".to_owned()
        }
        Cause::CapturedEarlier => {
            "the delivery was captured earlier: pass --now <Unix time it was received> or \
             --no-tolerance to check the signature alone"
                .to_owned()
        }
        Cause::ReplayOrClock => {
            "a replayed delivery (a receiver should refuse it), or a clock that is off: check NTP"
                .to_owned()
        }
        Cause::EmptySignature => {
            "the signature header is empty: copy its whole value, all tokens separated by spaces"
                .to_owned()
        }
        Cause::Known(known) => format!(
            "FOUND (`{}`): the signature given is what you get when your code {}; fix: {}",
            known.id, known.mistake, known.fix
        ),
        Cause::TokenCutOrAltered => {
            "the header was cut or altered when copied: each token is `v1,<44 Base64 characters>` \
             or the 44 characters alone"
                .to_owned()
        }
        Cause::HexToken => {
            "a token is hex: Spotnana signatures are standard Base64, not hex".to_owned()
        }
        Cause::TrailingNewline => {
            "FOUND: the signature matches the body without its final newline: the file has a \
             newline that was not in the request"
                .to_owned()
        }
        Cause::Reformatted => {
            "FOUND: the signature matches this JSON re-serialized compactly: these bytes are a \
             re-formatted copy of what was signed"
                .to_owned()
        }
        Cause::Reserialized { ids } => reserialized(ids),
        Cause::IdAndTimestampSwapped => {
            "FOUND: the signature matches with id and timestamp swapped".to_owned()
        }
        Cause::BodyReserialized => {
            "the body was re-serialized (parsed and printed again) before verifying: \
             verify over the raw bytes exactly as received"
                .to_owned()
        }
        Cause::WrongSecret => {
            "wrong secret: another subscription's or environment's, or the old one after rotation"
                .to_owned()
        }
        Cause::PrefixNotStripped => {
            "the `v1,` prefix was not stripped before Base64-decoding or comparing the token"
                .to_owned()
        }
        Cause::WrongSignedContent => {
            "the id or timestamp came from the wrong header, or the signed content was not \
             joined as `id.timestamp.body` with dots"
                .to_owned()
        }
    }
}

/// The JSON libraries whose output of the body the signature matches, in words.
fn reserialized(ids: &[&'static str]) -> String {
    let libraries: Vec<&Serializer> = ids.iter().filter_map(|id| by_id(id)).collect();
    let quoted: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    let writers: Vec<&str> = libraries.iter().map(|l| l.writer).collect();
    let fix = match libraries.as_slice() {
        [one] => format!("fix ({}): {}", one.stack, one.fix),
        _ => "fix: verify over the raw bytes as received, then parse them".to_owned(),
    };
    let alike = if libraries.len() > 1 {
        " (they write this body alike)"
    } else {
        ""
    };
    format!(
        "FOUND ({}): the signature matches this body as {} write{} it{alike}: it was computed over JSON parsed and written back, not over the bytes received; {fix}",
        quoted.join(", "),
        writers.join(" or "),
        if libraries.len() > 1 { "" } else { "s" },
    )
}

/// The signing mistakes `spotcheck run` probes an endpoint with, as the diagnosis
/// names them.
fn known_mistakes(
    secret: &Secret,
    id: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> Vec<KnownMistake> {
    crate::diagnose::probes::fingerprint(secret, id, timestamp, body, signature)
        .into_iter()
        .map(|probe| KnownMistake {
            id: probe.id,
            mistake: probe.mistake,
            fix: probe.fix.summary,
        })
        .collect()
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
        let explanation = explain(
            &Input {
                secret: &secret,
                headers: &headers,
                body,
                tolerance: Some(Duration::from_secs(300)),
                now,
            },
            &known_mistakes,
        );
        render(&explanation, "environment variable S", "body.json")
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
    fn a_signature_over_python_json_dumps_is_named() {
        let body = "{\"name\":\"Zoë\",\"amount\":1.50}".as_bytes();
        let dumped = "{\"name\": \"Zo\\u00eb\", \"amount\": 1.5}";
        let signature = sig("evt", "100", dumped.as_bytes());
        let (valid, text) = run(
            &[
                ("x-spotnana-webhook-id", "evt"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", &signature),
            ],
            body,
            100,
        );
        assert!(!valid);
        assert!(
            text.contains("FOUND (`python-json-dumps`): the signature matches this body as Python's `json.dumps` writes it: it was computed over JSON parsed and written back, not over the bytes received; fix (Python): verify over `request.get_data()`"),
            "{text}"
        );
    }

    #[test]
    fn missing_header_is_named() {
        let (valid, text) = run(&[("x-spotnana-webhook-id", "evt")], b"{}", 0);
        assert!(!valid);
        assert!(text.contains("  x-spotnana-webhook-timestamp: MISSING"));
        assert!(text.contains("INVALID: header `x-spotnana-webhook-timestamp` is missing"));
    }
}
