//! Starting, observing and stopping the receiver.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use axum_server::Handle;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::config::{ReceiverConfig, TlsSetup};
use super::handler::{Shared, webhook};
use super::log::EventLog;
use super::state::{PnrView, ReceiverStats, WebhookView};
use super::{pki, processor};
use crate::event::EventType;
use crate::event::schema::PayloadSchema;

/// Why the receiver could not start: the step that failed (so a front can say how to
/// fix it in its own words) and what failed, the system's account included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StartError {
    /// The step that failed.
    pub step: StartStep,
    /// What failed, e.g. `cannot listen on 127.0.0.1:8080: Address already in use`.
    pub message: String,
}

impl StartError {
    fn new(step: StartStep, message: String) -> StartError {
        StartError { step, message }
    }
}

/// The steps of starting a receiver that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartStep {
    /// Binding the listen address.
    Listen,
    /// Reading back the bound address.
    BoundAddress,
    /// Generating the test CA and certificate.
    GeneratePki,
    /// Using the given (or generated) certificate and key.
    TlsCertificate,
    /// Opening the event log.
    EventLog,
    /// Serving on the bound socket.
    Serve,
}

/// How long a connection may stay open before its first request.
const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for requests in progress and for the queue to drain.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A receiver serving in the background. Dropping it without [`shutdown`](Self::shutdown)
/// leaves the server running until the runtime ends.
pub struct RunningReceiver {
    /// The address actually bound (the real port when asked for port 0).
    pub addr: SocketAddr,
    /// The generated CA certificate (PEM) to trust, for [`TlsSetup::Generated`].
    pub ca_pem: Option<String>,
    base_url: String,
    shared: Arc<Shared>,
    handle: Handle<SocketAddr>,
    server: JoinHandle<std::io::Result<()>>,
    stop_processor: oneshot::Sender<()>,
    processor: JoinHandle<()>,
}

impl std::fmt::Debug for RunningReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningReceiver")
            .field("addr", &self.addr)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Starts the receiver on `listen` (port 0 picks a free port).
///
/// URLs use the bound IP literal (`https://127.0.0.1:PORT/webhooks`): the generated
/// certificate names `127.0.0.1` and `::1` as well as `localhost`, and an IP avoids
/// `localhost` resolving to `::1` first. With [`TlsSetup::Pem`] on a loopback
/// address the URL says `localhost` instead, since a developer certificate usually
/// names only that. An unspecified address (`0.0.0.0`) is shown as loopback.
/// The embedded default target of `run`, `send` and `load`: a receiver on a free
/// loopback port, over HTTPS with a freshly generated CA (see [`RunningReceiver::ca_pem`]).
pub async fn start_on_loopback(config: ReceiverConfig) -> Result<RunningReceiver, StartError> {
    start(
        config,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        TlsSetup::Generated,
    )
    .await
}

/// Starts a receiver on `listen`.
pub async fn start(
    config: ReceiverConfig,
    listen: SocketAddr,
    tls: TlsSetup,
) -> Result<RunningReceiver, StartError> {
    crate::init_crypto();
    let listener = std::net::TcpListener::bind(listen).map_err(|err| {
        StartError::new(
            StartStep::Listen,
            format!("cannot listen on {listen}: {err}"),
        )
    })?;
    let addr = listener.local_addr().map_err(|err| {
        StartError::new(
            StartStep::BoundAddress,
            format!("cannot read the bound address: {err}"),
        )
    })?;
    let (tls_config, ca_pem) = match &tls {
        TlsSetup::Plain => (None, None),
        TlsSetup::Generated => {
            let generated = pki::generate_localhost_pki().map_err(|err| {
                StartError::new(
                    StartStep::GeneratePki,
                    format!("cannot generate the test certificate: {err}"),
                )
            })?;
            let config = rustls_config(&generated.cert_pem, &generated.key_pem).await?;
            (Some(config), Some(generated.ca_pem))
        }
        TlsSetup::Pem { cert_pem, key_pem } => {
            (Some(rustls_config(cert_pem, key_pem).await?), None)
        }
    };
    let log = EventLog::open(config.log_path.as_deref(), config.print_events)
        .await
        .map_err(|err| {
            let path = config
                .log_path
                .as_deref()
                .unwrap_or(std::path::Path::new(""));
            StartError::new(
                StartStep::EventLog,
                format!("cannot open the event log {}: {err}", path.display()),
            )
        })?;
    let (sender, receiver) = mpsc::channel(config.queue_capacity.max(1));
    if config.validate_payloads {
        // Compile the schemas now, not on the first delivery (tens of milliseconds).
        for event_type in EventType::ALL {
            if let Some(schema) = PayloadSchema::of(event_type) {
                schema.is_valid(&serde_json::Value::Null);
            }
        }
    }
    let shared = Arc::new(Shared::new(&config, sender));
    let (stop_processor, stop) = oneshot::channel();
    let processor = tokio::spawn(processor::run(
        shared.clone(),
        receiver,
        log,
        config.dedupe_capacity,
        stop,
    ));
    let app = router(shared.clone(), config.state);
    let handle = Handle::new();
    let make_service = app.into_make_service();
    let server = axum_server::from_tcp(listener).map_err(|err| {
        StartError::new(StartStep::Serve, format!("cannot serve on {addr}: {err}"))
    })?;
    let mut server = server
        .handle(handle.clone())
        .first_request_timeout(FIRST_REQUEST_TIMEOUT);
    // A peer that trickles request headers (slowloris) is cut off.
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let server = match tls_config {
        None => tokio::spawn(server.acceptor(NoDelayAcceptor::new()).serve(make_service)),
        Some(tls_config) => {
            let acceptor = RustlsAcceptor::new(tls_config)
                .handshake_timeout(HANDSHAKE_TIMEOUT)
                .acceptor(NoDelayAcceptor::new());
            tokio::spawn(server.acceptor(acceptor).serve(make_service))
        }
    };
    let scheme = if matches!(tls, TlsSetup::Plain) {
        "http"
    } else {
        "https"
    };
    let base_url = format!("{scheme}://{}:{}", url_host(addr.ip(), &tls), addr.port());
    Ok(RunningReceiver {
        addr,
        ca_pem,
        base_url,
        shared,
        handle,
        server,
        stop_processor,
        processor,
    })
}

fn url_host(ip: IpAddr, tls: &TlsSetup) -> String {
    let ip = if ip.is_unspecified() {
        match ip {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        }
    } else {
        ip
    };
    if matches!(tls, TlsSetup::Pem { .. }) && ip.is_loopback() {
        return "localhost".to_owned();
    }
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

async fn rustls_config(cert_pem: &str, key_pem: &str) -> Result<RustlsConfig, StartError> {
    RustlsConfig::from_pem(cert_pem.as_bytes().to_vec(), key_pem.as_bytes().to_vec())
        .await
        .map_err(|err| {
            StartError::new(
                StartStep::TlsCertificate,
                format!("cannot use the TLS certificate and key: {err}"),
            )
        })
}

fn router(shared: Arc<Shared>, expose_state: bool) -> Router {
    let mut router = Router::new();
    if shared.oauth.is_some() {
        router = router.route(
            super::oauth::TOKEN_PATH,
            axum::routing::any(super::token_endpoint::token_endpoint),
        );
    }
    if expose_state {
        router = router
            .route("/state", get(state_summary))
            .route("/state/webhooks/{id}", get(state_webhook))
            .route("/state/pnrs/{pnr_id}", get(state_pnr));
    }
    router
        .fallback(webhook)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(shared)
}

async fn state_summary(State(shared): State<Arc<Shared>>) -> axum::Json<ReceiverStats> {
    axum::Json(shared.counters.snapshot())
}

async fn state_webhook(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> axum::Json<WebhookView> {
    axum::Json(shared.observed().webhook_view(&id))
}

async fn state_pnr(
    State(shared): State<Arc<Shared>>,
    Path(pnr_id): Path<String>,
) -> axum::Json<PnrView> {
    axum::Json(shared.observed().pnr_view(&pnr_id))
}

impl RunningReceiver {
    /// Where to deliver webhooks: `https://127.0.0.1:PORT/webhooks` (or `http://` for plain).
    /// Any path except `/state…` is a webhook endpoint; `/webhooks` is the conventional one.
    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks", self.base_url)
    }

    /// The observation base URL (`…/state`); served only with [`ReceiverConfig::state`].
    pub fn state_url(&self) -> String {
        format!("{}/state", self.base_url)
    }

    /// The token endpoint, `https://127.0.0.1:PORT/oauth/token` (served only with
    /// [`ReceiverConfig::oauth`]).
    pub fn token_url(&self) -> String {
        format!("{}{}", self.base_url, super::oauth::TOKEN_PATH)
    }

    /// The scheme, host and port, without a path.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The counters so far (processing is asynchronous and may lag a few ms).
    pub fn stats(&self) -> ReceiverStats {
        self.shared.counters.snapshot()
    }

    /// What the receiver knows about a webhook id (zeros when never seen).
    pub fn webhook(&self, id: &str) -> WebhookView {
        self.shared.observed().webhook_view(id)
    }

    /// What the receiver knows about a PNR (zeros and nulls when never seen).
    pub fn pnr(&self, pnr_id: &str) -> PnrView {
        self.shared.observed().pnr_view(pnr_id)
    }

    /// Stops accepting connections, lets requests in progress finish (up to 2 s),
    /// processes what is queued, and returns.
    pub async fn shutdown(self) {
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        let mut server = self.server;
        if tokio::time::timeout(SHUTDOWN_GRACE * 2, &mut server)
            .await
            .is_err()
        {
            server.abort();
        }
        let _ = self.stop_processor.send(());
        let mut processor = self.processor;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut processor)
            .await
            .is_err()
        {
            processor.abort();
        }
    }
}
