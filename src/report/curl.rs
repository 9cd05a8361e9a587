//! `--export-curl`: a recorded request as one copy-pasteable `curl` command.
//!
//! The command sends the same method, URL, headers (the signature, timestamp and id
//! headers exactly as sent) and body bytes. The signing secret is never part of a
//! request, so it cannot appear. No other credential value is written either; each is
//! a reference to an environment variable the user sets before pasting (see
//! docs/security.md, "Redaction"): a credential header (by name, or one whose value
//! the run masked: every `--header`) as `--header "Name: $SPOTCHECK_HEADER_NAME"`, a
//! query value as `$SPOTCHECK_ENDPOINT_<PARAM>` (or the token or state URL's prefix),
//! a token request's `client_secret` as `$SPOTCHECK_OAUTH_CLIENT_SECRET`.
//! Bodies that are not printable single-line text use bash's `$'…'` quoting, so the
//! command needs bash or zsh.

use std::fmt::Write as _;
use std::path::Path;

use crate::delivery::exchange::{RequestRecord, is_sensitive_header};

use crate::replay::{OAUTH_CLIENT_SECRET_ENV, Replay, double_quoted, header_word, shell_quote};

/// The largest body written into a command; larger ones are left out with a note.
pub const CURL_BODY_LIMIT: usize = 64 * 1024;

/// The `User-Agent` spotcheck's delivery client sends (curl would send its own).
const USER_AGENT: &str = concat!("spotcheck/", env!("CARGO_PKG_VERSION"));

/// The request as a `curl` command (lines joined with ` \` continuations, each after
/// the first indented by `indent`). `ca_cert` is the `--ca-cert` of the run, passed
/// on as `--cacert`; `client` its `--client-cert`/`--client-key`, as `--cert`/`--key`.
/// Query values are read from `$SPOTCHECK_URL_<PARAM>`; [`command_for`] names them
/// after the run's flags.
pub fn command(
    request: &RequestRecord,
    ca_cert: Option<&Path>,
    client: Option<(&Path, &Path)>,
    indent: &str,
) -> String {
    let replay = Replay {
        ca_cert: ca_cert.map(Path::to_path_buf),
        client_cert: client.map(|(cert, key)| (cert.to_path_buf(), key.to_path_buf())),
        ..Replay::default()
    };
    command_for(request, &replay, indent)
}

/// The request as a `curl` command with the run's `--ca-cert` and client certificate
/// from `replay`, and its query values read from the variables of the flag the URL
/// came from (`$SPOTCHECK_ENDPOINT_CODE` for `--endpoint '…?code=…'`).
pub fn command_for(request: &RequestRecord, replay: &Replay, indent: &str) -> String {
    let mut parts: Vec<String> = vec![format!(
        "curl --silent --show-error --include --request {} {}",
        shell_quote(&request.method),
        replay.url_word(&request.url)
    )];
    if let Some(ca) = &replay.ca_cert {
        parts.push(format!(
            "--cacert {}",
            shell_quote(&ca.display().to_string())
        ));
    }
    if let Some((cert, key)) = &replay.client_cert {
        parts.push(format!(
            "--cert {} --key {}",
            shell_quote(&cert.display().to_string()),
            shell_quote(&key.display().to_string())
        ));
    }
    let mut user_agent = false;
    for (name, value) in &request.headers {
        user_agent |= name.eq_ignore_ascii_case("user-agent");
        parts.push(format!("--header {}", header_word_for(name, value)));
    }
    if !user_agent {
        parts.push(format!(
            "--header {}",
            shell_quote(&format!("User-Agent: {USER_AGENT}"))
        ));
    }
    let complete = request.body.len() == request.body_len;
    if request.body_len > 0 && complete && request.body_len <= CURL_BODY_LIMIT {
        parts.push(format!("--data-binary {}", body_word(&request.body)));
    }
    let mut out = parts.join(&format!(" \\\n{indent}  "));
    if request.body_len > CURL_BODY_LIMIT || (request.body_len > 0 && !complete) {
        let _ = write!(
            out,
            "\n{indent}# body of {} bytes not shown (over {} KiB or not recorded): the command above sends none",
            request.body_len,
            CURL_BODY_LIMIT / 1024
        );
    }
    out
}

fn header_word_for(name: &str, value: &str) -> String {
    let masked = is_sensitive_header(name)
        || value == crate::redact::MASK
        || crate::redact::is_credential(value);
    if masked {
        return header_word(name);
    }
    shell_quote(&format!("{name}: {value}"))
}

/// The body word: a form holding `client_secret` reads it from
/// `$SPOTCHECK_OAUTH_CLIENT_SECRET` (the record holds it masked); anything else as sent.
fn body_word(body: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(body)
        && !text.chars().any(char::is_control)
        && text
            .split('&')
            .any(|pair| pair.starts_with("client_secret="))
    {
        let pairs: Vec<String> = text
            .split('&')
            .map(|pair| {
                if pair.starts_with("client_secret=") {
                    format!("client_secret=${OAUTH_CLIENT_SECRET_ENV}")
                } else {
                    double_quoted(pair)
                }
            })
            .collect();
        return format!("\"{}\"", pairs.join("&"));
    }
    quote_body(body)
}

/// Single quotes for printable one-line text; `$'…'` with `\xHH` escapes otherwise.
pub fn quote_body(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) if !text.chars().any(char::is_control) => {
            format!("'{}'", text.replace('\'', r"'\''"))
        }
        _ => {
            let mut out = String::from("$'");
            for &b in body {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    b'\'' => out.push_str("\\'"),
                    0x20..=0x7e => out.push(b as char),
                    _ => {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
            }
            out.push('\'');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(headers: &[(&str, &str)], body: &[u8]) -> RequestRecord {
        RequestRecord {
            method: "POST".into(),
            url: "https://127.0.0.1:8443/hook".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body_len: body.len(),
            body_excerpt: String::new(),
            body: bytes::Bytes::copy_from_slice(body),
        }
    }

    #[test]
    fn headers_as_sent_and_credentials_as_env_references() {
        let line = command(
            &record(
                &[
                    ("Content-Type", "application/json"),
                    ("Authorization", "***redacted***"),
                ],
                br#"{"a":"it's"}"#,
            ),
            Some(Path::new("/tmp/ca.pem")),
            Some((Path::new("/tmp/client.pem"), Path::new("/tmp/my key.pem"))),
            "",
        );
        assert_eq!(
            line,
            "curl --silent --show-error --include --request POST https://127.0.0.1:8443/hook \\\n  \
             --cacert /tmp/ca.pem \\\n  \
             --cert /tmp/client.pem --key '/tmp/my key.pem' \\\n  \
             --header 'Content-Type: application/json' \\\n  \
             --header \"Authorization: $SPOTCHECK_HEADER_AUTHORIZATION\" \\\n  \
             --header 'User-Agent: spotcheck/0.1.0' \\\n  \
             --data-binary '{\"a\":\"it'\\''s\"}'"
                .replace("0.1.0", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn query_values_and_the_client_secret_are_env_references() {
        let mut token = record(
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"grant_type=client_credentials&client_id=a$b&client_secret=***redacted***",
        );
        token.url = "https://h.example/token?tenant=t1".into();
        let mut replay = Replay::default();
        replay.push_url(
            "--oauth-token-url",
            "https://h.example/token?tenant=t1",
            crate::replay::OAUTH_TOKEN_URL_ENV,
        );
        let line = command_for(&token, &replay, "");
        assert!(
            line.starts_with(
                r#"curl --silent --show-error --include --request POST "https://h.example/token?tenant=$SPOTCHECK_OAUTH_TOKEN_URL_TENANT""#
            ),
            "{line}"
        );
        assert!(
            line.ends_with(
                r#"--data-binary "grant_type=client_credentials&client_id=a\$b&client_secret=$SPOTCHECK_OAUTH_CLIENT_SECRET""#
            ),
            "{line}"
        );
    }

    #[test]
    fn binary_and_multiline_bodies_use_ansi_c_quoting() {
        assert_eq!(quote_body(b"a\nb'\\\xff"), r"$'a\x0ab\'\\\xff'");
    }

    #[test]
    fn huge_bodies_are_left_out_with_a_note() {
        let line = command(
            &record(&[], &vec![b'x'; CURL_BODY_LIMIT + 1]),
            None,
            None,
            "",
        );
        assert!(!line.contains("--data-binary"), "{line}");
        assert!(line.contains("# body of 65537 bytes not shown"), "{line}");
    }
}
