//! Turns a [`RawScenario`] into a checked [`Scenario`], collecting every problem with
//! its span (rather than stopping at the first).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use crate::check::{CheckInfo, Level};
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

/// The `--state-url` is the user's, not the file's; counted at this length.
const STATE_URL_BYTES: u64 = 8 << 10;

/// A template with where it sits in the file.
struct Located {
    template: Template,
    /// The whole TOML value.
    value_span: Range<usize>,
    /// Where the string's first character is, when the source maps 1:1 to the value.
    content_start: Option<usize>,
}

impl Located {
    fn span_of(&self, inner: &Range<usize>) -> Range<usize> {
        match self.content_start {
            Some(start) => start + inner.start..start + inner.end,
            None => self.value_span.clone(),
        }
    }
}

/// What names a template may use where it appears.
struct Scope<'s> {
    vars: &'s [String],
    /// All vars (to tell "defined later" from "undefined").
    all_vars: &'s [String],
    /// The index of the step the template is in; `None` in `[vars]`.
    current_step: Option<usize>,
    state: bool,
    /// Whether the scenario requires `oauth` (for `token` and `authorization`).
    oauth: bool,
    /// Whether the current step's own values may be used (in `exec` arguments, which
    /// run after the step's deliveries).
    own_values: bool,
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

    fn content_start(&self, span: &Range<usize>, value: &str) -> Option<usize> {
        let raw = self.text.get(span.clone())?;
        let (open, close) = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            (3, 3)
        } else if raw.starts_with('"') || raw.starts_with('\'') {
            (1, 1)
        } else {
            return (raw == value).then_some(span.start);
        };
        if raw.len() < open + close {
            return None;
        }
        let mut start = span.start + open;
        let mut inner = &raw[open..raw.len() - close];
        if open == 3 {
            if let Some(rest) = inner.strip_prefix("\r\n") {
                inner = rest;
                start += 2;
            } else if let Some(rest) = inner.strip_prefix('\n') {
                inner = rest;
                start += 1;
            }
        }
        (inner == value).then_some(start)
    }

    fn template_at(&mut self, value: &str, span: Range<usize>) -> Option<Located> {
        let content_start = self.content_start(&span, value);
        match Template::parse(value) {
            Ok(template) => Some(Located {
                template,
                value_span: span,
                content_start,
            }),
            Err(err) => {
                let at = match content_start {
                    Some(start) => start + err.span.start..start + err.span.end,
                    None => span,
                };
                let label = if err.message.starts_with("unclosed") {
                    "`{{` opened here is never closed".to_owned()
                } else {
                    String::new()
                };
                let mut p = Problem::at(self.file, self.text, at, err.message, label);
                if let Some(help) = err.help {
                    p = p.with_help(help);
                }
                self.push(p);
                None
            }
        }
    }

    fn template(&mut self, value: &Spanned<String>, scope: &Scope<'_>) -> Option<Template> {
        let located = self.template_at(value.get_ref(), value.span())?;
        self.check_refs(&located, scope);
        self.expansion_fits(&located);
        Some(located.template)
    }

    /// The most `expr` can insert, from what the file says (vars and steps before it).
    fn expr_size(&self, expr: &Expr) -> TextSize {
        match expr {
            Expr::Var(name) => self.var_sizes.get(name).copied().unwrap_or_default(),
            Expr::Random(kind) => TextSize::ascii(kind.text_len()),
            Expr::StateUrl => TextSize::any(STATE_URL_BYTES),
            Expr::Step { step, field } => match field {
                StepField::WebhookId => TextSize::ascii(36),
                StepField::Status => TextSize::ascii(3),
                StepField::PnrId => self
                    .step_names
                    .get(step)
                    .and_then(|i| self.step_sizes.get(i))
                    .map_or(TextSize::any(self.limits.expansion), |s| s.pnr_id),
            },
        }
    }

    /// The most a template can render to.
    fn text_size(&self, template: &Template) -> TextSize {
        template.max_len(|expr| self.expr_size(expr))
    }

    /// Refuses a template that can render to more than [`Limits::expansion`] bytes (a
    /// var repeating a var that repeats a var…), before anything is rendered.
    fn expansion_fits(&mut self, located: &Located) -> bool {
        let size = self.text_size(&located.template);
        if size.raw <= self.limits.expansion {
            return true;
        }
        let figure = if size.raw == u64::MAX {
            "more than 16 EiB".to_owned()
        } else {
            format!(
                "{} ({} bytes)",
                crate::units::format_size(size.raw),
                size.raw
            )
        };
        self.error_help(
            located.value_span.clone(),
            format!(
                "this value can expand to {figure}, over the limit of {} for one template",
                crate::units::format_size(self.limits.expansion)
            ),
            format!("expands to up to {} bytes", size.raw),
            "each {{ name }} inserts that var's whole value: repeat a var fewer times, or \
             raise the limit with --max-expansion SIZE",
        );
        false
    }

    fn check_refs(&mut self, located: &Located, scope: &Scope<'_>) {
        for (expr, inner) in located.template.exprs() {
            let span = located.span_of(inner);
            match expr {
                Expr::Var(name) => {
                    if scope.vars.contains(name) {
                        continue;
                    }
                    if scope.all_vars.contains(name) {
                        self.error_help(
                            span,
                            format!("variable `{name}` is used before it is defined"),
                            "defined further down in [vars]",
                            "vars are resolved in file order; move this one below it",
                        );
                        continue;
                    }
                    let suggestion = closest(name, scope.vars.iter().map(String::as_str));
                    let label = match suggestion {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "not defined".to_owned(),
                    };
                    let help = if scope.vars.is_empty() {
                        format!(
                            "define it in a [vars] table, e.g. {name} = \"{{{{ random.uuid }}}}\"; \
                             other expressions: random.KIND, state_url, steps.NAME.FIELD"
                        )
                    } else {
                        format!(
                            "defined vars: {}; other expressions: random.KIND, state_url, steps.NAME.FIELD",
                            scope.vars.join(", ")
                        )
                    };
                    self.error_help(span, format!("undefined variable `{name}`"), label, help);
                }
                Expr::Random(_) => {}
                Expr::StateUrl => {
                    if !scope.state {
                        self.error_help(
                            span,
                            "`state_url` is used but the scenario does not require it",
                            "needs an observation endpoint",
                            "add `requires = [\"state\"]` at the top so runs without --state-url skip this check",
                        );
                    }
                }
                Expr::Step { step, .. } => {
                    let Some(current) = scope.current_step else {
                        self.error_help(
                            span,
                            format!("[vars] cannot use step `{step}`"),
                            "vars are resolved before any step runs",
                            "use the step value directly in the step that needs it",
                        );
                        continue;
                    };
                    if scope.own_values && self.step_names.get(step) == Some(&current) {
                        continue;
                    }
                    self.step_ref_ok(step, span, current, "values");
                }
            }
        }
    }

    /// Checks that `name` is a step before `current`; returns its index.
    fn step_ref_ok(
        &mut self,
        name: &str,
        span: Range<usize>,
        current: usize,
        what: &str,
    ) -> Option<usize> {
        let steps = self.step_names.clone();
        match steps.get(name) {
            Some(&index) if index < current => Some(index),
            Some(&index) => {
                self.error_help(
                    span,
                    if index == current {
                        format!("step `{name}` refers to itself")
                    } else {
                        format!("step `{name}` runs later (step {})", index + 1)
                    },
                    "not run yet at this point",
                    format!("a step can only use the {what} of steps before it"),
                );
                None
            }
            None => {
                let suggestion = closest(name, steps.keys().map(String::as_str));
                let label = match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "no step has this name".to_owned(),
                };
                let mut names: Vec<&String> = steps.keys().collect();
                names.sort_by_key(|n| steps[*n]);
                let help = if names.is_empty() {
                    "no step has a name; add `name = \"…\"` to the step you mean".to_owned()
                } else {
                    format!(
                        "named steps: {}",
                        names
                            .iter()
                            .map(|n| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                self.error_help(span, format!("undefined step `{name}`"), label, help);
                None
            }
        }
    }
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
                // The signature suite judges signatures: nothing to judge with `--no-hmac`.
                hmac: raw.id.get_ref().split('.').next() == Some("signature"),
                state_url: state,
                oauth,
                whole_run: false,
                measures_time,
                loads_endpoint,
            },
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

/// `title`, `why` and `fix`: each a line a partner can act on.
fn non_empty_texts(v: &mut Validator<'_>, raw: &RawScenario) {
    for (field, value) in [("title", &raw.title), ("why", &raw.why), ("fix", &raw.fix)] {
        if value.get_ref().trim().is_empty() {
            v.error(
                value.span(),
                format!("`{field}` is empty"),
                "write one line a partner can act on",
            );
        }
    }
}

/// The free tags for `--tags`: none empty.
fn tags(v: &mut Validator<'_>, raw: &[Spanned<String>]) -> Vec<String> {
    raw.iter()
        .filter_map(|t| {
            if t.get_ref().trim().is_empty() {
                v.error(t.span(), "empty tag", "");
                None
            } else {
                Some(t.get_ref().clone())
            }
        })
        .collect()
}

/// `requires`: the capabilities the scenario needs (state, OAuth), each once.
fn capabilities(v: &mut Validator<'_>, raw: &[Spanned<String>]) -> Vec<Capability> {
    let mut requires = Vec::new();
    for r in raw {
        if let Some(cap) = choice(
            v,
            r,
            "capability",
            &[("state", Capability::State), ("oauth", Capability::OAuth)],
        ) && !requires.contains(&cap)
        {
            requires.push(cap);
        }
    }
    requires
}

/// The steps' count and their names (→ index): valid, unique.
fn step_names(v: &mut Validator<'_>, steps: &[Spanned<RawStep>]) -> HashMap<String, usize> {
    if steps.is_empty() {
        v.error_help(
            0..0,
            "the scenario has no steps",
            "add at least one [[step]]",
            "e.g.\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"",
        );
    }
    if steps.len() > limits::MAX_STEPS {
        let span = steps[limits::MAX_STEPS].span();
        v.error(
            span,
            format!(
                "too many steps: {} (at most {})",
                steps.len(),
                limits::MAX_STEPS
            ),
            "this one is over the limit",
        );
    }
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut name_spans: HashMap<String, Range<usize>> = HashMap::new();
    for (index, step) in steps.iter().enumerate() {
        let Some(name) = &step.get_ref().name else {
            continue;
        };
        if !is_identifier(name.get_ref()) {
            v.error_help(
                name.span(),
                format!("`{}` is not a step name", name.get_ref()),
                "",
                "a name has letters, digits, `_` and `-`, and starts with a letter or `_`",
            );
            continue;
        }
        if let Some(first) = name_spans.get(name.get_ref()) {
            let p = Problem::at(
                v.file,
                v.text,
                name.span(),
                format!("two steps are named `{}`", name.get_ref()),
                "second use",
            )
            .with_label(first.clone(), "first use")
            .with_help("step names must be unique");
            v.push(p);
            continue;
        }
        names.insert(name.get_ref().clone(), index);
        name_spans.insert(name.get_ref().clone(), name.span());
    }
    names
}

/// `[vars]`: valid names, none reserved, each a template that may use the variables
/// written before it. Returns the variables and their names in file order.
fn variables(
    v: &mut Validator<'_>,
    table: Option<&OrderedTable<Spanned<String>>>,
    all_vars: &[String],
    state: bool,
    oauth: bool,
) -> (Vec<Var>, Vec<String>) {
    let mut vars: Vec<Var> = Vec::new();
    let mut var_names: Vec<String> = Vec::new();
    if let Some(table) = table {
        for (key, value) in &table.0 {
            if !is_identifier(key.get_ref()) {
                v.error_help(
                    key.span(),
                    format!("`{}` is not a variable name", key.get_ref()),
                    "",
                    "a name has letters, digits, `_` and `-`, and starts with a letter or `_`",
                );
                continue;
            }
            if matches!(key.get_ref().as_str(), "random" | "steps" | "state_url") {
                v.error(
                    key.span(),
                    format!("`{}` is a reserved name", key.get_ref()),
                    "choose another name",
                );
                continue;
            }
            let scope = Scope {
                vars: &var_names,
                all_vars,
                current_step: None,
                state,
                oauth,
                own_values: false,
            };
            if let Some(t) = v.template(value, &scope) {
                // A var over the limit is reported once, not again in each var using it.
                let size = v.text_size(&t);
                let size = if size.raw > v.limits.expansion {
                    TextSize::default()
                } else {
                    size
                };
                v.var_sizes.insert(key.get_ref().clone(), size);
                vars.push(Var {
                    name: key.get_ref().clone(),
                    value: t,
                });
            }
            var_names.push(key.get_ref().clone());
        }
    }

    (vars, var_names)
}

fn check_id(v: &mut Validator<'_>, id: &Spanned<String>) -> bool {
    let text = id.get_ref();
    let well_formed = text.split_once('.').is_some_and(|(suite, name)| {
        !suite.is_empty()
            && !name.is_empty()
            && !name.starts_with('.')
            && !text.ends_with('.')
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    });
    if !well_formed {
        v.error_help(
            id.span(),
            format!("`{text}` is not a check id"),
            "expected `suite.name`",
            "ids are `suite.name` in lowercase letters, digits and `-`, e.g. \"ordering.out-of-order-accepted\"",
        );
    }
    well_formed
}

/// Which keys set the action.
const ACTIONS: [&str; 6] = ["send", "redeliver", "replay", "sleep", "observe", "token"];

/// The send-only keys a step sets, each with the span of its value (`None` when absent),
/// in the order their errors are reported.
type SendOnlyKeys = Vec<(&'static str, Option<Range<usize>>)>;

/// One `[[step]]`: its one action, the keys that fit that action, the expectation,
/// the precondition and an `exec` program. `None` when anything in it is wrong.
fn validate_step(
    v: &mut Validator<'_>,
    spanned: &Spanned<RawStep>,
    index: usize,
    scope: &Scope<'_>,
    all: &[Spanned<RawStep>],
) -> Option<Step> {
    let raw = spanned.get_ref();
    let before = v.problems.len();
    let send_only = send_only_keys(raw);
    let (kind, action_value) = match step_actions(raw).as_slice() {
        [] if raw.exec.is_some() => {
            return exec_only_step(v, raw, &send_only, scope, before);
        }
        [] => {
            no_action(v, spanned, index);
            return None;
        }
        [one] => *one,
        [first, second, ..] => {
            two_actions(v, index, *first, *second);
            return None;
        }
    };
    keys_fit_the_action(v, kind, &send_only);

    let name = raw.name.as_ref().map(|n| n.get_ref().clone());
    let mut expect = validate_expect(v, raw.expect.as_ref(), kind, scope);
    let precondition = precondition(v, raw.precondition.as_ref(), kind);
    // A control step (a precondition and no `expect.status`) judges nothing more of
    // the status than its precondition did.
    if let Some(pre) = &precondition
        && raw
            .expect
            .as_ref()
            .is_none_or(|e| e.get_ref().status.is_none())
    {
        expect.status = Some(pre.status.clone());
    }
    let action = match kind {
        "sleep" => Some(Action::Sleep(sleep_action(v, action_value))),
        "observe" => Some(Action::Observe(observe_action(v, action_value, scope))),
        "token" => token_step(v, raw, action_value, scope).map(Action::Token),
        _ => {
            let source = match kind {
                "send" => send_source(v, action_value),
                _ => resend_source(v, action_value, kind, index, all),
            };
            let send = send_step(v, raw, source, scope);
            send.map(|s| Action::Send(Box::new(s)))
        }
    };
    if let Some(Action::Send(send)) = &action {
        step_budget(v, send, raw, index, key_span(v, action_value.span(), kind));
    }
    // After the action: an `exec` argument may use this step's own recorded values,
    // whose sizes are known now.
    let exec = step_exec(v, raw, kind, scope);
    let action = action?;

    (v.problems.len() == before).then_some(Step {
        name,
        action,
        expect,
        exec,
        precondition,
    })
}

/// The action keys a step sets (one is right), with their values.
fn step_actions(raw: &RawStep) -> Vec<(&'static str, &Spanned<String>)> {
    [
        ("send", &raw.send),
        ("redeliver", &raw.redeliver),
        ("replay", &raw.replay),
        ("sleep", &raw.sleep),
        ("observe", &raw.observe),
        ("token", &raw.token),
    ]
    .into_iter()
    .filter_map(|(k, val)| val.as_ref().map(|s| (k, s)))
    .collect()
}

/// The keys only a delivery (send, redeliver, replay) may set.
fn send_only_keys(raw: &RawStep) -> SendOnlyKeys {
    vec![
        ("payload", raw.payload.as_ref().map(|n| n.span.clone())),
        ("envelope", raw.envelope.as_ref().map(|n| n.span.clone())),
        ("payload_file", raw.payload_file.as_ref().map(Spanned::span)),
        ("body", raw.body.as_ref().map(Spanned::span)),
        ("large", raw.large.as_ref().map(Spanned::span)),
        ("product", raw.product.as_ref().map(Spanned::span)),
        ("booking", raw.booking.as_ref().map(Spanned::span)),
        ("message_time", raw.message_time.as_ref().map(Spanned::span)),
        ("timestamp", raw.timestamp.as_ref().map(Spanned::span)),
        ("signature", raw.signature.as_ref().map(Spanned::span)),
        ("tamper", raw.tamper.as_ref().map(Spanned::span)),
        ("body_style", raw.body_style.as_ref().map(Spanned::span)),
        ("org_id", raw.org_id.as_ref().map(Spanned::span)),
        ("header", raw.header.as_ref().map(Spanned::span)),
        (
            "omit_headers",
            raw.omit_headers
                .as_ref()
                .and_then(|l| l.first().map(Spanned::span)),
        ),
        ("repeat", raw.repeat.as_ref().map(Spanned::span)),
        ("concurrency", raw.concurrency.as_ref().map(Spanned::span)),
        (
            "authorization",
            raw.authorization.as_ref().map(Spanned::span),
        ),
    ]
}

/// The span of a send-only key's value, if the step sets it.
fn present(send_only: &[(&str, Option<Range<usize>>)], name: &str) -> Option<Range<usize>> {
    send_only
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, s)| s.clone())
}

fn no_action(v: &mut Validator<'_>, spanned: &Spanned<RawStep>, index: usize) {
    v.error_help(
        header_span(v, spanned.span()),
        format!("step {} has no action", index + 1),
        "this step does nothing",
        format!(
            "give it exactly one of {}, or `exec` alone to run a program",
            ACTIONS.join(", ")
        ),
    );
}

fn two_actions(
    v: &mut Validator<'_>,
    index: usize,
    first: (&str, &Spanned<String>),
    second: (&str, &Spanned<String>),
) {
    let p = Problem::at(
        v.file,
        v.text,
        key_span(v, second.1.span(), second.0),
        format!(
            "step {} has two actions: `{}` and `{}`",
            index + 1,
            first.0,
            second.0
        ),
        "second action",
    )
    .with_label(key_span(v, first.1.span(), first.0), "first action")
    .with_help(format!(
        "a step does one thing ({}); split it into two [[step]] tables",
        ACTIONS.join(", ")
    ));
    v.push(p);
}

/// Every send-only key set on a step whose action cannot use it.
fn keys_fit_the_action(
    v: &mut Validator<'_>,
    kind: &str,
    send_only: &[(&str, Option<Range<usize>>)],
) {
    if !matches!(kind, "send" | "redeliver" | "replay") {
        for (name, span) in send_only {
            if kind == "token" && matches!(*name, "repeat" | "concurrency") {
                continue;
            }
            if let Some(span) = span {
                v.error_help(
                    key_span(v, span.clone(), name),
                    format!("`{name}` does not apply to a `{kind}` step"),
                    "only for send, redeliver and replay steps",
                    "move it to the step that sends, or remove it",
                );
            }
        }
    }
    fixed_by_source(v, kind, send_only);
    body_alone(v, send_only);
}

/// Keys that cannot change a redelivery or a replay: the step they name fixed them.
fn fixed_by_source(v: &mut Validator<'_>, kind: &str, send_only: &[(&str, Option<Range<usize>>)]) {
    let fixed: &[&str] = match kind {
        "redeliver" => &[
            "payload",
            "envelope",
            "payload_file",
            "body",
            "large",
            "product",
            "booking",
            "message_time",
            "body_style",
            "org_id",
        ],
        "replay" => &[
            "payload",
            "envelope",
            "payload_file",
            "body",
            "large",
            "product",
            "booking",
            "message_time",
            "body_style",
            "org_id",
            "signature",
            "timestamp",
        ],
        _ => &[],
    };
    for name in fixed {
        if let Some(span) = present(send_only, name) {
            let what = if kind == "redeliver" {
                "a redelivery sends the same webhook id and body as the step it names"
            } else {
                "a replay sends the exact request of the step it names (id, timestamp, signature, body)"
            };
            v.error_help(
                key_span(v, span, name),
                format!("`{name}` cannot be combined with `{kind}`"),
                "",
                format!("{what}; set `{name}` on that step, or use `send` for a new event"),
            );
        }
    }
}

/// `body` is sent as written, so no key that builds or reshapes the event goes with it.
fn body_alone(v: &mut Validator<'_>, send_only: &[(&str, Option<Range<usize>>)]) {
    let Some(body_span) = present(send_only, "body") else {
        return;
    };
    for other in [
        "payload",
        "envelope",
        "payload_file",
        "large",
        "body_style",
        "product",
        "booking",
    ] {
        if let Some(span) = present(send_only, other) {
            let p = Problem::at(
                v.file,
                v.text,
                key_span(v, span, other),
                format!("`body` and `{other}` cannot be combined"),
                format!("`{other}` here"),
            )
            .with_label(key_span(v, body_span.clone(), "body"), "`body` here")
            .with_help(
                "`body` is sent byte for byte as written; put the changes into it, \
                 or drop `body` to have spotcheck build the event",
            );
            v.push(p);
        }
    }
}

/// `exec` on a delivery step (run after its deliveries); elsewhere it is an error.
fn step_exec(
    v: &mut Validator<'_>,
    raw: &RawStep,
    kind: &str,
    scope: &Scope<'_>,
) -> Option<ExecStep> {
    match &raw.exec {
        Some(value) if matches!(kind, "send" | "redeliver" | "replay") => {
            // The program runs after the step's deliveries: its arguments may use
            // this step's own values (`{{ steps.THIS.webhook_id }}`).
            let after = Scope {
                vars: scope.vars,
                all_vars: scope.all_vars,
                current_step: scope.current_step,
                state: scope.state,
                oauth: scope.oauth,
                own_values: true,
            };
            exec_step(v, raw, value, &after)
        }
        Some(value) => {
            v.error_help(
                key_span(v, value.span(), "exec"),
                format!("`exec` does not apply to a `{kind}` step"),
                "only with send, redeliver and replay, or alone",
                "put `exec` in a [[step]] of its own after this one: it gets the most recent exchange",
            );
            None
        }
        None => {
            exec_timeout_alone(v, raw);
            None
        }
    }
}

/// `sleep = "2s"`, at most [`limits::MAX_SLEEP`].
fn sleep_action(v: &mut Validator<'_>, value: &Spanned<String>) -> Duration {
    let d = duration(v, value);
    if let Some(d) = d
        && d > limits::MAX_SLEEP
    {
        v.error_help(
            value.span(),
            format!(
                "sleep of {} is over the limit",
                humantime::format_duration(d)
            ),
            "at most 60s",
            "a scenario should finish quickly; sleep at most 60s per step",
        );
    }
    d.unwrap_or_default()
}

/// `observe = "GET URL"`: the only method is GET, the URL a template that stays on the
/// `--state-url` origin: a path (appended to `--state-url`), `{{ state_url }}/…`, or an
/// absolute URL whose origin is checked once `--state-url` is known
/// ([`super::observe::check_origins`]). Each needs `requires = ["state"]`.
fn observe_action(v: &mut Validator<'_>, value: &Spanned<String>, scope: &Scope<'_>) -> Observe {
    let located = v.template_at(value.get_ref(), value.span());
    let mut observe = Observe {
        url: Template::literal(""),
        target: ObserveTarget::Path,
        url_span: value.span(),
    };
    let Some(located) = located else {
        return observe;
    };
    v.check_refs(&located, scope);
    let text = value.get_ref();
    match text.split_once(' ') {
        Some(("GET", rest)) if !rest.trim().is_empty() => {
            let url_text = rest.trim();
            let offset = text.len() - rest.trim_start().len();
            let in_file =
                |inner: Range<usize>| located.span_of(&(offset + inner.start..offset + inner.end));
            observe.url_span = in_file(0..url_text.len());
            let Ok(url) = Template::parse(url_text) else {
                return observe;
            };
            match super::observe::classify(&url) {
                Ok(target) => {
                    if target != ObserveTarget::StateUrl && !scope.state {
                        v.error_help(
                            observe.url_span.clone(),
                            "`observe` reads from --state-url but the scenario does not require it",
                            "needs an observation endpoint",
                            "add `requires = [\"state\"]` at the top so runs without --state-url skip this check",
                        );
                    }
                    observe.target = target;
                }
                Err(form) => v.error_help(
                    in_file(form.span.clone()),
                    form.message,
                    form.label,
                    form.help,
                ),
            }
            observe.url = url;
        }
        Some((method, _))
            if method.bytes().all(|b| b.is_ascii_alphabetic()) && !method.is_empty() =>
        {
            v.error_help(
                value.span(),
                format!("`observe` only reads: `{method}` is not supported"),
                "expected GET",
                "write observe = \"GET /…\" (a path under --state-url)",
            );
        }
        _ => v.error_help(
            value.span(),
            "`observe` needs a method and a URL",
            "expected `GET URL`",
            "write observe = \"GET /…\" (a path under --state-url)",
        ),
    }
    observe
}

/// `redeliver = "STEP"` / `replay = "STEP"`: an earlier step that sent requests.
fn resend_source(
    v: &mut Validator<'_>,
    value: &Spanned<String>,
    kind: &str,
    index: usize,
    all: &[Spanned<RawStep>],
) -> Option<SendSource> {
    let target = v.step_ref_ok(value.get_ref(), value.span(), index, "requests");
    target.map(|t| {
        check_resend_target(v, value, kind, t, all);
        let r = StepRef {
            index: t,
            name: value.get_ref().clone(),
        };
        if kind == "redeliver" {
            SendSource::Redeliver(r)
        } else {
            SendSource::Replay(r)
        }
    })
}

/// `precondition = { status = …, see = "check.id" }` on a send, redeliver, replay or
/// token step.
fn precondition(
    v: &mut Validator<'_>,
    raw: Option<&Spanned<RawPrecondition>>,
    kind: &str,
) -> Option<Precondition> {
    let raw = raw?;
    if !matches!(kind, "send" | "redeliver" | "replay" | "token") {
        v.error_help(
            key_span(v, raw.span(), "precondition"),
            format!("`precondition` does not apply to a `{kind}` step"),
            "only with send, redeliver, replay and token",
            "put the precondition on the step whose answer the check needs",
        );
        return None;
    }
    let inner = raw.get_ref();
    let see = match &inner.see {
        Some(see) if check_id(v, see) => Some(see.get_ref().clone()),
        Some(_) => None,
        None => None,
    };
    Some(Precondition {
        status: inner
            .status
            .as_ref()
            .map_or(StatusExpect::Code(200), |s| s.get_ref().clone()),
        see,
    })
}

/// A step whose only action is `exec`.
fn exec_only_step(
    v: &mut Validator<'_>,
    raw: &RawStep,
    send_only: &[(&str, Option<Range<usize>>)],
    scope: &Scope<'_>,
    before: usize,
) -> Option<Step> {
    for (name, span) in send_only {
        if let Some(span) = span {
            v.error_help(
                key_span(v, span.clone(), name),
                format!("`{name}` does not apply to an `exec` step"),
                "this step only runs a program",
                "add `send = …` to this step to deliver an event and run the program on its exchange",
            );
        }
    }
    if let Some(expect) = &raw.expect {
        v.error_help(
            key_span(v, expect.span(), "expect"),
            "an `exec` step has nothing to expect",
            "the program's exit code is the outcome",
            "exit 0 passes, anything else fails; put `expect` on the step that sends",
        );
    }
    precondition(v, raw.precondition.as_ref(), "exec");
    let exec = raw.exec.as_ref().and_then(|e| exec_step(v, raw, e, scope));
    (v.problems.len() == before).then_some(Step {
        name: raw.name.as_ref().map(|n| n.get_ref().clone()),
        action: Action::Exec,
        expect: Expect::default(),
        exec: Some(exec?),
        precondition: None,
    })
}

/// `exec_timeout` on a step without `exec`.
fn exec_timeout_alone(v: &mut Validator<'_>, raw: &RawStep) {
    if let Some(t) = &raw.exec_timeout {
        v.error_help(
            key_span(v, t.span(), "exec_timeout"),
            "`exec_timeout` without `exec`",
            "nothing to time",
            "add exec = [\"program\", …] to the step, or remove exec_timeout",
        );
    }
}

/// `exec = ["program", "arg", …]` and `exec_timeout`.
fn exec_step(
    v: &mut Validator<'_>,
    raw: &RawStep,
    value: &Spanned<OneOrMany>,
    scope: &Scope<'_>,
) -> Option<ExecStep> {
    let timeout = match &raw.exec_timeout {
        None => Some(limits::DEFAULT_EXEC_TIMEOUT),
        Some(t) => match parse_duration(t.get_ref()) {
            Ok(d) => Some(d),
            Err(err) => {
                v.error_help(
                    t.span(),
                    format!("`{}` is not a duration", t.get_ref()),
                    err.to_string(),
                    "exec_timeout is how long the program may run before it is killed: \
                     e.g. \"30s\" (default 10s, at most 5m)",
                );
                None
            }
        }
        .and_then(|d| {
            if d.is_zero() {
                v.error(
                    t.span(),
                    "an `exec_timeout` of zero leaves no time to run",
                    "must be more than 0",
                );
                None
            } else if d > limits::MAX_EXEC_TIMEOUT {
                v.error_help(
                    t.span(),
                    format!("`exec_timeout` of {} is over the limit", t.get_ref()),
                    "at most 5m",
                    "a check should finish quickly; poll for at most 5m",
                );
                None
            } else {
                Some(d)
            }
        }),
    };
    let items = match value.get_ref() {
        OneOrMany::One(text) => {
            let words: Vec<String> = text.split_whitespace().map(|w| format!("{w:?}")).collect();
            let example = if words.is_empty() {
                "[\"./check.sh\", \"arg\"]".to_owned()
            } else {
                format!("[{}]", words.join(", "))
            };
            v.error_help(
                value.span(),
                "`exec` must be a list: the program, then each argument",
                "a string",
                format!(
                    "write exec = {example}; no shell runs it, so each argument is its own string"
                ),
            );
            return None;
        }
        OneOrMany::Many(items) => items,
    };
    let Some(program) = items.first() else {
        v.error_help(
            value.span(),
            "`exec` is empty",
            "no program to run",
            "write exec = [\"./check.sh\"]: the program first, then its arguments",
        );
        return None;
    };
    if items.len() > limits::MAX_EXEC_ARGS {
        v.error(
            value.span(),
            format!(
                "`exec` has {} items (at most {})",
                items.len(),
                limits::MAX_EXEC_ARGS
            ),
            "too many arguments",
        );
        return None;
    }
    let text = program.get_ref();
    if text.trim().is_empty() || text.contains('\0') {
        v.error_help(
            program.span(),
            "`exec` names no program",
            "empty",
            "the first item is the program: a path such as \"./check.sh\" or a name on PATH",
        );
        return None;
    }
    if text.contains("{{") {
        v.error_help(
            program.span(),
            "the program of `exec` cannot be a template",
            "written as is",
            "templates such as {{ steps.NAME.webhook_id }} work in the arguments",
        );
        return None;
    }
    let path = std::path::PathBuf::from(text);
    let program_path = if text.contains('/') && path.is_relative() {
        let Some(dir) = v.base_dir else {
            v.error_help(
                program.span(),
                "a relative program path needs a scenario file on disk",
                "no directory to resolve it from",
                "built-in scenarios can only run programs on PATH",
            );
            return None;
        };
        let joined = dir.join(&path);
        std::path::absolute(&joined).unwrap_or(joined)
    } else {
        path
    };
    let mut args = Vec::new();
    for item in &items[1..] {
        if item.get_ref().contains('\0') {
            v.error(item.span(), "an argument cannot hold a NUL character", "");
            continue;
        }
        if let Some(t) = v.template(item, scope) {
            args.push(t);
        }
    }
    let display = items
        .iter()
        .map(|i| {
            let t = i.get_ref();
            if t.is_empty() || t.contains(char::is_whitespace) {
                format!("{t:?}")
            } else {
                t.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    Some(ExecStep {
        program: program_path,
        args,
        timeout: timeout?,
        display,
    })
}

/// The span of `key = …` for a value span: back up over `key = ` when it is there.
fn key_span(v: &Validator<'_>, value: Range<usize>, key: &str) -> Range<usize> {
    let before = &v.text[..value.start.min(v.text.len())];
    let trimmed = before.trim_end();
    if let Some(eq) = trimmed.strip_suffix('=') {
        let eq_trimmed = eq.trim_end();
        if eq_trimmed.ends_with(key) {
            return eq_trimmed.len() - key.len()..value.end;
        }
    }
    value
}

/// For a `[[step]]` table, point at its header line (the nearest `[[step]]` before it).
fn header_span(v: &Validator<'_>, span: Range<usize>) -> Range<usize> {
    let upto = span.start.min(v.text.len());
    let head = v.text[..upto]
        .rfind("[[step]]")
        .or_else(|| v.text[upto..].find("[[step]]").map(|i| i + upto));
    match head {
        Some(start) => start..start + "[[step]]".len(),
        None => span,
    }
}

/// Parses a string value, reporting "`text` is not WHAT" with the parser's error.
fn parsed<T, E: std::fmt::Display>(
    v: &mut Validator<'_>,
    value: &Spanned<String>,
    what: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    match parse(value.get_ref()) {
        Ok(parsed) => Some(parsed),
        Err(err) => {
            v.error(
                value.span(),
                format!("`{}` is not {what}", value.get_ref()),
                err.to_string(),
            );
            None
        }
    }
}

fn duration(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<Duration> {
    parsed(v, value, "a duration", parse_duration)
}

fn within(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<Duration> {
    let d = duration(v, value)?;
    if d > limits::MAX_WITHIN {
        v.error(
            value.span(),
            format!("{} is over the limit", value.get_ref()),
            "at most 10m",
        );
    }
    if d.is_zero() {
        v.error(
            value.span(),
            "a time limit of zero can never be met",
            "must be more than 0",
        );
    }
    Some(d)
}

fn offset(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<Offset> {
    parsed(v, value, "a time offset", Offset::parse)
}

fn send_source(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<SendSource> {
    if value.get_ref() == "each" {
        return Some(SendSource::EachSubscribed);
    }
    match value.get_ref().parse::<EventKind>() {
        Ok(kind) => Some(SendSource::Event(kind)),
        Err(err) => {
            let label = match err.suggestion() {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => "not in the catalogue".to_owned(),
            };
            let (message, help) = match &err {
                UnknownEvent::Shape { given } => (
                    format!("`{given}` is not EVENT/OPERATION"),
                    format!(
                        "write e.g. \"PNR_V3/BOOKING_CREATED\", or \"each\" for every subscribed event; {}",
                        err.expected()
                    ),
                ),
                UnknownEvent::Type { given, .. } => (
                    format!("unknown event type `{given}`"),
                    format!("expected {}", err.expected()),
                ),
                UnknownEvent::Operation {
                    event_type, given, ..
                } => (
                    format!("unknown operation `{given}` for {event_type}"),
                    format!(
                        "expected {}; to send an operation that is not in the catalogue, send a \
                         known one and set envelope = {{ operation = \"{given}\" }}",
                        err.expected()
                    ),
                ),
            };
            v.error_help(value.span(), message, label, help);
            None
        }
    }
}

fn check_resend_target(
    v: &mut Validator<'_>,
    value: &Spanned<String>,
    kind: &str,
    target: usize,
    all: &[Spanned<RawStep>],
) {
    let raw = all[target].get_ref();
    let sends = raw.send.is_some() || raw.redeliver.is_some() || raw.replay.is_some();
    if !sends {
        v.error(
            value.span(),
            format!("step `{}` sends nothing to {kind}", value.get_ref()),
            "not a send step",
        );
        return;
    }
    if raw.send.as_ref().is_some_and(|s| s.get_ref() == "each")
        || raw.repeat.as_ref().is_some_and(|r| *r.get_ref() > 1)
    {
        v.error_help(
            value.span(),
            format!(
                "step `{}` sends several deliveries; {kind} needs exactly one",
                value.get_ref()
            ),
            "ambiguous",
            format!("{kind} a step that sends one event (no `repeat`, not \"each\")"),
        );
    }
}

fn send_step(
    v: &mut Validator<'_>,
    raw: &RawStep,
    source: Option<SendSource>,
    scope: &Scope<'_>,
) -> Option<SendStep> {
    let payload = raw
        .payload
        .as_ref()
        .and_then(|n| json_table(v, n, "payload", scope));
    let envelope = raw
        .envelope
        .as_ref()
        .and_then(|n| json_table(v, n, "envelope", scope));
    let payload_file = raw
        .payload_file
        .as_ref()
        .and_then(|p| read_payload_file(v, p));
    let body = raw.body.as_ref().and_then(|b| v.template(b, scope));
    let large = raw.large.as_ref().and_then(|l| large(v, l));
    let product = raw.product.as_ref().and_then(|p| {
        choice(
            v,
            p,
            "product",
            &[
                ("air", Product::Air),
                ("hotel", Product::Hotel),
                ("car", Product::Car),
                ("rail", Product::Rail),
            ],
        )
    });
    let booking = raw.booking.as_ref().and_then(|b| {
        super::booking::name(v.file, v.text, b, source.as_ref())
            .map_err(|problem| v.push(problem))
            .ok()
    });
    let message_time = raw.message_time.as_ref().and_then(|o| offset(v, o));
    let timestamp = raw.timestamp.as_ref().and_then(|o| offset(v, o));
    let signature = match &raw.signature {
        None => SignatureSpec::Valid(None),
        Some(s) => signature(v, s).unwrap_or(SignatureSpec::Valid(None)),
    };
    let tamper = raw.tamper.as_ref().and_then(|t| {
        choice(
            v,
            t,
            "tamper",
            &[
                ("body", Tamper::Body),
                ("id", Tamper::Id),
                ("timestamp", Tamper::Timestamp),
            ],
        )
    });
    let body_style = raw.body_style.as_ref().and_then(|b| {
        choice(
            v,
            b,
            "body style",
            &[
                ("compact", BodyStyle::Compact),
                ("pretty", BodyStyle::Pretty),
                ("reordered", BodyStyle::Reordered),
                ("escaped-unicode", BodyStyle::EscapedUnicode),
                ("float-forms", BodyStyle::FloatForms),
            ],
        )
    });
    let org_id = raw.org_id.as_ref().and_then(|o| v.template(o, scope));
    let authorization = authorization(v, raw, scope);
    let headers = custom_headers(v, raw, scope);
    let omit_headers = omitted_headers(v, raw);
    let repeat = count(v, raw.repeat.as_ref(), "repeat", limits::MAX_REPEAT);
    let concurrency = count(
        v,
        raw.concurrency.as_ref(),
        "concurrency",
        limits::MAX_CONCURRENCY,
    );
    several_deliveries_fit(v, raw, source.as_ref(), repeat, concurrency);
    if payload.is_some() || payload_file.is_some() {
        override_warnings(v, raw, source.as_ref(), payload_file.as_ref(), product);
    }
    Some(SendStep {
        source: source?,
        payload,
        envelope,
        payload_file,
        body,
        large,
        product,
        booking,
        message_time,
        timestamp,
        signature,
        tamper,
        body_style,
        org_id,
        headers,
        omit_headers,
        repeat,
        concurrency,
        authorization,
    })
}

/// `large = "300KiB"`: a padded payload of that size, at most [`limits::MAX_LARGE`].
fn large(v: &mut Validator<'_>, l: &Spanned<String>) -> Option<u64> {
    match parse_size(l.get_ref()) {
        Ok(n) if n > limits::MAX_LARGE => {
            v.error(
                l.span(),
                format!("`large` of {} is over the limit", format_size(n)),
                "at most 16MiB",
            );
            None
        }
        Ok(n) => Some(n),
        Err(err) => {
            // Scenario files show one example for a wrong number or unit alike.
            let label = match err {
                SizeError::OutOfRange => err.to_string(),
                SizeError::NotANumber | SizeError::UnknownUnit(_) => {
                    SizeError::NotANumber.to_string()
                }
            };
            v.error(l.span(), format!("`{}` is not a size", l.get_ref()), label);
            None
        }
    }
}

/// `authorization = "issued" | "none" | "forged"`, only when the scenario requires OAuth.
fn authorization(v: &mut Validator<'_>, raw: &RawStep, scope: &Scope<'_>) -> Authorization {
    match &raw.authorization {
        None => Authorization::Default,
        Some(a) => {
            needs_oauth(
                v,
                key_span(v, a.span(), "authorization"),
                "`authorization`",
                scope,
            );
            choice(
                v,
                a,
                "authorization",
                &[
                    ("issued", Authorization::Issued),
                    ("none", Authorization::None),
                    ("forged", Authorization::Forged),
                ],
            )
            .unwrap_or_default()
        }
    }
}

/// `header = { Name = "value" }`: valid names, none reserved, none twice.
fn custom_headers(
    v: &mut Validator<'_>,
    raw: &RawStep,
    scope: &Scope<'_>,
) -> Vec<(String, crate::scenario::Template)> {
    let mut headers: Vec<(String, crate::scenario::Template)> = Vec::new();
    if let Some(table) = &raw.header {
        for (key, value) in &table.get_ref().0 {
            let lower = key.get_ref().to_ascii_lowercase();
            if !is_header_name(&lower) {
                v.error(
                    key.span(),
                    format!("`{}` is not a valid HTTP header name", key.get_ref()),
                    "letters, digits and !#$%&'*+-.^_`|~ only",
                );
            } else if RESERVED_HEADERS.contains(&lower.as_str()) {
                v.error_help(
                    key.span(),
                    format!("`{}` is a reserved header", key.get_ref()),
                    "spotcheck sets this one",
                    "use `signature`, `timestamp` or `tamper` to alter the signature headers, \
                 `body` for the content; reserved: content-type, authorization, host, \
                 content-length, transfer-encoding, connection, x-spotnana-webhook-*, \
                 x-b3-traceid, x-b3-spanid",
                );
            } else if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&lower)) {
                v.error(
                    key.span(),
                    format!("header `{}` is set twice", key.get_ref()),
                    "duplicate",
                );
            } else if let Some(t) = v.template(value, scope) {
                headers.push((key.get_ref().clone(), t));
            }
        }
    }
    headers
}

/// `omit_headers = ["name", …]`: header names, lower-cased.
fn omitted_headers(v: &mut Validator<'_>, raw: &RawStep) -> Vec<String> {
    let mut omit_headers = Vec::new();
    for h in raw.omit_headers.iter().flatten() {
        let lower = h.get_ref().to_ascii_lowercase();
        if is_header_name(&lower) {
            omit_headers.push(lower);
        } else {
            v.error(
                h.span(),
                format!("`{}` is not a header name", h.get_ref()),
                "",
            );
        }
    }
    omit_headers
}

/// `concurrency` and `p95_within` mean something only over several deliveries.
fn several_deliveries_fit(
    v: &mut Validator<'_>,
    raw: &RawStep,
    source: Option<&SendSource>,
    repeat: u32,
    concurrency: u32,
) {
    if let Some(c) = &raw.concurrency {
        let each = matches!(source, Some(SendSource::EachSubscribed));
        if concurrency > 1 && repeat == 1 && !each {
            v.error_help(
            c.span(),
            "`concurrency` without `repeat` has nothing to run at once",
            "only one delivery",
            "add `repeat = N` (the number of deliveries); `concurrency` is how many are in flight at once",
        );
        }
    }
    if let (Some(p95), Some(source)) = (&raw.expect, source)
        && let Some(p) = &p95.get_ref().p95_within
    {
        let several = repeat > 1 || matches!(source, SendSource::EachSubscribed);
        if !several {
            v.error_help(
                p.span(),
                "`p95_within` needs several deliveries",
                "one delivery has no percentile",
                "add `repeat = N` to the step, or use `within` for one delivery",
            );
        }
    }
}

/// Warnings for payload overrides that Spotnana's schemas for the step's events reject.
fn override_warnings(
    v: &mut Validator<'_>,
    raw: &RawStep,
    source: Option<&SendSource>,
    payload_file: Option<&serde_json::Value>,
    product: Option<Product>,
) {
    let kinds: Vec<crate::event::EventKind> = match source {
        Some(SendSource::Event(kind)) => vec![*kind],
        Some(SendSource::EachSubscribed) => crate::event::EventKind::all().collect(),
        _ => Vec::new(),
    };
    let step = super::overrides::Override {
        file: v.file,
        text: v.text,
        payload: raw.payload.as_ref(),
        payload_file: payload_file.zip(raw.payload_file.as_ref().map(Spanned::span)),
        product,
    };
    v.warnings.extend(super::overrides::warnings(&step, &kinds));
}

fn needs_oauth(v: &mut Validator<'_>, span: Range<usize>, what: &str, scope: &Scope<'_>) {
    if !scope.oauth {
        v.error_help(
            span,
            format!("{what} is used but the scenario does not require OAuth"),
            "needs the legacy OAuth flow",
            "add `requires = [\"oauth\"]` at the top so runs without --oauth-token-url leave this check out",
        );
    }
}

fn token_step(
    v: &mut Validator<'_>,
    raw: &RawStep,
    value: &Spanned<String>,
    scope: &Scope<'_>,
) -> Option<TokenStep> {
    needs_oauth(v, key_span(v, value.span(), "token"), "`token`", scope);
    let credentials = choice(
        v,
        value,
        "token request",
        &[
            ("issued", TokenCredentials::Configured),
            ("bad-credentials", TokenCredentials::WrongSecret),
        ],
    );
    let repeat = count(v, raw.repeat.as_ref(), "repeat", limits::MAX_REPEAT);
    let concurrency = count(
        v,
        raw.concurrency.as_ref(),
        "concurrency",
        limits::MAX_CONCURRENCY,
    );
    if let Some(c) = &raw.concurrency
        && concurrency > 1
        && repeat == 1
    {
        v.error_help(
            c.span(),
            "`concurrency` without `repeat` has nothing to run at once",
            "only one token request",
            "add `repeat = N` (the number of requests); `concurrency` is how many are in flight at once",
        );
    }
    Some(TokenStep {
        credentials: credentials?,
        repeat,
        concurrency,
    })
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn count(v: &mut Validator<'_>, value: Option<&Spanned<i64>>, what: &str, max: u32) -> u32 {
    let Some(value) = value else { return 1 };
    let n = *value.get_ref();
    if n < 1 {
        v.error(
            value.span(),
            format!("`{what}` must be at least 1"),
            format!("{n} is too small"),
        );
        1
    } else if n > i64::from(max) {
        v.error_help(
            value.span(),
            format!("`{what}` of {n} is over the limit"),
            format!("at most {max}"),
            format!("{what} is limited to {max} so that a scenario cannot flood an endpoint by mistake; use `spotcheck load` for load tests"),
        );
        1
    } else {
        n as u32
    }
}

fn signature(v: &mut Validator<'_>, value: &Spanned<OneOrMany>) -> Option<SignatureSpec> {
    match value.get_ref() {
        OneOrMany::One(text) => {
            let spanned = Spanned::new(value.span(), text.clone());
            let names = ["valid", "missing", "garbage", "wrong-secret", "bare", "v1"];
            let options: Vec<(&'static str, &'static str)> =
                names.iter().map(|n| (*n, *n)).collect();
            choice(v, &spanned, "signature", &options).map(|name| match name {
                "missing" => SignatureSpec::Missing,
                "garbage" => SignatureSpec::Garbage,
                "wrong-secret" => SignatureSpec::WrongSecret,
                "bare" => SignatureSpec::Valid(Some(SignatureFormat::Bare)),
                "v1" => SignatureSpec::Valid(Some(SignatureFormat::V1)),
                _ => SignatureSpec::Valid(None),
            })
        }
        OneOrMany::Many(items) => {
            if items.is_empty() {
                v.error_help(
                    value.span(),
                    "an empty signature list",
                    "no tokens",
                    "use signature = \"missing\" for no header, or list tokens such as [\"stale-key\", \"valid\"]",
                );
                return None;
            }
            let options = [
                ("valid", SignatureToken::Valid(None)),
                ("stale-key", SignatureToken::StaleKey),
                ("garbage", SignatureToken::Garbage),
                ("bare", SignatureToken::Valid(Some(SignatureFormat::Bare))),
                ("v1", SignatureToken::Valid(Some(SignatureFormat::V1))),
                (
                    "valid-bare",
                    SignatureToken::Valid(Some(SignatureFormat::Bare)),
                ),
                ("valid-v1", SignatureToken::Valid(Some(SignatureFormat::V1))),
            ];
            let tokens: Vec<Option<SignatureToken>> = items
                .iter()
                .map(|item| choice(v, item, "signature token", &options))
                .collect();
            tokens
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(SignatureSpec::Tokens)
        }
    }
}

fn read_payload_file(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<serde_json::Value> {
    let (Some(dir), Some(root)) = (v.base_dir, v.root) else {
        v.error_help(
            value.span(),
            "`payload_file` needs a scenario file on disk",
            "no directory to resolve it from",
            "built-in scenarios cannot use payload_file; use `payload` instead",
        );
        return None;
    };
    let given = Path::new(value.get_ref());
    let shown = dir.join(given).display().to_string();
    // Named with the reason, never with its contents.
    let bytes = match root.read_named(dir, given, limits::MAX_FILE) {
        Ok(bytes) => bytes,
        Err(refusal) => {
            let help = match refusal {
                Refusal::Io(_) => "payload_file is relative to the scenario file".to_owned(),
                _ => format!(
                    "payload_file names a regular file inside the file root `{}` (the folder \
                     of the scenario files unless --file-root DIR says otherwise), by a path \
                     relative to the scenario file",
                    root.shown().display()
                ),
            };
            v.error_help(
                value.span(),
                format!("cannot read `{shown}`: {refusal}"),
                "this file",
                help,
            );
            return None;
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(json) if json.is_object() => Some(json),
        Ok(_) => {
            v.error(
                value.span(),
                format!("`{shown}` is not a JSON object"),
                "its content is merged over the payload, so it must be an object",
            );
            None
        }
        Err(err) => {
            v.error(
                value.span(),
                format!("`{shown}` is not JSON: {err}"),
                "this file",
            );
            None
        }
    }
}

fn json_table(
    v: &mut Validator<'_>,
    node: &JsonNode,
    what: &str,
    scope: &Scope<'_>,
) -> Option<JsonTemplate> {
    if !matches!(node.kind, JsonKind::Table(_)) {
        v.error_help(
            node.span.clone(),
            format!("`{what}` must be a table"),
            "not a table",
            format!("write e.g. {what} = {{ pnrId = \"1234567890\" }}"),
        );
        return None;
    }
    json_value(v, node, scope)
}

fn json_value(v: &mut Validator<'_>, node: &JsonNode, scope: &Scope<'_>) -> Option<JsonTemplate> {
    Some(match &node.kind {
        JsonKind::Bool(b) => JsonTemplate::Bool(*b),
        JsonKind::Int(i) => JsonTemplate::Number((*i).into()),
        JsonKind::Float(f) => JsonTemplate::Number(serde_json::Number::from_f64(*f)?),
        JsonKind::String(s) => {
            let located = v.template_at(s, node.span.clone())?;
            v.check_refs(&located, scope);
            v.expansion_fits(&located);
            JsonTemplate::String(located.template)
        }
        JsonKind::Array(items) => {
            let parts: Vec<Option<JsonTemplate>> =
                items.iter().map(|i| json_value(v, i, scope)).collect();
            JsonTemplate::Array(parts.into_iter().collect::<Option<_>>()?)
        }
        JsonKind::Table(entries) => {
            let parts: Vec<Option<(String, JsonTemplate)>> = entries
                .iter()
                .map(|(k, val)| json_value(v, val, scope).map(|t| (k.get_ref().clone(), t)))
                .collect();
            JsonTemplate::Object(parts.into_iter().collect::<Option<_>>()?)
        }
    })
}

fn validate_expect(
    v: &mut Validator<'_>,
    raw: Option<&Spanned<RawExpect>>,
    kind: &str,
    scope: &Scope<'_>,
) -> Expect {
    let mut expect = Expect::default();
    if let Some(raw) = raw {
        if kind == "sleep" {
            v.error_help(
                key_span(v, raw.span(), "expect"),
                "a `sleep` step has nothing to expect",
                "",
                "put `expect` on the send or observe step",
            );
            return expect;
        }
        let raw = raw.get_ref();
        expect.status = raw.status.as_ref().map(|s| s.get_ref().clone());
        if let Some(json) = &raw.json {
            if !matches!(kind, "observe" | "token") {
                v.error_help(
                    key_span(v, json.span(), "json"),
                    "`expect.json` applies to observe steps",
                    "the response body of a delivery is ignored (as Spotnana ignores it)",
                    "observe the partner's state with observe = \"GET {{ state_url }}/…\"",
                );
            }
            for (pointer, value) in &json.get_ref().0 {
                let p = pointer.get_ref();
                if !(p.is_empty() || p.starts_with('/')) {
                    v.error_help(
                        pointer.span(),
                        format!("`{p}` is not a JSON pointer"),
                        "expected \"\" or \"/…\"",
                        format!("write \"/{p}\" (RFC 6901: /field/0/inner)"),
                    );
                    continue;
                }
                if let Some(t) = json_value(v, value, scope) {
                    expect.json.push((p.clone(), t));
                }
            }
        }
        expect.within = raw.within.as_ref().and_then(|w| within(v, w));
        if let Some(p) = &raw.p95_within {
            if !matches!(kind, "send" | "redeliver" | "replay") {
                v.error(p.span(), "`p95_within` applies to send steps", "");
            }
            expect.p95_within = within(v, p);
        }
    }
    if expect.status.is_none() {
        expect.status = Some(StatusExpect::Code(200));
    }
    expect
}

/// A delivery step's body, deliveries and bytes: the body against [`Limits::body`],
/// the scenario's running totals against [`Limits::deliveries`] and [`Limits::bytes`];
/// the step's sizes are kept for the steps after it.
fn step_budget(
    v: &mut Validator<'_>,
    send: &SendStep,
    raw: &RawStep,
    index: usize,
    action_span: Range<usize>,
) {
    let (body, pnr_id, each) = match &send.source {
        SendSource::Redeliver(r) | SendSource::Replay(r) => {
            let earlier = v.step_sizes.get(&r.index).copied().unwrap_or_default();
            (earlier.body, earlier.pnr_id, 1)
        }
        SendSource::Event(_) | SendSource::EachSubscribed => {
            let each = if matches!(send.source, SendSource::EachSubscribed) {
                EventKind::all().count() as u64
            } else {
                1
            };
            match &send.body {
                Some(body) => (v.text_size(body).raw, TextSize::default(), each),
                None => {
                    let (body, pnr_id) = generated_sizes(v, send);
                    (body, pnr_id, each)
                }
            }
        }
    };
    v.step_sizes.insert(index, StepSize { body, pnr_id });
    let deliveries = u64::from(send.repeat).saturating_mul(each);
    let limits = *v.limits;
    let size = budget::figure;
    if body > limits.body {
        let span = raw
            .large
            .as_ref()
            .map_or(action_span.clone(), Spanned::span);
        v.error_help(
            span,
            format!(
                "one delivery of this step can be {} ({body} bytes), over the limit of {} for \
                 one body",
                size(body),
                size(limits.body)
            ),
            format!("up to {body} bytes"),
            "make the payload, `payload_file` or `large` smaller, or raise the limit with \
             --max-delivery-body SIZE",
        );
    }
    let before = v.budget;
    v.budget.deliveries = before.deliveries.saturating_add(deliveries);
    v.budget.bytes = before.bytes.saturating_add(deliveries.saturating_mul(body));
    v.budget.largest_body = before.largest_body.max(body);
    let span = raw.repeat.as_ref().map_or(action_span, Spanned::span);
    if v.budget.deliveries > limits.deliveries && before.deliveries <= limits.deliveries {
        v.error_help(
            span.clone(),
            format!(
                "the scenario sends up to {} deliveries with this step, over the limit of {} \
                 per scenario",
                v.budget.deliveries, limits.deliveries
            ),
            format!("{deliveries} deliveries here"),
            "lower `repeat` (use `spotcheck load` for load tests), or raise the limit with \
             --max-deliveries N",
        );
    }
    if v.budget.bytes > limits.bytes && before.bytes <= limits.bytes {
        v.error_help(
            span,
            format!(
                "the scenario sends up to {} of bodies with this step ({} bytes), over the \
                 limit of {} per scenario",
                size(v.budget.bytes),
                v.budget.bytes,
                size(limits.bytes)
            ),
            format!("{deliveries} × up to {body} bytes"),
            "lower `repeat` or `large`, or raise the limit with --max-scenario-bytes SIZE",
        );
    }
}

/// The largest body and PNR id of a generated event with this step's overrides.
fn generated_sizes(v: &Validator<'_>, send: &SendStep) -> (u64, TextSize) {
    let mut string = |t: &Template| v.text_size(t);
    let mut overrides = JsonSize::default();
    for patch in [&send.payload, &send.envelope].into_iter().flatten() {
        overrides = overrides.plus(JsonSize::of_template(patch, &mut string));
    }
    if let Some(file) = &send.payload_file {
        overrides = overrides.plus(JsonSize::of_value(file));
    }
    let org = send.org_id.as_ref().map(|t| v.text_size(t));
    let pretty = send.body_style == Some(BodyStyle::Pretty);
    let body = budget::generated_body(overrides, org, send.large, pretty);
    // The PNR id is the fixture's (10 digits) unless an override writes `pnrId`.
    let mut pnr_id = TextSize::ascii(10);
    let mut widen = |size: TextSize| {
        pnr_id = TextSize {
            raw: pnr_id.raw.max(size.raw),
            json: pnr_id.json.max(size.json),
        };
    };
    let from_payload = send.payload.as_ref().and_then(|p| p.get("pnrId"));
    let from_envelope = send
        .envelope
        .as_ref()
        .and_then(|e| e.get("payload"))
        .and_then(|p| p.get("pnrId"));
    for value in [from_payload, from_envelope].into_iter().flatten() {
        if let JsonTemplate::String(t) = value {
            widen(v.text_size(t));
        }
    }
    if let Some(text) = send
        .payload_file
        .as_ref()
        .and_then(|f| f.get("pnrId"))
        .and_then(serde_json::Value::as_str)
    {
        widen(TextSize::of(text));
    }
    (body, pnr_id)
}
