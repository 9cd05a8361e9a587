//! The legacy OAuth 2.0 client-credentials side of the reference receiver: the
//! tokens it issues and the bearer check on deliveries.
//!
//! With [`super::ReceiverConfig::oauth`] set, the receiver serves a token endpoint at
//! `POST /oauth/token` (its own module, `token_endpoint`) and requires
//! `Authorization: Bearer <token>` on deliveries (checked before the signature, which
//! is still verified).
//!
//! Deliveries without a token, or with one it did not issue (or an expired one), get
//! `401` with `WWW-Authenticate: Bearer` and `{"error", "step": "bearer-token", …}`.

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;

use super::flaw::{Flaw, Flaws};
use super::state::BoundedMap;
use crate::delivery::oauth::ClientSecret;

/// Where the token endpoint is served.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The lifetime of issued tokens, in seconds.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;
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
    /// The credentials accepted.
    pub(crate) config: OAuthServerConfig,
    issued: Mutex<BoundedMap<String, Instant>>,
    /// Token requests being answered (for [`Flaw::TokenConcurrencyLimit`]).
    pub(crate) in_flight: AtomicUsize,
}

impl TokenIssuer {
    pub(crate) fn new(config: OAuthServerConfig) -> TokenIssuer {
        TokenIssuer {
            config,
            issued: Mutex::new(BoundedMap::new(MAX_TOKENS)),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// A fresh random token, accepted for [`TOKEN_LIFETIME_SECS`].
    pub(crate) fn issue(&self) -> String {
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
