//! Check ids are unique across every scenario of a run (built-in and the user's).

use std::collections::HashMap;

use super::diagnostic::{Problem, ScenarioError, line_column};
use super::model::Scenario;

/// Errors for every id defined twice (pointing at the second, naming the first).
pub fn check_unique_ids(scenarios: &[Scenario]) -> Result<(), ScenarioError> {
    let mut seen: HashMap<&str, &Scenario> = HashMap::new();
    let mut problems = Vec::new();
    for s in scenarios {
        if let Some(first) = seen.get(s.info.id.as_str()) {
            let (line, column) = line_column(&first.origin.text, first.origin.id_span.start);
            let where_first = if first.origin.builtin {
                format!("built-in check {} ({})", first.info.id, first.origin.file)
            } else {
                format!("{}:{line}:{column}", first.origin.file)
            };
            problems.push(
                Problem::at(
                    &s.origin.file,
                    &s.origin.text,
                    s.origin.id_span.clone(),
                    format!("duplicate check id `{}`", s.info.id),
                    "already defined",
                )
                .with_help(format!(
                    "first defined at {where_first}; check ids must be unique, give this one another name"
                )),
            );
        } else {
            seen.insert(&s.info.id, s);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ScenarioError { problems })
    }
}
