//! The HTML sign-off report: the Markdown report rendered to HTML (one copy of the
//! wording), in one self-contained file with an inline style sheet, no script and no
//! external asset, readable offline.
//!
//! Everything from the endpoint is escaped: raw HTML in the Markdown (an endpoint's
//! answer quoted in a finding) becomes text, links and images become their text, and a
//! Content-Security-Policy forbids scripts and remote loads should anything slip
//! through. Stable hooks for tools and tests: `<p class="verdict conformant|not-conformant|error|interrupted">`,
//! `<tr class="check STATUS" data-check-id="ID">` per check (checks that could not be
//! judged for one shared cause: one `<tr class="check skip grouped"
//! data-check-ids="ID ID …">`), `<span class="mark STATUS">` before each outcome
//! (drawn by the style sheet, so it needs no glyph from any font), `<h3 id="check-ID">`
//! per failure or warning, and `<pre class="repro" data-check-id="ID">` around its
//! replay command.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::check::Status;

use super::markdown::{self, CHECKS_HEADING};
use super::wording::{self, Line};
use super::{RunReport, RunVerdict};

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji", sans-serif; color: #1b1f24; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 1.7em; margin: 0.2em 0 0.6em; }
h2 { font-size: 1.35em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; margin-top: 1.8em; }
h3 { font-size: 1.1em; margin-top: 1.6em; }
p.verdict { font-size: 1.15em; padding: 10px 14px; border-radius: 6px; border: 1px solid; }
p.verdict.conformant { background: #e6f6ea; border-color: #4ac26b; }
p.verdict.not-conformant { background: #fdecec; border-color: #e5534b; }
p.verdict.interrupted { background: #fff8e1; border-color: #d4a72c; }
p.verdict.error { background: #f5e8ff; border-color: #8250df; }
table { border-collapse: collapse; margin: 0.8em 0; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f6f8fa; white-space: nowrap; }
tr.check td:not(:last-child) { white-space: nowrap; }
tr.check.pass td:first-child { color: #1a7f37; }
tr.check.fail { background: #fdecec; }
tr.check.warn { background: #fff8e1; }
tr.check.error { background: #f5e8ff; }
tr.check.skip, tr.check.interrupted { color: #57606a; }
code { font: 0.92em ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; background: #f6f8fa; padding: 0 3px; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
pre code { background: none; padding: 0; }
pre.repro { background: #eef4ff; border-color: #8cb4ff; }
span.mark { display: inline-block; width: 0.75em; height: 0.75em; margin-right: 0.4em; vertical-align: -0.05em; }
span.mark.pass { background: #1a7f37; border-radius: 50%; }
span.mark.fail { background: #cf222e; clip-path: polygon(20% 0, 50% 30%, 80% 0, 100% 20%, 70% 50%, 100% 80%, 80% 100%, 50% 70%, 20% 100%, 0 80%, 30% 50%, 0 20%); }
span.mark.warn { background: #bf8700; clip-path: polygon(50% 0, 100% 100%, 0 100%); }
span.mark.skip { background: #8c959f; clip-path: polygon(0 0, 100% 50%, 0 100%); }
span.mark.interrupted { background: #8c959f; }
span.mark.error { background: #8250df; clip-path: polygon(30% 0, 70% 0, 100% 30%, 100% 70%, 70% 100%, 30% 100%, 0 70%, 0 30%); }
tr.check.grouped td { white-space: normal; }
@media print { main { max-width: none; padding: 0; } pre { break-inside: avoid; } }
"#;

/// The report as one self-contained HTML document.
pub fn render(report: &RunReport) -> String {
    let source = markdown::render(report);
    let events: Vec<Event> = Parser::new_ext(&source, Options::ENABLE_TABLES).collect();
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, Annotate::new(report, events));
    page(
        &format!("{} {}", report.tool.name, report.tool.version),
        &format!("Spotnana webhook conformance report: {}", report.endpoint),
        verdict_class(report),
        super::coverage::HTML_STYLE,
        &body,
    )
}

/// The page shell of every HTML report (the run report and the load report): one
/// self-contained document with the shared style sheet plus `extra_style`, and a
/// Content-Security-Policy that forbids scripts and remote loads. `generator` and
/// `title` are escaped here; `body` is HTML the caller has made safe.
pub fn page(
    generator: &str,
    title: &str,
    body_class: &str,
    extra_style: &str,
    body: &str,
) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"{}\">\n\
         <title>{}</title>\n\
         <style>{STYLE}{extra_style}</style>\n</head>\n<body class=\"{}\">\n<main>\n{body}</main>\n</body>\n</html>\n",
        attr(generator),
        attr(title),
        attr(body_class),
    )
}

fn verdict_class(report: &RunReport) -> &'static str {
    match report.summary.verdict() {
        RunVerdict::Interrupted => "interrupted",
        RunVerdict::Error | RunVerdict::Unreachable => "error",
        RunVerdict::Conformant => "conformant",
        RunVerdict::NotConformant => "not-conformant",
    }
}

/// The Markdown events with raw HTML, links and images neutralised and the stable
/// hooks added.
struct Annotate<'a, 'r> {
    report: &'r RunReport,
    events: std::vec::IntoIter<Event<'a>>,
    /// Lookahead (a heading's first inline event).
    pending: Option<Event<'a>>,
    /// The text of the last `##` heading.
    section: String,
    /// Collecting a `##` heading's text.
    in_h2: bool,
    /// Inside the checks table.
    in_checks_table: bool,
    /// The hook of each row of the checks table, in order: its classes and its
    /// `data-check-id` / `data-check-ids` attribute.
    rows: Vec<(String, String)>,
    /// The next check row.
    next_check: usize,
    /// Inside the outcome cell (the first) of a check row.
    in_outcome: bool,
    /// The cells seen in the current check row.
    cells: usize,
    /// The check of the current `###` section.
    problem: Option<String>,
    /// Whether the verdict paragraph (the first) was seen.
    verdict_done: bool,
}

impl<'a, 'r> Annotate<'a, 'r> {
    fn new(report: &'r RunReport, events: Vec<Event<'a>>) -> Self {
        let groups = wording::group_unjudged(&report.checks);
        let rows = wording::lines(&report.checks, &groups)
            .into_iter()
            .map(|line| match line {
                Line::Check(check) => (
                    status_class(check.status).to_owned(),
                    format!("data-check-id=\"{}\"", attr(&check.info.id)),
                ),
                Line::Group(group) => (
                    "skip grouped".to_owned(),
                    format!("data-check-ids=\"{}\"", attr(&group.checks.join(" "))),
                ),
            })
            .collect();
        Annotate {
            rows,
            in_outcome: false,
            cells: 0,
            report,
            events: events.into_iter(),
            pending: None,
            section: String::new(),
            in_h2: false,
            in_checks_table: false,
            next_check: 0,
            problem: None,
            verdict_done: false,
        }
    }

    fn pull(&mut self) -> Option<Event<'a>> {
        self.pending.take().or_else(|| self.events.next())
    }

    fn transform(&mut self, event: Event<'a>) -> Option<Event<'a>> {
        Some(match event {
            // Raw HTML from a finding is shown as text, never interpreted.
            Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
            Event::Start(Tag::Link { .. } | Tag::Image { .. })
            | Event::End(TagEnd::Link | TagEnd::Image) => return None,
            Event::Start(Tag::Paragraph) if !self.verdict_done => {
                self.verdict_done = true;
                Event::Html(format!("<p class=\"verdict {}\">", verdict_class(self.report)).into())
            }
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let mut id = id;
                match level {
                    HeadingLevel::H2 => {
                        self.in_h2 = true;
                        self.section.clear();
                        self.problem = None;
                    }
                    HeadingLevel::H3 => {
                        let next = self.events.next();
                        self.problem = match &next {
                            Some(Event::Code(code)) => Some(code.to_string()),
                            _ => None,
                        };
                        if let Some(check) = &self.problem {
                            id = Some(CowStr::from(format!("check-{check}")));
                        }
                        self.pending = next;
                    }
                    _ => {}
                }
                Event::Start(Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs,
                })
            }
            Event::End(TagEnd::Heading(level)) => {
                if level == HeadingLevel::H2 {
                    self.in_h2 = false;
                }
                Event::End(TagEnd::Heading(level))
            }
            // The coverage section's text bars become CSS bars.
            Event::Text(text)
                if self.section == super::coverage::COVERAGE_HEADING
                    && super::coverage::is_bar(&text) =>
            {
                Event::Html(super::coverage::html_bar(&text).into())
            }
            Event::Text(text) if self.in_h2 => {
                self.section.push_str(&text);
                Event::Text(text)
            }
            Event::Start(Tag::Table(alignments)) => {
                self.in_checks_table = self.section == CHECKS_HEADING;
                Event::Start(Tag::Table(alignments))
            }
            Event::End(TagEnd::Table) => {
                self.in_checks_table = false;
                Event::End(TagEnd::Table)
            }
            Event::Start(Tag::TableRow) if self.in_checks_table => {
                match self.rows.get(self.next_check) {
                    Some((classes, hook)) => {
                        self.next_check += 1;
                        self.cells = 0;
                        Event::Html(format!("<tr class=\"check {classes}\" {hook}>").into())
                    }
                    None => Event::Start(Tag::TableRow),
                }
            }
            Event::Start(Tag::TableCell) if self.in_checks_table && self.next_check > 0 => {
                self.in_outcome = self.cells == 0;
                self.cells += 1;
                Event::Start(Tag::TableCell)
            }
            Event::End(TagEnd::TableCell) if self.in_outcome => {
                self.in_outcome = false;
                Event::End(TagEnd::TableCell)
            }
            // The Markdown's emoji mark becomes one the style sheet draws: an emoji
            // font is not on every machine (Debian's chromium shows an empty box).
            Event::Text(text) if self.in_outcome => {
                let word = text.rsplit(' ').next().unwrap_or(&text).to_owned();
                let class = match word.to_ascii_lowercase().as_str() {
                    "pass" => "pass",
                    "fail" => "fail",
                    "warn" => "warn",
                    "skip" => "skip",
                    "interrupted" => "interrupted",
                    _ => "error",
                };
                Event::Html(
                    format!(
                        "<span class=\"mark {class}\" aria-hidden=\"true\"></span>{}",
                        attr(&word)
                    )
                    .into(),
                )
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang)))
                if &*lang == "sh" && self.problem.is_some() =>
            {
                let check = self.problem.as_deref().unwrap_or_default();
                Event::Html(
                    format!(
                        "<pre class=\"repro\" data-check-id=\"{}\"><code class=\"language-sh\">",
                        attr(check)
                    )
                    .into(),
                )
            }
            other => other,
        })
    }
}

impl<'a> Iterator for Annotate<'a, '_> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = self.pull()?;
            if let Some(event) = self.transform(event) {
                return Some(event);
            }
        }
    }
}

fn status_class(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Warn => "warn",
        Status::Skip => "skip",
        Status::Interrupted => "interrupted",
        Status::Error => "error",
    }
}

/// Escapes text for an HTML attribute value or element content.
pub(crate) fn attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::check::{Level, Verdict};
    use crate::report::RunReport;

    fn report_with_message(message: &str) -> RunReport {
        let mut check = crate::outcome::fixture::check(
            "custom.hostile",
            Level::Required,
            Verdict::Failed(message.into()),
            vec![],
        );
        check.info.title = "A <b>title</b> from a scenario file".into();
        let mut report = crate::outcome::fixture::report(vec![check], false);
        report.endpoint = "https://127.0.0.1:1/h?a=<x>".into();
        report
    }

    #[test]
    fn hostile_messages_are_text() {
        let html = render(&report_with_message(
            "got <script>alert(1)</script> and [x](javascript:alert(2)) and <img src=x onerror=y> ![i](http://e.example/i.png)\n\n<iframe src=//e.example>",
        ));
        let lower = html.to_ascii_lowercase();
        for tag in ["<script", "<img", "<iframe", "<a ", "<b>"] {
            assert!(!lower.contains(tag), "{tag} in {html}");
        }
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains(
            "<title>Spotnana webhook conformance report: https://127.0.0.1:1/h?a=&lt;x&gt;</title>"
        ));
        assert!(html.contains("<tr class=\"check fail\" data-check-id=\"custom.hostile\">"));
        assert!(html.contains("<h3 id=\"check-custom.hostile\">"));
        assert!(html.contains("<pre class=\"repro\" data-check-id=\"custom.hostile\"><code class=\"language-sh\">spotcheck run --seed 1 --only custom.hostile\n"));
    }

    #[test]
    fn attributes_are_escaped() {
        assert_eq!(
            attr(r#"<a href="x">'&"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
