//! One `[[steps]]` entry: which action it is, which keys fit that action, and the
//! small actions (`sleep`, `redeliver`/`replay`, `precondition`, counts).

use super::exec::*;
use super::expect::*;
use super::oauth::*;
use super::observe::*;
use super::prelude::*;
use super::send::*;
use super::sizes::*;
use super::templates::*;
use super::validator::*;
use super::values::*;

/// Which keys set the action.
pub(super) const ACTIONS: [&str; 6] = ["send", "redeliver", "replay", "sleep", "observe", "token"];

/// The send-only keys a step sets, each with the span of its value (`None` when absent),
/// in the order their errors are reported.
pub(super) type SendOnlyKeys = Vec<(&'static str, Option<Range<usize>>)>;

/// One `[[step]]`: its one action, the keys that fit that action, the expectation,
/// the precondition and an `exec` program. `None` when anything in it is wrong.
pub(super) fn validate_step(
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
pub(super) fn step_actions(raw: &RawStep) -> Vec<(&'static str, &Spanned<String>)> {
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
pub(super) fn send_only_keys(raw: &RawStep) -> SendOnlyKeys {
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
pub(super) fn present(
    send_only: &[(&str, Option<Range<usize>>)],
    name: &str,
) -> Option<Range<usize>> {
    send_only
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, s)| s.clone())
}

pub(super) fn no_action(v: &mut Validator<'_>, spanned: &Spanned<RawStep>, index: usize) {
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

pub(super) fn two_actions(
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
pub(super) fn keys_fit_the_action(
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
pub(super) fn fixed_by_source(
    v: &mut Validator<'_>,
    kind: &str,
    send_only: &[(&str, Option<Range<usize>>)],
) {
    // What the named step fixed: its body and webhook id for both; a replay also
    // repeats its signature and timestamp.
    const BODY_AND_ID: &[&str] = &[
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
    ];
    const REQUEST_AS_SENT: &[&str] = &["signature", "timestamp"];
    let fixed: Vec<&str> = match kind {
        "redeliver" => BODY_AND_ID.to_vec(),
        "replay" => [BODY_AND_ID, REQUEST_AS_SENT].concat(),
        _ => Vec::new(),
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
pub(super) fn body_alone(v: &mut Validator<'_>, send_only: &[(&str, Option<Range<usize>>)]) {
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

/// `sleep = "2s"`, at most [`limits::MAX_SLEEP`].
pub(super) fn sleep_action(v: &mut Validator<'_>, value: &Spanned<String>) -> Duration {
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

/// `redeliver = "STEP"` / `replay = "STEP"`: an earlier step that sent requests.
pub(super) fn resend_source(
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

pub(super) fn check_resend_target(
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
