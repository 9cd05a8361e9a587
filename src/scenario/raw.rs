//! The scenario file as read by serde: flat structs of optional, spanned fields
//! (no tag/untagged/flatten, so every error keeps its exact position). The loader
//! turns this into the checked [`super::model`].

use serde::Deserialize;
use toml::Spanned;

use super::json::{JsonNode, OneOrMany, OrderedTable};
use super::status::StatusExpect;

/// Top-level keys, for "did you mean" messages.
pub(crate) const SCENARIO_KEYS: &[&str] = &[
    "id",
    "title",
    "level",
    "why",
    "fix",
    "tags",
    "requires",
    "schedule",
    "diagnosis",
    "vars",
    "step",
];

/// Top-level keys a scenario cannot do without, in the order serde reports them missing.
pub(crate) const SCENARIO_REQUIRED: &[&str] = &["id", "title", "level", "why", "fix"];

/// `[[step]]` keys.
pub(crate) const STEP_KEYS: &[&str] = &[
    "name",
    "send",
    "redeliver",
    "replay",
    "sleep",
    "observe",
    "payload",
    "envelope",
    "payload_file",
    "body",
    "large",
    "product",
    "booking",
    "message_time",
    "timestamp",
    "signature",
    "tamper",
    "body_style",
    "org_id",
    "header",
    "omit_headers",
    "repeat",
    "concurrency",
    "expect",
    "token",
    "authorization",
    "exec",
    "exec_timeout",
    "precondition",
];

/// `expect` keys.
pub(crate) const EXPECT_KEYS: &[&str] = &["status", "json", "within", "p95_within"];

/// `precondition` keys.
pub(crate) const PRECONDITION_KEYS: &[&str] = &["status", "see"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    pub level: Spanned<String>,
    pub why: Spanned<String>,
    pub fix: Spanned<String>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    /// `timing` (measures time: runs alone) or `load` (loads the endpoint).
    pub schedule: Option<Spanned<String>>,
    /// The diagnosis that explains a failure (`signature`, `clock-skew`, …).
    pub diagnosis: Option<Spanned<String>>,
    #[serde(default)]
    pub vars: Option<OrderedTable<Spanned<String>>>,
    #[serde(default)]
    pub step: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub name: Option<Spanned<String>>,
    pub send: Option<Spanned<String>>,
    pub redeliver: Option<Spanned<String>>,
    pub replay: Option<Spanned<String>>,
    pub sleep: Option<Spanned<String>>,
    pub observe: Option<Spanned<String>>,
    pub payload: Option<JsonNode>,
    pub envelope: Option<JsonNode>,
    pub payload_file: Option<Spanned<String>>,
    pub body: Option<Spanned<String>>,
    pub large: Option<Spanned<String>>,
    pub product: Option<Spanned<String>>,
    pub booking: Option<Spanned<String>>,
    pub message_time: Option<Spanned<String>>,
    pub timestamp: Option<Spanned<String>>,
    pub signature: Option<Spanned<OneOrMany>>,
    pub tamper: Option<Spanned<String>>,
    pub body_style: Option<Spanned<String>>,
    pub org_id: Option<Spanned<String>>,
    pub header: Option<Spanned<OrderedTable<Spanned<String>>>>,
    pub omit_headers: Option<Vec<Spanned<String>>>,
    pub repeat: Option<Spanned<i64>>,
    pub concurrency: Option<Spanned<i64>>,
    pub expect: Option<Spanned<RawExpect>>,
    pub token: Option<Spanned<String>>,
    pub authorization: Option<Spanned<String>>,
    /// `exec = ["program", "arg", …]` (a string is read too, to refuse it with a hint).
    pub exec: Option<Spanned<OneOrMany>>,
    pub exec_timeout: Option<Spanned<String>>,
    pub precondition: Option<Spanned<RawPrecondition>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrecondition {
    pub status: Option<Spanned<StatusExpect>>,
    pub see: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub status: Option<Spanned<StatusExpect>>,
    pub json: Option<Spanned<OrderedTable<JsonNode>>>,
    pub within: Option<Spanned<String>>,
    pub p95_within: Option<Spanned<String>>,
}
