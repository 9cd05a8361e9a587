//! Checks built by hand for unit tests: one check of a given status, exchanges
//! with a given answer. Test-only. Here, beside `CheckResult`, so that the tests of
//! `check.rs` use them without importing the run report (`outcome::fixture` builds
//! reports around them).

use std::time::Duration;

use crate::check::{CheckError, CheckInfo, CheckResult, ErrorCause, Level, SkipReason, Verdict};
use crate::delivery::exchange::{Exchange, RequestRecord, ResponseRecord};

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
