//! Checks and their outcomes: the unit every report is made of.

use std::time::Duration;

use serde::Serialize;

use crate::delivery::exchange::Exchange;

/// How much a check matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Spotnana's documented rules and what breaks delivery: a failure is `fail`.
    Required,
    /// Security and robustness practice: a failure is `warn`.
    Recommended,
}

impl Level {
    /// `required` / `recommended`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Required => "required",
            Level::Recommended => "recommended",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It conforms.
    Pass,
    /// A required check failed.
    Fail,
    /// A recommended check failed.
    Warn,
    /// Not run (not applicable, or filtered out, or a prerequisite failed).
    Skip,
    /// The run was interrupted before this check finished.
    Interrupted,
    /// The check could not run: a runtime error in its scenario (a template that
    /// refers to a value an earlier step did not record, an observation whose answer
    /// cannot be read). Not a finding about the endpoint; the run exits 2.
    Error,
}

impl Status {
    /// `PASS`, `FAIL`, …
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Skip => "SKIP",
            Status::Interrupted => "INTR",
            Status::Error => "ERR",
        }
    }
}

/// What a check is: stable id, level, and the texts a partner acts on.
#[derive(Debug, Clone)]
pub struct CheckInfo {
    /// Stable id `suite.name` (a public contract).
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Required or recommended.
    pub level: Level,
    /// Why it matters.
    pub why: String,
    /// How to fix a failure.
    pub fix: String,
    /// Free tags for `--tags`.
    pub tags: Vec<String>,
    /// What the check needs from the run (not part of any report).
    pub needs: Needs,
    /// The diagnosis that explains its failure, declared where the check is defined
    /// (`diagnosis = "…"` in a scenario file); `None` for most checks. The diagnoses
    /// find their check by this, never by its id, so a renamed check keeps its diagnosis.
    pub diagnosis: Option<DiagnosisKind>,
}

/// Which diagnosis explains a check's failure (see `crate::diagnose`). Each reads the
/// check's exchanges as the built-in check that declares it lays them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosisKind {
    /// Correctly signed deliveries refused: the signature computed each common wrong
    /// way (`signature.valid-accepted`).
    Signature,
    /// A rotation header refused in one position only (`signature.rotation-accepted`).
    Rotation,
    /// Some body styles refused: a re-serialized body verified (`signature.raw-body`).
    BodyStyle,
    /// Some subscribed event kinds refused: a fixed allow-list
    /// (`delivery.every-subscribed-event`).
    EventAllowList,
    /// An unknown operation refused while a known one is accepted
    /// (`delivery.unknown-operation-tolerated`).
    UnknownOperation,
    /// Deliveries a realistic clock skew away refused: the replay window measured
    /// (`signature.clock-skew-tolerated`).
    ClockSkew,
}

impl DiagnosisKind {
    /// Every diagnosis, with its spelling in a scenario file's `diagnosis` key.
    pub const ALL: [(&'static str, DiagnosisKind); 6] = [
        ("signature", DiagnosisKind::Signature),
        ("rotation", DiagnosisKind::Rotation),
        ("body-style", DiagnosisKind::BodyStyle),
        ("event-allow-list", DiagnosisKind::EventAllowList),
        ("unknown-operation", DiagnosisKind::UnknownOperation),
        ("clock-skew", DiagnosisKind::ClockSkew),
    ];

    /// The spelling in a scenario file.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("", |(name, _)| name)
    }
}

/// What a check needs from the run, set where the check is defined: the engine and
/// the reports read these, never the check's id or suite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// HMAC-signed deliveries (`requires = ["hmac"]`): skipped with `--no-hmac`
    /// (nothing to judge without a signature).
    pub hmac: bool,
    /// The partner's observation URL (`--state-url`): skipped without one.
    pub state_url: bool,
    /// The legacy OAuth flow: left out of runs without OAuth.
    pub oauth: bool,
    /// Judged over the whole run (its outcome depends on the other checks'): a replay
    /// runs every check, not this one alone.
    pub whole_run: bool,
    /// It measures time (`schedule = "timing"`: answer times, p95): the scheduler runs
    /// it with nothing else of the run in flight, so its figures are the endpoint's,
    /// not a queue behind spotcheck's own other deliveries.
    pub measures_time: bool,
    /// It loads the endpoint (`schedule = "load"`: many deliveries at once); never in
    /// flight beside a check that measures time.
    pub loads_endpoint: bool,
}

impl Serialize for CheckInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(7))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("suite", self.suite())?;
        map.serialize_entry("title", &self.title)?;
        map.serialize_entry("level", &self.level)?;
        map.serialize_entry("why", &self.why)?;
        map.serialize_entry("fix", &self.fix)?;
        map.serialize_entry("tags", &self.tags)?;
        map.end()
    }
}

impl CheckInfo {
    /// The suite: the part of the id before the first `.`.
    pub fn suite(&self) -> &str {
        self.id.split('.').next().unwrap_or(&self.id)
    }
}

/// A verdict before the level is applied: typed, so every report format can word it
/// its own way and the JSON report can say *why* (see `report/wording.rs` for
/// the words, `docs/verdicts.md` for the shapes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It conforms; what was seen.
    Passed(Seen),
    /// It does not; what was seen instead, at which step.
    Failed(Finding),
    /// It could not be judged, and why: a capability the run lacks, a precondition the
    /// endpoint did not meet, an interruption.
    Skipped(SkipReason),
    /// It could not run because of an error in its scenario.
    Error(CheckError),
}

/// What a passing check saw ("3 answers as expected …").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seen {
    /// What was seen, as one sentence.
    pub text: String,
    /// What the scenario's programs said (the first line of their output).
    pub notes: Vec<String>,
}

impl From<String> for Seen {
    fn from(text: String) -> Seen {
        Seen {
            text,
            notes: Vec::new(),
        }
    }
}

impl From<&str> for Seen {
    fn from(text: &str) -> Seen {
        Seen::from(text.to_owned())
    }
}

/// A scenario step as a verdict names it: its number, its name, and what it sends.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StepRef {
    /// 1-based position in the scenario.
    pub number: usize,
    /// The step's `name`, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the step's requests are (`PNR/CREATED, garbage signature`), when the
    /// step's label does not say enough.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sends: Option<String>,
    /// The step's program as written, when its program made the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
}

/// Which of several requests of one step (`delivery 2 of 5`); absent for a step's
/// only request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Which {
    /// 1-based index of the request.
    pub index: usize,
    /// How many requests the step made.
    pub of: usize,
}

impl Which {
    /// The `i`th (0-based) of `total` requests; `None` when there is only one.
    pub fn of(i: usize, total: usize) -> Option<Which> {
        (total > 1).then_some(Which {
            index: i + 1,
            of: total,
        })
    }
}

/// What a failed check saw instead of what it expected (the model: nextest's
/// `MismatchReason`, Hurl's assert errors with their source).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Finding {
    /// The step where the expectation was unmet (absent for whole-run and TLS checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<StepRef>,
    /// Which of the step's requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Which>,
    /// What was expected, where one value was compared (`401`, `2xx`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was got instead (`200 OK`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub got: Option<String>,
    /// The finding as one sentence, after the step (`expected 401, got 200 OK`).
    pub text: String,
    /// What a diagnosis found out about it (one sentence), when one ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// The finding's typed cause, when its words are the reports' to choose (they name
    /// a flag): `text` is then its wording (`report/wording.rs`). Boxed: it is rare
    /// and larger than the rest of a finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Box<FindingCause>>,
}

impl Finding {
    /// A finding with a typed cause, its `text` worded from it.
    pub fn caused(cause: FindingCause) -> Finding {
        Finding {
            text: cause.to_string(),
            cause: Some(Box::new(cause)),
            ..Finding::default()
        }
    }
}

/// A finding's typed cause. The JSON report writes it as the finding's `cause` with a
/// `kind` (kebab-case) and the fields of the variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FindingCause {
    /// The retry check reached its time cap before the endpoint accepted the delivery
    /// and before Spotnana's schedule (time-scaled) ended.
    RetryOutOfTime {
        /// Attempts made, the original delivery counted.
        attempts: usize,
        /// The last attempt's outcome (`last status 500 Internal Server Error`).
        last: String,
        /// Which delivery was retried (`the delivery of webhook id … got …`).
        origin: String,
        /// The time cap the check stopped at.
        #[serde(rename = "cap_ms", serialize_with = "serialize_ms")]
        cap: Duration,
        /// The cap is this many times the request timeout …
        cap_timeouts: u32,
        /// … and at most this long.
        #[serde(rename = "cap_max_ms", serialize_with = "serialize_ms")]
        cap_max: Duration,
        /// How far into the schedule the last attempt was due.
        #[serde(rename = "reached_ms", serialize_with = "serialize_ms")]
        reached: Duration,
        /// Spotnana's whole schedule, unscaled.
        #[serde(rename = "schedule_ms", serialize_with = "serialize_ms")]
        schedule: Duration,
        /// The schedule at this run's time scale.
        #[serde(rename = "scaled_schedule_ms", serialize_with = "serialize_ms")]
        scaled_schedule: Duration,
        /// The delays were divided by this (absent when not scaled).
        #[serde(skip_serializing_if = "Option::is_none")]
        time_scale: Option<f64>,
    },
}

// The time scale is finite and above 1 (never NaN), so equality is an equivalence.
impl Eq for FindingCause {}

impl From<String> for Finding {
    fn from(text: String) -> Finding {
        Finding {
            text,
            ..Finding::default()
        }
    }
}

impl From<&str> for Finding {
    fn from(text: &str) -> Finding {
        Finding::from(text.to_owned())
    }
}

/// Why a check was not judged. The JSON report writes it as `reason` with a `kind`
/// (kebab-case) and the fields of the variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SkipReason {
    /// The scenario runs a program and running programs was not allowed.
    NeedsExec {
        /// The command as written.
        command: String,
    },
    /// The scenario observes what the endpoint processed and the run has no
    /// observation endpoint.
    NeedsStateUrl,
    /// The scenario exercises the legacy OAuth flow and the run has no OAuth.
    NeedsOauth,
    /// The check judges signatures and the run sends none.
    NeedsHmac,
    /// A step sends for an organization outside the subscription.
    OutsideOrganizations {
        /// The step.
        step: StepRef,
        /// The organization it sends for.
        organization: String,
        /// The subscription's organizations.
        organizations: Vec<String>,
    },
    /// A step sends an event outside the subscription and no stand-in may replace it.
    OutsideSubscription {
        /// The step.
        step: StepRef,
        /// The event it sends (`PNR/CREATED`).
        event: String,
        /// The event's type (`PNR`).
        event_type: String,
        /// The subscription, as `--events` writes it.
        subscription: String,
        /// Why no stand-in: the check judges what the endpoint processed, or the
        /// step's payload is written for this event type.
        why: Unsubstitutable,
    },
    /// An answer did not meet the step's precondition: the check's subject could not
    /// be reached (another check's finding, named by `see`).
    Precondition {
        /// The step whose precondition was unmet (for a whole-run check, absent and
        /// `what` says which delivery).
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<StepRef>,
        /// The delivery, when not a scenario step (`the control delivery (…)`).
        #[serde(skip_serializing_if = "Option::is_none")]
        what: Option<String>,
        /// Which of the step's requests.
        #[serde(skip_serializing_if = "Option::is_none")]
        request: Option<Which>,
        /// What the answer was (`401 Unauthorized`).
        got: String,
        /// What the precondition needs (`200`).
        needed: String,
        /// The check whose finding explains it.
        #[serde(skip_serializing_if = "Option::is_none")]
        see: Option<String>,
    },
    /// A token request did not meet its step's precondition.
    TokenPrecondition {
        /// The step.
        step: StepRef,
        /// Which of the step's requests.
        #[serde(skip_serializing_if = "Option::is_none")]
        request: Option<Which>,
        /// What is wrong with the answer.
        problem: String,
        /// The check whose finding explains it.
        #[serde(skip_serializing_if = "Option::is_none")]
        see: Option<String>,
    },
    /// A delivery of the step never went out (no OAuth token to send it with …).
    NotSent {
        /// The step.
        step: StepRef,
        /// Which of the step's requests.
        #[serde(skip_serializing_if = "Option::is_none")]
        request: Option<Which>,
        /// Why it was not sent.
        why: String,
    },
    /// The endpoint's certificate blocks deliveries.
    CertificateBlocked {
        /// What is wrong with the certificate.
        problem: String,
        /// Whether the run could be told to go on anyway (a scenario check).
        can_continue: bool,
    },
    /// No connection to the endpoint succeeded in the run.
    Unreachable {
        /// `host:port`.
        address: String,
        /// The connection error.
        error: String,
    },
    /// No delivery failed during the run, so there was nothing to retry.
    NothingFailed,
    /// The only failed deliveries were accepted with another success code.
    OtherSuccessOnly {
        /// The delivery's webhook id.
        webhook_id: String,
        /// The check it belongs to.
        check: String,
        /// What it got.
        got: String,
        /// The check whose finding explains it.
        see: String,
    },
    /// None of the subscribed event types has a published payload schema.
    NoPublishedSchema,
    /// The run was interrupted before this check finished.
    Interrupted,
    /// Any other reason, as one sentence (TLS checks).
    Other {
        /// The reason.
        text: String,
    },
}

impl From<String> for SkipReason {
    fn from(text: String) -> SkipReason {
        SkipReason::Other { text }
    }
}

impl From<&str> for SkipReason {
    fn from(text: &str) -> SkipReason {
        SkipReason::Other {
            text: text.to_owned(),
        }
    }
}

impl SkipReason {
    /// The check whose finding explains this one, when the reason names one.
    pub fn see(&self) -> Option<&str> {
        match self {
            SkipReason::Precondition { see, .. } | SkipReason::TokenPrecondition { see, .. } => {
                see.as_deref()
            }
            SkipReason::OtherSuccessOnly { see, .. } => Some(see),
            _ => None,
        }
    }

    /// Whether the check could not be judged because the endpoint did not meet a
    /// precondition (a "could not judge" reason), rather than a capability of the run.
    pub fn is_unmet_precondition(&self) -> bool {
        matches!(
            self,
            SkipReason::Precondition { .. }
                | SkipReason::TokenPrecondition { .. }
                | SkipReason::NotSent { .. }
                | SkipReason::OtherSuccessOnly { .. }
        )
    }
}

/// Why an event outside the subscription could not be replaced by a stand-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unsubstitutable {
    /// The check judges what the endpoint processed, which may depend on the event.
    JudgesProcessing,
    /// The step's payload is written for the event's type.
    TypeSpecificPayload,
}

/// Why a check could not run: a runtime error in its scenario, not a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckError {
    /// Where: the step, or absent for the scenario's `[vars]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<StepRef>,
    /// What went wrong.
    #[serde(flatten)]
    pub cause: ErrorCause,
}

/// What went wrong in a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ErrorCause {
    /// An observation step ran without an observation endpoint.
    ObserveNeedsStateUrl,
    /// A token step ran without OAuth.
    TokenNeedsOauth,
    /// Anything else, as one sentence (a template that cannot be rendered, an
    /// observation whose answer cannot be read).
    Other {
        /// What went wrong.
        text: String,
    },
}

/// An event kind sent in place of one outside the subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandIn {
    /// What was sent (`PNR/UPDATED`).
    pub sent: String,
    /// What the scenario asked for.
    pub instead_of: String,
}

/// A verdict with what shapes its wording; `Display` (in `report/wording.rs`)
/// gives the check's `message`.
pub struct Worded<'a> {
    /// The verdict.
    pub verdict: &'a Verdict,
    /// The stand-ins the check was run with.
    pub stand_ins: &'a [StandIn],
    /// What a diagnosis found out, if one ran.
    pub diagnosis: Option<&'a str>,
}

/// A finished check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check.
    #[serde(flatten)]
    pub info: CheckInfo,
    /// Its outcome.
    pub status: Status,
    /// What was seen, worded from the verdict (the same words as before verdicts
    /// were typed; a public contract).
    pub message: String,
    /// Why it was not judged (`skip` and `interrupted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<SkipReason>,
    /// What it saw instead of what it expected (`fail` and `warn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<Finding>,
    /// Why it could not run (`error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<CheckError>,
    /// The event kinds sent in place of ones outside the subscription.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stand_ins: Vec<StandIn>,
    /// The typed verdict (written as `reason`, `finding` or `error` above).
    #[serde(skip)]
    pub verdict: Verdict,
    /// How long it took.
    #[serde(rename = "duration_ms", serialize_with = "serialize_ms")]
    pub duration: Duration,
    /// Every HTTP attempt it made.
    pub exchanges: Vec<Exchange>,
    /// What asking the endpoint further found out (see [`crate::diagnose`]); absent
    /// unless a diagnosis ran for this check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
}

impl CheckResult {
    /// Applies the level: a failed required check is `fail`, a failed recommended one
    /// `warn`; a check skipped because the run was interrupted is `interrupted`.
    pub fn new(
        info: CheckInfo,
        verdict: Verdict,
        duration: Duration,
        exchanges: Vec<Exchange>,
    ) -> CheckResult {
        CheckResult::with_stand_ins(info, verdict, Vec::new(), duration, exchanges)
    }

    /// As [`CheckResult::new`], for a check run with stand-ins for events outside the
    /// subscription.
    pub fn with_stand_ins(
        info: CheckInfo,
        verdict: Verdict,
        stand_ins: Vec<StandIn>,
        duration: Duration,
        exchanges: Vec<Exchange>,
    ) -> CheckResult {
        let status = match &verdict {
            Verdict::Passed(_) => Status::Pass,
            Verdict::Skipped(SkipReason::Interrupted) => Status::Interrupted,
            Verdict::Skipped(_) => Status::Skip,
            Verdict::Error(_) => Status::Error,
            Verdict::Failed(_) => match info.level {
                Level::Required => Status::Fail,
                Level::Recommended => Status::Warn,
            },
        };
        let mut result = CheckResult {
            info,
            status,
            message: String::new(),
            reason: None,
            finding: None,
            error: None,
            stand_ins,
            verdict,
            duration,
            exchanges,
            diagnosis: None,
        };
        result.reword();
        result
    }

    /// A check the run did not reach or finish because it was interrupted.
    pub fn interrupted(info: CheckInfo) -> CheckResult {
        CheckResult::new(
            info,
            Verdict::Skipped(SkipReason::Interrupted),
            Duration::ZERO,
            Vec::new(),
        )
    }

    /// Attaches what a diagnosis found out: the finding's `diagnosis` (and so the
    /// message) says it, and the probes are kept in [`CheckResult::diagnosis`].
    pub fn diagnose(&mut self, diagnosis: Diagnosis) {
        if let Verdict::Failed(finding) = &mut self.verdict {
            finding.diagnosis = Some(diagnosis.finding.clone());
        }
        self.diagnosis = Some(diagnosis);
        self.reword();
    }

    /// Sets the message and the typed fields from the verdict.
    fn reword(&mut self) {
        self.message = Worded {
            verdict: &self.verdict,
            stand_ins: &self.stand_ins,
            diagnosis: self.diagnosis.as_ref().map(|d| d.finding.as_str()),
        }
        .to_string();
        self.reason = None;
        self.finding = None;
        self.error = None;
        match &self.verdict {
            Verdict::Passed(_) => {}
            Verdict::Failed(finding) => self.finding = Some(finding.clone()),
            Verdict::Skipped(reason) => self.reason = Some(reason.clone()),
            Verdict::Error(error) => self.error = Some(error.clone()),
        }
    }
}

fn serialize_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// What spotcheck found out by asking the endpoint, attached to the check it explains
/// (the probes that find it out are in [`crate::diagnose`]).
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// What was asked: `signature`, `rotation`, `body-style`, `allow-list`,
    /// `clock-skew` or `client-certificate`.
    pub kind: &'static str,
    /// Whether the endpoint's answers confirmed [`Diagnosis::finding`] (`false`: the
    /// finding says that nothing could be named).
    pub confirmed: bool,
    /// One sentence, as the check's message ends.
    pub finding: String,
    /// The finding's typed cause, when its words are the reports' to choose (they name
    /// a flag): `finding` is then its wording (`report/wording.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<DiagnosisCause>,
    /// The line to change, per stack (only for a confirmed signature mistake).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<StackFix>,
    /// The steps to check one by one when no probe named the mistake.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    /// Every probe sent, in order, with its answer.
    pub probes: Vec<ProbeRecord>,
}

/// The fix in one stack.
#[derive(Debug, Clone, Serialize)]
pub struct StackFix {
    /// `Node/Express`, `Python`, …
    pub stack: &'static str,
    /// The corrected line.
    pub line: &'static str,
}

/// One probe and what the endpoint answered.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeRecord {
    /// Stable id of the probe (`key-whole-secret`, `behind-15s`, …).
    pub id: String,
    /// What it imitates, in a few words.
    pub description: String,
    /// Whether the endpoint accepted it (a 2xx answer).
    pub accepted: bool,
    /// The request (secret-free) and the answer.
    pub exchange: Exchange,
}

/// A diagnosis's typed cause. The JSON report writes it as the diagnosis's `cause`
/// with a `kind` (kebab-case) and the fields of the variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DiagnosisCause {
    /// The endpoint ended TLS handshakes with a `certificate_required` alert.
    ClientCertificateRequired {
        /// Whether the run presented a client certificate (which was then refused).
        presented: bool,
    },
}

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn info(id: &str, level: Level) -> CheckInfo {
        fixture::check(id, level, Verdict::Passed("x".into()), vec![]).info
    }

    fn precondition(see: Option<&str>) -> SkipReason {
        SkipReason::Precondition {
            step: None,
            what: Some("the control delivery".into()),
            request: None,
            got: "401 Unauthorized".into(),
            needed: "200".into(),
            see: see.map(str::to_owned),
        }
    }

    #[test]
    fn levels_and_statuses_are_spelled_as_the_reports_print_them() {
        assert_eq!(Level::Required.as_str(), "required");
        assert_eq!(Level::Recommended.as_str(), "recommended");
        let labels: Vec<&str> = [
            Status::Pass,
            Status::Fail,
            Status::Warn,
            Status::Skip,
            Status::Interrupted,
            Status::Error,
        ]
        .into_iter()
        .map(Status::label)
        .collect();
        assert_eq!(labels, ["PASS", "FAIL", "WARN", "SKIP", "INTR", "ERR"]);
    }

    #[test]
    fn each_diagnosis_is_spelled_as_a_scenario_file_writes_it() {
        assert_eq!(DiagnosisKind::Signature.as_str(), "signature");
        assert_eq!(DiagnosisKind::BodyStyle.as_str(), "body-style");
        assert_eq!(DiagnosisKind::ClockSkew.as_str(), "clock-skew");
        for (name, kind) in DiagnosisKind::ALL {
            assert_eq!(kind.as_str(), name);
        }
    }

    #[test]
    fn a_check_serializes_with_its_suite_and_without_what_it_needs() {
        let mut check = info("signature.valid-accepted", Level::Recommended);
        check.tags = vec!["hmac".into()];
        check.needs.hmac = true;
        assert_eq!(check.suite(), "signature");
        assert_eq!(
            serde_json::to_value(&check).unwrap(),
            serde_json::json!({
                "id": "signature.valid-accepted",
                "suite": "signature",
                "title": "title of signature.valid-accepted",
                "level": "recommended",
                "why": "why",
                "fix": "fix",
                "tags": ["hmac"],
            })
        );
        // An id without a dot is its own suite.
        assert_eq!(info("lonely", Level::Required).suite(), "lonely");
    }

    #[test]
    fn texts_become_what_was_seen_found_or_why_skipped() {
        let seen = Seen::from("3 answers as expected");
        assert_eq!(seen.text, "3 answers as expected");
        assert!(seen.notes.is_empty());
        assert_eq!(Seen::from(String::from("ok")).text, "ok");
        assert_eq!(Finding::from("expected 401").text, "expected 401");
        assert_eq!(Finding::from(String::from("got 200")).text, "got 200");
        assert_eq!(
            SkipReason::from("no TLS"),
            SkipReason::Other {
                text: "no TLS".into()
            }
        );
        assert_eq!(
            SkipReason::from(String::from("no TLS either")),
            SkipReason::Other {
                text: "no TLS either".into()
            }
        );
    }

    #[test]
    fn which_request_is_named_only_among_several_and_counted_from_one() {
        assert_eq!(Which::of(0, 1), None);
        assert_eq!(Which::of(0, 0), None);
        assert_eq!(Which::of(0, 2), Some(Which { index: 1, of: 2 }));
        assert_eq!(Which::of(1, 5), Some(Which { index: 2, of: 5 }));
        assert_eq!(Which::of(4, 5), Some(Which { index: 5, of: 5 }));
    }

    #[test]
    fn a_typed_finding_is_worded_from_its_cause() {
        let cause = FindingCause::RetryOutOfTime {
            attempts: 3,
            last: "last status 500 Internal Server Error".into(),
            origin: "the delivery of webhook id w-1".into(),
            cap: Duration::from_secs(30),
            cap_timeouts: 3,
            cap_max: Duration::from_secs(120),
            reached: Duration::from_secs(20),
            schedule: Duration::from_secs(3600),
            scaled_schedule: Duration::from_secs(36),
            time_scale: Some(100.0),
        };
        let finding = Finding::caused(cause.clone());
        assert!(
            finding.text.starts_with("still failing after 3 attempts"),
            "{}",
            finding.text
        );
        assert_eq!(finding.text, cause.to_string());
        assert_eq!(finding.cause.as_deref(), Some(&cause));
    }

    #[test]
    fn a_skip_names_the_check_that_explains_it_only_where_one_does() {
        assert_eq!(precondition(Some("a.first")).see(), Some("a.first"));
        assert_eq!(precondition(None).see(), None);
        let token = SkipReason::TokenPrecondition {
            step: StepRef {
                number: 1,
                name: None,
                sends: None,
                program: None,
            },
            request: None,
            problem: "no access_token".into(),
            see: Some("oauth.token".into()),
        };
        assert_eq!(token.see(), Some("oauth.token"));
        let other = SkipReason::OtherSuccessOnly {
            webhook_id: "w-1".into(),
            check: "delivery.retry".into(),
            got: "202 Accepted".into(),
            see: "delivery.status-200".into(),
        };
        assert_eq!(other.see(), Some("delivery.status-200"));
        assert_eq!(SkipReason::NeedsHmac.see(), None);
        assert_eq!(SkipReason::Interrupted.see(), None);

        // Unmet preconditions are the endpoint's doing; capabilities are the run's.
        assert!(precondition(None).is_unmet_precondition());
        assert!(token.is_unmet_precondition());
        assert!(other.is_unmet_precondition());
        assert!(!SkipReason::NeedsHmac.is_unmet_precondition());
        assert!(!SkipReason::NothingFailed.is_unmet_precondition());
        assert!(!SkipReason::from("no TLS").is_unmet_precondition());
    }

    #[test]
    fn the_level_decides_between_fail_and_warn_and_the_verdict_fills_the_fields() {
        let all = fixture::one_of_each();
        let statuses: Vec<Status> = all.iter().map(|c| c.status).collect();
        assert_eq!(
            statuses,
            [
                Status::Pass,
                Status::Fail,
                Status::Warn,
                Status::Skip,
                Status::Error,
                Status::Interrupted
            ]
        );
        let messages: Vec<&str> = all.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(messages[0], "fine");
        assert_eq!(messages[1], "refused");
        assert_eq!(messages[2], "slow");
        for (check, message) in all.iter().zip(&messages) {
            assert!(!message.is_empty(), "{}: no message", check.info.id);
        }
        // Exactly the field of the verdict's kind is set.
        let fields = |c: &CheckResult| (c.reason.is_some(), c.finding.is_some(), c.error.is_some());
        assert_eq!(fields(&all[0]), (false, false, false));
        assert_eq!(fields(&all[1]), (false, true, false));
        assert_eq!(all[1].finding.as_ref().unwrap().text, "refused");
        assert_eq!(fields(&all[2]), (false, true, false));
        assert_eq!(all[3].reason, Some(SkipReason::NeedsStateUrl));
        assert_eq!(fields(&all[3]), (true, false, false));
        assert_eq!(fields(&all[4]), (false, false, true));
        assert_eq!(all[5].reason, Some(SkipReason::Interrupted));
        assert_eq!(all[5].duration, Duration::ZERO);
        assert_eq!(all[5].info.id, "c.cut");

        let with_stand_in = CheckResult::with_stand_ins(
            info("delivery.events", Level::Required),
            Verdict::Passed("accepted".into()),
            vec![StandIn {
                sent: "PNR/UPDATED".into(),
                instead_of: "TRIP/CREATED".into(),
            }],
            Duration::from_millis(1500),
            vec![],
        );
        assert_eq!(
            with_stand_in.message,
            "accepted (within the subscription: PNR/UPDATED sent for TRIP/CREATED)"
        );
        let json = serde_json::to_value(&with_stand_in).unwrap();
        assert_eq!(json["duration_ms"], 1500);
        assert_eq!(json["status"], "pass");
        assert_eq!(json["stand_ins"][0]["instead_of"], "TRIP/CREATED");
    }

    #[test]
    fn a_diagnosis_ends_the_message_and_is_kept_with_the_finding() {
        let mut check = fixture::one_of_each().swap_remove(1);
        check.diagnose(Diagnosis {
            kind: "signature",
            confirmed: true,
            finding: "the endpoint hashes the hex secret".into(),
            cause: None,
            fixes: vec![],
            steps: vec![],
            probes: vec![],
        });
        assert_eq!(
            check.message,
            "refused; diagnosis: the endpoint hashes the hex secret"
        );
        assert_eq!(
            check.finding.as_ref().unwrap().diagnosis.as_deref(),
            Some("the endpoint hashes the hex secret")
        );
        assert_eq!(check.diagnosis.as_ref().map(|d| d.kind), Some("signature"));
        assert_eq!(check.status, Status::Fail);
    }
}
