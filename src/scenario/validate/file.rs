//! A whole scenario file: the header, then each step.

use super::header::*;
use super::prelude::*;
use super::steps::*;
use super::templates::*;
use super::validator::*;

/// Validates a parsed file.
pub(crate) fn validate(v: &mut Validator<'_>, raw: RawScenario) -> Option<Scenario> {
    let id_ok = check_id(v, &raw.id);
    let level = choice(
        v,
        &raw.level,
        "level",
        &[
            ("required", Level::Required),
            ("recommended", Level::Recommended),
        ],
    );
    non_empty_texts(v, &raw);
    let tags = tags(v, &raw.tags);
    let requires = capabilities(v, &raw.requires);
    let state = requires.contains(&Capability::State);
    let oauth = requires.contains(&Capability::OAuth);
    let hmac = requires.contains(&Capability::Hmac);
    let diagnosis = raw
        .diagnosis
        .as_ref()
        .and_then(|d| choice(v, d, "diagnosis", &DiagnosisKind::ALL));
    // (measures time, loads the endpoint): what the scheduler must keep apart.
    let (measures_time, loads_endpoint) = raw
        .schedule
        .as_ref()
        .and_then(|s| {
            choice(
                v,
                s,
                "schedule",
                &[("timing", (true, false)), ("load", (false, true))],
            )
        })
        .unwrap_or_default();
    // Steps: names first, so references can be checked in any order.
    v.step_names = step_names(v, &raw.step);
    let all_vars: Vec<String> = raw
        .vars
        .as_ref()
        .map(|t| t.0.iter().map(|(k, _)| k.get_ref().clone()).collect())
        .unwrap_or_default();
    let (vars, var_names) = variables(v, raw.vars.as_ref(), &all_vars, state, oauth);

    let mut steps: Vec<Step> = Vec::new();
    for (index, raw_step) in raw.step.iter().enumerate() {
        let scope = Scope {
            vars: &var_names,
            all_vars: &all_vars,
            current_step: Some(index),
            state,
            oauth,
            own_values: false,
        };
        if let Some(step) = validate_step(v, raw_step, index, &scope, &raw.step) {
            steps.push(step);
        }
    }

    let stories = crate::scenario::booking::stories(v.file, v.text, &raw.step);
    v.problems.extend(stories.errors);
    v.warnings.extend(stories.warnings);

    let ok = v.problems.is_empty() && id_ok;
    let level = level?;
    ok.then(|| Scenario {
        info: CheckInfo {
            id: raw.id.get_ref().clone(),
            title: raw.title.get_ref().trim().to_owned(),
            level,
            why: raw.why.get_ref().trim().to_owned(),
            fix: raw.fix.get_ref().trim().to_owned(),
            tags,
            needs: crate::check::Needs {
                // Declared, never inferred from the id: `requires = ["hmac"]`.
                hmac,
                state_url: state,
                oauth,
                whole_run: false,
                measures_time,
                loads_endpoint,
            },
            diagnosis,
        },
        requires,
        vars,
        steps,
        budget: v.budget,
        warnings: std::mem::take(&mut v.warnings),
        origin: Origin {
            file: v.file.to_owned(),
            builtin: false,
            text: Arc::clone(v.text),
            id_span: raw.id.span(),
        },
    })
}
