//! JUnit XML: one testsuite per suite, one testcase per check.
//!
//! Failed required checks are failures; warnings pass with a `system-out` note (CI
//! tabs count failures, and a warning must not fail the pipeline unless `--strict`);
//! skipped checks are skipped (typed by their reason's kind: `<skipped type="needs-state-url">`,
//! `type="interrupted"`); a check that could not run (status `error`) is an
//! `<error>`.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::check::{CheckResult, Status};

use super::RunReport;

/// The report as JUnit XML.
pub fn render(report: &RunReport) -> Vec<u8> {
    let mut junit = Report::new("spotcheck");
    let mut suites: Vec<TestSuite> = Vec::new();
    for check in &report.checks {
        let suite_name = check.info.suite();
        let index = match suites.iter().position(|s| s.name.as_str() == suite_name) {
            Some(i) => i,
            None => {
                suites.push(TestSuite::new(suite_name));
                suites.len() - 1
            }
        };
        suites[index].add_test_case(test_case(
            check,
            report.strict_warnings(),
            report.repro(check),
        ));
    }
    // The run-wide notes (a transport outage, connection practice) lead the first
    // suite's output: JUnit has no report-level text.
    let notes = report.top_notes();
    if let Some(first) = suites.first_mut()
        && !notes.is_empty()
    {
        first.set_system_out(format!("note: {}\n", notes.join("\nnote: ")));
    }
    junit.add_test_suites(suites);
    junit.set_time(std::time::Duration::from_millis(report.duration_ms));
    junit
        .to_string()
        .map(|xml| without_root_skipped(xml).into_bytes())
        .unwrap_or_else(|err| {
            format!("<!-- spotcheck could not serialize the JUnit report: {err} -->\n").into_bytes()
        })
}

/// Drops the `skipped` count quick-junit always writes on the `<testsuites>` root. The
/// Jenkins xUnit plugin validates a report against its JUnit schema before importing
/// it, and that schema has no such attribute there, so the whole report would be
/// refused; each `<testsuite>` keeps its own `skipped` count.
fn without_root_skipped(xml: String) -> String {
    let Some(root) = xml.find("<testsuites") else {
        return xml;
    };
    let tag_end = xml[root..].find('>').map_or(xml.len(), |end| root + end);
    let Some(at) = xml[root..tag_end].find(" skipped=\"").map(|at| root + at) else {
        return xml;
    };
    let value = at + " skipped=\"".len();
    let Some(close) = xml[value..tag_end].find('"').map(|close| value + close + 1) else {
        return xml;
    };
    format!("{}{}", &xml[..at], &xml[close..])
}

fn test_case(check: &CheckResult, strict: bool, repro: Option<String>) -> TestCase {
    let status = match check.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Warn if !strict => TestCaseStatus::success(),
        Status::Fail | Status::Warn => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(check.message.clone());
            status.set_type(check.info.level.as_str());
            status.set_description(details(check, repro.as_deref()));
            status
        }
        // The skip's `type` is the typed reason's kind (`needs-state-url`), as the JSON
        // report's `reason.kind`: the one place both JUnit schemas give a skip.
        Status::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(check.message.clone());
            if let Some(reason) = &check.reason {
                status.set_type(super::wording::reason_kind(reason));
            }
            status
        }
        // Not a finding about the endpoint: the check could not run (exit code 2).
        Status::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(check.message.clone());
            status.set_type("error");
            status.set_description(details(check, repro.as_deref()));
            status
        }
        // Not a failure of the endpoint: the run was cut short (the exit code, 130, says so).
        Status::Interrupted => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("interrupted: {}", check.message));
            status.set_type("interrupted");
            status
        }
    };
    let mut case = TestCase::new(check.info.id.clone(), status);
    case.set_classname(check.info.suite().to_owned());
    case.set_time(check.duration);
    if check.status == Status::Warn && !strict {
        case.set_system_out(format!(
            "WARNING (recommended check failed; does not fail the run without --strict): {}\n{}",
            check.message,
            details(check, repro.as_deref())
        ));
    }
    case
}

/// The failure text: the exchanges that tell the story (earlier ones in one line each,
/// the last in full, secret-free), then why it matters, how to fix it and the command
/// that replays the check.
fn details(check: &CheckResult, repro: Option<&str>) -> String {
    let mut text = String::new();
    let count = check.exchanges.len();
    for (index, exchange) in check.exchanges.iter().enumerate() {
        if index + 1 < count {
            text.push_str(&format!(
                "> {} {}\n< {}\n",
                exchange.request.method,
                exchange.request.url,
                exchange.outcome_text()
            ));
            continue;
        }
        text.push_str(&format!(
            "> {} {}\n",
            exchange.request.method, exchange.request.url
        ));
        for (name, value) in &exchange.request.headers {
            text.push_str(&format!("> {name}: {value}\n"));
        }
        if !exchange.request.body_excerpt.is_empty() {
            text.push_str(&format!(
                "> body ({} bytes): {}\n",
                exchange.request.body_len, exchange.request.body_excerpt
            ));
        }
        match &exchange.response {
            Some(response) => {
                text.push_str(&format!(
                    "< {} ({} ms)\n",
                    response.status_line(),
                    exchange.duration.as_millis()
                ));
                for (name, value) in &response.headers {
                    text.push_str(&format!("< {name}: {value}\n"));
                }
                if !response.body_excerpt.is_empty() {
                    text.push_str(&format!("< body: {}\n", response.body_excerpt));
                }
            }
            None => text.push_str(&format!(
                "< no answer: {} after {} ms\n",
                exchange.outcome_text(),
                exchange.duration.as_millis()
            )),
        }
    }
    if let Some(diagnosis) = &check.diagnosis {
        text.push_str(&super::diagnosis::text(diagnosis, ""));
    }
    text.push_str(&format!(
        "why: {}\nfix: {}\n",
        check.info.why, check.info.fix
    ));
    if let Some(repro) = repro {
        text.push_str(&format!("repro: {repro}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{render, without_root_skipped};
    use crate::outcome::fixture;

    fn xml(report: &crate::outcome::RunReport) -> String {
        String::from_utf8(render(report)).expect("UTF-8")
    }

    /// One check of each status (reviewed: the failure with its earlier exchange on
    /// one line and the last in full, the warning as a passing case with a
    /// `system-out`, the typed skips, the error).
    #[test]
    fn every_status_as_a_test_case() {
        insta::assert_snapshot!(
            "junit_every_status",
            xml(&fixture::report(fixture::one_of_each(), false))
        );
    }

    /// With --strict a warning is a failure of its own, with no `system-out`.
    #[test]
    fn a_warning_fails_only_with_strict() {
        let strict = xml(&fixture::report(fixture::one_of_each(), true));
        assert!(strict.contains("failures=\"2\""), "{strict}");
        assert!(
            strict.contains("<failure message=\"slow\" type=\"recommended\">"),
            "{strict}"
        );
        assert!(!strict.contains("WARNING"), "{strict}");
    }

    /// The run-wide notes lead the first suite's output; with none there is no
    /// `system-out` at suite level.
    #[test]
    fn notes_lead_the_first_suite() {
        let mut report = fixture::report(fixture::one_of_each(), false);
        report.transport_outage = Some(fixture::outage());
        let with_note = xml(&report);
        let first_suite = with_note.split("<testsuite ").nth(1).unwrap();
        assert!(first_suite.contains("<system-out>note: "), "{with_note}");
        let plain = xml(&fixture::report(fixture::one_of_each(), false));
        assert!(!plain.contains("note: "), "{plain}");
    }

    #[test]
    fn only_the_root_loses_its_skipped_count() {
        let xml = "<?xml version=\"1.0\"?>\n<testsuites name=\"spotcheck\" tests=\"2\" skipped=\"1\" failures=\"0\">\n<testsuite name=\"tls\" tests=\"2\" skipped=\"1\">\n";
        assert_eq!(
            without_root_skipped(xml.to_owned()),
            "<?xml version=\"1.0\"?>\n<testsuites name=\"spotcheck\" tests=\"2\" failures=\"0\">\n<testsuite name=\"tls\" tests=\"2\" skipped=\"1\">\n"
        );
        let bare = "<testsuites name=\"x\">\n<testsuite skipped=\"3\">";
        assert_eq!(without_root_skipped(bare.to_owned()), bare);
    }
}
