//! The validator's state for one file, and how it records a problem.

use super::prelude::*;

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
    pub(super) body: u64,
    /// The largest `steps.NAME.pnr_id` it can record.
    pub(super) pnr_id: TextSize,
}

pub(super) fn choice<T: Copy>(
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
    pub(super) fn push(&mut self, problem: Problem) {
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

    pub(super) fn error_help(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        let p = Problem::at(self.file, self.text, span, message, label).with_help(help);
        self.push(p);
    }

    pub(super) fn unknown_value(
        &mut self,
        span: Range<usize>,
        what: &str,
        given: &str,
        names: &[&str],
    ) {
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
