//! TOML and serde errors turned into [`Problem`]s: a plain message, the exact span
//! and a "did you mean".

use std::sync::Arc;

use crate::event::catalogue::closest;

use super::diagnostic::Problem;
use super::raw::{EXPECT_KEYS, PRECONDITION_KEYS, SCENARIO_KEYS, STEP_KEYS};

/// Turns a TOML/serde error into a problem with a plain message and a suggestion.
pub(crate) fn toml_problem(name: &str, text: &Arc<str>, err: &toml::de::Error) -> Problem {
    let message = err.message().trim().to_owned();
    let span = err.span().unwrap_or(0..0);
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, tail)) = rest.split_once('`')
    {
        let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let (table, keys) = which_table(&expected);
        let mut label = String::from("unknown key");
        if let Some(s) = closest(field, keys.iter().copied()) {
            label = format!("did you mean `{s}`?");
        }
        let mut help = format!("{table} keys are: {}", keys.join(", "));
        if field == "within" && table == "step" {
            help = format!(
                "`within` belongs in the expectation: expect = {{ status = 200, within = \"2s\" }}; {help}"
            );
        }
        return Problem::at(
            name,
            text,
            span,
            format!("unknown key `{field}` in {table}"),
            label,
        )
        .with_help(help);
    }
    if let Some((what, accepted)) = message.split_once("; expected a status code") {
        let (accepted, suggestion) = match accepted.split_once(" (did you mean ") {
            Some((list, rest)) => (list, Some(rest.trim_end_matches(')').trim_end_matches('?'))),
            None => (accepted, None),
        };
        let label = suggestion.map_or("not a status".to_owned(), |s| format!("did you mean {s}?"));
        return Problem::at(
            name,
            text,
            span,
            format!("{what} in `expect.status`"),
            label,
        )
        .with_help(format!("expected a status code{accepted}"));
    }
    if message.contains("$__toml_private_datetime") {
        return Problem::at(
            name,
            text,
            span,
            "a TOML date-time cannot be used here",
            "date-time",
        )
        .with_help(
            "JSON has no date type: write the date as a string, e.g. \"2026-11-29T10:15:30Z\"",
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        return Problem::at(
            name,
            text,
            span,
            format!("missing key `{field}`"),
            "in this table",
        )
        .with_help("a scenario needs id, title, level, why and fix, and one [[step]] or more");
    }
    let friendly = message
        .replace("expected i64", "expected an integer")
        .replace("expected u32", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("expected struct RawStep", "expected a [[step]] table")
        .replace(
            "expected struct RawExpect",
            "expected a table such as { status = 200 }",
        )
        .replace("expected a string or map", "expected a string");
    let is_syntax = err.span().is_some()
        && !friendly.starts_with("invalid type")
        && !friendly.contains("status");
    let label = if friendly.starts_with("invalid type") {
        "wrong type"
    } else if is_syntax {
        "here"
    } else {
        ""
    };
    let mut p = Problem::at(name, text, span, friendly.clone(), label);
    if is_syntax && !friendly.contains("expected") && !friendly.contains("duplicate") {
        p = p.with_help("this is not valid TOML; see https://toml.io");
    }
    p
}

/// Names the table that has exactly these keys.
fn which_table(expected: &[&str]) -> (&'static str, &'static [&'static str]) {
    for (name, keys) in [
        ("step", STEP_KEYS),
        ("expect", EXPECT_KEYS),
        ("precondition", PRECONDITION_KEYS),
        ("scenario", SCENARIO_KEYS),
    ] {
        if expected.iter().all(|k| keys.contains(k)) && expected.len() == keys.len() {
            return (name, keys);
        }
    }
    if expected.iter().all(|k| STEP_KEYS.contains(k)) && expected.contains(&"send") {
        ("step", STEP_KEYS)
    } else if expected.contains(&"status") {
        ("expect", EXPECT_KEYS)
    } else {
        ("scenario", SCENARIO_KEYS)
    }
}
