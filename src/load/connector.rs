//! The endpoint under load: resolved once, and one HTTP/1.1 connection per worker
//! (plain TCP or rustls, see [`super::http1`]), `TCP_NODELAY` set, no pool.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::header::HeaderValue;
use hyper::{Uri, http::uri::Scheme};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::http1::{Connection, Stream};
use crate::delivery::exchange::ErrorClass;
use crate::tls::{ClientConfigError, ClientIdentity, client_config};

/// Where requests go and how to connect there.
#[derive(Clone)]
pub struct Connector {
    /// The socket address (resolved once, before the run).
    pub addr: SocketAddr,
    /// Origin-form request target (path and query).
    pub path: Uri,
    /// The `Host` header value.
    pub host: HeaderValue,
    /// Whether the endpoint is plain `http://`.
    pub plain: bool,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("addr", &self.addr)
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
        let addr = tokio::net::lookup_host((host_name, port))
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| ResolveError::Unresolved(endpoint.to_owned()))?;
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
            addr,
            path,
            host,
            plain,
            tls,
        })
    }

    /// Opens a new connection (TCP, then TLS for `https://`).
    pub async fn connect(&self) -> Result<Connection, ErrorClass> {
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|_| ErrorClass::Connect)?;
        let _ = stream.set_nodelay(true);
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
