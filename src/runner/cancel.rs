//! The signal that asks a run to stop (the front raises it on Ctrl-C): once raised,
//! no new check starts, exchanges in flight get a short grace, and every check not
//! reached is reported as interrupted.

use tokio::sync::watch;

/// The engine's side of the signal: whether a stop was asked, and waiting for it.
#[derive(Debug, Clone)]
pub struct Cancel {
    received: watch::Receiver<bool>,
}

/// The front's side of the signal: raises it.
#[derive(Debug)]
pub struct CancelTrigger {
    sender: watch::Sender<bool>,
}

impl Cancel {
    /// A signal and the trigger that raises it. Dropping the trigger unraised means
    /// the run is never asked to stop.
    pub fn new() -> (CancelTrigger, Cancel) {
        let (sender, received) = watch::channel(false);
        (CancelTrigger { sender }, Cancel { received })
    }

    /// Whether a stop was asked.
    pub fn is_set(&self) -> bool {
        *self.received.borrow()
    }

    /// Resolves when a stop is asked (never, once the trigger is gone unraised).
    pub async fn wait(&self) {
        let mut received = self.received.clone();
        if received.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl CancelTrigger {
    /// Asks the run to stop.
    pub fn cancel(&self) {
        let _ = self.sender.send(true);
    }
}
