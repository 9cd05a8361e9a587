//! `[steps.expect]`: what the answer must be.

use super::*;

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
