//! Load mode: sustained signed deliveries at a fixed concurrency (closed model) or
//! a constant arrival rate (open model), measured with HDR histograms.
//!
//! The shape follows oha: one HTTP/1.1 connection per worker, no pool and no lock on
//! the hot path, workers spread over one single-threaded runtime per core. Bodies are
//! pre-serialized once per event kind; per request only the webhook id, timestamp,
//! HMAC and B3 ids are new, written with the rest of the request into a buffer the
//! worker reuses and sent by the small client of [`http1`]. Each worker keeps its own
//! histogram and fixed-size counters, merged at the end, so memory does not grow
//! with the number of requests.
//!
//! Open model: a ticker issues one permit per scheduled request (carrying its
//! scheduled time) into a bounded backlog. A request that starts more than
//! [`LATE_AFTER`] after its scheduled time is counted `late`; a permit that finds the
//! backlog full, or is still waiting when the duration ends, is counted `dropped`.
//! Nothing disappears: `requests + dropped + abandoned == scheduled`.

pub mod connector;
pub mod engine;
pub mod histogram;
pub mod http1;
pub mod mix;
pub mod outcome;
pub mod plan;
pub mod profile;
pub mod ramp;
pub mod report;
pub mod report_merge;
pub mod request;
mod rounding;
pub mod series;
pub mod stats;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::time::Instant;

pub use connector::Connector;
pub use outcome::{LoadOutcome, RateCounts};
pub use profile::Profile;
pub use report::LoadReport;
pub use request::{RequestMaker, RequestPlan, Templates, WeightedKind};
pub use stats::{Live, Stats};
pub use worker::{Budget, LATE_AFTER, Pace, SharedState, Worker, WorkerState};

use crate::event::random;
use crate::runner::cancel::Cancel;

/// Largest open-model backlog of scheduled requests waiting for a free worker.
pub const MAX_BACKLOG: usize = 65_536;

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this many requests.
    Requests(u64),
    /// After this long.
    Duration(Duration),
}

/// How a load run is driven.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Connections (workers). In the open model, the most requests in flight.
    pub concurrency: usize,
    /// Open model: requests per second. `None` for the closed model.
    pub rate: Option<f64>,
    /// When to stop.
    pub stop: Stop,
    /// Per-request timeout (connecting included).
    pub timeout: Duration,
    /// Seed for ids and body choice.
    pub seed: u64,
    /// Client threads: `None` is [`client_threads`]' choice (one per core, half of
    /// them when the server is on this machine).
    pub threads: Option<std::num::NonZeroUsize>,
}

/// Runs the load. `live`, when given, is updated as requests complete (for a progress
/// display; every [`stats::PUBLISH_EVERY`] per worker).
///
/// `stop` ends the run early, as its duration would: the requests in flight are
/// abandoned and the outcome says it was interrupted.
pub async fn run(
    options: &LoadOptions,
    target: Arc<Connector>,
    plan: Arc<RequestPlan>,
    live: Option<Arc<Live>>,
    stop: &Cancel,
) -> LoadOutcome {
    let concurrency = options.concurrency.max(1);
    let start = Instant::now();
    let budget = match options.stop {
        Stop::Requests(total) => Budget::Requests {
            total,
            taken: Arc::new(AtomicU64::new(0)),
        },
        Stop::Duration(_) => Budget::UntilStopped(Arc::new(AtomicBool::new(false))),
    };
    let mut ticker = None;
    let mut permits_left = None;
    let pace = match options.rate {
        None => Pace::Closed,
        Some(rate) => {
            let backlog = backlog_capacity(rate, concurrency, options.stop);
            let (tx, rx) = mpsc::channel(backlog);
            let rx = Arc::new(Mutex::new(rx));
            permits_left = Some(rx.clone());
            ticker = Some(tokio::spawn(tick(
                rate,
                options.stop,
                start,
                tx,
                stop.clone(),
            )));
            Pace::Open(rx)
        }
    };
    let mut states = Vec::with_capacity(concurrency);
    let mut workers = Vec::with_capacity(concurrency);
    for index in 0..concurrency {
        let maker = RequestMaker::new(
            plan.clone(),
            random::rng_for(options.seed, &format!("load-worker-{index}")),
        );
        let state: SharedState = Arc::new(std::sync::Mutex::new(WorkerState::default()));
        states.push(state.clone());
        workers.push(Worker::new(
            target.clone(),
            maker,
            options.timeout,
            live.clone(),
            if options.rate.is_some() {
                Stats::open()
            } else {
                Stats::new()
            },
            state,
        ));
    }
    let (cancel, cancelled) = watch::channel(false);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = client_threads(options.threads, &target.addrs, cores, workers.len());
    let threads = spawn_threads(workers, threads, &budget, &pace, &cancelled);
    let all_done = async {
        for done in threads {
            let _ = done.await;
        }
    };
    tokio::pin!(all_done);
    // No timer per request: one sleep here for a duration, then a flag and a cancel
    // that aborts the requests in flight (oha's way). The ticker stops by itself at
    // the deadline and returns its counts. A stop signal ends any run the same way.
    let deadline = async {
        match options.stop {
            Stop::Duration(duration) => tokio::time::sleep_until(start + duration).await,
            Stop::Requests(_) => std::future::pending().await,
        }
    };
    let finished = tokio::select! {
        biased;
        () = stop.wait() => false,
        () = &mut all_done => true,
        () = deadline => false,
    };
    // Read from the stop itself: the open model's ticker stops on it too, and the
    // workers then end by themselves, possibly before the select above saw the stop.
    let interrupted = stop.is_set();
    if !finished {
        if let Budget::UntilStopped(flag) = &budget {
            flag.store(true, Ordering::Relaxed);
        }
        let _ = cancel.send(true);
        all_done.await;
    }
    let elapsed = start.elapsed();
    let mut stats = Stats::new();
    let mut abandoned = 0;
    for state in &states {
        let state = state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(theirs) = &state.stats {
            stats.merge(theirs);
        }
        abandoned += u64::from(state.in_flight);
    }
    let rate = match (ticker, permits_left) {
        (Some(ticker), Some(rx)) => {
            let mut counts = ticker.await.unwrap_or_default();
            let mut rx = rx.lock().await;
            rx.close();
            while rx.try_recv().is_ok() {
                counts.dropped += 1;
            }
            Some(counts)
        }
        _ => None,
    };
    LoadOutcome {
        stats,
        elapsed,
        abandoned,
        rate,
        interrupted,
    }
}

/// How many client threads share the connections: `asked` (`--threads`) when given;
/// otherwise one per core, except when every address the connections go to is a
/// loopback one. Then the server under test (or the proxy in front of it) runs on
/// these same cores, and a client thread on each would take its CPU from the server
/// and measure that contention instead of the server: half the cores (rounded up)
/// are left to it (on 2 cores one client thread, as `wrk -t 1`). Never more threads
/// than connections, never none.
pub fn client_threads(
    asked: Option<std::num::NonZeroUsize>,
    addrs: &[std::net::SocketAddr],
    cores: usize,
    connections: usize,
) -> usize {
    let local = !addrs.is_empty() && addrs.iter().all(|addr| addr.ip().is_loopback());
    let chosen = match asked {
        Some(asked) => asked.get(),
        None if local => cores.div_ceil(2),
        None => cores,
    };
    chosen.min(connections).max(1)
}

/// Runs the workers on `threads` threads, each with its own
/// single-threaded runtime (oha's layout): a worker and its connection task always
/// share a thread, so no request wakes another core, and nothing is stolen between
/// threads. Each returned receiver completes when its thread's workers are done (or
/// cancelled).
fn spawn_threads(
    workers: Vec<Worker>,
    threads: usize,
    budget: &Budget,
    pace: &Pace,
    cancelled: &watch::Receiver<bool>,
) -> Vec<oneshot::Receiver<()>> {
    let mut shares: Vec<Vec<Worker>> = (0..threads).map(|_| Vec::new()).collect();
    for (index, worker) in workers.into_iter().enumerate() {
        shares[index % threads].push(worker);
    }
    let mut done = Vec::with_capacity(threads);
    for (index, share) in shares.into_iter().enumerate() {
        let (tx, rx) = oneshot::channel();
        let budget = budget.clone();
        let pace = pace.clone();
        let mut cancelled = cancelled.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("load-{index}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    // Without a runtime this share sends nothing; the others go on.
                    Err(_) => return,
                };
                runtime.block_on(async move {
                    let mut tasks = tokio::task::JoinSet::new();
                    for worker in share {
                        tasks.spawn(worker.run(budget.clone(), pace.clone()));
                    }
                    tokio::select! {
                        _ = async { while tasks.join_next().await.is_some() {} } => {}
                        _ = cancelled.wait_for(|stop| *stop) => {
                            // Whatever is still running is cut; the finished ones
                            // were already joined.
                            tasks.abort_all();
                            while tasks.join_next().await.is_some() {}
                        }
                    }
                });
                let _ = tx.send(());
            });
        if spawned.is_ok() {
            done.push(rx);
        }
    }
    done
}

fn backlog_capacity(rate: f64, concurrency: usize, stop: Stop) -> usize {
    let one_second = rate.ceil().min(MAX_BACKLOG as f64) as usize;
    let wanted = one_second.max(concurrency).clamp(1, MAX_BACKLOG);
    match stop {
        Stop::Requests(total) => wanted.min(usize::try_from(total).unwrap_or(usize::MAX).max(1)),
        Stop::Duration(_) => wanted,
    }
}

/// The open-model ticker: one permit per scheduled request, on time, whatever the
/// workers are doing; a permit that finds the backlog full is counted as dropped.
async fn tick(
    rate: f64,
    stop: Stop,
    start: Instant,
    tx: mpsc::Sender<Instant>,
    interrupt: Cancel,
) -> RateCounts {
    let mut counts = RateCounts::default();
    let limit = match stop {
        Stop::Requests(total) => Some(total),
        Stop::Duration(_) => None,
    };
    let deadline = match stop {
        Stop::Duration(duration) => Some(start + duration),
        Stop::Requests(_) => None,
    };
    let interval = 1.0 / rate.max(1e-9);
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|deadline| now >= deadline) {
            break;
        }
        // Every request whose scheduled time has come (the first at once).
        let mut due = ((now - start).as_secs_f64() * rate) as u64 + 1;
        if let Some(limit) = limit {
            due = due.min(limit);
        }
        while counts.scheduled < due {
            let at = start + Duration::from_secs_f64(counts.scheduled as f64 * interval);
            counts.scheduled += 1;
            match tx.try_send(at) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => counts.dropped += 1,
                Err(mpsc::error::TrySendError::Closed(_)) => return counts,
            }
        }
        if limit.is_some_and(|limit| counts.scheduled >= limit) {
            break;
        }
        let next = start + Duration::from_secs_f64(counts.scheduled as f64 * interval);
        let next = match deadline {
            Some(deadline) => next.min(deadline),
            None => next,
        };
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            // Nothing more is scheduled once the run is stopped.
            () = interrupt.wait() => break,
        }
    }
    counts
}

/// Peak resident memory of this process (`VmHWM`, KiB), where the OS reports it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Completed requests per second so far (for progress displays).
pub fn live_rate(live: &Live, since: Instant) -> f64 {
    let secs = since.elapsed().as_secs_f64();
    if secs > 0.0 {
        live.completed.load(Ordering::Relaxed) as f64 / secs
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::num::NonZeroUsize;

    use super::client_threads;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().expect("address")).collect()
    }

    #[test]
    fn a_server_on_this_machine_is_left_half_the_cores() {
        let v4 = addrs(&["127.0.0.1:8080"]);
        let v6 = addrs(&["[::1]:8080"]);
        let both = addrs(&["[::1]:8080", "127.0.0.1:8080"]);
        for (cores, expected) in [(1, 1), (2, 1), (3, 2), (4, 2), (8, 4)] {
            assert_eq!(
                client_threads(None, &v4, cores, 64),
                expected,
                "{cores} cores"
            );
            assert_eq!(
                client_threads(None, &v6, cores, 64),
                expected,
                "{cores} cores"
            );
            assert_eq!(
                client_threads(None, &both, cores, 64),
                expected,
                "{cores} cores"
            );
        }
    }

    #[test]
    fn a_remote_server_gets_a_client_thread_per_core() {
        let remote = addrs(&["192.0.2.10:443"]);
        // One loopback address among remote ones: connections may go either way.
        let mixed = addrs(&["127.0.0.1:443", "192.0.2.10:443"]);
        for cores in [1, 2, 8] {
            assert_eq!(client_threads(None, &remote, cores, 64), cores);
            assert_eq!(client_threads(None, &mixed, cores, 64), cores);
        }
        assert_eq!(client_threads(None, &[], 4, 64), 4);
    }

    #[test]
    fn threads_asked_for_win_but_never_exceed_the_connections() {
        let local = addrs(&["127.0.0.1:8080"]);
        let three = NonZeroUsize::new(3);
        assert_eq!(client_threads(three, &local, 2, 64), 3);
        assert_eq!(client_threads(three, &addrs(&["192.0.2.10:80"]), 8, 64), 3);
        assert_eq!(client_threads(three, &local, 2, 2), 2);
        assert_eq!(client_threads(None, &addrs(&["192.0.2.10:80"]), 8, 3), 3);
        assert_eq!(client_threads(None, &local, 8, 0), 1);
    }
}
