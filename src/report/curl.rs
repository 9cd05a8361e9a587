//! `--export-curl`: a recorded request as one copy-pasteable `curl` command.
//!
//! The command sends the same method, URL, headers (the signature, timestamp and id
//! headers exactly as sent) and body bytes. The signing secret is never part of a
//! request, so it cannot appear; credential headers (recorded redacted) are written
//! as a reference to an environment variable named after the header
//! (`-H "Authorization: $AUTHORIZATION"`), which the user sets before pasting.
//! Bodies that are not printable single-line text use bash's `$'…'` quoting, so the
//! command needs bash or zsh.

use std::fmt::Write as _;
use std::path::Path;

use crate::delivery::exchange::{RequestRecord, is_sensitive_header};

use super::repro::{header_env_name, shell_quote};

/// The largest body written into a command; larger ones are left out with a note.
pub const CURL_BODY_LIMIT: usize = 64 * 1024;

/// The `User-Agent` spotcheck's delivery client sends (curl would send its own).
const USER_AGENT: &str = concat!("spotcheck/", env!("CARGO_PKG_VERSION"));

/// The request as a `curl` command (lines joined with ` \` continuations, each after
/// the first indented by `indent`). `ca_cert` is the `--ca-cert` of the run, passed
/// on as `--cacert`; `client` its `--client-cert`/`--client-key`, as `--cert`/`--key`.
pub fn command(
    request: &RequestRecord,
    ca_cert: Option<&Path>,
    client: Option<(&Path, &Path)>,
    indent: &str,
) -> String {
    let mut parts: Vec<String> = vec![format!(
        "curl --silent --show-error --include --request {} {}",
        shell_quote(&request.method),
        shell_quote(&request.url)
    )];
    if let Some(ca) = ca_cert {
        parts.push(format!(
            "--cacert {}",
            shell_quote(&ca.display().to_string())
        ));
    }
    if let Some((cert, key)) = client {
        parts.push(format!(
            "--cert {} --key {}",
            shell_quote(&cert.display().to_string()),
            shell_quote(&key.display().to_string())
        ));
    }
    let mut user_agent = false;
    for (name, value) in &request.headers {
        user_agent |= name.eq_ignore_ascii_case("user-agent");
        parts.push(format!("--header {}", header_word(name, value)));
    }
    if !user_agent {
        parts.push(format!(
            "--header {}",
            shell_quote(&format!("User-Agent: {USER_AGENT}"))
        ));
    }
    let complete = request.body.len() == request.body_len;
    if request.body_len > 0 && complete && request.body_len <= CURL_BODY_LIMIT {
        parts.push(format!("--data-binary {}", quote_body(&request.body)));
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

fn header_word(name: &str, value: &str) -> String {
    if is_sensitive_header(name) {
        let safe = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if safe {
            return format!("\"{name}: ${}\"", header_env_name(name));
        }
        return shell_quote(&format!("{name}: <redacted>"));
    }
    shell_quote(&format!("{name}: {value}"))
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
             --header \"Authorization: $AUTHORIZATION\" \\\n  \
             --header 'User-Agent: spotcheck/0.1.0' \\\n  \
             --data-binary '{\"a\":\"it'\\''s\"}'"
                .replace("0.1.0", env!("CARGO_PKG_VERSION"))
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
