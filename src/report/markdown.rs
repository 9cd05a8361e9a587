//! The Markdown sign-off report: the evidence a partner hands to Spotnana.

use std::fmt::Write as _;

use crate::check::{CheckResult, Status};

use super::RunReport;

/// The report as Markdown.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let verdict = if s.interrupted > 0 {
        "**INTERRUPTED** (incomplete)"
    } else if s.conformant {
        "**conformant**"
    } else {
        "**NOT conformant**"
    };
    let _ = writeln!(out, "# Spotnana webhook conformance report\n");
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
    let _ = writeln!(out, "| Date | {} |", report.started_at);
    let _ = writeln!(
        out,
        "| Tool | {} {} |",
        report.tool.name, report.tool.version
    );
    let _ = writeln!(out, "| Seed | `{}` |", report.seed);
    let _ = writeln!(out, "| Subscribed events | {} |", report.events.join(", "));
    let _ = writeln!(
        out,
        "| Duration | {:.1} s |",
        report.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(
        out,
        "| Result | {verdict}: {} passed, {} failed, {} warned, {} skipped |",
        s.passed, s.failed, s.warned, s.skipped
    );
    if let Some(latency) = &report.latency {
        let _ = writeln!(
            out,
            "| Latency | p50 {} ms, p95 {} ms, max {} ms ({} answered deliveries) |",
            latency.p50_ms, latency.p95_ms, latency.max_ms, latency.samples
        );
    }
    if let Some(tls) = &report.tls {
        let _ = writeln!(out, "\n## TLS\n");
        if let Some(versions) = tls.get("versions").and_then(|v| v.as_array()) {
            let _ = writeln!(out, "| Version | Outcome | Cipher |\n| --- | --- | --- |");
            for v in versions {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    text(v.get("version")),
                    text(v.get("outcome")),
                    text(v.get("cipher"))
                );
            }
        }
        if let Some(cert) = tls.get("certificate").filter(|c| !c.is_null()) {
            let _ = writeln!(
                out,
                "\nCertificate: subject `{}`, issuer `{}`, valid until {} ({} days left), verified: {}.",
                text(cert.get("subject")),
                text(cert.get("issuer")),
                text(cert.get("not_after")),
                text(cert.get("days_left")),
                text(cert.get("verified"))
            );
        }
    }
    let _ = writeln!(out, "\n## Checks\n");
    let _ = writeln!(
        out,
        "| Outcome | Check | Level | Time | Finding |\n| --- | --- | --- | --- | --- |"
    );
    for check in &report.checks {
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
    let problems: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n## Failures and warnings\n");
        for check in problems {
            let _ = writeln!(
                out,
                "### {} `{}`: {}\n",
                outcome(check.status),
                check.info.id,
                check.info.title
            );
            let _ = writeln!(out, "{}\n", check.message);
            let _ = writeln!(out, "**Why it matters.** {}\n", check.info.why);
            let _ = writeln!(out, "**How to fix.** {}\n", check.info.fix);
            if let Some(exchange) = check.exchanges.last() {
                let _ = writeln!(out, "Last exchange:\n\n```http");
                let _ = writeln!(out, "{} {}", exchange.request.method, exchange.request.url);
                for (name, value) in &exchange.request.headers {
                    let _ = writeln!(out, "{name}: {value}");
                }
                let _ = writeln!(out, "\n{}", fence_safe(&exchange.request.body_excerpt));
                let _ = writeln!(out, "```\n\n```http");
                match &exchange.response {
                    Some(response) => {
                        let _ = writeln!(out, "HTTP {}", response.status_line());
                        for (name, value) in &response.headers {
                            let _ = writeln!(out, "{name}: {value}");
                        }
                        let _ = writeln!(out, "\n{}", fence_safe(&response.body_excerpt));
                    }
                    None => {
                        let _ = writeln!(out, "(no answer: {})", exchange.outcome_text());
                    }
                }
                let _ = writeln!(out, "```\n");
            }
        }
    }
    out
}

fn outcome(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅ pass",
        Status::Fail => "❌ FAIL",
        Status::Warn => "⚠️ warn",
        Status::Skip => "⏭ skip",
        Status::Interrupted => "⏹ interrupted",
    }
}

fn text(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => "—".to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn fence_safe(text: &str) -> String {
    text.replace("```", "`\u{200b}``")
}
