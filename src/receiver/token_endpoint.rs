//! `POST /oauth/token`: the reference receiver's legacy OAuth token endpoint, kept
//! apart from the token issuer so the bearer check on deliveries does not depend on
//! the handlers' shared state.
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

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::flaw::Flaw;
use super::handler::Shared;
use super::oauth::TOKEN_LIFETIME_SECS;

/// Largest token request body read.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// How long a client may take to send the token request body.
const FORM_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a [`Flaw::TokenConcurrencyLimit`] endpoint holds each request.
const TOKEN_HOLD: Duration = Duration::from_millis(30);

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
