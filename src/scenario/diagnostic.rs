//! Scenario errors: each problem knows its file, the byte range to underline, what was
//! expected and a "did you mean"; rendering is miette's graphical report.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

/// One mistake in one file (or a file that could not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file name as the user gave it (or `scenarios/…` for built-ins).
    pub file: String,
    /// The file's text, when the problem points into it.
    pub source: Option<Arc<str>>,
    /// What is wrong.
    pub message: String,
    /// Underlined ranges (byte offsets into `source`) with a short text each; the first is the main one.
    pub labels: Vec<(Range<usize>, String)>,
    /// What was expected / how to fix it.
    pub help: Option<String>,
}

impl Problem {
    /// A problem pointing into `source`.
    pub fn at(
        file: &str,
        source: &Arc<str>,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Problem {
        let span = clamp(span, source.len());
        Problem {
            file: file.to_owned(),
            source: Some(Arc::clone(source)),
            message: message.into(),
            labels: vec![(span, label.into())],
            help: None,
        }
    }

    /// A problem about a whole file (e.g. it cannot be read).
    pub fn file(file: &str, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_owned(),
            source: None,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Range<usize>, text: impl Into<String>) -> Problem {
        if let Some(source) = &self.source {
            self.labels.push((clamp(span, source.len()), text.into()));
        }
        self
    }

    /// `file:line:column` of the main label (1-based), or just the file.
    pub fn location(&self) -> String {
        match (&self.source, self.labels.first()) {
            (Some(source), Some((span, _))) => {
                let (line, column) = line_column(source, span.start);
                format!("{}:{line}:{column}", self.file)
            }
            _ => self.file.clone(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn clamp(span: Range<usize>, len: usize) -> Range<usize> {
    let start = span.start.min(len);
    start..span.end.clamp(start, len)
}

/// Everything wrong with a set of scenario files. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl From<Problem> for ScenarioError {
    fn from(problem: Problem) -> ScenarioError {
        ScenarioError {
            problems: vec![problem],
        }
    }
}

impl ScenarioError {
    /// Renders every problem: the message, `file:line:column`, the source line with the
    /// offending text underlined, and the help. ANSI colours only with `color`.
    pub fn render(&self, color: bool) -> String {
        render_errors(&self.problems, "scenario", color)
    }
}

/// Renders errors in files of one kind (`noun`: "scenario", "project") with a closing
/// count: every problem's message, `file:line:column`, the line underlined, the help.
pub fn render_errors(problems: &[Problem], noun: &str, color: bool) -> String {
    let mut out = render_problems(problems, miette::Severity::Error, color);
    let files = file_count(problems);
    let n = problems.len();
    out.push_str(&format!(
        "{n} {} in {files} {noun} {}\n",
        if n == 1 { "error" } else { "errors" },
        if files == 1 { "file" } else { "files" }
    ));
    out
}

/// Renders warnings (allowed, but worth knowing) the way errors are rendered, marked
/// as warnings, with a closing count; empty when there are none.
pub fn render_warnings(warnings: &[Problem], color: bool) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut out = render_problems(warnings, miette::Severity::Warning, color);
    let n = warnings.len();
    let files = file_count(warnings);
    out.push_str(&format!(
        "{n} {} in {files} scenario {}\n",
        if n == 1 { "warning" } else { "warnings" },
        if files == 1 { "file" } else { "files" }
    ));
    out
}

fn file_count(problems: &[Problem]) -> usize {
    let mut names: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

/// Each problem: the message, `file:line:column`, the source line with the offending
/// text underlined, and the help.
fn render_problems(problems: &[Problem], severity: miette::Severity, color: bool) -> String {
    {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false)
            .with_context_lines(1);
        let mut out = String::new();
        for (i, problem) in problems.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let mut report = Rendered::new(problem);
            report.severity = severity;
            let mut one = String::new();
            if handler.render_report(&mut one, &report).is_err() {
                one = format!("{}: {}\n", problem.location(), problem.message);
            }
            out.push_str(&one);
            if !one.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

impl fmt::Display for ScenarioError {
    /// One line per problem: `file:line:column: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}: {}",
                inert(&problem.location()),
                inert(&problem.message)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// `text` with every control character but a line feed and a tab written `\u{..}`: a value a
/// file spelled with TOML escapes (`"\u001b[2J"`) is shown, never acted on by the
/// terminal. The loader already refuses files holding raw control characters, so
/// spans into the source keep their offsets.
fn inert(text: &str) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\t') {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A [`Problem`] in the shape miette renders.
struct Rendered {
    message: String,
    source: Option<NamedSource<String>>,
    labels: Vec<(Range<usize>, String)>,
    help: Option<String>,
    severity: miette::Severity,
}

impl Rendered {
    fn new(problem: &Problem) -> Rendered {
        let message = if problem.source.is_none() || problem.labels.is_empty() {
            format!("{}: {}", problem.file, problem.message)
        } else {
            problem.message.clone()
        };
        Rendered {
            message: inert(&message),
            source: problem
                .source
                .as_ref()
                .map(|s| NamedSource::new(inert(&problem.file), s.to_string())),
            labels: problem
                .labels
                .iter()
                .map(|(span, text)| (span.clone(), inert(text)))
                .collect(),
            help: problem.help.as_deref().map(inert),
            severity: miette::Severity::Error,
        }
    }
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl Diagnostic for Rendered {
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.source.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, (span, text))| {
                let label = (!text.is_empty()).then(|| text.clone());
                let len = span.end - span.start;
                if i == 0 {
                    LabeledSpan::new_primary_with_span(label, (span.start, len))
                } else {
                    LabeledSpan::new_with_span(label, (span.start, len))
                }
            },
        )))
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::diagnostic::{Problem, ScenarioError, line_column};

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 11), (2, 5));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn control_characters_in_a_message_are_shown_escaped() {
        let err = ScenarioError::from(Problem::file("x.toml", "unknown level \"\u{1b}[2J\""));
        assert_eq!(err.to_string(), "x.toml: unknown level \"\\u{1b}[2J\"");
        assert!(!err.render(true).contains("\u{1b}[2J"));
    }

    #[test]
    fn file_level_problem_renders_without_source() {
        let err = ScenarioError::from(Problem::file("x.toml", "cannot read: nope"));
        let text = err.render(false);
        assert!(text.contains("x.toml: cannot read: nope"), "{text}");
        assert!(text.ends_with("1 error in 1 scenario file\n"), "{text}");
    }
}
