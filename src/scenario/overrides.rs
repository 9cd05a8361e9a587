//! Warnings for payload overrides Spotnana's schema rejects: a scenario step's
//! `payload = { … }` or `payload_file`, laid over the generated payload, must still be
//! something Spotnana could send, or the check tests a payload Spotnana never sends.
//!
//! Only what the override itself writes is judged (the values it sets, the arrays it
//! replaces, the objects it adds); the generated payload around it is the fixtures'
//! business. A string holding a template (`{{ random.pnr_id }}`, `{{ var }}`) is
//! known only at run time and is not judged.

use std::ops::Range;
use std::sync::Arc;

use serde_json::Value;

use super::diagnostic::Problem;
use super::json::{JsonKind, JsonNode};
use super::model::Product;
use super::template::Template;
use crate::event::fixtures::{self, FixtureContext};
use crate::event::schema::{PayloadSchema, Violation};
use crate::event::{EventKind, EventType, merge_patch, random};

/// A value the override writes, at a JSON pointer into the payload.
struct Written {
    pointer: String,
    /// Where it is in the scenario file.
    span: Range<usize>,
    /// An object (merged key by key with what is generated there).
    object: bool,
    /// A string holding a template.
    templated: bool,
}

/// The override of one send step, as read from its file.
pub(crate) struct Override<'a> {
    /// The scenario file's name and text.
    pub file: &'a str,
    /// The scenario file's text.
    pub text: &'a Arc<str>,
    /// `payload = { … }`, with spans.
    pub payload: Option<&'a JsonNode>,
    /// The JSON of `payload_file` and where the key is written.
    pub payload_file: Option<(&'a Value, Range<usize>)>,
    /// The step's `product` (PNR events).
    pub product: Option<Product>,
}

/// The warnings for one send step's override, for each event type it may send that
/// has a published schema (`send = "each"`: every one).
pub(crate) fn warnings(step: &Override<'_>, kinds: &[EventKind]) -> Vec<Problem> {
    let mut written: Vec<Written> = Vec::new();
    let mut patch: Option<Value> = None;
    if let Some((value, span)) = &step.payload_file {
        collect_file(value, String::new(), span, &mut written);
        patch = Some((*value).clone());
    }
    if let Some(node) = step.payload {
        let value = collect(node, String::new(), &mut written);
        match &mut patch {
            Some(base) => merge_patch::merge(base, &value),
            None => patch = Some(value),
        }
    }
    let Some(patch) = patch else {
        return Vec::new();
    };
    let mut problems: Vec<Problem> = Vec::new();
    let mut seen: Vec<EventType> = Vec::new();
    for kind in kinds {
        let Some(schema) = PayloadSchema::of(kind.event_type) else {
            continue;
        };
        if seen.contains(&kind.event_type) {
            continue;
        }
        seen.push(kind.event_type);
        let generated = generated(*kind, step.product);
        let mut payload = generated.clone();
        merge_patch::merge(&mut payload, &patch);
        for violation in schema.violations(&payload) {
            if let Some(at) = blamed(&violation, &written, &generated) {
                problems.push(problem(step, schema, kind.event_type, &violation, at));
            }
        }
    }
    problems
}

/// The payload the override is laid over (seeded, so the same every time).
fn generated(kind: EventKind, product: Option<Product>) -> Value {
    let ctx = FixtureContext {
        organization_id: "00000000-0000-4000-8000-000000000000",
        now: time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
        pnr_id: None,
    };
    let mut rng = random::rng_for(0, "payload override check");
    match product {
        Some(product) if kind.event_type == EventType::PnrV3 => {
            fixtures::pnr_payload(product, kind.operation, &ctx, &mut rng).payload
        }
        _ => fixtures::generate(kind, &ctx, &mut rng).payload,
    }
}

/// The written value a violation is the override's fault of, if any: at a value it
/// wrote, inside an array it wrote, or at an object it added; never at a templated
/// string (its value is not known yet).
fn blamed<'w>(
    violation: &Violation,
    written: &'w [Written],
    generated: &Value,
) -> Option<&'w Written> {
    let pointer = violation.pointer.as_str();
    if pointer.is_empty() {
        return None;
    }
    let under = |w: &Written| {
        pointer == w.pointer
            || pointer
                .strip_prefix(w.pointer.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    };
    if written.iter().any(|w| w.templated && under(w)) {
        return None;
    }
    if let Some(exact) = written.iter().find(|w| w.pointer == pointer) {
        let added = generated.pointer(pointer).is_none();
        return (!exact.object || added).then_some(exact);
    }
    // Inside something the override replaced whole (a scalar or an array).
    written
        .iter()
        .filter(|w| !w.object && under(w))
        .max_by_key(|w| w.pointer.len())
}

fn problem(
    step: &Override<'_>,
    schema: PayloadSchema,
    event_type: EventType,
    violation: &Violation,
    at: &Written,
) -> Problem {
    let value = short(&violation.value);
    let message = format!(
        "payload override {} = {value} is not what Spotnana sends: {} ({}) does not allow it for {}",
        violation.pointer,
        schema.name,
        schema.api,
        event_type.as_str()
    );
    Problem::at(
        step.file,
        step.text,
        at.span.clone(),
        message,
        "not in Spotnana's schema",
    )
    .with_help(violation.allowed_text())
}

/// A value for a message, cut at 80 characters.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The JSON of a `payload = { … }` table, recording each value it writes.
fn collect(node: &JsonNode, pointer: String, written: &mut Vec<Written>) -> Value {
    let mut object = false;
    let mut templated = false;
    let value = match &node.kind {
        JsonKind::Bool(b) => Value::Bool(*b),
        JsonKind::Int(i) => Value::from(*i),
        JsonKind::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        JsonKind::String(s) => {
            templated = Template::parse(s).map_or(true, |t| !t.is_literal());
            Value::String(s.clone())
        }
        JsonKind::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| collect(item, format!("{pointer}/{i}"), written))
                .collect(),
        ),
        JsonKind::Table(entries) => {
            object = true;
            Value::Object(
                entries
                    .iter()
                    .map(|(key, item)| {
                        let child = format!("{pointer}/{}", escape(key.get_ref()));
                        (key.get_ref().clone(), collect(item, child, written))
                    })
                    .collect(),
            )
        }
    };
    if !pointer.is_empty() {
        written.push(Written {
            pointer,
            span: node.span.clone(),
            object,
            templated,
        });
    }
    value
}

/// Records each value a `payload_file` writes, all at the `payload_file` key's span
/// (the JSON file's own positions are not kept).
fn collect_file(value: &Value, pointer: String, span: &Range<usize>, written: &mut Vec<Written>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                collect_file(item, format!("{pointer}/{}", escape(key)), span, written);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_file(item, format!("{pointer}/{i}"), span, written);
            }
        }
        _ => {}
    }
    if !pointer.is_empty() {
        written.push(Written {
            pointer,
            span: span.clone(),
            object: value.is_object(),
            templated: false,
        });
    }
}

/// A key as a JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The violations a `send --payload` file causes in the payload of `kind` (all of
/// them with `--replace-payload`, where the whole payload is the file's).
pub fn payload_violations(kind: EventKind, patch: &Value, replace: bool) -> Vec<Violation> {
    let Some(schema) = PayloadSchema::of(kind.event_type) else {
        return Vec::new();
    };
    if replace {
        return schema.violations(patch);
    }
    let mut written = Vec::new();
    collect_file(patch, String::new(), &(0..0), &mut written);
    let generated = generated(kind, None);
    let mut payload = generated.clone();
    merge_patch::merge(&mut payload, patch);
    schema
        .violations(&payload)
        .into_iter()
        .filter(|v| blamed(v, &written, &generated).is_some())
        .collect()
}
