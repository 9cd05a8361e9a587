//! A small HTTP CONNECT proxy on loopback that records every tunnel asked of it (the
//! `host:port` and any `Proxy-Authorization`), the shape of a corporate egress proxy:
//! it tunnels, or answers every CONNECT with one status (407, 403, …). It connects only
//! to loopback addresses (127.0.0.1 / ::1) and refuses anything else with 403.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One CONNECT the proxy was asked for.
#[derive(Debug, Clone)]
pub struct Tunnel {
    /// The `host:port` of the request line.
    pub target: String,
    /// The `Proxy-Authorization` header, if sent.
    pub authorization: Option<String>,
    /// Whether the client sent anything through the tunnel (a ClientHello, a request),
    /// set as soon as its first bytes are relayed.
    carried: Arc<AtomicBool>,
}

impl Tunnel {
    /// Whether the client sent anything through the tunnel (a tunnel opened and
    /// closed at once carried nothing).
    pub fn carried(&self) -> bool {
        self.carried.load(Ordering::SeqCst)
    }
}

/// A running proxy; stops on drop.
pub struct ConnectProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<Tunnel>>>,
    task: JoinHandle<()>,
}

impl ConnectProxy {
    /// A proxy that opens every tunnel to a loopback address.
    pub async fn tunnelling() -> ConnectProxy {
        ConnectProxy::start(None).await
    }

    /// A proxy that answers every CONNECT with `status` (e.g. 407) and closes.
    pub async fn refusing(status: u16) -> ConnectProxy {
        ConnectProxy::start(Some(status)).await
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many tunnels carried bytes from the client so far.
    pub fn carrying(&self) -> usize {
        self.tunnels().iter().filter(|t| t.carried()).count()
    }

    /// The tunnels asked for so far.
    pub fn tunnels(&self) -> Vec<Tunnel> {
        self.tunnels.lock().unwrap().clone()
    }

    async fn start(answer: Option<u16>) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let recorded = tunnels.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(60),
                        serve(client, answer, recorded),
                    )
                    .await;
                });
            }
        });
        ConnectProxy {
            addr,
            tunnels,
            task,
        }
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut client: TcpStream,
    answer: Option<u16>,
    recorded: Arc<Mutex<Vec<Tunnel>>>,
) -> Option<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await.ok()? == 0 || head.len() > 16 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next()?;
    let mut parts = request_line.split(' ');
    let method = parts.next()?;
    let target = parts.next()?.to_owned();
    let authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_owned());
    if method != "CONNECT" {
        client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            .await
            .ok()?;
        return None;
    }
    let carried = Arc::new(AtomicBool::new(false));
    recorded.lock().unwrap().push(Tunnel {
        target: target.clone(),
        authorization,
        carried: carried.clone(),
    });
    if let Some(status) = answer {
        let reply = format!(
            "HTTP/1.1 {status} {}\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            if status == 407 {
                "Proxy Authentication Required"
            } else {
                "Forbidden"
            }
        );
        client.write_all(reply.as_bytes()).await.ok()?;
        return None;
    }
    // Loopback only: the tests never reach any other address.
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(target.as_str())
        .await
        .ok()?
        .collect();
    let Some(addr) = addrs.into_iter().find(|a| a.ip().is_loopback()) else {
        client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .await
            .ok()?;
        return None;
    };
    let Ok(mut upstream) = TcpStream::connect(addr).await else {
        client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await
            .ok()?;
        return None;
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .ok()?;
    // The client speaks first (a ClientHello, a request): mark the tunnel as carrying
    // before relaying, so a test that waited for the client sees it.
    let mut first = [0u8; 4096];
    let n = client.read(&mut first).await.ok()?;
    if n == 0 {
        return None;
    }
    carried.store(true, Ordering::SeqCst);
    upstream.write_all(&first[..n]).await.ok()?;
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Some(())
}
