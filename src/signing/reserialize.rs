//! How the common JSON libraries write a parsed event back, byte for byte.
//!
//! A receiver that parses the body and verifies the signature over what its JSON
//! library writes back (`json.dumps(request.get_json())`, `JSON.stringify(req.body)`,
//! `json_encode(json_decode($body))`) refuses real deliveries: Spotnana's bodies carry
//! non-ASCII names and amounts that no serializer writes back unchanged. Each
//! [`Serializer`] of [`SERIALIZERS`] imitates one library's defaults (separators,
//! which characters it escapes and how, number formatting, key order), so that
//! `spotcheck run` can send the event as that library writes it, signed over exactly
//! those bytes, and `spotcheck verify` can tell which library's output a signature
//! was computed over. The values are serde_json's (`preserve_order` keeps the key
//! order); the bytes are written by a [`serde_json::ser::Formatter`] per library.
//! Adding a library is one entry in [`SERIALIZERS`].

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};
use serde_json::{Map, Value};

/// How a library writes numbers (parsed as a double where the library does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// Python's `float.__repr__`: `1.5`, `100.0`, `1e+16`, `1e-07`; integers exact.
    Python,
    /// ECMAScript `Number::toString` (every number a double): `1.5`, `100`, `1e+21`, `1e-7`.
    JavaScript,
    /// Go's `encoding/json` into `interface{}` (every number a float64): as JavaScript.
    Go,
    /// Java's `Double.toString` (Jackson's `DoubleNode`): `1.5`, `100.0`, `1.0E7`,
    /// `1.0E-4`; integers exact.
    Java,
    /// PHP's `json_encode` with `serialize_precision = -1`: `1.5`, `100` (no
    /// `JSON_PRESERVE_ZERO_FRACTION`), `1.0e+17`, `1.0e-5`; integers exact.
    Php,
    /// Ruby's `Float#to_s`: `1.5`, `100.0`, `1.0e+16`, `1.0e-05`; integers exact.
    Ruby,
    /// Rust's `serde_json` (ryu): `1.5`, `100.0`, `1e16`, `1e-7`; integers exact.
    Rust,
    /// .NET's shortest round-trip `double` formatting: `1.5`, `100`, `1E+15`, `1E-05`;
    /// integers exact.
    DotNet,
}

/// Which characters inside strings a library escapes beyond `"`, `\` and controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escapes {
    /// Nothing more: non-ASCII text is written as UTF-8.
    Minimal,
    /// Every non-ASCII character (and DEL) as `\uxxxx`, lower-case hex, astral
    /// characters as a surrogate pair (Python's `ensure_ascii=True`).
    AsciiLower,
    /// Go: `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`… (non-ASCII otherwise raw).
    GoHtml,
    /// PHP: `/` as `\/` and every non-ASCII character as `\uxxxx`.
    PhpDefault,
    /// .NET's `JavaScriptEncoder.Default`: non-ASCII, DEL and `"&'+<>`` ` as
    /// `\uXXXX`, upper-case hex.
    DotNet,
}

/// Key order of objects as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// As received.
    Received,
    /// Sorted byte-wise (Go's maps).
    Sorted,
    /// ECMAScript property order: integer-like keys first in ascending order, then
    /// the others as received.
    JavaScript,
}

/// One library's way of writing JSON.
#[derive(Debug)]
pub struct Serializer {
    /// Stable id (in reports and `verify`'s output).
    pub id: &'static str,
    /// The library as a finding names it, completing "as … writes it".
    pub writer: &'static str,
    /// The stack a fix is shown for (one of the signature probes' stacks).
    pub stack: &'static str,
    /// How to read the raw body in that stack, completing "fix: …".
    pub fix: &'static str,
    /// Between items (`,` or `, `).
    pub item_separator: &'static str,
    /// Between a key and its value (`:` or `: `).
    pub key_separator: &'static str,
    /// What strings escape.
    pub escapes: Escapes,
    /// How numbers are written.
    pub numbers: Numbers,
    /// Key order.
    pub keys: Keys,
}

const PYTHON_FIX: &str = "verify over `request.get_data()` (Flask) or `request.body` (Django), the bytes as received, and parse them only after the signature matched";

/// Every library spotcheck imitates, in the order the probes are sent.
pub const SERIALIZERS: &[Serializer] = &[
    Serializer {
        id: "python-json-dumps",
        writer: "Python's `json.dumps`",
        stack: "Python",
        fix: PYTHON_FIX,
        item_separator: ", ",
        key_separator: ": ",
        escapes: Escapes::AsciiLower,
        numbers: Numbers::Python,
        keys: Keys::Received,
    },
    Serializer {
        id: "python-json-dumps-utf8",
        writer: "Python's `json.dumps(…, ensure_ascii=False)`",
        stack: "Python",
        fix: PYTHON_FIX,
        item_separator: ", ",
        key_separator: ": ",
        escapes: Escapes::Minimal,
        numbers: Numbers::Python,
        keys: Keys::Received,
    },
    Serializer {
        id: "python-json-dumps-compact",
        writer: "Python's `json.dumps(…, separators=(',', ':'))`",
        stack: "Python",
        fix: PYTHON_FIX,
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::AsciiLower,
        numbers: Numbers::Python,
        keys: Keys::Received,
    },
    Serializer {
        id: "python-json-dumps-compact-utf8",
        writer: "Python's `json.dumps(…, separators=(',', ':'), ensure_ascii=False)`",
        stack: "Python",
        fix: PYTHON_FIX,
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::Minimal,
        numbers: Numbers::Python,
        keys: Keys::Received,
    },
    Serializer {
        id: "javascript-json-stringify",
        writer: "JavaScript's `JSON.stringify`",
        stack: "Node/Express",
        fix: "take the raw body with `express.raw({ type: 'application/json' })` on the webhook route (or the `verify` callback of `express.json()`) and verify that Buffer before parsing",
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::Minimal,
        numbers: Numbers::JavaScript,
        keys: Keys::JavaScript,
    },
    Serializer {
        id: "go-encoding-json",
        writer: "Go's `encoding/json` (`json.Marshal` of the decoded map)",
        stack: "Go",
        fix: "read the body with `io.ReadAll(r.Body)`, verify those bytes, then `json.Unmarshal` them",
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::GoHtml,
        numbers: Numbers::Go,
        keys: Keys::Sorted,
    },
    Serializer {
        id: "jackson",
        writer: "Jackson's default `ObjectMapper`",
        stack: "Java/Spring",
        fix: "take the body as `@RequestBody byte[]` (or `String`), verify it, then map it with `ObjectMapper.readValue`",
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::Minimal,
        numbers: Numbers::Java,
        keys: Keys::Received,
    },
    Serializer {
        id: "php-json-encode",
        writer: "PHP's `json_encode`",
        stack: "PHP",
        fix: "verify over `file_get_contents('php://input')` (Laravel: `$request->getContent()`), then `json_decode` it",
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::PhpDefault,
        numbers: Numbers::Php,
        keys: Keys::Received,
    },
    Serializer {
        id: "ruby-json-generate",
        writer: "Ruby's `JSON.generate`",
        stack: "Ruby",
        fix: "verify over `request.raw_post` (Rails) or `request.body.read` (Rack), then `JSON.parse` it",
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::Minimal,
        numbers: Numbers::Ruby,
        keys: Keys::Received,
    },
    Serializer {
        id: "rust-serde-json",
        writer: "Rust's `serde_json`",
        stack: "Rust",
        fix: "take the body as `Bytes` (axum, actix-web), verify those bytes, then `serde_json::from_slice` them",
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::Minimal,
        numbers: Numbers::Rust,
        keys: Keys::Received,
    },
    Serializer {
        id: "dotnet-system-text-json",
        writer: ".NET's `System.Text.Json` (default options)",
        stack: "C#/ASP.NET",
        fix: "copy `Request.Body` into a byte array (`EnableBuffering`, then `CopyToAsync`), verify it, then deserialize it",
        item_separator: ",",
        key_separator: ":",
        escapes: Escapes::DotNet,
        numbers: Numbers::DotNet,
        keys: Keys::Received,
    },
];

/// The text a probe gives the first traveler as an informal preferred name
/// (`Name.preferred`, a free-text string in both the Trip and the User Management
/// API): a non-ASCII letter (escaped by the ASCII-only libraries, in lower- or
/// upper-case hex), `&` (escaped by Go and .NET) and `/` (escaped by PHP).
pub const PROBE_PREFERRED_NAME: &str = "Zoë (A&B / travel lead)";

/// The reward points a probe pays part of the first amount with
/// (`Money.otherCoinage[].amount`, `type: number, format: double`): an integral
/// double, which Python, Java, Ruby and Rust write `25000.0` and JavaScript, Go, PHP
/// and .NET write `25000`.
pub const PROBE_POINTS: f64 = 25000.0;

/// The value of one point in the booking's currency
/// (`Money.otherCoinage[].conversionRate`, `type: number, format: double`): a
/// one-digit double below 10⁻⁵. Between 10⁻⁴ and 10¹⁶ Python, Ruby and Rust write
/// every double alike, and at 10⁻⁵ JavaScript's `0.00005` is what Rust writes back;
/// at `5e-6` they all differ: Python `5e-06`, Ruby `5.0e-06`, Java `5.0E-6`, PHP
/// `5.0e-6`, .NET `5E-06`, JavaScript and Go `0.000005`, Rust `5e-6`. (The integral
/// [`PROBE_POINTS`] separates JavaScript from Rust only in one direction: Rust reads
/// JavaScript's `25000` back as an integer.) The text and this one number are the
/// smallest set found that separates all 11 × 11 pairs (the unit test
/// `no_library_writes_back_another_librarys_probe_event_unchanged` passes with the
/// points written as the integer `25000`, and fails at `5e-5`, JavaScript and Rust
/// then writing the event alike); no large double (`1e16`, `1e20`), which no
/// plausible amount is, is needed. The points are there because a points payment
/// has an amount; integral, they separate one more direction.
pub const PROBE_CONVERSION_RATE: f64 = 5e-6;

/// The points method of [`probe_event`]'s `otherCoinage` entry (a `PaymentMethod`).
const PROBE_COINAGE: &str = "BREX_POINTS";

/// `event` carrying, inside its payload and in fields Spotnana's published schemas
/// define with that type, values the libraries of [`SERIALIZERS`] all write
/// differently, so that the event as one library writes it is never what another
/// writes back (without them every compact library writes most events alike). The
/// envelope is untouched: a receiver that refuses unknown envelope fields still
/// answers on its signature check alone.
///
/// - the first traveler name of the payload (an object with `given` and `family1`,
///   Spotnana's `Name`) gets [`PROBE_PREFERRED_NAME`] as its `preferred` name;
/// - the first amount (an object with a numeric `amount` and a `currencyCode`,
///   Spotnana's `Money`) gets one `otherCoinage` entry: [`PROBE_POINTS`] points of
///   `BREX_POINTS` at [`PROBE_CONVERSION_RATE`].
///
/// A payload without a `Name` or without a `Money` (a `TRAVELER_V2` profile has no
/// amount) carries what it can: its probes separate fewer libraries (the compact
/// ones writing UTF-8 may write it alike, and then several are accepted, none named).
pub fn probe_event(event: &Value) -> Value {
    let mut event = event.clone();
    if let Some(payload) = event.get_mut("payload") {
        if let Some(name) = first_object(payload, &is_name) {
            name.insert("preferred".to_owned(), Value::from(PROBE_PREFERRED_NAME));
        }
        if let Some(money) = first_object(payload, &is_money) {
            money.insert(
                "otherCoinage".to_owned(),
                serde_json::json!([{
                    "coinageCode": PROBE_COINAGE,
                    "amount": PROBE_POINTS,
                    "conversionRate": PROBE_CONVERSION_RATE,
                }]),
            );
        }
    }
    event
}

/// Spotnana's `Name`: `given` and `family1` strings.
fn is_name(map: &Map<String, Value>) -> bool {
    map.get("given").is_some_and(Value::is_string)
        && map.get("family1").is_some_and(Value::is_string)
}

/// Spotnana's `Money`: a numeric `amount` and a `currencyCode` string.
fn is_money(map: &Map<String, Value>) -> bool {
    map.get("amount").is_some_and(Value::is_number)
        && map.get("currencyCode").is_some_and(Value::is_string)
}

/// The first object (depth first, in document order) that `is` accepts.
fn first_object<'a>(
    value: &'a mut Value,
    is: &dyn Fn(&Map<String, Value>) -> bool,
) -> Option<&'a mut Map<String, Value>> {
    match value {
        Value::Object(map) => {
            if is(map) {
                return Some(map);
            }
            map.values_mut().find_map(|v| first_object(v, is))
        }
        Value::Array(items) => items.iter_mut().find_map(|v| first_object(v, is)),
        _ => None,
    }
}

/// The entry with this id.
pub fn by_id(id: &str) -> Option<&'static Serializer> {
    SERIALIZERS.iter().find(|s| s.id == id)
}

impl Serializer {
    /// `value` as this library writes it.
    pub fn write(&self, value: &Value) -> Vec<u8> {
        let ordered;
        let value = match self.keys {
            Keys::Received => value,
            keys => {
                ordered = reorder(value, keys);
                &ordered
            }
        };
        let mut out = Vec::new();
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut out, LibraryFormatter(self));
        value
            .serialize(&mut serializer)
            .expect("writing JSON into memory cannot fail");
        out
    }

    /// `body` parsed and written back by this library; `None` when it is not JSON.
    pub fn rewrite(&self, body: &[u8]) -> Option<Vec<u8>> {
        let value: Value = serde_json::from_slice(body).ok()?;
        Some(self.write(&value))
    }
}

/// `value` with every object's keys in `keys` order.
fn reorder(value: &Value, keys: Keys) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| reorder(v, keys)).collect()),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            match keys {
                Keys::Sorted => entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes())),
                Keys::JavaScript => {
                    // Stable: the non-index keys keep their order after the indices.
                    entries.sort_by_key(|(k, _)| array_index(k).unwrap_or(u64::MAX));
                }
                Keys::Received => {}
            }
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k.clone(), reorder(v, keys));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// An ECMAScript array index: a canonical decimal below 2³² − 1.
fn array_index(key: &str) -> Option<u64> {
    let n: u64 = key.parse().ok()?;
    (n.to_string() == key && n < u64::from(u32::MAX)).then_some(n)
}

/// The same bytes with every non-ASCII character replaced by an ASCII one (its
/// letter without accents where there is one, `?` otherwise): the event as an
/// endpoint that re-encodes text (and nothing else) would write it. Non-ASCII bytes
/// of valid JSON can only be inside strings, so the result is the same JSON with
/// ASCII-only text; `None` when the body is not UTF-8 or has no non-ASCII text.
pub fn ascii_only(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    if text.is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        out.push(if c.is_ascii() { c } else { fold(c) });
    }
    Some(out.into_bytes())
}

/// A Latin letter without its accent, or `?`.
fn fold(c: char) -> char {
    const FOLDS: &[(&str, char)] = &[
        ("ÀÁÂÃÄÅĀĂĄ", 'A'),
        ("àáâãäåāăą", 'a'),
        ("ÇĆĈĊČ", 'C'),
        ("çćĉċč", 'c'),
        ("ÈÉÊËĒĔĖĘĚ", 'E'),
        ("èéêëēĕėęě", 'e'),
        ("ĞĜĠĢ", 'G'),
        ("ğĝġģ", 'g'),
        ("ÌÍÎÏĨĪĬĮİ", 'I'),
        ("ìíîïĩīĭįı", 'i'),
        ("ÑŃŅŇ", 'N'),
        ("ñńņň", 'n'),
        ("ÒÓÔÕÖØŌŎŐ", 'O'),
        ("òóôõöøōŏő", 'o'),
        ("ŚŜŞŠ", 'S'),
        ("śŝşšß", 's'),
        ("ÙÚÛÜŨŪŬŮŰŲ", 'U'),
        ("ùúûüũūŭůűų", 'u'),
        ("ÝŸ", 'Y'),
        ("ýÿ", 'y'),
        ("ŹŻŽ", 'Z'),
        ("źżž", 'z'),
    ];
    FOLDS
        .iter()
        .find(|(from, _)| from.contains(c))
        .map_or('?', |(_, to)| *to)
}

/// Writes JSON the way one [`Serializer`] does.
struct LibraryFormatter<'a>(&'a Serializer);

fn hex4(out: &mut String, unit: u16, upper: bool) {
    use std::fmt::Write;
    let _ = if upper {
        write!(out, "\\u{unit:04X}")
    } else {
        write!(out, "\\u{unit:04x}")
    };
}

fn escape_char(out: &mut String, c: char, upper: bool) {
    let mut units = [0u16; 2];
    for unit in c.encode_utf16(&mut units) {
        hex4(out, *unit, upper);
    }
}

impl LibraryFormatter<'_> {
    fn upper_hex(&self) -> bool {
        matches!(self.0.numbers, Numbers::Java | Numbers::DotNet)
    }

    fn number(&self, value: f64) -> String {
        format_double(self.0.numbers, value)
    }
}

impl Formatter for LibraryFormatter<'_> {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(self.0.item_separator.as_bytes())
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(self.0.item_separator.as_bytes())
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(self.0.key_separator.as_bytes())
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(self.number(value).as_bytes())
    }

    fn write_u64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: u64) -> io::Result<()> {
        match self.0.numbers {
            // Every number is a double there.
            Numbers::JavaScript | Numbers::Go => self.write_f64(writer, value as f64),
            // Beyond PHP_INT_MAX json_decode gives a float.
            Numbers::Php if value > i64::MAX as u64 => self.write_f64(writer, value as f64),
            _ => writer.write_all(value.to_string().as_bytes()),
        }
    }

    fn write_i64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: i64) -> io::Result<()> {
        match self.0.numbers {
            Numbers::JavaScript | Numbers::Go => self.write_f64(writer, value as f64),
            _ => writer.write_all(value.to_string().as_bytes()),
        }
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let escapes = self.0.escapes;
        if escapes == Escapes::Minimal {
            return writer.write_all(fragment.as_bytes());
        }
        let upper = self.upper_hex();
        let mut out = String::with_capacity(fragment.len());
        for c in fragment.chars() {
            let escape = match escapes {
                Escapes::Minimal => false,
                Escapes::AsciiLower => !c.is_ascii() || c == '\u{7f}',
                Escapes::GoHtml => matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}'),
                Escapes::PhpDefault => {
                    if c == '/' {
                        out.push_str("\\/");
                        continue;
                    }
                    !c.is_ascii()
                }
                Escapes::DotNet => {
                    !c.is_ascii() || matches!(c, '\u{7f}' | '&' | '\'' | '+' | '<' | '>' | '`')
                }
            };
            if escape {
                escape_char(&mut out, c, upper);
            } else {
                out.push(c);
            }
        }
        writer.write_all(out.as_bytes())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        let text: String = match char_escape {
            CharEscape::Quote if self.0.escapes == Escapes::DotNet => "\\u0022".to_owned(),
            CharEscape::Quote => "\\\"".to_owned(),
            CharEscape::ReverseSolidus => "\\\\".to_owned(),
            CharEscape::Solidus => "\\/".to_owned(),
            CharEscape::Backspace => "\\b".to_owned(),
            CharEscape::FormFeed => "\\f".to_owned(),
            CharEscape::LineFeed => "\\n".to_owned(),
            CharEscape::CarriageReturn => "\\r".to_owned(),
            CharEscape::Tab => "\\t".to_owned(),
            CharEscape::AsciiControl(byte) => {
                let mut out = String::new();
                hex4(&mut out, u16::from(byte), self.upper_hex());
                out
            }
        };
        writer.write_all(text.as_bytes())
    }
}

/// The shortest decimal digits of `value` (no sign, no leading zeros) and the
/// exponent of its first digit: `1.5` is `("15", 0)`, `0.001` is `("1", -3)`.
fn shortest(value: f64) -> (String, i32) {
    // Rust's `{:e}` writes the shortest representation that reads back the same.
    let text = format!("{:e}", value.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// `digits` with its first digit at 10^`exponent`, in positional notation.
fn positional(digits: &str, exponent: i32, point_zero: bool) -> String {
    let point = exponent + 1;
    let len = digits.len() as i32;
    if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point >= len {
        let zeros = "0".repeat((point - len) as usize);
        if point_zero {
            format!("{digits}{zeros}.0")
        } else {
            format!("{digits}{zeros}")
        }
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    }
}

/// `digits` in scientific notation: `d[.ddd]<e><sign><exponent>`.
fn scientific(
    digits: &str,
    exponent: i32,
    point_zero: bool,
    e: &str,
    plus: bool,
    min_exp_digits: usize,
) -> String {
    let (first, rest) = digits.split_at(1);
    let mantissa = if !rest.is_empty() {
        format!("{first}.{rest}")
    } else if point_zero {
        format!("{first}.0")
    } else {
        first.to_owned()
    };
    let sign = if exponent < 0 {
        "-"
    } else if plus {
        "+"
    } else {
        ""
    };
    let magnitude = exponent.unsigned_abs();
    format!("{mantissa}{e}{sign}{magnitude:0min_exp_digits$}")
}

/// A double as the library writes it.
pub fn format_double(numbers: Numbers, value: f64) -> String {
    if !value.is_finite() {
        return "null".to_owned();
    }
    let (digits, exp) = shortest(value);
    let sign = if value < 0.0 { "-" } else { "" };
    let body = match numbers {
        Numbers::Python if (-4..16).contains(&exp) => positional(&digits, exp, true),
        Numbers::Python => scientific(&digits, exp, false, "e", true, 2),
        Numbers::JavaScript | Numbers::Go if (-6..21).contains(&exp) => {
            positional(&digits, exp, false)
        }
        Numbers::JavaScript | Numbers::Go => scientific(&digits, exp, false, "e", true, 1),
        Numbers::Java if (-3..7).contains(&exp) => positional(&digits, exp, true),
        Numbers::Java => scientific(&digits, exp, true, "E", false, 1),
        Numbers::Php if (-4..17).contains(&exp) => positional(&digits, exp, false),
        Numbers::Php => scientific(&digits, exp, true, "e", true, 1),
        Numbers::Ruby if (-4..16).contains(&exp) => positional(&digits, exp, true),
        Numbers::Ruby => scientific(&digits, exp, true, "e", true, 2),
        Numbers::Rust => return serde_json::to_string(&value).unwrap_or_default(),
        Numbers::DotNet if (-4..15).contains(&exp) => positional(&digits, exp, false),
        Numbers::DotNet => scientific(&digits, exp, false, "E", true, 2),
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(id: &str, json: &str) -> String {
        String::from_utf8(by_id(id).unwrap().rewrite(json.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn numbers_as_each_language_writes_them() {
        let cases: &[(Numbers, &[(f64, &str)])] = &[
            (
                Numbers::Python,
                &[
                    (1.5, "1.5"),
                    (100.0, "100.0"),
                    (1e16, "1e+16"),
                    (1e15, "1000000000000000.0"),
                    (1e-7, "1e-07"),
                    (0.0001, "0.0001"),
                    (-2.25, "-2.25"),
                ],
            ),
            (
                Numbers::JavaScript,
                &[
                    (1.5, "1.5"),
                    (100.0, "100"),
                    (1e21, "1e+21"),
                    (1e20, "100000000000000000000"),
                    (1e-7, "1e-7"),
                    (0.000001, "0.000001"),
                ],
            ),
            (
                Numbers::Java,
                &[
                    (1.5, "1.5"),
                    (100.0, "100.0"),
                    (1e7, "1.0E7"),
                    (0.0001, "1.0E-4"),
                    (0.001, "0.001"),
                ],
            ),
            (
                Numbers::Php,
                &[
                    (1.5, "1.5"),
                    (100.0, "100"),
                    (1e16, "10000000000000000"),
                    (1e17, "1.0e+17"),
                    (1e-5, "1.0e-5"),
                ],
            ),
            (
                Numbers::Ruby,
                &[
                    (1.5, "1.5"),
                    (100.0, "100.0"),
                    (1e16, "1.0e+16"),
                    (1e-5, "1.0e-05"),
                ],
            ),
            (
                Numbers::DotNet,
                &[
                    (1.5, "1.5"),
                    (100.0, "100"),
                    (1e15, "1E+15"),
                    (1e-5, "1E-05"),
                ],
            ),
        ];
        for (numbers, values) in cases {
            for (value, text) in *values {
                assert_eq!(
                    format_double(*numbers, *value),
                    *text,
                    "{numbers:?} {value}"
                );
            }
        }
    }

    #[test]
    fn each_library_writes_its_own_bytes() {
        let json = r#"{"b":"Zoë </a> & / 🧳","a":1.50,"n":7,"2":true}"#;
        assert_eq!(
            written("python-json-dumps", json),
            r#"{"b": "Zo\u00eb </a> & / \ud83e\uddf3", "a": 1.5, "n": 7, "2": true}"#
        );
        assert_eq!(
            written("python-json-dumps-compact-utf8", json),
            r#"{"b":"Zoë </a> & / 🧳","a":1.5,"n":7,"2":true}"#
        );
        assert_eq!(
            written("javascript-json-stringify", json),
            r#"{"2":true,"b":"Zoë </a> & / 🧳","a":1.5,"n":7}"#
        );
        assert_eq!(
            written("go-encoding-json", json),
            r#"{"2":true,"a":1.5,"b":"Zoë \u003c/a\u003e \u0026 / 🧳","n":7}"#
        );
        assert_eq!(
            written("php-json-encode", json),
            r#"{"b":"Zo\u00eb <\/a> & \/ \ud83e\uddf3","a":1.5,"n":7,"2":true}"#
        );
        assert_eq!(
            written("dotnet-system-text-json", r#"{"q":"a\"b+é"}"#),
            r#"{"q":"a\u0022b\u002B\u00E9"}"#
        );
    }

    /// A generated event of `kind` (seeded).
    fn generated(kind: &str) -> Value {
        let kind: crate::event::EventKind = kind.parse().unwrap();
        let spec = crate::event::EventSpec {
            kind,
            organization_id: "7c1f0c4e-2b7a-4a5e-9a55-0d6f4e1f2a10",
            message_time: time::macros::datetime!(2026-12-07 21:00:01.049 UTC),
            style: crate::event::EnvelopeStyle::default(),
            pnr_id: None,
        };
        crate::event::build_event(&spec, &mut crate::event::random::rng(19))
    }

    /// What a probe relies on: the probe event as one library writes it is never a
    /// fixed point of another library (parsed and written back, it changes), so an
    /// endpoint verifying over one library's output accepts that library's probe
    /// only. 11 × 11 pairs, on generated `PNR_V3` and `TRIP_DETAILS_V3` events.
    #[test]
    fn no_library_writes_back_another_librarys_probe_event_unchanged() {
        for kind in ["PNR_V3/BOOKING_TICKETED", "TRIP_DETAILS_V3/TRIP_UPDATED"] {
            let probe = probe_event(&generated(kind));
            for sent in SERIALIZERS {
                let bytes = sent.write(&probe);
                for verifier in SERIALIZERS {
                    let back = verifier.rewrite(&bytes).unwrap();
                    assert_eq!(
                        back == bytes,
                        sent.id == verifier.id,
                        "{kind}: {} written back by {}",
                        sent.id,
                        verifier.id,
                    );
                }
            }
        }
    }

    /// The probe event is what Spotnana sends: the envelope's keys unchanged, the
    /// payload valid against the published schema, the values where the doc says.
    #[test]
    fn the_probe_event_stays_as_documented() {
        use crate::event::schema::PayloadSchema;
        for (kind, event_type, name_at, money_at) in [
            (
                "PNR_V3/BOOKING_TICKETED",
                crate::event::EventType::PnrV3,
                "/pnrTravelers/0/personalInfo/name",
                Some("/airPnr/travelerInfos/0/tickets/0/amount/base"),
            ),
            (
                "TRIP_DETAILS_V3/TRIP_UPDATED",
                crate::event::EventType::TripDetailsV3,
                "/pnrs/0/data/pnrTravelers/0/personalInfo/name",
                Some("/pnrs/0/data/airPnr/travelerInfos/0/tickets/0/amount/base"),
            ),
            (
                "TRAVELER_V2/CREATE",
                crate::event::EventType::TravelerV2,
                "/personalInfo/name",
                None,
            ),
        ] {
            let event = generated(kind);
            let probe = probe_event(&event);
            let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(&probe), keys(&event), "{kind}");
            let payload = &probe["payload"];
            let schema = PayloadSchema::of(event_type).unwrap();
            assert!(
                schema.violations(payload).is_empty(),
                "{kind}: {:?}",
                schema.violations(payload)
            );
            assert_eq!(
                payload.pointer(&format!("{name_at}/preferred")),
                Some(&Value::from(PROBE_PREFERRED_NAME)),
                "{kind}"
            );
            if let Some(money_at) = money_at {
                assert_eq!(
                    payload.pointer(&format!("{money_at}/otherCoinage/0/conversionRate")),
                    Some(&Value::from(PROBE_CONVERSION_RATE)),
                    "{kind}"
                );
            }
            let coinage = serde_json::to_string(payload)
                .unwrap()
                .contains("otherCoinage");
            assert_eq!(coinage, money_at.is_some(), "{kind}");
        }
    }

    #[test]
    fn ascii_only_keeps_every_ascii_byte() {
        let body = "{\"name\":\"Zoë Ångström 東京\",\"amount\":1.50}".as_bytes();
        assert_eq!(
            ascii_only(body).unwrap(),
            b"{\"name\":\"Zoe Angstrom ??\",\"amount\":1.50}"
        );
        assert!(ascii_only(b"{\"a\":1}").is_none());
    }
}
