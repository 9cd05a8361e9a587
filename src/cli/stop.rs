//! The one place that listens for the signals asking spotcheck to stop.
//!
//! Ctrl-C is not the only way a run ends early: CI cancellation, `timeout`,
//! `docker stop` and Kubernetes send SIGTERM, a closed terminal or SSH session sends
//! SIGHUP. Each is a clean stop: reports are written, unfinished checks are marked
//! `interrupted`, undelivered messages are parked. The listener says which signal came,
//! so the exit code can tell them apart as shells do (128 + the signal's number).
//!
//! The handlers are installed when [`StopSignals::listen`] is called (not when someone
//! first waits), and stay installed for the rest of the process: a second signal while
//! reports are being written does not kill the process half-way.

use tokio::sync::watch;

use crate::error::exit;
use crate::runner::Cancel;

/// A signal that asks spotcheck to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP.
    HangUp,
}

impl StopSignal {
    /// The exit code of a command this signal stopped: 130, 143, 129.
    pub fn exit_code(self) -> u8 {
        match self {
            StopSignal::Interrupt => exit::INTERRUPTED,
            StopSignal::Terminate => exit::TERMINATED,
            StopSignal::HangUp => exit::HUNG_UP,
        }
    }

    /// `SIGINT`, `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::HangUp => "SIGHUP",
        }
    }
}

/// The stop signals, listened for from [`StopSignals::listen`] on; cheap to clone.
#[derive(Debug, Clone)]
pub struct StopSignals {
    received: watch::Receiver<Option<StopSignal>>,
}

impl StopSignals {
    /// Installs the handlers for SIGINT, SIGTERM and SIGHUP (Ctrl-C only where there
    /// are no Unix signals) and starts listening. Must be called inside the runtime.
    pub fn listen() -> StopSignals {
        let (sender, received) = watch::channel(None);
        listen_into(sender);
        StopSignals { received }
    }

    /// The first stop signal received so far, if any.
    pub fn received(&self) -> Option<StopSignal> {
        *self.received.borrow()
    }

    /// Resolves with the first stop signal (at once if one came already). Never
    /// resolves when the signals could not be listened for.
    pub async fn wait(&self) -> StopSignal {
        let mut received = self.received.clone();
        let first = received
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|s| *s);
        match first {
            Some(signal) => signal,
            None => std::future::pending().await,
        }
    }
}

#[cfg(unix)]
fn listen_into(sender: watch::Sender<Option<StopSignal>>) {
    use tokio::signal::unix::{SignalKind, signal};
    // Installed now, synchronously: a signal arriving before the task first runs is
    // kept by tokio and seen below. A kind that cannot be installed is left to the
    // system's default (the others still work).
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut hang_up = signal(SignalKind::hangup()).ok();
    async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
        match signal {
            Some(signal) => {
                if signal.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    }
    tokio::spawn(async move {
        loop {
            let which = tokio::select! {
                () = next(&mut interrupt) => StopSignal::Interrupt,
                () = next(&mut terminate) => StopSignal::Terminate,
                () = next(&mut hang_up) => StopSignal::HangUp,
            };
            // The first signal counts; later ones are swallowed (the handlers stay
            // installed) while the command finishes its clean stop.
            sender.send_if_modified(|first| {
                if first.is_none() {
                    *first = Some(which);
                    true
                } else {
                    false
                }
            });
        }
    });
}

#[cfg(not(unix))]
fn listen_into(sender: watch::Sender<Option<StopSignal>>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = sender.send(Some(StopSignal::Interrupt));
            // Keep the handler installed until the command ends.
            std::future::pending::<()>().await;
        }
    });
}

/// The stop signals (Ctrl-C, SIGTERM, SIGHUP), listened for from the start of the
/// command: the first one raises the engine's `Cancel` (`run`, `send --retry`,
/// `redeliver --retry`).
pub struct Interrupt {
    /// The engine's side of the signal.
    pub cancel: Cancel,
    /// Which signal came, for the exit code.
    pub signals: StopSignals,
}

impl Interrupt {
    pub fn listen() -> Interrupt {
        let (trigger, cancel) = Cancel::new();
        let signals = StopSignals::listen();
        let waiting = signals.clone();
        tokio::spawn(async move {
            waiting.wait().await;
            trigger.cancel();
        });
        Interrupt { cancel, signals }
    }

    /// For a command that listens only while retrying (`send --retry`, `redeliver
    /// --retry`): the listener when `listening`, and the cancel the engine watches
    /// (one that never fires when not listening).
    pub fn when(listening: bool) -> (Option<Interrupt>, Cancel) {
        let interrupt = listening.then(Interrupt::listen);
        let cancel = interrupt
            .as_ref()
            .map_or_else(|| Cancel::new().1, |i| i.cancel.clone());
        (interrupt, cancel)
    }

    /// The signal that stopped the run, once the engine has returned.
    pub fn stopped_by(&self) -> Option<StopSignal> {
        if self.cancel.is_set() {
            // The cancel is raised only after a signal was recorded.
            self.signals.received()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal_number() {
        assert_eq!(StopSignal::Interrupt.exit_code(), 128 + 2);
        assert_eq!(StopSignal::Terminate.exit_code(), 128 + 15);
        assert_eq!(StopSignal::HangUp.exit_code(), 128 + 1);
    }
}
