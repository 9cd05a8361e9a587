//! The scenario's header: `id`, the texts, `tags`, `requires`, the step names and `[vars]`.

use super::prelude::*;
use super::templates::*;
use super::validator::*;

/// `title`, `why` and `fix`: each a line a partner can act on.
pub(super) fn non_empty_texts(v: &mut Validator<'_>, raw: &RawScenario) {
    for (field, value) in [("title", &raw.title), ("why", &raw.why), ("fix", &raw.fix)] {
        if value.get_ref().trim().is_empty() {
            v.error(
                value.span(),
                format!("`{field}` is empty"),
                "write one line a partner can act on",
            );
        }
    }
}

/// The free tags for `--tags`: none empty.
pub(super) fn tags(v: &mut Validator<'_>, raw: &[Spanned<String>]) -> Vec<String> {
    raw.iter()
        .filter_map(|t| {
            if t.get_ref().trim().is_empty() {
                v.error(t.span(), "empty tag", "");
                None
            } else {
                Some(t.get_ref().clone())
            }
        })
        .collect()
}

/// `requires`: the capabilities the scenario needs (state, OAuth), each once.
pub(super) fn capabilities(v: &mut Validator<'_>, raw: &[Spanned<String>]) -> Vec<Capability> {
    let mut requires = Vec::new();
    for r in raw {
        if let Some(cap) = choice(
            v,
            r,
            "capability",
            &[
                ("state", Capability::State),
                ("oauth", Capability::OAuth),
                ("hmac", Capability::Hmac),
            ],
        ) && !requires.contains(&cap)
        {
            requires.push(cap);
        }
    }
    requires
}

/// The steps' count and their names (→ index): valid, unique.
pub(super) fn step_names(
    v: &mut Validator<'_>,
    steps: &[Spanned<RawStep>],
) -> HashMap<String, usize> {
    if steps.is_empty() {
        v.error_help(
            0..0,
            "the scenario has no steps",
            "add at least one [[step]]",
            "e.g.\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"",
        );
    }
    if steps.len() > limits::MAX_STEPS {
        let span = steps[limits::MAX_STEPS].span();
        v.error(
            span,
            format!(
                "too many steps: {} (at most {})",
                steps.len(),
                limits::MAX_STEPS
            ),
            "this one is over the limit",
        );
    }
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut name_spans: HashMap<String, Range<usize>> = HashMap::new();
    for (index, step) in steps.iter().enumerate() {
        let Some(name) = &step.get_ref().name else {
            continue;
        };
        if !is_identifier(name.get_ref()) {
            v.error_help(
                name.span(),
                format!("`{}` is not a step name", name.get_ref()),
                "",
                "a name has letters, digits, `_` and `-`, and starts with a letter or `_`",
            );
            continue;
        }
        if let Some(first) = name_spans.get(name.get_ref()) {
            let p = Problem::at(
                v.file,
                v.text,
                name.span(),
                format!("two steps are named `{}`", name.get_ref()),
                "second use",
            )
            .with_label(first.clone(), "first use")
            .with_help("step names must be unique");
            v.push(p);
            continue;
        }
        names.insert(name.get_ref().clone(), index);
        name_spans.insert(name.get_ref().clone(), name.span());
    }
    names
}

/// `[vars]`: valid names, none reserved, each a template that may use the variables
/// written before it. Returns the variables and their names in file order.
pub(super) fn variables(
    v: &mut Validator<'_>,
    table: Option<&OrderedTable<Spanned<String>>>,
    all_vars: &[String],
    state: bool,
    oauth: bool,
) -> (Vec<Var>, Vec<String>) {
    let mut vars: Vec<Var> = Vec::new();
    let mut var_names: Vec<String> = Vec::new();
    if let Some(table) = table {
        for (key, value) in &table.0 {
            if !is_identifier(key.get_ref()) {
                v.error_help(
                    key.span(),
                    format!("`{}` is not a variable name", key.get_ref()),
                    "",
                    "a name has letters, digits, `_` and `-`, and starts with a letter or `_`",
                );
                continue;
            }
            if matches!(key.get_ref().as_str(), "random" | "steps" | "state_url") {
                v.error(
                    key.span(),
                    format!("`{}` is a reserved name", key.get_ref()),
                    "choose another name",
                );
                continue;
            }
            let scope = Scope {
                vars: &var_names,
                all_vars,
                current_step: None,
                state,
                oauth,
                own_values: false,
            };
            if let Some(t) = v.template(value, &scope) {
                // A var over the limit is reported once, not again in each var using it.
                let size = v.text_size(&t);
                let size = if size.raw > v.limits.expansion {
                    TextSize::default()
                } else {
                    size
                };
                v.var_sizes.insert(key.get_ref().clone(), size);
                vars.push(Var {
                    name: key.get_ref().clone(),
                    value: t,
                });
            }
            var_names.push(key.get_ref().clone());
        }
    }

    (vars, var_names)
}

pub(super) fn check_id(v: &mut Validator<'_>, id: &Spanned<String>) -> bool {
    let text = id.get_ref();
    let well_formed = text.split_once('.').is_some_and(|(suite, name)| {
        !suite.is_empty()
            && !name.is_empty()
            && !name.starts_with('.')
            && !text.ends_with('.')
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    });
    if !well_formed {
        v.error_help(
            id.span(),
            format!("`{text}` is not a check id"),
            "expected `suite.name`",
            "ids are `suite.name` in lowercase letters, digits and `-`, e.g. \"ordering.out-of-order-accepted\"",
        );
    }
    well_formed
}
