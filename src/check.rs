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

/// A verdict before the level is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It conforms; the message says what was seen.
    Passed(String),
    /// It does not; the message says what was seen instead.
    Failed(String),
    /// It could not be judged; the message says why (a missing capability, or a
    /// precondition the endpoint did not meet: "could not judge: …").
    Skipped(String),
    /// It could not run because of an error in its scenario; the message says what.
    Error(String),
}

/// A finished check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check.
    #[serde(flatten)]
    pub info: CheckInfo,
    /// Its outcome.
    pub status: Status,
    /// What was seen.
    pub message: String,
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
    /// Applies the level: a failed required check is `fail`, a failed recommended one `warn`.
    pub fn new(
        info: CheckInfo,
        verdict: Verdict,
        duration: Duration,
        exchanges: Vec<Exchange>,
    ) -> CheckResult {
        let (status, message) = match verdict {
            Verdict::Passed(m) => (Status::Pass, m),
            Verdict::Skipped(m) => (Status::Skip, m),
            Verdict::Error(m) => (Status::Error, m),
            Verdict::Failed(m) => (
                match info.level {
                    Level::Required => Status::Fail,
                    Level::Recommended => Status::Warn,
                },
                m,
            ),
        };
        CheckResult {
            info,
            status,
            message,
            duration,
            exchanges,
            diagnosis: None,
        }
    }

    /// A check the run did not reach or finish because it was interrupted.
    pub fn interrupted(info: CheckInfo) -> CheckResult {
        let mut result = CheckResult::new(
            info,
            Verdict::Skipped("run interrupted".into()),
            Duration::ZERO,
            Vec::new(),
        );
        result.status = Status::Interrupted;
        result
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
