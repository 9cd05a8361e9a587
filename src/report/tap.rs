//! TAP version 14: a test point per check, for TAP consumers (`prove`, `tap-parser`,
//! CI plugins).
//!
//! | check | test point |
//! | --- | --- |
//! | `pass` | `ok N - ID title` |
//! | `fail` | `not ok N - ID title` and a YAML block (level, message, why, fix, repro, last exchange) |
//! | `warn` | `not ok N - ID title # TODO warning: …` (a TODO point does not fail the harness), with `--strict` plain `not ok` |
//! | `skip` | `ok N - ID title # SKIP reason` and a YAML block with the reason's kind (`reason: "needs-state-url"`) |
//! | `interrupted` | `not ok N - ID title # SKIP interrupted: …` and a YAML block `reason: "interrupted"` |
//! | `error` | `not ok N - ID title` and a YAML block with `severity: error` (the check could not run) |

use std::fmt::Write as _;

use crate::check::{CheckResult, Status};

use super::{RunReport, RunVerdict};

/// The report as TAP 14.
pub fn render(report: &RunReport) -> String {
    let mut out = String::from("TAP version 14\n");
    if report.checks.is_empty() {
        out.push_str("1..0 # SKIP no check was selected\n");
    } else {
        let _ = writeln!(out, "1..{}", report.checks.len());
    }
    let _ = writeln!(
        out,
        "# spotcheck {} — endpoint {}{} — seed {}",
        report.tool.version,
        one_line(&report.endpoint),
        if report.reference_receiver {
            " (built-in reference receiver)"
        } else {
            ""
        },
        report.seed
    );
    for note in report.top_notes() {
        let _ = writeln!(out, "# note: {}", one_line(&note));
    }
    for (index, check) in report.checks.iter().enumerate() {
        render_point(&mut out, report, index + 1, check);
    }
    let s = &report.summary;
    let verdict = match s.verdict() {
        RunVerdict::Interrupted => "INTERRUPTED",
        RunVerdict::Error => "ERROR (a check could not run)",
        RunVerdict::Unreachable => "ERROR (the endpoint could not be reached)",
        RunVerdict::Conformant => "conformant",
        RunVerdict::NotConformant => "NOT conformant",
    };
    let _ = writeln!(out, "# {} — {verdict}", s.counts());
    out
}

fn render_point(out: &mut String, report: &RunReport, number: usize, check: &CheckResult) {
    let description = escape(&format!("{} {}", check.info.id, check.info.title));
    let (ok, directive) = match check.status {
        Status::Pass => ("ok", String::new()),
        Status::Fail => ("not ok", String::new()),
        Status::Warn if report.strict => ("not ok", String::new()),
        Status::Warn => (
            "not ok",
            " # TODO warning: recommended check failed (fails the run only with --strict)"
                .to_owned(),
        ),
        Status::Skip => ("ok", format!(" # SKIP {}", escape(&check.message))),
        Status::Interrupted => (
            "not ok",
            format!(" # SKIP interrupted: {}", escape(&check.message)),
        ),
        Status::Error => ("not ok", String::new()),
    };
    let _ = writeln!(out, "{ok} {number} - {description}{directive}");
    if let Some(reason) = &check.reason {
        // The directive words the skip; the block carries its typed kind, as the JSON
        // report's `reason.kind`.
        out.push_str("  ---\n");
        let kind = super::wording::reason_kind(reason);
        let _ = writeln!(out, "  reason: {}", yaml_string(&kind));
        out.push_str("  ...\n");
    }
    if !matches!(check.status, Status::Fail | Status::Warn | Status::Error) {
        return;
    }
    out.push_str("  ---\n");
    let mut field = |key: &str, value: &str| {
        let _ = writeln!(out, "  {key}: {}", yaml_string(value));
    };
    field(
        "severity",
        match check.status {
            Status::Fail => "fail",
            Status::Error => "error",
            _ => "warn",
        },
    );
    field("level", check.info.level.as_str());
    field("message", &check.message);
    field("why", &check.info.why);
    field("fix", &check.info.fix);
    if let Some(diagnosis) = &check.diagnosis {
        field("diagnosis", &super::diagnosis::text(diagnosis, ""));
    }
    if let Some(repro) = report.repro(check) {
        field("repro", &repro);
    }
    if let Some(exchange) = check.exchanges.last() {
        field(
            "last_exchange",
            &format!(
                "{} {} -> {}",
                exchange.request.method,
                exchange.request.url,
                exchange.outcome_text()
            ),
        );
    }
    let _ = writeln!(out, "  duration_ms: {}", check.duration.as_millis());
    out.push_str("  ...\n");
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// One line with TAP's escapes: `\` as `\\`, `#` as `\#`, line breaks as spaces.
fn escape(text: &str) -> String {
    one_line(text).replace('\\', "\\\\").replace('#', "\\#")
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_escape_hash_and_backslash_and_stay_on_one_line() {
        assert_eq!(escape("a # b \\ c\nd"), "a \\# b \\\\ c d");
    }

    #[test]
    fn yaml_strings_are_quoted_and_escaped() {
        assert_eq!(yaml_string("a: \"b\"\n"), r#""a: \"b\"\n""#);
    }

    /// Snapshots with the tool's version as `[version]` (a release bump is not a
    /// change of format).
    macro_rules! assert_tap_snapshot {
        ($name:expr, $tap:expr) => {
            insta::with_settings!({filters => vec![(r"spotcheck \d+\.\d+\.\d+\S*", "spotcheck [version]")]}, {
                insta::assert_snapshot!($name, $tap);
            })
        };
    }

    /// One check of each status, as TAP 14 writes it (reviewed: `ok`/`not ok`, the
    /// TODO and SKIP directives, the YAML blocks and the closing counts).
    #[test]
    fn every_status_as_a_test_point() {
        use crate::outcome::fixture;
        let report = fixture::report(fixture::one_of_each(), false);
        assert_tap_snapshot!("tap_every_status", render(&report));
        // With --strict a warning is a plain `not ok` (no TODO directive).
        let strict = render(&fixture::report(fixture::one_of_each(), true));
        assert!(
            strict.contains("\nnot ok 3 - b.warn title of b.warn\n  ---\n  severity: \"warn\"\n")
        );
        assert!(!strict.contains("# TODO"));
    }

    #[test]
    fn an_empty_plan_is_skipped_and_notes_lead() {
        use crate::outcome::fixture;
        let mut report = fixture::report(vec![], false);
        report.transport_outage = Some(fixture::outage());
        assert_tap_snapshot!("tap_empty_with_note", render(&report));
    }
}
