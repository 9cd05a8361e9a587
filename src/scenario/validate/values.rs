//! Plain values: spans of keys and header names, durations, offsets, header names.

use super::prelude::*;
use super::validator::*;

/// The span of `key = …` for a value span: back up over `key = ` when it is there.
pub(super) fn key_span(v: &Validator<'_>, value: Range<usize>, key: &str) -> Range<usize> {
    let before = &v.text[..value.start.min(v.text.len())];
    let trimmed = before.trim_end();
    if let Some(eq) = trimmed.strip_suffix('=') {
        let eq_trimmed = eq.trim_end();
        if eq_trimmed.ends_with(key) {
            return eq_trimmed.len() - key.len()..value.end;
        }
    }
    value
}

/// For a `[[step]]` table, point at its header line (the nearest `[[step]]` before it).
pub(super) fn header_span(v: &Validator<'_>, span: Range<usize>) -> Range<usize> {
    let upto = span.start.min(v.text.len());
    let head = v.text[..upto]
        .rfind("[[step]]")
        .or_else(|| v.text[upto..].find("[[step]]").map(|i| i + upto));
    match head {
        Some(start) => start..start + "[[step]]".len(),
        None => span,
    }
}

/// Parses a string value, reporting "`text` is not WHAT" with the parser's error.
pub(super) fn parsed<T, E: std::fmt::Display>(
    v: &mut Validator<'_>,
    value: &Spanned<String>,
    what: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    match parse(value.get_ref()) {
        Ok(parsed) => Some(parsed),
        Err(err) => {
            v.error(
                value.span(),
                format!("`{}` is not {what}", value.get_ref()),
                err.to_string(),
            );
            None
        }
    }
}

pub(super) fn duration(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<Duration> {
    parsed(v, value, "a duration", parse_duration)
}

pub(super) fn within(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<Duration> {
    let d = duration(v, value)?;
    if d > limits::MAX_WITHIN {
        v.error(
            value.span(),
            format!("{} is over the limit", value.get_ref()),
            "at most 10m",
        );
    }
    if d.is_zero() {
        v.error(
            value.span(),
            "a time limit of zero can never be met",
            "must be more than 0",
        );
    }
    Some(d)
}

pub(super) fn offset(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<Offset> {
    parsed(v, value, "a time offset", Offset::parse)
}

/// The one header-name rule (RFC 9110 token), shared with `--header` and the project file.
pub(super) use crate::wire::is_header_name;

pub(super) fn count(
    v: &mut Validator<'_>,
    value: Option<&Spanned<i64>>,
    what: &str,
    max: u32,
) -> u32 {
    let Some(value) = value else { return 1 };
    let n = *value.get_ref();
    if n < 1 {
        v.error(
            value.span(),
            format!("`{what}` must be at least 1"),
            format!("{n} is too small"),
        );
        1
    } else if n > i64::from(max) {
        v.error_help(
            value.span(),
            format!("`{what}` of {n} is over the limit"),
            format!("at most {max}"),
            format!("{what} is limited to {max} so that a scenario cannot flood an endpoint by mistake; use `spotcheck load` for load tests"),
        );
        1
    } else {
        n as u32
    }
}
