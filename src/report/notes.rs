//! The notes every human-readable format shows above the checks: a transport outage
//! said once, and the connection-close practice; and each failed check's replay command.
//!
//! Methods on the run's data ([`crate::outcome`]) that produce report text live here,
//! so the data model holds no wording.

use crate::check::CheckResult;
use crate::delivery::connection::ConnectionCounts;
use crate::outcome::{RunReport, TransportOutage, Unreachable};

use super::repro;

impl TransportOutage {
    /// One paragraph for the top of every human-readable report.
    pub fn summary(&self) -> String {
        let classes: Vec<String> = self
            .classes
            .iter()
            .map(|(class, n)| format!("{class} \u{d7}{n}"))
            .collect();
        format!(
            "The endpoint stopped answering: {} requests failed in transport ({}) from {}, \
             after {} requests, hitting {} checks: {}. One cause is likely behind them all \
             (worker or thread pool exhausted, a proxy, keep-alive settings); fix it before \
             reading those checks' failures.",
            self.failed_requests,
            classes.join(", "),
            self.started_at,
            self.after_requests,
            self.checks.len(),
            self.checks.join(", ")
        )
    }
}

impl Unreachable {
    /// The one message of a run that could not reach its endpoint.
    pub fn summary(&self) -> String {
        let tries = if self.attempts == 1 {
            "1 attempt".to_owned()
        } else {
            format!(
                "{} attempts over {:.1} s",
                self.attempts,
                self.waited_ms as f64 / 1000.0
            )
        };
        format!(
            "could not reach the endpoint at {}: {} ({}; {tries}). No check was judged: \
             this says nothing about the endpoint's code. Check the address and the port, \
             that the server is running, and that this machine can reach it.",
            self.address,
            self.message,
            self.class.as_str()
        )
    }
}

/// The recommended-practice note on kept-alive connections the endpoint closed right
/// after an answer without `Connection: close` (which then made spotcheck resend).
pub fn connection_note(counts: &ConnectionCounts) -> Option<String> {
    if counts.closed_without_notice == 0 && counts.resent == 0 {
        return None;
    }
    let after: Vec<String> = counts
        .closed_without_notice_after
        .iter()
        .map(u16::to_string)
        .collect();
    let after = if after.is_empty() {
        String::new()
    } else {
        format!(" after answering {}", after.join(", "))
    };
    Some(format!(
        "The endpoint closed kept-alive connections{after} without `Connection: close` \
         ({} seen, {} requests resent once on a fresh connection; no check is failed for \
         it). Recommended: send `Connection: close` on an answer after which the server \
         closes the connection (RFC 9112 \u{a7}9.6), so senders do not send on a closed \
         connection.",
        counts.closed_without_notice, counts.resent
    ))
}

impl RunReport {
    /// The notes every human-readable report shows at its top: an endpoint that could
    /// not be reached, a transport outage and the connection-close practice, when there
    /// are any.
    pub fn top_notes(&self) -> Vec<String> {
        self.unreachable
            .iter()
            .map(Unreachable::summary)
            .chain(self.transport_outage.iter().map(TransportOutage::summary))
            .chain(self.connections.as_ref().and_then(connection_note))
            .chain(
                self.coverage
                    .as_ref()
                    .filter(|c| !c.below_minimum.is_empty())
                    .map(|c| super::coverage::shortfall_note(&c.below_minimum)),
            )
            .collect()
    }

    /// The command that replays `check` with the same seed, for a failed or warned
    /// check; `None` otherwise.
    pub fn repro(&self, check: &CheckResult) -> Option<String> {
        repro::for_check(&self.replay, self.seed, check)
    }
}

#[cfg(test)]
mod tests {
    use crate::outcome::TransportOutage;

    #[test]
    fn an_outage_is_one_paragraph_naming_its_checks() {
        let outage = TransportOutage {
            started_at: "2026-01-01T00:00:00.004Z".into(),
            after_requests: 4,
            failed_requests: 3,
            classes: [("reset".to_owned(), 1), ("timeout".to_owned(), 2)].into(),
            checks: vec!["c.first".into(), "e.second".into()],
        };
        let summary = outage.summary();
        assert!(
            summary.contains("after 4 requests, hitting 2 checks: c.first, e.second"),
            "{summary}"
        );
        assert!(
            summary.contains("(reset \u{d7}1, timeout \u{d7}2)"),
            "{summary}"
        );
    }
}
