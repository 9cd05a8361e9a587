//! The common ways a verifier computes Spotnana's signature wrong, as data.
//!
//! Each [`Probe`] is one mistake: the one-sentence description, the line to change in
//! each stack, and how to sign a delivery the way the mistaken verifier expects it.
//! The same table drives the live probes of `spotcheck run` (sign a delivery each
//! wrong way, see which one the endpoint accepts) and the offline fingerprints of
//! `spotcheck verify` (which wrong computation produced the signature given).
//! Adding a mistake is one entry in [`PROBES`].

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::signing::{SECRET_PREFIX, Secret, SignatureFormat, hmac_sha256};

/// Where the HMAC key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The Base64-decoded bytes after `whsec_` (the documented key).
    Decoded,
    /// The whole `whsec_…` text as bytes.
    WholeSecret,
    /// The text after `whsec_` as bytes, not Base64-decoded.
    UndecodedText,
}

/// What is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// `{id}.{timestamp}.{body}` (documented).
    Documented,
    /// The body alone.
    BodyOnly,
    /// `{timestamp}.{body}` (Stripe's scheme).
    TimestampBody,
    /// id, timestamp and body joined with another separator.
    Separator(&'static str),
}

/// How the digest is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Standard padded Base64 (documented).
    Base64,
    /// Lower-case hex.
    Hex,
    /// URL-safe Base64 without padding.
    Base64Url,
}

/// How the signature header is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The run's token form (`v1,<sig>` or bare).
    RunFormat,
    /// This token form; the probe is left out when it is the run's.
    Token(SignatureFormat),
    /// `<prefix><sig>`, e.g. GitHub's `sha256=`.
    Prefixed(&'static str),
    /// Stripe's `t=<timestamp>,v1=<sig>`.
    Stripe,
}

/// How the timestamp header is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Unix seconds (documented).
    Seconds,
    /// Unix milliseconds.
    Milliseconds,
}

/// One way of computing the signature header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Computation {
    /// The HMAC key.
    pub key: Key,
    /// The signed content.
    pub content: Content,
    /// The digest's text form.
    pub encoding: Encoding,
    /// The header's form.
    pub form: Form,
    /// The timestamp's unit.
    pub clock: Clock,
}

/// The documented computation; each probe changes one part of it.
pub const DOCUMENTED: Computation = Computation {
    key: Key::Decoded,
    content: Content::Documented,
    encoding: Encoding::Base64,
    form: Form::RunFormat,
    clock: Clock::Seconds,
};

/// The stacks a fix is shown for, in the order of [`Fix::lines`].
pub const STACKS: [&str; 7] = [
    "Node/Express",
    "Python",
    "Java/Spring",
    "C#/ASP.NET",
    "Go",
    "Ruby",
    "PHP",
];

/// The line to change, per stack.
#[derive(Debug)]
pub struct Fix {
    /// The correction in one sentence.
    pub summary: &'static str,
    /// One line per stack, in the order of [`STACKS`].
    pub lines: [&'static str; 7],
}

/// One common mistake and how to imitate it.
#[derive(Debug)]
pub struct Probe {
    /// Stable id (in reports).
    pub id: &'static str,
    /// The mistake, completing "your endpoint …".
    pub mistake: &'static str,
    /// How the mistaken verifier computes the signature.
    pub computation: Computation,
    /// How to correct it.
    pub fix: &'static Fix,
}

const KEY_FIX: Fix = Fix {
    summary: "key the HMAC with the Base64-decoded bytes after `whsec_`",
    lines: [
        "const key = Buffer.from(secret.slice('whsec_'.length), 'base64');",
        "key = base64.b64decode(secret.removeprefix('whsec_'))",
        "byte[] key = Base64.getDecoder().decode(secret.substring(\"whsec_\".length()));",
        "var key = Convert.FromBase64String(secret[\"whsec_\".Length..]);",
        "key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, \"whsec_\"))",
        "key = Base64.strict_decode64(secret.delete_prefix('whsec_'))",
        "$key = base64_decode(substr($secret, strlen('whsec_')), true);",
    ],
};

const CONTENT_FIX: Fix = Fix {
    summary: "sign `{webhook id}.{timestamp}.{raw body}`, joined with dots",
    lines: [
        "const signed = `${req.get('x-spotnana-webhook-id')}.${req.get('x-spotnana-webhook-timestamp')}.${rawBody}`;",
        "signed = f\"{webhook_id}.{timestamp}.\".encode() + raw_body",
        "byte[] signed = (webhookId + \".\" + timestamp + \".\").getBytes(UTF_8); /* then the raw body bytes */",
        "var signed = Encoding.UTF8.GetBytes($\"{webhookId}.{timestamp}.\").Concat(rawBody).ToArray();",
        "signed := append([]byte(webhookID+\".\"+timestamp+\".\"), rawBody...)",
        "signed = \"#{webhook_id}.#{timestamp}.#{raw_body}\"",
        "$signed = $webhookId . '.' . $timestamp . '.' . $rawBody;",
    ],
};

const ENCODING_FIX: Fix = Fix {
    summary: "compare standard Base64 (with `+`, `/` and `=` padding) of the HMAC",
    lines: [
        "const expected = crypto.createHmac('sha256', key).update(signed).digest('base64');",
        "expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()",
        "String expected = Base64.getEncoder().encodeToString(mac.doFinal(signed));",
        "var expected = Convert.ToBase64String(HMACSHA256.HashData(key, signed));",
        "expected := base64.StdEncoding.EncodeToString(mac.Sum(nil))",
        "expected = Base64.strict_encode64(OpenSSL::HMAC.digest('SHA256', key, signed))",
        "$expected = base64_encode(hash_hmac('sha256', $signed, $key, true));",
    ],
};

/// How to read the signature header (tokens, `v1,`, rotation).
pub const HEADER_FIX: Fix = Fix {
    summary: "split `x-spotnana-webhook-signature` on spaces, strip an optional `v1,` from each token, and accept if any token matches",
    lines: [
        "const ok = req.get('x-spotnana-webhook-signature').split(' ').some(t => safeEqual(t.replace(/^v1,/, ''), expected));",
        "ok = any(hmac.compare_digest(t.removeprefix('v1,'), expected) for t in header.split())",
        "boolean ok = Arrays.stream(header.split(\" \")).anyMatch(t -> MessageDigest.isEqual(t.replaceFirst(\"^v1,\", \"\").getBytes(), expected.getBytes()));",
        "var ok = header.Split(' ').Any(t => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(t.StartsWith(\"v1,\") ? t[3..] : t), Encoding.ASCII.GetBytes(expected)));",
        "for _, t := range strings.Fields(header) { if hmac.Equal([]byte(strings.TrimPrefix(t, \"v1,\")), []byte(expected)) { ok = true } }",
        "ok = header.split(' ').any? { |t| Rack::Utils.secure_compare(t.delete_prefix('v1,'), expected) }",
        "foreach (explode(' ', $header) as $t) { if (hash_equals($expected, preg_replace('/^v1,/', '', $t))) { $ok = true; } }",
    ],
};

const CLOCK_FIX: Fix = Fix {
    summary: "read `x-spotnana-webhook-timestamp` as Unix seconds",
    lines: [
        "const ageSeconds = Math.floor(Date.now() / 1000) - Number(timestamp);",
        "age_seconds = int(time.time()) - int(timestamp)",
        "long ageSeconds = Instant.now().getEpochSecond() - Long.parseLong(timestamp);",
        "var ageSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(timestamp);",
        "ageSeconds := time.Now().Unix() - ts // ts, _ := strconv.ParseInt(timestamp, 10, 64)",
        "age_seconds = Time.now.to_i - Integer(timestamp)",
        "$ageSeconds = time() - (int) $timestamp;",
    ],
};

const fn change(
    key: Key,
    content: Content,
    encoding: Encoding,
    form: Form,
    clock: Clock,
) -> Computation {
    Computation {
        key,
        content,
        encoding,
        form,
        clock,
    }
}

use Clock::{Milliseconds, Seconds};
use Content::{BodyOnly, Documented, Separator, TimestampBody};
use Encoding::{Base64, Base64Url, Hex};
use Form::{Prefixed, RunFormat, Stripe, Token};
use Key::{Decoded, UndecodedText, WholeSecret};

/// Every mistake spotcheck probes for, in the order probes are sent.
pub const PROBES: &[Probe] = &[
    Probe {
        id: "key-whole-secret",
        mistake: "keys the HMAC with the whole secret string, `whsec_` included, instead of the Base64-decoded bytes after it",
        computation: change(WholeSecret, Documented, Base64, RunFormat, Seconds),
        fix: &KEY_FIX,
    },
    Probe {
        id: "key-not-decoded",
        mistake: "keys the HMAC with the text after `whsec_` as it is, without Base64-decoding it",
        computation: change(UndecodedText, Documented, Base64, RunFormat, Seconds),
        fix: &KEY_FIX,
    },
    Probe {
        id: "body-only",
        mistake: "signs the raw body alone instead of `{webhook id}.{timestamp}.{raw body}`",
        computation: change(Decoded, BodyOnly, Base64, RunFormat, Seconds),
        fix: &CONTENT_FIX,
    },
    Probe {
        id: "timestamp-body",
        mistake: "signs `{timestamp}.{body}` as Stripe does, leaving out the webhook id",
        computation: change(Decoded, TimestampBody, Base64, RunFormat, Seconds),
        fix: &CONTENT_FIX,
    },
    Probe {
        id: "colon-separator",
        mistake: "joins webhook id, timestamp and body with `:` instead of `.`",
        computation: change(Decoded, Separator(":"), Base64, RunFormat, Seconds),
        fix: &CONTENT_FIX,
    },
    Probe {
        id: "no-separator",
        mistake: "concatenates webhook id, timestamp and body without the `.` between them",
        computation: change(Decoded, Separator(""), Base64, RunFormat, Seconds),
        fix: &CONTENT_FIX,
    },
    Probe {
        id: "hex-digest",
        mistake: "compares a hex digest instead of the standard Base64 of the HMAC",
        computation: change(Decoded, Documented, Hex, RunFormat, Seconds),
        fix: &ENCODING_FIX,
    },
    Probe {
        id: "base64url",
        mistake: "compares a base64url string (`-` and `_`, no padding) instead of standard Base64",
        computation: change(Decoded, Documented, Base64Url, RunFormat, Seconds),
        fix: &ENCODING_FIX,
    },
    Probe {
        id: "sha256-prefix",
        mistake: "expects a `sha256=<signature>` header (GitHub's style) instead of Spotnana's space-separated `v1,<base64>` tokens",
        computation: change(Decoded, Documented, Base64, Prefixed("sha256="), Seconds),
        fix: &HEADER_FIX,
    },
    Probe {
        id: "stripe-header",
        mistake: "expects a Stripe-style `t=<timestamp>,v1=<signature>` header instead of Spotnana's space-separated `v1,<base64>` tokens",
        computation: change(Decoded, Documented, Base64, Stripe, Seconds),
        fix: &HEADER_FIX,
    },
    Probe {
        id: "v1-prefix-kept",
        mistake: "does not strip the `v1,` prefix from each token before comparing it",
        computation: change(
            Decoded,
            Documented,
            Base64,
            Token(SignatureFormat::Bare),
            Seconds,
        ),
        fix: &HEADER_FIX,
    },
    Probe {
        id: "v1-prefix-required",
        mistake: "accepts only `v1,`-prefixed tokens and refuses a bare Base64 signature",
        computation: change(
            Decoded,
            Documented,
            Base64,
            Token(SignatureFormat::V1),
            Seconds,
        ),
        fix: &HEADER_FIX,
    },
    Probe {
        id: "timestamp-milliseconds",
        mistake: "reads `x-spotnana-webhook-timestamp` as milliseconds, so every delivery (stamped in Unix seconds) looks decades old",
        computation: change(Decoded, Documented, Base64, RunFormat, Milliseconds),
        fix: &CLOCK_FIX,
    },
];

impl Probe {
    /// Whether this probe differs from the documented delivery in the run's token
    /// form (a `Token` probe in the run's own form would be a valid delivery).
    pub fn applies(&self, format: SignatureFormat) -> bool {
        self.computation.form != Form::Token(format)
    }

    /// The timestamp header this probe sends at `now` (Unix seconds).
    pub fn timestamp(&self, now: i64) -> String {
        match self.computation.clock {
            Clock::Seconds => now.to_string(),
            Clock::Milliseconds => now.saturating_mul(1000).to_string(),
        }
    }

    /// The signature header a verifier making this mistake expects.
    pub fn signature(
        &self,
        secret: &Secret,
        id: &str,
        timestamp: &str,
        body: &[u8],
        format: SignatureFormat,
    ) -> String {
        let digest = digest(&self.computation, secret, id, timestamp, body);
        match self.computation.form {
            Form::RunFormat => token(format, &digest),
            Form::Token(format) => token(format, &digest),
            Form::Prefixed(prefix) => format!("{prefix}{digest}"),
            Form::Stripe => format!("t={timestamp},v1={digest}"),
        }
    }
}

fn token(format: SignatureFormat, digest: &str) -> String {
    match format {
        SignatureFormat::V1 => format!("v1,{digest}"),
        SignatureFormat::Bare => digest.to_owned(),
    }
}

/// The digest text of `computation` (without the header form around it).
fn digest(
    computation: &Computation,
    secret: &Secret,
    id: &str,
    timestamp: &str,
    body: &[u8],
) -> String {
    let whsec;
    let key: &[u8] = match computation.key {
        Key::Decoded => secret.expose_key(),
        Key::WholeSecret => {
            whsec = secret.expose_whsec();
            whsec.as_bytes()
        }
        Key::UndecodedText => {
            whsec = secret.expose_whsec();
            &whsec.as_bytes()[SECRET_PREFIX.len()..]
        }
    };
    let mac = match computation.content {
        Content::Documented => hmac_sha256(
            key,
            &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
        ),
        Content::BodyOnly => hmac_sha256(key, &[body]),
        Content::TimestampBody => hmac_sha256(key, &[timestamp.as_bytes(), b".", body]),
        Content::Separator(sep) => hmac_sha256(
            key,
            &[
                id.as_bytes(),
                sep.as_bytes(),
                timestamp.as_bytes(),
                sep.as_bytes(),
                body,
            ],
        ),
    };
    match computation.encoding {
        Encoding::Base64 => STANDARD.encode(mac),
        Encoding::Base64Url => URL_SAFE_NO_PAD.encode(mac),
        Encoding::Hex => mac.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// The probes whose computation produces `signature` for this id, timestamp and body
/// (offline fingerprinting: a partner pastes what their own code computed). A probe
/// that computes the same digest as the documented scheme and differs only in the
/// header's form matches only the exact header; probes that read the headers
/// differently but sign the same (the timestamp's unit, the token form, both of
/// which verify as given) never match.
pub fn fingerprint(
    secret: &Secret,
    id: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> Vec<&'static Probe> {
    let given = signature.trim();
    let documented = digest(&DOCUMENTED, secret, id, timestamp, body);
    let pieces: Vec<&str> = given
        .split(|c: char| c.is_ascii_whitespace() || c == ',')
        .map(|piece| {
            ["v1=", "sha256=", "t="]
                .iter()
                .find_map(|prefix| piece.strip_prefix(prefix))
                .unwrap_or(piece)
        })
        .collect();
    PROBES
        .iter()
        .filter(|probe| probe.computation.clock == Clock::Seconds)
        .filter(|probe| {
            let digest = digest(&probe.computation, secret, id, timestamp, body);
            if digest != documented {
                return pieces.contains(&digest.as_str());
            }
            // Same digest: only the header's form differs. Both token forms verify,
            // so a `Token` probe fingerprints nothing.
            let header = match probe.computation.form {
                Form::RunFormat | Form::Token(_) => return false,
                _ => probe.signature(secret, id, timestamp, body, SignatureFormat::V1),
            };
            given == header
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
    }

    #[test]
    fn ids_are_unique_and_each_probe_differs_from_the_documented_signature() {
        let secret = secret();
        for (i, probe) in PROBES.iter().enumerate() {
            assert!(PROBES[..i].iter().all(|p| p.id != probe.id), "{}", probe.id);
            for format in [SignatureFormat::V1, SignatureFormat::Bare] {
                if !probe.applies(format) {
                    continue;
                }
                let ts = probe.timestamp(1_700_000_000);
                let header = probe.signature(&secret, "evt", &ts, b"{}", format);
                let sent = secret.sign("evt", "1700000000", b"{}").token(format);
                assert_ne!(header, sent, "{} is what the run sends", probe.id);
                if matches!(probe.computation.form, Form::Token(_)) {
                    continue; // the other token form, valid for Spotnana
                }
                let valid = crate::signing::Verifier::new(vec![secret.clone()])
                    .with_tolerance(Some(crate::signing::DEFAULT_TOLERANCE))
                    .verify(Some("evt"), Some(&ts), Some(&header), b"{}", 1_700_000_000);
                assert!(valid.is_err(), "{} verifies as documented", probe.id);
            }
        }
    }

    #[test]
    fn a_token_probe_applies_only_to_runs_in_the_other_form() {
        let probe = |id: &str| PROBES.iter().find(|p| p.id == id).unwrap();
        let bare = probe("v1-prefix-kept");
        assert!(bare.applies(SignatureFormat::V1));
        assert!(!bare.applies(SignatureFormat::Bare));
        let v1 = probe("v1-prefix-required");
        assert!(v1.applies(SignatureFormat::Bare));
        assert!(!v1.applies(SignatureFormat::V1));
        // Every other probe differs from both forms, so it always applies.
        let others = PROBES
            .iter()
            .filter(|p| !matches!(p.computation.form, Form::Token(_)));
        for other in others {
            assert!(other.applies(SignatureFormat::V1) && other.applies(SignatureFormat::Bare));
        }
    }

    #[test]
    fn the_timestamp_is_sent_in_the_unit_the_mistake_reads() {
        let millis = PROBES
            .iter()
            .find(|p| p.id == "timestamp-milliseconds")
            .unwrap();
        assert_eq!(millis.timestamp(1_700_000_000), "1700000000000");
        let seconds = PROBES
            .iter()
            .find(|p| p.computation.clock == Clock::Seconds)
            .unwrap();
        assert_eq!(seconds.timestamp(1_700_000_000), "1700000000");
    }

    #[test]
    fn each_signing_mistake_is_fingerprinted_alone() {
        let secret = secret();
        for probe in PROBES
            .iter()
            .filter(|p| p.computation.clock == Clock::Seconds)
        {
            let header = probe.signature(
                &secret,
                "evt",
                "1700000000",
                b"{\"a\":1}",
                SignatureFormat::V1,
            );
            let found = fingerprint(&secret, "evt", "1700000000", b"{\"a\":1}", &header);
            let ids: Vec<&str> = found.iter().map(|p| p.id).collect();
            if matches!(probe.computation.form, Form::Token(_)) {
                // Either token form verifies: nothing to find.
                assert!(ids.is_empty(), "{ids:?}");
            } else {
                assert_eq!(ids, [probe.id]);
            }
        }
        let documented = secret
            .sign("evt", "1700000000", b"{\"a\":1}")
            .token(SignatureFormat::V1);
        assert!(fingerprint(&secret, "evt", "1700000000", b"{\"a\":1}", &documented).is_empty());
    }
}
