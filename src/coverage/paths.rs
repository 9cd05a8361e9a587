//! The property paths of a published JSON Schema, and which of them a payload holds.
//!
//! A path names a property from the payload's root, dot-separated, with `[]` for the
//! items of an array (`airPnr.legs[].flights[].cabin`). `$ref`s are resolved against
//! the schema's document; `allOf`, `oneOf` and `anyOf` branches add their properties to
//! the same path; a `$ref` already being expanded on the way down is not expanded again
//! (Spotnana's schemas are recursive), so the list is finite.
//!
//! The list is long (`TripV3DetailsResponse` has about 58,000 paths, most of them deep
//! inside recursive references, 260 characters at the longest), so it is held as a
//! tree: each path is its parent path, how many `[]` follow it, and an interned
//! property name, 12 bytes a path instead of two copies of its text. The text of a
//! path is written only when a report names it.

use std::collections::HashMap;

use serde_json::Value;

/// No parent: a property of the payload's root.
const ROOT: u32 = u32::MAX;

/// One property path: `parent` (or [`ROOT`]), then `[]` `brackets` times, then `.name`.
#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    brackets: u32,
    name: u32,
}

/// Every property path of one schema, in document order; a path's index is its
/// position in that order.
#[derive(Debug, Clone, Default)]
pub struct PathIndex {
    nodes: Vec<Node>,
    /// The property names, interned: a name's id is its position.
    names: Vec<Box<str>>,
    name_ids: HashMap<Box<str>, u32>,
    /// `(parent, brackets, name)` → the path's index.
    children: HashMap<(u32, u32, u32), u32>,
    /// The enumerated paths (about one in fifteen) → their list of published values
    /// in `enum_lists`: the recursive schemas repeat a few hundred lists thousands of
    /// times, so each list is kept once.
    enum_of: HashMap<u32, u32>,
    enum_lists: Vec<Vec<String>>,
}

impl PathIndex {
    /// The paths of the component schema `name` of `document` (where its `$ref`s
    /// resolve); the root counts as being expanded, so a reference back to it stops.
    pub fn of(document: &Value, name: &str) -> PathIndex {
        let mut index = PathIndex::default();
        let root = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
        let mut stack = Vec::new();
        let mut enums = HashMap::new();
        index.walk(document, &root, ROOT, 0, &mut stack, &mut enums);
        let mut lists: HashMap<Vec<String>, u32> = HashMap::new();
        for (at, values) in enums {
            let next = lists.len() as u32;
            let list = *lists.entry(values).or_insert(next);
            index.enum_of.insert(at, list);
        }
        index.enum_lists = vec![Vec::new(); lists.len()];
        for (values, list) in lists {
            index.enum_lists[list as usize] = values;
        }
        index.nodes.shrink_to_fit();
        index.names.shrink_to_fit();
        index.children.shrink_to_fit();
        index.enum_of.shrink_to_fit();
        index
    }

    /// The index of `path` (`airPnr.legs[].flights[].cabin`), if the schema has it.
    pub fn find(&self, path: &str) -> Option<u32> {
        let (mut at, mut brackets) = (ROOT, 0);
        for segment in path.split('.') {
            let mut name = segment;
            let mut trailing = 0;
            while let Some(rest) = name.strip_suffix("[]") {
                name = rest;
                trailing += 1;
            }
            at = self.child(at, brackets, name)?;
            brackets = trailing;
        }
        (at != ROOT && brackets == 0).then_some(at)
    }

    /// How many paths there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the schema has no property at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The text of path `at` (`airPnr.legs[].flights[].cabin`).
    pub fn path(&self, at: u32) -> String {
        let mut chain = Vec::new();
        let mut node = at;
        while node != ROOT {
            chain.push(self.nodes[node as usize]);
            node = self.nodes[node as usize].parent;
        }
        let mut text = String::new();
        for node in chain.iter().rev() {
            for _ in 0..node.brackets {
                text.push_str("[]");
            }
            if !text.is_empty() {
                text.push('.');
            }
            text.push_str(&self.names[node.name as usize]);
        }
        text
    }

    /// The enclosing property of path `at` (`None` for the root's properties).
    pub fn parent(&self, at: u32) -> Option<u32> {
        let parent = self.nodes[at as usize].parent;
        (parent != ROOT).then_some(parent)
    }

    /// The published values of path `at`, when the property is an enumeration.
    pub fn enum_values(&self, at: u32) -> &[String] {
        self.enum_of
            .get(&at)
            .map_or(&[], |list| self.enum_lists[*list as usize].as_slice())
    }

    /// How many published values there are over every enumerated path.
    pub fn enum_total(&self) -> usize {
        self.enum_of
            .values()
            .map(|list| self.enum_lists[*list as usize].len())
            .sum()
    }

    fn child(&self, parent: u32, brackets: u32, name: &str) -> Option<u32> {
        let name = *self.name_ids.get(name)?;
        self.children.get(&(parent, brackets, name)).copied()
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.name_ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.name_ids.insert(name.into(), id);
        id
    }

    /// Adds the paths of `schema`, found at `parent` followed by `brackets` `[]`, and
    /// the published values of the enumerated ones to `enums`.
    fn walk(
        &mut self,
        document: &Value,
        schema: &Value,
        parent: u32,
        brackets: u32,
        stack: &mut Vec<String>,
        enums: &mut HashMap<u32, Vec<String>>,
    ) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if stack.iter().any(|r| r == reference) {
                return;
            }
            let Some(target) = resolve(document, reference) else {
                return;
            };
            stack.push(reference.to_owned());
            self.walk(document, target, parent, brackets, stack, enums);
            stack.pop();
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array)
            && parent != ROOT
        {
            let known = enums.entry(parent).or_default();
            for value in values.iter().filter_map(Value::as_str) {
                if !known.iter().any(|v| v == value) {
                    known.push(value.to_owned());
                }
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                for branch in branches {
                    self.walk(document, branch, parent, brackets, stack, enums);
                }
            }
        }
        if let Some(items) = schema.get("items") {
            // The items of an array at a path are `path[]`, a node of their own only
            // through their properties.
            self.walk(document, items, parent, brackets + 1, stack, enums);
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, sub) in properties {
                let name = self.intern(name);
                let key = (parent, brackets, name);
                let at = match self.children.get(&key) {
                    Some(at) => *at,
                    None => {
                        let at = self.nodes.len() as u32;
                        self.nodes.push(Node {
                            parent,
                            brackets,
                            name,
                        });
                        self.children.insert(key, at);
                        at
                    }
                };
                self.walk(document, sub, at, 0, stack, enums);
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
    mark_value(index, payload, ROOT, 0, Some(present), on_enum);
}

/// Passes each string value at an enumerated path of `index` in `payload` to
/// `on_enum`, as [`mark`] does, marking nothing (a payload that was not accepted
/// covers no path, but still tells which values were sent).
pub fn enum_values_in(index: &PathIndex, payload: &Value, on_enum: &mut dyn FnMut(u32, &str)) {
    mark_value(index, payload, ROOT, 0, None, on_enum);
}

fn mark_value(
    index: &PathIndex,
    value: &Value,
    parent: u32,
    brackets: u32,
    mut present: Option<&mut [bool]>,
    on_enum: &mut dyn FnMut(u32, &str),
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if child.is_null() {
                    continue;
                }
                if let Some(at) = index.child(parent, brackets, key) {
                    if let Some(present) = present.as_deref_mut() {
                        present[at as usize] = true;
                    }
                    if let Value::String(text) = child
                        && !index.enum_values(at).is_empty()
                    {
                        on_enum(at, text);
                    }
                    mark_value(index, child, at, 0, present.as_deref_mut(), on_enum);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                mark_value(
                    index,
                    item,
                    parent,
                    brackets.saturating_add(1),
                    present.as_deref_mut(),
                    on_enum,
                );
            }
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
        if let Some(parent) = index.parent(at as u32) {
            size[parent as usize] += size[at];
        }
    }
    let mut tops: Vec<(u32, usize)> = (0..index.nodes.len() as u32)
        .filter(|at| {
            !present[*at as usize] && index.parent(*at).is_none_or(|p| present[p as usize])
        })
        .map(|at| (at, size[at as usize]))
        .collect();
    // Largest first, then by path text: the text is written for the ties only.
    tops.sort_by_key(|t| std::cmp::Reverse(t.1));
    let mut named: Vec<(String, usize)> = Vec::new();
    let mut start = 0;
    while start < tops.len() && named.len() < limit {
        let end = start
            + tops[start..]
                .iter()
                .take_while(|t| t.1 == tops[start].1)
                .count();
        let mut tie: Vec<(String, usize)> = tops[start..end]
            .iter()
            .map(|(at, n)| (index.path(*at), *n))
            .collect();
        tie.sort();
        named.extend(tie);
        start = end;
    }
    named.truncate(limit);
    named
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
        let paths: Vec<String> = (0..index.len() as u32).map(|at| index.path(at)).collect();
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
        assert_eq!(index.enum_values(0), ["CONFIRMED", "CANCELLED"]);
        assert_eq!(index.enum_values(2), ["ECONOMY", "BUSINESS"]);
        assert_eq!(index.enum_total(), 4);
        for (at, path) in paths.iter().enumerate() {
            assert_eq!(index.find(path), Some(at as u32), "{path}");
        }
        assert_eq!(index.find("legs[]"), None);
        assert_eq!(index.find("legs[].wing"), None);
        assert_eq!(index.parent(4), Some(3));
        assert_eq!(index.parent(0), None);
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
            seen.push((index.path(at), v.to_owned()))
        });
        let marked: Vec<String> = (0..index.len() as u32)
            .filter(|at| present[*at as usize])
            .map(|at| index.path(at))
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
