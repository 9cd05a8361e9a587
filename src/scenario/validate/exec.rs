//! `exec` steps and their keys (`exec_timeout`, `exec_env`, …).

use super::expect::*;
use super::prelude::*;
use super::templates::*;
use super::validator::*;
use super::values::*;

/// `exec` on a delivery step (run after its deliveries); elsewhere it is an error.
pub(super) fn step_exec(
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

/// A step whose only action is `exec`.
pub(super) fn exec_only_step(
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
pub(super) fn exec_timeout_alone(v: &mut Validator<'_>, raw: &RawStep) {
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
pub(super) fn exec_step(
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
