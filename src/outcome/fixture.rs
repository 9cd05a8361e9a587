//! Reports built by hand for the unit tests of the report formats: a run report
//! around checks of a given status (built by `check::fixture`). Test-only.

use crate::check::CheckResult;
pub use crate::check::fixture::{check, one_of_each};
use crate::outcome::{RunReport, Summary, ToolInfo};

/// A run report around `checks` (`--strict` when `strict`).
pub fn report(checks: Vec<CheckResult>, strict: bool) -> RunReport {
    RunReport {
        tool: ToolInfo::current(),
        endpoint: "https://127.0.0.1:1/hooks".into(),
        reference_receiver: false,
        seed: 1,
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 1500,
        events: vec![],
        subscription: Default::default(),
        strict,
        summary: Summary::of(&checks, strict),
        checks,
        tls: None,
        latency: None,
        connections: None,
        unreachable: None,
        transport_outage: None,
        route: None,
        verdict_reason: None,
        coverage: None,
        replay: Default::default(),
    }
}

/// A transport outage over two checks (a note every format puts at the top).
pub fn outage() -> crate::outcome::TransportOutage {
    crate::outcome::TransportOutage {
        started_at: "2026-01-01T00:00:00.004Z".into(),
        after_requests: 4,
        failed_requests: 3,
        classes: [("timeout".to_owned(), 3)].into_iter().collect(),
        checks: vec!["a.fail".into(), "b.warn".into()],
    }
}
