//! Spotnana's webhook signature scheme: secrets, signing and verification.
//!
//! The scheme (Spotnana's developer documentation, restated in the README): the secret is `whsec_` followed by
//! Base64; the HMAC key is the decoded bytes. The signed content is
//! `{webhook id}.{timestamp}.{raw body bytes}` and the signature is the standard
//! Base64 of its HMAC-SHA256. The signature header holds one or more tokens
//! separated by spaces (key rotation), each either `v1,<base64>` or bare `<base64>`.
//!
//! Nothing here knows about HTTP; nothing here ever prints key material.

pub mod explain;
pub mod reserialize;

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the webhook id (stable across retries and resends).
pub const HEADER_ID: &str = "x-spotnana-webhook-id";
/// Header carrying the Unix time, in seconds, at which this attempt was sent.
pub const HEADER_TIMESTAMP: &str = "x-spotnana-webhook-timestamp";
/// Header carrying the space-separated signature tokens.
pub const HEADER_SIGNATURE: &str = "x-spotnana-webhook-signature";
/// The prefix every Spotnana signing secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
/// Default tolerance between a delivery's timestamp and the receiver's clock.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

type HmacSha256 = Hmac<Sha256>;

/// A webhook signing secret. Its `Debug` and `Display` never show the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
}

/// Why a string is not a usable `whsec_` secret. Never contains the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The input was empty or only white space.
    #[error("the secret is empty")]
    Empty,
    /// The input does not start with `whsec_`.
    #[error(
        "the secret does not start with `whsec_` (Spotnana secrets look like `whsec_<base64>`)"
    )]
    MissingPrefix,
    /// Nothing follows the prefix.
    #[error("the secret has nothing after `whsec_`")]
    NoKey,
    /// The part after the prefix is not Base64.
    #[error(
        "the part after `whsec_` is not valid Base64 ({reason}); copy the secret exactly as Spotnana issued it"
    )]
    BadBase64 {
        /// What the decoder objected to (position and kind, never the bytes).
        reason: String,
    },
}

impl Secret {
    /// Parses `whsec_<base64>` (padded or unpadded Base64). Surrounding white
    /// space (a trailing newline from a file) is ignored.
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        let Some(encoded) = text.strip_prefix(SECRET_PREFIX) else {
            return Err(SecretError::MissingPrefix);
        };
        if encoded.is_empty() {
            return Err(SecretError::NoKey);
        }
        let key = if encoded.ends_with('=') {
            STANDARD.decode(encoded)
        } else {
            STANDARD_NO_PAD.decode(encoded)
        }
        .map_err(|err| SecretError::BadBase64 {
            reason: describe_base64_error(&err),
        })?;
        if key.is_empty() {
            return Err(SecretError::NoKey);
        }
        Ok(Secret { key })
    }

    /// A secret from raw key bytes.
    pub fn from_key(key: impl Into<Vec<u8>>) -> Secret {
        Secret { key: key.into() }
    }

    /// A fresh random 32-byte secret (for the reference receiver and the demo).
    pub fn generate(rng: &mut impl rand::Rng) -> Secret {
        let mut key = vec![0u8; 32];
        rng.fill_bytes(&mut key);
        Secret { key }
    }

    /// The secret in its `whsec_<base64>` form. Named so that every place that
    /// reveals key material is easy to find.
    pub fn expose_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The raw HMAC key bytes.
    pub fn expose_key(&self) -> &[u8] {
        &self.key
    }

    /// Signs `{id}.{timestamp}.{body}` with this secret.
    pub fn sign(&self, id: &str, timestamp: &str, body: &[u8]) -> Signature {
        let mut mac = self.mac();
        feed(&mut mac, id.as_bytes(), timestamp.as_bytes(), body);
        Signature(mac.finalize().into_bytes().into())
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_***redacted***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("whsec_***redacted***")
    }
}

fn feed(mac: &mut HmacSha256, id: &[u8], timestamp: &[u8], body: &[u8]) {
    // `{id}.{timestamp}.` is joined on the stack when it fits one SHA-256 block (a
    // UUID and a Unix time do): one update instead of four.
    let mut prefix = [0u8; 64];
    let length = id.len() + timestamp.len() + 2;
    if length <= prefix.len() {
        prefix[..id.len()].copy_from_slice(id);
        prefix[id.len()] = b'.';
        prefix[id.len() + 1..length - 1].copy_from_slice(timestamp);
        prefix[length - 1] = b'.';
        mac.update(&prefix[..length]);
    } else {
        mac.update(id);
        mac.update(b".");
        mac.update(timestamp);
        mac.update(b".");
    }
    mac.update(body);
}

/// HMAC-SHA256 of `parts` concatenated, keyed with `key` (any bytes): what the
/// signature probes need to imitate verifiers that key or join differently.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn describe_base64_error(err: &base64::DecodeError) -> String {
    match err {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("character {} is not a Base64 character", offset + 1)
        }
        base64::DecodeError::InvalidLength(_) => "its length is not a valid Base64 length".into(),
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!(
                "character {} is an impossible final Base64 character",
                offset + 1
            )
        }
        base64::DecodeError::InvalidPadding => "its `=` padding is wrong".into(),
    }
}

/// A raw HMAC-SHA256 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 32]);

impl Signature {
    /// Standard padded Base64, as sent on the wire.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// One header token in the given form.
    pub fn token(&self, format: SignatureFormat) -> String {
        match format {
            SignatureFormat::V1 => format!("v1,{}", self.to_base64()),
            SignatureFormat::Bare => self.to_base64(),
        }
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_base64())
    }
}

/// The longest signature token: `v1,` and the 44 Base64 characters of 32 bytes.
pub const MAX_TOKEN_LEN: usize = 3 + 44;

/// A caller's buffer for one signature token (see [`SigningKey::token_into`]).
pub type TokenBuf = [u8; MAX_TOKEN_LEN];

/// A secret keyed once for signing many deliveries: the load client signs every
/// request into its own buffer, so the hot path neither re-keys the HMAC nor
/// allocates.
#[derive(Clone)]
pub struct SigningKey {
    mac: HmacSha256,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***redacted***)")
    }
}

impl SigningKey {
    /// Keys the HMAC with `secret`.
    pub fn new(secret: &Secret) -> SigningKey {
        SigningKey { mac: secret.mac() }
    }

    /// The signature of `{id}.{timestamp}.{body}`: the same as [`Secret::sign`], from
    /// the keyed state instead of keying the HMAC again.
    pub fn sign(&self, id: &[u8], timestamp: &[u8], body: &[u8]) -> Signature {
        let mut mac = self.mac.clone();
        feed(&mut mac, id, timestamp, body);
        Signature(mac.finalize().into_bytes().into())
    }

    /// Writes the token of `{id}.{timestamp}.{body}` in `format` into `buf` and
    /// returns the written part: the same bytes as
    /// [`Secret::sign`]`(…).`[`token`](Signature::token)`(format)`.
    pub fn token_into<'b>(
        &self,
        id: &str,
        timestamp: &str,
        body: &[u8],
        format: SignatureFormat,
        buf: &'b mut TokenBuf,
    ) -> &'b [u8] {
        let mut mac = self.mac.clone();
        feed(&mut mac, id.as_bytes(), timestamp.as_bytes(), body);
        let digest = mac.finalize().into_bytes();
        let prefix = match format {
            SignatureFormat::V1 => {
                buf[..3].copy_from_slice(b"v1,");
                3
            }
            SignatureFormat::Bare => 0,
        };
        let written = STANDARD
            .encode_slice(digest, &mut buf[prefix..])
            .unwrap_or(0);
        &buf[..prefix + written]
    }
}

/// How each token of the signature header is written (the docs leave it open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(clap::ValueEnum)]
pub enum SignatureFormat {
    /// `v1,<base64>` (the Standard Webhooks form; spotcheck's default).
    #[default]
    V1,
    /// Plain `<base64>`.
    Bare,
}

impl SignatureFormat {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureFormat::V1 => "v1",
            SignatureFormat::Bare => "bare",
        }
    }
}

/// Joins tokens into one signature header value (space separated).
pub fn join_tokens<I, S>(tokens: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for token in tokens {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token.as_ref());
    }
    out
}

/// The three signature header values of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `x-spotnana-webhook-id`.
    pub id: String,
    /// `x-spotnana-webhook-timestamp`.
    pub timestamp: String,
    /// `x-spotnana-webhook-signature`.
    pub signature: String,
}

impl SignedHeaders {
    /// Signs `body` with each secret (several during key rotation) and writes the header values.
    pub fn new(
        secrets: &[&Secret],
        id: &str,
        timestamp: i64,
        body: &[u8],
        format: SignatureFormat,
    ) -> SignedHeaders {
        let timestamp = timestamp.to_string();
        let signature = join_tokens(
            secrets
                .iter()
                .map(|secret| secret.sign(id, &timestamp, body).token(format)),
        );
        SignedHeaders {
            id: id.to_owned(),
            timestamp,
            signature,
        }
    }

    /// `(name, value)` pairs in the order they are sent.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            (HEADER_ID, &self.id),
            (HEADER_TIMESTAMP, &self.timestamp),
            (HEADER_SIGNATURE, &self.signature),
        ]
    }
}

/// The step of verification that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header was absent.
    #[error("header `{0}` is missing")]
    MissingHeader(&'static str),
    /// The timestamp header is not whole Unix seconds.
    #[error("header `{HEADER_TIMESTAMP}` is `{0}`, not Unix time in whole seconds")]
    BadTimestamp(String),
    /// The timestamp is older than the tolerance allows.
    #[error(
        "timestamp is {age_secs} s old, more than the {tolerance_secs} s tolerance (a replay?)"
    )]
    TimestampTooOld {
        /// How old the timestamp is.
        age_secs: i64,
        /// The tolerance in force.
        tolerance_secs: u64,
    },
    /// The timestamp is further in the future than the tolerance allows.
    #[error(
        "timestamp is {ahead_secs} s in the future, more than the {tolerance_secs} s tolerance"
    )]
    TimestampTooNew {
        /// How far ahead the timestamp is.
        ahead_secs: i64,
        /// The tolerance in force.
        tolerance_secs: u64,
    },
    /// The signature header holds no tokens.
    #[error("header `{HEADER_SIGNATURE}` holds no signature")]
    NoTokens,
    /// Tokens were present but none was a well-formed signature.
    #[error("no token in `{HEADER_SIGNATURE}` is a signature: {0}")]
    Malformed(String),
    /// Well-formed tokens were present but none matched.
    #[error(
        "no signature matched: {tokens} token(s) checked against HMAC-SHA256 of `id.timestamp.body` ({body_len} body bytes)"
    )]
    NoMatch {
        /// How many well-formed tokens were compared.
        tokens: usize,
        /// The length of the body that was signed.
        body_len: usize,
    },
}

/// What a receiver checks a delivery against.
#[derive(Debug, Clone)]
pub struct Verifier {
    secrets: Vec<Secret>,
    tolerance: Option<Duration>,
}

/// One token of a signature header, as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `v1,<base64>` or bare `<base64>`, decoded to 32 bytes.
    Signature {
        /// Whether it carried the `v1,` prefix.
        format: SignatureFormat,
        /// The decoded bytes.
        bytes: Vec<u8>,
    },
    /// A token with another version prefix (`v2,…`, `v1a,…`): skipped, as Standard Webhooks does.
    OtherVersion(String),
    /// Text that decodes to nothing usable.
    Invalid(String),
}

/// Splits a signature header value into tokens.
pub fn parse_tokens(header: &str) -> Vec<Token> {
    header
        .split_ascii_whitespace()
        .map(|raw| {
            let (format, encoded) = match raw.split_once(',') {
                Some(("v1", rest)) => (SignatureFormat::V1, rest),
                Some((version, _)) => return Token::OtherVersion(version.to_owned()),
                None => (SignatureFormat::Bare, raw),
            };
            match STANDARD.decode(encoded) {
                Ok(bytes) if bytes.len() == 32 => Token::Signature { format, bytes },
                Ok(bytes) => Token::Invalid(format!(
                    "decodes to {} bytes, an HMAC-SHA256 is 32",
                    bytes.len()
                )),
                Err(err) => Token::Invalid(format!("not Base64: {}", describe_base64_error(&err))),
            }
        })
        .collect()
}

impl Verifier {
    /// A verifier for one or more secrets (rotation) with the default 5-minute tolerance.
    pub fn new(secrets: Vec<Secret>) -> Verifier {
        Verifier {
            secrets,
            tolerance: Some(DEFAULT_TOLERANCE),
        }
    }

    /// Sets the timestamp tolerance; `None` disables the freshness check.
    pub fn with_tolerance(mut self, tolerance: Option<Duration>) -> Verifier {
        self.tolerance = tolerance;
        self
    }

    /// Verifies one delivery. Header values are `None` when the header was absent.
    /// `now` is Unix seconds. Returns the matching token's format.
    pub fn verify(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<SignatureFormat, VerifyError> {
        let id = id.ok_or(VerifyError::MissingHeader(HEADER_ID))?;
        let timestamp = timestamp.ok_or(VerifyError::MissingHeader(HEADER_TIMESTAMP))?;
        let signature = signature.ok_or(VerifyError::MissingHeader(HEADER_SIGNATURE))?;
        let sent: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| VerifyError::BadTimestamp(timestamp.chars().take(40).collect()))?;
        if let Some(tolerance) = self.tolerance {
            let tolerance_secs = tolerance.as_secs();
            let limit = i64::try_from(tolerance_secs).unwrap_or(i64::MAX);
            let age = now.saturating_sub(sent);
            if age > limit {
                return Err(VerifyError::TimestampTooOld {
                    age_secs: age,
                    tolerance_secs,
                });
            }
            if -age > limit {
                return Err(VerifyError::TimestampTooNew {
                    ahead_secs: -age,
                    tolerance_secs,
                });
            }
        }
        let tokens = parse_tokens(signature);
        if tokens.is_empty() {
            return Err(VerifyError::NoTokens);
        }
        let mut compared = 0;
        let mut problems = Vec::new();
        for token in &tokens {
            match token {
                Token::Signature { format, bytes } => {
                    compared += 1;
                    for secret in &self.secrets {
                        let mut mac = secret.mac();
                        feed(&mut mac, id.as_bytes(), timestamp.as_bytes(), body);
                        // `verify_slice` compares in constant time.
                        if mac.verify_slice(bytes).is_ok() {
                            return Ok(*format);
                        }
                    }
                }
                Token::OtherVersion(version) => {
                    problems.push(format!("unsupported version `{version}`"))
                }
                Token::Invalid(why) => problems.push(why.clone()),
            }
        }
        if compared == 0 {
            return Err(VerifyError::Malformed(problems.join("; ")));
        }
        Err(VerifyError::NoMatch {
            tokens: compared,
            body_len: body.len(),
        })
    }
}

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_into_a_buffer_writes_the_same_token() {
        let secret = Secret::from_key(b"key".to_vec());
        let key = SigningKey::new(&secret);
        let mut buf = [0u8; MAX_TOKEN_LEN];
        for format in [SignatureFormat::V1, SignatureFormat::Bare] {
            let token = key.token_into("msg_1", "1700000000", b"{}", format, &mut buf);
            let expected = secret.sign("msg_1", "1700000000", b"{}").token(format);
            assert_eq!(token, expected.as_bytes());
        }
        assert_eq!(format!("{key:?}"), "SigningKey(***redacted***)");
    }

    #[test]
    fn the_joined_prefix_signs_as_the_parts_do() {
        let secret = Secret::from_key(b"key".to_vec());
        let key = SigningKey::new(&secret);
        // Around the 64-byte limit of the joined `{id}.{timestamp}.`.
        for id_len in [0, 1, 36, 51, 52, 53, 54, 63, 64, 100] {
            let id = "i".repeat(id_len);
            let expected = hmac_sha256(b"key", &[id.as_bytes(), b".", b"1700000000", b".", b"{}"]);
            assert_eq!(
                secret.sign(&id, "1700000000", b"{}").0,
                expected,
                "{id_len}"
            );
            let signed = key.sign(id.as_bytes(), b"1700000000", b"{}");
            assert_eq!(signed.0, expected, "{id_len}");
        }
    }

    #[test]
    fn secret_debug_and_display_redact() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert!(!format!("{secret:?}").contains("MfKQ"));
        assert!(!format!("{secret}").contains("MfKQ"));
    }

    #[test]
    fn secret_errors_name_the_problem_without_the_secret() {
        assert_eq!(Secret::parse("  "), Err(SecretError::Empty));
        assert_eq!(
            Secret::parse("sk_live_abc"),
            Err(SecretError::MissingPrefix)
        );
        assert_eq!(Secret::parse("whsec_"), Err(SecretError::NoKey));
        let err = Secret::parse("whsec_abc$def").unwrap_err();
        assert!(matches!(err, SecretError::BadBase64 { .. }));
        assert!(!err.to_string().contains("abc$def"));
    }

    #[test]
    fn padded_and_unpadded_secrets_decode_the_same() {
        let padded = Secret::parse("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        let bare = Secret::parse("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        assert_eq!(padded, bare);
        assert_eq!(padded.expose_key(), (0u8..32).collect::<Vec<_>>());
    }

    #[test]
    fn verify_reports_each_failed_step() {
        let secret = Secret::from_key(b"k".to_vec());
        let verifier = Verifier::new(vec![secret.clone()]);
        let now = 1_700_000_000;
        let ts = now.to_string();
        let good = secret.sign("id", &ts, b"{}").token(SignatureFormat::V1);
        assert_eq!(
            verifier.verify(None, Some(&ts), Some(&good), b"{}", now),
            Err(VerifyError::MissingHeader(HEADER_ID))
        );
        assert!(matches!(
            verifier.verify(Some("id"), Some("soon"), Some(&good), b"{}", now),
            Err(VerifyError::BadTimestamp(_))
        ));
        assert!(matches!(
            verifier.verify(Some("id"), Some(&ts), Some(&good), b"{}", now + 301),
            Err(VerifyError::TimestampTooOld { age_secs: 301, .. })
        ));
        assert!(matches!(
            verifier.verify(Some("id"), Some(&ts), Some(&good), b"{}", now - 301),
            Err(VerifyError::TimestampTooNew {
                ahead_secs: 301,
                ..
            })
        ));
        assert_eq!(
            verifier.verify(Some("id"), Some(&ts), Some("  "), b"{}", now),
            Err(VerifyError::NoTokens)
        );
        assert!(matches!(
            verifier.verify(Some("id"), Some(&ts), Some("v1,@@@"), b"{}", now),
            Err(VerifyError::Malformed(_))
        ));
        assert_eq!(
            verifier.verify(Some("id"), Some(&ts), Some(&good), b"{ }", now),
            Err(VerifyError::NoMatch {
                tokens: 1,
                body_len: 3
            })
        );
        assert_eq!(
            verifier.verify(Some("id"), Some(&ts), Some(&good), b"{}", now),
            Ok(SignatureFormat::V1)
        );
    }

    #[test]
    fn rotation_header_matches_any_position_and_other_versions_are_skipped() {
        let old = Secret::from_key(b"old".to_vec());
        let new = Secret::from_key(b"new".to_vec());
        let verifier = Verifier::new(vec![new.clone()]).with_tolerance(None);
        let valid = new.sign("i", "1", b"x").to_base64();
        let stale = old.sign("i", "1", b"x").token(SignatureFormat::V1);
        for header in [
            format!("{stale} {valid}"),
            format!("{valid} {stale}"),
            format!("v2,abc v1,{valid}"),
        ] {
            assert!(
                verifier
                    .verify(Some("i"), Some("1"), Some(&header), b"x", 0)
                    .is_ok(),
                "{header}"
            );
        }
    }
}
