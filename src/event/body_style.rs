//! Body styles: the same JSON value written with different (valid) bytes.
//!
//! A receiver must verify the signature over the raw bytes it received. Re-serializing
//! the parsed JSON before verifying works for [`BodyStyle::Compact`] bodies by luck and
//! fails for every other style here: each one parses back to the same value but its
//! bytes differ from the compact form.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter, Serializer};

/// How a JSON body is written.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum BodyStyle {
    /// `serde_json::to_vec`: no whitespace, keys in insertion order.
    #[default]
    Compact,
    /// Indented by three spaces, with a space before each colon (`"key" : value`).
    Pretty,
    /// Compact, but every object's keys in reverse order.
    Reordered,
    /// Compact, every non-ASCII character as `\uXXXX` (surrogate pairs above the BMP)
    /// and every `/` as `\/`.
    EscapedUnicode,
    /// Floats with an extra trailing zero (`1234.5` → `1234.50`, `2.0` → `2.00`),
    /// integers unchanged, and a space after every comma.
    FloatForms,
}

impl BodyStyle {
    /// Every style, `Compact` first.
    pub const ALL: [BodyStyle; 5] = [
        BodyStyle::Compact,
        BodyStyle::Pretty,
        BodyStyle::Reordered,
        BodyStyle::EscapedUnicode,
        BodyStyle::FloatForms,
    ];

    /// The kebab-case name (`escaped-unicode`, ...), as in scenario files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyStyle::Compact => "compact",
            BodyStyle::Pretty => "pretty",
            BodyStyle::Reordered => "reordered",
            BodyStyle::EscapedUnicode => "escaped-unicode",
            BodyStyle::FloatForms => "float-forms",
        }
    }
}

impl fmt::Display for BodyStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes `value` in `style`. The result is always valid JSON that parses back to
/// `value` (numerically equal for [`BodyStyle::FloatForms`]).
pub fn write(value: &Value, style: BodyStyle) -> Vec<u8> {
    match style {
        BodyStyle::Compact => with_formatter(value, CompactFormatter),
        BodyStyle::Pretty => {
            // Many serializers end pretty output with a newline; receivers that trim
            // the body before verifying fail on it.
            let mut bytes = with_formatter(value, SpacedPretty::new());
            bytes.push(b'\n');
            bytes
        }
        BodyStyle::Reordered => with_formatter(&reversed(value), CompactFormatter),
        BodyStyle::EscapedUnicode => with_formatter(value, AsciiEscaping),
        BodyStyle::FloatForms => with_formatter(value, FloatForms),
    }
}

fn with_formatter(value: &Value, formatter: impl Formatter) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = Serializer::with_formatter(&mut out, formatter);
    // Writing a `Value` into a Vec cannot fail: keys are strings and the writer is memory.
    match value.serialize(&mut serializer) {
        Ok(()) => out,
        Err(_) => serde_json::to_vec(value).unwrap_or_default(),
    }
}

/// `value` with every object's keys in reverse order (recursively).
fn reversed(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

/// Three-space indentation and `" : "` between keys and values.
struct SpacedPretty(PrettyFormatter<'static>);

impl SpacedPretty {
    fn new() -> Self {
        SpacedPretty(PrettyFormatter::with_indent(b"   "))
    }
}

impl Formatter for SpacedPretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b" : ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Compact output with only ASCII in strings: `\uXXXX` for non-ASCII, `\/` for `/`.
/// (Quotes, backslashes and control characters reach `write_char_escape`, unchanged.)
struct AsciiEscaping;

impl Formatter for AsciiEscaping {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if c.is_ascii() && c != '/' {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..at])?;
            start = at + c.len_utf8();
            if c == '/' {
                w.write_all(b"\\/")?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// Compact output with `, ` between elements and an extra zero on every float.
struct FloatForms;

impl Formatter for FloatForms {
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        let mut plain = Vec::with_capacity(24);
        CompactFormatter.write_f64(&mut plain, value)?;
        w.write_all(&with_extra_zero(&plain))
    }
    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        let mut plain = Vec::with_capacity(16);
        CompactFormatter.write_f32(&mut plain, value)?;
        w.write_all(&with_extra_zero(&plain))
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
}

/// `1234.5` → `1234.50`, `2.0` → `2.00`, `1e+300` → `1.0e+300`, `1.5e-7` → `1.50e-7`.
/// Anything that is not a plain number (`null` for non-finite values) is left alone.
fn with_extra_zero(number: &[u8]) -> Vec<u8> {
    if !number
        .iter()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
    {
        return number.to_vec();
    }
    let split = number
        .iter()
        .position(|b| *b == b'e' || *b == b'E')
        .unwrap_or(number.len());
    let (mantissa, exponent) = number.split_at(split);
    let mut out = Vec::with_capacity(number.len() + 2);
    out.extend_from_slice(mantissa);
    if !mantissa.contains(&b'.') {
        out.push(b'.');
    }
    out.push(b'0');
    out.extend_from_slice(exponent);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(value: &Value, style: BodyStyle) -> String {
        String::from_utf8(write(value, style)).unwrap()
    }

    #[test]
    fn compact_is_serde_json() {
        let value = json!({"b": [1, 2.5, "x"], "a": null});
        assert_eq!(
            write(&value, BodyStyle::Compact),
            serde_json::to_vec(&value).unwrap()
        );
    }

    #[test]
    fn pretty_uses_three_spaces_spaced_colons_and_a_final_newline() {
        let value = json!({"a": [1, {"b": true}], "c": {}});
        assert_eq!(
            text(&value, BodyStyle::Pretty),
            "{\n   \"a\" : [\n      1,\n      {\n         \"b\" : true\n      }\n   ],\n   \"c\" : {}\n}\n"
        );
    }

    #[test]
    fn reordered_reverses_keys_at_every_level() {
        let value = json!({"a": 1, "b": {"x": 1, "y": [{"p": 1, "q": 2}]}, "c": 3});
        assert_eq!(
            text(&value, BodyStyle::Reordered),
            r#"{"c":3,"b":{"y":[{"q":2,"p":1}],"x":1},"a":1}"#
        );
    }

    #[test]
    fn escaped_unicode_escapes_non_ascii_and_slashes() {
        let value = json!({"näme": "Zoë / Łukasz 😀 \"q\"\n"});
        assert_eq!(
            text(&value, BodyStyle::EscapedUnicode),
            r#"{"n\u00e4me":"Zo\u00eb \/ \u0141ukasz \ud83d\ude00 \"q\"\n"}"#
        );
    }

    #[test]
    fn float_forms_add_a_zero_and_spaces() {
        let value = json!({"a": 1234.5, "b": 2.0, "c": 7, "d": [1e300, -1.5e-7, -0.0, 0.25]});
        assert_eq!(
            text(&value, BodyStyle::FloatForms),
            r#"{"a":1234.50, "b":2.00, "c":7, "d":[1.0e+300, -1.50e-7, -0.00, 0.250]}"#
        );
    }

    #[test]
    fn names_are_kebab_case_for_clap_and_serde() {
        use clap::ValueEnum;
        for style in BodyStyle::ALL {
            let name = style.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(name, style.as_str());
            let parsed: BodyStyle = serde_json::from_value(json!(name)).unwrap();
            assert_eq!(parsed, style);
        }
        assert_eq!(
            serde_json::from_value::<BodyStyle>(json!("escaped-unicode")).unwrap(),
            BodyStyle::EscapedUnicode
        );
    }
}
