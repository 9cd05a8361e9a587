//! The legacy OAuth 2.0 client-credentials flow, Spotnana's side.
//!
//! Spotnana POSTs `application/x-www-form-urlencoded` `client_id`, `client_secret`,
//! `grant_type=client_credentials` to the partner's token URL, expects `200` with JSON
//! `{"access_token", "expires_in", "token_type": "Bearer"}`, and delivers with
//! `Authorization: Bearer <token>`. \[choice\] The token is reused until shortly before
//! `expires_in`; a `401` on delivery fetches a new token once and resends.
//!
//! Secrets stay out of output: [`ClientSecret`] redacts itself, the form body is
//! recorded with `client_secret=***redacted***`, and `access_token` values in recorded
//! token responses are redacted too (the `Authorization` header already is).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use super::client::Client;
use super::exchange::{ErrorClass, Exchange, TransportError, excerpt};
use super::request::Attempt;

/// What recorded exchanges show instead of a credential.
pub const REDACTED: &str = "***redacted***";

/// The longest a cached token is kept before its `expires_in` runs out.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// How long a token whose response has no usable `expires_in` is reused (a `401`
/// still fetches a new one): the response deviates, but the token is used.
pub const LIFETIME_WITHOUT_EXPIRES_IN: Duration = Duration::from_secs(300);

/// An OAuth client secret. `Debug` and `Display` redact it; [`ClientSecret::expose`]
/// is for the form body and comparisons only, never for output.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret (surrounding white space, e.g. a file's newline, is trimmed).
    pub fn new(secret: impl AsRef<str>) -> ClientSecret {
        ClientSecret(secret.as_ref().trim().to_owned())
    }

    /// The secret text. Never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with `other` in time independent of where they differ.
    pub fn matches(&self, other: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), other.as_bytes())
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(***redacted***)")
    }
}

impl std::fmt::Display for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Equality in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The partner's token endpoint and the credentials Spotnana holds for it.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The partner's token URL (`--oauth-token-url`).
    pub token_url: String,
    /// `client_id` (`--oauth-client-id`).
    pub client_id: String,
    /// `client_secret` (`--oauth-client-secret-env` / `--oauth-client-secret-file`).
    pub client_secret: ClientSecret,
}

/// A token as the partner issued it.
#[derive(Clone, PartialEq)]
pub struct IssuedToken {
    /// `access_token` (redacted in `Debug`).
    pub access_token: String,
    /// `expires_in`, seconds (positive).
    pub expires_in: f64,
    /// `token_type` as sent (`Bearer`, any case; empty when absent or not a string).
    pub token_type: String,
    /// What in the response deviates from RFC 6749 or Spotnana's documentation
    /// (`token_type` missing or not `Bearer`, `expires_in` missing or not a positive
    /// number), each with its fix. The token is still used for deliveries, as
    /// Spotnana's sender does; `oauth.token-issued` reports the deviations.
    pub deviations: Vec<String>,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &REDACTED)
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .field("deviations", &self.deviations)
            .finish()
    }
}

/// A bearer token ready to use, and whether it was fetched just now.
#[derive(Clone)]
pub struct Bearer {
    /// The token.
    pub token: String,
    /// `true` when it was fetched for this call (not taken from the cache).
    pub fresh: bool,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer")
            .field("token", &REDACTED)
            .field("fresh", &self.fresh)
            .finish()
    }
}

#[derive(Clone)]
struct Cached {
    token: String,
    renew_at: Instant,
}

/// Fetches, caches and attaches bearer tokens. Cheap to clone: clones share the cache.
#[derive(Clone)]
pub struct OAuthClient {
    config: Arc<OAuthConfig>,
    client: Client,
    cache: Arc<tokio::sync::Mutex<Option<Cached>>>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("token_url", &self.config.token_url)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// A client for `config`, sending through `client` (its timeout and trusted CAs).
    pub fn new(config: OAuthConfig, client: Client) -> OAuthClient {
        OAuthClient {
            config: Arc::new(config),
            client,
            cache: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// The token URL and credentials.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The token request with the configured client id and `secret`: a form POST
    /// exactly as Spotnana sends it.
    pub fn token_attempt(&self, secret: &str) -> Attempt {
        token_attempt(&self.config.token_url, &self.config.client_id, secret)
    }

    /// Asks the token endpoint for a token with the configured credentials, or with
    /// `wrong_secret` instead of the configured secret. Returns the (secret-free)
    /// exchange and the token or what is wrong with the answer.
    pub async fn request_token(
        &self,
        wrong_secret: Option<&str>,
    ) -> (Exchange, Result<IssuedToken, TokenRefusal>) {
        let secret = wrong_secret.unwrap_or(self.config.client_secret.expose());
        let exchange = self.client.send(&self.token_attempt(secret)).await;
        let parsed = parse_token_response(&exchange);
        (redact_token_exchange(exchange), parsed)
    }

    /// A bearer token: the cached one while it is valid, else a new one (one fetch at a
    /// time; concurrent callers wait for it). The error says why no token was issued.
    pub async fn bearer(&self) -> Result<Bearer, NoToken> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.renew_at
        {
            return Ok(Bearer {
                token: cached.token.clone(),
                fresh: false,
            });
        }
        let (exchange, parsed) = self.request_token(None).await;
        let token = parsed.map_err(|refusal| NoToken {
            token_url: self.config.token_url.clone(),
            refusal,
            outcome: exchange.outcome_text(),
        })?;
        let lifetime = Duration::from_secs_f64(token.expires_in.min(1e9));
        let margin = EXPIRY_MARGIN.min(lifetime / 2);
        *cache = Some(Cached {
            token: token.access_token.clone(),
            renew_at: Instant::now() + lifetime - margin,
        });
        Ok(Bearer {
            token: token.access_token,
            fresh: true,
        })
    }

    /// Forgets `token` if it is the cached one (after a `401`).
    pub async fn invalidate(&self, token: &str) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| c.token == token) {
            *cache = None;
        }
    }

    /// Sends `attempt` with `Authorization: Bearer <token>`. On a `401` with a cached
    /// token, fetches a new token once and sends again (the second exchange is
    /// returned). Without a token, nothing is sent and the exchange says why.
    pub async fn send(&self, attempt: &Attempt) -> Exchange {
        let bearer = match self.bearer().await {
            Ok(bearer) => bearer,
            Err(problem) => return unsent(attempt, problem.to_string()),
        };
        let exchange = self.client.send(&with_bearer(attempt, &bearer.token)).await;
        if exchange.status() != Some(401) || bearer.fresh {
            return exchange;
        }
        self.invalidate(&bearer.token).await;
        match self.bearer().await {
            Ok(again) => self.client.send(&with_bearer(attempt, &again.token)).await,
            Err(_) => exchange,
        }
    }
}

/// The form POST of a client-credentials token request.
pub fn token_attempt(token_url: &str, client_id: &str, secret: &str) -> Attempt {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id)
        .append_pair("client_secret", secret)
        .finish();
    Attempt::post(
        token_url,
        vec![
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("Accept".to_owned(), "application/json".to_owned()),
        ],
        Bytes::from(body),
    )
}

/// `attempt` with `Authorization: Bearer <token>` (replacing any `Authorization`).
pub fn with_bearer(attempt: &Attempt, token: &str) -> Attempt {
    let mut out = attempt.clone();
    out.headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
    let at = out
        .headers
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map_or(0, |i| i + 1);
    out.headers
        .insert(at, ("Authorization".to_owned(), format!("Bearer {token}")));
    out
}

/// An exchange for a request that was not sent, saying why.
pub fn unsent(attempt: &Attempt, problem: String) -> Exchange {
    Exchange {
        request: attempt.record(),
        response: None,
        error: Some(TransportError {
            class: ErrorClass::Other,
            message: problem,
            certificate_required: false,
        }),
        started_at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
        duration: Duration::ZERO,
        note: None,
        not_sent: true,
    }
}

/// How a token request was refused: no usable token came back. The words are the
/// ones every report shows; the variant tells what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// The request got no answer.
    #[error("no answer: {outcome}")]
    NoAnswer {
        /// What happened instead (`timeout: …`, `connect: connection refused`).
        outcome: String,
    },
    /// The answer's status was not `200`.
    #[error("expected 200, got {status_line}{}", if *form_hint { FORM_HINT } else { "" })]
    Status {
        /// The status line, e.g. `415 Unsupported Media Type`.
        status_line: String,
        /// The status (`400`, `415`, `422`) suggests the endpoint refuses form-encoded
        /// bodies.
        form_hint: bool,
    },
    /// The body is not JSON.
    #[error(
        "the answer is not JSON ({0}); answer {{\"access_token\", \"expires_in\", \"token_type\": \"Bearer\"}}"
    )]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error(
        "the answer is not a JSON object; answer {{\"access_token\", \"expires_in\", \"token_type\": \"Bearer\"}}"
    )]
    NotObject,
    /// `access_token` is an empty string.
    #[error("access_token is empty")]
    EmptyToken,
    /// `access_token` is not a string (its JSON kind).
    #[error("access_token is a {0}, expected a string")]
    TokenNotString(&'static str),
    /// There is no `access_token`.
    #[error("access_token is missing")]
    NoToken,
}

/// Said after a `400`, `415` or `422` from the token endpoint.
const FORM_HINT: &str = "; spotcheck sent the form Spotnana sends (Content-Type: \
     application/x-www-form-urlencoded; client_id, client_secret, \
     grant_type=client_credentials): the token endpoint must accept \
     form-encoded bodies, not only JSON";

/// No bearer token to send a delivery with: the token URL refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no OAuth token from {token_url}: {refusal} ({outcome})")]
pub struct NoToken {
    /// The token URL asked.
    pub token_url: String,
    /// Why no usable token came back.
    pub refusal: TokenRefusal,
    /// The token exchange's outcome (`200 OK`, `timeout: …`).
    pub outcome: String,
}

/// Reads a token response: `200`, a JSON object, a non-empty string `access_token`
/// make a usable token (the error names what is wrong and how to fix it); a positive
/// number `expires_in` and `token_type` `Bearer` (any case) make it conform, and what
/// deviates is listed in [`IssuedToken::deviations`] (the token is still usable).
pub fn parse_token_response(exchange: &Exchange) -> Result<IssuedToken, TokenRefusal> {
    let Some(response) = &exchange.response else {
        return Err(TokenRefusal::NoAnswer {
            outcome: exchange.outcome_text(),
        });
    };
    if response.status != 200 {
        return Err(TokenRefusal::Status {
            status_line: response.status_line(),
            form_hint: matches!(response.status, 400 | 415 | 422),
        });
    }
    let json: Value = serde_json::from_slice(&response.body)
        .map_err(|err| TokenRefusal::NotJson(err.to_string()))?;
    let Some(object) = json.as_object() else {
        return Err(TokenRefusal::NotObject);
    };
    let access_token = match object.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => {
            // An issued token is a credential learned mid-run: masked in every output
            // from here on, like CI's `::add-mask::`.
            crate::redact::register(s);
            s.clone()
        }
        Some(Value::String(_)) => return Err(TokenRefusal::EmptyToken),
        Some(other) => return Err(TokenRefusal::TokenNotString(kind(other))),
        None => return Err(TokenRefusal::NoToken),
    };
    let mut deviations = Vec::new();
    let expires_in = match object.get("expires_in") {
        Some(Value::Number(n)) => match n.as_f64() {
            Some(secs) if secs > 0.0 => Some(secs),
            _ => {
                deviations.push(format!(
                    "expires_in is {n}, expected a positive number of seconds"
                ));
                None
            }
        },
        Some(other) => {
            deviations.push(format!(
                "expires_in is a {}, expected a positive number of seconds (e.g. 3600)",
                kind(other)
            ));
            None
        }
        None => {
            deviations.push(
                "expires_in is missing; add the token lifetime in seconds, e.g. \"expires_in\": 3600"
                    .to_owned(),
            );
            None
        }
    };
    let token_type = match object.get("token_type") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("bearer") => s.clone(),
        Some(Value::String(s)) => {
            deviations.push(format!(
                "token_type is \"{s}\", expected \"Bearer\" (Spotnana sends the token as Authorization: Bearer)"
            ));
            s.clone()
        }
        Some(other) => {
            deviations.push(format!(
                "token_type is a {}, expected \"Bearer\"",
                kind(other)
            ));
            String::new()
        }
        None => {
            deviations.push(
                "token_type is missing; add \"token_type\": \"Bearer\" to the token response"
                    .to_owned(),
            );
            String::new()
        }
    };
    Ok(IssuedToken {
        access_token,
        expires_in: expires_in.unwrap_or(LIFETIME_WITHOUT_EXPIRES_IN.as_secs_f64()),
        token_type,
        deviations,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Removes credentials from a token exchange record: the form's `client_secret` and
/// the response's `access_token` values.
pub fn redact_token_exchange(mut exchange: Exchange) -> Exchange {
    exchange.request.body_excerpt = redact_form(&exchange.request.body_excerpt);
    // The body too: `--export-curl` writes it (as `$SPOTCHECK_OAUTH_CLIENT_SECRET`).
    if let Ok(form) = std::str::from_utf8(&exchange.request.body) {
        let redacted = redact_form(form);
        if redacted != form {
            exchange.request.body_len = redacted.len();
            exchange.request.body = Bytes::from(redacted);
        }
    }
    if let Some(response) = &mut exchange.response
        && let Ok(mut json) = serde_json::from_slice::<Value>(&response.body)
        && let Some(object) = json.as_object_mut()
        && let Some(token) = object.get_mut("access_token")
    {
        *token = Value::String(REDACTED.to_owned());
        let text = serde_json::to_vec(&json).unwrap_or_default();
        response.body_excerpt = excerpt(&text);
        response.body = Bytes::from(text);
    }
    exchange
}

/// A form body with the `client_secret` value replaced by [`REDACTED`].
pub fn redact_form(form: &str) -> String {
    form.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name == "client_secret" => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use crate::delivery::exchange::ResponseRecord;
    use crate::delivery::oauth::*;

    fn answered(status: u16, body: &str) -> Exchange {
        let mut e = unsent(&token_attempt("https://x/t", "id", "s3cret"), String::new());
        e.error = None;
        e.response = Some(ResponseRecord {
            status,
            reason: String::new(),
            headers: Vec::new(),
            body_excerpt: excerpt(body.as_bytes()),
            body_bytes_read: body.len(),
            body_truncated: false,
            body: Bytes::from(body.to_owned()),
        });
        e
    }

    #[test]
    fn the_form_is_urlencoded_and_recorded_without_the_secret() {
        let attempt = token_attempt("https://p/token", "client 1", "s&cr=t");
        let body = std::str::from_utf8(&attempt.body).unwrap();
        assert_eq!(
            body,
            "grant_type=client_credentials&client_id=client+1&client_secret=s%26cr%3Dt"
        );
        assert_eq!(
            attempt.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let record = redact_token_exchange(answered(200, "{}"));
        assert!(!record.request.body_excerpt.contains("s3cret"));
        assert!(
            record
                .request
                .body_excerpt
                .ends_with("client_secret=***redacted***")
        );
    }

    #[test]
    fn token_responses_are_judged_field_by_field() {
        let ok = answered(
            200,
            r#"{"access_token":"abc","expires_in":3600,"token_type":"bearer"}"#,
        );
        let token = parse_token_response(&ok).unwrap();
        assert_eq!(token.expires_in, 3600.0);
        assert!(!format!("{token:?}").contains("abc"));
        let redacted = redact_token_exchange(ok);
        assert!(!redacted.response.unwrap().body_excerpt.contains("abc"));
        // A token that deviates is still a token (Spotnana's sender uses it): the
        // deviations say what to fix.
        for (body, deviation) in [
            (
                r#"{"access_token":"abc","expires_in":3600}"#,
                "token_type is missing",
            ),
            (
                r#"{"access_token":"abc","expires_in":0,"token_type":"Bearer"}"#,
                "expected a positive number",
            ),
            (
                r#"{"access_token":"abc","expires_in":"3600","token_type":"Bearer"}"#,
                "expires_in is a string",
            ),
            (
                r#"{"access_token":"a","expires_in":1,"token_type":"MAC"}"#,
                "expected \"Bearer\"",
            ),
        ] {
            let token = parse_token_response(&answered(200, body)).unwrap();
            assert!(!token.access_token.is_empty(), "{body}");
            assert_eq!(token.deviations.len(), 1, "{body}: {:?}", token.deviations);
            assert!(token.deviations[0].contains(deviation), "{body}: {token:?}");
        }
        assert!(token.deviations.is_empty());
        // Without expires_in the token is reused for a bounded time.
        let token = parse_token_response(&answered(200, r#"{"access_token":"abc"}"#)).unwrap();
        assert_eq!(token.expires_in, LIFETIME_WITHOUT_EXPIRES_IN.as_secs_f64());
        assert_eq!(token.deviations.len(), 2);
        // No usable token at all.
        for (body, problem) in [
            (
                r#"{"expires_in":3600,"token_type":"Bearer"}"#,
                "access_token is missing",
            ),
            (r#"{"access_token":""}"#, "access_token is empty"),
            ("not json", "not JSON"),
        ] {
            let err = parse_token_response(&answered(200, body))
                .unwrap_err()
                .to_string();
            assert!(err.contains(problem), "{body}: {err}");
        }
        let err = parse_token_response(&answered(415, "")).unwrap_err();
        assert!(
            matches!(
                err,
                TokenRefusal::Status {
                    form_hint: true,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("form-encoded"), "{err}");
        assert_eq!(
            parse_token_response(&answered(500, ""))
                .unwrap_err()
                .to_string(),
            "expected 200, got 500"
        );
    }

    #[test]
    fn bearer_replaces_authorization_after_content_type() {
        let attempt = Attempt::post(
            "https://p/w",
            vec![
                ("Content-Type".into(), "application/json".into()),
                ("authorization".into(), "old".into()),
            ],
            Bytes::new(),
        );
        let out = with_bearer(&attempt, "tok");
        assert_eq!(
            out.headers[1],
            ("Authorization".into(), "Bearer tok".into())
        );
        assert_eq!(out.headers.len(), 2);
    }

    #[test]
    fn secrets_are_redacted_and_compared_exactly() {
        let s = ClientSecret::new("hunter2\n");
        assert_eq!(format!("{s} {s:?}").matches("hunter2").count(), 0);
        assert!(s.matches("hunter2"));
        assert!(!s.matches("hunter3") && !s.matches("hunter"));
    }
}
