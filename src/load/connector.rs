//! The endpoint under load: resolved once, and one HTTP/1.1 connection per worker
//! (plain TCP or rustls, see [`super::http1`]), `TCP_NODELAY` set, no pool. Where the
//! socket goes is the command's route ([`crate::route`]): `--connect-to`, `--resolve`,
//! or a CONNECT tunnel through the proxy per connection (the proxy's name resolved
//! once).

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::header::HeaderValue;
use hyper::{Uri, http::uri::Scheme};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::http1::{Connection, Stream};
use crate::delivery::exchange::ErrorClass;
use crate::route::{Plan, RouteError, Routes};
use crate::tls::{ClientConfigError, ClientIdentity, client_config};

/// Where requests go and how to connect there.
#[derive(Clone)]
pub struct Connector {
    /// The socket addresses (resolved once, before the run): the endpoint's, or the
    /// proxy's.
    pub addrs: Vec<SocketAddr>,
    /// Origin-form request target (path and query).
    pub path: Uri,
    /// The `Host` header value.
    pub host: HeaderValue,
    /// Whether the endpoint is plain `http://`.
    pub plain: bool,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    routes: Routes,
    plan: Plan,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("addrs", &self.addrs)
            .field("plan", &self.plan)
            .field("path", &self.path)
            .field("plain", &self.plain)
            .finish_non_exhaustive()
    }
}

/// Why the load client cannot reach an endpoint (checked by
/// [`crate::target::Target`] before this).
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The host name did not resolve to an address.
    #[error("cannot resolve the host of `{0}`")]
    Unresolved(String),
    /// The host cannot be written as a `Host` header or a TLS server name.
    #[error("`{0}` has an invalid host name")]
    InvalidHost(String),
    /// The proxy on the route is unreachable.
    #[error(transparent)]
    Route(RouteError),
    /// The TLS client could not be set up.
    #[error(transparent)]
    Tls(#[from] ClientConfigError),
}

impl Connector {
    /// Resolves the host of `endpoint` (an `http://` or `https://` URL checked by
    /// [`crate::delivery::endpoint::parse_endpoint`]) once and, for HTTPS, prepares a
    /// TLS 1.2+ client trusting the system roots plus `ca_pem` and presenting
    /// `identity` when the endpoint asks for a client certificate.
    pub async fn resolve(
        endpoint: &str,
        ca_pem: Option<&[u8]>,
        identity: Option<&ClientIdentity>,
        routes: &Routes,
    ) -> Result<Connector, ResolveError> {
        let invalid = || ResolveError::InvalidHost(endpoint.to_owned());
        let uri: Uri = endpoint.parse().map_err(|_| invalid())?;
        let plain = uri.scheme() == Some(&Scheme::HTTP);
        let authority = uri.authority().ok_or_else(invalid)?;
        let host_name = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(if plain { 80 } else { 443 });
        let plan = routes.plan(!plain, host_name, port);
        let addrs = routes.resolve(&plan).await.map_err(|err| match err {
            err if err.is_proxy() => ResolveError::Route(err),
            _ => ResolveError::Unresolved(endpoint.to_owned()),
        })?;
        let path: Uri = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/"));
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| invalid())?;
        let tls = if plain {
            None
        } else {
            let server_name = ServerName::try_from(host_name.to_owned()).map_err(|_| invalid())?;
            let mut config = client_config(ca_pem, identity)?;
            // The load client speaks HTTP/1.1 only.
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Some((TlsConnector::from(Arc::new(config)), server_name))
        };
        Ok(Connector {
            addrs,
            routes: routes.clone(),
            plan,
            path,
            host,
            plain,
            tls,
        })
    }

    /// Opens a new connection (TCP, then TLS for `https://`).
    pub async fn connect(&self) -> Result<Connection, ErrorClass> {
        let stream = self
            .routes
            .connect_at(&self.plan, &self.addrs)
            .await
            .map_err(|_| ErrorClass::Connect)?
            .stream;
        let stream = match &self.tls {
            None => Stream::Plain(stream),
            Some((connector, name)) => Stream::Tls(Box::new(
                connector
                    .connect(name.clone(), stream)
                    .await
                    .map_err(|_| ErrorClass::Tls)?,
            )),
        };
        Ok(Connection::new(stream))
    }
}
