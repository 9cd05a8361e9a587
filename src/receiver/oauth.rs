//! The legacy OAuth 2.0 client-credentials side of the reference receiver.
//!
//! With [`super::ReceiverConfig::oauth`] set, the receiver serves a token endpoint at
//! `POST /oauth/token` and requires `Authorization: Bearer <token>` on deliveries
//! (checked before the signature, which is still verified).
//!
//! Token endpoint answers:
//! - `200` `{"access_token", "expires_in": 3600, "token_type": "Bearer"}` with
//!   `Cache-Control: no-store` for a form body (`application/x-www-form-urlencoded`)
//!   with `grant_type=client_credentials` and the configured `client_id` and
//!   `client_secret`. Tokens are random (256 bits) and accepted until they expire;
//!   concurrent requests with the same credentials each get their own token.
//! - `400` `{"error": "invalid_request" | "unsupported_grant_type"}` for a form
//!   without the fields or another grant type; `401` `{"error": "invalid_client"}`
//!   for wrong credentials; `415` `{"error": "invalid_request"}` for other content
//!   types; `405` for other methods.
//!
//! Deliveries without a token, or with one it did not issue (or an expired one), get
//! `401` with `WWW-Authenticate: Bearer` and `{"error", "step": "bearer-token", …}`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use super::RunningReceiver;
use super::flaw::{Flaw, Flaws};
use super::handler::Shared;
use super::state::BoundedMap;
use crate::delivery::oauth::ClientSecret;

/// Where the token endpoint is served.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The lifetime of issued tokens, in seconds.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;
/// Largest token request body read.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// How long a client may take to send the token request body.
const FORM_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a [`Flaw::TokenConcurrencyLimit`] endpoint holds each request.
const TOKEN_HOLD: Duration = Duration::from_millis(30);
/// How many issued tokens are remembered (oldest forgotten first).
const MAX_TOKENS: usize = 65_536;

/// The credentials the receiver's token endpoint accepts.
#[derive(Debug, Clone)]
pub struct OAuthServerConfig {
    /// The expected `client_id`.
    pub client_id: String,
    /// The expected `client_secret` (redacted in `Debug`).
    pub client_secret: ClientSecret,
}

/// Issued tokens and the token endpoint's state.
#[derive(Debug)]
pub(crate) struct TokenIssuer {
    config: OAuthServerConfig,
    issued: Mutex<BoundedMap<String, Instant>>,
    in_flight: AtomicUsize,
}

impl TokenIssuer {
    pub(crate) fn new(config: OAuthServerConfig) -> TokenIssuer {
        TokenIssuer {
            config,
            issued: Mutex::new(BoundedMap::new(MAX_TOKENS)),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn issue(&self) -> String {
        let bytes: [u8; 32] = rand::random();
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let expires = Instant::now() + Duration::from_secs(TOKEN_LIFETIME_SECS);
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        *issued.entry(token.clone(), || expires) = expires;
        token
    }

    fn valid(&self, token: &str) -> bool {
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued
            .get(&token.to_owned())
            .is_some_and(|expires| Instant::now() < *expires)
    }
}

/// Why a delivery's bearer token was refused: status, step, detail.
pub(crate) type BearerRefusal = (StatusCode, &'static str, String);

/// Checks `Authorization: Bearer <token>` on a delivery.
pub(crate) fn check_bearer(
    issuer: &TokenIssuer,
    flaws: &Flaws,
    headers: &HeaderMap,
) -> Result<(), BearerRefusal> {
    let value = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let Some(value) = value else {
        if flaws.has(&Flaw::BearerNotRequired) {
            return Ok(());
        }
        return Err((
            StatusCode::UNAUTHORIZED,
            "bearer-token",
            "no Authorization header; get a token from POST /oauth/token".to_owned(),
        ));
    };
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match token {
        Some(token) if issuer.valid(token) => Ok(()),
        Some(_) => Err((
            StatusCode::UNAUTHORIZED,
            "bearer-token",
            "the bearer token was not issued here or has expired".to_owned(),
        )),
        None => Err((
            StatusCode::UNAUTHORIZED,
            "bearer-token",
            "the Authorization header is not `Bearer <token>`".to_owned(),
        )),
    }
}

/// Adds `WWW-Authenticate: Bearer` to a bearer refusal.
pub(crate) fn challenge(response: &mut Response) {
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /oauth/token`.
pub(crate) async fn token_endpoint(
    State(shared): State<Arc<Shared>>,
    request: Request,
) -> Response {
    let Some(issuer) = shared.oauth.as_ref() else {
        return oauth_error(StatusCode::NOT_FOUND, "not_found", "OAuth is not enabled");
    };
    let flaws = &shared.flaws;
    let in_flight = issuer.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&issuer.in_flight);
    if let Some(limit) = flaws.token_concurrency_limit() {
        if in_flight > limit {
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "too many token requests at once",
            );
        }
        tokio::time::sleep(TOKEN_HOLD).await;
    }
    if request.method() != Method::POST {
        return oauth_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "token requests are POST",
        );
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let json_only = flaws.has(&Flaw::TokenJsonOnly);
    let expected = if json_only {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    if content_type != expected {
        return oauth_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            &format!("expected Content-Type: {expected}"),
        );
    }
    let body = match read(request.into_body()).await {
        Some(body) => body,
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body could not be read (too large or too slow)",
            );
        }
    };
    let fields = if json_only {
        json_fields(&body)
    } else {
        form_fields(&body)
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(grant), Some(id), Some(secret)) = (
        field("grant_type"),
        field("client_id"),
        field("client_secret"),
    ) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type, client_id and client_secret are required",
        );
    };
    if grant != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let known = id == issuer.config.client_id && issuer.config.client_secret.matches(secret);
    if !known && !flaws.has(&Flaw::TokenAnyCredentials) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let token = issuer.issue();
    let body = if flaws.has(&Flaw::TokenNoType) {
        json!({ "access_token": token, "expires_in": TOKEN_LIFETIME_SECS })
    } else {
        json!({ "access_token": token, "expires_in": TOKEN_LIFETIME_SECS, "token_type": "Bearer" })
    };
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn read(body: Body) -> Option<bytes::Bytes> {
    tokio::time::timeout(
        FORM_READ_TIMEOUT,
        axum::body::to_bytes(body, MAX_FORM_BYTES),
    )
    .await
    .ok()?
    .ok()
}

fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn json_fields(body: &[u8]) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
        .collect()
}

impl RunningReceiver {
    /// The token endpoint, `https://127.0.0.1:PORT/oauth/token` (served only with
    /// [`super::ReceiverConfig::oauth`]).
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base_url())
    }
}
