//! TLS 1.0 and 1.1 probes with the project's own ClientHello (see `hello`).
//!
//! rustls cannot speak these versions, and linking a system TLS library only to ask
//! would tie the binary to that library. Whether a server accepts a version is decided
//! by its first flight, as testssl.sh and sslyze decide it: the probe offers one version
//! (no `supported_versions` extension, so the hello's version is the highest offered)
//! and every suite of the cipher-scan table, and the version is accepted when the
//! server answers with a ServerHello at that version, picking an offered suite, and goes
//! on to ServerHelloDone rather than an alert. No key exchange follows: the verdict
//! needs none, and the certificate is judged over TLS 1.2/1.3. A server asking for a
//! client certificate (a CertificateRequest in the flight) still accepted the version,
//! so no client certificate is needed here.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::address::Address;
use super::hello::{self, Flight, Reply};
use super::modern::{closed, not_tls, silent};
use super::report::{Outcome, VersionResult};
use super::suites::{self, SUITES};
use super::version::TlsVersion;
use super::wire;

/// The most bytes read before the first flight is complete (a long certificate chain
/// fits many times over).
const READ_LIMIT: usize = 64 * 1024;

/// Suites offered first, in the order OpenSSL's `ALL` list puts the ones TLS 1.0 and 1.1
/// servers use (ECDHE, then DHE, then RSA; AES-256 before AES-128), so that a server
/// following the client's preference picks what an OpenSSL client would get. The rest
/// of the cipher-scan table follows, so a server with only rare suites is still seen.
const PREFERRED: [u16; 10] = [
    0xC00A, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    0xC014, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
    0x0039, // TLS_DHE_RSA_WITH_AES_256_CBC_SHA
    0xC009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xC013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0x0033, // TLS_DHE_RSA_WITH_AES_128_CBC_SHA
    0x0035, // TLS_RSA_WITH_AES_256_CBC_SHA
    0x002F, // TLS_RSA_WITH_AES_128_CBC_SHA
    0xC012, // TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
    0x000A, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
];

/// The suites offered: [`PREFERRED`], then the rest of the table in its order.
fn offer() -> Vec<u16> {
    let rest = SUITES
        .iter()
        .map(|suite| suite.id)
        .filter(|id| !PREFERRED.contains(id));
    PREFERRED.iter().copied().chain(rest).collect()
}

/// Probes `version` (TLS 1.0 or 1.1). Never errors: every failure is in the result.
pub(super) async fn probe(
    target: &Address,
    routes: &crate::route::Routes,
    version: TlsVersion,
    timeout: Duration,
) -> VersionResult {
    let started = Instant::now();
    let wire_version = match version {
        TlsVersion::Tls10 | TlsVersion::Tls11 => hello::wire_version(version),
        _ => None,
    };
    let Some(wire_version) = wire_version else {
        return VersionResult::new(version, Outcome::Error, "not a legacy version");
    };
    let mut tcp = match wire::connect(routes, &target.host, target.port, timeout).await {
        Ok(tcp) => tcp,
        Err(detail) => {
            let detail = format!(
                "could not connect to {}:{}: {detail}",
                target.host, target.port
            );
            return VersionResult::new(version, Outcome::Unreachable, detail);
        }
    };
    let sni = (!target.host_is_ip).then_some(target.host.as_str());
    let offer = offer();
    let client_hello = hello::client_hello(wire_version, &offer, sni, rand::random());
    let remaining = timeout.saturating_sub(started.elapsed());
    let mut received = Vec::new();
    let exchange = first_flight(&mut tcp, &client_hello, &mut received);
    let end = match tokio::time::timeout(remaining, exchange).await {
        Ok(end) => end,
        Err(_) => return silent(version, timeout, &received),
    };
    judge(version, wire_version, &offer, end, &received)
}

/// How the exchange of one ClientHello ended.
enum End {
    /// The server's answer says enough (see [`judge`]).
    Answered,
    /// The server closed the connection (`reset`: with a reset) first.
    Closed { reset: bool },
    /// The server sent more than [`READ_LIMIT`] bytes without finishing its first flight.
    TooLong,
    /// Another socket error.
    Failed(std::io::Error),
}

/// Sends `client_hello` and reads into `received` until the answer says enough: an
/// alert, bytes that are not TLS, a ServerHello at another version, or the whole flight.
async fn first_flight(tcp: &mut TcpStream, client_hello: &[u8], received: &mut Vec<u8>) -> End {
    if let Err(err) = tcp.write_all(client_hello).await {
        return io_end(err);
    }
    let mut chunk = [0u8; 4096];
    loop {
        let n = match tcp.read(&mut chunk).await {
            Ok(0) => return End::Closed { reset: false },
            Ok(n) => n,
            Err(err) => return io_end(err),
        };
        received.extend_from_slice(&chunk[..n]);
        let enough = match hello::read_reply(received) {
            Reply::NeedMore => false,
            Reply::ServerHello { .. } => hello::read_flight(received) != Flight::NeedMore,
            Reply::Alert(_) | Reply::NotTls(_) | Reply::Malformed(_) => true,
        };
        if enough {
            return End::Answered;
        }
        if received.len() > READ_LIMIT {
            return End::TooLong;
        }
    }
}

fn io_end(err: std::io::Error) -> End {
    match err.kind() {
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
            End::Closed { reset: true }
        }
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::BrokenPipe => {
            End::Closed { reset: false }
        }
        _ => End::Failed(err),
    }
}

/// The verdict from what the server sent (`received`) and how the exchange ended.
fn judge(
    version: TlsVersion,
    wire_version: u16,
    offer: &[u16],
    end: End,
    received: &[u8],
) -> VersionResult {
    match hello::read_reply(received) {
        Reply::Alert(description) => return VersionResult::alert(version, description),
        Reply::NotTls(excerpt) => return not_tls(version, &excerpt),
        Reply::Malformed(what) => return malformed(version, &what),
        Reply::ServerHello {
            version: answered,
            suite,
        } => {
            if answered != wire_version {
                return VersionResult::new(
                    version,
                    Outcome::Refused,
                    format!(
                        "the server answered with {} instead",
                        hello::version_name(answered)
                    ),
                );
            }
            if !offer.contains(&suite) {
                return VersionResult::new(
                    version,
                    Outcome::Refused,
                    format!(
                        "the server answered but would not complete a {version} handshake: it picked suite 0x{suite:04X}, which was not offered"
                    ),
                );
            }
            match hello::read_flight(received) {
                Flight::Done => return accepted(version, suite),
                Flight::Alert(description) => return VersionResult::alert(version, description),
                Flight::Malformed(what) => return malformed(version, &what),
                Flight::NeedMore => {}
            }
        }
        Reply::NeedMore => {}
    }
    match end {
        End::Closed { reset } => closed(version, reset, received),
        End::TooLong => malformed(
            version,
            &format!(
                "{} bytes without finishing its first flight",
                received.len()
            ),
        ),
        End::Failed(err) => VersionResult::new(
            version,
            Outcome::Error,
            format!("the handshake failed: {}", wire::describe_io(&err)),
        ),
        // An answer that said enough was judged above.
        End::Answered => malformed(version, "an answer that could not be read"),
    }
}

fn accepted(version: TlsVersion, suite: u16) -> VersionResult {
    let name = suites::lookup(suite)
        .map(|known| known.name.to_owned())
        .unwrap_or_else(|| format!("0x{suite:04X}"));
    let mut result = VersionResult::new(version, Outcome::Accepted, name.clone());
    result.cipher = Some(name);
    result
}

fn malformed(version: TlsVersion, what: &str) -> VersionResult {
    VersionResult::new(
        version,
        Outcome::Error,
        format!("the server's answer is not valid TLS: it sent {what}"),
    )
}
