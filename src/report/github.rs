//! GitHub Actions annotations: one workflow command per check that did not conform,
//! so a reviewer sees each finding on the run's summary page and in the pull request.
//!
//! | check | line |
//! | --- | --- |
//! | `fail`, `error` | `::error title=<check id>::<message>` |
//! | `warn` | `::warning title=<check id>::<message>` |
//! | others | nothing |
//!
//! The message is the check's, with its diagnosis's finding when the message does not
//! already end with it. Values are escaped as GitHub's workflow commands require
//! (`%`, CR and LF in the message; also `:` and `,` in the title), so a message can
//! neither end the command early nor start another one. Like every report, the
//! output is written through the run's redactor (`--report github=PATH`).

use crate::check::{CheckResult, Status};

use super::RunReport;

/// The annotations of `report`, one line each.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    for check in &report.checks {
        let level = match check.status {
            Status::Fail | Status::Error => "error",
            Status::Warn => "warning",
            Status::Pass | Status::Skip | Status::Interrupted => continue,
        };
        out.push_str(&format!(
            "::{level} title={}::{}\n",
            escape_property(&check.info.id),
            escape_data(&message(check))
        ));
    }
    out
}

/// The check's message, with the diagnosis's finding when it is not already in it.
fn message(check: &CheckResult) -> String {
    match &check.diagnosis {
        Some(diagnosis) if !check.message.contains(&diagnosis.finding) => {
            format!("{}; diagnosis: {}", check.message, diagnosis.finding)
        }
        _ => check.message.clone(),
    }
}

/// A command's message: `%`, CR and LF as `%25`, `%0D`, `%0A`.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value: as a message, and `:` and `,` as `%3A`, `%2C`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_cannot_end_the_command_or_start_another() {
        assert_eq!(
            escape_data("50% done\r\n::error::forged"),
            "50%25 done%0D%0A::error::forged"
        );
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
