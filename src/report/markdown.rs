//! The Markdown sign-off report: the evidence a partner hands to Spotnana.

use std::fmt::Write as _;

use crate::check::{CheckResult, Status};

use super::{RunReport, RunVerdict};
use crate::tls_probe::TlsReport;

/// The heading of the section with the table of every check (one row per check, in
/// run order); the HTML report finds the table by it.
pub(crate) const CHECKS_HEADING: &str = "Checks";

/// The bold lead-in of the paragraph before each failure's replay command.
pub(crate) const REPRO_LEAD: &str = "Reproduce this check";

/// The report as Markdown.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let verdict = match s.verdict() {
        RunVerdict::Interrupted => {
            "**INTERRUPTED**: the run was stopped before every check finished, so it proves nothing about conformance"
        }
        RunVerdict::Error => {
            "**ERROR**: a check could not run because of an error in its scenario (see the checks marked error), so the run proves nothing about conformance"
        }
        RunVerdict::Unreachable => {
            "**ERROR**: the endpoint could not be reached (see the note below), so the run proves nothing about conformance"
        }
        RunVerdict::Conformant => "**Conformant**: every required check passed",
        RunVerdict::NotConformant => "**NOT conformant**: see the failures below",
    };
    let _ = writeln!(out, "# Spotnana webhook conformance report\n");
    let _ = writeln!(out, "{verdict}.\n");
    for note in report.top_notes() {
        let _ = writeln!(out, "> **Note:** {note}\n");
    }
    let _ = writeln!(out, "| | |\n| --- | --- |");
    let _ = writeln!(
        out,
        "| Endpoint | `{}`{} |",
        report.endpoint,
        if report.reference_receiver {
            " (built-in reference receiver)"
        } else {
            ""
        }
    );
    if let Some(route) = &report.route {
        let _ = writeln!(out, "| Route | {} |", cell(&route.to_string()));
    }
    let _ = writeln!(out, "| Date | {} |", report.started_at);
    let _ = writeln!(
        out,
        "| Tool | {} {} |",
        report.tool.name, report.tool.version
    );
    let _ = writeln!(out, "| Seed | `{}` |", report.seed);
    let _ = writeln!(out, "| Subscribed events | {} |", subscribed_events(report));
    if !report.subscription.organizations().is_empty() {
        let _ = writeln!(
            out,
            "| Subscribed organizations | {} |",
            report
                .subscription
                .organizations()
                .iter()
                .map(|o| format!("`{}`", o.replace('`', "'").replace('|', "\\|")))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        out,
        "| Mode | {} |",
        if report.strict {
            "strict (warnings fail the run)"
        } else {
            "standard (warnings do not fail the run)"
        }
    );
    let _ = writeln!(
        out,
        "| Duration | {:.1} s |",
        report.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(out, "| Result | {} |", s.counts());
    match &report.latency {
        Some(latency) => {
            let _ = writeln!(
                out,
                "| Latency | p50 {} ms, p95 {} ms, max {} ms over {} answered deliveries |",
                latency.p50_ms, latency.p95_ms, latency.max_ms, latency.samples
            );
        }
        None => {
            let _ = writeln!(out, "| Latency | no delivery was answered |");
        }
    }
    if let Some(tls) = &report.tls {
        render_tls(&mut out, tls);
    }
    let _ = writeln!(out, "\n## {CHECKS_HEADING}\n");
    let _ = writeln!(
        out,
        "A failed *required* check fails the run; a failed *recommended* check is a warning.\n"
    );
    let _ = writeln!(
        out,
        "| Outcome | Check | Level | Time | Finding |\n| --- | --- | --- | --- | --- |"
    );
    // Checks that could not be judged for one shared cause: one row, where the first
    // of them would be, naming them all.
    let groups = super::wording::group_unjudged(&report.checks);
    for line in super::wording::lines(&report.checks, &groups) {
        let check = match line {
            super::wording::Line::Group(group) => {
                let ids: Vec<String> = group.checks.iter().map(|id| format!("`{id}`")).collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | — | — | {} |",
                    outcome(Status::Skip),
                    ids.join(", "),
                    cell(&group.headline(|id| format!("`{id}`")))
                );
                continue;
            }
            super::wording::Line::Check(check) => check,
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} ms | {} |",
            outcome(check.status),
            check.info.id,
            check.info.level.as_str(),
            check.duration.as_millis(),
            cell(&check.message)
        );
    }
    for (heading, wanted) in [("Failures", Status::Fail), ("Warnings", Status::Warn)] {
        let problems: Vec<&CheckResult> = report
            .checks
            .iter()
            .filter(|c| c.status == wanted)
            .collect();
        if problems.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n## {heading}");
        for check in problems {
            render_problem(&mut out, check, report.repro(check));
        }
    }
    if let Some(coverage) = &report.coverage {
        out.push_str(&super::coverage::markdown(coverage));
    }
    let _ = writeln!(out, "\n## Reproduce\n");
    let _ = writeln!(
        out,
        "```sh\nspotcheck run {}--seed {}{}\n```",
        // The built-in reference receiver's loopback URL does not outlive the run;
        // without --endpoint the same seed starts it again.
        if report.reference_receiver {
            String::new()
        } else {
            format!("--endpoint {} ", report.endpoint)
        },
        report.seed,
        if report.strict { " --strict" } else { "" }
    );
    let _ = writeln!(
        out,
        "\nThe same seed sends the same event ids and payloads (timestamps and signatures are fresh)."
    );
    out
}

fn render_tls(out: &mut String, tls: &TlsReport) {
    let _ = writeln!(out, "\n## TLS\n");
    let _ = writeln!(
        out,
        "| Version | Outcome | Cipher suite | Key exchange | Detail |\n| --- | --- | --- | --- | --- |"
    );
    for v in &tls.versions {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            v.version.as_str(),
            v.outcome.as_str(),
            optional(v.cipher.as_deref()),
            optional(v.key_exchange.as_deref()),
            cell(&v.detail)
        );
    }
    match &tls.certificate {
        Some(cert) => {
            let _ = writeln!(out, "\n| Certificate | |\n| --- | --- |");
            let rows = [
                ("Subject", cert.subject.clone()),
                ("Issuer", cert.issuer.clone()),
                ("Names", list(&cert.sans)),
                ("Key", cert.key.clone()),
                ("Valid from", cert.not_before.clone()),
                (
                    "Valid until",
                    format!("{} ({} days left)", cert.not_after, cert.days_left),
                ),
                ("Chain sent", list(&cert.chain)),
                (
                    "Verified",
                    if cert.verified {
                        "yes".to_owned()
                    } else {
                        format!("**no**: {}", optional(cert.verify_error.as_deref()))
                    },
                ),
            ];
            for (name, value) in rows {
                let _ = writeln!(out, "| {name} | {} |", cell(&value));
            }
        }
        None => {
            let _ = writeln!(
                out,
                "\nNo certificate was seen (no TLS 1.2 or 1.3 handshake completed)."
            );
        }
    }
}

fn render_problem(out: &mut String, check: &CheckResult, repro: Option<String>) {
    let _ = writeln!(out, "\n### `{}`: {}\n", check.info.id, check.info.title);
    let _ = writeln!(
        out,
        "{} ({} check). {}\n",
        outcome(check.status),
        check.info.level.as_str(),
        check.message
    );
    let _ = writeln!(out, "**Why it matters.** {}\n", check.info.why);
    let _ = writeln!(out, "**How to fix.** {}", check.info.fix);
    if let Some(diagnosis) = &check.diagnosis {
        out.push_str(&super::diagnosis::markdown(diagnosis, cell));
    }
    if let Some(repro) = repro {
        let _ = writeln!(
            out,
            "\n**{REPRO_LEAD}** (same seed; the secret comes from the same environment variable or file):\n\n```sh\n{}\n```",
            fence_safe(&repro)
        );
    }
    let Some(exchange) = check.exchanges.last() else {
        return;
    };
    if check.exchanges.len() > 1 {
        let _ = writeln!(
            out,
            "\nExchanges ({}), the last one in full below:\n",
            check.exchanges.len()
        );
        for (index, e) in check.exchanges.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. `{} {}` → {} ({} ms)",
                index + 1,
                e.request.method,
                e.request.url,
                e.outcome_text(),
                e.duration.as_millis()
            );
        }
    }
    let _ = writeln!(
        out,
        "\nRequest sent (the signing secret is never recorded):\n\n```http"
    );
    let _ = writeln!(out, "{} {}", exchange.request.method, exchange.request.url);
    for (name, value) in &exchange.request.headers {
        let _ = writeln!(out, "{name}: {value}");
    }
    if !exchange.request.body_excerpt.is_empty() {
        let shown = exchange.request.body_excerpt.len();
        let _ = writeln!(out, "\n{}", fence_safe(&exchange.request.body_excerpt));
        if exchange.request.body_len > shown {
            let _ = writeln!(
                out,
                "… ({} bytes in all; the first KiB is shown)",
                exchange.request.body_len
            );
        }
    }
    let _ = writeln!(out, "```\n\nAnswer:\n\n```http");
    match &exchange.response {
        Some(response) => {
            let _ = writeln!(
                out,
                "HTTP {}    ({} ms)",
                response.status_line(),
                exchange.duration.as_millis()
            );
            for (name, value) in &response.headers {
                let _ = writeln!(out, "{name}: {value}");
            }
            if !response.body_excerpt.is_empty() {
                let _ = writeln!(out, "\n{}", fence_safe(&response.body_excerpt));
            }
        }
        None => {
            let _ = writeln!(
                out,
                "(no answer: {} after {} ms)",
                exchange.outcome_text(),
                exchange.duration.as_millis()
            );
        }
    }
    let _ = writeln!(out, "```");
}

/// Items joined by commas, or a dash when there are none.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join(", ")
    }
}

fn outcome(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅ pass",
        Status::Fail => "❌ FAIL",
        Status::Warn => "⚠️ warn",
        Status::Skip => "⏭ skip",
        Status::Interrupted => "⏹ interrupted",
        Status::Error => "🛑 ERROR",
    }
}

/// A value, or a dash when there is none.
fn optional(value: Option<&str>) -> String {
    value.unwrap_or("—").to_owned()
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn fence_safe(text: &str) -> String {
    text.replace("```", "`\u{200b}``")
}

/// The subscribed types, each with its operations when only some are subscribed.
fn subscribed_events(report: &RunReport) -> String {
    report
        .events
        .iter()
        .map(|name| {
            let narrowed = report
                .subscription
                .types()
                .iter()
                .find(|t| t.event_type.as_str() == name)
                .and_then(|t| t.operations.as_ref());
            match narrowed {
                Some(operations) => format!("`{name}` ({})", operations.join(", ")),
                None => format!("`{name}`"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
