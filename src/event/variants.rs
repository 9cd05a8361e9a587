//! Payload variants generated from Spotnana's published schemas: what real traffic
//! can hold and the fixed fixtures never do.
//!
//! No maintained Rust crate generates instances from JSON Schema 2020-12 with `$ref`,
//! `oneOf` and OpenAPI discriminators (the fake-data crates take their own DSLs or JSON
//! Type Definition), so this is a small generator of its own, bounded in depth and in
//! size. It covers the keywords the vendored schemas use (`$ref`, `type`,
//! `properties`, `required`, `items`, `minItems`, `enum`, `const`, `oneOf` with
//! `discriminator`, `pattern`, `format`, `minimum`, `maximum`). What it makes is
//! then checked with [`PayloadSchema::violations`] and repaired by dropping each value
//! the validator points at (a `oneOf` whose branches an instance cannot tell apart, a
//! `required` member cut by the depth bound), so every variant validates: the harness
//! plays Spotnana, and Spotnana sends only what its schema allows.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rand::Rng;
use rand::distr::Distribution;
use serde_json::{Map, Value};

use super::EventType;
use super::random::{self, SeededRng};
use super::schema::PayloadSchema;

/// Which optional fields a variant holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Only the required fields: every optional field absent.
    Minimal,
    /// Every optional field present, down to the depth and size bounds.
    Full,
    /// Each optional field present or not by chance.
    Random,
}

/// How strings are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strings {
    /// The schema's example where it has one, else a short word.
    Plain,
    /// Several hundred characters.
    Long,
    /// Non-ASCII text: accents, CJK, Greek, Arabic, emoji.
    NonAscii,
}

/// How numbers are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// The schema's example, or a small value.
    Plain,
    /// Bounds and oddities: `0`, negatives, the int32/int64 limits, tiny and huge doubles.
    Edge,
}

/// What one variant pins: a property path (names, `[]` for every item of an array)
/// and the value it holds there.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    /// The path from the payload's root, e.g. `["airPnr", "legs", "[]", "flights", "[]", "cabin"]`.
    pub path: Vec<&'static str>,
    /// The value there; `None`: present, generated as usual.
    pub value: Option<Value>,
}

/// How one variant is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// Whose schema.
    pub event_type: EventType,
    /// Which optional fields.
    pub shape: Shape,
    /// Arrays hold only their minimum of items (none, mostly).
    pub empty_arrays: bool,
    /// String style.
    pub strings: Strings,
    /// Number style.
    pub numbers: Numbers,
    /// Values this variant must hold.
    pub pins: Vec<Pin>,
    /// Top-level properties this variant leaves out (the other product blocks).
    pub exclude: Vec<&'static str>,
}

impl Recipe {
    fn new(event_type: EventType, shape: Shape) -> Recipe {
        Recipe {
            event_type,
            shape,
            empty_arrays: false,
            strings: Strings::Plain,
            numbers: Numbers::Plain,
            pins: Vec::new(),
            exclude: Vec::new(),
        }
    }

    /// What the variant explores, in a few words (`only required fields`,
    /// `bookingStatus = "HOLD_STATUS"`, …).
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        match self.shape {
            Shape::Minimal => parts.push("only required fields".into()),
            Shape::Full => parts.push("every optional field".into()),
            Shape::Random => {}
        }
        if self.empty_arrays {
            parts.push("empty arrays".into());
        }
        match self.strings {
            Strings::Plain => {}
            Strings::Long => parts.push("long strings".into()),
            Strings::NonAscii => parts.push("non-ASCII strings".into()),
        }
        if self.numbers == Numbers::Edge {
            parts.push("edge numbers".into());
        }
        for pin in &self.pins {
            let path = pin.path.join(".").replace(".[]", "[]");
            match &pin.value {
                Some(value) => parts.push(format!("{path} = {value}")),
                None => parts.push(format!("only {path}")),
            }
        }
        if parts.is_empty() {
            parts.push("random optional fields".into());
        }
        parts.join(", ")
    }
}

/// The enums a receiver branches on, per payload type: each published value gets a
/// variant of its own.
pub const BRANCHING_ENUMS: &[(EventType, &[&str])] = &[
    (EventType::PnrV3, &["bookingStatus"]),
    (
        EventType::PnrV3,
        &["airPnr", "legs", "[]", "flights", "[]", "cabin"],
    ),
    (
        EventType::PnrV3,
        &["bookingHistory", "[]", "bookingInfo", "status"],
    ),
    (EventType::PnrV3, &["createdVia"]),
    (EventType::TripDetailsV3, &["tripStatus"]),
    (EventType::TripDetailsV3, &["tripBookingStatus"]),
    (EventType::TravelerV2, &["persona"]),
    (EventType::TravelerV2, &["businessInfo", "workerType"]),
    (EventType::TravelerV2, &["tier"]),
];

/// The PNR's product blocks: a variant each, holding that block alone.
pub const PRODUCT_BLOCKS: &[&str] = &[
    "airPnr", "hotelPnr", "carPnr", "railPnr", "limoPnr", "miscPnr",
];

/// The recipes of `count` variants for the subscribed `types` (those with a published
/// schema): first the shapes and styles for each type, then one PNR per product block,
/// then the branching enums' values taken in turn, then random variants. The same
/// arguments always give the same list.
pub fn plan(types: &[EventType], count: usize) -> Vec<Recipe> {
    let types: Vec<EventType> = types
        .iter()
        .copied()
        .filter(|t| PayloadSchema::of(*t).is_some())
        .collect();
    if types.is_empty() {
        return Vec::new();
    }
    let mut recipes: Vec<Recipe> = Vec::new();
    let styles: [fn(EventType) -> Recipe; 6] = [
        |t| Recipe::new(t, Shape::Minimal),
        |t| Recipe::new(t, Shape::Full),
        |t| Recipe {
            empty_arrays: true,
            ..Recipe::new(t, Shape::Full)
        },
        |t| Recipe {
            strings: Strings::Long,
            ..Recipe::new(t, Shape::Random)
        },
        |t| Recipe {
            strings: Strings::NonAscii,
            ..Recipe::new(t, Shape::Full)
        },
        |t| Recipe {
            numbers: Numbers::Edge,
            ..Recipe::new(t, Shape::Full)
        },
    ];
    for style in styles {
        recipes.extend(types.iter().map(|t| style(*t)));
    }
    if types.contains(&EventType::PnrV3) {
        for block in PRODUCT_BLOCKS {
            recipes.push(Recipe {
                pins: vec![Pin {
                    path: vec![block],
                    value: None,
                }],
                exclude: PRODUCT_BLOCKS
                    .iter()
                    .copied()
                    .filter(|b| b != block)
                    .collect(),
                ..Recipe::new(EventType::PnrV3, Shape::Random)
            });
        }
    }
    // The enums' values, one of each list in turn, so a short run still sees every enum.
    let lists: Vec<Vec<Recipe>> = BRANCHING_ENUMS
        .iter()
        .filter(|(t, _)| types.contains(t))
        .map(|(t, path)| {
            enum_values(*t, path)
                .into_iter()
                .map(|value| Recipe {
                    pins: vec![Pin {
                        path: path.to_vec(),
                        value: Some(value),
                    }],
                    ..Recipe::new(*t, Shape::Random)
                })
                .collect()
        })
        .collect();
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    for round in 0..longest {
        recipes.extend(lists.iter().filter_map(|l| l.get(round).cloned()));
    }
    let mut next = 0;
    while recipes.len() < count {
        recipes.push(Recipe::new(types[next % types.len()], Shape::Random));
        next += 1;
    }
    recipes.truncate(count);
    recipes
}

/// The published values of the enum at `path` in `event_type`'s schema (empty when the
/// path does not lead to an enum).
pub fn enum_values(event_type: EventType, path: &[&str]) -> Vec<Value> {
    let Some(schema) = PayloadSchema::of(event_type) else {
        return Vec::new();
    };
    let document = schema.document();
    let mut at = resolve(document, schema.root());
    for step in path {
        let next = if *step == "[]" {
            at.get("items")
        } else {
            at.get("properties").and_then(|p| p.get(*step))
        };
        match next {
            Some(next) => at = resolve(document, next),
            None => return Vec::new(),
        }
    }
    at.get("enum")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Generates the payload of `recipe`, valid against its event type's schema.
///
/// # Panics
/// When `recipe.event_type` has no published schema (see [`plan`], which never does that).
pub fn generate(recipe: &Recipe, rng: &mut SeededRng) -> Value {
    let schema = PayloadSchema::of(recipe.event_type).expect("a recipe's type has a schema");
    let mut value = Value::Null;
    // Repair may drop what a pin asked for (a branch it sits in); a few more draws
    // almost always keep it.
    for _ in 0..PIN_TRIES {
        let mut generator = Generator {
            document: schema.document(),
            recipe,
            rng,
            budget: match recipe.shape {
                Shape::Minimal => usize::MAX,
                Shape::Full => FULL_BUDGET,
                Shape::Random if recipe.strings == Strings::Long => LONG_BUDGET,
                Shape::Random => RANDOM_BUDGET,
            },
        };
        value = generator
            .value(schema.root(), &mut Vec::new(), 0)
            .unwrap_or_else(|| Value::Object(Map::new()));
        repair(schema, &mut value);
        if recipe.pins.iter().all(|pin| holds(&value, &pin.path)) {
            break;
        }
    }
    own_booking(&mut value, rng);
    value
}

/// Each variant is a booking of its own: a `pnrId` drawn like a real one, not the
/// schema's example, which every variant would otherwise share with another `tripId`
/// and other travelers — a contradiction a partner that keeps each PNR rightly refuses.
fn own_booking(value: &mut Value, rng: &mut SeededRng) {
    if let Some(pnr) = value.get_mut("pnrId")
        && pnr.is_string()
    {
        *pnr = Value::String(random::pnr_id(rng));
    }
}

/// How many times [`generate`] draws a variant whose pins repair dropped.
const PIN_TRIES: usize = 8;

/// Whether `value` has something at `path` (`[]`: in the first item).
fn holds(value: &Value, path: &[&str]) -> bool {
    let Some((step, rest)) = path.split_first() else {
        return true;
    };
    let next = if *step == "[]" {
        value.as_array().and_then(|items| items.first())
    } else {
        value.get(*step)
    };
    next.is_some_and(|next| holds(next, rest))
}

/// Values a `Full` variant may hold at most (objects, arrays and scalars alike).
const FULL_BUDGET: usize = 1_500;
/// The same for a `Random` variant.
const RANDOM_BUDGET: usize = 600;
/// The same for a variant of long strings (about 400 characters each).
const LONG_BUDGET: usize = 250;
/// Objects nested deeper than this hold only their required fields.
const OPTIONAL_DEPTH: usize = 7;
/// Nothing is generated deeper than this (a required cycle ends here; repair drops it).
const MAX_DEPTH: usize = 24;
/// How many validate-and-drop rounds [`repair`] makes.
const REPAIR_ROUNDS: usize = 32;

/// Drops every value the schema's validator points at until the payload validates;
/// when even the root is at fault, the payload becomes `{}` (every payload schema
/// spotcheck uses accepts it).
pub fn repair(schema: PayloadSchema, value: &mut Value) {
    for _ in 0..REPAIR_ROUNDS {
        let violations = schema.violations(value);
        if violations.is_empty() {
            return;
        }
        let mut pointers: Vec<Vec<String>> =
            violations.iter().map(|v| segments(&v.pointer)).collect();
        if pointers.iter().any(Vec::is_empty) {
            *value = Value::Object(Map::new());
            continue;
        }
        // Deepest and last first, so removing one never shifts another's index.
        pointers.sort_by(|a, b| compare_pointers(b, a));
        pointers.dedup();
        for pointer in &pointers {
            remove_at(value, pointer);
        }
    }
    if !schema.is_valid(value) {
        *value = Value::Object(Map::new());
    }
}

/// A JSON pointer's unescaped segments.
pub fn segments(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Orders pointers by their segments, numbers as numbers (`/a/10` after `/a/9`).
fn compare_pointers(a: &[String], b: &[String]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (x.parse::<usize>(), y.parse::<usize>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// Removes the value at `segments` (an object member or an array item), if there.
pub fn remove_at(value: &mut Value, segments: &[String]) -> Option<Value> {
    let (last, parent) = segments.split_last()?;
    let mut at = value;
    for segment in parent {
        at = match at {
            Value::Object(map) => map.get_mut(segment)?,
            Value::Array(items) => items.get_mut(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match at {
        Value::Object(map) => map.shift_remove(last),
        Value::Array(items) => {
            let index = last.parse::<usize>().ok()?;
            (index < items.len()).then(|| items.remove(index))
        }
        _ => None,
    }
}

/// Follows `$ref`s (local, `#/…`) to the schema they name.
fn resolve<'a>(document: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| document.pointer(p))
        {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

struct Generator<'a> {
    document: &'static Value,
    recipe: &'a Recipe,
    rng: &'a mut SeededRng,
    /// Values still allowed before optional fields stop being added.
    budget: usize,
}

impl Generator<'_> {
    fn value(
        &mut self,
        schema: &'static Value,
        path: &mut Vec<&'static str>,
        depth: usize,
    ) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        if let Some(pin) = self.recipe.pins.iter().find(|p| p.path == *path)
            && let Some(value) = &pin.value
        {
            return Some(value.clone());
        }
        self.budget = self.budget.saturating_sub(1);
        let schema = resolve(self.document, schema);
        if let Some(value) = schema.get("const") {
            return Some(value.clone());
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array)
            && !values.is_empty()
        {
            return Some(match self.recipe.shape {
                Shape::Minimal => values[0].clone(),
                _ => random::pick(self.rng, values).clone(),
            });
        }
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            return self.one_of(schema, branches, path, depth);
        }
        match type_of(schema) {
            "object" => self.object(schema, path, depth).map(Value::Object),
            "array" => self.array(schema, path, depth),
            "string" => Some(Value::String(self.string(schema))),
            "integer" => Some(self.integer(schema)),
            "number" => Some(self.number(schema)),
            "boolean" => Some(Value::Bool(self.rng.random_bool(0.5))),
            "null" => Some(Value::Null),
            _ => Some(Value::String(self.word())),
        }
    }

    fn object(
        &mut self,
        schema: &'static Value,
        path: &mut Vec<&'static str>,
        depth: usize,
    ) -> Option<Map<String, Value>> {
        let mut object = Map::new();
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return Some(object);
        };
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, property) in properties {
            path.push(name.as_str());
            let pinned = self.pinned_under(path);
            let excluded = depth == 0 && self.recipe.exclude.contains(&name.as_str());
            let include = required.contains(&name.as_str())
                || pinned
                || (!excluded
                    && (depth < 2 || self.budget > 0)
                    && depth < OPTIONAL_DEPTH
                    && match self.recipe.shape {
                        Shape::Minimal => false,
                        Shape::Full => true,
                        Shape::Random => self.rng.random_bool(0.5),
                    });
            if include && let Some(value) = self.value(property, path, depth + 1) {
                object.insert(name.clone(), value);
            }
            path.pop();
        }
        Some(object)
    }

    fn one_of(
        &mut self,
        schema: &'static Value,
        branches: &'static [Value],
        path: &mut Vec<&'static str>,
        depth: usize,
    ) -> Option<Value> {
        if branches.is_empty() {
            return None;
        }
        let branch = match self.recipe.shape {
            Shape::Minimal => &branches[0],
            _ => random::pick(self.rng, branches),
        };
        let mut object = self.object(schema, path, depth)?;
        match self.value(branch, path, depth)? {
            Value::Object(fields) => object.extend(fields),
            other if object.is_empty() => return Some(other),
            _ => return None,
        }
        // The discriminator names the branch: the mapping's key for its `$ref`, else
        // the referenced schema's name (OpenAPI's default).
        if let Some(property) = schema
            .pointer("/discriminator/propertyName")
            .and_then(Value::as_str)
            && let Some(reference) = branch.get("$ref").and_then(Value::as_str)
        {
            let mapped = schema
                .pointer("/discriminator/mapping")
                .and_then(Value::as_object)
                .and_then(|m| m.iter().find(|(_, v)| v.as_str() == Some(reference)))
                .map(|(k, _)| k.clone());
            let name =
                mapped.unwrap_or_else(|| reference.rsplit('/').next().unwrap_or("").to_owned());
            object.insert(property.to_owned(), Value::String(name));
        }
        Some(Value::Object(object))
    }

    fn array(
        &mut self,
        schema: &'static Value,
        path: &mut Vec<&'static str>,
        depth: usize,
    ) -> Option<Value> {
        let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        path.push("[]");
        let pinned = self.pinned_under(path);
        let count = if self.recipe.empty_arrays
            || self.recipe.shape == Shape::Minimal
            || self.budget == 0
        {
            min
        } else {
            min.max(self.rng.random_range(1..=2))
        }
        .max(usize::from(pinned));
        let items = schema.get("items").unwrap_or(&Value::Null);
        let mut values = Vec::with_capacity(count);
        for _ in 0..count {
            match self.value(items, path, depth + 1) {
                Some(value) => values.push(value),
                None => break,
            }
        }
        path.pop();
        Some(Value::Array(values))
    }

    /// Whether a pin lies at or under `path` (so the path must be present).
    fn pinned_under(&self, path: &[&str]) -> bool {
        self.recipe.pins.iter().any(|p| p.path.starts_with(path))
    }

    fn string(&mut self, schema: &Value) -> String {
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && let Some(text) = self.matching(pattern)
        {
            return text;
        }
        match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => return random::uuid(self.rng),
            Some("email") => return format!("traveler.{}@example.com", random::hex(self.rng, 6)),
            Some("byte") => {
                let bytes: [u8; 12] = self.rng.random();
                return base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
            }
            _ => {}
        }
        match self.recipe.strings {
            Strings::Plain => match schema.get("example").and_then(Value::as_str) {
                Some(example) if example.len() <= 200 && self.rng.random_bool(0.7) => {
                    example.to_owned()
                }
                _ => self.word(),
            },
            Strings::Long => {
                let length = self.rng.random_range(256..=512);
                let mut text = String::with_capacity(length + 16);
                while text.len() < length {
                    text.push_str(&self.word());
                    text.push(' ');
                }
                text.truncate(length);
                text
            }
            Strings::NonAscii => random::pick(self.rng, NON_ASCII).to_string(),
        }
    }

    /// A string matching `pattern` (ECMA-262 syntax; `\d` and `\w` are ASCII there).
    fn matching(&mut self, pattern: &str) -> Option<String> {
        static CACHE: OnceLock<std::sync::Mutex<BTreeMap<String, Option<rand_regex::Regex>>>> =
            OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().ok()?;
        let regex = cache.entry(pattern.to_owned()).or_insert_with(|| {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(true)
                .build()
                .parse(pattern)
                .ok()?;
            rand_regex::Regex::with_hir(hir, 4).ok()
        });
        regex.as_ref().map(|r| r.sample(&mut *self.rng))
    }

    fn word(&mut self) -> String {
        random::pick(self.rng, WORDS).to_string()
    }

    fn integer(&mut self, schema: &Value) -> Value {
        let (low, high) = match schema.get("format").and_then(Value::as_str) {
            Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        };
        let low = schema
            .get("minimum")
            .and_then(Value::as_f64)
            .map_or(low, |m| m.ceil() as i64);
        let high = schema
            .get("maximum")
            .and_then(Value::as_f64)
            .map_or(high, |m| m.floor() as i64);
        let picked = match self.recipe.numbers {
            Numbers::Edge => *random::pick(self.rng, &[low, high, 0, -1, 1]),
            Numbers::Plain => match schema.get("example").and_then(Value::as_i64) {
                Some(example) if self.rng.random_bool(0.5) => example,
                _ => self.rng.random_range(0..=1000),
            },
        };
        Value::from(picked.clamp(low, high))
    }

    fn number(&mut self, schema: &Value) -> Value {
        let low = schema
            .get("minimum")
            .and_then(Value::as_f64)
            .unwrap_or(f64::MIN);
        let high = schema
            .get("maximum")
            .and_then(Value::as_f64)
            .unwrap_or(f64::MAX);
        let picked = match self.recipe.numbers {
            Numbers::Edge => *random::pick(
                self.rng,
                &[
                    0.0,
                    -1.5,
                    0.1,
                    1e-9,
                    12_345_678_901.25,
                    1.797_693_134_862_315_7e308,
                    low,
                    high,
                ],
            ),
            Numbers::Plain => match schema.get("example").and_then(Value::as_f64) {
                Some(example) if self.rng.random_bool(0.5) => example,
                _ => f64::from(self.rng.random_range(0..100_000)) / 100.0,
            },
        };
        serde_json::Number::from_f64(picked.clamp(low, high)).map_or(Value::from(0), Value::Number)
    }
}

/// The schema's type: its `type` (the first non-null of a list), or `object` when it
/// has properties.
fn type_of(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "",
    }
}

/// Plain words for strings without an example.
const WORDS: &[&str] = &[
    "alpha", "meridian", "harbour", "quartz", "lantern", "summit", "delta", "orchid", "falcon",
    "cobalt", "willow", "granite",
];

/// Non-ASCII text a receiver must store and echo unchanged.
const NON_ASCII: &[&str] = &[
    "Zoë Ñúñez-Ørsted",
    "東京 羽田空港",
    "Ελευθέριος Βενιζέλος",
    "مطار دبي الدولي",
    "Łódź — Kraków ✈",
    "Grüße aus Zürich 😀",
    "Пулково",
    "\u{200b}zero\u{200b}width",
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TYPES: [EventType; 3] = [
        EventType::PnrV3,
        EventType::TripDetailsV3,
        EventType::TravelerV2,
    ];

    #[test]
    fn every_branching_enum_path_leads_to_published_values() {
        for (event_type, path) in BRANCHING_ENUMS {
            assert!(
                enum_values(*event_type, path).len() > 1,
                "{event_type:?} {path:?}"
            );
        }
    }

    #[test]
    fn the_plan_starts_with_each_shape_and_style_then_products_then_enums() {
        let recipes = plan(&EventType::ALL, 50);
        assert_eq!(recipes.len(), 50);
        assert_eq!(recipes[0], Recipe::new(EventType::PnrV3, Shape::Minimal));
        assert_eq!(recipes[3], Recipe::new(EventType::PnrV3, Shape::Full));
        let described: Vec<String> = recipes.iter().map(Recipe::describe).collect();
        for expected in [
            "only required fields",
            "every optional field",
            "every optional field, empty arrays",
            "long strings",
            "every optional field, non-ASCII strings",
            "every optional field, edge numbers",
            "only airPnr",
            "only miscPnr",
        ] {
            assert!(
                described.iter().any(|d| d == expected),
                "{expected}: {described:?}"
            );
        }
        assert!(
            described.iter().any(|d| d.starts_with("bookingStatus = ")),
            "{described:?}"
        );
        assert!(
            described.iter().any(|d| d.starts_with("tripStatus = ")),
            "{described:?}"
        );
        assert!(
            described.iter().any(|d| d.starts_with("persona = ")),
            "{described:?}"
        );
        // Only types with a published schema get variants.
        assert!(plan(&[EventType::PnrApproval], 50).is_empty());
        assert!(
            plan(&[EventType::TravelerV2], 10)
                .iter()
                .all(|r| r.event_type == EventType::TravelerV2)
        );
    }

    #[test]
    fn minimal_and_full_differ_as_their_names_say() {
        let mut rng = random::rng(1);
        let minimal = generate(
            &Recipe::new(EventType::TripDetailsV3, Shape::Minimal),
            &mut rng,
        );
        let keys: Vec<&String> = minimal.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["basicTripInfo", "pnrs"], "{minimal}");
        let full = generate(&Recipe::new(EventType::PnrV3, Shape::Full), &mut rng);
        let object = full.as_object().unwrap();
        for key in ["totalFare", "bookingStatus", "airPnr", "pnrId"] {
            assert!(
                object.contains_key(key),
                "{key} missing from {}",
                serde_json::to_string(&full).unwrap().len()
            );
        }
    }

    #[test]
    fn a_pinned_enum_value_is_there_and_a_product_variant_holds_one_block() {
        let mut rng = random::rng(7);
        let recipe = Recipe {
            pins: vec![Pin {
                path: vec!["airPnr", "legs", "[]", "flights", "[]", "cabin"],
                value: Some(Value::from("FIRST")),
            }],
            ..Recipe::new(EventType::PnrV3, Shape::Random)
        };
        let payload = generate(&recipe, &mut rng);
        assert_eq!(
            payload.pointer("/airPnr/legs/0/flights/0/cabin"),
            Some(&Value::from("FIRST"))
        );
        let product = plan(&[EventType::PnrV3], 50)
            .into_iter()
            .find(|r| r.describe() == "only hotelPnr")
            .unwrap();
        let payload = generate(&product, &mut rng);
        let blocks: Vec<&&str> = PRODUCT_BLOCKS
            .iter()
            .filter(|b| payload.get(**b).is_some())
            .collect();
        assert_eq!(blocks, [&"hotelPnr"]);
    }

    #[test]
    fn repair_drops_what_the_schema_refuses() {
        let schema = PayloadSchema::of(EventType::PnrV3).unwrap();
        let mut payload = serde_json::json!({
            "pnrId": "1",
            "bookingStatus": "NOT_PUBLISHED",
            "totalFare": {"amount": 1.0}
        });
        repair(schema, &mut payload);
        assert_eq!(payload, serde_json::json!({"pnrId": "1"}));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Every variant of every recipe of a plan validates against its schema.
        #[test]
        fn every_variant_validates(seed in any::<u64>(), index in 0usize..140) {
            let recipes = plan(&TYPES, 140);
            let recipe = &recipes[index];
            let payload = generate(recipe, &mut random::rng(seed));
            let schema = PayloadSchema::of(recipe.event_type).unwrap();
            let violations = schema.violations(&payload);
            prop_assert!(violations.is_empty(), "{}: {:?}", recipe.describe(), violations.first());
            let size = serde_json::to_vec(&payload).unwrap().len();
            prop_assert!(size < 256 * 1024, "{}: {size} bytes", recipe.describe());
        }
    }
}
