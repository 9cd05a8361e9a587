//! Setting up a run's target: the partner's endpoint or the reference receiver started
//! in-process, the trust store (`--ca-cert`, or the receiver's own CA), the delivery
//! client and the legacy OAuth client. One function, so it can be replaced whole by a
//! target builder common to every command.

use crate::delivery::client::{Client, ClientOptions};
use crate::delivery::oauth::{OAuthClient, OAuthConfig};
use crate::error::SetupError;
use crate::receiver::{self, ReceiverConfig, RunningReceiver};
use crate::signing::Secret;

use super::RunOptions;

/// A run's target, set up and reachable.
#[derive(Debug)]
pub struct RunTarget {
    /// Where deliveries go.
    pub endpoint: String,
    /// The reference receiver, when the run started one (shut down by the engine).
    pub receiver: Option<RunningReceiver>,
    /// The CA the client and the TLS probe trust besides the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// The observation URL (the receiver's own when it runs and none was given).
    pub state_url: Option<String>,
    /// The delivery client.
    pub client: Client,
    /// The legacy OAuth client, when OAuth is configured.
    pub oauth: Option<OAuthClient>,
}

/// Sets up the target of a run signed with `secret`.
pub async fn target(options: &RunOptions, secret: &Secret) -> Result<RunTarget, SetupError> {
    // The endpoint: the partner's, or the reference receiver in-process.
    let mut receiver: Option<RunningReceiver> = None;
    let mut ca_pem = match &options.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|err| {
            SetupError::new(format!("cannot read --ca-cert {}: {err}", path.display()))
        })?),
        None => None,
    };
    let mut state_url = options.state_url.clone();
    let mut token_url = options.oauth.as_ref().and_then(|o| o.token_url.clone());
    let endpoint = match &options.endpoint {
        Some(endpoint) => endpoint.clone(),
        None => {
            let config = ReceiverConfig {
                secrets: vec![secret.clone()],
                state: true,
                oauth: options.oauth.as_ref().map(|o| receiver::OAuthServerConfig {
                    client_id: o.client_id.clone(),
                    client_secret: o.client_secret.clone(),
                }),
                ..ReceiverConfig::default()
            };
            let running = receiver::start_on_loopback(config).await?;
            ca_pem = running.ca_pem.clone().map(String::into_bytes);
            state_url.get_or_insert_with(|| running.state_url());
            if options.oauth.is_some() {
                token_url.get_or_insert_with(|| running.token_url());
            }
            let url = running.webhook_url();
            receiver = Some(running);
            url
        }
    };
    crate::delivery::endpoint::parse_endpoint(&endpoint)?;
    let client_options = ClientOptions {
        timeout: options.timeout,
        ca_cert_pem: ca_pem.clone(),
        connect_timeout: None,
        client_identity: options.client_identity.clone(),
    };
    let client = if options.insecure_continue {
        Client::new_accepting_invalid_certs(&client_options)?
    } else {
        Client::new(&client_options)?
    };
    let oauth = match (&options.oauth, token_url) {
        (Some(o), Some(token_url)) => {
            validate_token_url(&token_url)?;
            Some(OAuthClient::new(
                OAuthConfig {
                    token_url,
                    client_id: o.client_id.clone(),
                    client_secret: o.client_secret.clone(),
                },
                client.clone(),
            ))
        }
        (Some(_), None) => {
            return Err(SetupError::new("OAuth needs the partner's token URL")
                .with_hint("pass --oauth-token-url URL with --endpoint"));
        }
        (None, _) => None,
    };
    // Best effort: a warm token cache keeps later token bursts from racing the
    // deliveries' first fetch. A failure here is what oauth.token-issued reports.
    if let Some(oauth) = &oauth {
        let _ = oauth.bearer().await;
    }
    Ok(RunTarget {
        endpoint,
        receiver,
        ca_pem,
        state_url,
        client,
        oauth,
    })
}

/// Refuses token URLs spotcheck cannot use (the same rules as the endpoint).
fn validate_token_url(url: &str) -> Result<(), SetupError> {
    crate::delivery::endpoint::parse_endpoint(url)
        .map(drop)
        .map_err(|err| {
            SetupError::new(err.message.replace("--endpoint", "--oauth-token-url"))
                .with_hint("write the token URL in full, e.g. https://partner.example/oauth/token")
        })
}
