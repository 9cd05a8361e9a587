//! JUnit XML: one testsuite per suite, one testcase per check.
//!
//! Failed required checks are failures; warnings pass with a `system-out` note (CI
//! tabs count failures, and a warning must not fail the pipeline unless `--strict`);
//! skipped checks are skipped.

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
        suites[index].add_test_case(test_case(check, report.strict_warnings()));
    }
    junit.add_test_suites(suites);
    junit.set_time(std::time::Duration::from_millis(report.duration_ms));
    junit
        .to_string()
        .map(String::into_bytes)
        .unwrap_or_else(|err| {
            format!("<!-- spotcheck could not serialize the JUnit report: {err} -->\n").into_bytes()
        })
}

fn test_case(check: &CheckResult, strict: bool) -> TestCase {
    let status = match check.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Warn if !strict => TestCaseStatus::success(),
        Status::Fail | Status::Warn => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(check.message.clone());
            status.set_type(check.info.level.as_str());
            status.set_description(details(check));
            status
        }
        Status::Skip | Status::Interrupted => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(check.message.clone());
            status
        }
    };
    let mut case = TestCase::new(check.info.id.clone(), status);
    case.set_classname(check.info.suite().to_owned());
    case.set_time(check.duration);
    if check.status == Status::Warn && !strict {
        case.set_system_out(format!(
            "WARNING (recommended check failed): {}\n{}",
            check.message,
            details(check)
        ));
    }
    case
}

fn details(check: &CheckResult) -> String {
    let mut text = String::new();
    for exchange in &check.exchanges {
        text.push_str(&format!(
            "> {} {}\n< {}\n",
            exchange.request.method,
            exchange.request.url,
            exchange.outcome_text()
        ));
    }
    text.push_str(&format!(
        "why: {}\nfix: {}\n",
        check.info.why, check.info.fix
    ));
    text
}
