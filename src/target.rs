//! Where a command sends, built once for `run`, `send`, `load`, `redeliver` and `tls`:
//! the partner's endpoint or, without one, the reference receiver started in this
//! process on loopback; the roots trusted for it (the system's plus `--ca-cert`, or
//! the receiver's own CA); and the client certificate presented to it. Every command
//! gets the same checks in the same order and the same [`TargetError`]s, worded for
//! the command line in `cli/`.

use std::path::PathBuf;
use std::time::Duration;

use crate::delivery::ClientOptions;
use crate::delivery::endpoint::{EndpointError, parse_endpoint};
use crate::receiver::{ReceiverConfig, RunningReceiver, StartError};
use crate::route::{RouteError, RouteTaken, Routes};
use crate::signing::Secret;
use crate::tls::{ClientIdentity, IdentityError, TrustError, read_ca_file};
use crate::tls_probe::ProbeOptions;

/// The secret a command signs with: the one given, else one made up for the in-process
/// reference receiver (which takes any secret): 32 bytes drawn from `rng`. The one
/// rule for every command (`run`, `send`, `load`, `redeliver`, `serve`); each passes
/// its own stream, so a seeded command draws the same secret again (`run` from its run
/// stream, `send` from its send stream, `load` from its `load-secret` stream) and
/// `serve`, which has no seed, from the operating system's generator.
pub fn secret_or_made_up(given: Option<Secret>, rng: &mut impl rand::Rng) -> Secret {
    given.unwrap_or_else(|| Secret::generate(rng))
}

/// What a command asks for.
#[derive(Debug, Clone, Default)]
pub struct TargetSpec {
    /// The partner's endpoint (`--endpoint`); `None` starts the reference receiver.
    pub endpoint: Option<String>,
    /// A PEM file of extra CA certificates to trust (`--ca-cert`).
    pub ca_cert: Option<PathBuf>,
    /// The client certificate and key files (`--client-cert`, `--client-key`).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// How the reference receiver behaves when there is no endpoint (its secrets,
    /// whether it keeps state, its OAuth client, its queue).
    pub reference: ReceiverConfig,
    /// Where connections to the endpoint go (`--resolve`, `--connect-to`, the proxy);
    /// the in-process reference receiver is always reached directly.
    pub routes: Routes,
}

/// Why a target could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The endpoint is not a URL spotcheck sends to.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The CA file is unreadable or unusable.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The client certificate or key is unreadable or unusable.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The reference receiver did not start.
    #[error(transparent)]
    Receiver(#[from] StartError),
    /// The proxy in the route to the endpoint is unreachable or refused the tunnel:
    /// a set-up problem of the partner's network, not a finding about the endpoint.
    #[error(transparent)]
    Route(RouteError),
}

/// A command's target, ready to send to.
#[derive(Debug)]
pub struct Target {
    url: reqwest::Url,
    endpoint: String,
    ca_pem: Option<Vec<u8>>,
    identity: Option<ClientIdentity>,
    receiver: Option<RunningReceiver>,
    routes: Routes,
    route: Option<RouteTaken>,
}

/// The route to `url`'s origin: through a proxy, a tunnel is opened (and closed) once
/// so that a proxy refusing it is a set-up error before any check; direct, the first
/// address the name resolves to (`None` when it does not: the checks report that).
async fn first_route(routes: &Routes, url: &reqwest::Url) -> Result<RouteTaken, RouteError> {
    let https = url.scheme() == "https";
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    let plan = routes.plan(https, host, port);
    if plan.proxy.is_some() {
        return routes.connect(https, host, port).await.map(|c| c.taken);
    }
    let address = routes
        .resolve(&plan)
        .await
        .ok()
        .and_then(|addrs| addrs.first().map(ToString::to_string));
    Ok(RouteTaken {
        via: "direct",
        proxy: None,
        target: plan.target(),
        address,
    })
}

impl Target {
    /// Checks the endpoint URL, reads the CA file and the client certificate (in that
    /// order) and, without an endpoint, starts the reference receiver on loopback and
    /// trusts its generated CA instead of `--ca-cert`.
    pub async fn build(spec: TargetSpec) -> Result<Target, TargetError> {
        let given = match &spec.endpoint {
            Some(endpoint) => Some((parse_endpoint(endpoint)?, endpoint.clone())),
            None => None,
        };
        let ca_pem = match &spec.ca_cert {
            Some(path) => Some(read_ca_file(path)?),
            None => None,
        };
        let identity = match &spec.client_cert {
            Some((cert, key)) => Some(ClientIdentity::load(cert, key)?),
            None => None,
        };
        let (url, endpoint, ca_pem, receiver, routes) = match given {
            Some((url, endpoint)) => (url, endpoint, ca_pem, None, spec.routes),
            None => {
                let receiver = crate::receiver::start_on_loopback(spec.reference).await?;
                let endpoint = receiver.webhook_url();
                let url = parse_endpoint(&endpoint)?;
                let ca_pem = receiver.ca_pem.clone().map(String::into_bytes);
                (url, endpoint, ca_pem, Some(receiver), Routes::direct())
            }
        };
        let route = match receiver {
            // The in-process receiver: always direct, not worth saying.
            Some(_) => None,
            None => match first_route(&routes, &url).await {
                Ok(route) => Some(route),
                Err(err) if err.is_proxy() => return Err(TargetError::Route(err)),
                Err(_) => None,
            },
        };
        Ok(Target {
            url,
            endpoint,
            ca_pem,
            identity,
            receiver,
            routes,
            route,
        })
    }

    /// The webhook URL deliveries go to, as given (or the receiver's).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The webhook URL, parsed.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// Whether the endpoint is plain `http://` (Spotnana delivers over HTTPS only).
    pub fn is_plain_http(&self) -> bool {
        self.url.scheme() == "http"
    }

    /// Where connections go.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// The route to the endpoint (direct or through which proxy, the address), as
    /// found when the target was set up.
    pub fn route(&self) -> Option<&RouteTaken> {
        self.route.as_ref()
    }

    /// The extra CA certificates trusted (checked PEM), if any.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.ca_pem.as_deref()
    }

    /// The client certificate presented, if any.
    pub fn identity(&self) -> Option<&ClientIdentity> {
        self.identity.as_ref()
    }

    /// The in-process reference receiver, when there was no endpoint.
    pub fn receiver(&self) -> Option<&RunningReceiver> {
        self.receiver.as_ref()
    }

    /// Takes the reference receiver out, to shut it down when the command is done.
    pub fn take_receiver(&mut self) -> Option<RunningReceiver> {
        self.receiver.take()
    }

    /// The reference receiver's state URL (what `run` reads back), if it runs.
    pub fn state_url(&self) -> Option<String> {
        self.receiver.as_ref().map(RunningReceiver::state_url)
    }

    /// The reference receiver's OAuth token URL, if it runs.
    pub fn token_url(&self) -> Option<String> {
        self.receiver.as_ref().map(RunningReceiver::token_url)
    }

    /// The delivery client's options for this target with a per-attempt `timeout`.
    pub fn client_options(&self, timeout: Duration) -> ClientOptions {
        ClientOptions {
            timeout,
            ca_cert_pem: self.ca_pem.clone(),
            connect_timeout: None,
            client_identity: self.identity.clone(),
            routes: self.routes.clone(),
        }
    }

    /// The TLS probe's options for this target with a per-handshake `timeout`.
    pub fn probe_options(&self, timeout: Duration) -> ProbeOptions {
        ProbeOptions {
            timeout,
            ca_cert_pem: self.ca_pem.clone(),
            client_identity: self.identity.clone(),
            routes: self.routes.clone(),
        }
    }

    /// The load client's view of this target: the host resolved once, and TLS set up
    /// with the same trust and client certificate.
    pub async fn load_connector(
        &self,
    ) -> Result<crate::load::Connector, crate::load::connector::ResolveError> {
        crate::load::Connector::resolve(
            &self.endpoint,
            self.ca_pem(),
            self.identity(),
            &self.routes,
        )
        .await
    }

    /// Shuts the reference receiver down, if it runs (draining its queue).
    pub async fn shutdown(mut self) {
        if let Some(receiver) = self.receiver.take() {
            receiver.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Target, TargetError, TargetSpec, secret_or_made_up};
    use crate::delivery::Client;
    use crate::delivery::request::Attempt;
    use crate::event::random;
    use crate::signing::Secret;
    use crate::tls::{PemProblem, TrustError};

    #[test]
    fn a_given_secret_is_kept_and_none_is_drawn_from_the_stream() {
        let given = Secret::from_key(b"partner".to_vec());
        let mut rng = random::rng_for(7, "run");
        let kept = secret_or_made_up(Some(given.clone()), &mut rng);
        assert_eq!(kept.expose_key(), given.expose_key());
        // Nothing was drawn: what the command draws next is as without a secret's draw.
        let next = secret_or_made_up(None, &mut rng);
        let first = secret_or_made_up(None, &mut random::rng_for(7, "run"));
        assert_eq!(next.expose_key(), first.expose_key());
    }

    #[test]
    fn a_made_up_secret_is_32_bytes_of_the_commands_stream() {
        let a = secret_or_made_up(None, &mut random::rng_for(7, "load-secret"));
        let b = secret_or_made_up(None, &mut random::rng_for(7, "load-secret"));
        let other_seed = secret_or_made_up(None, &mut random::rng_for(8, "load-secret"));
        let other_stream = secret_or_made_up(None, &mut random::rng_for(7, "run"));
        assert_eq!(a.expose_key().len(), 32);
        assert_eq!(a.expose_key(), b.expose_key(), "same seed, same secret");
        assert_ne!(a.expose_key(), other_seed.expose_key());
        assert_ne!(a.expose_key(), other_stream.expose_key());
        let unseeded = secret_or_made_up(None, &mut rand::rng());
        assert_eq!(unseeded.expose_key().len(), 32);
    }

    #[tokio::test]
    async fn without_an_endpoint_the_reference_receiver_answers_on_loopback() {
        let target = Target::build(TargetSpec::default()).await.unwrap();
        assert!(
            target.endpoint().starts_with("https://127.0.0.1:"),
            "{}",
            target.endpoint()
        );
        assert!(
            target.ca_pem().is_some(),
            "the receiver's own CA is trusted"
        );
        assert!(target.state_url().is_some());
        let client = Client::new(&target.client_options(Duration::from_secs(5))).unwrap();
        let exchange = client
            .send(&Attempt::post(
                target.endpoint(),
                Vec::new(),
                bytes::Bytes::from_static(b"{}"),
            ))
            .await;
        assert!(exchange.error.is_none(), "{:?}", exchange.error);
        assert!(exchange.status().is_some());
        let probe = target.probe_options(Duration::from_secs(5));
        assert_eq!(probe.ca_cert_pem.as_deref(), target.ca_pem());
        target.shutdown().await;
    }

    #[tokio::test]
    async fn a_bad_ca_file_is_one_error_before_anything_starts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let spec = TargetSpec {
            endpoint: Some("https://127.0.0.1:1/hook".into()),
            ca_cert: Some(path),
            ..TargetSpec::default()
        };
        let err = Target::build(spec).await.unwrap_err();
        assert!(
            matches!(
                err,
                TargetError::Trust(TrustError::Invalid {
                    problem: PemProblem::NoCertificate,
                    ..
                })
            ),
            "{err}"
        );
        let spec = TargetSpec {
            endpoint: Some("ftp://127.0.0.1/".into()),
            ..TargetSpec::default()
        };
        assert!(matches!(
            Target::build(spec).await.unwrap_err(),
            TargetError::Endpoint(_)
        ));
    }
}
