//! The three strength checks, judged from the cipher scan: `tls.forward-secrecy`,
//! `tls.no-weak-ciphers` and `tls.mozilla-intermediate`.
//!
//! All three skip when TLS 1.2 was not seen at all (neither the rustls handshake nor the
//! scan got a TLS 1.2 answer). A scan that stopped early (silence, garbage) fails a check
//! only on what it did see; otherwise the check is skipped with the reason, never passed.

use std::time::Duration;

use crate::check::Verdict;

use super::cipher_scan::{AcceptedSuite, SuiteScan};
use super::report::{Outcome, TlsReport};
use super::version::TlsVersion;

/// The versions the scan covers, oldest first.
const SCANNED: [TlsVersion; 3] = [TlsVersion::Tls10, TlsVersion::Tls11, TlsVersion::Tls12];

/// Whether the server accepted `version`: the handshake completed or the scan saw a suite.
fn accepted(report: &TlsReport, version: TlsVersion) -> bool {
    report
        .version(version)
        .is_some_and(|r| r.outcome == Outcome::Accepted)
        || report
            .suite_scan(version)
            .is_some_and(|scan| !scan.accepted.is_empty())
}

/// The TLS 1.2 scan, or why the strength checks cannot be judged.
fn tls12_scan(report: &TlsReport) -> Result<&SuiteScan, Verdict> {
    if !report.is_https() {
        return Err(Verdict::Skipped("endpoint is plain HTTP".to_owned()));
    }
    let scan = report.suite_scan(TlsVersion::Tls12);
    match scan {
        Some(scan) if accepted(report, TlsVersion::Tls12) => Ok(scan),
        _ => {
            let seen = report
                .version(TlsVersion::Tls12)
                .map(|r| r.detail.as_str())
                .unwrap_or("not probed");
            Err(Verdict::Skipped(format!(
                "TLS 1.2 is not reachable ({seen})"
            )))
        }
    }
}

/// The longest scan time among the versions scanned (the checks' duration).
pub(super) fn duration(report: &TlsReport) -> Duration {
    report
        .cipher_suites
        .iter()
        .map(|scan| scan.duration)
        .max()
        .unwrap_or(Duration::ZERO)
}

fn names(suites: &[&AcceptedSuite]) -> String {
    suites
        .iter()
        .map(|suite| suite.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// `tls.forward-secrecy`: every TLS 1.2 suite accepted is ECDHE or DHE.
pub(super) fn forward_secrecy(report: &TlsReport) -> Verdict {
    let scan = match tls12_scan(report) {
        Ok(scan) => scan,
        Err(verdict) => return verdict,
    };
    let without: Vec<String> = scan
        .accepted
        .iter()
        .filter(|suite| !suite.forward_secret)
        .map(|suite| {
            format!(
                "{} ({} key exchange)",
                suite.name,
                suite.key_exchange.as_str()
            )
        })
        .collect();
    if !without.is_empty() {
        return Verdict::Failed(format!(
            "TLS 1.2 accepts {} without forward secrecy: {}",
            plural(without.len(), "suite"),
            without.join(", ")
        ));
    }
    if !scan.complete {
        return Verdict::Skipped(format!(
            "could not list the TLS 1.2 suites: {}",
            scan.detail
        ));
    }
    if scan.accepted.is_empty() {
        return Verdict::Skipped(format!(
            "the cipher scan saw no TLS 1.2 suite ({})",
            scan.detail
        ));
    }
    let all: Vec<&AcceptedSuite> = scan.accepted.iter().collect();
    Verdict::Passed(format!(
        "all {} accepted at TLS 1.2 use ECDHE or DHE: {}",
        plural(all.len(), "suite"),
        names(&all)
    ))
}

/// `tls.no-weak-ciphers`: no NULL, EXPORT, RC4, DES, 3DES or anonymous suite at any
/// version scanned.
pub(super) fn no_weak_ciphers(report: &TlsReport) -> Verdict {
    if let Err(verdict) = tls12_scan(report) {
        return verdict;
    }
    // One entry per weak suite, with the versions it was accepted at.
    let mut weak: Vec<(&AcceptedSuite, Vec<TlsVersion>)> = Vec::new();
    let mut total = 0;
    let mut incomplete = Vec::new();
    for version in SCANNED {
        let Some(scan) = report.suite_scan(version) else {
            continue;
        };
        total += scan.accepted.len();
        if !scan.complete && accepted(report, version) {
            incomplete.push(format!("{version}: {}", scan.detail));
        }
        for suite in scan.accepted.iter().filter(|s| s.weakness.is_some()) {
            match weak.iter_mut().find(|(seen, _)| seen.id == suite.id) {
                Some((_, versions)) => versions.push(version),
                None => weak.push((suite, vec![version])),
            }
        }
    }
    if !weak.is_empty() {
        let list: Vec<String> = weak
            .iter()
            .map(|(suite, versions)| {
                let at: Vec<&str> = versions.iter().map(|v| v.as_str()).collect();
                format!(
                    "{} ({}; {})",
                    suite.name,
                    suite.weakness.unwrap_or("weak"),
                    at.join(", ")
                )
            })
            .collect();
        return Verdict::Failed(format!(
            "{} accepted: {}",
            plural(list.len(), "weak suite"),
            list.join("; ")
        ));
    }
    if !incomplete.is_empty() {
        return Verdict::Skipped(format!(
            "could not list every suite: {}",
            incomplete.join("; ")
        ));
    }
    Verdict::Passed(format!(
        "no NULL, EXPORT, RC4, DES, 3DES or anonymous suite among the {} accepted",
        plural(total, "suite")
    ))
}

/// `tls.mozilla-intermediate`: only TLS 1.2 and 1.3, and only the profile's TLS 1.2
/// suites. The message lists every deviation.
pub(super) fn mozilla_intermediate(report: &TlsReport) -> Verdict {
    let scan12 = match tls12_scan(report) {
        Ok(scan) => scan,
        Err(verdict) => return verdict,
    };
    let mut deviations: Vec<String> = Vec::new();
    // Each accepted version outside the profile and each suite outside it counts once.
    let mut count = 0;
    let mut incomplete = Vec::new();
    for version in [TlsVersion::Tls10, TlsVersion::Tls11] {
        if !accepted(report, version) {
            continue;
        }
        let scan = report.suite_scan(version);
        let suites: Vec<&AcceptedSuite> = scan
            .map(|s| s.accepted.iter().collect())
            .unwrap_or_default();
        count += 1;
        deviations.push(if suites.is_empty() {
            format!("{version} accepted")
        } else {
            format!("{version} accepted (suites: {})", names(&suites))
        });
    }
    let outside: Vec<&AcceptedSuite> = scan12
        .accepted
        .iter()
        .filter(|suite| !suite.mozilla_intermediate)
        .collect();
    if !outside.is_empty() {
        count += outside.len();
        deviations.push(format!(
            "TLS 1.2 {} outside the profile: {}",
            if outside.len() == 1 {
                "suite"
            } else {
                "suites"
            },
            names(&outside)
        ));
    }
    if !scan12.complete {
        incomplete.push(format!("TLS 1.2: {}", scan12.detail));
    }
    if !deviations.is_empty() {
        return Verdict::Failed(format!(
            "{} from Mozilla intermediate: {}",
            plural(count, "deviation"),
            deviations.join("; ")
        ));
    }
    if !incomplete.is_empty() {
        return Verdict::Skipped(format!(
            "could not list every suite: {}",
            incomplete.join("; ")
        ));
    }
    let versions = if accepted(report, TlsVersion::Tls13) {
        "TLS 1.2 and 1.3 only"
    } else {
        "TLS 1.2 only"
    };
    let all: Vec<&AcceptedSuite> = scan12.accepted.iter().collect();
    Verdict::Passed(format!(
        "{versions}; every TLS 1.2 suite is in the profile: {}",
        names(&all)
    ))
}
