//! Signature diagnosis: verifying one delivery step by step and naming the likely
//! cause when it fails, so a partner can see why their own check disagrees.
//!
//! [`explain`] returns what it found as data ([`Explanation`]); `spotcheck verify`
//! words it. The table of known wrong computations lives with the endpoint probes that
//! imitate them, so it is handed in as a [`Fingerprinter`] rather than imported here.

use std::time::Duration;

use super::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, SignatureFormat, Token, Verifier,
    VerifyError, parse_tokens,
};

/// Everything one verification looks at.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The secret to check against.
    pub secret: &'a Secret,
    /// The headers given, `(name, value)`.
    pub headers: &'a [(String, String)],
    /// The raw body.
    pub body: &'a [u8],
    /// The timestamp tolerance; `None` skips the freshness check.
    pub tolerance: Option<Duration>,
    /// Unix seconds to compare the timestamp with.
    pub now: i64,
}

/// A known wrong computation whose result is the signature given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMistake {
    /// The mistake's stable id.
    pub id: &'static str,
    /// The mistake, completing "your code …".
    pub mistake: &'static str,
    /// The correction in one sentence.
    pub fix: &'static str,
}

/// Names the known wrong computations that turn `(secret, id, timestamp, body)` into
/// the `signature` given.
pub type Fingerprinter<'a> = &'a dyn Fn(&Secret, &str, &str, &[u8], &str) -> Vec<KnownMistake>;

/// What the diagnosis found, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// Length of the decoded signing key, in bytes.
    pub key_len: usize,
    /// Length of the body, in bytes.
    pub body_len: usize,
    /// The three signature headers in order, then every other header given.
    pub headers: Vec<HeaderReading>,
    /// The timestamp, when the header was given.
    pub timestamp: Option<TimestampReading>,
    /// What was signed and what each token says, when the id and timestamp were given.
    pub signed: Option<SignedContent>,
    /// The verdict.
    pub outcome: Outcome,
}

/// One header as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderReading {
    /// The signature header, with how many tokens it holds.
    Signature {
        /// Whitespace-separated tokens.
        tokens: usize,
    },
    /// The id or timestamp header, with its value.
    Present {
        /// The header's name.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A signature header that was not given.
    Missing {
        /// The header's name.
        name: &'static str,
    },
    /// A header the signature does not use.
    Unused {
        /// The header's name as given.
        name: String,
    },
}

/// The timestamp header, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampReading {
    /// Whole Unix seconds.
    Seconds {
        /// The timestamp.
        sent: i64,
        /// The time it is compared with.
        now: i64,
        /// `now - sent`: negative when the timestamp is in the future.
        age: i64,
        /// How it compares with the tolerance.
        freshness: Freshness,
    },
    /// Not Unix time in whole seconds.
    NotSeconds {
        /// The value given.
        value: String,
    },
}

/// How a timestamp compares with the tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// No tolerance: the check was skipped.
    Unchecked,
    /// Within the tolerance.
    Within(Duration),
    /// Outside the tolerance.
    Outside(Duration),
}

/// What was signed, the signature expected and each token given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedContent {
    /// The id header.
    pub id: String,
    /// The timestamp header.
    pub timestamp: String,
    /// The expected signature, standard Base64.
    pub expected: String,
    /// The expected signature as a `v1,` token.
    pub expected_token: String,
    /// Each token of the signature header, in order (empty when it was not given).
    pub tokens: Vec<TokenReading>,
}

/// One token of the signature header, compared with the expected signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenReading {
    /// A signature in one of the accepted forms.
    Signature {
        /// Its form.
        format: SignatureFormat,
        /// Whether it is the expected signature.
        matches: bool,
    },
    /// A token of another scheme version, skipped.
    OtherVersion(String),
    /// Not a signature, and why.
    Invalid(String),
}

/// Whether the delivery verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It does.
    Valid {
        /// The 1-based number of the first token that matches.
        token: usize,
        /// That token's form.
        format: SignatureFormat,
    },
    /// It does not: the step that failed and the likely causes, most specific first.
    Invalid {
        /// The step that failed.
        error: VerifyError,
        /// The likely causes.
        causes: Vec<Cause>,
    },
}

/// A likely cause of a failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The header was not given to the check.
    HeaderNotGiven {
        /// The missing header.
        name: &'static str,
    },
    /// A proxy or framework dropped or renamed the header.
    HeaderDropped,
    /// The timestamp is not whole Unix seconds (milliseconds, a date…).
    TimestampNotSeconds,
    /// The id and timestamp headers look swapped (the id is a number).
    HeadersSwapped,
    /// The timestamp was taken from the wrong header.
    TimestampFromWrongHeader,
    /// The signature matches; only the timestamp is outside the tolerance.
    OnlyTimestampOff,
    /// The delivery was captured earlier than it is checked.
    CapturedEarlier,
    /// A replay, or a clock that is off.
    ReplayOrClock,
    /// The signature header is empty.
    EmptySignature,
    /// A known wrong computation produces the signature given.
    Known(KnownMistake),
    /// The header was cut or altered when copied.
    TokenCutOrAltered,
    /// A token is hex, not Base64.
    HexToken,
    /// The signature matches the body without its final newline.
    TrailingNewline,
    /// The signature matches the JSON re-serialized compactly.
    Reformatted,
    /// The signature matches the body as these libraries of
    /// [`super::reserialize::SERIALIZERS`] write it back (their ids; several when they
    /// write this body alike).
    Reserialized {
        /// The libraries' ids, in the table's order.
        ids: Vec<&'static str>,
    },
    /// The signature matches with id and timestamp swapped.
    IdAndTimestampSwapped,
    /// The body was parsed and printed again before verifying.
    BodyReserialized,
    /// Another secret (another subscription's, environment's, or before rotation).
    WrongSecret,
    /// The `v1,` prefix was not stripped.
    PrefixNotStripped,
    /// The signed content was not `id.timestamp.body` from the right headers.
    WrongSignedContent,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Verifies step by step and, when the delivery does not verify, names the likely
/// causes (asking `fingerprint` which known wrong computation gives the signature).
pub fn explain(input: &Input<'_>, fingerprint: Fingerprinter<'_>) -> Explanation {
    let id = header(input.headers, HEADER_ID);
    let timestamp = header(input.headers, HEADER_TIMESTAMP);
    let signature = header(input.headers, HEADER_SIGNATURE);
    let mut headers = Vec::new();
    for (name, value) in [
        (HEADER_ID, id),
        (HEADER_TIMESTAMP, timestamp),
        (HEADER_SIGNATURE, signature),
    ] {
        headers.push(match value {
            Some(value) if name == HEADER_SIGNATURE => HeaderReading::Signature {
                tokens: value.split_ascii_whitespace().count(),
            },
            Some(value) => HeaderReading::Present {
                name,
                value: value.to_owned(),
            },
            None => HeaderReading::Missing { name },
        });
    }
    for (name, _) in input.headers {
        if ![HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE]
            .iter()
            .any(|known| known.eq_ignore_ascii_case(name))
        {
            headers.push(HeaderReading::Unused { name: name.clone() });
        }
    }

    let timestamp_reading = timestamp.map(|timestamp| match timestamp.trim().parse::<i64>() {
        Ok(sent) => {
            let age = input.now.saturating_sub(sent);
            let freshness = match input.tolerance {
                None => Freshness::Unchecked,
                Some(tolerance) if age.unsigned_abs() <= tolerance.as_secs() => {
                    Freshness::Within(tolerance)
                }
                Some(tolerance) => Freshness::Outside(tolerance),
            };
            TimestampReading::Seconds {
                sent,
                now: input.now,
                age,
                freshness,
            }
        }
        Err(_) => TimestampReading::NotSeconds {
            value: timestamp.to_owned(),
        },
    });

    let mut matched: Option<(usize, SignatureFormat)> = None;
    let signed = match (id, timestamp) {
        (Some(id), Some(timestamp)) => {
            let expected = input.secret.sign(id, timestamp, input.body);
            let mut tokens = Vec::new();
            if let Some(signature) = signature {
                for (index, token) in parse_tokens(signature).iter().enumerate() {
                    tokens.push(match token {
                        Token::Signature { format, bytes } => {
                            let hit = bytes.as_slice() == expected.0.as_slice();
                            if hit && matched.is_none() {
                                matched = Some((index + 1, *format));
                            }
                            TokenReading::Signature {
                                format: *format,
                                matches: hit,
                            }
                        }
                        Token::OtherVersion(version) => TokenReading::OtherVersion(version.clone()),
                        Token::Invalid(why) => TokenReading::Invalid(why.clone()),
                    });
                }
            }
            Some(SignedContent {
                id: id.to_owned(),
                timestamp: timestamp.to_owned(),
                expected: expected.to_base64(),
                expected_token: expected.token(SignatureFormat::V1),
                tokens,
            })
        }
        _ => None,
    };

    let verifier = Verifier::new(vec![input.secret.clone()]).with_tolerance(input.tolerance);
    let outcome = match verifier.verify(id, timestamp, signature, input.body, input.now) {
        Ok(format) => {
            let (token, format) = matched.unwrap_or((1, format));
            Outcome::Valid { token, format }
        }
        Err(error) => {
            let causes = likely_causes(
                &error,
                input,
                fingerprint,
                (id, timestamp, signature),
                matched.is_some(),
            );
            Outcome::Invalid { error, causes }
        }
    };
    Explanation {
        key_len: input.secret.expose_key().len(),
        body_len: input.body.len(),
        headers,
        timestamp: timestamp_reading,
        signed,
        outcome,
    }
}

fn likely_causes(
    err: &VerifyError,
    input: &Input<'_>,
    fingerprint: Fingerprinter<'_>,
    (id, timestamp, signature): (Option<&str>, Option<&str>, Option<&str>),
    signature_matches: bool,
) -> Vec<Cause> {
    let mut causes = Vec::new();
    // The three headers, when all were given: what the computations below redo.
    let given = match (id, timestamp, signature) {
        (Some(id), Some(timestamp), Some(signature)) => Some((id, timestamp, signature)),
        _ => None,
    };
    let known = |(id, timestamp, signature): (&str, &str, &str)| {
        fingerprint(input.secret, id, timestamp, input.body, signature)
            .into_iter()
            .map(Cause::Known)
    };
    match err {
        VerifyError::MissingHeader(name) => {
            causes.push(Cause::HeaderNotGiven { name });
            causes.push(Cause::HeaderDropped);
        }
        VerifyError::BadTimestamp(_) => {
            causes.push(Cause::TimestampNotSeconds);
            if id.is_some_and(|id| id.trim().parse::<i64>().is_ok()) {
                causes.push(Cause::HeadersSwapped);
            } else {
                causes.push(Cause::TimestampFromWrongHeader);
            }
        }
        VerifyError::TimestampTooOld { .. } | VerifyError::TimestampTooNew { .. } => {
            if signature_matches {
                causes.push(Cause::OnlyTimestampOff);
            }
            causes.push(Cause::CapturedEarlier);
            causes.push(Cause::ReplayOrClock);
        }
        VerifyError::NoTokens => causes.push(Cause::EmptySignature),
        VerifyError::Malformed(_) => {
            if let Some(given) = given {
                causes.extend(known(given));
            }
            causes.push(Cause::TokenCutOrAltered);
            if signature.is_some_and(|s| {
                s.split_ascii_whitespace()
                    .any(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            }) {
                causes.push(Cause::HexToken);
            }
        }
        VerifyError::NoMatch { .. } => {
            if let Some(given) = given {
                causes.extend(known(given));
                causes.extend(specific_mismatch(input, given));
            }
            causes.push(Cause::BodyReserialized);
            causes.push(Cause::WrongSecret);
            causes.push(Cause::PrefixNotStripped);
            causes.push(Cause::WrongSignedContent);
        }
    }
    causes
}

/// Tries the usual slips and names the one that makes the signature match.
fn specific_mismatch(
    input: &Input<'_>,
    (id, timestamp, signature): (&str, &str, &str),
) -> Vec<Cause> {
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
        found.push(Cause::TrailingNewline);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Ok(compact) = serde_json::to_vec(&value)
        && compact != body
        && matches(id, timestamp, &compact)
    {
        found.push(Cause::Reformatted);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let ids: Vec<&'static str> = super::reserialize::SERIALIZERS
            .iter()
            .filter(|library| {
                let written = library.write(&value);
                written != body && matches(id, timestamp, &written)
            })
            .map(|library| library.id)
            .collect();
        if !ids.is_empty() {
            found.push(Cause::Reserialized { ids });
        }
    }
    if matches(timestamp, id, body) {
        found.push(Cause::IdAndTimestampSwapped);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_key(b"test-key".to_vec())
    }

    fn no_known_mistakes(_: &Secret, _: &str, _: &str, _: &[u8], _: &str) -> Vec<KnownMistake> {
        Vec::new()
    }

    fn explain_with(
        headers: &[(&str, &str)],
        body: &[u8],
        now: i64,
        fingerprint: Fingerprinter<'_>,
    ) -> Explanation {
        let secret = secret();
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        explain(
            &Input {
                secret: &secret,
                headers: &headers,
                body,
                tolerance: Some(Duration::from_secs(300)),
                now,
            },
            fingerprint,
        )
    }

    fn causes(explanation: &Explanation) -> &[Cause] {
        match &explanation.outcome {
            Outcome::Invalid { causes, .. } => causes,
            Outcome::Valid { .. } => panic!("{explanation:?}"),
        }
    }

    #[test]
    fn a_signature_over_the_body_with_its_newline_cut_is_named() {
        let body = b"{\"a\":1}";
        let good = secret().sign("evt", "100", body).to_base64();
        let explanation = explain_with(
            &[
                ("x-spotnana-webhook-id", "evt"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", &good),
            ],
            b"{\"a\":1}\n",
            100,
            &no_known_mistakes,
        );
        assert_eq!(causes(&explanation)[0], Cause::TrailingNewline);
        assert_eq!(
            explanation.signed.as_ref().unwrap().tokens,
            vec![TokenReading::Signature {
                format: SignatureFormat::Bare,
                matches: false
            }]
        );
    }

    #[test]
    fn swapped_id_and_timestamp_are_named_before_the_generic_causes() {
        // A numeric id, so that swapped it still reads as a timestamp.
        let swapped = secret().sign("100", "200", b"{}").to_base64();
        let explanation = explain_with(
            &[
                ("x-spotnana-webhook-id", "200"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", &swapped),
            ],
            b"{}",
            100,
            &no_known_mistakes,
        );
        assert_eq!(
            causes(&explanation),
            &[
                Cause::IdAndTimestampSwapped,
                Cause::BodyReserialized,
                Cause::WrongSecret,
                Cause::PrefixNotStripped,
                Cause::WrongSignedContent,
            ]
        );
    }

    #[test]
    fn the_fingerprinter_is_asked_with_the_given_headers_and_its_answer_comes_first() {
        let known = |_: &Secret, id: &str, ts: &str, body: &[u8], sig: &str| {
            assert_eq!((id, ts, body, sig), ("evt", "100", &b"{}"[..], "v1,AAAA"));
            vec![KnownMistake {
                id: "key-whole-secret",
                mistake: "keys the HMAC with the whole secret string",
                fix: "key the HMAC with the decoded bytes",
            }]
        };
        let explanation = explain_with(
            &[
                ("x-spotnana-webhook-id", "evt"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", "v1,AAAA"),
            ],
            b"{}",
            100,
            &known,
        );
        assert!(
            matches!(&causes(&explanation)[0], Cause::Known(m) if m.id == "key-whole-secret"),
            "{explanation:?}"
        );
    }

    #[test]
    fn a_valid_delivery_names_its_first_matching_token() {
        let good = secret().sign("evt", "100", b"{}");
        let header = format!("v1,{} {}", good.to_base64(), good.to_base64());
        let explanation = explain_with(
            &[
                ("X-Spotnana-Webhook-Id", "evt"),
                ("x-spotnana-webhook-timestamp", "100"),
                ("x-spotnana-webhook-signature", &header),
                ("content-type", "application/json"),
            ],
            b"{}",
            110,
            &no_known_mistakes,
        );
        assert_eq!(
            explanation.outcome,
            Outcome::Valid {
                token: 1,
                format: SignatureFormat::V1
            }
        );
        assert_eq!(
            explanation.headers[3],
            HeaderReading::Unused {
                name: "content-type".into()
            }
        );
        assert_eq!(
            explanation.timestamp,
            Some(TimestampReading::Seconds {
                sent: 100,
                now: 110,
                age: 10,
                freshness: Freshness::Within(Duration::from_secs(300))
            })
        );
    }
}
