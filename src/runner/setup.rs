//! Setting up a run's target on the one [`Target`] every command uses: the partner's
//! endpoint or the reference receiver started in-process (with state and, when OAuth
//! is configured, its own token endpoint), the trust store and client certificate, then
//! what only `run` needs on top: the delivery client (lenient with
//! `--insecure-continue`) and the legacy OAuth client with a warm token cache.

use crate::delivery::client::Client;
use crate::delivery::endpoint::parse_endpoint;
use crate::delivery::oauth::{OAuthClient, OAuthConfig};
use crate::receiver::{self, RunningReceiver};
use crate::signing::Secret;
use crate::target::Target;

use super::error::RunError;
use super::options::RunOptions;

/// A run's target, set up and reachable.
#[derive(Debug)]
pub struct RunTarget {
    /// Where deliveries go, with its trust store and client certificate.
    pub target: Target,
    /// The reference receiver, when the run started one (shut down by the engine).
    pub receiver: Option<RunningReceiver>,
    /// The observation URL (the receiver's own when it runs and none was given).
    pub state_url: Option<String>,
    /// The delivery client.
    pub client: Client,
    /// The legacy OAuth client, when OAuth is configured.
    pub oauth: Option<OAuthClient>,
}

/// Sets up the target of a run signed with `secret`.
pub async fn target(options: &RunOptions, secret: &Secret) -> Result<RunTarget, RunError> {
    let mut spec = options.target.clone();
    spec.reference.secrets = vec![secret.clone()];
    spec.reference.state = true;
    spec.reference.oauth = options.oauth.as_ref().map(|o| receiver::OAuthServerConfig {
        client_id: o.client_id.clone(),
        client_secret: o.client_secret.clone(),
    });
    let mut target = Target::build(spec).await?;
    let state_url = options.state_url.clone().or_else(|| target.state_url());
    let token_url = options
        .oauth
        .as_ref()
        .and_then(|o| o.token_url.clone().or_else(|| target.token_url()));
    let client_options = target.client_options(options.timeout);
    let client = if options.insecure_continue {
        Client::new_accepting_invalid_certs(&client_options)?
    } else {
        Client::new(&client_options)?
    };
    let oauth = match (&options.oauth, token_url) {
        (Some(o), Some(token_url)) => {
            parse_endpoint(&token_url).map_err(RunError::TokenUrl)?;
            Some(OAuthClient::new(
                OAuthConfig {
                    token_url,
                    client_id: o.client_id.clone(),
                    client_secret: o.client_secret.clone(),
                },
                client.clone(),
            ))
        }
        (Some(_), None) => return Err(RunError::NoTokenUrl),
        (None, _) => None,
    };
    // Best effort: a warm token cache keeps later token bursts from racing the
    // deliveries' first fetch. A failure here is what oauth.token-issued reports.
    if let Some(oauth) = &oauth {
        let _ = oauth.bearer().await;
    }
    Ok(RunTarget {
        receiver: target.take_receiver(),
        target,
        state_url,
        client,
        oauth,
    })
}
