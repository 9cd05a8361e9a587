//! The legacy OAuth keys: `token` steps and `authorization`, only with `requires = ["oauth"]`.

use super::prelude::*;
use super::templates::*;
use super::validator::*;
use super::values::*;

/// `authorization = "issued" | "none" | "forged"`, only when the scenario requires OAuth.
pub(super) fn authorization(
    v: &mut Validator<'_>,
    raw: &RawStep,
    scope: &Scope<'_>,
) -> Authorization {
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

pub(super) fn needs_oauth(
    v: &mut Validator<'_>,
    span: Range<usize>,
    what: &str,
    scope: &Scope<'_>,
) {
    if !scope.oauth {
        v.error_help(
            span,
            format!("{what} is used but the scenario does not require OAuth"),
            "needs the legacy OAuth flow",
            "add `requires = [\"oauth\"]` at the top so runs without --oauth-token-url leave this check out",
        );
    }
}

pub(super) fn token_step(
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
