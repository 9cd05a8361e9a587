//! `--report FORMAT=PATH`: which format goes where, and writing it.

use crate::outcome::RunReport;

use super::{html, json, junit, markdown, tap, write};

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
}

impl ReportFormat {
    /// Every format with its name, as `--report NAME=PATH` and a project file's
    /// `[reports]` write it, in the order help texts list them: the one grammar of
    /// report names.
    pub const NAMED: [(&'static str, ReportFormat); 5] = [
        ("json", ReportFormat::Json),
        ("junit", ReportFormat::Junit),
        ("markdown", ReportFormat::Markdown),
        ("tap", ReportFormat::Tap),
        ("html", ReportFormat::Html),
    ];

    /// The names of [`ReportFormat::NAMED`], in order.
    pub const NAMES: [&'static str; 5] = {
        let mut names = [""; 5];
        let mut i = 0;
        while i < names.len() {
            names[i] = ReportFormat::NAMED[i].0;
            i += 1;
        }
        names
    };

    /// The format called `name` (lowercase); `md` is short for `markdown`.
    pub fn named(name: &str) -> Option<ReportFormat> {
        if name == "md" {
            return Some(ReportFormat::Markdown);
        }
        ReportFormat::NAMED
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, format)| *format)
    }

    /// `json, junit, markdown, tap or html`.
    pub fn names_text() -> String {
        let (last, rest) = ReportFormat::NAMES.split_last().unwrap_or((&"", &[]));
        format!("{} or {last}", rest.join(", "))
    }
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
        let names = ReportFormat::names_text();
        let hint = format!("write --report FORMAT=PATH with FORMAT {names} (- for stdout)");
        let (format, path) = text.split_once('=').ok_or_else(|| {
            crate::SetupError::new(format!("--report `{text}` is not FORMAT=PATH"))
                .with_hint(hint.clone())
        })?;
        let name = format.trim().to_ascii_lowercase();
        let Some(format) = ReportFormat::named(&name) else {
            return Err(crate::SetupError::new(format!(
                "--report format `{name}` is unknown; expected {names}"
            ))
            .with_hint(hint));
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
            err.to_string()
                .contains("expected json, junit, markdown, tap or html"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod names {
    use super::ReportFormat;

    /// The one table names every format, once, and reads back what it names.
    #[test]
    fn every_name_reads_back_its_format() {
        assert_eq!(
            ReportFormat::names_text(),
            "json, junit, markdown, tap or html"
        );
        for (name, format) in ReportFormat::NAMED {
            assert_eq!(ReportFormat::named(name), Some(format));
        }
        assert_eq!(ReportFormat::named("md"), Some(ReportFormat::Markdown));
        assert_eq!(ReportFormat::named("xml"), None);
    }
}
