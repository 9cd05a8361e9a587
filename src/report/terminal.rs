//! The terminal report: one line per check, then each failure and warning with the
//! request sent, the answer, why it matters and how to fix it, then the verdict.

use std::fmt::Write as _;

use crate::check::{CheckResult, Status};
use crate::delivery::exchange::Exchange;

use super::{RunReport, RunVerdict, wording};

/// How much to show, and whether to colour it.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalOptions {
    /// ANSI colours.
    pub color: bool,
    /// Every exchange of every check, not only of failures.
    pub verbose: bool,
    /// Only the summary line (and failures' one-liners).
    pub quiet: bool,
    /// Under each failed or warned check, its last request as a `curl` command.
    pub export_curl: bool,
}

/// Whether to colour output for `--color auto|always|never` on standard output.
pub fn use_color(choice: &str) -> bool {
    use std::io::IsTerminal;
    match choice {
        "always" => true,
        "never" => false,
        _ => std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    }
}

struct Paint {
    color: bool,
}

impl Paint {
    fn status(&self, status: Status) -> String {
        let code = match status {
            Status::Pass => "32",
            Status::Fail => "31;1",
            Status::Warn => "33;1",
            Status::Skip | Status::Interrupted => "2",
            Status::Error => "35;1",
        };
        // Padded to the width of the other labels, so the check ids line up.
        self.wrap(code, &format!("{:<4}", status.label()))
    }

    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }

    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The header line printed before checks run.
pub fn render_header(endpoint: &str, reference: bool, seed: u64) -> String {
    let which = if reference {
        " (built-in reference receiver)"
    } else {
        ""
    };
    format!(
        "spotcheck {} — endpoint {endpoint}{which} — seed {seed}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Renders the whole report (after the header line).
pub fn render(report: &RunReport, options: TerminalOptions) -> String {
    let paint = Paint {
        color: options.color,
    };
    let mut out = String::new();
    let width = report
        .checks
        .iter()
        .map(|c| c.info.id.len())
        .max()
        .unwrap_or(0);
    if options.verbose
        && let Some(route) = &report.route
    {
        let _ = writeln!(out, "route: {route}");
    }
    // An endpoint nobody could connect to: the front says so once (on stderr); no
    // check was judged, so none is listed.
    if report.unreachable.is_some() {
        let s = &report.summary;
        let _ = writeln!(
            out,
            "{} in {:.1} s — {}",
            s.counts(),
            report.duration_ms as f64 / 1000.0,
            paint.wrap("35;1", "ERROR: the endpoint could not be reached")
        );
        return out;
    }
    // Said once, above the checks it explains (even in quiet mode).
    for note in report.top_notes() {
        let _ = writeln!(out, "note: {}", one_line(&note));
    }
    if !options.quiet {
        // Checks that could not be judged for one shared cause are told once, where
        // the first of them would be, with their ids listed compactly.
        let groups = wording::group_unjudged(&report.checks);
        for line in wording::lines(&report.checks, &groups) {
            let check = match line {
                wording::Line::Group(group) => {
                    render_group(&mut out, group, &paint);
                    continue;
                }
                wording::Line::Check(check) => check,
            };
            let _ = writeln!(
                out,
                "{}  {:width$}  {:>6}  {}",
                paint.status(check.status),
                check.info.id,
                format!("{} ms", check.duration.as_millis()),
                one_line(&check.message),
            );
        }
    }
    let noteworthy: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| {
            matches!(c.status, Status::Fail | Status::Warn | Status::Error) || options.verbose
        })
        .collect();
    if options.quiet {
        // Even in quiet mode, each failure and warning leaves its replay command.
        for check in &report.checks {
            if let Some(repro) = report.repro(check) {
                let _ = writeln!(
                    out,
                    "{}  {}  repro: {repro}",
                    paint.status(check.status),
                    check.info.id
                );
                if options.export_curl {
                    render_curl(&mut out, report, check);
                }
            }
        }
    }
    if !noteworthy.is_empty() && !options.quiet {
        out.push('\n');
        for check in noteworthy {
            render_details(&mut out, report, check, &paint, options);
        }
    }
    if let Some(latency) = &report.latency {
        let _ = writeln!(
            out,
            "\nlatency: p50 {} ms, p95 {} ms, max {} ms over {} answered deliveries",
            latency.p50_ms, latency.p95_ms, latency.max_ms, latency.samples
        );
    }
    // Coverage just above the verdict, which stays the last line (scripts read it).
    if let Some(coverage) = &report.coverage {
        let _ = writeln!(out, "{}", super::coverage::terminal_line(coverage));
    }
    let s = &report.summary;
    let verdict = match s.verdict() {
        RunVerdict::Interrupted => paint.wrap("33;1", "INTERRUPTED"),
        RunVerdict::Error => paint.wrap("35;1", "ERROR: a check could not run"),
        RunVerdict::Unreachable => paint.wrap("35;1", "ERROR: the endpoint could not be reached"),
        RunVerdict::Conformant => paint.wrap("32;1", "conformant"),
        RunVerdict::NotConformant => paint.wrap("31;1", "NOT conformant"),
    };
    let _ = writeln!(
        out,
        "{} in {:.1} s — {verdict}",
        s.counts(),
        report.duration_ms as f64 / 1000.0,
    );
    out
}

/// One cause shared by several unjudged checks: the cause once, then the checks' ids
/// wrapped under it.
fn render_group(out: &mut String, group: &wording::UnjudgedGroup, paint: &Paint) {
    let _ = writeln!(
        out,
        "{}  {}",
        paint.status(Status::Skip),
        group.headline(|id| id.to_owned())
    );
    let mut line = String::new();
    for id in &group.checks {
        if !line.is_empty() && line.len() + id.len() + 2 > 96 {
            let _ = writeln!(out, "      {},", line);
            line.clear();
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(id);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "      {line}");
    }
}

fn render_details(
    out: &mut String,
    report: &RunReport,
    check: &CheckResult,
    paint: &Paint,
    options: TerminalOptions,
) {
    let verbose = options.verbose;
    let _ = writeln!(
        out,
        "{} {} ({}): {}",
        paint.status(check.status),
        paint.bold(&check.info.id),
        check.info.level.as_str(),
        check.info.title
    );
    let _ = writeln!(out, "  {}", check.message);
    // For a failure, the exchanges that tell the story: those whose outcome was not
    // what the step expected are not known here, so show the last few.
    let shown: Vec<&Exchange> = if verbose {
        check.exchanges.iter().collect()
    } else {
        check.exchanges.iter().rev().take(2).rev().collect()
    };
    if check.exchanges.len() > shown.len() {
        let _ = writeln!(
            out,
            "  {}",
            paint.dim(&format!(
                "({} earlier exchanges not shown; --verbose shows all)",
                check.exchanges.len() - shown.len()
            ))
        );
    }
    for exchange in shown {
        render_exchange(out, exchange, paint);
    }
    if let Some(diagnosis) = &check.diagnosis {
        out.push_str(&super::diagnosis::text(diagnosis, "  "));
    }
    if matches!(check.status, Status::Fail | Status::Warn) {
        let _ = writeln!(out, "  why: {}", check.info.why);
        let _ = writeln!(out, "  fix: {}", check.info.fix);
    }
    if let Some(repro) = report.repro(check) {
        let _ = writeln!(out, "  repro: {repro}");
    }
    if options.export_curl {
        render_curl(out, report, check);
    }
    out.push('\n');
}

/// Writes one exchange: request line, headers, body excerpt, then the answer.
fn render_exchange(out: &mut String, exchange: &Exchange, paint: &Paint) {
    let request = &exchange.request;
    let _ = writeln!(out, "  > {} {}", request.method, request.url);
    for (name, value) in &request.headers {
        let _ = writeln!(out, "  >   {name}: {value}");
    }
    if request.body_len > 0 {
        let _ = writeln!(
            out,
            "  >   body ({} bytes): {}",
            request.body_len,
            excerpt(&request.body_excerpt, 200)
        );
    }
    match (&exchange.response, &exchange.error) {
        (Some(response), _) => {
            let _ = writeln!(
                out,
                "  < {} {}",
                response.status_line(),
                paint.dim(&format!("({} ms)", exchange.duration.as_millis()))
            );
            for (name, value) in &response.headers {
                let _ = writeln!(out, "  <   {name}: {value}");
            }
            if !response.body_excerpt.is_empty() {
                let _ = writeln!(out, "  <   body: {}", excerpt(&response.body_excerpt, 300));
            }
        }
        (None, Some(error)) => {
            let _ = writeln!(
                out,
                "  < no answer: {} ({}) after {} ms",
                error.message,
                error.class.as_str(),
                exchange.duration.as_millis()
            );
        }
        (None, None) => {
            let _ = writeln!(out, "  < no answer");
        }
    }
}

fn one_line(text: &str) -> String {
    excerpt(text, 120)
}

/// The start of `text` on one line, control characters escaped, cut at `max` characters.
fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `--export-curl`: the last request of a failed or warned check as a `curl` command.
fn render_curl(out: &mut String, report: &RunReport, check: &CheckResult) {
    if !matches!(check.status, Status::Fail | Status::Warn) {
        return;
    }
    match check.exchanges.last() {
        Some(exchange) => {
            let _ = writeln!(
                out,
                "  curl (the last request of this check, signature and timestamp as sent):"
            );
            let _ = writeln!(
                out,
                "    {}",
                super::curl::command_for(&exchange.request, &report.replay, "    ")
            );
        }
        None => {
            let _ = writeln!(out, "  curl: this check sent no request");
        }
    }
}
