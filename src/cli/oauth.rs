//! Options of the legacy OAuth 2.0 client-credentials flow, shared by `run`, `send`
//! and `serve`. The client secret comes from an environment variable or a file,
//! never from a plain argument, and is never printed.

use std::path::PathBuf;

use clap::Args;

use crate::delivery::oauth::ClientSecret;
use crate::error::SetupError;

/// Spotnana's side: the partner's token URL and the credentials to ask it with.
#[derive(Debug, Clone, Args)]
pub struct OAuthArgs {
    /// Legacy OAuth: the partner's token URL. Every delivery then carries
    /// `Authorization: Bearer <token>` and `run` adds the oauth.* checks.
    #[arg(long, value_name = "URL", requires = "oauth_client_id")]
    pub oauth_token_url: Option<String>,
    /// Legacy OAuth: the client id sent to the token URL.
    #[arg(long, value_name = "ID")]
    pub oauth_client_id: Option<String>,
    #[command(flatten)]
    pub secret: OAuthSecretArgs,
    /// Send no HMAC signature headers (partners that only check the bearer token).
    #[arg(long, requires = "oauth_client_id")]
    pub no_hmac: bool,
}

/// Where the OAuth client secret comes from.
#[derive(Debug, Clone, Args)]
pub struct OAuthSecretArgs {
    /// Environment variable holding the OAuth client secret.
    #[arg(long, value_name = "NAME")]
    pub oauth_client_secret_env: Option<String>,
    /// File holding the OAuth client secret (takes precedence over --oauth-client-secret-env).
    #[arg(long, value_name = "PATH")]
    pub oauth_client_secret_file: Option<PathBuf>,
}

impl OAuthSecretArgs {
    /// Loads the client secret. Errors name the source, never the value.
    pub fn load(&self) -> Result<ClientSecret, SetupError> {
        let text = if let Some(path) = &self.oauth_client_secret_file {
            std::fs::read_to_string(path).map_err(|err| {
                SetupError::new(format!(
                    "cannot read --oauth-client-secret-file {}: {err}",
                    path.display()
                ))
            })?
        } else if let Some(name) = &self.oauth_client_secret_env {
            match std::env::var(name) {
                Ok(text) => text,
                Err(std::env::VarError::NotPresent) => {
                    return Err(SetupError::new(format!(
                        "no OAuth client secret: environment variable {name} is not set"
                    ))
                    .with_hint(format!("export {name}=… (the client secret)")));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(SetupError::new(format!(
                        "environment variable {name} is not valid UTF-8"
                    )));
                }
            }
        } else {
            return Err(SetupError::new("no OAuth client secret").with_hint(
                "pass --oauth-client-secret-env NAME or --oauth-client-secret-file PATH",
            ));
        };
        // Masked in every output from here on (see crate::redact).
        crate::redact::register(&text);
        let secret = ClientSecret::new(text);
        if secret.expose().is_empty() {
            return Err(SetupError::new("the OAuth client secret is empty"));
        }
        Ok(secret)
    }
}

impl OAuthArgs {
    /// The run's OAuth settings: `None` without `--oauth-client-id`. With an endpoint
    /// the token URL is required; without one the reference receiver issues tokens.
    pub fn options(
        &self,
        has_endpoint: bool,
    ) -> Result<Option<crate::runner::OAuthOptions>, SetupError> {
        let Some(client_id) = &self.oauth_client_id else {
            return Ok(None);
        };
        if has_endpoint && self.oauth_token_url.is_none() {
            return Err(
                SetupError::new("--oauth-client-id needs --oauth-token-url with --endpoint")
                    .with_hint("pass the partner's token URL, e.g. --oauth-token-url https://partner.example/oauth/token"),
            );
        }
        Ok(Some(crate::runner::OAuthOptions {
            token_url: self.oauth_token_url.clone(),
            client_id: client_id.clone(),
            client_secret: self.secret.load()?,
        }))
    }
}

/// The reference receiver's side (`spotcheck serve`): the credentials its token
/// endpoint accepts.
#[derive(Debug, Clone, Args)]
pub struct ServeOAuthArgs {
    /// Legacy OAuth: serve POST /oauth/token for this client id and require bearer tokens.
    #[arg(long, value_name = "ID")]
    pub oauth_client_id: Option<String>,
    #[command(flatten)]
    pub secret: OAuthSecretArgs,
}

impl ServeOAuthArgs {
    /// The receiver's OAuth configuration, or `None` without `--oauth-client-id`.
    pub fn config(&self) -> Result<Option<crate::receiver::OAuthServerConfig>, SetupError> {
        let Some(client_id) = &self.oauth_client_id else {
            return Ok(None);
        };
        Ok(Some(crate::receiver::OAuthServerConfig {
            client_id: client_id.clone(),
            client_secret: self.secret.load()?,
        }))
    }
}

impl OAuthArgs {
    /// The token URL (as a variable reference when it carries credentials), the client
    /// id, where the client secret comes from (never its value) and `--no-hmac`.
    /// Destructured without `..`: a new flag does not compile until it is handled.
    pub(super) fn replay_into(&self, replay: &mut crate::replay::Replay) {
        let OAuthArgs {
            oauth_token_url,
            oauth_client_id,
            secret:
                OAuthSecretArgs {
                    oauth_client_secret_env,
                    oauth_client_secret_file,
                },
            no_hmac,
        } = self;
        if let Some(url) = oauth_token_url {
            replay.push_url("--oauth-token-url", url, crate::replay::OAUTH_TOKEN_URL_ENV);
        }
        if let Some(id) = oauth_client_id {
            replay.push("--oauth-client-id", id);
        }
        if let Some(file) = oauth_client_secret_file {
            replay.push("--oauth-client-secret-file", &file.display().to_string());
        } else if let Some(name) = oauth_client_secret_env {
            replay.push("--oauth-client-secret-env", name);
        }
        if *no_hmac {
            replay.push_flag("--no-hmac");
        }
    }
}
