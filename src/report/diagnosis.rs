//! A check's diagnosis (see [`crate::diagnose`]) as text, for the formats that show it:
//! the finding, the line to change per stack or the steps to check, then each probe
//! sent with its answer.

use std::fmt::Write as _;

use crate::check::{Diagnosis, ProbeRecord};

/// The diagnosis as indented plain text lines (terminal, JUnit, TAP), each line
/// starting with `indent`.
pub fn text(diagnosis: &Diagnosis, indent: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{indent}diagnosis: {}", diagnosis.finding);
    if !diagnosis.fixes.is_empty() {
        let _ = writeln!(out, "{indent}  the line to change:");
        for fix in &diagnosis.fixes {
            let _ = writeln!(out, "{indent}    {}: {}", fix.stack, fix.line);
        }
    }
    if !diagnosis.steps.is_empty() {
        let _ = writeln!(out, "{indent}  check each step:");
        for (n, step) in diagnosis.steps.iter().enumerate() {
            let _ = writeln!(out, "{indent}    {}. {step}", n + 1);
        }
    }
    if !diagnosis.probes.is_empty() {
        let _ = writeln!(out, "{indent}  probes sent ({}):", diagnosis.probes.len());
        for probe in &diagnosis.probes {
            let _ = writeln!(out, "{indent}    {}", probe_line(probe));
        }
    }
    out
}

/// `id (what it imitates): 401 Unauthorized — refused`.
fn probe_line(probe: &ProbeRecord) -> String {
    format!(
        "{} ({}): {}, {}",
        probe.id,
        probe.description,
        probe.exchange.outcome_text(),
        if probe.accepted {
            "ACCEPTED"
        } else {
            "not accepted"
        }
    )
}

/// The diagnosis as Markdown: the finding, a table of fixes per stack or the numbered
/// steps, then the probes (each with its signature headers and answer). `cell`
/// escapes text for a table cell.
pub fn markdown(diagnosis: &Diagnosis, cell: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n**Diagnosis.** {}", diagnosis.finding);
    if !diagnosis.fixes.is_empty() {
        let _ = writeln!(out, "\n| Stack | The line to change |\n| --- | --- |");
        for fix in &diagnosis.fixes {
            let _ = writeln!(out, "| {} | `` {} `` |", fix.stack, cell(fix.line));
        }
    }
    if !diagnosis.steps.is_empty() {
        out.push('\n');
        for (n, step) in diagnosis.steps.iter().enumerate() {
            let _ = writeln!(out, "{}. {step}", n + 1);
        }
    }
    if !diagnosis.probes.is_empty() {
        let _ = writeln!(
            out,
            "\nProbes sent ({}):\n\n| Probe | Imitates | Signature headers sent | Answer |\n| --- | --- | --- | --- |",
            diagnosis.probes.len()
        );
        for probe in &diagnosis.probes {
            let headers: Vec<String> = probe
                .exchange
                .request
                .headers
                .iter()
                .filter(|(name, _)| name.to_ascii_lowercase().starts_with("x-spotnana-webhook-"))
                .map(|(name, value)| format!("{name}: {value}"))
                .collect();
            let answer = format!(
                "{}{}",
                probe.exchange.outcome_text(),
                if probe.accepted { " (accepted)" } else { "" }
            );
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                probe.id,
                cell(&probe.description),
                cell(&headers.join("; ")),
                cell(&answer)
            );
        }
    }
    out
}
