//! `observe = "METHOD URL"`: the read-back of what the endpoint processed.

use super::prelude::*;
use super::templates::*;
use super::validator::*;

/// `observe = "GET URL"`: the only method is GET, the URL a template that stays on the
/// `--state-url` origin: a path (appended to `--state-url`), `{{ state_url }}/…`, or an
/// absolute URL whose origin is checked once `--state-url` is known
/// ([`crate::scenario::observe::check_origins`]). Each needs `requires = ["state"]`.
pub(super) fn observe_action(
    v: &mut Validator<'_>,
    value: &Spanned<String>,
    scope: &Scope<'_>,
) -> Observe {
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
            match crate::scenario::observe::classify(&url) {
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
