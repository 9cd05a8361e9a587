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
    CheckError, CheckResult, ErrorCause, Finding, SkipReason, StepRef, Unsubstitutable, Verdict,
    Which, Worded,
};

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
