//! The words of a verdict: every typed reason, finding and error of
//! [`crate::check`] turned into the sentence the reports print. The one place where a
//! verdict's prose lives (and so the one place below the CLI that may name a flag in
//! it): the runner produces typed verdicts, the formats read these words, or word the
//! typed fields their own way (grouping in [`group_unjudged`]).
//!
//! The check's `message` is [`Worded`]'s `Display`; its text is a public contract
//! (the JSON `message` field), so a change here is a change of every report.

use std::fmt::{self, Display, Formatter};

use crate::check::{
    CheckError, CheckResult, DiagnosisCause, ErrorCause, Finding, FindingCause, SkipReason,
    StepRef, Unsubstitutable, Verdict, Which, Worded,
};
use crate::delivery::retry::human;

impl Display for Worded<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.verdict)?;
        if !self.stand_ins.is_empty() {
            let stand_ins: Vec<String> = self
                .stand_ins
                .iter()
                .map(|s| format!("{} sent for {}", s.sent, s.instead_of))
                .collect();
            write!(f, " (within the subscription: {})", stand_ins.join(", "))?;
        }
        if let Some(diagnosis) = self.diagnosis {
            write!(f, "; diagnosis: {diagnosis}")?;
        }
        Ok(())
    }
}

impl Display for Verdict {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Passed(seen) => {
                f.write_str(&seen.text)?;
                for note in &seen.notes {
                    write!(f, "; {note}")?;
                }
                Ok(())
            }
            Verdict::Failed(finding) => write!(f, "{finding}"),
            Verdict::Skipped(reason) => write!(f, "{reason}"),
            Verdict::Error(error) => write!(f, "{error}"),
        }
    }
}

/// `step 2 ("tampered")`, or `step 2 ("tampered") (PNR/CREATED, garbage signature)`
/// when the step says what it sends.
impl Display for StepRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", StepLabel(self))?;
        if let Some(sends) = &self.sends {
            write!(f, " ({sends})")?;
        }
        if let Some(program) = &self.program {
            write!(f, " (`{}`)", short_command(program))?;
        }
        Ok(())
    }
}

/// A step's label alone: `step 2 ("tampered")`.
struct StepLabel<'a>(&'a StepRef);

impl Display for StepLabel<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.0.name {
            Some(name) => write!(f, "step {} (\"{name}\")", self.0.number),
            None => write!(f, "step {}", self.0.number),
        }
    }
}

/// `delivery 2 of 5: ` (with its noun) for one of several requests; nothing for one.
fn which(noun: &str, which: &Option<Which>) -> String {
    which
        .map(|w| format!("{noun} {} of {}: ", w.index, w.of))
        .unwrap_or_default()
}

/// ` (see ID)`, or nothing.
fn see(see: &Option<String>) -> String {
    see.as_deref()
        .map(|id| format!(" (see {id})"))
        .unwrap_or_default()
}

/// `step 2 (…): expected 401, got 200 OK`: the finding's text after its step.
impl Display for Finding {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(step) => write!(f, "{step}: {}", self.text),
            None => f.write_str(&self.text),
        }
    }
}

/// A typed finding's text (the finding's `text`, after its step).
impl Display for FindingCause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            FindingCause::RetryOutOfTime {
                attempts,
                last,
                origin,
                cap,
                cap_timeouts,
                cap_max,
                reached,
                schedule,
                scaled_schedule,
                time_scale,
            } => {
                let scale = time_scale
                    .map(|scale| format!(" (delays divided by {scale})"))
                    .unwrap_or_default();
                write!(
                    f,
                    "still failing after {attempts} attempts: {last}; {origin}; the check \
                     stopped at its time cap of {} ({cap_timeouts} × --timeout, at most {} s) \
                     having reached {} of Spotnana's {} schedule{scale} (it lasts {} at this \
                     scale)",
                    human(*cap),
                    cap_max.as_secs(),
                    human(*reached),
                    human(*schedule),
                    human(*scaled_schedule)
                )
            }
        }
    }
}

/// A typed diagnosis's finding (the diagnosis's `finding`).
impl Display for DiagnosisCause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DiagnosisCause::ClientCertificateRequired { presented: true } => f.write_str(
                "your endpoint requires a TLS client certificate and refused the one given \
                 with --client-cert (certificate_required alert): check that it trusts the CA \
                 that issued it",
            ),
            DiagnosisCause::ClientCertificateRequired { presented: false } => f.write_str(
                "your endpoint requires a TLS client certificate (it ended the handshake with \
                 a certificate_required alert): pass the certificate you issued for Spotnana \
                 with --client-cert and --client-key",
            ),
        }
    }
}

/// `scenario error in step 2: …`.
impl Display for CheckError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(step) => write!(f, "scenario error in {}: {}", StepLabel(step), self.cause),
            None => write!(f, "scenario error in [vars]: {}", self.cause),
        }
    }
}

impl Display for ErrorCause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCause::ObserveNeedsStateUrl => f.write_str(
                "cannot build the observation URL: it needs --state-url (an observation endpoint)",
            ),
            ErrorCause::TokenNeedsOauth => f.write_str("OAuth is not configured"),
            ErrorCause::Other { text } => f.write_str(text),
        }
    }
}

/// A skip reason's kind as the JSON report's `reason.kind` spells it
/// (`needs-state-url`), for the formats that carry only the kind (JUnit, TAP).
pub fn reason_kind(reason: &SkipReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|value| value.get("kind")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A command as written, cut to a readable length for one-line messages.
pub fn short_command(display: &str) -> String {
    const MAX: usize = 60;
    if display.chars().count() <= MAX {
        display.to_owned()
    } else {
        let cut: String = display.chars().take(MAX).collect();
        format!("{cut} …")
    }
}

impl Display for SkipReason {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NeedsExec { command } => write!(
                f,
                "runs a program (`{}`); pass --allow-exec to allow it",
                short_command(command)
            ),
            SkipReason::NeedsStateUrl => f.write_str(
                "needs an observation endpoint: pass --state-url (your read-back URL of what \
                 was processed)",
            ),
            SkipReason::NeedsOauth => f.write_str(
                "needs the legacy OAuth flow: pass --oauth-token-url, --oauth-client-id and \
                 --oauth-client-secret-env (or --oauth-client-secret-file)",
            ),
            SkipReason::NeedsHmac => {
                f.write_str("--no-hmac: deliveries carry no signature to check")
            }
            SkipReason::OutsideOrganizations {
                step,
                organization,
                organizations,
            } => write!(
                f,
                "{} sends for organization {organization}, outside the subscription's \
                 organizations ({}): Spotnana would not deliver it to this endpoint; add it \
                 with --org-id to have this check judged",
                StepLabel(step),
                organizations.join(", ")
            ),
            SkipReason::OutsideSubscription {
                step,
                event,
                event_type,
                subscription,
                why,
            } => {
                write!(
                    f,
                    "{} sends {event}, outside the subscription ({subscription})",
                    StepLabel(step)
                )?;
                match why {
                    Unsubstitutable::JudgesProcessing => f.write_str(
                        ", and the check judges what the endpoint processed, which may depend \
                         on the event: Spotnana would not deliver it to this endpoint; \
                         subscribe to it (--events) to have this check judged",
                    ),
                    Unsubstitutable::TypeSpecificPayload => write!(
                        f,
                        ", with a payload written for {event_type}: Spotnana would not deliver \
                         it to this endpoint; subscribe to {event_type} (--events) to have this \
                         check judged"
                    ),
                }
            }
            SkipReason::Precondition {
                step,
                what,
                request,
                got,
                needed,
                see: see_id,
            } => {
                f.write_str("could not judge: ")?;
                if let Some(step) = step {
                    write!(f, "{step} ")?;
                }
                if let Some(what) = what {
                    write!(f, "{what} ")?;
                }
                write!(
                    f,
                    "{}got {got}, where {needed} is needed{}",
                    which("delivery", request),
                    see(see_id)
                )
            }
            SkipReason::TokenPrecondition {
                step,
                request,
                problem,
                see: see_id,
            } => write!(
                f,
                "could not judge: {step} {}does not meet the precondition: {problem}{}",
                which("request", request),
                see(see_id)
            ),
            SkipReason::NotSent { step, request, why } => write!(
                f,
                "could not judge: {step} {}was not sent: {why}",
                which("delivery", request)
            ),
            SkipReason::CertificateBlocked {
                problem,
                can_continue,
            } => {
                write!(f, "{problem}; delivery checks skipped")?;
                if *can_continue {
                    f.write_str(" (--insecure-continue runs them anyway)")?;
                }
                Ok(())
            }
            SkipReason::Unreachable { address, error } => {
                write!(f, "not judged: {address} could not be reached ({error})")
            }
            SkipReason::NothingFailed => {
                f.write_str("no delivery failed during the run, so there was nothing to retry")
            }
            SkipReason::OtherSuccessOnly {
                webhook_id,
                check,
                got,
                see,
            } => write!(
                f,
                "could not judge: the only deliveries that failed were accepted with another \
                 success code (webhook id {webhook_id} in {check} got {got}); a retry cannot \
                 change the code the endpoint answers (see {see})"
            ),
            SkipReason::NoPublishedSchema => f.write_str(
                "none of the subscribed event types has a published payload schema (PNR_V3, \
                 TRIP_DETAILS_V3 and TRAVELER_V2 do): nothing to generate",
            ),
            SkipReason::Interrupted => f.write_str("run interrupted"),
            SkipReason::Other { text } => f.write_str(text),
        }
    }
}

/// Checks that could not be judged for one and the same unmet precondition: the same
/// step (by its label) got the same answer where the same was needed, and the same
/// check explains it. Reports say the cause once and list the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnjudgedGroup {
    /// The step's label (`step 1 ("control")`), or the delivery (`the control
    /// delivery`), as the cause's subject.
    pub subject: String,
    /// What the answer was (`401 Unauthorized`).
    pub got: String,
    /// What was needed (`200`).
    pub needed: String,
    /// The check whose finding explains it.
    pub see: Option<String>,
    /// The ids of the checks, in run order.
    pub checks: Vec<String>,
}

impl UnjudgedGroup {
    /// `20 checks could not judge: step 1 ("control") got 401 Unauthorized where 200
    /// is needed; see signature.valid-accepted`. `code` wraps a check id (Markdown
    /// backticks, nothing in the terminal).
    pub fn headline(&self, code: impl Fn(&str) -> String) -> String {
        let mut text = format!(
            "{} checks could not judge: {} got {}, where {} is needed",
            self.checks.len(),
            self.subject,
            self.got,
            self.needed
        );
        if let Some(see) = &self.see {
            text.push_str(&format!(
                "; see {}, whose finding names the cause",
                code(see)
            ));
        }
        text
    }
}

/// How many checks sharing one cause make a group: fewer are listed one by one.
pub const GROUP_AT_LEAST: usize = 3;

/// The unmet preconditions shared by at least [`GROUP_AT_LEAST`] checks, in order of
/// first appearance; grouped by the typed precondition (the step's label, what it
/// got, what was needed, the check it refers to), never by the message text.
pub fn group_unjudged(checks: &[CheckResult]) -> Vec<UnjudgedGroup> {
    let mut groups: Vec<UnjudgedGroup> = Vec::new();
    for check in checks {
        let Verdict::Skipped(SkipReason::Precondition {
            step,
            what,
            got,
            needed,
            see,
            ..
        }) = &check.verdict
        else {
            continue;
        };
        let subject = match (step, what) {
            (Some(step), _) => StepLabel(step).to_string(),
            (None, Some(what)) => what.clone(),
            (None, None) => "a delivery".to_owned(),
        };
        match groups
            .iter_mut()
            .find(|g| g.subject == subject && &g.got == got && &g.needed == needed && &g.see == see)
        {
            Some(group) => group.checks.push(check.info.id.clone()),
            None => groups.push(UnjudgedGroup {
                subject,
                got: got.clone(),
                needed: needed.clone(),
                see: see.clone(),
                checks: vec![check.info.id.clone()],
            }),
        }
    }
    groups.retain(|g| g.checks.len() >= GROUP_AT_LEAST);
    groups
}

/// One line of a report's list of checks: a check, or a group told once.
#[derive(Debug, Clone, Copy)]
pub enum Line<'a> {
    /// A check on a line of its own.
    Check(&'a CheckResult),
    /// Checks sharing one unmet precondition, where the first of them would be.
    Group(&'a UnjudgedGroup),
}

/// The lines of the list of checks, in run order: each group where its first check
/// would be, its other checks left out.
pub fn lines<'a>(checks: &'a [CheckResult], groups: &'a [UnjudgedGroup]) -> Vec<Line<'a>> {
    checks
        .iter()
        .filter_map(
            |check| match groups.iter().find(|g| g.checks.contains(&check.info.id)) {
                Some(group) if group.checks[0] == check.info.id => Some(Line::Group(group)),
                Some(_) => None,
                None => Some(Line::Check(check)),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Diagnosis, Seen, StandIn};

    fn step(number: usize, name: Option<&str>, sends: Option<&str>) -> StepRef {
        StepRef {
            number,
            name: name.map(str::to_owned),
            sends: sends.map(str::to_owned),
            program: None,
        }
    }

    fn skip(reason: SkipReason) -> String {
        Verdict::Skipped(reason).to_string()
    }

    /// Each typed reason in the words the reports printed before reasons were typed
    /// (the JSON `message` is a public contract).
    #[test]
    fn each_skip_reason_is_worded_as_before() {
        let control = step(1, Some("control"), Some("PNR_V3/BOOKING_CREATED"));
        let cases = [
            (
                SkipReason::NeedsExec {
                    command: "./check.sh {{ step.webhook_id }}".into(),
                },
                "runs a program (`./check.sh {{ step.webhook_id }}`); pass --allow-exec to allow it",
            ),
            (
                SkipReason::NeedsStateUrl,
                "needs an observation endpoint: pass --state-url (your read-back URL of what was processed)",
            ),
            (
                SkipReason::NeedsOauth,
                "needs the legacy OAuth flow: pass --oauth-token-url, --oauth-client-id and \
                 --oauth-client-secret-env (or --oauth-client-secret-file)",
            ),
            (
                SkipReason::NeedsHmac,
                "--no-hmac: deliveries carry no signature to check",
            ),
            (
                SkipReason::OutsideOrganizations {
                    step: step(2, None, Some("ignored")),
                    organization: "org-b".into(),
                    organizations: vec!["org-a".into(), "org-c".into()],
                },
                "step 2 sends for organization org-b, outside the subscription's organizations \
                 (org-a, org-c): Spotnana would not deliver it to this endpoint; add it with \
                 --org-id to have this check judged",
            ),
            (
                SkipReason::OutsideSubscription {
                    step: step(1, Some("send"), None),
                    event: "PNR_V3/BOOKING_CREATED".into(),
                    event_type: "PNR_V3".into(),
                    subscription: "TRIP_DETAILS_V3".into(),
                    why: Unsubstitutable::JudgesProcessing,
                },
                "step 1 (\"send\") sends PNR_V3/BOOKING_CREATED, outside the subscription \
                 (TRIP_DETAILS_V3), and the check judges what the endpoint processed, which may \
                 depend on the event: Spotnana would not deliver it to this endpoint; subscribe \
                 to it (--events) to have this check judged",
            ),
            (
                SkipReason::OutsideSubscription {
                    step: step(1, None, None),
                    event: "PNR_V3/BOOKING_CREATED".into(),
                    event_type: "PNR_V3".into(),
                    subscription: "TRIP_DETAILS_V3".into(),
                    why: Unsubstitutable::TypeSpecificPayload,
                },
                "step 1 sends PNR_V3/BOOKING_CREATED, outside the subscription (TRIP_DETAILS_V3), \
                 with a payload written for PNR_V3: Spotnana would not deliver it to this \
                 endpoint; subscribe to PNR_V3 (--events) to have this check judged",
            ),
            (
                SkipReason::Precondition {
                    step: Some(control.clone()),
                    what: None,
                    request: None,
                    got: "401 Unauthorized".into(),
                    needed: "200".into(),
                    see: Some("signature.valid-accepted".into()),
                },
                "could not judge: step 1 (\"control\") (PNR_V3/BOOKING_CREATED) got 401 \
                 Unauthorized, where 200 is needed (see signature.valid-accepted)",
            ),
            (
                SkipReason::Precondition {
                    step: Some(control.clone()),
                    what: None,
                    request: Which::of(1, 3),
                    got: "202 Accepted".into(),
                    needed: "200".into(),
                    see: None,
                },
                "could not judge: step 1 (\"control\") (PNR_V3/BOOKING_CREATED) delivery 2 of 3: \
                 got 202 Accepted, where 200 is needed",
            ),
            (
                SkipReason::Precondition {
                    step: None,
                    what: Some(
                        "the control delivery (PNR_V3/BOOKING_CREATED, a generated fixture event)"
                            .into(),
                    ),
                    request: None,
                    got: "401 Unauthorized".into(),
                    needed: "200".into(),
                    see: Some("delivery.status-200".into()),
                },
                "could not judge: the control delivery (PNR_V3/BOOKING_CREATED, a generated \
                 fixture event) got 401 Unauthorized, where 200 is needed (see delivery.status-200)",
            ),
            (
                SkipReason::TokenPrecondition {
                    step: step(
                        1,
                        Some("token"),
                        Some("token request with the configured client credentials"),
                    ),
                    request: Which::of(0, 2),
                    problem: "expected 200, got 401 Unauthorized".into(),
                    see: Some("oauth.token-issued".into()),
                },
                "could not judge: step 1 (\"token\") (token request with the configured client \
                 credentials) request 1 of 2: does not meet the precondition: expected 200, got \
                 401 Unauthorized (see oauth.token-issued)",
            ),
            (
                SkipReason::NotSent {
                    step: control.clone(),
                    request: None,
                    why: "no OAuth token from https://a.invalid/token".into(),
                },
                "could not judge: step 1 (\"control\") (PNR_V3/BOOKING_CREATED) was not sent: no \
                 OAuth token from https://a.invalid/token",
            ),
            (
                SkipReason::CertificateBlocked {
                    problem: "the certificate expired".into(),
                    can_continue: true,
                },
                "the certificate expired; delivery checks skipped (--insecure-continue runs them anyway)",
            ),
            (
                SkipReason::CertificateBlocked {
                    problem: "the certificate expired".into(),
                    can_continue: false,
                },
                "the certificate expired; delivery checks skipped",
            ),
            (
                SkipReason::Unreachable {
                    address: "127.0.0.1:1".into(),
                    error: "connection refused".into(),
                },
                "not judged: 127.0.0.1:1 could not be reached (connection refused)",
            ),
            (
                SkipReason::NothingFailed,
                "no delivery failed during the run, so there was nothing to retry",
            ),
            (
                SkipReason::OtherSuccessOnly {
                    webhook_id: "w-1".into(),
                    check: "delivery.status-200".into(),
                    got: "202 Accepted".into(),
                    see: "delivery.status-200".into(),
                },
                "could not judge: the only deliveries that failed were accepted with another \
                 success code (webhook id w-1 in delivery.status-200 got 202 Accepted); a retry \
                 cannot change the code the endpoint answers (see delivery.status-200)",
            ),
            (
                SkipReason::NoPublishedSchema,
                "none of the subscribed event types has a published payload schema (PNR_V3, \
                 TRIP_DETAILS_V3 and TRAVELER_V2 do): nothing to generate",
            ),
            (SkipReason::Interrupted, "run interrupted"),
            (
                SkipReason::from("endpoint is plain HTTP"),
                "endpoint is plain HTTP",
            ),
        ];
        for (reason, text) in cases {
            assert_eq!(skip(reason), text);
        }
    }

    #[test]
    fn findings_errors_and_passes_are_worded_as_before() {
        let failed = Verdict::Failed(Finding {
            step: Some(step(
                2,
                None,
                Some("PNR_V3/BOOKING_CREATED, garbage signature"),
            )),
            expected: Some("4xx".into()),
            got: Some("200 OK".into()),
            ..Finding::from("expected 4xx, got 200 OK")
        });
        assert_eq!(
            failed.to_string(),
            "step 2 (PNR_V3/BOOKING_CREATED, garbage signature): expected 4xx, got 200 OK"
        );
        let program = Verdict::Failed(Finding {
            step: Some(StepRef {
                program: Some(format!("./{}", "x".repeat(70))),
                ..step(3, Some("db"), None)
            }),
            ..Finding::from("exit status 1: row missing")
        });
        assert_eq!(
            program.to_string(),
            format!(
                "step 3 (\"db\") (`./{} …`): exit status 1: row missing",
                "x".repeat(58)
            )
        );
        let error = |step, cause| Verdict::Error(CheckError { step, cause }).to_string();
        assert_eq!(
            error(
                Some(step(1, Some("look"), Some("x"))),
                ErrorCause::ObserveNeedsStateUrl
            ),
            "scenario error in step 1 (\"look\"): cannot build the observation URL: it needs \
             --state-url (an observation endpoint)"
        );
        assert_eq!(
            error(Some(step(2, None, None)), ErrorCause::TokenNeedsOauth),
            "scenario error in step 2: OAuth is not configured"
        );
        assert_eq!(
            error(
                None,
                ErrorCause::Other {
                    text: "unknown variable `x`".into()
                }
            ),
            "scenario error in [vars]: unknown variable `x`"
        );
        let passed = Verdict::Passed(Seen {
            text: "1 answer as expected (200; slowest 3 ms)".into(),
            notes: vec!["check.sh: row found".into()],
        });
        assert_eq!(
            passed.to_string(),
            "1 answer as expected (200; slowest 3 ms); check.sh: row found"
        );
    }

    /// Stand-ins and a diagnosis end the message, in that order.
    #[test]
    fn stand_ins_and_diagnosis_end_the_message() {
        let verdict = Verdict::Failed(Finding::from("expected 200, got 401 Unauthorized"));
        let stand_ins = [StandIn {
            sent: "PNR_V3/BOOKING_UPDATED".into(),
            instead_of: "PNR_V3/BOOKING_CREATED".into(),
        }];
        let worded = Worded {
            verdict: &verdict,
            stand_ins: &stand_ins,
            diagnosis: Some("your endpoint uses the whole secret as the key"),
        };
        assert_eq!(
            worded.to_string(),
            "expected 200, got 401 Unauthorized (within the subscription: PNR_V3/BOOKING_UPDATED \
             sent for PNR_V3/BOOKING_CREATED); diagnosis: your endpoint uses the whole secret as \
             the key"
        );
        let _ = std::mem::size_of::<Diagnosis>();
    }

    fn check_info(id: &str) -> crate::check::CheckInfo {
        crate::check::CheckInfo {
            id: id.into(),
            title: id.into(),
            level: crate::check::Level::Recommended,
            why: String::new(),
            fix: String::new(),
            tags: vec![],
            needs: Default::default(),
            diagnosis: None,
        }
    }

    /// The retry check's time cap is a typed cause: the message is worded here exactly
    /// as before, and the JSON finding carries the cause beside its text.
    #[test]
    fn the_retry_time_cap_is_a_typed_cause_worded_as_before() {
        let cause = FindingCause::RetryOutOfTime {
            attempts: 4,
            last: "last status 500 Internal Server Error".into(),
            origin: "the delivery of webhook id w-1 in delivery.status-200 got 500 Internal \
                     Server Error"
                .into(),
            cap: std::time::Duration::from_secs(12),
            cap_timeouts: 6,
            cap_max: std::time::Duration::from_secs(30),
            reached: std::time::Duration::from_millis(7_500),
            schedule: std::time::Duration::from_secs(1_209_600),
            scaled_schedule: std::time::Duration::from_millis(12_096),
            time_scale: Some(100_000.0),
        };
        let result = CheckResult::new(
            check_info("retry.recovers-after-failure"),
            Verdict::Failed(Finding::caused(cause)),
            std::time::Duration::ZERO,
            Vec::new(),
        );
        let expected = "still failing after 4 attempts: last status 500 Internal Server Error; \
                        the delivery of webhook id w-1 in delivery.status-200 got 500 Internal \
                        Server Error; the check stopped at its time cap of 12s (6 × --timeout, \
                        at most 30 s) having reached 7.5s of Spotnana's 14d schedule (delays \
                        divided by 100000) (it lasts 12.096s at this scale)";
        assert_eq!(result.message, expected);
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["finding"]["text"], expected);
        let cause = &json["finding"]["cause"];
        assert_eq!(cause["kind"], "retry-out-of-time", "{json}");
        assert_eq!(cause["cap_ms"], 12_000);
        assert_eq!(cause["cap_timeouts"], 6);
        assert_eq!(cause["cap_max_ms"], 30_000);
        assert_eq!(cause["reached_ms"], 7_500);
        assert_eq!(cause["time_scale"], 100_000.0);
    }

    /// The client-certificate diagnosis is a typed cause: the message ends as before,
    /// and the JSON diagnosis carries the cause beside its finding.
    #[test]
    fn the_client_certificate_diagnosis_is_a_typed_cause_worded_as_before() {
        let cases = [
            (
                false,
                "your endpoint requires a TLS client certificate (it ended the handshake with a \
                 certificate_required alert): pass the certificate you issued for Spotnana with \
                 --client-cert and --client-key",
            ),
            (
                true,
                "your endpoint requires a TLS client certificate and refused the one given with \
                 --client-cert (certificate_required alert): check that it trusts the CA that \
                 issued it",
            ),
        ];
        for (presented, words) in cases {
            let cause = DiagnosisCause::ClientCertificateRequired { presented };
            let mut result = CheckResult::new(
                check_info("delivery.status-200"),
                Verdict::Failed(Finding::from("no answer: TLS handshake failed")),
                std::time::Duration::ZERO,
                Vec::new(),
            );
            result.diagnose(Diagnosis {
                kind: "client-certificate",
                confirmed: true,
                finding: cause.to_string(),
                cause: Some(cause),
                fixes: Vec::new(),
                steps: Vec::new(),
                probes: Vec::new(),
            });
            assert_eq!(
                result.message,
                format!("no answer: TLS handshake failed; diagnosis: {words}")
            );
            let json = serde_json::to_value(&result).unwrap();
            assert_eq!(json["diagnosis"]["finding"], words);
            assert_eq!(
                json["diagnosis"]["cause"],
                serde_json::json!({"kind": "client-certificate-required", "presented": presented}),
                "{json}"
            );
        }
    }

    fn unjudged(id: &str, got: &str, see: &str) -> CheckResult {
        CheckResult::new(
            crate::check::CheckInfo {
                id: id.into(),
                title: id.into(),
                level: crate::check::Level::Required,
                why: String::new(),
                fix: String::new(),
                tags: vec![],
                needs: Default::default(),
                diagnosis: None,
            },
            Verdict::Skipped(SkipReason::Precondition {
                // What each step sends differs; the cause is the same step's answer.
                step: Some(step(1, Some("control"), Some(id))),
                what: None,
                request: None,
                got: got.into(),
                needed: "200".into(),
                see: Some(see.into()),
            }),
            std::time::Duration::ZERO,
            Vec::new(),
        )
    }

    /// Grouped by the typed precondition, not the message: the same step's label, the
    /// same answer, the same need and reference; fewer than three stay on their own.
    #[test]
    fn unjudged_checks_group_by_their_typed_precondition() {
        let checks = vec![
            unjudged("a.one", "401 Unauthorized", "signature.valid-accepted"),
            unjudged("a.two", "401 Unauthorized", "signature.valid-accepted"),
            unjudged(
                "b.other",
                "500 Internal Server Error",
                "signature.valid-accepted",
            ),
            unjudged("a.three", "401 Unauthorized", "signature.valid-accepted"),
            unjudged("c.see", "401 Unauthorized", "delivery.status-200"),
        ];
        let groups = group_unjudged(&checks);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].checks, ["a.one", "a.two", "a.three"]);
        assert_eq!(
            groups[0].headline(|id| format!("`{id}`")),
            "3 checks could not judge: step 1 (\"control\") got 401 Unauthorized, where 200 is \
             needed; see `signature.valid-accepted`, whose finding names the cause"
        );
        let lines: Vec<String> = lines(&checks, &groups)
            .into_iter()
            .map(|line| match line {
                Line::Check(check) => check.info.id.clone(),
                Line::Group(group) => format!("group of {}", group.checks.len()),
            })
            .collect();
        assert_eq!(lines, ["group of 3", "b.other", "c.see"]);
    }
}
