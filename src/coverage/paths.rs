//! The property paths of a published JSON Schema, and which of them a payload holds.
//!
//! A path names a property from the payload's root, dot-separated, with `[]` for the
//! items of an array (`airPnr.legs[].flights[].cabin`). `$ref`s are resolved against
//! the schema's document; `allOf`, `oneOf` and `anyOf` branches add their properties to
//! the same path; a `$ref` already being expanded on the way down is not expanded again
//! (Spotnana's schemas are recursive), so the list is finite.

use std::collections::HashMap;

use serde_json::Value;

/// One property path of a schema.
#[derive(Debug, Clone)]
pub struct PathNode {
    /// `airPnr.legs[].flights[].cabin`.
    pub path: String,
    /// The enclosing property's index (`None` at the root's properties).
    pub parent: Option<u32>,
    /// The published values, when the property is an enumeration.
    pub enum_values: Vec<String>,
}

/// Every property path of one schema, in document order.
#[derive(Debug, Clone, Default)]
pub struct PathIndex {
    /// The paths; a path's index is its position.
    pub nodes: Vec<PathNode>,
    by_path: HashMap<String, u32>,
}

impl PathIndex {
    /// The paths of the component schema `name` of `document` (where its `$ref`s
    /// resolve); the root counts as being expanded, so a reference back to it stops.
    pub fn of(document: &Value, name: &str) -> PathIndex {
        let mut index = PathIndex::default();
        let root = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
        let mut stack = Vec::new();
        index.walk(document, &root, "", None, &mut stack);
        index
    }

    /// The index of `path`, if the schema has it.
    pub fn find(&self, path: &str) -> Option<u32> {
        self.by_path.get(path).copied()
    }

    /// How many paths there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the schema has no property at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn walk(
        &mut self,
        document: &Value,
        schema: &Value,
        path: &str,
        parent: Option<u32>,
        stack: &mut Vec<String>,
    ) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if stack.iter().any(|r| r == reference) {
                return;
            }
            let Some(target) = resolve(document, reference) else {
                return;
            };
            stack.push(reference.to_owned());
            self.walk(document, target, path, parent, stack);
            stack.pop();
        }
        if let (Some(values), Some(at)) = (schema.get("enum").and_then(Value::as_array), parent) {
            let node = &mut self.nodes[at as usize];
            for value in values.iter().filter_map(Value::as_str) {
                if !node.enum_values.iter().any(|v| v == value) {
                    node.enum_values.push(value.to_owned());
                }
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                for branch in branches {
                    self.walk(document, branch, path, parent, stack);
                }
            }
        }
        if let Some(items) = schema.get("items") {
            // The items of an array at `path` are `path[]`, a node of their own only
            // through their properties.
            let items_path = format!("{path}[]");
            self.walk(document, items, &items_path, parent, stack);
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, sub) in properties {
                let child = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                let at = match self.by_path.get(&child) {
                    Some(at) => *at,
                    None => {
                        let at = self.nodes.len() as u32;
                        self.nodes.push(PathNode {
                            path: child.clone(),
                            parent,
                            enum_values: Vec::new(),
                        });
                        self.by_path.insert(child.clone(), at);
                        at
                    }
                };
                self.walk(document, sub, &child, Some(at), stack);
            }
        }
    }
}

/// `#/components/schemas/Name` (or any local JSON pointer) in `document`.
fn resolve<'d>(document: &'d Value, reference: &str) -> Option<&'d Value> {
    document.pointer(reference.strip_prefix('#')?)
}

/// Marks in `present` every path of `index` that `payload` holds (with a value other
/// than `null`), and passes each string value at an enumerated path to `on_enum`.
/// Walks the payload once; keys the schema does not name (maps, unknown fields) and
/// everything below them are skipped.
pub fn mark(
    index: &PathIndex,
    payload: &Value,
    present: &mut [bool],
    on_enum: &mut dyn FnMut(u32, &str),
) {
    let mut path = String::new();
    mark_value(index, payload, &mut path, present, on_enum);
}

fn mark_value(
    index: &PathIndex,
    value: &Value,
    path: &mut String,
    present: &mut [bool],
    on_enum: &mut dyn FnMut(u32, &str),
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if child.is_null() {
                    continue;
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if let Some(at) = index.find(path) {
                    present[at as usize] = true;
                    if let Value::String(text) = child
                        && !index.nodes[at as usize].enum_values.is_empty()
                    {
                        on_enum(at, text);
                    }
                    mark_value(index, child, path, present, on_enum);
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            for item in items {
                mark_value(index, item, path, present, on_enum);
            }
            path.truncate(len);
        }
        _ => {}
    }
}

/// The largest subtrees of paths not present: each absent path whose parent is present
/// (or that sits at the root), with how many paths it and everything below it hold,
/// largest first, at most `limit`.
pub fn largest_absent(index: &PathIndex, present: &[bool], limit: usize) -> Vec<(String, usize)> {
    // Nodes come after their parent in `nodes`, so one backward pass sums subtrees.
    let mut size = vec![1usize; index.nodes.len()];
    for at in (0..index.nodes.len()).rev() {
        if let Some(parent) = index.nodes[at].parent {
            size[parent as usize] += size[at];
        }
    }
    let mut tops: Vec<(String, usize)> = index
        .nodes
        .iter()
        .enumerate()
        .filter(|(at, node)| {
            !present[*at] && node.parent.is_none_or(|parent| present[parent as usize])
        })
        .map(|(at, node)| (node.path.clone(), size[at]))
        .collect();
    tops.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    tops.truncate(limit);
    tops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tiny() -> Value {
        json!({
            "components": { "schemas": {
                "Root": {
                    "type": "object",
                    "properties": {
                        "status": { "$ref": "#/components/schemas/Status" },
                        "legs": { "type": "array", "items": { "$ref": "#/components/schemas/Leg" } },
                        "note": { "oneOf": [
                            { "type": "object", "properties": { "text": { "type": "string" } } },
                            { "type": "object", "properties": { "lang": { "type": "string" } } }
                        ] },
                        "self": { "$ref": "#/components/schemas/Root" }
                    }
                },
                "Status": { "type": "string", "enum": ["CONFIRMED", "CANCELLED"] },
                "Leg": { "type": "object", "properties": {
                    "cabin": { "type": "string", "enum": ["ECONOMY", "BUSINESS"] },
                    "seat": { "type": "object", "properties": { "row": {}, "letter": {} } }
                } }
            } }
        })
    }

    fn index() -> (Value, PathIndex) {
        let document = tiny();
        let index = PathIndex::of(&document, "Root");
        (document, index)
    }

    #[test]
    fn lists_paths_through_refs_arrays_and_branches_and_stops_at_recursion() {
        let (_, index) = index();
        let paths: Vec<&str> = index.nodes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "status",
                "legs",
                "legs[].cabin",
                "legs[].seat",
                "legs[].seat.row",
                "legs[].seat.letter",
                "note",
                "note.text",
                "note.lang",
                "self",
            ]
        );
        assert_eq!(index.nodes[0].enum_values, ["CONFIRMED", "CANCELLED"]);
        assert_eq!(index.nodes[2].enum_values, ["ECONOMY", "BUSINESS"]);
    }

    #[test]
    fn marks_present_paths_and_names_the_largest_absent_subtrees() {
        let (_, index) = index();
        let payload = json!({
            "status": "CONFIRMED",
            "legs": [ { "cabin": "BUSINESS" }, { "seat": { "row": 3 } } ],
            "note": null,
            "unknown": { "status": "X" }
        });
        let mut present = vec![false; index.len()];
        let mut seen = Vec::new();
        mark(&index, &payload, &mut present, &mut |at, v| {
            seen.push((index.nodes[at as usize].path.clone(), v.to_owned()))
        });
        let marked: Vec<&str> = index
            .nodes
            .iter()
            .zip(&present)
            .filter(|(_, p)| **p)
            .map(|(n, _)| n.path.as_str())
            .collect();
        assert_eq!(
            marked,
            [
                "status",
                "legs",
                "legs[].cabin",
                "legs[].seat",
                "legs[].seat.row"
            ]
        );
        assert_eq!(
            seen,
            [
                ("status".to_owned(), "CONFIRMED".to_owned()),
                ("legs[].cabin".to_owned(), "BUSINESS".to_owned())
            ]
        );
        assert_eq!(
            largest_absent(&index, &present, 5),
            [
                ("note".to_owned(), 3),
                ("legs[].seat.letter".to_owned(), 1),
                ("self".to_owned(), 1)
            ]
        );
    }
}
