//! One worker: one connection, requests one after another, its own stats.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use std::pin::Pin;
use tokio::sync::{Mutex, mpsc};

use tokio::time::{Instant, Sleep};

use super::connector::Connector;
use super::http1::{Connection, Failure};
use super::request::RequestMaker;
use super::series;
use super::stats::{Live, LiveRecent, PUBLISH_EVERY, Stats};
use crate::delivery::exchange::ErrorClass;

/// When the run stops.
#[derive(Debug, Clone)]
pub enum Budget {
    /// After this many requests in total (workers take them from a shared counter).
    Requests {
        /// The total.
        total: u64,
        /// Requests taken so far.
        taken: Arc<AtomicU64>,
    },
    /// Until this flag is set; the run then aborts the workers, and a request still
    /// in flight is abandoned and not counted (as oha does).
    UntilStopped(Arc<AtomicBool>),
}

/// Where a worker's next request comes from.
#[derive(Debug, Clone)]
pub enum Pace {
    /// Closed model: the next request as soon as the previous one is done.
    Closed,
    /// Open model: a permit carrying its scheduled send time, from the ticker.
    Open(Arc<Mutex<mpsc::Receiver<Instant>>>),
}

/// A request is late when it starts more than this after its scheduled time.
pub const LATE_AFTER: Duration = Duration::from_millis(10);

/// A worker's measurements, readable after the worker ended or was aborted: the
/// worker keeps them to itself while it runs (no lock per request) and hands them
/// over here when it is dropped, which an abort does too.
#[derive(Debug, Default)]
pub struct WorkerState {
    /// Its measurements (`None` until the worker is gone).
    pub stats: Option<Stats>,
    /// Whether a request was in flight (abandoned if the worker was aborted).
    pub in_flight: bool,
}

/// Shared handle to a [`WorkerState`].
pub type SharedState = Arc<StdMutex<WorkerState>>;

/// How late past the per-request timeout a request may be cut: 1 % of the timeout,
/// at most 250 ms (so a 40 s timeout fires between 40 s and 40.25 s).
pub fn deadline_slack(timeout: Duration) -> Duration {
    (timeout / 100).min(Duration::from_millis(250))
}

/// One worker's state.
pub struct Worker {
    target: Arc<Connector>,
    maker: RequestMaker,
    timeout: Duration,
    /// `None` when nothing is displayed while running: then nothing is recorded for it.
    live: Option<Arc<Live>>,
    recent: LiveRecent,
    last_publish: Instant,
    /// The measurements so far; `None` only once handed over to `state`.
    stats: Option<Stats>,
    /// Whether a request is in flight.
    in_flight: bool,
    /// When the latest request ended: the clock the next request's timestamp is
    /// read against (see [`RequestMaker::prepare`]).
    clock: Option<Instant>,
    state: SharedState,
    conn: Option<Connection>,
}

impl Worker {
    /// A worker without a connection yet (it connects on its first request).
    pub fn new(
        target: Arc<Connector>,
        maker: RequestMaker,
        timeout: Duration,
        live: Option<Arc<Live>>,
        stats: Stats,
        state: SharedState,
    ) -> Worker {
        Worker {
            target,
            maker,
            timeout,
            live,
            recent: LiveRecent::default(),
            last_publish: Instant::now(),
            stats: Some(stats),
            in_flight: false,
            clock: None,
            state,
            conn: None,
        }
    }

    /// Sends requests until the budget or the pace says stop.
    pub async fn run(mut self, budget: Budget, pace: Pace) {
        let mut deadline = Box::pin(tokio::time::sleep(self.timeout));
        loop {
            let scheduled = match &pace {
                Pace::Closed => None,
                Pace::Open(permits) => match permits.lock().await.recv().await {
                    Some(at) => Some(at),
                    None => break,
                },
            };
            match &budget {
                Budget::Requests { total, taken } => {
                    if taken.fetch_add(1, Ordering::Relaxed) >= *total {
                        break;
                    }
                }
                Budget::UntilStopped(stop) => {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
            self.one(scheduled, &mut deadline).await;
        }
        if let Some(live) = &self.live {
            live.publish(&mut self.recent);
        }
    }

    /// One request. `deadline` is the worker's timer, reused from request to request:
    /// it is moved only when it would fire before `start + timeout`, and then to
    /// `start + timeout + slack` (see [`deadline_slack`]), so most requests do not touch
    /// the runtime's timer wheel at all. A request thus times out between `timeout`
    /// and `timeout + slack` after it started.
    async fn one(&mut self, scheduled: Option<Instant>, deadline: &mut Pin<Box<Sleep>>) {
        // Between two requests of the closed model the latest end is as good as a
        // fresh reading; after a wait for a permit it is not.
        let clock = match (scheduled, self.clock) {
            (None, Some(end)) => end,
            _ => Instant::now(),
        };
        let redelivery = self.maker.prepare(clock);
        let start = Instant::now();
        self.in_flight = true;
        let due = start + self.timeout;
        if deadline.deadline() < due {
            deadline.as_mut().reset(due + deadline_slack(self.timeout));
        }
        let outcome = tokio::select! {
            biased;
            outcome = exchange(
                &mut self.conn,
                &self.target,
                self.maker.head(),
                self.maker.body(),
            ) => outcome,
            () = deadline.as_mut() => {
                // The connection is in an unknown state: start over.
                self.conn = None;
                Err(ErrorClass::Timeout)
            }
        };
        let end = Instant::now();
        // Open model: the latency runs from the scheduled send time, so the requests
        // queued behind a stall are charged for their wait (no coordinated omission);
        // the service time, from when the request left, is kept beside it.
        let latency = end.saturating_duration_since(scheduled.unwrap_or(start));
        if outcome.is_err() {
            self.conn = None;
        }
        let class = self.live.is_some().then(|| series::class_of(&outcome));
        self.in_flight = false;
        self.clock = Some(end);
        if let Some(stats) = &mut self.stats {
            stats.redelivered += u64::from(redelivery);
            if let Some(at) = scheduled {
                stats.record_schedule(start.saturating_duration_since(at), end - start, LATE_AFTER);
            }
            match outcome {
                Ok(status) => stats.record_status(status, latency),
                Err(class) => stats.record_error(class, latency),
            }
        }
        if let (Some(live), Some(class)) = (&self.live, class) {
            let second = live.second_of(end);
            if second != self.recent.second {
                // Each batch belongs to one second of the series.
                live.publish(&mut self.recent);
                self.recent.second = second;
                self.last_publish = end;
            }
            self.recent.record(latency, class);
            if end - self.last_publish >= PUBLISH_EVERY {
                live.publish(&mut self.recent);
                self.last_publish = end;
            }
        }
    }
}

impl Drop for Worker {
    /// Hands the measurements over, whether the worker ended or was aborted mid-request.
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.stats = self.stats.take();
        state.in_flight = self.in_flight;
    }
}

/// Sends the request on the worker's connection (connecting when it has none)
/// and reads the whole answer. Returns the status.
///
/// When a connection that already served requests ends before any byte of the
/// answer, the server closed it while idle (a keep-alive timeout): the request is
/// sent once more on a new connection, and only a failure there counts.
async fn exchange(
    slot: &mut Option<Connection>,
    target: &Connector,
    head: &[u8],
    body: &[u8],
) -> Result<u16, ErrorClass> {
    loop {
        let conn = match slot {
            Some(conn) => conn,
            None => slot.insert(target.connect().await?),
        };
        let reused = conn.served() > 0;
        match conn.exchange_parts(head, body).await {
            Ok(answer) => {
                if !answer.reusable {
                    *slot = None;
                }
                return Ok(answer.status);
            }
            Err(failure) => {
                *slot = None;
                match failure {
                    Failure::ClosedBeforeAnswer if reused => continue,
                    Failure::ClosedBeforeAnswer => return Err(ErrorClass::Reset),
                    Failure::Error(class) => return Err(class),
                }
            }
        }
    }
}
