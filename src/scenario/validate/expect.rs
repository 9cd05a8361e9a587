//! `[steps.expect]`: what the answer must be.

use super::header::check_id;
use super::payload::*;
use super::prelude::*;
use super::templates::*;
use super::validator::*;
use super::values::*;

pub(super) fn validate_expect(
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

/// `precondition = { status = …, see = "check.id" }` on a send, redeliver, replay or
/// token step.
pub(super) fn precondition(
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
