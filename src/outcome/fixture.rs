//! Reports built by hand for the unit tests of the report formats: one check of a
//! given status, exchanges with a given answer, a run report around them. Test-only.

use std::time::Duration;

use crate::check::{CheckError, CheckInfo, CheckResult, ErrorCause, Level, SkipReason, Verdict};
use crate::delivery::exchange::{Exchange, RequestRecord, ResponseRecord};
use crate::outcome::{RunReport, Summary, ToolInfo};

/// A check with this id, level and verdict (why `why`, fix `fix`).
pub fn check(id: &str, level: Level, verdict: Verdict, exchanges: Vec<Exchange>) -> CheckResult {
    CheckResult::new(
        CheckInfo {
            id: id.into(),
            title: format!("title of {id}"),
            level,
            why: "why".into(),
            fix: "fix".into(),
            tags: vec![],
            needs: Default::default(),
            diagnosis: None,
        },
        verdict,
        Duration::from_millis(7),
        exchanges,
    )
}

/// One check of each status, in this order: pass, fail, warn, skip (needs a state
/// URL), error, interrupted.
pub fn one_of_each() -> Vec<CheckResult> {
    vec![
        check(
            "a.pass",
            Level::Required,
            Verdict::Passed("fine".into()),
            vec![],
        ),
        check(
            "a.fail",
            Level::Required,
            Verdict::Failed("refused".into()),
            vec![answered(401, "/first"), answered(401, "/last")],
        ),
        check(
            "b.warn",
            Level::Recommended,
            Verdict::Failed("slow".into()),
            vec![answered(200, "/warned")],
        ),
        check(
            "b.skip",
            Level::Required,
            Verdict::Skipped(SkipReason::NeedsStateUrl),
            vec![],
        ),
        check(
            "c.error",
            Level::Required,
            Verdict::Error(CheckError {
                step: None,
                cause: ErrorCause::Other {
                    text: "bad template".into(),
                },
            }),
            vec![],
        ),
        CheckResult::interrupted(
            check(
                "c.cut",
                Level::Required,
                Verdict::Passed("x".into()),
                vec![],
            )
            .info,
        ),
    ]
}

/// A POST to `path` on 127.0.0.1:1 answered with `status` (`{}` both ways).
pub fn answered(status: u16, path: &str) -> Exchange {
    Exchange {
        request: RequestRecord {
            method: "POST".into(),
            url: format!("https://127.0.0.1:1{path}"),
            headers: vec![("x-spotnana-webhook-id".into(), "evt-1".into())],
            body_len: 2,
            body_excerpt: "{}".into(),
            body: bytes::Bytes::from_static(b"{}"),
        },
        response: Some(ResponseRecord {
            status,
            reason: reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")
                .into(),
            headers: vec![("content-type".into(), "text/plain".into())],
            body_excerpt: "no".into(),
            body_bytes_read: 2,
            body_truncated: false,
            body: bytes::Bytes::from_static(b"no"),
        }),
        error: None,
        started_at_ms: 1_767_225_600_000,
        duration: Duration::from_millis(3),
        note: None,
        not_sent: false,
    }
}

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
