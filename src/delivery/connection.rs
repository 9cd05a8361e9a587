//! Connections like a careful sender: the delivery client's own small pool.
//!
//! A general-purpose pool (hyper-util's, inside reqwest) starts a new connection as
//! soon as no idle one is at hand and, when a busy one comes back first, sends on
//! that one and parks the new one, TLS handshake done and no request sent. A
//! thread-per-connection server (gunicorn's threads, the JDK's `HttpsServer`) holds a
//! worker on each such socket until it gives up on it, and stalls. This pool never
//! races: a request takes an idle connection (waiting until the one it takes is ready
//! again) or opens one for itself, so every connection carries a request and a run
//! uses at most one connection per delivery in flight.
//!
//! Each connection counts the bytes it reads, so a failed request knows whether any
//! byte of the answer arrived: a *reused* connection that ends before that was most
//! likely closed by the server while it sat idle, and the request is resent once on a
//! fresh connection ([`resend_on_fresh`]), as browsers and Go's client do.

use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::classify::classify;
use super::exchange::{ErrorClass, TransportError};
use crate::route::{RouteError, Routes};

/// How long an idle connection stays in the pool (what the reqwest client kept).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A kept-alive connection found closed this soon after its last answer was closed
/// because of that answer, not by an idle timeout (servers time idle connections
/// out after seconds: gunicorn 2 s, Node 5 s, nginx 75 s).
const CLOSED_AFTER_ANSWER: Duration = Duration::from_secs(1);

/// Where a connection goes: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// The origin of an `http://` or `https://` URL.
    pub(crate) fn of(url: &reqwest::Url) -> Option<Origin> {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        Some(Origin {
            https,
            host: host.to_owned(),
            port: url.port_or_known_default()?,
        })
    }
}

/// The request side of one connection, HTTP/1.1 or HTTP/2 as ALPN chose.
pub(crate) enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

/// One connection checked out for one request.
pub(crate) struct Conn {
    pub sender: Sender,
    origin: Origin,
    /// Whether the connection carried a request before this one.
    pub reused: bool,
    /// Bytes read from the connection so far (above TLS).
    read: Arc<AtomicU64>,
    /// The current attempt's deadline, enforced on every read.
    deadline: Arc<Deadline>,
    /// The status and time of the last complete answer on this connection.
    last_answer: Option<(u16, Instant)>,
    /// What ended the connection, set by its driver task when it fails: the request
    /// on it only sees "closed before the request was sent", while this holds the
    /// cause (e.g. the server's TLS alert that it requires a client certificate).
    ended: tokio::sync::watch::Receiver<Option<TransportError>>,
}

impl Conn {
    /// The TLS alert that ended this connection, if its driver ended with one: waited
    /// for a moment, since the request fails as the driver is still finishing.
    pub async fn ended_by_tls(&mut self) -> Option<TransportError> {
        let ended = tokio::time::timeout(
            Duration::from_millis(100),
            self.ended.wait_for(Option::is_some),
        )
        .await
        .ok()?
        .ok()?
        .clone()?;
        (ended.class == ErrorClass::Tls).then_some(ended)
    }

    /// Bytes read from the connection so far.
    pub fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Makes reads fail once `at` has passed (`None`: never, while idle).
    pub fn set_deadline(&self, at: Option<Instant>) {
        self.deadline.set(at);
    }

    /// The last answer's status, when it came so recently that a close now is the
    /// server closing after that answer.
    fn closed_right_after(&self) -> Option<u16> {
        self.last_answer
            .filter(|(_, at)| at.elapsed() <= CLOSED_AFTER_ANSWER)
            .map(|(status, _)| status)
    }
}

/// Whether a failed request goes out once more on a fresh connection: only when it
/// went on a reused connection and that connection ended before any byte of the
/// answer (the server had closed it while idle; the request was not processed). A
/// fresh connection failing, a timeout, or an answer cut short is a real finding.
pub fn resend_on_fresh(reused: bool, answer_bytes: u64, class: ErrorClass) -> bool {
    reused && answer_bytes == 0 && class == ErrorClass::Reset
}

/// What the run's connections did, for the JSON report's `connections`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnectionCounts {
    /// Connections opened (TCP connects that succeeded).
    pub opened: u64,
    /// Requests sent on a connection that had carried a request before.
    pub reused: u64,
    /// Requests resent on a fresh connection because the reused one they went on
    /// ended before any byte of the answer.
    pub resent: u64,
    /// Kept-alive connections the endpoint closed right after an answer without
    /// `Connection: close`.
    pub closed_without_notice: u64,
    /// The statuses of the answers those connections were closed after.
    pub closed_without_notice_after: Vec<u16>,
}

#[derive(Default)]
struct Stats {
    counts: ConnectionCounts,
    closed_after: BTreeSet<u16>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// Opens, keeps and hands out connections. Shared by every clone of the client.
pub(crate) struct Pool {
    tls: TlsConnector,
    connect_timeout: Option<Duration>,
    routes: Routes,
    idle: Mutex<HashMap<Origin, Vec<Idle>>>,
    shared_h2: Mutex<HashMap<Origin, Conn>>,
    stats: Mutex<Stats>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

/// Where a connection attempt failed: while connecting (TCP or TLS) or after.
pub(crate) struct ConnectFailure {
    pub error: TransportError,
}

impl Pool {
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        connect_timeout: Option<Duration>,
        routes: Routes,
    ) -> Pool {
        Pool {
            tls: TlsConnector::from(Arc::new(tls)),
            connect_timeout,
            routes,
            idle: Mutex::new(HashMap::new()),
            shared_h2: Mutex::new(HashMap::new()),
            stats: Mutex::new(Stats::default()),
        }
    }

    /// The counts so far.
    pub(crate) fn counts(&self) -> ConnectionCounts {
        let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let mut counts = stats.counts.clone();
        counts.closed_without_notice_after = stats.closed_after.iter().copied().collect();
        counts
    }

    fn with_stats(&self, update: impl FnOnce(&mut Stats)) {
        update(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// An idle connection to `origin` that is ready for a request, or a new one.
    pub(crate) async fn checkout(&self, origin: &Origin) -> Result<Conn, ConnectFailure> {
        while let Some(mut conn) = self.take_idle(origin) {
            let ready = match &mut conn.sender {
                Sender::Http1(sender) => sender.ready().await.is_ok(),
                Sender::Http2(sender) => sender.ready().await.is_ok(),
            };
            if ready {
                conn.reused = true;
                self.with_stats(|s| s.counts.reused += 1);
                return Ok(conn);
            }
            self.closed_while_idle(&conn);
        }
        self.open(origin).await
    }

    /// The shared HTTP/2 connection (a handle on it), or the most recently idle
    /// HTTP/1.1 connection; connections idle too long are dropped.
    fn take_idle(&self, origin: &Origin) -> Option<Conn> {
        {
            let mut shared = self.shared_h2.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(conn) = shared.get(origin) {
                if let Sender::Http2(sender) = &conn.sender
                    && !sender.is_closed()
                {
                    return Some(Conn {
                        sender: Sender::Http2(sender.clone()),
                        origin: origin.clone(),
                        reused: true,
                        read: conn.read.clone(),
                        deadline: conn.deadline.clone(),
                        last_answer: None,
                        ended: conn.ended.clone(),
                    });
                }
                shared.remove(origin);
            }
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(origin)?;
        list.retain(|entry| entry.since.elapsed() < IDLE_TIMEOUT);
        list.pop().map(|entry| entry.conn)
    }

    /// Puts an HTTP/1.1 connection back after a complete answer that did not announce
    /// a close. HTTP/2 handles are dropped: the shared connection stays in the pool.
    pub(crate) fn checkin(&self, mut conn: Conn, status: u16) {
        if let Sender::Http1(_) = conn.sender {
            conn.set_deadline(None);
            conn.last_answer = Some((status, Instant::now()));
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.entry(conn.origin.clone()).or_default().push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    /// Records a kept-alive connection the server closed; when that came right after
    /// an answer, it is the server closing without `Connection: close`.
    pub(crate) fn closed_while_idle(&self, conn: &Conn) {
        if let Some(status) = conn.closed_right_after() {
            self.with_stats(|s| {
                s.counts.closed_without_notice += 1;
                s.closed_after.insert(status);
            });
        }
    }

    /// Records a request resent after a stale keep-alive connection.
    pub(crate) fn record_resend(&self, stale: &Conn) {
        self.with_stats(|s| s.counts.resent += 1);
        self.closed_while_idle(stale);
    }

    /// Opens a new connection to `origin`: TCP, TLS for `https` (ALPN offers `h2` and
    /// `http/1.1`, as the reqwest client did), then the HTTP handshake.
    pub(crate) async fn open(&self, origin: &Origin) -> Result<Conn, ConnectFailure> {
        let connecting = async {
            let tcp = connect_tcp(&self.routes, origin).await?;
            self.with_stats(|s| s.counts.opened += 1);
            let _ = tcp.set_nodelay(true);
            if !origin.https {
                return Ok((Box::new(tcp) as Box<dyn Io>, false));
            }
            let name = ServerName::try_from(origin.host.clone()).map_err(|_| ConnectFailure {
                error: TransportError {
                    class: ErrorClass::Other,
                    message: format!("`{}` is not a valid host name", origin.host),
                    certificate_required: false,
                },
            })?;
            let stream = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|err| ConnectFailure {
                    error: classify(&err, true, true),
                })?;
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            Ok((Box::new(stream) as Box<dyn Io>, h2))
        };
        let (io, h2) = match self.connect_timeout {
            None => connecting.await?,
            Some(limit) => tokio::time::timeout(limit, connecting)
                .await
                .map_err(|_| ConnectFailure {
                    error: TransportError {
                        class: ErrorClass::Timeout,
                        message: format!(
                            "no connection within {}",
                            humantime::format_duration(limit)
                        ),
                        certificate_required: false,
                    },
                })??,
        };
        // Counted above TLS: what arrives is answer bytes, never a TLS alert or ticket.
        let read = Arc::new(AtomicU64::new(0));
        let deadline = Arc::new(Deadline::new());
        let io = TokioIo::new(Counted {
            inner: io,
            read: read.clone(),
            deadline: deadline.clone(),
        });
        let handshake_failed = |err: hyper::Error| ConnectFailure {
            error: classify(&err, false, true),
        };
        let (ended_tx, ended) = tokio::sync::watch::channel(None);
        let drive =
            |connection: std::pin::Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>| {
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        let _ = ended_tx.send(Some(classify(&err, true, false)));
                    }
                })
            };
        let sender = if h2 {
            let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(handshake_failed)?;
            drive(Box::pin(connection));
            let mut shared = self.shared_h2.lock().unwrap_or_else(|e| e.into_inner());
            shared.entry(origin.clone()).or_insert_with(|| Conn {
                sender: Sender::Http2(sender.clone()),
                origin: origin.clone(),
                reused: true,
                read: read.clone(),
                deadline: deadline.clone(),
                last_answer: None,
                ended: ended.clone(),
            });
            Sender::Http2(sender)
        } else {
            let (sender, connection) = http1::handshake(io).await.map_err(handshake_failed)?;
            drive(Box::pin(connection));
            Sender::Http1(sender)
        };
        Ok(Conn {
            sender,
            origin: origin.clone(),
            reused: false,
            read,
            deadline,
            last_answer: None,
            ended,
        })
    }
}

/// Connects to `origin` along the command's routes (`--connect-to`, `--resolve`, or a
/// CONNECT tunnel through the proxy), the first address that accepts.
async fn connect_tcp(routes: &Routes, origin: &Origin) -> Result<TcpStream, ConnectFailure> {
    match routes
        .connect(origin.https, &origin.host, origin.port)
        .await
    {
        Ok(connected) => Ok(connected.stream),
        Err(RouteError::Resolve { message, .. }) => Err(ConnectFailure {
            error: TransportError {
                class: ErrorClass::Dns,
                message: format!("the host name did not resolve: {message}"),
                certificate_required: false,
            },
        }),
        Err(RouteError::Connect { error, .. }) => Err(ConnectFailure {
            error: classify(&error, false, true),
        }),
        // The proxy failed, not the endpoint: said in its own words.
        Err(other) => Err(ConnectFailure {
            error: TransportError {
                class: ErrorClass::Connect,
                message: other.to_string(),
                certificate_required: false,
            },
        }),
    }
}

/// A byte stream the pool can run HTTP over.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A deadline shared between a request and its connection's reads.
///
/// The request's own timer is not enough: a peer flooding the socket (an endless
/// stream of `1xx` heads) keeps the connection task busy parsing, and a busy runtime
/// looks at its timers only now and then, so the timeout would fire many seconds late.
/// Checked on every read, the deadline ends such a connection on time.
struct Deadline {
    base: Instant,
    /// Nanoseconds after `base`; `u64::MAX`: none.
    at: AtomicU64,
}

impl Deadline {
    fn new() -> Deadline {
        Deadline {
            base: Instant::now(),
            at: AtomicU64::new(u64::MAX),
        }
    }

    fn set(&self, at: Option<Instant>) {
        let nanos = at.map_or(u64::MAX, |at| {
            at.saturating_duration_since(self.base).as_nanos() as u64
        });
        self.at.store(nanos, Ordering::Relaxed);
    }

    fn passed(&self) -> bool {
        let at = self.at.load(Ordering::Relaxed);
        at != u64::MAX && self.base.elapsed().as_nanos() as u64 >= at
    }
}

/// A stream that counts the bytes read from it and fails reads past the deadline.
struct Counted<S> {
    inner: S,
    read: Arc<AtomicU64>,
    deadline: Arc<Deadline>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.deadline.passed() {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the attempt's deadline passed",
            )));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let got = buf.filled().len() - before;
        self.read.fetch_add(got as u64, Ordering::Relaxed);
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use crate::delivery::connection::*;

    #[test]
    fn only_a_reused_connection_that_ended_before_any_answer_byte_is_resent() {
        // Reused, nothing of the answer came, the connection ended: resend once.
        assert!(resend_on_fresh(true, 0, ErrorClass::Reset));
        // A fresh connection failing the same way is a finding.
        assert!(!resend_on_fresh(false, 0, ErrorClass::Reset));
        // Bytes of the answer came: the request was processed, no resend.
        assert!(!resend_on_fresh(true, 17, ErrorClass::Reset));
        // A silent server is a finding, not a stale connection.
        assert!(!resend_on_fresh(true, 0, ErrorClass::Timeout));
        assert!(!resend_on_fresh(true, 0, ErrorClass::Protocol));
    }
}
