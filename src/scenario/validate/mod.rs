//! Turns a [`RawScenario`] into a checked [`Scenario`], collecting every problem with
//! its span (rather than stopping at the first).
//!
//! One file per grammar area, as Hurl's parser: the header (`header`), a step's
//! action and keys (`steps`), `send` (`send`, `payload`, `oauth`), `observe`, `exec`,
//! `[steps.expect]` (`expect`), templates (`templates`), plain values (`values`) and
//! what a step can send (`sizes`).

mod exec;
mod expect;
mod header;
mod oauth;
mod observe;
mod payload;
mod send;
mod sizes;
mod steps;
mod templates;
mod values;

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use crate::check::{CheckInfo, DiagnosisKind, Level};
use crate::event::catalogue::closest;
use crate::event::{EventKind, UnknownEvent};
use crate::signing::SignatureFormat;
use crate::units::{Offset, SizeError, format_size, parse_duration, parse_size};

use super::budget::{self, Budget, JsonSize, Limits};
use super::diagnostic::Problem;
use super::file_root::{FileRoot, Refusal};
use super::json::{JsonKind, JsonNode, JsonTemplate, OneOrMany, OrderedTable};
use super::model::ObserveTarget;
use super::model::{
    Action, Authorization, BodyStyle, Capability, ExecStep, Expect, Observe, Origin, Precondition,
    Product, RESERVED_HEADERS, Scenario, SendSource, SendStep, SignatureSpec, SignatureToken, Step,
    StepRef, Tamper, TokenCredentials, TokenStep, Var, limits,
};
use super::raw::{RawExpect, RawPrecondition, RawScenario, RawStep};
use super::status::StatusExpect;
use super::template::{Expr, StepField, Template, TextSize, is_identifier};

use exec::*;
use expect::*;
use header::*;
use oauth::*;
use observe::*;
use payload::*;
use send::*;
use sizes::*;
use steps::*;
use templates::*;
use values::*;

/// Loader state for one file.
pub(crate) struct Validator<'a> {
    pub file: &'a str,
    pub text: &'a Arc<str>,
    pub base_dir: Option<&'a Path>,
    /// The folder no file the scenario names may leave (`None` for built-ins).
    pub root: Option<&'a FileRoot>,
    /// The caps the scenario must fit.
    pub limits: &'a Limits,
    pub problems: Vec<Problem>,
    /// What is allowed but worth saying: payload overrides Spotnana's schema rejects.
    pub warnings: Vec<Problem>,
    /// Step names → index (filled before steps are checked).
    pub step_names: HashMap<String, usize>,
    /// The most each `[vars]` entry can render to (filled in file order).
    pub var_sizes: HashMap<String, TextSize>,
    /// Per step index: its largest body and the largest PNR id it can record.
    pub step_sizes: HashMap<usize, StepSize>,
    /// What the steps so far can send.
    pub budget: Budget,
}

/// What one validated step can send and record, for the bounds of later steps.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StepSize {
    /// Its largest body.
    body: u64,
    /// The largest `steps.NAME.pnr_id` it can record.
    pnr_id: TextSize,
}

fn choice<T: Copy>(
    v: &mut Validator<'_>,
    value: &Spanned<String>,
    what: &str,
    options: &[(&'static str, T)],
) -> Option<T> {
    if let Some((_, t)) = options.iter().find(|(n, _)| *n == value.get_ref()) {
        return Some(*t);
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    v.unknown_value(value.span(), what, value.get_ref(), &names);
    None
}

/// Validates a parsed file.
pub(crate) fn validate(v: &mut Validator<'_>, raw: RawScenario) -> Option<Scenario> {
    let id_ok = check_id(v, &raw.id);
    let level = choice(
        v,
        &raw.level,
        "level",
        &[
            ("required", Level::Required),
            ("recommended", Level::Recommended),
        ],
    );
    non_empty_texts(v, &raw);
    let tags = tags(v, &raw.tags);
    let requires = capabilities(v, &raw.requires);
    let state = requires.contains(&Capability::State);
    let oauth = requires.contains(&Capability::OAuth);
    let hmac = requires.contains(&Capability::Hmac);
    let diagnosis = raw
        .diagnosis
        .as_ref()
        .and_then(|d| choice(v, d, "diagnosis", &DiagnosisKind::ALL));
    // (measures time, loads the endpoint): what the scheduler must keep apart.
    let (measures_time, loads_endpoint) = raw
        .schedule
        .as_ref()
        .and_then(|s| {
            choice(
                v,
                s,
                "schedule",
                &[("timing", (true, false)), ("load", (false, true))],
            )
        })
        .unwrap_or_default();
    // Steps: names first, so references can be checked in any order.
    v.step_names = step_names(v, &raw.step);
    let all_vars: Vec<String> = raw
        .vars
        .as_ref()
        .map(|t| t.0.iter().map(|(k, _)| k.get_ref().clone()).collect())
        .unwrap_or_default();
    let (vars, var_names) = variables(v, raw.vars.as_ref(), &all_vars, state, oauth);

    let mut steps: Vec<Step> = Vec::new();
    for (index, raw_step) in raw.step.iter().enumerate() {
        let scope = Scope {
            vars: &var_names,
            all_vars: &all_vars,
            current_step: Some(index),
            state,
            oauth,
            own_values: false,
        };
        if let Some(step) = validate_step(v, raw_step, index, &scope, &raw.step) {
            steps.push(step);
        }
    }

    let stories = super::booking::stories(v.file, v.text, &raw.step);
    v.problems.extend(stories.errors);
    v.warnings.extend(stories.warnings);

    let ok = v.problems.is_empty() && id_ok;
    let level = level?;
    ok.then(|| Scenario {
        info: CheckInfo {
            id: raw.id.get_ref().clone(),
            title: raw.title.get_ref().trim().to_owned(),
            level,
            why: raw.why.get_ref().trim().to_owned(),
            fix: raw.fix.get_ref().trim().to_owned(),
            tags,
            needs: crate::check::Needs {
                // Declared, never inferred from the id: `requires = ["hmac"]`.
                hmac,
                state_url: state,
                oauth,
                whole_run: false,
                measures_time,
                loads_endpoint,
            },
            diagnosis,
        },
        requires,
        vars,
        steps,
        budget: v.budget,
        warnings: std::mem::take(&mut v.warnings),
        origin: Origin {
            file: v.file.to_owned(),
            builtin: false,
            text: Arc::clone(v.text),
            id_span: raw.id.span(),
        },
    })
}

impl Validator<'_> {
    fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    pub(super) fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        let p = Problem::at(self.file, self.text, span, message, label);
        self.push(p);
    }

    fn error_help(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        let p = Problem::at(self.file, self.text, span, message, label).with_help(help);
        self.push(p);
    }

    fn unknown_value(&mut self, span: Range<usize>, what: &str, given: &str, names: &[&str]) {
        let suggestion = closest(given, names.iter().copied());
        let label = match suggestion {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => format!("not a {what}"),
        };
        let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        self.error_help(
            span,
            format!("unknown {what} \"{given}\""),
            label,
            format!("expected one of {}", list.join(", ")),
        );
    }
}
