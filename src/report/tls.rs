//! The compact text form of a probe report and its checks (for `spotcheck tls` and for
//! the TLS section of other reports). The probe (`tls_probe/`) measures; this words.

use std::fmt::Write as _;

use crate::check::CheckResult;

use crate::tls_probe::TlsReport;

/// Renders the versions table, the accepted cipher suites, the certificate details and
/// one line per check.
pub fn render_text(report: &TlsReport, checks: &[CheckResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "TLS probe of {} ({}:{})",
        report.url, report.host, report.port
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "  {:<8} {:<12} detail", "version", "result");
    for result in &report.versions {
        let mut detail = result.detail.clone();
        if let Some(group) = &result.key_exchange {
            let _ = write!(detail, " ({group})");
        }
        let _ = writeln!(
            out,
            "  {:<8} {:<12} {}",
            result.version.as_str(),
            result.outcome.as_str(),
            detail
        );
    }
    for scan in &report.cipher_suites {
        if scan.accepted.is_empty() && scan.complete {
            continue;
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "  {} suites: {}", scan.version, scan.detail);
        for suite in &scan.accepted {
            let mut notes = vec![format!(
                "{}, {}",
                suite.key_exchange.as_str(),
                suite.cipher.as_str()
            )];
            if let Some(weakness) = suite.weakness {
                notes.push(format!("weak: {weakness}"));
            }
            let _ = writeln!(
                out,
                "    0x{:04X} {:<45} {}",
                suite.id,
                suite.name,
                notes.join("; ")
            );
        }
    }
    if let Some(cert) = &report.certificate {
        let _ = writeln!(out);
        let _ = writeln!(out, "  certificate (seen with {})", cert.seen_with);
        let field = |out: &mut String, name: &str, value: &str| {
            let _ = writeln!(out, "    {name:<11} {value}");
        };
        field(&mut out, "subject", &cert.subject);
        field(&mut out, "issuer", &cert.issuer);
        let sans = if cert.sans.is_empty() {
            "(none)".to_owned()
        } else {
            cert.sans.join(", ")
        };
        field(&mut out, "names", &sans);
        field(&mut out, "not before", &cert.not_before);
        let left = if cert.days_left >= 0 {
            format!("{} ({} days left)", cert.not_after, cert.days_left)
        } else {
            format!("{} (expired {} days ago)", cert.not_after, -cert.days_left)
        };
        field(&mut out, "not after", &left);
        field(&mut out, "key", &cert.key);
        field(
            &mut out,
            "chain",
            &format!(
                "{} certificate(s): {}",
                cert.chain_len,
                cert.chain.join(" <- ")
            ),
        );
        let verified = match &cert.verify_error {
            None if cert.verified => "yes".to_owned(),
            None => "no".to_owned(),
            Some(err) => format!("no: {err}"),
        };
        field(&mut out, "verified", &verified);
    }
    if !checks.is_empty() {
        let _ = writeln!(out);
        let width = checks.iter().map(|c| c.info.id.len()).max().unwrap_or(0);
        for check in checks {
            let _ = writeln!(
                out,
                "{} {:<width$}  {}",
                check.status.label(),
                check.info.id,
                check.message
            );
        }
    }
    out
}
