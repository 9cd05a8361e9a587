//! How a `send` or `redeliver` came out, as data: per message, the verdict on its one
//! exchange or how its retry sequence ended. The front maps it to an exit code.

use crate::delivery::retry_or_park::RetryOutcome;
use crate::delivery::verdict::DeliveryVerdict;

/// How one message came out.
#[derive(Debug, Clone)]
pub enum MessageOutcome {
    /// Sent once: Spotnana's verdict on the answer.
    Sent(DeliveryVerdict),
    /// Sent on the retry policy: delivered, parked, or interrupted (and parked).
    Retried(RetryOutcome),
}

impl MessageOutcome {
    /// Whether the message got `200 OK`.
    pub fn delivered(&self) -> bool {
        match self {
            MessageOutcome::Sent(verdict) => verdict.delivered(),
            MessageOutcome::Retried(outcome) => matches!(outcome, RetryOutcome::Delivered { .. }),
        }
    }

    /// Whether a stop signal interrupted its retry sequence.
    pub fn interrupted(&self) -> bool {
        matches!(
            self,
            MessageOutcome::Retried(RetryOutcome::Interrupted { .. })
        )
    }
}

/// How every message of the command came out, in the order sent. An interrupted
/// message is the last: nothing is sent after a stop.
#[derive(Debug, Clone, Default)]
pub struct SendOutcome {
    /// One entry per message sent.
    pub messages: Vec<MessageOutcome>,
}

impl SendOutcome {
    /// Whether every message sent got `200 OK`.
    pub fn all_delivered(&self) -> bool {
        self.messages.iter().all(MessageOutcome::delivered)
    }

    /// Whether a stop signal ended the command.
    pub fn interrupted(&self) -> bool {
        self.messages.iter().any(MessageOutcome::interrupted)
    }
}
