//! Where a connection actually goes: the one decision every client asks for (the
//! delivery pool, which also carries OAuth token and observation requests, the load
//! client and the TLS probe).
//!
//! A partner's network decides how spotcheck reaches an endpoint, so spotcheck follows
//! the conventions curl follows:
//!
//! - `--connect-to HOST:PORT:HOST2:PORT2` connects to `HOST2:PORT2` instead of
//!   `HOST:PORT` (an empty part matches any host or port, or keeps it); the first rule
//!   that matches applies.
//! - `--resolve HOST:PORT:ADDR[,ADDR…]` gives the addresses of `HOST:PORT` (after
//!   `--connect-to`), without DNS; `*` as `HOST` matches any host.
//! - A proxy from `https_proxy`/`HTTPS_PROXY` (for `https://`), `http_proxy`/
//!   `HTTP_PROXY` (for `http://`), else `all_proxy`/`ALL_PROXY` — the lower-case form
//!   first, as curl reads them — unless `no_proxy`/`NO_PROXY` names the endpoint's host
//!   (a domain and its subdomains, an IP address, a CIDR block, or `*`). `--proxy URL`
//!   replaces the variables (`NO_PROXY` still applies), `--no-proxy` ignores them all.
//!   Through a proxy every connection is an HTTP `CONNECT` tunnel, `http://` endpoints
//!   included, so every client speaks to the endpoint itself over the tunnel (and the
//!   TLS probe's own ClientHellos reach the endpoint unchanged). `--resolve` then
//!   applies to the proxy's name, as in curl.
//!
//! TLS server name, certificate name check and `Host` stay the endpoint's own name
//! whatever the route: only the socket goes elsewhere.
//!
//! The NO_PROXY matching is hyper-util's (the matcher reqwest uses), fed the variables
//! in curl's order.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hyper_util::client::proxy::matcher::Matcher;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the user asked for: the flags of a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteSpec {
    /// `--resolve HOST:PORT:ADDR[,ADDR…]` (repeatable).
    pub resolve: Vec<String>,
    /// `--connect-to HOST:PORT:HOST2:PORT2` (repeatable).
    pub connect_to: Vec<String>,
    /// `--proxy URL`: replaces the proxy variables.
    pub proxy: Option<String>,
    /// `--no-proxy`: connect directly whatever the variables say.
    pub no_proxy: bool,
}

/// Why the route flags or proxy variables cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteSpecError {
    /// A `--resolve` value that is not `HOST:PORT:ADDR[,ADDR…]`.
    #[error("`{value}` is not HOST:PORT:ADDR[,ADDR…]: {problem}")]
    Resolve {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A `--connect-to` value that is not `HOST:PORT:HOST2:PORT2`.
    #[error("`{value}` is not HOST:PORT:HOST2:PORT2: {problem}")]
    ConnectTo {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A proxy URL spotcheck cannot use (`from`: the variable or flag it came from).
    #[error("the proxy `{shown}` of {from} cannot be used: {problem}")]
    Proxy {
        /// `--proxy` or the variable's name.
        from: String,
        /// The URL without credentials.
        shown: String,
        /// What is wrong with it.
        problem: String,
    },
    /// `--proxy` with a user or password in it: a flag is seen in process lists, shell
    /// histories and repro commands, so credentials come from the environment only.
    #[error("the proxy `{shown}` of --proxy carries credentials")]
    CredentialsOnFlag {
        /// The URL without credentials.
        shown: String,
    },
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The host name did not resolve.
    #[error("the host name `{host}` did not resolve: {message}")]
    Resolve {
        /// The host looked up (the endpoint's, `--connect-to`'s or the proxy's).
        host: String,
        /// What the resolver said.
        message: String,
    },
    /// No address accepted the TCP connection.
    #[error("cannot connect to {address}: {error}")]
    Connect {
        /// The last address tried.
        address: SocketAddr,
        /// The socket error.
        #[source]
        error: std::io::Error,
    },
    /// The proxy could not be reached.
    #[error("cannot reach the proxy {proxy}: {message}")]
    ProxyUnreachable {
        /// The proxy URL, without credentials.
        proxy: String,
        /// Why.
        message: String,
    },
    /// The proxy answered the `CONNECT` with something other than 2xx.
    #[error("the proxy {proxy} refused the tunnel to {target}: {status} {reason}")]
    ProxyRefused {
        /// The proxy URL, without credentials.
        proxy: String,
        /// The `host:port` asked for.
        target: String,
        /// The proxy's status (407: it wants credentials).
        status: u16,
        /// The proxy's reason phrase.
        reason: String,
    },
    /// The proxy's answer to the `CONNECT` was not HTTP.
    #[error("the proxy {proxy} answered the CONNECT to {target} with something not HTTP")]
    ProxyProtocol {
        /// The proxy URL, without credentials.
        proxy: String,
        /// The `host:port` asked for.
        target: String,
    },
}

impl RouteError {
    /// Whether the proxy, not the endpoint, is what failed.
    pub fn is_proxy(&self) -> bool {
        matches!(
            self,
            RouteError::ProxyUnreachable { .. }
                | RouteError::ProxyRefused { .. }
                | RouteError::ProxyProtocol { .. }
        )
    }
}

/// One `--resolve` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resolve {
    /// Lower-case host, or `*`.
    host: String,
    port: u16,
    addrs: Vec<IpAddr>,
}

/// One `--connect-to` rule (`None`: any, or unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConnectTo {
    host: Option<String>,
    port: Option<u16>,
    to_host: Option<String>,
    to_port: Option<u16>,
}

/// An HTTP proxy, with its `Proxy-Authorization` value when the URL had credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    auth: Option<String>,
}

impl Proxy {
    /// The proxy as shown to the user: `http://host:port`, never its credentials.
    pub fn shown(&self) -> String {
        format!("http://{}", host_port(&self.host, self.port))
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

/// The proxies in force and the hosts they do not apply to.
struct Proxies {
    matcher: Matcher,
    /// `NO_PROXY=*` (which hyper-util's matcher applies to names only).
    none: bool,
}

/// Where connections go, for one command. Cheap to clone.
#[derive(Clone, Default)]
pub struct Routes {
    resolve: Vec<Resolve>,
    connect_to: Vec<ConnectTo>,
    proxies: Option<Arc<Proxies>>,
    /// The flags that asked for this, for repro commands (no credentials: refused).
    flags: Vec<String>,
    /// The values to keep out of output (proxy credentials from the environment).
    secrets: Vec<String>,
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Routes")
            .field("resolve", &self.resolve)
            .field("connect_to", &self.connect_to)
            .field("proxied", &self.proxies.is_some())
            .finish_non_exhaustive()
    }
}

/// Where one connection goes, decided before connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The host connected to (the endpoint's, or `--connect-to`'s).
    pub host: String,
    /// The port connected to.
    pub port: u16,
    /// The proxy tunnelled through, if any.
    pub proxy: Option<Proxy>,
}

impl Plan {
    /// `host:port` of the endpoint side (what a tunnel asks for).
    pub fn target(&self) -> String {
        host_port(&self.host, self.port)
    }
}

/// The route a connection took, for reports and `--verbose`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteTaken {
    /// `direct` or `proxy`.
    pub via: &'static str,
    /// The proxy (`http://host:port`, never credentials), when through one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// The `host:port` the endpoint side was reached at (after `--connect-to`).
    pub target: String,
    /// The socket address connected to: the endpoint's, or the proxy's (`None`: the
    /// name did not resolve).
    pub address: Option<String>,
}

impl fmt::Display for RouteTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let address = self.address.as_deref().unwrap_or("unresolved");
        match &self.proxy {
            Some(proxy) => write!(
                f,
                "through the proxy {proxy} ({address}) to {}",
                self.target
            ),
            None => write!(f, "direct to {} ({address})", self.target),
        }
    }
}

/// An open connection and the route it took.
#[derive(Debug)]
pub struct Connected {
    /// The socket: to the endpoint, or a tunnel to it through the proxy.
    pub stream: TcpStream,
    /// How it got there.
    pub taken: RouteTaken,
}

/// `host:port`, an IPv6 address in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Splits `HOST:REST` where HOST may be `[v6]`.
fn split_host(text: &str) -> Option<(&str, &str)> {
    if text.starts_with('[') {
        let end = text.find(']')?;
        let rest = text[end + 1..].strip_prefix(':')?;
        Some((&text[1..end], rest))
    } else {
        text.split_once(':')
    }
}

fn parse_resolve(value: &str) -> Result<Resolve, RouteSpecError> {
    let err = |problem: &str| RouteSpecError::Resolve {
        value: value.to_owned(),
        problem: problem.to_owned(),
    };
    let (host, rest) = split_host(value).ok_or_else(|| err("no `:` after HOST"))?;
    let (port, addrs) = rest
        .split_once(':')
        .ok_or_else(|| err("no `:` after PORT"))?;
    if host.is_empty() {
        return Err(err("HOST is empty"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| err("PORT is not a number from 0 to 65535"))?;
    let addrs = addrs
        .split(',')
        .map(|addr| unbracket(addr.trim()).parse::<IpAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| err("ADDR is not an IP address"))?;
    Ok(Resolve {
        host: host.to_ascii_lowercase(),
        port,
        addrs,
    })
}

fn parse_connect_to(value: &str) -> Result<ConnectTo, RouteSpecError> {
    let err = |problem: &str| RouteSpecError::ConnectTo {
        value: value.to_owned(),
        problem: problem.to_owned(),
    };
    let (host, rest) = split_host(value).ok_or_else(|| err("no `:` after HOST"))?;
    let (port, rest) = rest
        .split_once(':')
        .ok_or_else(|| err("no `:` after PORT"))?;
    let (to_host, to_port) = if rest.starts_with('[') {
        split_host(rest).ok_or_else(|| err("no `:` after HOST2"))?
    } else {
        rest.rsplit_once(':')
            .ok_or_else(|| err("no `:` after HOST2"))?
    };
    let port_of = |text: &str, which: &str| -> Result<Option<u16>, RouteSpecError> {
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| err(&format!("{which} is not a number from 0 to 65535")))
    };
    let name = |text: &str| (!text.is_empty()).then(|| text.to_ascii_lowercase());
    Ok(ConnectTo {
        host: name(host),
        port: port_of(port, "PORT")?,
        to_host: name(unbracket(to_host)),
        to_port: port_of(to_port, "PORT2")?,
    })
}

/// A proxy URL checked: `http://` (or no scheme), a host, a port (1080 when none, as
/// curl). Returns the proxy and the credential values to redact.
fn parse_proxy(from: &str, raw: &str) -> Result<(Proxy, Vec<String>), RouteSpecError> {
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    let shown_of = |url: &reqwest::Url| {
        let mut url = url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.as_str().trim_end_matches('/').to_owned()
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|err| RouteSpecError::Proxy {
        from: from.to_owned(),
        // The value may hold credentials: show only what precedes any `@`.
        shown: raw
            .rsplit_once('@')
            .map_or(raw.to_owned(), |(_, host)| host.to_owned()),
        problem: format!("not a URL ({err})"),
    })?;
    let shown = shown_of(&url);
    if url.scheme() != "http" {
        return Err(RouteSpecError::Proxy {
            from: from.to_owned(),
            shown,
            problem: format!(
                "spotcheck speaks to HTTP proxies (http://…) only, not {}://",
                url.scheme()
            ),
        });
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(RouteSpecError::Proxy {
            from: from.to_owned(),
            shown,
            problem: "no host".to_owned(),
        });
    };
    let mut secrets = Vec::new();
    let auth = if url.username().is_empty() && url.password().is_none() {
        None
    } else {
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = decode(url.username());
        let password = url.password().map(decode).unwrap_or_default();
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        for value in [
            url.password().unwrap_or_default().to_owned(),
            password,
            token.clone(),
        ] {
            if !value.is_empty() {
                secrets.push(value);
            }
        }
        Some(format!("Basic {token}"))
    };
    Ok((
        Proxy {
            host: unbracket(host).to_owned(),
            port: url.port().unwrap_or(1080),
            auth,
        },
        secrets,
    ))
}

/// The first of `names` set in the environment (an empty value counts as set: it
/// turns the proxy off, as in curl).
fn first_env(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Option<(String, String)> {
    names
        .iter()
        .find_map(|name| env(name).map(|value| ((*name).to_owned(), value)))
}

impl Routes {
    /// Direct connections, DNS only: what a library caller gets by default.
    pub fn direct() -> Routes {
        Routes::default()
    }

    /// The routes of `spec`, reading the proxy variables through `env` (the process
    /// environment in the command-line front; a map in tests).
    pub fn build(
        spec: &RouteSpec,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Routes, RouteSpecError> {
        let mut routes = Routes::default();
        for value in &spec.resolve {
            routes.resolve.push(parse_resolve(value)?);
            routes.flags.extend(["--resolve".to_owned(), value.clone()]);
        }
        for value in &spec.connect_to {
            routes.connect_to.push(parse_connect_to(value)?);
            routes
                .flags
                .extend(["--connect-to".to_owned(), value.clone()]);
        }
        if spec.no_proxy {
            routes.flags.push("--no-proxy".to_owned());
            return Ok(routes);
        }
        let mut builder = Matcher::builder();
        let mut any = false;
        let mut check = |from: &str, value: &str| -> Result<String, RouteSpecError> {
            let (_, secrets) = parse_proxy(from, value)?;
            routes.secrets.extend(secrets);
            // The matcher gets the checked URL, `http://` added when none was written
            // (curl assumes it).
            Ok(if value.contains("://") {
                value.to_owned()
            } else {
                format!("http://{value}")
            })
        };
        if let Some(flag) = &spec.proxy {
            let (proxy, _) = parse_proxy("--proxy", flag)?;
            if proxy.auth.is_some() {
                return Err(RouteSpecError::CredentialsOnFlag {
                    shown: proxy.shown(),
                });
            }
            builder = builder.all(check("--proxy", flag)?);
            any = true;
        } else {
            let names: [(&[&str], u8); 3] = [
                (&["https_proxy", "HTTPS_PROXY"], 0),
                (&["http_proxy", "HTTP_PROXY"], 1),
                (&["all_proxy", "ALL_PROXY"], 2),
            ];
            for (names, which) in names {
                let Some((name, value)) = first_env(env, names) else {
                    continue;
                };
                if value.trim().is_empty() {
                    continue;
                }
                let value = check(&name, value.trim())?;
                any = true;
                builder = match which {
                    0 => builder.https(value),
                    1 => builder.http(value),
                    _ => builder.all(value),
                };
            }
        }
        if !any {
            return Ok(routes);
        }
        let no = first_env(env, &["no_proxy", "NO_PROXY"])
            .map(|(_, value)| value)
            .unwrap_or_default();
        // curl separates entries by commas or white space and writes IPv6 in brackets.
        let entries: Vec<&str> = no
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .map(unbracket)
            .collect();
        let none = entries.contains(&"*");
        routes.proxies = Some(Arc::new(Proxies {
            matcher: builder.no(entries.join(",")).build(),
            none,
        }));
        if let Some(flag) = &spec.proxy {
            routes.flags.extend(["--proxy".to_owned(), flag.clone()]);
        }
        Ok(routes)
    }

    /// The flags that asked for these routes, to repeat in a repro command (a
    /// `--proxy` never carries credentials: those are refused).
    pub fn flags(&self) -> &[String] {
        &self.flags
    }

    /// Proxy credential values (from the environment), for the redactor.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Where a connection to `host:port` of an `https://` (or `http://`) URL goes.
    pub fn plan(&self, https: bool, host: &str, port: u16) -> Plan {
        let host = unbracket(host);
        let lower = host.to_ascii_lowercase();
        let mut plan = Plan {
            host: host.to_owned(),
            port,
            proxy: None,
        };
        if let Some(rule) = self.connect_to.iter().find(|rule| {
            rule.host.as_deref().is_none_or(|h| h == lower) && rule.port.is_none_or(|p| p == port)
        }) {
            if let Some(to) = &rule.to_host {
                plan.host = to.clone();
            }
            if let Some(to) = rule.to_port {
                plan.port = to;
            }
        }
        if let Some(proxies) = &self.proxies
            && !proxies.none
        {
            let uri = format!(
                "{}://{}/",
                if https { "https" } else { "http" },
                host_port(host, port)
            );
            if let Ok(uri) = uri.parse::<hyper::Uri>()
                && let Some(intercept) = proxies.matcher.intercept(&uri)
                && let Some(authority) = intercept.uri().authority()
            {
                plan.proxy = Some(Proxy {
                    host: unbracket(authority.host()).to_owned(),
                    port: authority.port_u16().unwrap_or(1080),
                    auth: intercept
                        .basic_auth()
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned),
                });
            }
        }
        plan
    }

    /// The addresses of `host:port`: a `--resolve` rule's, else DNS.
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, RouteError> {
        let lower = unbracket(host).to_ascii_lowercase();
        if let Some(rule) = self
            .resolve
            .iter()
            .find(|rule| rule.port == port && (rule.host == lower || rule.host == "*"))
        {
            return Ok(rule
                .addrs
                .iter()
                .map(|ip| SocketAddr::new(*ip, port))
                .collect());
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((unbracket(host), port))
            .await
            .map_err(|err| RouteError::Resolve {
                host: host.to_owned(),
                message: err.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(RouteError::Resolve {
                host: host.to_owned(),
                message: "no address".to_owned(),
            });
        }
        Ok(addrs)
    }

    /// The addresses a plan connects to: the proxy's, or the endpoint side's.
    pub async fn resolve(&self, plan: &Plan) -> Result<Vec<SocketAddr>, RouteError> {
        match &plan.proxy {
            Some(proxy) => self
                .addresses(&proxy.host, proxy.port)
                .await
                .map_err(|err| RouteError::ProxyUnreachable {
                    proxy: proxy.shown(),
                    message: err.to_string(),
                }),
            None => self.addresses(&plan.host, plan.port).await,
        }
    }

    /// Connects along `plan` to the first of `addrs` that accepts, then opens the
    /// tunnel when the plan goes through a proxy.
    pub async fn connect_at(
        &self,
        plan: &Plan,
        addrs: &[SocketAddr],
    ) -> Result<Connected, RouteError> {
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return match &plan.proxy {
                        None => Ok(Connected {
                            stream,
                            taken: RouteTaken {
                                via: "direct",
                                proxy: None,
                                target: plan.target(),
                                address: Some(addr.to_string()),
                            },
                        }),
                        Some(proxy) => {
                            let stream = tunnel(stream, proxy, &plan.target()).await?;
                            Ok(Connected {
                                stream,
                                taken: RouteTaken {
                                    via: "proxy",
                                    proxy: Some(proxy.shown()),
                                    target: plan.target(),
                                    address: Some(addr.to_string()),
                                },
                            })
                        }
                    };
                }
                Err(err) => last = Some((*addr, err)),
            }
        }
        let (address, error) = last.unwrap_or_else(|| {
            (
                SocketAddr::from(([0, 0, 0, 0], plan.port)),
                std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
            )
        });
        match &plan.proxy {
            Some(proxy) => Err(RouteError::ProxyUnreachable {
                proxy: proxy.shown(),
                message: format!("{address}: {error}"),
            }),
            None => Err(RouteError::Connect { address, error }),
        }
    }

    /// Opens a connection for `host:port` of an `https://` (or `http://`) URL.
    pub async fn connect(
        &self,
        https: bool,
        host: &str,
        port: u16,
    ) -> Result<Connected, RouteError> {
        let plan = self.plan(https, host, port);
        let addrs = self.resolve(&plan).await?;
        self.connect_at(&plan, &addrs).await
    }
}

/// The longest proxy answer head read.
const PROXY_HEAD_LIMIT: usize = 16 * 1024;

/// Asks the proxy on `stream` for a tunnel to `target` (`host:port`) and reads its
/// answer head byte by byte, so that nothing of the endpoint's bytes is consumed.
async fn tunnel(
    mut stream: TcpStream,
    proxy: &Proxy,
    target: &str,
) -> Result<TcpStream, RouteError> {
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = &proxy.auth {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    let unreachable = |err: std::io::Error| RouteError::ProxyUnreachable {
        proxy: proxy.shown(),
        message: err.to_string(),
    };
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(unreachable)?;
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= PROXY_HEAD_LIMIT {
            return Err(RouteError::ProxyProtocol {
                proxy: proxy.shown(),
                target: target.to_owned(),
            });
        }
        match stream.read(&mut byte).await.map_err(unreachable)? {
            0 => {
                return Err(RouteError::ProxyUnreachable {
                    proxy: proxy.shown(),
                    message: "it closed the connection before answering the CONNECT".to_owned(),
                });
            }
            _ => head.push(byte[0]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let reason = parts.next().unwrap_or_default().trim().to_owned();
    match status {
        Some(status) if version.starts_with("HTTP/1.") => {
            if (200..300).contains(&status) {
                Ok(stream)
            } else {
                Err(RouteError::ProxyRefused {
                    proxy: proxy.shown(),
                    target: target.to_owned(),
                    status,
                    reason,
                })
            }
        }
        _ => Err(RouteError::ProxyProtocol {
            proxy: proxy.shown(),
            target: target.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    /// A lookup of environment variables.
    type Env = Box<dyn Fn(&str) -> Option<String>>;

    /// An environment of `pairs` (boxed: the closure owns its map).
    fn env_of(pairs: &[(&str, &str)]) -> Env {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Box::new(move |name| map.get(name).cloned())
    }

    fn routes(pairs: &[(&str, &str)]) -> Routes {
        Routes::build(&RouteSpec::default(), &env_of(pairs)).unwrap()
    }

    fn proxied(routes: &Routes, https: bool, host: &str) -> Option<String> {
        routes
            .plan(https, host, 443)
            .proxy
            .map(|proxy| proxy.shown())
    }

    #[test]
    fn lower_case_variables_win_and_each_scheme_has_its_own() {
        let r = routes(&[
            ("https_proxy", "http://lower:3128"),
            ("HTTPS_PROXY", "http://upper:3128"),
            ("HTTP_PROXY", "http://plain:8080"),
        ]);
        assert_eq!(
            proxied(&r, true, "a.test").as_deref(),
            Some("http://lower:3128")
        );
        assert_eq!(
            proxied(&r, false, "a.test").as_deref(),
            Some("http://plain:8080")
        );
        let r = routes(&[("ALL_PROXY", "127.0.0.1:9")]);
        assert_eq!(
            proxied(&r, true, "a.test").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(proxied(&routes(&[]), true, "a.test"), None);
        // An empty variable turns the proxy off, as in curl.
        let r = routes(&[("https_proxy", ""), ("HTTPS_PROXY", "http://upper:1")]);
        assert_eq!(proxied(&r, true, "a.test"), None);
    }

    #[test]
    fn no_proxy_matches_domains_suffixes_ips_cidr_and_star() {
        let no = "partner.test, .corp.example 10.0.0.0/8,192.0.2.7,[::1]";
        let r = routes(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", no)]);
        for host in [
            "partner.test",
            "hooks.partner.test",
            "a.corp.example",
            "10.1.2.3",
            "192.0.2.7",
            "::1",
            "[::1]",
            "PARTNER.TEST",
        ] {
            assert_eq!(proxied(&r, true, host), None, "{host} is in NO_PROXY");
        }
        for host in [
            "otherpartner.test",
            "partner.test.evil",
            "11.0.0.1",
            "192.0.2.8",
        ] {
            assert!(
                proxied(&r, true, host).is_some(),
                "{host} is not in NO_PROXY"
            );
        }
        let r = routes(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*")]);
        assert_eq!(proxied(&r, true, "127.0.0.1"), None);
        assert_eq!(proxied(&r, true, "a.test"), None);
    }

    #[test]
    fn flags_override_the_environment() {
        let env = env_of(&[("HTTPS_PROXY", "http://env:1")]);
        let spec = RouteSpec {
            proxy: Some("http://flag:2".into()),
            ..RouteSpec::default()
        };
        let r = Routes::build(&spec, &env).unwrap();
        assert_eq!(
            proxied(&r, true, "a.test").as_deref(),
            Some("http://flag:2")
        );
        assert_eq!(r.flags(), ["--proxy", "http://flag:2"]);
        let spec = RouteSpec {
            no_proxy: true,
            ..RouteSpec::default()
        };
        let r = Routes::build(&spec, &env).unwrap();
        assert_eq!(proxied(&r, true, "a.test"), None);
        let spec = RouteSpec {
            proxy: Some("http://user:pw@flag:2".into()),
            ..RouteSpec::default()
        };
        assert_eq!(
            Routes::build(&spec, &env).unwrap_err(),
            RouteSpecError::CredentialsOnFlag {
                shown: "http://flag:2".into()
            }
        );
        let spec = RouteSpec {
            proxy: Some("socks5://flag:2".into()),
            ..RouteSpec::default()
        };
        assert!(matches!(
            Routes::build(&spec, &env).unwrap_err(),
            RouteSpecError::Proxy { .. }
        ));
    }

    #[test]
    fn credentials_from_the_environment_become_proxy_authorization_and_secrets() {
        let r = routes(&[("HTTPS_PROXY", "http://alice:s%40cret@proxy.test:3128")]);
        let proxy = r.plan(true, "a.test", 443).proxy.unwrap();
        assert_eq!(proxy.shown(), "http://proxy.test:3128");
        assert_eq!(format!("{proxy:?}"), "http://proxy.test:3128");
        // base64("alice:s@cret")
        assert_eq!(proxy.auth.as_deref(), Some("Basic YWxpY2U6c0BjcmV0"));
        assert!(r.secrets().contains(&"s@cret".to_owned()));
        assert!(r.secrets().contains(&"s%40cret".to_owned()));
        assert!(r.secrets().contains(&"YWxpY2U6c0BjcmV0".to_owned()));
        assert!(r.flags().is_empty(), "variables are not flags");
    }

    #[test]
    fn connect_to_rewrites_and_resolve_gives_addresses() {
        let spec = RouteSpec {
            resolve: vec!["partner.test:8443:127.0.0.1,::1".into()],
            connect_to: vec![
                "node.test:443:[::1]:9443".into(),
                "::partner.test:8443".into(),
            ],
            ..RouteSpec::default()
        };
        let r = Routes::build(&spec, &env_of(&[])).unwrap();
        let plan = r.plan(true, "node.test", 443);
        assert_eq!((plan.host.as_str(), plan.port), ("::1", 9443));
        assert_eq!(plan.target(), "[::1]:9443");
        let plan = r.plan(true, "anything.test", 443);
        assert_eq!((plan.host.as_str(), plan.port), ("partner.test", 8443));
        let addrs = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(r.addresses("Partner.Test", 8443))
            .unwrap();
        assert_eq!(
            addrs,
            vec![
                "127.0.0.1:8443".parse::<SocketAddr>().unwrap(),
                "[::1]:8443".parse().unwrap()
            ]
        );
        assert_eq!(
            r.flags(),
            [
                "--resolve",
                "partner.test:8443:127.0.0.1,::1",
                "--connect-to",
                "node.test:443:[::1]:9443",
                "--connect-to",
                "::partner.test:8443"
            ]
        );
        for bad in [
            "partner.test:8443",
            "partner.test:x:127.0.0.1",
            "h:1:not-an-ip",
        ] {
            let spec = RouteSpec {
                resolve: vec![bad.into()],
                ..RouteSpec::default()
            };
            assert!(Routes::build(&spec, &env_of(&[])).is_err(), "{bad}");
        }
        let spec = RouteSpec {
            connect_to: vec!["a:1:b".into()],
            ..RouteSpec::default()
        };
        assert!(Routes::build(&spec, &env_of(&[])).is_err());
    }

    proptest! {
        /// A host is in NO_PROXY exactly when it is a listed domain or a subdomain of
        /// one, never when it merely ends with the same letters.
        #[test]
        fn no_proxy_domains_match_on_label_boundaries(
            domain in "[a-z]{1,8}\\.[a-z]{2,4}",
            label in "[a-z]{1,8}",
            dotted in any::<bool>(),
        ) {
            let entry = if dotted { format!(".{domain}") } else { domain.clone() };
            let r = routes(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", &entry)]);
            let sub = format!("{label}.{domain}");
            let glued = format!("{label}{domain}");
            prop_assert_eq!(proxied(&r, true, &sub), None);
            prop_assert!(proxied(&r, true, &glued).is_some());
            let longer = format!("{domain}.{label}");
            prop_assert!(proxied(&r, true, &longer).is_some());
        }

        /// An IPv4 address is in a CIDR entry exactly when its leading bits match.
        #[test]
        fn no_proxy_cidr_matches_by_prefix(addr in any::<u32>(), net in any::<u32>(), len in 0u8..=32) {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let entry = format!("{}/{len}", std::net::Ipv4Addr::from(net & mask));
            let r = routes(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", &entry)]);
            let host = std::net::Ipv4Addr::from(addr).to_string();
            let inside = addr & mask == net & mask;
            prop_assert_eq!(proxied(&r, true, &host).is_none(), inside);
        }
    }
}
