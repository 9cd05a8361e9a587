//! `payload`, `payload_file` and `envelope`: JSON templates and files.

use super::prelude::*;
use super::templates::*;
use super::validator::*;

pub(super) fn read_payload_file(
    v: &mut Validator<'_>,
    value: &Spanned<String>,
) -> Option<serde_json::Value> {
    let (Some(dir), Some(root)) = (v.base_dir, v.root) else {
        v.error_help(
            value.span(),
            "`payload_file` needs a scenario file on disk",
            "no directory to resolve it from",
            "built-in scenarios cannot use payload_file; use `payload` instead",
        );
        return None;
    };
    let given = Path::new(value.get_ref());
    let shown = dir.join(given).display().to_string();
    // Named with the reason, never with its contents.
    let bytes = match root.read_named(dir, given, limits::MAX_FILE) {
        Ok(bytes) => bytes,
        Err(refusal) => {
            let help = match refusal {
                Refusal::Io(_) => "payload_file is relative to the scenario file".to_owned(),
                _ => format!(
                    "payload_file names a regular file inside the file root `{}` (the folder \
                     of the scenario files unless --file-root DIR says otherwise), by a path \
                     relative to the scenario file",
                    root.shown().display()
                ),
            };
            v.error_help(
                value.span(),
                format!("cannot read `{shown}`: {refusal}"),
                "this file",
                help,
            );
            return None;
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(json) if json.is_object() => Some(json),
        Ok(_) => {
            v.error(
                value.span(),
                format!("`{shown}` is not a JSON object"),
                "its content is merged over the payload, so it must be an object",
            );
            None
        }
        Err(err) => {
            v.error(
                value.span(),
                format!("`{shown}` is not JSON: {err}"),
                "this file",
            );
            None
        }
    }
}

pub(super) fn json_table(
    v: &mut Validator<'_>,
    node: &JsonNode,
    what: &str,
    scope: &Scope<'_>,
) -> Option<JsonTemplate> {
    if !matches!(node.kind, JsonKind::Table(_)) {
        v.error_help(
            node.span.clone(),
            format!("`{what}` must be a table"),
            "not a table",
            format!("write e.g. {what} = {{ pnrId = \"1234567890\" }}"),
        );
        return None;
    }
    json_value(v, node, scope)
}

pub(super) fn json_value(
    v: &mut Validator<'_>,
    node: &JsonNode,
    scope: &Scope<'_>,
) -> Option<JsonTemplate> {
    Some(match &node.kind {
        JsonKind::Bool(b) => JsonTemplate::Bool(*b),
        JsonKind::Int(i) => JsonTemplate::Number((*i).into()),
        JsonKind::Float(f) => JsonTemplate::Number(serde_json::Number::from_f64(*f)?),
        JsonKind::String(s) => {
            let located = v.template_at(s, node.span.clone())?;
            v.check_refs(&located, scope);
            v.expansion_fits(&located);
            JsonTemplate::String(located.template)
        }
        JsonKind::Array(items) => {
            let parts: Vec<Option<JsonTemplate>> =
                items.iter().map(|i| json_value(v, i, scope)).collect();
            JsonTemplate::Array(parts.into_iter().collect::<Option<_>>()?)
        }
        JsonKind::Table(entries) => {
            let parts: Vec<Option<(String, JsonTemplate)>> = entries
                .iter()
                .map(|(k, val)| json_value(v, val, scope).map(|t| (k.get_ref().clone(), t)))
                .collect();
            JsonTemplate::Object(parts.into_iter().collect::<Option<_>>()?)
        }
    })
}
