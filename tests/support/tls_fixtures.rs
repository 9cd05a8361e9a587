//! Test PKI (rcgen) and loopback TLS servers for the TLS probe tests: rustls servers
//! limited to chosen versions, `openssl s_server` for legacy versions, and servers that
//! do not answer TLS at all. Everything listens on 127.0.0.1 and stops on drop.

/// The `openssl` command is an external tool: `tools` decides whether a test without
/// it fails (CI) or skips visibly.
use super::tools;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, SupportedProtocolVersion};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The key algorithm of a test certificate.
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    /// ECDSA P-256 with SHA-256.
    Ecdsa,
    /// RSA 2048 with SHA-256.
    Rsa,
}

fn key_pair(kind: KeyKind) -> KeyPair {
    match kind {
        KeyKind::Ecdsa => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
        KeyKind::Rsa => KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap(),
    }
}

fn days(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::days(n)
}

/// A test certificate authority.
pub struct TestCa {
    /// Its certificate, PEM.
    pub pem: String,
    /// Its certificate, DER.
    pub der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = days(-365);
        params.not_after = days(3650);
        let key = key_pair(KeyKind::Ecdsa);
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// Writes the CA certificate to `dir/name` and returns its path.
    pub fn write_pem(&self, dir: &std::path::Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.pem).unwrap();
        path
    }
}

/// A server certificate and its key.
pub struct Leaf {
    /// The chain the server presents (leaf first).
    pub chain: Vec<CertificateDer<'static>>,
    /// The chain, PEM (leaf first).
    pub chain_pem: String,
    /// The private key (PKCS#8).
    pub key_der: Vec<u8>,
    /// The private key, PEM.
    pub key_pem: String,
}

/// What a leaf certificate looks like.
pub struct LeafSpec<'a> {
    /// DNS names and IP addresses in the SAN.
    pub names: &'a [&'a str],
    /// Key algorithm.
    pub key: KeyKind,
    /// Start of validity, in days from now.
    pub not_before_days: i64,
    /// End of validity, in days from now.
    pub not_after_days: i64,
    /// Seconds added to `not_after_days` (negative to end earlier): puts the end of
    /// validity an hour either side of a whole number of days.
    pub not_after_seconds: i64,
}

impl Default for LeafSpec<'_> {
    fn default() -> Self {
        LeafSpec {
            names: &["localhost", "127.0.0.1"],
            key: KeyKind::Ecdsa,
            not_before_days: -1,
            not_after_days: 365,
            not_after_seconds: 0,
        }
    }
}

fn leaf_params(spec: &LeafSpec<'_>) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = spec
        .names
        .iter()
        .map(|name| match name.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*name).try_into().unwrap()),
        })
        .collect();
    params
        .distinguished_name
        .push(DnType::CommonName, spec.names[0]);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = days(spec.not_before_days);
    params.not_after = days(spec.not_after_days) + time::Duration::seconds(spec.not_after_seconds);
    params
}

impl Leaf {
    /// A leaf signed by `ca` (the chain holds the leaf and the CA).
    pub fn signed(ca: &TestCa, spec: LeafSpec<'_>) -> Leaf {
        let key = key_pair(spec.key);
        let cert = leaf_params(&spec).signed_by(&key, &ca.issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone(), ca.der.clone()],
            chain_pem: format!("{}{}", cert.pem(), ca.pem),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A self-signed leaf (not a CA).
    pub fn self_signed(spec: LeafSpec<'_>) -> Leaf {
        let mut params = leaf_params(&spec);
        params.use_authority_key_identifier_extension = false;
        let key = key_pair(spec.key);
        let cert = params.self_signed(&key).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            chain_pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        }
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// A task serving on a loopback listener; aborted on drop.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// `https://127.0.0.1:PORT/webhooks`.
    pub fn https_url(&self) -> String {
        format!("https://{}/webhooks", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// TLS 1.2 only.
pub const TLS12_ONLY: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];
/// TLS 1.3 only.
pub const TLS13_ONLY: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];
/// TLS 1.2 and 1.3.
pub const TLS12_AND_13: &[&SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A rustls server configuration presenting `leaf`, speaking only `versions`.
fn rustls_config(leaf: &Leaf, versions: &[&'static SupportedProtocolVersion]) -> ServerConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key())
        .unwrap()
}

/// A TLS acceptor presenting `leaf`, speaking only `versions`, no client certificate.
fn acceptor(
    leaf: &Leaf,
    versions: &[&'static SupportedProtocolVersion],
) -> tokio_rustls::TlsAcceptor {
    tokio_rustls::TlsAcceptor::from(Arc::new(rustls_config(leaf, versions)))
}

/// A rustls server presenting `leaf`, speaking only `versions`. Each connection is
/// handshaken and then closed.
pub async fn rustls_server(leaf: &Leaf, versions: &[&'static SupportedProtocolVersion]) -> Server {
    let acceptor = acceptor(leaf, versions);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await;
            });
        }
    });
    Server { addr, task }
}

/// An HTTPS endpoint (rustls, TLS 1.2 and 1.3, HTTP/1.1 with keep-alive, hyper) that
/// reads each request in full and answers `status` with an empty body at once,
/// whatever the request: a framework default of `202 Accepted`, or a gateway that
/// answers `401` to everything.
pub async fn status_server(leaf: &Leaf, status: u16) -> Server {
    let mut config = rustls_config(leaf, TLS12_AND_13);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await
                else {
                    return;
                };
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| async move {
                        use http_body_util::BodyExt;
                        let _ = request.into_body().collect().await;
                        hyper::Response::builder()
                            .status(status)
                            .body(http_body_util::Empty::<bytes::Bytes>::new())
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Server { addr, task }
}

/// A server that accepts TCP connections and never sends a byte.
pub async fn silent_server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    Server { addr, task }
}

/// A server that closes every connection as soon as it is accepted.
pub async fn closing_server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            drop(tcp);
        }
    });
    Server { addr, task }
}

/// A plain HTTP server: reads what comes and answers `400 Bad Request`.
pub async fn plain_http_server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buf)).await;
                let _ = tcp
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Server { addr, task }
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `openssl s_server` on 127.0.0.1 presenting `leaf`, with extra arguments; killed on drop.
pub struct OpensslServer {
    /// Where it listens.
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl OpensslServer {
    /// Starts s_server and waits until it accepts connections. `None` when `openssl`
    /// is not installed and the test may skip (see [`tools::require_tool`]).
    pub async fn start(leaf: &Leaf, args: &[&str]) -> Option<OpensslServer> {
        if !tools::require_tool(tools::Tool::Openssl) {
            return None;
        }
        Some(OpensslServer::launch(leaf, args))
    }

    /// Spawns s_server and waits (at most 10 s) until its port takes connections.
    fn launch(leaf: &Leaf, args: &[&str]) -> OpensslServer {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, &leaf.chain_pem).unwrap();
        std::fs::write(&key, &leaf.key_pem).unwrap();
        let port = closed_port();
        let child = Command::new("openssl")
            .arg("s_server")
            .arg("-accept")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .arg("-www")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = OpensslServer {
            port,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("openssl s_server exited at start: {status}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "openssl s_server did not listen within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `https://127.0.0.1:PORT/`.
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A protocol version bound for [`OpensslCrateServer`], named as in OpenSSL's API.
#[derive(Debug, Clone, Copy)]
pub struct SslVersion(&'static str);

impl SslVersion {
    /// TLS 1.0.
    pub const TLS1: SslVersion = SslVersion("TLSv1");
    /// TLS 1.1.
    pub const TLS1_1: SslVersion = SslVersion("TLSv1.1");
    /// TLS 1.2.
    pub const TLS1_2: SslVersion = SslVersion("TLSv1.2");
    /// TLS 1.3.
    pub const TLS1_3: SslVersion = SslVersion("TLSv1.3");
}

/// An OpenSSL server (`openssl s_server`) at security level 0: presents `leaf`, speaks
/// `min..=max`, accepts the suites of `cipher_list` (OpenSSL syntax), so NULL, anonymous
/// and legacy suites can be served. The tests need the `openssl` command (as
/// [`OpensslServer`] does; it panics saying so when it is missing, as these tests have
/// no other server for such suites). Stops on drop.
pub struct OpensslCrateServer {
    /// Where it listens.
    pub addr: SocketAddr,
    _server: OpensslServer,
}

impl OpensslCrateServer {
    /// Starts the server and waits until it takes connections.
    pub fn start(
        leaf: &Leaf,
        min: SslVersion,
        max: SslVersion,
        cipher_list: &str,
    ) -> OpensslCrateServer {
        // Its callers need a server, so a missing `openssl` cannot be skipped here:
        // under CI `require_tool` fails naming it; elsewhere it says so, then this panics.
        assert!(
            tools::require_tool(tools::Tool::Openssl),
            "this test needs the `openssl` command on PATH (.ci/run installs it)"
        );
        let cipher_list = if cipher_list.contains("@SECLEVEL") {
            cipher_list.to_owned()
        } else {
            format!("{cipher_list}:@SECLEVEL=0")
        };
        let server = OpensslServer::launch(
            leaf,
            &[
                "-min_protocol",
                min.0,
                "-max_protocol",
                max.0,
                "-cipher",
                &cipher_list,
            ],
        );
        OpensslCrateServer {
            addr: SocketAddr::from(([127, 0, 0, 1], server.port)),
            _server: server,
        }
    }

    /// `https://127.0.0.1:PORT/webhooks`.
    pub fn https_url(&self) -> String {
        format!("https://{}/webhooks", self.addr)
    }
}

/// A ServerHello record at `version` picking `suite` (what a server sends first).
pub fn server_hello_record(version: u16, suite: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[7; 32]);
    body.push(0);
    body.extend_from_slice(&suite.to_be_bytes());
    body.push(0);
    let mut record = vec![0x16, 0x03, 0x03];
    record.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    record.push(2);
    record.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    record.extend_from_slice(&body);
    record
}

/// Reads one ClientHello record; returns its version and offered suites (`None` when
/// what came is not one).
async fn read_client_hello(tcp: &mut tokio::net::TcpStream) -> Option<(u16, Vec<u16>)> {
    let mut header = [0u8; 5];
    tcp.read_exact(&mut header).await.ok()?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut record = vec![0u8; len];
    tcp.read_exact(&mut record).await.ok()?;
    let version = u16::from_be_bytes([*record.get(4)?, *record.get(5)?]);
    let session = usize::from(*record.get(38)?);
    let at = 39 + session;
    let suites_len = usize::from(u16::from_be_bytes([*record.get(at)?, *record.get(at + 1)?]));
    let suites = record
        .get(at + 2..at + 2 + suites_len)?
        .chunks(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect();
    Some((version, suites))
}

/// A fake TLS server that answers a ClientHello only up to its ServerHello: it speaks the
/// highest of `versions` (wire form, e.g. `0x0303`) the client offers and picks the first
/// suite of `suites` the client offers (an alert 40 when none, 70 when no version fits),
/// then closes. It can claim suites no real library serves any more (RC4, EXPORT, …).
pub async fn fake_suite_server(versions: &'static [u16], suites: &'static [u16]) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(Some((client, offered))) =
                    tokio::time::timeout(Duration::from_secs(5), read_client_hello(&mut tcp)).await
                else {
                    return;
                };
                let answer = match versions.iter().filter(|&&v| v <= client).max() {
                    None => vec![0x15, 3, 3, 0, 2, 2, 70],
                    Some(&version) => match suites.iter().find(|s| offered.contains(s)) {
                        Some(&suite) => server_hello_record(version, suite),
                        None => vec![0x15, 3, 3, 0, 2, 2, 40],
                    },
                };
                let _ = tcp.write_all(&answer).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            });
        }
    });
    Server { addr, task }
}

/// A server that answers a ClientHello offering `suite` with a TLS 1.2 ServerHello
/// picking it, and any other ClientHello (the cipher scan's next round) with `then`
/// (garbage, an oversized record header, …), holding the connection open.
pub async fn hostile_after_pick(suite: u16, then: &'static [u8]) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(Some((_, offered))) =
                    tokio::time::timeout(Duration::from_secs(5), read_client_hello(&mut tcp)).await
                else {
                    return;
                };
                let answer = if offered.contains(&suite) {
                    server_hello_record(0x0303, suite)
                } else {
                    then.to_vec()
                };
                let _ = tcp.write_all(&answer).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    Server { addr, task }
}

impl Leaf {
    /// A client certificate (extended key usage clientAuth) for `name`, signed by `ca`.
    pub fn client_signed(ca: &TestCa, name: &str) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = days(-1);
        params.not_after = days(365);
        let key = key_pair(KeyKind::Ecdsa);
        let cert = params.signed_by(&key, &ca.issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone(), ca.der.clone()],
            chain_pem: format!("{}{}", cert.pem(), ca.pem),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A mutual-TLS HTTPS server: presents `leaf`, demands a client certificate issued by
/// `client_ca` (rustls `WebPkiClientVerifier`), and answers every request `200 OK`.
/// `requests` counts the requests answered.
pub async fn mtls_server(
    leaf: &Leaf,
    client_ca: &TestCa,
) -> (Server, Arc<std::sync::atomic::AtomicUsize>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(client_ca.der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(TLS12_AND_13)
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(leaf.chain.clone(), leaf.key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = requests.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(10), async move {
                    let mut tls = acceptor.accept(tcp).await.ok()?;
                    // Read one request: headers, then Content-Length bytes of body.
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    let header_end = loop {
                        let n = tls.read(&mut chunk).await.ok()?;
                        if n == 0 {
                            return None;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < header_end + length {
                        let n = tls.read(&mut chunk).await.ok()?;
                        if n == 0 {
                            return None;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tls.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await
                    .ok()?;
                    tls.shutdown().await.ok()
                })
                .await;
            });
        }
    });
    (Server { addr, task }, requests)
}

/// What an [`https_partner`] is asked: the request's headers (lowercase names) and body.
pub struct PartnerRequest {
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
}

impl PartnerRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request carries a valid Spotnana signature for `verifier`'s secrets,
    /// checked now as a partner's endpoint would.
    pub fn signed_for(&self, verifier: &spotcheck::signing::Verifier) -> bool {
        verifier
            .verify(
                self.header("x-spotnana-webhook-id"),
                self.header("x-spotnana-webhook-timestamp"),
                self.header("x-spotnana-webhook-signature"),
                &self.body,
                spotcheck::signing::unix_now(),
            )
            .is_ok()
    }
}

/// An HTTPS partner endpoint (HTTP/1.1 over rustls, TLS 1.2 and 1.3, presenting
/// `leaf`) whose every answer is the status `answer` gives for the request, with an
/// empty body: the shape of a partner whose parsing logic a test writes as a closure.
pub async fn https_partner(
    leaf: &Leaf,
    answer: impl Fn(&PartnerRequest) -> u16 + Send + Sync + 'static,
) -> Server {
    use http_body_util::BodyExt;
    let acceptor = acceptor(leaf, TLS12_AND_13);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = Arc::new(answer);
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await
                else {
                    return;
                };
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let answer = Arc::clone(&answer);
                        async move {
                            let headers = request
                                .headers()
                                .iter()
                                .map(|(n, v)| {
                                    (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                                })
                                .collect();
                            let body = request.into_body().collect().await?.to_bytes().to_vec();
                            let status = answer(&PartnerRequest { headers, body });
                            let response = hyper::Response::builder()
                                .status(status)
                                .body(http_body_util::Full::new(bytes::Bytes::new()))
                                .expect("a status from 100 to 599");
                            Ok::<_, hyper::Error>(response)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Server { addr, task }
}
