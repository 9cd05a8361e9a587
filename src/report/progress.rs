//! The one progress display on standard error, for `run` (checks done of a known
//! number) and for `load` (requests or time, with the live rate and p99).
//!
//! Neither is ever drawn when standard error is not a terminal (CI logs, pipes,
//! tests), nor with `--quiet` (the front does not create one). The bar over checks
//! stays hidden for the first second (short runs never flash a bar); the load bar is
//! redrawn from the run's live figures four times a second by a thread of its own, so
//! the load's workers never draw.

use std::io::IsTerminal;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::load::{Live, Stop, live_rate};

/// How long a run goes before the bar appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// How often the load bar is redrawn from the live figures.
const LOAD_REDRAW: Duration = Duration::from_millis(250);

/// A progress bar: over a known number of checks ([`Progress::new`]) or over a load
/// run ([`Progress::load`]).
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    enabled: bool,
    shown: bool,
    /// The load bar's redrawing thread and the channel that stops it.
    poller: Option<Poller>,
}

#[derive(Debug)]
struct Poller {
    stop: mpsc::Sender<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Progress {
    /// A hidden bar over `total` checks; `wanted` is false with `--quiet`. The bar can
    /// only ever be drawn when standard error is a terminal.
    pub fn new(total: usize, wanted: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed}] {bar:30} {pos}/{len} checks {msg}")
        {
            bar.set_style(style);
        }
        Progress {
            bar,
            started: Instant::now(),
            enabled: wanted && std::io::stderr().is_terminal(),
            shown: false,
            poller: None,
        }
    }

    /// The bar of a load run that stops at `stop`: requests done of the total, or the
    /// time elapsed, with the live rate and the p99 of the last interval read from
    /// `live`. Drawn at once (a load lasts), only when standard error is a terminal.
    pub fn load(live: Arc<Live>, stop: Stop) -> Progress {
        let (len, template) = match stop {
            Stop::Requests(n) => (n, "{bar:30} {pos}/{len} requests  {msg}"),
            Stop::Duration(d) => (d.as_millis() as u64, "{bar:30} {elapsed}  {msg}"),
        };
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        let (tx, rx) = mpsc::channel::<()>();
        let drawn = bar.clone();
        let thread = std::thread::spawn(move || {
            let start = tokio::time::Instant::now();
            let mut p99 = None;
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(LOAD_REDRAW) {
                match stop {
                    Stop::Requests(_) => drawn.set_position(live.completed()),
                    Stop::Duration(_) => drawn.set_position(start.elapsed().as_millis() as u64),
                }
                if let Some(latest) = live.take_p99_ms() {
                    p99 = Some(latest);
                }
                let p99 = p99
                    .map(|p| format!("{p:.1} ms"))
                    .unwrap_or_else(|| "-".into());
                drawn.set_message(format!("{:.0} req/s  p99 {p99}", live_rate(&live, start)));
            }
        });
        let drawn_at_all = !bar.is_hidden();
        Progress {
            bar,
            started: Instant::now(),
            enabled: drawn_at_all,
            shown: drawn_at_all,
            poller: Some(Poller {
                stop: tx,
                thread: Mutex::new(Some(thread)),
            }),
        }
    }

    /// Records how many checks are done, showing the bar once the run is over a second
    /// old (at the first update after that).
    pub fn update(&mut self, done: usize) {
        self.bar.set_position(done as u64);
        if self.enabled && !self.shown && self.started.elapsed() >= SHOW_AFTER {
            self.bar
                .set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            // Updates come when checks finish; the spinner and the clock move between them.
            self.bar.enable_steady_tick(Duration::from_millis(100));
            self.shown = true;
        }
        if self.shown {
            self.bar.tick();
        }
    }

    /// Whether the bar is drawn (never when standard error is not a terminal).
    pub fn is_shown(&self) -> bool {
        self.shown
    }

    /// Removes the bar before the report is printed (stopping the load bar's redraws
    /// first).
    pub fn finish(&self) {
        if let Some(poller) = &self.poller {
            let _ = poller.stop.send(());
            let thread = poller.thread.lock().ok().and_then(|mut t| t.take());
            if let Some(thread) = thread {
                let _ = thread.join();
            }
        }
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_drawn_when_not_wanted() {
        let mut progress = Progress::new(3, false);
        progress.started -= SHOW_AFTER * 2;
        progress.update(1);
        assert!(!progress.is_shown());
        assert!(progress.bar.is_hidden());
        progress.finish();
    }
}
