//! TLS 1.0 and 1.1 handshakes through the system OpenSSL.
//!
//! rustls cannot speak these versions. The probe offers what old servers accept: one
//! version per connection (min = max), OpenSSL security level 0 with `ALL:@SECLEVEL=0`
//! (RSA and ECDSA certificates, ECDHE and RSA key exchange, CBC and GCM suites, SHA-1
//! signatures). Without level 0 OpenSSL 3 refuses these versions itself and every server
//! would look like it refused. The certificate is not verified here (the certificate
//! checks use the TLS 1.2/1.3 handshakes).

use std::io;
use std::net::Shutdown;
use std::time::{Duration, Instant};

use openssl::error::ErrorStack;
use openssl::ssl::{
    ErrorCode, HandshakeError, Ssl, SslContext, SslMethod, SslVerifyMode, SslVersion,
};

use super::identity::ClientIdentity;
use super::modern::{closed, not_tls, silent};
use super::wire::{self, FirstBytes, Received, Recording};
use super::{Outcome, Target, TlsVersion, VersionResult};

/// OpenSSL reports a received alert as reason `1000 + description`.
const ALERT_REASON_OFFSET: i32 = 1000;

/// Handshakes at `version` (TLS 1.0 or 1.1).
pub(super) async fn probe(
    target: &Target,
    version: TlsVersion,
    identity: Option<&ClientIdentity>,
    timeout: Duration,
) -> VersionResult {
    let started = Instant::now();
    // Certificates then key, as PEM (never printed).
    let identity_pem = identity.map(ClientIdentity::normalized_pem);
    let ssl_version = match version {
        TlsVersion::Tls10 => SslVersion::TLS1,
        TlsVersion::Tls11 => SslVersion::TLS1_1,
        _ => return VersionResult::new(version, Outcome::Error, "not a legacy version"),
    };
    let tcp = match wire::connect(&target.host, target.port, timeout).await {
        Ok(tcp) => tcp,
        Err(detail) => {
            let detail = format!(
                "could not connect to {}:{}: {detail}",
                target.host, target.port
            );
            return VersionResult::new(version, Outcome::Unreachable, detail);
        }
    };
    let remaining = timeout
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    let std_stream = match blocking_stream(tcp, remaining) {
        Ok(stream) => stream,
        Err(err) => {
            let detail = format!("cannot prepare the socket: {err}");
            return VersionResult::new(version, Outcome::Error, detail);
        }
    };
    // A handle to cut the connection if the handshake outlives the deadline (a server
    // that dribbles bytes can keep each read under the socket timeout).
    let killer = std_stream.try_clone().ok();
    let received = Received::default();
    let recording = Recording::new(std_stream, received.clone());
    let sni = (!target.host_is_ip).then(|| target.host.clone());
    let task = tokio::task::spawn_blocking(move || {
        handshake(
            recording,
            ssl_version,
            sni.as_deref(),
            identity_pem.as_deref(),
        )
    });
    let result = match tokio::time::timeout(remaining, task).await {
        Ok(Ok(Ok(accepted))) => accepted.into_result(version),
        Ok(Ok(Err(Failure::Setup(err)))) => VersionResult::new(
            version,
            Outcome::Error,
            format!("cannot configure OpenSSL for {version}: {err}"),
        ),
        Ok(Ok(Err(Failure::Handshake { code, io, stack }))) => {
            classify(version, code, io, &stack, &received.snapshot(), timeout)
        }
        Ok(Err(join)) => VersionResult::new(
            version,
            Outcome::Error,
            format!("the {version} probe stopped unexpectedly: {join}"),
        ),
        Err(_) => silent(version, timeout, &received.snapshot()),
    };
    if let Some(killer) = killer {
        let _ = killer.shutdown(Shutdown::Both);
    }
    result
}

fn blocking_stream(
    tcp: tokio::net::TcpStream,
    timeout: Duration,
) -> io::Result<std::net::TcpStream> {
    let stream = tcp.into_std()?;
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// A completed legacy handshake.
struct Accepted {
    protocol: String,
    cipher: Option<String>,
}

impl Accepted {
    fn into_result(self, version: TlsVersion) -> VersionResult {
        let expected = match version {
            TlsVersion::Tls10 => "TLSv1",
            _ => "TLSv1.1",
        };
        if self.protocol != expected {
            // Cannot happen with min = max, but never report a version that was not spoken.
            return VersionResult::new(
                version,
                Outcome::Refused,
                format!("the server negotiated {} instead", self.protocol),
            );
        }
        let mut result = VersionResult::new(version, Outcome::Accepted, "handshake completed");
        result.cipher = self.cipher;
        if let Some(cipher) = &result.cipher {
            result.detail = cipher.clone();
        }
        result
    }
}

/// Why a legacy handshake did not complete.
enum Failure {
    /// OpenSSL could not be set up (a local problem).
    Setup(ErrorStack),
    /// The handshake started and failed.
    Handshake {
        code: ErrorCode,
        io: Option<io::ErrorKind>,
        stack: Vec<(i32, String)>,
    },
}

fn handshake(
    stream: Recording<std::net::TcpStream>,
    version: SslVersion,
    sni: Option<&str>,
    identity_pem: Option<&[u8]>,
) -> Result<Accepted, Failure> {
    let ssl = configure(version, sni, identity_pem).map_err(Failure::Setup)?;
    match ssl.connect(stream) {
        Ok(tls) => {
            let ssl = tls.ssl();
            Ok(Accepted {
                protocol: ssl.version_str().to_owned(),
                cipher: ssl
                    .current_cipher()
                    .map(|c| c.standard_name().unwrap_or(c.name()).to_owned()),
            })
        }
        Err(HandshakeError::SetupFailure(err)) => Err(Failure::Setup(err)),
        Err(HandshakeError::Failure(mid)) | Err(HandshakeError::WouldBlock(mid)) => {
            let err = mid.error();
            let stack = err
                .ssl_error()
                .map(|stack| {
                    stack
                        .errors()
                        .iter()
                        .map(|e| (e.reason_code(), e.reason().unwrap_or("unknown").to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            Err(Failure::Handshake {
                code: err.code(),
                io: err.io_error().map(|e| e.kind()),
                stack,
            })
        }
    }
}

fn configure(
    version: SslVersion,
    sni: Option<&str>,
    identity_pem: Option<&[u8]>,
) -> Result<Ssl, ErrorStack> {
    let mut builder = SslContext::builder(SslMethod::tls_client())?;
    if let Some(pem) = identity_pem {
        let mut chain = openssl::x509::X509::stack_from_pem(pem)?.into_iter();
        if let Some(leaf) = chain.next() {
            builder.set_certificate(&leaf)?;
        }
        for extra in chain {
            builder.add_extra_chain_cert(extra)?;
        }
        let key = openssl::pkey::PKey::private_key_from_pem(pem)?;
        builder.set_private_key(&key)?;
    }
    builder.set_min_proto_version(Some(version))?;
    builder.set_max_proto_version(Some(version))?;
    builder.set_security_level(0);
    builder.set_cipher_list("ALL:@SECLEVEL=0")?;
    builder.set_verify(SslVerifyMode::NONE);
    let context = builder.build();
    let mut ssl = Ssl::new(&context)?;
    if let Some(name) = sni {
        ssl.set_hostname(name)?;
    }
    Ok(ssl)
}

fn classify(
    version: TlsVersion,
    code: ErrorCode,
    io: Option<io::ErrorKind>,
    stack: &[(i32, String)],
    received: &[u8],
    timeout: Duration,
) -> VersionResult {
    match wire::classify(received) {
        FirstBytes::NotTls(excerpt) => return not_tls(version, &excerpt),
        FirstBytes::Alert(description) => return VersionResult::alert(version, description),
        FirstBytes::Nothing | FirstBytes::Tls => {}
    }
    if let Some(description) = stack.iter().find_map(|(reason, _)| {
        (ALERT_REASON_OFFSET..ALERT_REASON_OFFSET + 256)
            .contains(reason)
            .then(|| (reason - ALERT_REASON_OFFSET) as u8)
    }) {
        return VersionResult::alert(version, description);
    }
    match io {
        Some(io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
            return silent(version, timeout, received);
        }
        Some(io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted) => {
            return closed(version, true, received);
        }
        Some(io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe) => {
            return closed(version, false, received);
        }
        _ => {}
    }
    let eof = stack
        .iter()
        .any(|(_, reason)| reason.contains("unexpected eof"));
    if code == ErrorCode::WANT_READ || code == ErrorCode::WANT_WRITE {
        return silent(version, timeout, received);
    }
    if eof || code == ErrorCode::ZERO_RETURN || (code == ErrorCode::SYSCALL && io.is_none()) {
        return closed(version, false, received);
    }
    let reasons: Vec<&str> = stack.iter().map(|(_, reason)| reason.as_str()).collect();
    let reasons = if reasons.is_empty() {
        format!("OpenSSL error code {}", code.as_raw())
    } else {
        reasons.join("; ")
    };
    if received.is_empty() {
        VersionResult::new(
            version,
            Outcome::Error,
            format!("the handshake failed before the server answered: {reasons}"),
        )
    } else {
        // The server answered in TLS but would not complete a handshake at this version
        // (e.g. it replied with a newer ServerHello).
        VersionResult::new(
            version,
            Outcome::Refused,
            format!("the server answered but would not complete a {version} handshake: {reasons}"),
        )
    }
}
