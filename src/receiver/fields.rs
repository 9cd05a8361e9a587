//! The few envelope fields the receiver acts on, read in one pass over the body
//! without building its JSON tree.
//!
//! A `serde_json::Value` of a 3 KiB PNR is a few hundred allocations; building and
//! dropping it was most of the reference receiver's CPU under load. Here the body is
//! still checked to be one well-formed JSON document in UTF-8, but everything except
//! five strings is skipped as it is read (`IgnoredAny`). The answers are those of
//! reading a `Value` and looking the fields up: a field holding anything but a
//! string is absent, `eventType` wins over `event_type` when both are there (whatever
//! it holds), and of repeated keys the last one counts. One difference: a value that
//! is skipped is not converted, so a number beyond `f64` or a lone surrogate escape
//! (`"\ud800"`) in a field the receiver does not read is not an error here (RFC 8259
//! leaves both to implementations).

use std::fmt;

use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The parts of an envelope the receiver acts on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// `eventType` (or, without it, `event_type`).
    pub(crate) event_type: Option<String>,
    /// `operation`.
    pub(crate) operation: Option<String>,
    /// `audience.organizationId`.
    pub(crate) organization_id: Option<String>,
    /// `payload.pnrId`.
    pub(crate) pnr_id: Option<String>,
    /// `timestamp`.
    pub(crate) timestamp: Option<String>,
}

/// Reads the fields of the envelope in `body`; an error says why it is not a JSON
/// object.
pub(crate) fn parse(body: &[u8]) -> Result<Parsed, String> {
    let Ok(text) = std::str::from_utf8(body) else {
        // Skipped strings are not checked for UTF-8: the whole body is, and serde_json
        // says where it goes wrong.
        let err = serde_json::from_slice::<serde_json::Value>(body)
            .err()
            .map_or_else(|| "invalid UTF-8".to_owned(), |err| err.to_string());
        return Err(format!("the body is not JSON: {err}"));
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let kept = Keep::Envelope
        .deserialize(&mut deserializer)
        .and_then(|kept| deserializer.end().map(|()| kept))
        .map_err(|err| format!("the body is not JSON: {err}"))?;
    match kept {
        Kept::Envelope(parsed) => Ok(parsed),
        _ => Err("the body is JSON but not an object".to_owned()),
    }
}

/// What to keep of the JSON value being read.
#[derive(Debug, Clone, Copy)]
enum Keep {
    /// The value if it is a string.
    Text,
    /// The string under this key, if the value is an object holding one.
    Field(&'static str),
    /// The envelope's fields, if the value is an object.
    Envelope,
}

/// What was kept.
enum Kept {
    Nothing,
    Text(String),
    Envelope(Parsed),
}

impl Kept {
    fn text(self) -> Option<String> {
        match self {
            Kept::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// The envelope keys read; any other key's value is skipped.
const ENVELOPE_KEYS: &[&str] = &[
    "eventType",
    "event_type",
    "operation",
    "timestamp",
    "audience",
    "payload",
];

impl<'de> DeserializeSeed<'de> for Keep {
    type Value = Kept;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Kept, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Keep {
    type Value = Kept;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Kept, E> {
        Ok(Kept::Nothing)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Kept, E> {
        Ok(Kept::Nothing)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Kept, E> {
        Ok(Kept::Nothing)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Kept, E> {
        Ok(Kept::Nothing)
    }

    fn visit_unit<E>(self) -> Result<Kept, E> {
        Ok(Kept::Nothing)
    }

    fn visit_str<E>(self, value: &str) -> Result<Kept, E> {
        Ok(match self {
            Keep::Text => Kept::Text(value.to_owned()),
            _ => Kept::Nothing,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kept, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Kept::Nothing)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kept, A::Error> {
        match self {
            Keep::Text => {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Kept::Nothing)
            }
            Keep::Field(wanted) => {
                let mut found = None;
                let keys = [wanted];
                while let Some(index) = map.next_key_seed(KeyIndex(&keys))? {
                    match index {
                        Some(_) => found = map.next_value_seed(Keep::Text)?.text(),
                        None => drop(map.next_value::<IgnoredAny>()?),
                    }
                }
                Ok(found.map_or(Kept::Nothing, Kept::Text))
            }
            Keep::Envelope => {
                let mut parsed = Parsed::default();
                // `eventType` present (whatever it holds) hides `event_type`.
                let mut camel: Option<Option<String>> = None;
                let mut snake = None;
                while let Some(index) = map.next_key_seed(KeyIndex(ENVELOPE_KEYS))? {
                    let seed = match index {
                        Some(0..=3) => Keep::Text,
                        Some(4) => Keep::Field("organizationId"),
                        Some(_) => Keep::Field("pnrId"),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    let value = map.next_value_seed(seed)?.text();
                    match index {
                        Some(0) => camel = Some(value),
                        Some(1) => snake = value,
                        Some(2) => parsed.operation = value,
                        Some(3) => parsed.timestamp = value,
                        Some(4) => parsed.organization_id = value,
                        _ => parsed.pnr_id = value,
                    }
                }
                parsed.event_type = camel.unwrap_or(snake);
                Ok(Kept::Envelope(parsed))
            }
        }
    }
}

/// Reads an object key and gives its index in the list, without copying it.
struct KeyIndex<'k>(&'k [&'k str]);

impl<'de> DeserializeSeed<'de> for KeyIndex<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIndex<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|known| *known == key))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// The reading this module replaces: the whole `Value`, then lookups.
    fn by_value(body: &[u8]) -> Result<Parsed, String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|err| format!("the body is not JSON: {err}"))?;
        let Value::Object(envelope) = value else {
            return Err("the body is JSON but not an object".to_owned());
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        Ok(Parsed {
            event_type: text(
                envelope
                    .get("eventType")
                    .or_else(|| envelope.get("event_type")),
            ),
            operation: text(envelope.get("operation")),
            organization_id: text(
                envelope
                    .get("audience")
                    .and_then(|a| a.get("organizationId")),
            ),
            pnr_id: text(envelope.get("payload").and_then(|p| p.get("pnrId"))),
            timestamp: text(envelope.get("timestamp")),
        })
    }

    #[test]
    fn a_spotnana_envelope_gives_its_fields() {
        let body = json!({
            "eventType": "PNR_V3",
            "operation": "BOOKING_TICKETED",
            "timestamp": "2026-11-29T09:00:00Z",
            "audience": {"organizationId": "org-1", "extra": [1, 2, {"a": null}]},
            "payload": {"pnrId": "pnr-7", "legs": [{"from": "SFO"}], "price": 12.5},
            "unknown": {"operation": "not this one"},
        });
        let parsed = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            parsed,
            Parsed {
                event_type: Some("PNR_V3".into()),
                operation: Some("BOOKING_TICKETED".into()),
                organization_id: Some("org-1".into()),
                pnr_id: Some("pnr-7".into()),
                timestamp: Some("2026-11-29T09:00:00Z".into()),
            }
        );
    }

    #[test]
    fn odd_bodies_read_as_the_whole_value_reads_them() {
        for body in [
            r#"{"event_type":"PNR_V3","eventType":7}"#,
            r#"{"event_type":"PNR_V3"}"#,
            r#"{"operation":"A","operation":"B","payload":{"pnrId":"x","pnrId":1}}"#,
            r#"{"payload":{"pnrId":"x"},"payload":"flat"}"#,
            r#"{"audience":["organizationId","x"],"pn\u0072Id":"escaped key"}"#,
            r#"{"payload":{"pnr\u0049d":"escaped \"value\" \u00e9"}}"#,
            r#"{}"#,
            r#"[{"eventType":"PNR_V3"}]"#,
            r#""just a string""#,
            "null",
            "",
            r#"{"eventType":"PNR_V3"} trailing"#,
            r#"{"eventType":"PNR_V3""#,
            r#"{"eventType":"\ud800"}"#,
        ] {
            assert_eq!(parse(body.as_bytes()), by_value(body.as_bytes()), "{body}");
        }
        // Invalid UTF-8 in a field that is skipped still makes the body not JSON.
        let body = b"{\"payload\":{\"note\":\"caf\xe9\"}}";
        let err = parse(body).unwrap_err();
        assert!(
            err.starts_with("the body is not JSON: invalid unicode"),
            "{err}"
        );
        assert_eq!(Err(err), by_value(body));
    }

    /// JSON values that often hold the keys the receiver reads.
    fn envelope_like() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("eventType".to_owned()),
            Just("event_type".to_owned()),
            Just("operation".to_owned()),
            Just("timestamp".to_owned()),
            Just("audience".to_owned()),
            Just("payload".to_owned()),
            Just("organizationId".to_owned()),
            Just("pnrId".to_owned()),
            "[a-z\"\\\\é]{0,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
            "[a-zA-Z0-9 \"\\\\\u{e9}\u{1f600}]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// On any JSON (and on any bytes), the one-pass reading agrees with reading the
        /// whole value.
        #[test]
        fn agrees_with_the_whole_value(value in envelope_like()) {
            let body = serde_json::to_vec(&value).unwrap();
            prop_assert_eq!(parse(&body), by_value(&body));
        }

        #[test]
        fn agrees_on_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(parse(&body), by_value(&body));
        }

        /// Duplicate keys (which a `Value` built from them cannot show): the raw text
        /// with a key repeated.
        #[test]
        fn agrees_with_repeated_keys(first in envelope_like(), second in envelope_like()) {
            let (Value::Object(a), Value::Object(b)) = (&first, &second) else {
                return Ok(());
            };
            let a = serde_json::to_string(a).unwrap();
            let b = serde_json::to_string(b).unwrap();
            let (a, b) = (&a[1..a.len() - 1], &b[1..b.len() - 1]);
            let comma = if a.is_empty() || b.is_empty() { "" } else { "," };
            let body = format!("{{{a}{comma}{b}}}");
            prop_assert_eq!(parse(body.as_bytes()), by_value(body.as_bytes()));
        }
    }
}
