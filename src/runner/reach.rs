//! Whether the endpoint could be reached at all: the first delivery of a run decides.
//!
//! An endpoint nobody can connect to (a wrong port, a host name that does not
//! resolve, nothing listening yet) is an infrastructure problem, not a finding about
//! the partner's code: the run ends early with one message instead of failing every
//! check. The first delivery of the run goes alone through the [`Gate`]; the others
//! wait until it is known whether it reached the endpoint. A delivery that could not
//! connect is sent again for [`GRACE`] (so an endpoint still starting up is not
//! called unreachable); when none of those connected, the endpoint is unreachable and
//! every later delivery is left unsent. Once any connection succeeded, the gate stays
//! open for the rest of the run: an endpoint that answered and then stopped is judged
//! by the checks as before (the grouped transport note).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::delivery::client::Client;
use crate::delivery::exchange::{ErrorClass, Exchange, TransportError};
use crate::delivery::request::Attempt;
use crate::outcome::Unreachable;

/// How long the first delivery is retried while it cannot connect at all, so an
/// endpoint that is still starting is not called unreachable.
pub const GRACE: Duration = Duration::from_secs(3);

/// The pause between two of those retries.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// A TCP connection that stays up this long while the first delivery is still in
/// flight has reached the endpoint: the other deliveries need not wait for its answer
/// (a slow endpoint is judged by the checks, not here).
const CONNECTED_FOR: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
enum Reach {
    Reached,
    Unreachable(Unreachable),
}

/// The run's one reachability decision, shared by every delivery to the endpoint.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    state: Arc<tokio::sync::Mutex<Option<Reach>>>,
    /// The decision when it is "unreachable", readable without waiting for the lock.
    unreachable: Arc<std::sync::OnceLock<Unreachable>>,
}

impl Gate {
    /// The decision, once the endpoint was found unreachable.
    pub fn unreachable(&self) -> Option<Unreachable> {
        self.unreachable.get().cloned()
    }

    /// Sends `attempt` with `send` through the gate (see the module's doc). `client`
    /// is the delivery client, whose connection count tells whether a TCP
    /// connection was made.
    pub async fn deliver<F, Fut>(&self, client: &Client, attempt: &Attempt, send: F) -> Exchange
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Exchange>,
    {
        let guard = self.state.clone().lock_owned().await;
        match guard.as_ref() {
            Some(Reach::Reached) => {
                drop(guard);
                return send().await;
            }
            Some(Reach::Unreachable(u)) => return not_sent(attempt, u),
            None => {}
        }
        let mut guard = Some(guard);
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let before = client.connection_counts().opened;
            let sending = send();
            tokio::pin!(sending);
            let exchange = loop {
                tokio::select! {
                    exchange = &mut sending => break exchange,
                    () = tokio::time::sleep(CONNECTED_FOR), if guard.is_some() => {
                        if client.connection_counts().opened > before
                            && let Some(mut state) = guard.take()
                        {
                            *state = Some(Reach::Reached);
                        }
                    }
                }
            };
            let Some(state) = guard.as_mut() else {
                return exchange;
            };
            let opened = client.connection_counts().opened > before;
            match could_not_connect(&exchange, opened) {
                None => {
                    **state = Some(Reach::Reached);
                    return exchange;
                }
                Some(error) if started.elapsed() >= GRACE => {
                    let unreachable = Unreachable {
                        address: address_of(&attempt.url),
                        class: error.class,
                        message: error.message.clone(),
                        attempts,
                        waited_ms: started.elapsed().as_millis() as u64,
                    };
                    let _ = self.unreachable.set(unreachable.clone());
                    **state = Some(Reach::Unreachable(unreachable));
                    return exchange;
                }
                Some(_) => tokio::time::sleep(RETRY_EVERY).await,
            }
        }
    }
}

/// Why `exchange` never reached the endpoint, when it did not: no TCP connection
/// (the host name did not resolve, the connection was refused or found no route, or
/// no connection came up before the timeout while none was opened), or a peer that
/// does not speak TLS at all. A TLS alert, a certificate the client refuses, a
/// reset or a timeout on an open connection are the server's own behaviour and count
/// as reached: the checks judge them.
fn could_not_connect(exchange: &Exchange, opened: bool) -> Option<&TransportError> {
    if exchange.response.is_some() {
        return None;
    }
    let error = exchange.error.as_ref()?;
    let unreached = match error.class {
        ErrorClass::Dns | ErrorClass::Connect => true,
        ErrorClass::Timeout => !opened,
        // rustls' words for records that are not TLS (a plain-HTTP port).
        ErrorClass::Tls => error.message.contains("received corrupt message"),
        _ => false,
    };
    unreached.then_some(error)
}

/// `host:port` of a URL (the URL itself when it cannot be read).
fn address_of(url: &str) -> String {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return url.to_owned();
    };
    match (parsed.host_str(), parsed.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        _ => url.to_owned(),
    }
}

/// The record of a delivery left unsent because the endpoint is unreachable.
fn not_sent(attempt: &Attempt, unreachable: &Unreachable) -> Exchange {
    Exchange {
        request: attempt.record(),
        response: None,
        error: Some(TransportError {
            class: unreachable.class,
            message: format!("not sent: {} could not be reached", unreachable.address),
            certificate_required: false,
        }),
        started_at_ms: time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
        duration: Duration::ZERO,
        note: None,
        not_sent: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_host_and_port() {
        assert_eq!(address_of("http://127.0.0.1:1/hook"), "127.0.0.1:1");
        assert_eq!(address_of("https://example.com/x"), "example.com:443");
        assert_eq!(address_of("https://[::1]:8443/x"), "[::1]:8443");
    }
}
