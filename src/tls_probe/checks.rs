//! The nine `tls.*` checks, judged from a [`TlsReport`] (the three strength checks in
//! `strength`).

use std::sync::LazyLock;
use std::time::Duration;

use crate::check::{CheckInfo, CheckResult, Level, Needs, Verdict};

use super::report::{Outcome, TlsReport, VersionResult};
use super::strength;
use super::version::TlsVersion;

/// `tls.certificate-expiry` warns when the leaf has fewer days left than this.
pub const EXPIRY_WARN_DAYS: i64 = 30;

const HTTPS_REQUIRED: &str = "tls.https-required";
const TLS12_SUPPORTED: &str = "tls.tls12-supported";
const TLS13_SUPPORTED: &str = "tls.tls13-supported";
const LEGACY_REFUSED: &str = "tls.legacy-refused";
const CERTIFICATE_VALID: &str = "tls.certificate-valid";
const CERTIFICATE_EXPIRY: &str = "tls.certificate-expiry";
const FORWARD_SECRECY: &str = "tls.forward-secrecy";
const NO_WEAK_CIPHERS: &str = "tls.no-weak-ciphers";
const MOZILLA_INTERMEDIATE: &str = "tls.mozilla-intermediate";

/// One `tls.*` check: what it is (the same [`CheckInfo`] as every other check, in the
/// run's catalogue), and its judge over a probe report.
pub struct TlsCheck {
    /// What the check is.
    pub info: CheckInfo,
    /// Judged only over TLS: skipped ("endpoint is plain HTTP") for an `http://` endpoint.
    over_tls: bool,
    /// The verdict and the time its probing took.
    judge: fn(&TlsReport) -> (Verdict, Duration),
}

/// A `tls.*` check's [`CheckInfo`]: tagged `tls`, needing nothing of the run, no diagnosis.
fn info(id: &str, title: &str, level: Level, why: &str, fix: &str) -> CheckInfo {
    CheckInfo {
        id: id.to_owned(),
        title: title.to_owned(),
        level,
        why: why.to_owned(),
        fix: fix.to_owned(),
        tags: vec!["tls".to_owned()],
        needs: Needs::default(),
        diagnosis: None,
    }
}

/// The nine `tls.*` checks, in the order of the README's check table (the three
/// strength checks last). The three strength checks also skip when TLS 1.2 is not
/// reachable.
static TLS_CHECKS: LazyLock<[TlsCheck; 9]> = LazyLock::new(|| {
    [
        TlsCheck {
            info: info(
                HTTPS_REQUIRED,
                "The endpoint is https://",
                Level::Required,
                "Spotnana delivers only over HTTPS: events carry traveller data and must not cross the network in clear.",
                "Serve the webhook endpoint over https:// and register the https:// URL with Spotnana.",
            ),
            over_tls: false,
            judge: https_required,
        },
        TlsCheck {
            info: info(
                TLS12_SUPPORTED,
                "A TLS 1.2 handshake succeeds",
                Level::Required,
                "Spotnana connects with TLS 1.2 or higher; an endpoint without TLS 1.2 cannot be reached by TLS 1.2 clients.",
                "Enable TLS 1.2 with ECDHE and AES-GCM suites on the server or load balancer (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`).",
            ),
            over_tls: true,
            judge: |report| version_check(report, TlsVersion::Tls12),
        },
        TlsCheck {
            info: info(
                TLS13_SUPPORTED,
                "A TLS 1.3 handshake succeeds",
                Level::Recommended,
                "TLS 1.3 is faster and has no weak options; Spotnana prefers it when offered.",
                "Enable TLS 1.3 on the server or load balancer (OpenSSL 1.1.1 or later; nginx: `ssl_protocols TLSv1.2 TLSv1.3;`).",
            ),
            over_tls: true,
            judge: |report| version_check(report, TlsVersion::Tls13),
        },
        TlsCheck {
            info: info(
                LEGACY_REFUSED,
                "TLS 1.0 and TLS 1.1 are refused",
                Level::Recommended,
                "TLS 1.0 and 1.1 are deprecated (RFC 8996) and weak; nothing legitimate needs them, so accepting them only helps attackers.",
                "Disable TLSv1 and TLSv1.1 (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`; on a cloud load balancer pick a policy with minimum TLS 1.2).",
            ),
            over_tls: true,
            judge: legacy_check,
        },
        TlsCheck {
            info: info(
                CERTIFICATE_VALID,
                "The certificate verifies",
                Level::Required,
                "Spotnana verifies the endpoint's certificate: an untrusted, misnamed, expired or not-yet-valid certificate makes every delivery fail.",
                "Serve the full chain (leaf and intermediates) from a public CA, issued for the endpoint's host name and in its validity period; for a private CA in testing, pass it with --ca-cert.",
            ),
            over_tls: true,
            judge: |report| (certificate_valid(report), Duration::ZERO),
        },
        TlsCheck {
            info: info(
                CERTIFICATE_EXPIRY,
                "The certificate is valid for 30 more days",
                Level::Recommended,
                "A certificate that lapses stops every delivery; 30 days leaves time to renew.",
                "Renew the certificate now and automate renewal (e.g. ACME) well before it expires.",
            ),
            over_tls: true,
            judge: |report| (certificate_expiry(report), Duration::ZERO),
        },
        TlsCheck {
            info: info(
                FORWARD_SECRECY,
                "Every TLS 1.2 suite has forward secrecy (ECDHE or DHE)",
                Level::Recommended,
                "With RSA or static (EC)DH key exchange, anyone who records the traffic and later obtains the server's private key can decrypt every recorded event; ECDHE/DHE session keys die with the connection.",
                "Offer only ECDHE (and DHE) suites at TLS 1.2 (nginx: `ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;`; on a cloud load balancer pick a policy without `RSA`/`AES128-SHA` suites).",
            ),
            over_tls: true,
            judge: |report| {
                (
                    strength::forward_secrecy(report),
                    strength::duration(report),
                )
            },
        },
        TlsCheck {
            info: info(
                NO_WEAK_CIPHERS,
                "No NULL, EXPORT, RC4, DES, 3DES or anonymous suite is accepted",
                Level::Recommended,
                "These suites give no or breakable encryption (NULL, EXPORT, RC4, DES, 3DES/Sweet32) or no server authentication (anonymous DH/ECDH); a client or attacker can pick them even when better ones are offered.",
                "Remove them from the server's cipher list (OpenSSL syntax: append `:!aNULL:!eNULL:!EXPORT:!RC4:!DES:!3DES`, or better use Mozilla's intermediate list), and never lower OpenSSL's security level to 0.",
            ),
            over_tls: true,
            judge: |report| {
                (
                    strength::no_weak_ciphers(report),
                    strength::duration(report),
                )
            },
        },
        TlsCheck {
            info: info(
                MOZILLA_INTERMEDIATE,
                "Versions and suites fit Mozilla's intermediate profile",
                Level::Recommended,
                "Mozilla's intermediate profile (v5.7) is the widely used baseline for servers that any modern client can reach: TLS 1.2 and 1.3 only, and at TLS 1.2 only ECDHE/DHE with AES-GCM or ChaCha20-Poly1305. (The DH group size of DHE suites is not measured; the profile asks for 2048 bits or more.)",
                "Configure the server from https://ssl-config.mozilla.org/ with the \"Intermediate\" setting: `ssl_protocols TLSv1.2 TLSv1.3;` and its `ssl_ciphers` list; on a cloud load balancer pick the TLS 1.2+ policy with GCM/ChaCha20 suites only.",
            ),
            over_tls: true,
            judge: |report| {
                (
                    strength::mozilla_intermediate(report),
                    strength::duration(report),
                )
            },
        },
    ]
});

impl TlsCheck {
    /// Judges the check from a probe report.
    pub fn judged(&self, report: &TlsReport) -> CheckResult {
        let (verdict, duration) = if self.over_tls && !report.is_https() {
            (
                Verdict::Skipped("endpoint is plain HTTP".into()),
                Duration::ZERO,
            )
        } else {
            (self.judge)(report)
        };
        CheckResult::new(self.info.clone(), verdict, duration, Vec::new())
    }
}

/// The nine `tls.*` checks, in the order of the README's check table (the three strength checks last).
pub fn check_infos() -> Vec<CheckInfo> {
    TLS_CHECKS.iter().map(|check| check.info.clone()).collect()
}

/// The nine `tls.*` checks as the run's catalogue lists them (see `runner::catalogue`).
pub fn tls_checks() -> &'static [TlsCheck] {
    &TLS_CHECKS[..]
}

/// Judges the nine `tls.*` checks from a probe report, in the order of the README's check table.
///
/// For a plain `http://` endpoint `tls.https-required` fails and the other eight are
/// skipped ("endpoint is plain HTTP").
pub fn checks(report: &TlsReport) -> Vec<CheckResult> {
    TLS_CHECKS
        .iter()
        .map(|check| check.judged(report))
        .collect()
}

/// `tls.https-required`: the endpoint is `https://`.
fn https_required(report: &TlsReport) -> (Verdict, Duration) {
    let verdict = if report.is_https() {
        Verdict::Passed("the endpoint uses https://".into())
    } else {
        Verdict::Failed(
            format!(
                "the endpoint is plain {}://; Spotnana delivers only over HTTPS",
                report.scheme
            )
            .into(),
        )
    };
    (verdict, Duration::ZERO)
}

/// Why no delivery can succeed: the endpoint is https:// and its certificate does not
/// verify. Typed: the run words it (and names the option that goes on anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateBlock {
    /// What is wrong with the certificate (`invalid peer certificate: UnknownIssuer`).
    pub problem: String,
}

/// The reason to skip the other suites: the endpoint is https:// and its certificate
/// does not verify, so no delivery could succeed. `None` when deliveries can go ahead
/// (or when no certificate was seen: the delivery checks then report the transport
/// failure themselves).
pub fn certificate_blocks_delivery(report: &TlsReport) -> Option<CertificateBlock> {
    let certificate = report.certificate.as_ref()?;
    if !report.is_https() || certificate.verified {
        return None;
    }
    let problem = certificate
        .verify_error
        .clone()
        .unwrap_or_else(|| "the certificate does not verify".to_owned());
    Some(CertificateBlock { problem })
}

fn missing(version: TlsVersion) -> (Verdict, Duration) {
    (
        Verdict::Skipped(format!("{version} was not probed").into()),
        Duration::ZERO,
    )
}

/// `TLS 1.2 accepted (TLS_…)` or what happened instead.
fn describe(result: &VersionResult) -> String {
    match result.outcome {
        Outcome::Accepted => match &result.cipher {
            Some(cipher) => format!("{} accepted ({cipher})", result.version),
            None => format!("{} accepted", result.version),
        },
        Outcome::Refused => format!("{} refused: {}", result.version, result.detail),
        Outcome::Unreachable | Outcome::Error | Outcome::NotTested => {
            format!("{}: {}", result.version, result.detail)
        }
    }
}

fn version_check(report: &TlsReport, version: TlsVersion) -> (Verdict, Duration) {
    let Some(result) = report.version(version) else {
        return missing(version);
    };
    let verdict = match result.outcome {
        Outcome::Accepted => Verdict::Passed(describe(result).into()),
        Outcome::NotTested => Verdict::Skipped(describe(result).into()),
        Outcome::Refused | Outcome::Unreachable | Outcome::Error => {
            Verdict::Failed(describe(result).into())
        }
    };
    (verdict, result.duration)
}

fn legacy_check(report: &TlsReport) -> (Verdict, Duration) {
    let (Some(tls10), Some(tls11)) = (
        report.version(TlsVersion::Tls10),
        report.version(TlsVersion::Tls11),
    ) else {
        return missing(TlsVersion::Tls10);
    };
    let duration = tls10.duration.max(tls11.duration);
    let both = format!("{}; {}", describe(tls10), describe(tls11));
    let accepted = [tls10, tls11]
        .iter()
        .any(|r| r.outcome == Outcome::Accepted);
    let modern_accepted = [TlsVersion::Tls12, TlsVersion::Tls13]
        .iter()
        .filter_map(|&v| report.version(v))
        .any(|r| r.outcome == Outcome::Accepted);
    let verdict = if accepted {
        Verdict::Failed(both.into())
    } else if !modern_accepted {
        Verdict::Skipped(
            format!("no TLS version was accepted, so refusing TLS 1.0/1.1 proves nothing ({both})")
                .into(),
        )
    } else if tls10.outcome == Outcome::Refused && tls11.outcome == Outcome::Refused {
        Verdict::Passed(both.into())
    } else {
        Verdict::Skipped(format!("could not tell: {both}").into())
    };
    (verdict, duration)
}

fn certificate_valid(report: &TlsReport) -> Verdict {
    let Some(certificate) = &report.certificate else {
        return Verdict::Failed(no_certificate(report).into());
    };
    if certificate.verified {
        Verdict::Passed(
            format!(
                "verified: {} issued by `{}` for {}, valid until {}",
                certificate.subject, certificate.issuer, report.host, certificate.not_after
            )
            .into(),
        )
    } else {
        Verdict::Failed(
            certificate
                .verify_error
                .clone()
                .unwrap_or_else(|| "the certificate does not verify".to_owned())
                .into(),
        )
    }
}

fn certificate_expiry(report: &TlsReport) -> Verdict {
    let Some(certificate) = &report.certificate else {
        return Verdict::Skipped(no_certificate(report).into());
    };
    let days = certificate.days_left;
    if certificate.seconds_left >= EXPIRY_WARN_DAYS * 86_400 {
        Verdict::Passed(
            format!(
                "valid for {days} more days (until {})",
                certificate.not_after
            )
            .into(),
        )
    } else if certificate.seconds_left >= 0 {
        Verdict::Failed(
            format!(
                "the certificate expires in {days} days ({}); renew it",
                certificate.not_after
            )
            .into(),
        )
    } else {
        Verdict::Failed(
            format!(
                "the certificate expired {} days ago ({})",
                -days, certificate.not_after
            )
            .into(),
        )
    }
}

/// Why there is no certificate: what the TLS 1.2/1.3 handshakes saw.
fn no_certificate(report: &TlsReport) -> String {
    let seen: Vec<String> = [TlsVersion::Tls13, TlsVersion::Tls12]
        .iter()
        .filter_map(|&v| report.version(v))
        .map(describe)
        .collect();
    format!(
        "no certificate seen: no TLS 1.2 or 1.3 handshake got that far ({})",
        seen.join("; ")
    )
}
