//! `--report FORMAT=PATH`: which format goes where, and writing it.

use crate::outcome::RunReport;

use super::{github, html, json, junit, markdown, tap, write};

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The JSON report.
    Json,
    /// JUnit XML for CI test tabs.
    Junit,
    /// The Markdown sign-off report.
    Markdown,
    /// TAP version 14, a test point per check.
    Tap,
    /// The sign-off report as one self-contained HTML file.
    Html,
    /// GitHub Actions annotations, a line per failed or warned check (`report/github.rs`).
    Github,
}

/// One `--report FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    /// The format.
    pub format: ReportFormat,
    /// Where to write it (`-` for stdout).
    pub path: std::path::PathBuf,
}

impl ReportTarget {
    /// Parses `FORMAT=PATH` and checks that the folder exists.
    pub fn parse(text: &str) -> Result<ReportTarget, crate::SetupError> {
        let hint = "write --report FORMAT=PATH with FORMAT json, junit, markdown, tap or html, or github for GitHub annotations (- for stdout)";
        let (format, path) = text.split_once('=').ok_or_else(|| {
            crate::SetupError::new(format!("--report `{text}` is not FORMAT=PATH")).with_hint(hint)
        })?;
        let format = match format.trim().to_ascii_lowercase().as_str() {
            "json" => ReportFormat::Json,
            "junit" => ReportFormat::Junit,
            "markdown" | "md" => ReportFormat::Markdown,
            "tap" => ReportFormat::Tap,
            "html" => ReportFormat::Html,
            "github" => ReportFormat::Github,
            other => {
                return Err(crate::SetupError::new(format!(
                    "--report format `{other}` is unknown; expected json, junit, markdown, tap or html (or github: GitHub annotations)"
                ))
                .with_hint(hint));
            }
        };
        if path.is_empty() {
            return Err(
                crate::SetupError::new(format!("--report `{text}` has no path")).with_hint(hint),
            );
        }
        let path = std::path::PathBuf::from(path);
        write::check_writable(&path)?;
        Ok(ReportTarget { format, path })
    }

    /// Renders and writes the report.
    pub fn write(&self, report: &RunReport) -> std::io::Result<()> {
        let bytes = match self.format {
            ReportFormat::Json => json::render(report),
            ReportFormat::Junit => junit::render(report),
            ReportFormat::Markdown => markdown::render(report).into_bytes(),
            ReportFormat::Tap => tap::render(report).into_bytes(),
            ReportFormat::Html => html::render(report).into_bytes(),
            ReportFormat::Github => github::render(report).into_bytes(),
        };
        // The one edge every report format leaves through: every credential value of
        // the run masked (see crate::redact).
        crate::atomic_file::write_atomic(&self.path, &crate::redact::bytes(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_and_html_targets_parse() {
        assert_eq!(
            ReportTarget::parse("tap=-").unwrap().format,
            ReportFormat::Tap
        );
        assert_eq!(
            ReportTarget::parse("HTML=-").unwrap().format,
            ReportFormat::Html
        );
        let err = ReportTarget::parse("pdf=-").unwrap_err();
        assert!(
            err.to_string().contains(
                "expected json, junit, markdown, tap or html (or github: GitHub annotations)"
            ),
            "{err}"
        );
    }
}
