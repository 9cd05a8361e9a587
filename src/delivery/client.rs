//! The HTTPS client every delivery goes through.
//!
//! hyper over rustls (TLS 1.2 or newer, HTTP/2 when ALPN picks it), connections from
//! the client's own pool ([`super::connection`]: never a connection without a
//! request, a stale kept-alive one resent once), no redirects, no decompression, and
//! one [`Exchange`] record per attempt. [`Client::send`]
//! never panics and never takes longer than the per-attempt timeout: connection
//! set-up, the response head and the (capped) body all fall under it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use tokio::time::timeout_at;

use super::classify::classify;
use super::connection::{
    Conn, ConnectFailure, ConnectionCounts, Origin, Pool, Sender, resend_on_fresh,
};
use super::exchange::{
    BODY_READ_LIMIT, ErrorClass, Exchange, ResponseRecord, TransportError, excerpt, recorded_value,
};
use super::request::Attempt;
use crate::tls::{AcceptAnyCertificate, ClientConfigError, ClientIdentity, client_config};

/// Spotnana's per-attempt timeout, connection set-up included.
pub use crate::wire::SPOTNANA_TIMEOUT;

/// How the client is built.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The whole-attempt timeout: connect, TLS, request, response head and body.
    pub timeout: Duration,
    /// PEM certificates of a private CA to trust in addition to the system roots.
    pub ca_cert_pem: Option<Vec<u8>>,
    /// A shorter limit for connection set-up alone, if wanted.
    pub connect_timeout: Option<Duration>,
    /// The client certificate to present to a mutual-TLS endpoint (`--client-cert`).
    pub client_identity: Option<ClientIdentity>,
    /// Where connections go (`--resolve`, `--connect-to`, a proxy); direct by default.
    pub routes: crate::route::Routes,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            timeout: SPOTNANA_TIMEOUT,
            ca_cert_pem: None,
            connect_timeout: None,
            client_identity: None,
            routes: crate::route::Routes::direct(),
        }
    }
}

/// The delivery client. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    pool: Arc<Pool>,
    timeout: Duration,
}

/// The note on an exchange that went out twice.
pub const RESENT_NOTE: &str = "resent once on a fresh connection: the kept-alive connection it \
     first went on ended before any byte of the answer (the endpoint had closed it without \
     `Connection: close`)";

/// Headers every request carries unless the attempt sets them (what reqwest added).
const DEFAULT_HEADERS: [(&str, &str); 2] = [
    (
        "user-agent",
        concat!("spotcheck/", env!("CARGO_PKG_VERSION")),
    ),
    ("accept", "*/*"),
];

/// A failed request, with its connection when [`resend_on_fresh`] says to resend.
type Failed = (TransportError, Option<Conn>);

/// What an answered request gives: the answer, an error reading its body, the time.
type Answered = (Option<ResponseRecord>, Option<TransportError>, Duration);

impl Client {
    /// Builds the client. A bad CA certificate or client certificate is an error
    /// saying what is wrong.
    pub fn new(options: &ClientOptions) -> Result<Client, ClientConfigError> {
        Client::build(options, false)
    }

    /// A client that accepts certificates that do not verify, for `run
    /// --insecure-continue` only: the TLS checks have already reported the certificate,
    /// and the user asked to judge the endpoint's HTTP behaviour anyway.
    pub fn new_accepting_invalid_certs(
        options: &ClientOptions,
    ) -> Result<Client, ClientConfigError> {
        Client::build(options, true)
    }

    fn build(
        options: &ClientOptions,
        accept_invalid_certs: bool,
    ) -> Result<Client, ClientConfigError> {
        let mut tls = client_config(
            options.ca_cert_pem.as_deref(),
            options.client_identity.as_ref(),
        )?;
        // What reqwest offered: HTTP/2 when the endpoint picks it, else HTTP/1.1.
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        if accept_invalid_certs {
            let provider = tls.crypto_provider().clone();
            tls.dangerous()
                .set_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)));
        }
        Ok(Client {
            pool: Arc::new(Pool::new(
                tls,
                options.connect_timeout,
                options.routes.clone(),
            )),
            timeout: options.timeout,
        })
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What the client's connections did so far (shared by every clone).
    pub fn connection_counts(&self) -> ConnectionCounts {
        self.pool.counts()
    }

    /// Sends one attempt and records what happened. Never panics; returns within
    /// the timeout (plus scheduling slack). Reads at most 64 KiB of the response body.
    pub async fn send(&self, attempt: &Attempt) -> Exchange {
        let started_at_ms = unix_millis();
        let start = Instant::now();
        let deadline = tokio::time::Instant::from_std(start) + self.timeout;
        let request = attempt.record();
        let mut note = None;
        let (response, error, duration) =
            match self.perform(attempt, deadline, start, &mut note).await {
                Ok(done) => done,
                Err(error) => (None, Some(error), start.elapsed()),
            };
        Exchange {
            request,
            response,
            error,
            started_at_ms,
            duration,
            note,
            not_sent: false,
        }
    }

    /// Sends on a pooled or new connection and reads the answer; resends once on a
    /// fresh connection when the reused one turns out stale (noted in `note`). On
    /// success the duration is the time to the response head.
    async fn perform(
        &self,
        attempt: &Attempt,
        deadline: tokio::time::Instant,
        start: Instant,
        note: &mut Option<String>,
    ) -> Result<Answered, TransportError> {
        let url = reqwest::Url::parse(&attempt.url).map_err(|err| TransportError {
            class: ErrorClass::Other,
            message: format!("`{}` is not a valid URL: {err}", attempt.url),
            certificate_required: false,
        })?;
        let origin = Origin::of(&url).ok_or_else(|| TransportError {
            class: ErrorClass::Other,
            message: format!("`{}` is not an http:// or https:// URL", attempt.url),
            certificate_required: false,
        })?;
        let conn = self.connect(self.pool.checkout(&origin), deadline).await?;
        match self.exchange_on(conn, attempt, &url, deadline, start).await {
            Ok(done) => Ok(done),
            Err((error, None)) => Err(error),
            Err((_, Some(stale))) => {
                self.pool.record_resend(&stale);
                drop(stale);
                *note = Some(RESENT_NOTE.to_owned());
                let conn = self.connect(self.pool.open(&origin), deadline).await?;
                self.exchange_on(conn, attempt, &url, deadline, start)
                    .await
                    .map_err(|(error, _)| error)
            }
        }
    }

    /// A connection from `getting`, within the attempt's deadline.
    async fn connect(
        &self,
        getting: impl std::future::Future<Output = Result<Conn, ConnectFailure>>,
        deadline: tokio::time::Instant,
    ) -> Result<Conn, TransportError> {
        match timeout_at(deadline, getting).await {
            Err(_) => Err(timed_out(self.timeout, "no answer")),
            Ok(Err(failure)) => Err(failure.error),
            Ok(Ok(conn)) => Ok(conn),
        }
    }

    /// One request on `conn`; the connection goes back to the pool after a complete
    /// answer that did not announce a close.
    async fn exchange_on(
        &self,
        mut conn: Conn,
        attempt: &Attempt,
        url: &reqwest::Url,
        deadline: tokio::time::Instant,
        start: Instant,
    ) -> Result<Answered, Failed> {
        let http2 = matches!(conn.sender, Sender::Http2(_));
        if !http2 {
            // One request at a time on HTTP/1.1: its reads end with its deadline.
            conn.set_deadline(Some(deadline.into_std()));
        }
        let request = build_request(attempt, url, http2).map_err(|error| (error, None))?;
        let before = conn.bytes_read();
        let sending = async {
            match &mut conn.sender {
                Sender::Http1(sender) => {
                    sender.ready().await?;
                    sender.send_request(request).await
                }
                Sender::Http2(sender) => {
                    sender.ready().await?;
                    sender.send_request(request).await
                }
            }
        };
        let response = match timeout_at(deadline, sending).await {
            Err(_) => return Err((timed_out(self.timeout, "no answer"), None)),
            Ok(Err(_)) if tokio::time::Instant::now() >= deadline => {
                return Err((timed_out(self.timeout, "no answer"), None));
            }
            Ok(Err(err)) => {
                let mut error = classify(&err, false, false);
                if error.class == ErrorClass::Reset
                    && let Some(alert) = conn.ended_by_tls().await
                {
                    error = alert;
                }
                let answer_bytes = conn.bytes_read() - before;
                let stale = resend_on_fresh(conn.reused, answer_bytes, error.class);
                return Err((error, stale.then_some(conn)));
            }
            Ok(Ok(response)) => response,
        };
        let head_time = start.elapsed();
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes());
                (
                    name.as_str().to_owned(),
                    recorded_value(name.as_str(), &value),
                )
            })
            .collect();
        let closes = announces_close(&response);
        let declared_len = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let mut incoming = response.into_body();
        let mut body = BytesMut::new();
        let mut truncated = false;
        let mut body_error = None;
        let mut ended = false;
        loop {
            match timeout_at(deadline, incoming.frame()).await {
                Err(_) => {
                    body_error = Some(timed_out(self.timeout, "the response body did not end"));
                    break;
                }
                Ok(Some(Err(_))) if tokio::time::Instant::now() >= deadline => {
                    body_error = Some(timed_out(self.timeout, "the response body did not end"));
                    break;
                }
                Ok(Some(Err(err))) => {
                    let mut error = classify(&err, false, false);
                    if matches!(error.class, ErrorClass::Other | ErrorClass::Protocol) {
                        error.class = ErrorClass::Body;
                    }
                    error.message = format!("reading the response body: {}", error.message);
                    body_error = Some(error);
                    break;
                }
                Ok(None) => {
                    ended = true;
                    break;
                }
                Ok(Some(Ok(frame))) => {
                    let Ok(chunk) = frame.into_data() else {
                        continue;
                    };
                    let room = BODY_READ_LIMIT - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                    if body.len() == BODY_READ_LIMIT {
                        truncated = declared_len.is_none_or(|len| len > BODY_READ_LIMIT as u64);
                        break;
                    }
                }
            }
        }
        drop(incoming);
        if ended && !closes {
            self.pool.checkin(conn, status.as_u16());
        }
        let body: Bytes = body.freeze();
        let duration = if body_error.is_some() {
            start.elapsed()
        } else {
            head_time
        };
        let record = ResponseRecord {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            headers,
            body_excerpt: excerpt(&body),
            body_bytes_read: body.len(),
            body_truncated: truncated,
            body,
        };
        Ok((Some(record), body_error, duration))
    }
}

/// Whether an answer says the connection ends after it (`Connection: close`, or
/// HTTP/1.0 without keep-alive).
fn announces_close<B>(response: &hyper::Response<B>) -> bool {
    let tokens = |wanted: &str| {
        response
            .headers()
            .get_all(hyper::header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case(wanted))
    };
    tokens("close") || (response.version() == hyper::Version::HTTP_10 && !tokens("keep-alive"))
}

/// The request as it goes on the wire: the attempt's headers, then the defaults it
/// does not set, `Host` for HTTP/1.1 (HTTP/2 carries the authority in the URI).
fn build_request(
    attempt: &Attempt,
    url: &reqwest::Url,
    http2: bool,
) -> Result<hyper::Request<Full<Bytes>>, TransportError> {
    let target = if http2 {
        url.as_str().to_owned()
    } else {
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    };
    let mut request = hyper::Request::builder()
        .method(attempt.method.clone())
        .uri(target)
        .body(Full::new(attempt.body.clone()))
        .map_err(|err| TransportError {
            class: ErrorClass::Other,
            message: format!("`{}` cannot be requested: {err}", attempt.url),
            certificate_required: false,
        })?;
    let headers = request.headers_mut();
    for (name, value) in &attempt.headers {
        let header_name = hyper::header::HeaderName::from_bytes(name.as_bytes());
        let header_value = hyper::header::HeaderValue::from_str(value);
        match (header_name, header_value) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => {
                return Err(TransportError {
                    class: ErrorClass::Other,
                    message: format!("header `{name}` cannot be sent: invalid name or value"),
                    certificate_required: false,
                });
            }
        }
    }
    for (name, value) in DEFAULT_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name, hyper::header::HeaderValue::from_static(value));
        }
    }
    if !http2 && !headers.contains_key(hyper::header::HOST) {
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        if let Ok(value) = hyper::header::HeaderValue::from_str(&host) {
            headers.insert(hyper::header::HOST, value);
        }
    }
    Ok(request)
}

fn timed_out(limit: Duration, what: &str) -> TransportError {
    TransportError {
        class: ErrorClass::Timeout,
        message: format!("{what} within {}", humantime::format_duration(limit)),
        certificate_required: false,
    }
}

fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use crate::delivery::client::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-shot raw HTTP peer on 127.0.0.1 that reads the request head, then
    /// behaves as `answer` says. Returns its URL.
    async fn raw_peer<F, Fut>(answer: F) -> String
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            if let Ok((mut stream, _)) = listener.accept().await {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                answer(stream).await;
            }
        });
        format!("http://{addr}/hook")
    }

    fn client(timeout: Duration) -> Client {
        Client::new(&ClientOptions {
            timeout,
            ..ClientOptions::default()
        })
        .unwrap()
    }

    fn attempt(url: &str) -> Attempt {
        Attempt::post(
            url,
            vec![("Content-Type".into(), "application/json".into())],
            Bytes::from_static(b"{\"hello\":\"world\"}"),
        )
    }

    #[tokio::test]
    async fn large_body_is_capped_at_64_kib_with_a_1_kib_excerpt() {
        let url = raw_peer(|mut stream| async move {
            let body = vec![b'a'; 200 * 1024];
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Api-Key: hidden\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
        })
        .await;
        let exchange = client(Duration::from_secs(5)).send(&attempt(&url)).await;
        assert!(exchange.error.is_none(), "{:?}", exchange.error);
        let response = exchange.response.unwrap();
        assert_eq!(response.status_line(), "200 OK");
        assert_eq!(response.body_bytes_read, 64 * 1024);
        assert_eq!(response.body.len(), 64 * 1024);
        assert!(response.body_truncated);
        assert_eq!(response.body_excerpt, "a".repeat(1024));
        assert!(
            response
                .headers
                .contains(&("x-api-key".to_owned(), "***redacted***".to_owned()))
        );
        assert_eq!(exchange.request.body_excerpt, "{\"hello\":\"world\"}");
        assert!(exchange.started_at_ms > 1_600_000_000_000);
    }

    #[tokio::test]
    async fn small_body_is_read_whole_and_not_truncated() {
        let url = raw_peer(|mut stream| async move {
            let _ = stream
                .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 7\r\n\r\nqueued\x07")
                .await;
        })
        .await;
        let exchange = client(Duration::from_secs(5)).send(&attempt(&url)).await;
        assert_eq!(exchange.outcome_text(), "202 Accepted");
        let response = exchange.response.unwrap();
        assert!(!response.body_truncated);
        assert_eq!(response.body_excerpt, "queued\\u{7}");
    }

    #[tokio::test]
    async fn reset_connection_is_class_reset() {
        let url = raw_peer(|stream| async move {
            let _ = stream.set_zero_linger();
            drop(stream);
        })
        .await;
        let exchange = client(Duration::from_secs(5)).send(&attempt(&url)).await;
        assert!(exchange.response.is_none());
        let error = exchange.error.unwrap();
        assert_eq!(error.class, ErrorClass::Reset, "{}", error.message);
        assert!(
            error.message.contains("reset by peer") || error.message.contains("closed"),
            "{}",
            error.message
        );
    }

    #[tokio::test]
    async fn silent_peer_times_out_within_the_timeout() {
        // The peer never answers and never closes: only the client's own timeout can
        // end the exchange. The outer bound is a hang guard, not a latency figure.
        let url = raw_peer(|stream| async move {
            std::future::pending::<()>().await;
            drop(stream);
        })
        .await;
        let exchange = tokio::time::timeout(
            Duration::from_secs(30),
            client(Duration::from_millis(500)).send(&attempt(&url)),
        )
        .await
        .expect("the client's timeout ends the exchange");
        assert!(exchange.duration >= Duration::from_millis(450));
        let error = exchange.error.unwrap();
        assert_eq!(error.class, ErrorClass::Timeout);
        assert_eq!(error.message, "no answer within 500ms");
    }

    #[tokio::test]
    async fn garbage_answer_is_a_protocol_error() {
        let url = raw_peer(|mut stream| async move {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").await;
        })
        .await;
        let exchange = client(Duration::from_secs(5)).send(&attempt(&url)).await;
        let error = exchange.error.unwrap();
        assert_eq!(error.class, ErrorClass::Protocol, "{}", error.message);
    }

    #[tokio::test]
    async fn refused_connection_is_class_connect() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let exchange = client(Duration::from_secs(5))
            .send(&attempt(&format!("http://{addr}/")))
            .await;
        let error = exchange.error.unwrap();
        assert_eq!(error.class, ErrorClass::Connect);
        assert_eq!(error.message, "connection refused");
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let url = raw_peer(|mut stream| async move {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:9/\r\nContent-Length: 0\r\n\r\n",
                )
                .await;
        })
        .await;
        let exchange = client(Duration::from_secs(5)).send(&attempt(&url)).await;
        assert_eq!(exchange.status(), Some(301));
        assert!(exchange.error.is_none());
    }

    /// A CA and a leaf for `names` (DNS names or IP addresses), both PEM.
    fn test_pki(names: &[&str]) -> (String, rustls::ServerConfig) {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "spotcheck test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let mut leaf_params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
            )
            .unwrap();
        (ca_cert.pem(), config)
    }

    /// An HTTPS peer on 127.0.0.1 answering `200 OK` to one request per connection.
    async fn tls_peer(config: rustls::ServerConfig) -> String {
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        format!("https://{addr}/hook")
    }

    #[tokio::test]
    async fn tls_private_ca_is_trusted_and_failures_name_the_cause() {
        crate::init_crypto();
        let (ca_pem, config) = test_pki(&["127.0.0.1"]);
        let url = tls_peer(config).await;
        let with_ca = Client::new(&ClientOptions {
            timeout: Duration::from_secs(5),
            ca_cert_pem: Some(ca_pem.clone().into_bytes()),
            connect_timeout: None,
            client_identity: None,
            routes: crate::route::Routes::direct(),
        })
        .unwrap();
        let exchange = with_ca.send(&attempt(&url)).await;
        assert_eq!(exchange.outcome_text(), "200 OK", "{:?}", exchange.error);

        let without_ca = client(Duration::from_secs(5)).send(&attempt(&url)).await;
        let error = without_ca.error.unwrap();
        assert_eq!(error.class, ErrorClass::Tls);
        assert!(error.message.contains("UnknownIssuer"), "{}", error.message);

        let (ca_pem, config) = test_pki(&["partner.example"]);
        let url = tls_peer(config).await;
        let wrong_name = Client::new(&ClientOptions {
            timeout: Duration::from_secs(5),
            ca_cert_pem: Some(ca_pem.into_bytes()),
            connect_timeout: None,
            client_identity: None,
            routes: crate::route::Routes::direct(),
        })
        .unwrap()
        .send(&attempt(&url))
        .await;
        let error = wrong_name.error.unwrap();
        assert_eq!(error.class, ErrorClass::Tls);
        assert!(
            error.message.contains("certificate not valid for name"),
            "{}",
            error.message
        );
    }

    #[test]
    fn bad_ca_pem_is_refused_by_the_one_trust_loader() {
        let err = Client::new(&ClientOptions {
            ca_cert_pem: Some(b"not a certificate".to_vec()),
            ..ClientOptions::default()
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                ClientConfigError::Trust(crate::tls::TrustError::Invalid {
                    problem: crate::tls::PemProblem::NoCertificate,
                    ..
                })
            ),
            "{err}"
        );
    }
}
