//! The cipher scan: which TLS 1.0–1.2 suites a server accepts, whatever the local TLS
//! libraries can negotiate.
//!
//! Each round opens a connection, sends a hand-built ClientHello (see `hello`) offering
//! every suite of the table not yet seen, reads the answer up to the ServerHello, notes
//! the suite picked and closes. The next round offers the rest, until the server refuses
//! (an alert, a close) or everything was picked. Rounds are bounded by the table size,
//! each connection by the probe timeout, and the whole scan by three timeouts; a server
//! that stays silent, sends garbage or an oversized record ends the scan with that
//! finding, never a hang or a panic.

use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::address::Address;
use super::hello::{self, Reply};
use super::suites::{self, Cipher, KeyExchange, SUITES, Suite};
use super::version::TlsVersion;
use super::wire;

/// The most bytes read from one server before its ServerHello is complete.
const READ_LIMIT: usize = 64 * 1024;

/// One suite the server accepted.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptedSuite {
    /// The IANA id, written `0xC02F` in JSON.
    #[serde(serialize_with = "serialize_id")]
    pub id: u16,
    /// The IANA name.
    pub name: &'static str,
    /// Its key exchange.
    pub key_exchange: KeyExchange,
    /// Its bulk cipher.
    pub cipher: Cipher,
    /// Whether the key exchange is ECDHE or DHE.
    pub forward_secret: bool,
    /// Why it is weak (NULL, EXPORT, RC4, DES, 3DES, anonymous), if it is.
    pub weakness: Option<&'static str>,
    /// Whether Mozilla's intermediate profile allows it at TLS 1.2.
    pub mozilla_intermediate: bool,
}

impl AcceptedSuite {
    fn new(suite: &Suite) -> AcceptedSuite {
        AcceptedSuite {
            id: suite.id,
            name: suite.name,
            key_exchange: suite.key_exchange,
            cipher: suite.cipher,
            forward_secret: suite.key_exchange.is_forward_secret(),
            weakness: suite.weakness(),
            mozilla_intermediate: suite.mozilla_intermediate(),
        }
    }
}

fn serialize_id<S: Serializer>(id: &u16, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("0x{id:04X}"))
}

/// The suites accepted at one version.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteScan {
    /// The version offered (TLS 1.0, 1.1 or 1.2).
    pub version: TlsVersion,
    /// The suites the server picked, in the order it picked them.
    pub accepted: Vec<AcceptedSuite>,
    /// Whether the scan ran to the end (the server refused the rest); `false` when it
    /// stopped on an error, so suites may be missing.
    pub complete: bool,
    /// How the scan ended, in words.
    pub detail: String,
    /// How many connections it made.
    pub rounds: usize,
    /// Its wall time.
    #[serde(rename = "duration_ms", serialize_with = "super::report::serialize_ms")]
    pub duration: Duration,
}

/// How one round ended.
enum Round {
    /// The server picked this suite at this version.
    Picked { version: u16, suite: u16 },
    /// The server refused: an alert, or a close/reset.
    Refused(String),
    /// Something that ends the scan unfinished.
    Stopped(String),
}

/// Scans `version` (TLS 1.0, 1.1 or 1.2). Never errors: every failure is in the result.
pub(super) async fn scan(
    target: &Address,
    routes: &crate::route::Routes,
    version: TlsVersion,
    timeout: Duration,
) -> SuiteScan {
    let started = Instant::now();
    let mut scan = SuiteScan {
        version,
        accepted: Vec::new(),
        complete: false,
        detail: String::new(),
        rounds: 0,
        duration: Duration::ZERO,
    };
    let Some(wire_version) = hello::wire_version(version) else {
        scan.detail = format!("the cipher scan does not speak {version}");
        return scan;
    };
    let deadline = started + timeout * 3;
    let sni = (!target.host_is_ip).then_some(target.host.as_str());
    loop {
        let offer: Vec<u16> = SUITES
            .iter()
            .map(|suite| suite.id)
            .filter(|id| scan.accepted.iter().all(|seen| seen.id != *id))
            .collect();
        if offer.is_empty() {
            scan.complete = true;
            scan.detail = format!(
                "every one of the {} suites offered was accepted",
                SUITES.len()
            );
            break;
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() || scan.rounds > SUITES.len() {
            scan.detail = stopped(
                &scan,
                format!(
                    "the scan did not finish within {}",
                    humantime::format_duration(timeout * 3)
                ),
            );
            break;
        }
        scan.rounds += 1;
        let round = one_round(
            target,
            routes,
            wire_version,
            &offer,
            sni,
            timeout.min(remaining),
        )
        .await;
        match round {
            Round::Picked {
                version: picked,
                suite,
            } if picked == wire_version => {
                match suites::lookup(suite).filter(|_| offer.contains(&suite)) {
                    Some(suite) => scan.accepted.push(AcceptedSuite::new(suite)),
                    None => {
                        scan.detail = stopped(
                            &scan,
                            format!("the server picked suite 0x{suite:04X}, which was not offered"),
                        );
                        break;
                    }
                }
            }
            Round::Picked {
                version: picked, ..
            } if picked < wire_version => {
                scan.complete = true;
                scan.detail = if scan.accepted.is_empty() {
                    format!(
                        "refused: the server answered with {}",
                        hello::version_name(picked)
                    )
                } else {
                    format!(
                        "{}; then the server answered with {}",
                        accepted_count(&scan),
                        hello::version_name(picked)
                    )
                };
                break;
            }
            Round::Picked {
                version: picked, ..
            } => {
                scan.detail = stopped(
                    &scan,
                    format!(
                        "the server answered a {version} ClientHello with {}",
                        hello::version_name(picked)
                    ),
                );
                break;
            }
            Round::Refused(how) => {
                scan.complete = true;
                scan.detail = if scan.accepted.is_empty() {
                    format!("refused: {how}")
                } else {
                    format!("{}; the rest refused ({how})", accepted_count(&scan))
                };
                break;
            }
            Round::Stopped(why) => {
                scan.detail = stopped(&scan, why);
                break;
            }
        }
    }
    scan.duration = started.elapsed();
    scan
}

fn accepted_count(scan: &SuiteScan) -> String {
    match scan.accepted.len() {
        1 => "1 suite accepted".to_owned(),
        n => format!("{n} suites accepted"),
    }
}

fn stopped(scan: &SuiteScan, why: String) -> String {
    if scan.accepted.is_empty() {
        format!("scan incomplete: {why}")
    } else {
        format!("scan incomplete after {}: {why}", accepted_count(scan))
    }
}

/// One connection: ClientHello out, answer read up to the ServerHello, close.
async fn one_round(
    target: &Address,
    routes: &crate::route::Routes,
    version: u16,
    offer: &[u16],
    sni: Option<&str>,
    timeout: Duration,
) -> Round {
    let started = Instant::now();
    let mut tcp = match wire::connect(routes, &target.host, target.port, timeout).await {
        Ok(tcp) => tcp,
        Err(detail) => {
            return Round::Stopped(format!(
                "could not connect to {}:{}: {detail}",
                target.host, target.port
            ));
        }
    };
    let remaining = timeout.saturating_sub(started.elapsed());
    let hello = hello::client_hello(version, offer, sni, rand::random());
    let exchange = async {
        if let Err(err) = tcp.write_all(&hello).await {
            return closed_or_error(&err, &[]);
        }
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = match tcp.read(&mut chunk).await {
                Ok(0) => {
                    return match hello::read_reply(&received) {
                        Reply::NeedMore if received.is_empty() => {
                            Round::Refused("the server closed the connection".to_owned())
                        }
                        Reply::NeedMore => {
                            Round::Refused("the server closed the connection mid-answer".to_owned())
                        }
                        other => judge(other),
                    };
                }
                Ok(n) => n,
                Err(err) => return closed_or_error(&err, &received),
            };
            received.extend_from_slice(&chunk[..n]);
            match hello::read_reply(&received) {
                Reply::NeedMore if received.len() > READ_LIMIT => {
                    return Round::Stopped(format!(
                        "the server sent {} bytes without a complete ServerHello",
                        received.len()
                    ));
                }
                Reply::NeedMore => {}
                other => return judge(other),
            }
        }
    };
    match tokio::time::timeout(remaining, exchange).await {
        Ok(round) => round,
        Err(_) => Round::Stopped(format!(
            "no ServerHello within {}",
            humantime::format_duration(timeout)
        )),
    }
}

fn judge(reply: Reply) -> Round {
    match reply {
        Reply::ServerHello { version, suite } => Round::Picked { version, suite },
        Reply::Alert(description) => Round::Refused(wire::describe_alert(description)),
        Reply::NotTls(excerpt) => Round::Stopped(format!(
            "the server does not speak TLS here; it answered `{excerpt}`"
        )),
        Reply::Malformed(what) => Round::Stopped(format!("the server sent {what}")),
        Reply::NeedMore => Round::Stopped("the answer is incomplete".to_owned()),
    }
}

fn closed_or_error(err: &std::io::Error, received: &[u8]) -> Round {
    match err.kind() {
        std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::ConnectionAborted
        | std::io::ErrorKind::BrokenPipe
        | std::io::ErrorKind::UnexpectedEof => match hello::read_reply(received) {
            Reply::NeedMore => Round::Refused("the server reset the connection".to_owned()),
            other => judge(other),
        },
        _ => Round::Stopped(format!("the connection failed: {}", wire::describe_io(err))),
    }
}
