//! JSON values written as TOML tables (`payload`, `envelope`, `expect.json`), with a
//! span on every node while loading and a [`Template`] in every string afterwards.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use toml::Spanned;

use super::template::{RenderError, Template, TemplateContext};
use crate::event::SeededRng;

/// A JSON value whose strings are templates, e.g. `payload = { pnrId = "{{ pnr }}" }`.
///
/// Rendering gives the JSON value to merge over the generated event (RFC 7396 merge:
/// objects merge key by key, anything else replaces). TOML has no `null`, so a
/// scenario cannot remove a key; use `body` for full control.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// `true` / `false`.
    Bool(bool),
    /// A number (integers stay integers).
    Number(serde_json::Number),
    /// A string, rendered from its template (a TOML date-time becomes its text).
    String(Template),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// An object, keys in file order.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// Renders every string.
    pub fn render(
        &self,
        ctx: &dyn TemplateContext,
        rng: &mut SeededRng,
    ) -> Result<Value, RenderError> {
        Ok(match self {
            JsonTemplate::Bool(b) => Value::Bool(*b),
            JsonTemplate::Number(n) => Value::Number(n.clone()),
            JsonTemplate::String(t) => Value::String(t.render(ctx, rng)?),
            JsonTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(ctx, rng))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (key, value) in entries {
                    map.insert(key.clone(), value.render(ctx, rng)?);
                }
                Value::Object(map)
            }
        })
    }

    /// Every template inside, depth first.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            JsonTemplate::String(t) => out.push(t),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.collect(out)),
            JsonTemplate::Object(entries) => entries.iter().for_each(|(_, v)| v.collect(out)),
            JsonTemplate::Bool(_) | JsonTemplate::Number(_) => {}
        }
    }

    /// The object's value at `key`, if this is an object holding it.
    pub fn get(&self, key: &str) -> Option<&JsonTemplate> {
        match self {
            JsonTemplate::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A TOML value as read, with its span (loader-internal).
#[derive(Debug, Clone)]
pub(crate) struct JsonNode {
    pub span: Range<usize>,
    pub kind: JsonKind,
}

/// The shape of a [`JsonNode`].
#[derive(Debug, Clone)]
pub(crate) enum JsonKind {
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Array(Vec<JsonNode>),
    Table(Vec<(Spanned<String>, JsonNode)>),
}

impl<'de> serde::Deserialize<'de> for JsonNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonNode, D::Error> {
        let spanned = Spanned::<JsonKind>::deserialize(deserializer)?;
        Ok(JsonNode {
            span: spanned.span(),
            kind: spanned.into_inner(),
        })
    }
}

impl<'de> serde::Deserialize<'de> for JsonKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonKind, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

/// The key toml uses to smuggle date-times through serde.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = JsonKind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonKind, E> {
        Ok(JsonKind::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonKind, E> {
        Ok(JsonKind::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonKind, E> {
        i64::try_from(v)
            .map(JsonKind::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonKind, E> {
        if v.is_finite() {
            Ok(JsonKind::Float(v))
        } else {
            Err(E::custom("JSON has no nan or inf; write a finite number"))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonKind, E> {
        Ok(JsonKind::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<JsonKind, E> {
        Ok(JsonKind::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<JsonNode>()? {
            items.push(item);
        }
        Ok(JsonKind::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonKind, A::Error> {
        let mut entries: Vec<(Spanned<String>, JsonNode)> = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            if key.get_ref() == TOML_DATETIME_KEY {
                let text: String = map.next_value()?;
                return Ok(JsonKind::String(text));
            }
            let value = map.next_value::<JsonNode>()?;
            entries.push((key, value));
        }
        // The parser may hand keys over sorted; restore the order of the file.
        entries.sort_by_key(|(k, _)| k.span().start);
        Ok(JsonKind::Table(entries))
    }
}

/// A table whose keys keep their file order and spans (loader-internal).
#[derive(Debug, Clone)]
pub(crate) struct OrderedTable<V>(pub Vec<(Spanned<String>, V)>);

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for OrderedTable<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TableVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: serde::Deserialize<'de>> Visitor<'de> for TableVisitor<V> {
            type Value = OrderedTable<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(Spanned<String>, V)> = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<V>()?;
                    entries.push((key, value));
                }
                entries.sort_by_key(|(k, _)| k.span().start);
                Ok(OrderedTable(entries))
            }
        }
        deserializer.deserialize_map(TableVisitor(std::marker::PhantomData))
    }
}

/// Either one string or a list of strings (`signature`), loader-internal.
#[derive(Debug, Clone)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> serde::Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OneOrMany, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    items.push(item);
                }
                Ok(OneOrMany::Many(items))
            }
        }
        deserializer.deserialize_any(V)
    }
}
