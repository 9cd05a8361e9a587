//! The HTTP client: one reqwest client (rustls, TLS 1.2 minimum, connection reuse,
//! no redirects), and one [`Exchange`] record per attempt, whatever the peer does.

use std::error::Error as _;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::exchange::{
    BODY_EXCERPT_LIMIT, ErrorClass, Exchange, RequestRecord, ResponseRecord, TransportError,
    recorded_value,
};
use super::request::Attempt;
use crate::error::SetupError;

/// The most response body bytes read per attempt; the rest is not read.
pub const BODY_READ_LIMIT: usize = 64 * 1024;

/// Spotnana's per-attempt timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(40);

/// How the client is set up.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-attempt timeout: connection set-up, request, answer and the capped body read.
    pub timeout: Duration,
    /// A private CA (PEM, one or more certificates) trusted in addition to the system roots.
    pub ca_cert_pem: Option<Vec<u8>>,
    /// A shorter limit for the TCP and TLS set-up, if wanted.
    pub connect_timeout: Option<Duration>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: DEFAULT_TIMEOUT,
            ca_cert_pem: None,
            connect_timeout: None,
        }
    }
}

/// A delivery client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    inner: reqwest::Client,
    timeout: Duration,
}

impl Client {
    /// Builds the client; an unusable CA file is a setup error.
    pub fn new(options: &ClientOptions) -> Result<Client, SetupError> {
        crate::init_crypto();
        let mut builder = reqwest::Client::builder()
            .tls_version_min(reqwest::tls::Version::TLS_1_2)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("spotcheck/", env!("CARGO_PKG_VERSION")))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(limit) = options.connect_timeout {
            builder = builder.connect_timeout(limit);
        }
        if let Some(pem) = &options.ca_cert_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .ok()
                .filter(|certs| !certs.is_empty())
                .ok_or_else(|| {
                    SetupError::new("--ca-cert holds no PEM certificate")
                        .with_hint("pass the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)")
                })?;
            builder = builder.tls_certs_merge(certs);
        }
        let inner = builder
            .build()
            .map_err(|err| SetupError::new(format!("cannot set up the HTTP client: {err}")))?;
        Ok(Client {
            inner,
            timeout: options.timeout,
        })
    }

    /// The whole-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends one attempt and records what happened. Never panics, never takes longer
    /// than the timeout.
    pub async fn send(&self, attempt: &Attempt) -> Exchange {
        let request = request_record(attempt);
        let started_at_ms = now_ms();
        let clock = Instant::now();
        let result = tokio::time::timeout(self.timeout, self.exchange(attempt)).await;
        let duration = clock.elapsed();
        let (response, error) = match result {
            Ok(Ok(response)) => (Some(response), None),
            Ok(Err(error)) => (None, Some(error)),
            Err(_) => (
                None,
                Some(TransportError {
                    class: ErrorClass::Timeout,
                    message: format!("no complete answer within {}", humantime::format_duration(self.timeout)),
                }),
            ),
        };
        Exchange {
            request,
            response,
            error,
            started_at_ms,
            duration,
        }
    }

    async fn exchange(&self, attempt: &Attempt) -> Result<ResponseRecord, TransportError> {
        let mut builder = self
            .inner
            .request(attempt.method.clone(), attempt.url.as_str());
        for (name, value) in &attempt.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if !attempt.body.is_empty() || attempt.method == reqwest::Method::POST {
            builder = builder.body(attempt.body.clone());
        }
        let mut response = builder.send().await.map_err(|err| classify(&err))?;
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(value.as_bytes());
                (name.as_str().to_owned(), recorded_value(name.as_str(), &escape_control(&text)))
            })
            .collect();
        let mut body = BytesMut::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = BODY_READ_LIMIT - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(err) => {
                    // The head arrived; a broken body is still an answer with a status.
                    let _ = err;
                    truncated = true;
                    break;
                }
            }
        }
        let body: Bytes = body.freeze();
        Ok(ResponseRecord {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            headers,
            body_excerpt: excerpt(&body),
            body_bytes_read: body.len(),
            body_truncated: truncated,
            body,
        })
    }
}

fn request_record(attempt: &Attempt) -> RequestRecord {
    RequestRecord {
        method: attempt.method.as_str().to_owned(),
        url: attempt.url.clone(),
        headers: attempt
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), recorded_value(name, value)))
            .collect(),
        body_len: attempt.body.len(),
        body_excerpt: excerpt(&attempt.body),
    }
}

/// The first KiB of a body as text: invalid UTF-8 replaced, control characters escaped.
pub fn excerpt(body: &[u8]) -> String {
    let cut = &body[..body.len().min(BODY_EXCERPT_LIMIT)];
    let text = String::from_utf8_lossy(cut);
    let mut out = escape_control(&text);
    if body.len() > BODY_EXCERPT_LIMIT {
        out.push('…');
    }
    out
}

/// Escapes control characters other than newline and tab as `\u{..}`.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Sorts a transport failure into a class with a one-line cause.
fn classify(err: &reqwest::Error) -> TransportError {
    let chain = error_chain(err);
    let lower = chain.to_ascii_lowercase();
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.source();
    let mut io_kind = None;
    let mut tls = false;
    let mut hyper_parse = false;
    let mut incomplete = false;
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        if current.downcast_ref::<rustls::Error>().is_some() {
            tls = true;
        }
        if let Some(h) = current.downcast_ref::<hyper::Error>() {
            hyper_parse |= h.is_parse() || h.is_parse_status() || h.is_parse_too_large();
            incomplete |= h.is_incomplete_message();
        }
        source = current.source();
    }
    use std::io::ErrorKind;
    let class = if err.is_timeout() {
        ErrorClass::Timeout
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        ErrorClass::Dns
    } else if tls || lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        ErrorClass::Tls
    } else if matches!(io_kind, Some(ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable | ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable)) {
        ErrorClass::Connect
    } else if hyper_parse {
        ErrorClass::Protocol
    } else if incomplete
        || matches!(io_kind, Some(ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof))
    {
        ErrorClass::Reset
    } else if err.is_connect() {
        ErrorClass::Connect
    } else if err.is_body() || err.is_decode() {
        ErrorClass::Body
    } else {
        ErrorClass::Other
    };
    TransportError {
        class,
        message: chain,
    }
}

/// The error and its causes on one line, without repeating the URL reqwest puts in front.
fn error_chain(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(current) = source {
        let text = current.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = current.source();
    }
    if parts.is_empty() {
        parts.push(err.to_string());
    }
    escape_control(&parts.join(": "))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
