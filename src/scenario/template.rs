//! `{{ … }}` templates in scenario strings: parsed when a file is loaded (so mistakes
//! are reported with their position), rendered by the runner.
//!
//! Expressions:
//! - `{{ NAME }}`: a variable from `[vars]` (vars are resolved in file order; a var may
//!   use the vars above it);
//! - `{{ random.KIND }}`: a fresh value from the run's seeded generator on every use:
//!   `pnr_id` (10 digits), `uuid`, `org_id` (a UUID), `trace_id` (32 hex), `span_id`
//!   (16 hex), `locator` (6 characters), `digitsN` (N decimal digits, 1–64),
//!   `hexN` (N hex digits, 1–128). To use one value twice, bind it to a var;
//! - `{{ state_url }}`: the run's `--state-url`;
//! - `{{ steps.NAME.FIELD }}`: a value from an earlier step: `webhook_id`, `pnr_id`
//!   or `status`.
//!
//! `{{` always opens an expression; there is no escape.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use crate::event::SeededRng;
use crate::event::random;

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text copied as is.
    Literal(String),
    /// A `{{ … }}` expression; `span` is its byte range (braces included) in the source string.
    Expr {
        /// What to insert.
        expr: Expr,
        /// Byte range of `{{ … }}` in the template source.
        span: Range<usize>,
    },
}

/// What a `{{ … }}` expression refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A `[vars]` entry.
    Var(String),
    /// A fresh random value.
    Random(RandomKind),
    /// The `--state-url` of the run.
    StateUrl,
    /// A value recorded by an earlier step.
    Step {
        /// The step's `name`.
        step: String,
        /// Which value.
        field: StepField,
    },
}

/// The kinds of `random.*` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomKind {
    /// `random.pnr_id`: 10 decimal digits.
    PnrId,
    /// `random.uuid`.
    Uuid,
    /// `random.org_id`: a UUID.
    OrgId,
    /// `random.trace_id`: 32 hex digits.
    TraceId,
    /// `random.span_id`: 16 hex digits.
    SpanId,
    /// `random.locator`: 6 record-locator characters.
    Locator,
    /// `random.digitsN`.
    Digits(usize),
    /// `random.hexN`.
    Hex(usize),
}

impl RandomKind {
    const NAMED: [(&'static str, RandomKind); 6] = [
        ("pnr_id", RandomKind::PnrId),
        ("uuid", RandomKind::Uuid),
        ("org_id", RandomKind::OrgId),
        ("trace_id", RandomKind::TraceId),
        ("span_id", RandomKind::SpanId),
        ("locator", RandomKind::Locator),
    ];

    fn parse(name: &str) -> Option<RandomKind> {
        if let Some((_, kind)) = RandomKind::NAMED.iter().find(|(n, _)| *n == name) {
            return Some(*kind);
        }
        let counted = |prefix: &str, max: usize| {
            name.strip_prefix(prefix)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| (1..=max).contains(n))
        };
        counted("digits", 64)
            .map(RandomKind::Digits)
            .or_else(|| counted("hex", 128).map(RandomKind::Hex))
    }

    /// The length of every value of this kind (all ASCII letters, digits and `-`).
    pub fn text_len(self) -> u64 {
        match self {
            RandomKind::PnrId => 10,
            RandomKind::Uuid | RandomKind::OrgId => 36,
            RandomKind::TraceId => 32,
            RandomKind::SpanId => 16,
            RandomKind::Locator => 6,
            RandomKind::Digits(n) | RandomKind::Hex(n) => n as u64,
        }
    }

    /// Draws one value.
    pub fn generate(self, rng: &mut SeededRng) -> String {
        match self {
            RandomKind::PnrId => random::pnr_id(rng),
            RandomKind::Uuid | RandomKind::OrgId => random::uuid(rng),
            RandomKind::TraceId => random::trace_id(rng),
            RandomKind::SpanId => random::span_id(rng),
            RandomKind::Locator => random::locator(rng, 6),
            RandomKind::Digits(n) => random::digits(rng, n),
            RandomKind::Hex(n) => random::hex(rng, n),
        }
    }
}

/// A value a step records for later steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepField {
    /// The `x-spotnana-webhook-id` the step sent.
    WebhookId,
    /// The PNR id in the event the step sent.
    PnrId,
    /// The HTTP status the step got.
    Status,
}

impl StepField {
    /// Every field with its spelling.
    pub const ALL: [(&'static str, StepField); 3] = [
        ("webhook_id", StepField::WebhookId),
        ("pnr_id", StepField::PnrId),
        ("status", StepField::Status),
    ];

    /// The spelling in templates.
    pub fn as_str(self) -> &'static str {
        match self {
            StepField::WebhookId => "webhook_id",
            StepField::PnrId => "pnr_id",
            StepField::Status => "status",
        }
    }
}

/// A template that cannot be parsed. `span` is relative to the template source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte range in the template source.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// What a rendering needs from the run. The runner implements it.
pub trait TemplateContext {
    /// The rendered value of a `[vars]` entry.
    fn var(&self, name: &str) -> Option<String>;
    /// The run's `--state-url`, without a trailing slash.
    fn state_url(&self) -> Option<String>;
    /// A value recorded by the step called `step`, if it ran and recorded it.
    fn step_value(&self, step: &str, field: StepField) -> Option<String>;
    /// The value of `random.org_id` when the run's subscription names organizations
    /// (Spotnana delivers no other); `None` draws a fresh UUID.
    fn subscribed_organization(&self) -> Option<String> {
        None
    }
}

/// A template that cannot be rendered in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// `{{ NAME }}` with no such var (load rejects this; a context may still lack it).
    UndefinedVar(String),
    /// `{{ state_url }}` without `--state-url`.
    NoStateUrl,
    /// `{{ steps.NAME.FIELD }}` when that step recorded no such value.
    StepValueMissing {
        /// The step name.
        step: String,
        /// The field.
        field: StepField,
    },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::UndefinedVar(name) => write!(f, "variable `{name}` is not defined"),
            RenderError::NoStateUrl => {
                f.write_str("`{{ state_url }}` needs --state-url (an observation endpoint)")
            }
            RenderError::StepValueMissing { step, field } => write!(
                f,
                "step `{step}` recorded no {} (did it run and send an event?)",
                field.as_str()
            ),
        }
    }
}

impl std::error::Error for RenderError {}

impl Template {
    /// Parses `source`. Syntax only: whether vars and steps exist is checked by the loader.
    pub fn parse(source: &str) -> Result<Template, SyntaxError> {
        let mut parts = Vec::new();
        let mut rest_start = 0;
        while let Some(found) = source[rest_start..].find("{{") {
            let open = rest_start + found;
            if open > rest_start {
                parts.push(Part::Literal(source[rest_start..open].to_owned()));
            }
            let Some(close_rel) = source[open + 2..].find("}}") else {
                let line_end = source[open..].find('\n').map_or(source.len(), |n| open + n);
                return Err(SyntaxError {
                    span: open..line_end,
                    message: "unclosed `{{`".to_owned(),
                    help: Some(
                        "close the expression with `}}`, e.g. {{ random.pnr_id }}".to_owned(),
                    ),
                });
            };
            let close = open + 2 + close_rel + 2;
            let inner = &source[open + 2..close - 2];
            let expr = parse_expr(inner.trim()).map_err(|(message, help)| SyntaxError {
                span: open..close,
                message,
                help,
            })?;
            parts.push(Part::Expr {
                expr,
                span: open..close,
            });
            rest_start = close;
        }
        if rest_start < source.len() {
            parts.push(Part::Literal(source[rest_start..].to_owned()));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// A template with no expressions.
    pub fn literal(text: &str) -> Template {
        Template {
            source: text.to_owned(),
            parts: if text.is_empty() {
                Vec::new()
            } else {
                vec![Part::Literal(text.to_owned())]
            },
        }
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parsed pieces.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Every expression with its span in the source.
    pub fn exprs(&self) -> impl Iterator<Item = (&Expr, &Range<usize>)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr { expr, span } => Some((expr, span)),
            Part::Literal(_) => None,
        })
    }

    /// Whether it has no expression (renders to its source).
    pub fn is_literal(&self) -> bool {
        self.exprs().next().is_none()
    }

    /// The most bytes a rendering can produce, computed without rendering: the
    /// literal text plus, for each expression, the most `expr` says it can insert
    /// (saturating, so a bomb of nested vars gives `u64::MAX`, never an overflow).
    pub fn max_len(&self, mut expr: impl FnMut(&Expr) -> TextSize) -> TextSize {
        self.parts.iter().fold(TextSize::default(), |total, part| {
            total.plus(match part {
                Part::Literal(text) => TextSize::of(text),
                Part::Expr { expr: e, .. } => expr(e),
            })
        })
    }

    /// Renders with the run's values; `random.*` draws from `rng`.
    pub fn render(
        &self,
        ctx: &dyn TemplateContext,
        rng: &mut SeededRng,
    ) -> Result<String, RenderError> {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Expr { expr, .. } => out.push_str(&render_expr(expr, ctx, rng)?),
            }
        }
        Ok(out)
    }
}

fn render_expr(
    expr: &Expr,
    ctx: &dyn TemplateContext,
    rng: &mut SeededRng,
) -> Result<String, RenderError> {
    match expr {
        Expr::Var(name) => ctx
            .var(name)
            .ok_or_else(|| RenderError::UndefinedVar(name.clone())),
        Expr::Random(RandomKind::OrgId) => Ok(ctx
            .subscribed_organization()
            .unwrap_or_else(|| RandomKind::OrgId.generate(rng))),
        Expr::Random(kind) => Ok(kind.generate(rng)),
        Expr::StateUrl => ctx.state_url().ok_or(RenderError::NoStateUrl),
        Expr::Step { step, field } => {
            ctx.step_value(step, *field)
                .ok_or_else(|| RenderError::StepValueMissing {
                    step: step.clone(),
                    field: *field,
                })
        }
    }
}

/// How large a rendered text can be: as raw bytes, and once written inside a JSON
/// string in the worst body style (quotes, backslashes, `/` and control characters
/// escaped, every non-ASCII character written `\uXXXX`), so a body's size can be
/// bounded before anything is composed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextSize {
    /// Bytes of the text itself.
    pub raw: u64,
    /// Bytes of the text escaped inside a JSON string (quotes not counted).
    pub json: u64,
}

impl TextSize {
    /// The exact sizes of `text`.
    pub fn of(text: &str) -> TextSize {
        let json = text.chars().map(json_escaped_len).sum();
        TextSize {
            raw: text.len() as u64,
            json,
        }
    }

    /// A text of `n` ASCII letters and digits (random values, ids).
    pub fn ascii(n: u64) -> TextSize {
        TextSize { raw: n, json: n }
    }

    /// Any text of at most `n` bytes (each byte may need 6 bytes escaped).
    pub fn any(n: u64) -> TextSize {
        TextSize {
            raw: n,
            json: n.saturating_mul(6),
        }
    }

    /// Both sizes added (saturating).
    pub fn plus(self, other: TextSize) -> TextSize {
        TextSize {
            raw: self.raw.saturating_add(other.raw),
            json: self.json.saturating_add(other.json),
        }
    }
}

/// Bytes one character takes escaped in a JSON string, worst style.
fn json_escaped_len(c: char) -> u64 {
    match c {
        '"' | '\\' | '/' => 2,
        '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 || c == '\u{7f}' => 6,
        c if c.is_ascii() => 1,
        c => 6 * c.len_utf16() as u64,
    }
}

type ExprError = (String, Option<String>);

fn parse_expr(inner: &str) -> Result<Expr, ExprError> {
    if inner.is_empty() {
        return Err((
            "empty `{{ }}`".to_owned(),
            Some("write a var name, random.KIND, state_url or steps.NAME.FIELD".to_owned()),
        ));
    }
    let segments: Vec<&str> = inner.split('.').collect();
    if let Some(bad) = segments.iter().find(|s| !is_identifier(s)) {
        return Err((
            format!("`{inner}` is not a template expression"),
            Some(if bad.is_empty() {
                "write a var name, random.KIND, state_url or steps.NAME.FIELD".to_owned()
            } else {
                format!(
                    "`{bad}` is not a name (letters, digits, `_` and `-`); expressions are \
                     a var name, random.KIND, state_url or steps.NAME.FIELD"
                )
            }),
        ));
    }
    match segments.as_slice() {
        ["random", kind] => RandomKind::parse(kind)
            .ok_or_else(|| {
                let names: Vec<&str> = RandomKind::NAMED.iter().map(|(n, _)| *n).collect();
                let mut message = format!("unknown random value `random.{kind}`");
                if let Some(s) = crate::event::catalogue::closest(kind, names.iter().copied()) {
                    message.push_str(&format!(" (did you mean `random.{s}`?)"));
                }
                (
                    message,
                    Some(format!(
                        "random values: {}, digitsN (N = 1..64), hexN (N = 1..128)",
                        names.join(", ")
                    )),
                )
            })
            .map(Expr::Random),
        ["random", ..] => Err((
            format!("`{inner}` is not a random value"),
            Some("write random.KIND, e.g. random.pnr_id or random.uuid".to_owned()),
        )),
        ["state_url"] => Ok(Expr::StateUrl),
        ["steps", step, field] => {
            let field = StepField::ALL
                .iter()
                .find(|(n, _)| n == field)
                .map(|(_, f)| *f)
                .ok_or_else(|| {
                    let names: Vec<&str> = StepField::ALL.iter().map(|(n, _)| *n).collect();
                    let mut message = format!("steps have no value `{field}`");
                    if let Some(s) = crate::event::catalogue::closest(field, names.iter().copied())
                    {
                        message.push_str(&format!(" (did you mean `{s}`?)"));
                    }
                    (
                        message,
                        Some(format!("a step records {}", names.join(", "))),
                    )
                })?;
            Ok(Expr::Step {
                step: (*step).to_owned(),
                field,
            })
        }
        ["steps", ..] => Err((
            format!("`{inner}` is not a step value"),
            Some("write steps.NAME.FIELD, e.g. steps.first.webhook_id".to_owned()),
        )),
        [name] => Ok(Expr::Var((*name).to_owned())),
        _ => Err((
            format!("`{inner}` is not a template expression"),
            Some("write a var name, random.KIND, state_url or steps.NAME.FIELD".to_owned()),
        )),
    }
}

/// Whether `text` is a name usable for vars and steps: letters, digits, `_`, `-`,
/// not starting with a digit or `-`.
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A ready-made [`TemplateContext`] over maps (for tests and simple runners).
#[derive(Debug, Clone, Default)]
pub struct MapContext {
    /// Rendered vars.
    pub vars: HashMap<String, String>,
    /// The `--state-url`.
    pub state_url: Option<String>,
    /// Values recorded by steps.
    pub steps: HashMap<(String, StepField), String>,
}

impl TemplateContext for MapContext {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn state_url(&self) -> Option<String> {
        self.state_url.clone()
    }

    fn step_value(&self, step: &str, field: StepField) -> Option<String> {
        self.steps.get(&(step.to_owned(), field)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::random::rng;

    #[test]
    fn parses_literals_and_expressions() {
        let t = Template::parse("GET {{ state_url }}/webhooks/{{steps.first.webhook_id}}").unwrap();
        let exprs: Vec<_> = t.exprs().map(|(e, s)| (e.clone(), s.clone())).collect();
        assert_eq!(
            exprs,
            vec![
                (Expr::StateUrl, 4..19),
                (
                    Expr::Step {
                        step: "first".into(),
                        field: StepField::WebhookId
                    },
                    29..55
                ),
            ]
        );
        assert!(Template::parse("no braces } here }}").unwrap().is_literal());
    }

    #[test]
    fn renders_with_context_and_seeded_randomness() {
        let mut ctx = MapContext::default();
        ctx.vars.insert("pnr".into(), "1234567890".into());
        ctx.state_url = Some("http://127.0.0.1:9/state".into());
        ctx.steps
            .insert(("first".into(), StepField::WebhookId), "wh-1".into());
        let t = Template::parse("{{ state_url }}/{{ pnr }}/{{ steps.first.webhook_id }}").unwrap();
        assert_eq!(
            t.render(&ctx, &mut rng(1)).unwrap(),
            "http://127.0.0.1:9/state/1234567890/wh-1"
        );
        let r =
            Template::parse("{{ random.pnr_id }}-{{ random.digits4 }}-{{ random.hex8 }}").unwrap();
        let a = r.render(&ctx, &mut rng(5)).unwrap();
        assert_eq!(
            a,
            r.render(&ctx, &mut rng(5)).unwrap(),
            "same seed, same value"
        );
        assert_ne!(a, r.render(&ctx, &mut rng(6)).unwrap());
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [10, 4, 8]
        );
    }

    #[test]
    fn render_errors_name_what_is_missing() {
        let ctx = MapContext::default();
        let err = Template::parse("{{ state_url }}")
            .unwrap()
            .render(&ctx, &mut rng(1))
            .unwrap_err();
        assert_eq!(err, RenderError::NoStateUrl);
        let err = Template::parse("{{ steps.a.pnr_id }}")
            .unwrap()
            .render(&ctx, &mut rng(1))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "step `a` recorded no pnr_id (did it run and send an event?)"
        );
        let err = Template::parse("{{ x }}")
            .unwrap()
            .render(&ctx, &mut rng(1))
            .unwrap_err();
        assert_eq!(err, RenderError::UndefinedVar("x".into()));
    }

    #[test]
    fn syntax_errors_point_at_the_expression() {
        let err = Template::parse("abc {{ pnr ").unwrap_err();
        assert_eq!((err.span, err.message.as_str()), (4..11, "unclosed `{{`"));
        let err = Template::parse("x{{ random.pnrid }}").unwrap_err();
        assert_eq!(err.span, 1..19);
        assert!(
            err.message.contains("did you mean `random.pnr_id`?"),
            "{}",
            err.message
        );
        let err = Template::parse("{{ steps.a.webhookid }}").unwrap_err();
        assert!(
            err.message.contains("did you mean `webhook_id`?"),
            "{}",
            err.message
        );
        assert!(Template::parse("{{ }}").is_err());
        assert!(Template::parse("{{ a b }}").is_err());
        assert!(Template::parse("{{ random.digits65 }}").is_err());
        assert!(Template::parse("{{ steps.a }}").is_err());
    }
}
