//! Where an `observe` step may read: only the run's `--state-url` origin (scheme, host
//! and port).
//!
//! A scenario file can arrive in a pull request. An observation sent anywhere else would
//! carry the read-back endpoint's credentials (`--state-header`) to that host and bring
//! its answer into the terminal and the reports, so the URL is held to the state origin
//! three times: its form when the file is loaded (`classify`: a path, `{{ state_url
//! }}/…`, or an absolute URL written out), an absolute URL's origin once `--state-url`
//! is known ([`check_origins`], before anything is sent), and the rendered URL right
//! before it is sent ([`resolve`]), which also catches what a template value could do.

use std::ops::Range;

use url::Url;

use super::diagnostic::{Problem, ScenarioError};
use super::model::{Action, ObserveTarget, Scenario};
use super::template::{Expr, Part, Template};

/// Why an observe URL's form is refused; `span` is relative to the URL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormError {
    pub span: Range<usize>,
    pub message: String,
    pub label: String,
    pub help: String,
}

/// The hint every refused observe URL carries.
const PATH_HINT: &str = "write the path under --state-url, e.g. observe = \"GET /pnrs/{{ pnr }}\" \
                         (a path is appended to --state-url; observations read only from its origin)";

/// Reads the form of an observe URL: a path, `{{ state_url }}` then `/`, `?` or `#`, or
/// an absolute `http(s)://` URL whose host is written out (not a template value).
pub(crate) fn classify(url: &Template) -> Result<ObserveTarget, FormError> {
    let parts = url.parts();
    match parts.first() {
        None => Ok(ObserveTarget::Path),
        Some(Part::Expr {
            expr: Expr::StateUrl,
            span,
        }) => match parts.get(1) {
            None => Ok(ObserveTarget::StateUrl),
            Some(Part::Literal(text)) if text.starts_with(['/', '?', '#']) => {
                Ok(ObserveTarget::StateUrl)
            }
            Some(_) => Err(FormError {
                span: span.end..span.end + 1,
                message: "after `{{ state_url }}` an observe URL goes on with `/`".to_owned(),
                label: "anything else here can change the host".to_owned(),
                help: PATH_HINT.to_owned(),
            }),
        },
        Some(Part::Expr { span, .. }) => Err(FormError {
            span: span.clone(),
            message: "an observe URL starts with a path or `{{ state_url }}`".to_owned(),
            label: "a value here could name another host".to_owned(),
            help: PATH_HINT.to_owned(),
        }),
        Some(Part::Literal(text)) => literal_start(text, parts.len() > 1),
    }
}

/// The form of a URL that starts with literal `text` (`more`: template parts follow).
fn literal_start(text: &str, more: bool) -> Result<ObserveTarget, FormError> {
    let Some(scheme_end) = scheme_end(text) else {
        let host_like = ["//", "\\\\", "/\\", "\\/"]
            .iter()
            .any(|start| text.starts_with(start));
        if host_like {
            return Err(FormError {
                span: 0..2,
                message: "an observe path cannot start with `//` (it reads as a host)".to_owned(),
                label: "a host, not a path".to_owned(),
                help: PATH_HINT.to_owned(),
            });
        }
        return Ok(ObserveTarget::Path);
    };
    let scheme = text[..scheme_end].to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(FormError {
            span: 0..scheme_end,
            message: format!("`{scheme}:` URLs cannot be observed"),
            label: "expected a path, or http:// or https://".to_owned(),
            help: PATH_HINT.to_owned(),
        });
    }
    let after = &text[scheme_end + 1..];
    let Some(authority) = after.strip_prefix("//") else {
        return Err(FormError {
            span: 0..scheme_end + 1,
            message: format!("`{scheme}:` is not followed by `//host`"),
            label: "expected a path, or http(s)://host/…".to_owned(),
            help: PATH_HINT.to_owned(),
        });
    };
    let authority_start = scheme_end + 3;
    let authority_end = match authority.find(['/', '?', '#', '\\']) {
        Some(end) => authority_start + end,
        None if more => {
            return Err(FormError {
                span: authority_start..text.len(),
                message: "the host of an observe URL must be written out, not made by a template"
                    .to_owned(),
                label: "the host goes on into a template value".to_owned(),
                help: PATH_HINT.to_owned(),
            });
        }
        None => text.len(),
    };
    let origin = Url::parse(&text[..authority_end])
        .map(|url| url.origin().ascii_serialization())
        .map_err(|err| FormError {
            span: 0..authority_end,
            message: format!("not a valid URL: {err}"),
            label: "expected http(s)://host[:port]/…".to_owned(),
            help: PATH_HINT.to_owned(),
        })?;
    Ok(ObserveTarget::Absolute { origin })
}

/// Where a URL scheme's `:` is, when `text` starts with one (`scheme:`, letters first,
/// before any `/`, `?` or `#`).
fn scheme_end(text: &str) -> Option<usize> {
    let end = text.find(':')?;
    let scheme = &text[..end];
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    (first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))).then_some(end)
}

/// The origin (`scheme://host[:port]`) of an `http(s)` URL such as `--state-url`.
pub fn origin_of(url: &str) -> Result<String, OriginError> {
    let parsed = Url::parse(url).map_err(|err| OriginError::Invalid {
        url: url.to_owned(),
        reason: err.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(OriginError::NotHttp {
            url: url.to_owned(),
        });
    }
    Ok(parsed.origin().ascii_serialization())
}

/// Why a URL has no origin observations can be held to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not a URL.
    #[error("`{url}` is not a valid URL: {reason}")]
    Invalid {
        /// The URL as given.
        url: String,
        /// What the URL parser said.
        reason: String,
    },
    /// Not `http://` or `https://`.
    #[error("`{url}` is not an http:// or https:// URL")]
    NotHttp {
        /// The URL as given.
        url: String,
    },
    /// The observation URL is on another origin than the state URL.
    #[error("`{url}` is not on the state URL's origin {expected}; nothing was sent")]
    OffOrigin {
        /// The observation URL.
        url: String,
        /// The state URL's origin.
        expected: String,
    },
}

/// Checks every absolute `observe` URL of `scenarios` against `state_url`'s origin,
/// before anything is sent: one problem per URL on another origin, or per absolute URL
/// when there is no state URL to hold it to (then only paths and `{{ state_url }}` can
/// be observed). `state_url` must be a valid `http(s)` URL (see [`origin_of`]).
pub fn check_origins(scenarios: &[Scenario], state_url: Option<&str>) -> Result<(), ScenarioError> {
    let expected = state_url.and_then(|url| origin_of(url).ok());
    let mut problems = Vec::new();
    for scenario in scenarios {
        for step in &scenario.steps {
            let Action::Observe(observe) = &step.action else {
                continue;
            };
            let ObserveTarget::Absolute { origin } = &observe.target else {
                continue;
            };
            let file = &scenario.origin.file;
            let text = &scenario.origin.text;
            let span = observe.url_span.clone();
            let problem = match &expected {
                Some(expected) if expected == origin => continue,
                Some(expected) => Problem::at(
                    file,
                    text,
                    span,
                    format!("`observe` reads only from the --state-url origin {expected}"),
                    format!("this URL is on {origin}"),
                ),
                None => Problem::at(
                    file,
                    text,
                    span,
                    "an absolute `observe` URL needs --state-url to be checked against",
                    format!("this URL is on {origin}; no --state-url was given"),
                ),
            };
            problems.push(problem.with_help(PATH_HINT));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ScenarioError { problems })
    }
}

/// The URL an observe step GETs: `rendered` (its template rendered) appended to
/// `state_url` for a path, as it is otherwise; refused unless it is on `state_url`'s
/// origin, so nothing is sent anywhere else whatever a template value holds.
pub fn resolve(
    target: &ObserveTarget,
    rendered: &str,
    state_url: &str,
) -> Result<String, OriginError> {
    let expected = origin_of(state_url)?;
    let url = match target {
        ObserveTarget::Path => append_path(state_url, rendered)?,
        ObserveTarget::StateUrl | ObserveTarget::Absolute { .. } => rendered.to_owned(),
    };
    match origin_of(&url) {
        Ok(origin) if origin == expected => Ok(url),
        _ => Err(OriginError::OffOrigin { url, expected }),
    }
}

/// `state_url` with `path` (which may carry its own `?query` and `#fragment`) added to
/// its path; both queries are kept.
fn append_path(state_url: &str, path: &str) -> Result<String, OriginError> {
    let mut url = Url::parse(state_url).map_err(|err| OriginError::Invalid {
        url: state_url.to_owned(),
        reason: err.to_string(),
    })?;
    let (rest, fragment) = match path.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (path, None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let joined = format!(
        "{}/{}",
        url.path().trim_end_matches('/'),
        path.trim_start_matches(['/', '\\'])
    );
    url.set_path(&joined);
    let query = match (url.query(), query) {
        (Some(base), Some(own)) if !own.is_empty() => Some(format!("{base}&{own}")),
        (Some(base), _) => Some(base.to_owned()),
        (None, own) => own.map(str::to_owned),
    };
    url.set_query(query.as_deref());
    url.set_fragment(fragment);
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(url: &str) -> Result<ObserveTarget, FormError> {
        classify(&Template::parse(url).unwrap())
    }

    #[test]
    fn paths_and_the_state_url_are_on_the_state_origin_by_construction() {
        assert_eq!(form("/pnrs/{{ pnr }}"), Ok(ObserveTarget::Path));
        assert_eq!(form("webhooks/{{ id }}"), Ok(ObserveTarget::Path));
        assert_eq!(form("{{ state_url }}/pnrs/1"), Ok(ObserveTarget::StateUrl));
        assert_eq!(form("{{ state_url }}"), Ok(ObserveTarget::StateUrl));
        assert_eq!(
            form("HTTP://127.0.0.1:8080/state/{{ id }}"),
            Ok(ObserveTarget::Absolute {
                origin: "http://127.0.0.1:8080".to_owned()
            })
        );
        assert_eq!(
            form("https://partner.example:443/x"),
            Ok(ObserveTarget::Absolute {
                origin: "https://partner.example".to_owned()
            })
        );
    }

    #[test]
    fn forms_that_could_name_another_host_are_refused_where_they_are() {
        let refused = |url: &str| form(url).unwrap_err();
        // `{{ state_url }}@evil` or `.evil` would move the host.
        assert_eq!(refused("{{ state_url }}@evil.example/").span, 15..16);
        assert_eq!(refused("{{ state_url }}{{ x }}").span, 15..16);
        assert_eq!(refused("{{ base }}/x").span, 0..10);
        assert_eq!(refused("//evil.example/x").span, 0..2);
        assert_eq!(refused("ftp://evil.example/x").span, 0..3);
        assert_eq!(refused("http:evil.example").span, 0..5);
        let templated_host = refused("http://{{ host }}/x");
        assert!(templated_host.message.contains("written out"));
        // userinfo does not hide the host: the origin is the real host's.
        assert_eq!(
            form("http://127.0.0.1:1@evil.example/x"),
            Ok(ObserveTarget::Absolute {
                origin: "http://evil.example".to_owned()
            })
        );
    }

    #[test]
    fn a_path_is_appended_to_the_state_url_and_keeps_its_query() {
        let path = ObserveTarget::Path;
        let state = "http://127.0.0.1:9/state";
        assert_eq!(
            resolve(&path, "/pnrs/1", state).unwrap(),
            "http://127.0.0.1:9/state/pnrs/1"
        );
        assert_eq!(
            resolve(&path, "pnrs/1?x=1", "http://127.0.0.1:9/state/?code=k").unwrap(),
            "http://127.0.0.1:9/state/pnrs/1?code=k&x=1"
        );
        // A rendered value cannot leave the origin through a path.
        assert_eq!(
            resolve(&path, "//evil.example/x", state).unwrap(),
            "http://127.0.0.1:9/state/evil.example/x"
        );
        assert_eq!(
            resolve(&path, "@evil.example", "http://127.0.0.1:9").unwrap(),
            "http://127.0.0.1:9/@evil.example"
        );
    }

    #[test]
    fn a_rendered_url_on_another_origin_is_refused() {
        let state = "http://127.0.0.1:9/state";
        let absolute = ObserveTarget::Absolute {
            origin: "http://127.0.0.1:9".to_owned(),
        };
        assert!(resolve(&absolute, "http://127.0.0.1:9/state/x", state).is_ok());
        let other = resolve(&absolute, "http://127.0.0.1:10/state/x", state).unwrap_err();
        assert_eq!(
            other.to_string(),
            "`http://127.0.0.1:10/state/x` is not on the state URL's origin \
             http://127.0.0.1:9; nothing was sent"
        );
        assert!(resolve(&ObserveTarget::StateUrl, "http://127.0.0.1:9@evil/x", state).is_err());
        assert!(resolve(&ObserveTarget::StateUrl, "https://127.0.0.1:9/x", state).is_err());
    }
}
