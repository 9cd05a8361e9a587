//! Templates (`{{ … }}`) where they appear: parsed at their position in the file, their
//! names checked against the scope (vars, steps, state), and their expansion bounded.

use super::prelude::*;
use super::validator::*;

/// The `--state-url` is the user's, not the file's; counted at this length.
pub(super) const STATE_URL_BYTES: u64 = 8 << 10;

/// A template with where it sits in the file.
pub(super) struct Located {
    pub(super) template: Template,
    /// The whole TOML value.
    pub(super) value_span: Range<usize>,
    /// Where the string's first character is, when the source maps 1:1 to the value.
    pub(super) content_start: Option<usize>,
}

impl Located {
    pub(super) fn span_of(&self, inner: &Range<usize>) -> Range<usize> {
        match self.content_start {
            Some(start) => start + inner.start..start + inner.end,
            None => self.value_span.clone(),
        }
    }
}

/// What names a template may use where it appears.
pub(super) struct Scope<'s> {
    pub(super) vars: &'s [String],
    /// All vars (to tell "defined later" from "undefined").
    pub(super) all_vars: &'s [String],
    /// The index of the step the template is in; `None` in `[vars]`.
    pub(super) current_step: Option<usize>,
    pub(super) state: bool,
    /// Whether the scenario requires `oauth` (for `token` and `authorization`).
    pub(super) oauth: bool,
    /// Whether the current step's own values may be used (in `exec` arguments, which
    /// run after the step's deliveries).
    pub(super) own_values: bool,
}

impl Validator<'_> {
    pub(super) fn content_start(&self, span: &Range<usize>, value: &str) -> Option<usize> {
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

    pub(super) fn template_at(&mut self, value: &str, span: Range<usize>) -> Option<Located> {
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

    pub(super) fn template(
        &mut self,
        value: &Spanned<String>,
        scope: &Scope<'_>,
    ) -> Option<Template> {
        let located = self.template_at(value.get_ref(), value.span())?;
        self.check_refs(&located, scope);
        self.expansion_fits(&located);
        Some(located.template)
    }

    /// The most `expr` can insert, from what the file says (vars and steps before it).
    pub(super) fn expr_size(&self, expr: &Expr) -> TextSize {
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
    pub(super) fn text_size(&self, template: &Template) -> TextSize {
        template.max_len(|expr| self.expr_size(expr))
    }

    /// Refuses a template that can render to more than [`Limits::expansion`] bytes (a
    /// var repeating a var that repeats a var…), before anything is rendered.
    pub(super) fn expansion_fits(&mut self, located: &Located) -> bool {
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

    pub(super) fn check_refs(&mut self, located: &Located, scope: &Scope<'_>) {
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
    pub(super) fn step_ref_ok(
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
