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
use crate::error::SetupError;

/// Where requests go and how to connect there.
#[derive(Clone)]
pub struct Target {
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

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("addr", &self.addr)
            .field("path", &self.path)
            .field("plain", &self.plain)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Parses `endpoint` (`http://` or `https://`), resolves its host once and, for
    /// HTTPS, prepares a TLS 1.2+ client trusting the system roots plus `ca_pem`.
    pub async fn resolve(endpoint: &str, ca_pem: Option<&[u8]>) -> Result<Target, SetupError> {
        Target::resolve_with_identity(endpoint, ca_pem, None).await
    }

    /// [`Target::resolve`], presenting `identity` when the endpoint asks for a client
    /// certificate (mutual TLS, `--client-cert`).
    pub async fn resolve_with_identity(
        endpoint: &str,
        ca_pem: Option<&[u8]>,
        identity: Option<&crate::tls_probe::ClientIdentity>,
    ) -> Result<Target, SetupError> {
        let uri: Uri = endpoint.parse().map_err(|err| {
            SetupError::new(format!("--endpoint `{endpoint}` is not a valid URL: {err}"))
                .with_hint("write the full URL, e.g. https://partner.example/webhooks")
        })?;
        let plain = match uri.scheme() {
            Some(s) if *s == Scheme::HTTPS => false,
            Some(s) if *s == Scheme::HTTP => true,
            _ => {
                return Err(SetupError::new(format!(
                    "--endpoint `{endpoint}` must start with https:// (or http:// for local testing)"
                )));
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| SetupError::new(format!("--endpoint `{endpoint}` has no host")))?;
        let host_name = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(if plain { 80 } else { 443 });
        let addr = tokio::net::lookup_host((host_name, port))
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| {
                SetupError::new(format!(
                    "cannot resolve the host of --endpoint `{endpoint}`"
                ))
            })?;
        let path: Uri = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/"));
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|_| SetupError::new(format!("--endpoint `{endpoint}` has an invalid host")))?;
        let tls = if plain {
            None
        } else {
            let server_name = ServerName::try_from(host_name.to_owned()).map_err(|_| {
                SetupError::new(format!("--endpoint `{endpoint}` has an invalid host name"))
            })?;
            Some((
                TlsConnector::from(Arc::new(tls_config(ca_pem, identity)?)),
                server_name,
            ))
        };
        Ok(Target {
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

/// The shared sender TLS configuration, offering HTTP/1.1 only (the load client).
fn tls_config(
    ca_pem: Option<&[u8]>,
    identity: Option<&crate::tls_probe::ClientIdentity>,
) -> Result<rustls::ClientConfig, SetupError> {
    let mut config = crate::delivery::connection::tls_config(ca_pem, identity)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
