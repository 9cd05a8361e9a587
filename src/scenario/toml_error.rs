//! TOML and serde errors turned into [`Problem`]s: a plain message, the exact span
//! and a "did you mean".
//!
//! toml's error carries a message and a span, no kind. What went wrong is read from the
//! document instead: the span is looked up in the untyped, spanned parse of the same
//! text ([`Site`]), so "an unknown key", "a missing key", "a date-time" or "a bad
//! `status`" is decided by what stands there and by the keys our model knows, not by
//! toml's wording.

use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::event::catalogue::closest;

use super::diagnostic::Problem;
use super::raw::{EXPECT_KEYS, PRECONDITION_KEYS, SCENARIO_KEYS, SCENARIO_REQUIRED, STEP_KEYS};
use super::status::{ACCEPTED, StatusExpect, Written};

/// Turns a TOML/serde error into a problem with a plain message and a suggestion.
pub(crate) fn toml_problem(name: &str, text: &Arc<str>, err: &toml::de::Error) -> Problem {
    let message = err.message().trim().to_owned();
    let span = err.span().unwrap_or(0..0);
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        // The text is not TOML at all.
        Err(_) => return syntax_problem(name, text, &message, err.span()),
    };
    let site = err.span().and_then(|span| Site::find(&document, &span));
    match site {
        Some(Site::Key { table, key }) => {
            if let Some((table_name, keys)) = table.name_and_keys()
                && !keys.contains(&key)
            {
                return unknown_key(name, text, span, key, table_name, keys);
            }
        }
        Some(Site::Value { table, key, value }) => {
            // Where any TOML value goes (JSON), a date-time is the one that does not;
            // elsewhere it is just a wrong type.
            if value.is_datetime() && table == Table::Json {
                return datetime(name, text, span);
            }
            if key == "status"
                && matches!(table, Table::Expect | Table::Precondition)
                && let Some(problem) = bad_status(name, text, span.clone(), value)
            {
                return problem;
            }
        }
        Some(Site::Document { keys }) => {
            if let Some(missing) = SCENARIO_REQUIRED.iter().find(|k| !keys.contains(k)) {
                return missing_key(name, text, span, missing);
            }
        }
        None => {}
    }
    data_problem(name, text, &message, err.span())
}

/// A table of the scenario model, as the document nests it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    /// The top level.
    Scenario,
    /// A `[[step]]`.
    Step,
    /// A step's `expect`.
    Expect,
    /// A step's `precondition`.
    Precondition,
    /// A JSON value written in TOML (`payload`, `envelope`, `expect.json`): any TOML
    /// value goes, except a date-time, which JSON lacks.
    Json,
    /// Any other table whose keys are the user's (`vars`, `header`): string values.
    Other,
}

impl Table {
    /// The table under `key` of this one.
    fn child(self, key: &str) -> Table {
        match (self, key) {
            (Table::Scenario, "step") => Table::Step,
            (Table::Step, "expect") => Table::Expect,
            (Table::Step, "precondition") => Table::Precondition,
            (Table::Step, "payload" | "envelope") | (Table::Expect, "json") | (Table::Json, _) => {
                Table::Json
            }
            _ => Table::Other,
        }
    }

    /// Its name in messages and the keys it accepts; `None` for free-form tables.
    fn name_and_keys(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            Table::Scenario => Some(("scenario", SCENARIO_KEYS)),
            Table::Step => Some(("step", STEP_KEYS)),
            Table::Expect => Some(("expect", EXPECT_KEYS)),
            Table::Precondition => Some(("precondition", PRECONDITION_KEYS)),
            Table::Json | Table::Other => None,
        }
    }
}

/// What the document holds exactly at an error's span.
enum Site<'d> {
    /// A key of `table`.
    Key { table: Table, key: &'d str },
    /// The value of `key` in `table` (the innermost one at the span).
    Value {
        table: Table,
        key: &'d str,
        value: &'d DeValue<'d>,
    },
    /// The whole document (serde reports a missing top-level key there), with the keys
    /// it has.
    Document { keys: Vec<&'d str> },
}

impl<'d> Site<'d> {
    fn find(document: &'d Spanned<DeTable<'d>>, span: &Range<usize>) -> Option<Site<'d>> {
        Site::in_table(document.get_ref(), span, Table::Scenario).or_else(|| {
            // serde points a key missing at the top level at the whole document (or
            // its start).
            (span.start == 0 || document.span() == *span).then(|| Site::Document {
                keys: document
                    .get_ref()
                    .keys()
                    .map(|k| k.get_ref().as_ref())
                    .collect(),
            })
        })
    }

    fn in_table(entries: &'d DeTable<'d>, span: &Range<usize>, table: Table) -> Option<Site<'d>> {
        for (key, value) in entries.iter() {
            if key.span() == *span {
                return Some(Site::Key {
                    table,
                    key: key.get_ref().as_ref(),
                });
            }
            // No containment test: an array of tables' span is its first header only.
            let child = table.child(key.get_ref());
            if let Some(inner) = Site::in_value(key.get_ref(), value, span, child) {
                return Some(inner);
            }
            if value.span() == *span {
                return Some(Site::Value {
                    table,
                    key: key.get_ref().as_ref(),
                    value: value.get_ref(),
                });
            }
        }
        None
    }

    /// A site inside the value of `key` (a table's entries, an array's items) at `span`;
    /// an array item counts as a value of `key`.
    fn in_value(
        key: &'d str,
        value: &'d Spanned<DeValue<'d>>,
        span: &Range<usize>,
        table: Table,
    ) -> Option<Site<'d>> {
        match value.get_ref() {
            DeValue::Table(entries) => Site::in_table(entries, span, table),
            DeValue::Array(items) => items.iter().find_map(|item| {
                Site::in_value(key, item, span, table).or_else(|| {
                    (item.span() == *span).then(|| Site::Value {
                        table,
                        key,
                        value: item.get_ref(),
                    })
                })
            }),
            _ => None,
        }
    }
}

fn unknown_key(
    name: &str,
    text: &Arc<str>,
    span: Range<usize>,
    field: &str,
    table: &str,
    keys: &[&str],
) -> Problem {
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
    Problem::at(
        name,
        text,
        span,
        format!("unknown key `{field}` in {table}"),
        label,
    )
    .with_help(help)
}

/// A `status` our own rule refuses, checked again on the value as the document holds
/// it, so the problem is built from the typed [`super::StatusError`].
fn bad_status(
    name: &str,
    text: &Arc<str>,
    span: Range<usize>,
    value: &DeValue<'_>,
) -> Option<Problem> {
    let written = match value {
        DeValue::Integer(n) => Written::Integer(i64::from_str_radix(n.as_str(), n.radix()).ok()?),
        DeValue::String(s) => Written::Text(s),
        DeValue::Boolean(b) => Written::Bool(*b),
        DeValue::Float(f) => Written::Float(f.as_str().parse().ok()?),
        // serde hands a date-time to the status rule as a table.
        DeValue::Table(_) | DeValue::Datetime(_) => Written::Table,
        DeValue::Array(items) => Written::List(
            items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::Integer(n) => i64::from_str_radix(n.as_str(), n.radix()).ok(),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        ),
    };
    let err = StatusExpect::from_written(written).err()?;
    let label = err.suggestion.map_or("not a status".to_owned(), |s| {
        format!("did you mean \"{s}\"?")
    });
    Some(
        Problem::at(
            name,
            text,
            span,
            format!("{} in `expect.status`", err.what),
            label,
        )
        .with_help(ACCEPTED),
    )
}

fn datetime(name: &str, text: &Arc<str>, span: Range<usize>) -> Problem {
    Problem::at(
        name,
        text,
        span,
        "a TOML date-time cannot be used here",
        "date-time",
    )
    .with_help("JSON has no date type: write the date as a string, e.g. \"2026-11-29T10:15:30Z\"")
}

fn missing_key(name: &str, text: &Arc<str>, span: Range<usize>, field: &str) -> Problem {
    Problem::at(
        name,
        text,
        span,
        format!("missing key `{field}`"),
        "in this table",
    )
    .with_help("a scenario needs id, title, level, why and fix, and one [[step]] or more")
}

/// Text that is not TOML: toml's own message at its position, and where to read the
/// syntax unless the message already says what was expected.
fn syntax_problem(
    name: &str,
    text: &Arc<str>,
    message: &str,
    span: Option<Range<usize>>,
) -> Problem {
    let located = span.is_some();
    let label = if located { "here" } else { "" };
    let mut p = Problem::at(name, text, span.unwrap_or(0..0), message, label);
    if located && !message.contains("expected") && !message.contains("duplicate") {
        p = p.with_help("this is not valid TOML; see https://toml.io");
    }
    p
}

/// Valid TOML that does not fit the model in a way the document cannot show (a wrong
/// type, a number out of range): serde's message in our words.
fn data_problem(name: &str, text: &Arc<str>, message: &str, span: Option<Range<usize>>) -> Problem {
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
    let label = if friendly.starts_with("invalid type") {
        "wrong type"
    } else if span.is_some() {
        "here"
    } else {
        ""
    };
    Problem::at(name, text, span.unwrap_or(0..0), friendly, label)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::toml_problem;
    use crate::scenario::diagnostic::ScenarioError;
    use crate::scenario::raw::RawScenario;

    const HEAD: &str =
        "id = \"custom.x\"\ntitle = \"t\"\nlevel = \"required\"\nwhy = \"w\"\nfix = \"f\"\n";

    /// The problem made of the error serde gives for `text`, rendered.
    fn shown(text: &str) -> String {
        let err = toml::from_str::<RawScenario>(text).unwrap_err();
        let shared: Arc<str> = Arc::from(text);
        ScenarioError::from(toml_problem("case.toml", &shared, &err)).render(false)
    }

    fn first_error(text: &str) -> String {
        shown(text).lines().next().unwrap_or("").trim().to_owned()
    }

    #[test]
    fn the_table_of_an_unknown_key_comes_from_the_document() {
        let text = format!("{HEAD}[[step]]\nsend = \"each\"\n[step.precondition]\nstatuz = 200\n");
        assert_eq!(first_error(&text), "× unknown key `statuz` in precondition");
    }

    #[test]
    fn a_bad_status_is_judged_by_the_status_rule() {
        let text = format!("{HEAD}[[step]]\nsend = \"each\"\nprecondition = {{ status = [] }}\n");
        assert_eq!(
            first_error(&text),
            "× an empty list matches no status in `expect.status`"
        );
    }

    #[test]
    fn a_date_time_is_named_only_where_json_goes() {
        let json =
            format!("{HEAD}[[step]]\nsend = \"each\"\nenvelope = {{ a = [1, 2026-01-01] }}\n");
        assert_eq!(first_error(&json), "× a TOML date-time cannot be used here");
        let header = format!("{HEAD}[[step]]\nsend = \"each\"\nheader = {{ A = 2026-01-01 }}\n");
        assert!(first_error(&header).starts_with("× invalid type"));
    }

    #[test]
    fn a_missing_key_is_the_first_required_one_the_document_lacks() {
        let text = HEAD.replace("why = \"w\"\n", "") + "[[step]]\nsend = \"each\"\n";
        assert_eq!(first_error(&text), "× missing key `why`");
    }

    #[test]
    fn text_that_is_not_toml_gets_its_syntax_error() {
        let text = format!("{HEAD}[[step]\n");
        let shown = shown(&text);
        assert!(shown.contains("here"), "{shown}");
    }
}
