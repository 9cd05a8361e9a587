//! The expected HTTP status of a step: a code, a list of codes, or a class.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// What `expect.status` accepts, written in a scenario file as
/// `200`, `[401, 403]`, or one of `"2xx"`, `"4xx"`, `"5xx"`, `"not-2xx"`, `"not-200"`, `"not-5xx"`,
/// `"any"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusExpect {
    /// Exactly this code.
    Code(u16),
    /// Any of these codes.
    AnyOf(Vec<u16>),
    /// A class of codes.
    Class(StatusClass),
}

/// A class of status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// `2xx`: 200–299.
    Success,
    /// `4xx`: 400–499.
    ClientError,
    /// `5xx`: 500–599.
    ServerError,
    /// `not-2xx`: anything outside 200–299 (how a refusal is judged).
    NotSuccess,
    /// `not-200`: anything but exactly 200.
    Not200,
    /// `not-5xx`: anything outside 500–599.
    NotServerError,
    /// `any`: every status (a step that judges only time, such as `delivery.latency`).
    Any,
}

impl StatusClass {
    /// Every class with its spelling in scenario files.
    pub const ALL: [(&'static str, StatusClass); 7] = [
        ("2xx", StatusClass::Success),
        ("4xx", StatusClass::ClientError),
        ("5xx", StatusClass::ServerError),
        ("not-2xx", StatusClass::NotSuccess),
        ("not-200", StatusClass::Not200),
        ("not-5xx", StatusClass::NotServerError),
        ("any", StatusClass::Any),
    ];

    /// The spelling in scenario files.
    pub fn as_str(self) -> &'static str {
        StatusClass::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(s, _)| *s)
            .unwrap_or("?")
    }

    /// Whether `status` is in the class.
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusClass::Success => (200..300).contains(&status),
            StatusClass::ClientError => (400..500).contains(&status),
            StatusClass::ServerError => (500..600).contains(&status),
            StatusClass::NotSuccess => !(200..300).contains(&status),
            StatusClass::Not200 => status != 200,
            StatusClass::NotServerError => !(500..600).contains(&status),
            StatusClass::Any => true,
        }
    }
}

impl StatusExpect {
    /// Whether a response with `status` meets the expectation.
    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusExpect::Code(code) => *code == status,
            StatusExpect::AnyOf(codes) => codes.contains(&status),
            StatusExpect::Class(class) => class.matches(status),
        }
    }

    /// Parses the string form (`"2xx"`, `"not-200"`, or a code written as a string, `"200"`).
    pub fn parse_str(text: &str) -> Result<StatusExpect, StatusError> {
        let trimmed = text.trim();
        if let Some((_, class)) = StatusClass::ALL.iter().find(|(s, _)| *s == trimmed) {
            return Ok(StatusExpect::Class(*class));
        }
        if let Ok(code) = trimmed.parse::<i64>() {
            return check_code(code).map(StatusExpect::Code);
        }
        let lower = trimmed.to_ascii_lowercase();
        Err(StatusError {
            what: format!("`{text}` is not a status form"),
            suggestion: crate::event::catalogue::closest(
                &lower,
                StatusClass::ALL.iter().map(|(s, _)| *s),
            ),
        })
    }

    /// Checks a status as written in any TOML form: the one place each form's rule
    /// lives, for the deserializer and for diagnostics that look at the document.
    pub(crate) fn from_written(written: Written<'_>) -> Result<StatusExpect, StatusError> {
        let not_a_status = |what: String| StatusError {
            what: format!("{what} is not a status"),
            suggestion: None,
        };
        match written {
            Written::Integer(code) => check_code(code).map(StatusExpect::Code),
            Written::Text(text) => StatusExpect::parse_str(text),
            Written::Bool(v) => Err(not_a_status(format!("`{v}`"))),
            Written::Float(v) => Err(not_a_status(format!("`{v}`"))),
            Written::Table => Err(not_a_status("a table".to_owned())),
            Written::List(codes) if codes.is_empty() => Err(StatusError {
                what: "an empty list matches no status".to_owned(),
                suggestion: None,
            }),
            Written::List(codes) => codes
                .into_iter()
                .map(check_code)
                .collect::<Result<_, _>>()
                .map(StatusExpect::AnyOf),
        }
    }
}

/// A status value as written in TOML, before its rule is checked.
pub(crate) enum Written<'a> {
    /// `status = 200`
    Integer(i64),
    /// `status = "4xx"` (or a code as a string)
    Text(&'a str),
    /// `status = true`
    Bool(bool),
    /// `status = 2.5`
    Float(f64),
    /// `status = [401, 403]`
    List(Vec<i64>),
    /// `status = { … }`
    Table,
}

/// Why a value is not a status: what is wrong with it and, for a misspelt class, the
/// closest one. Displayed with the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}; {ACCEPTED}{}", .suggestion.map(|s| format!(" (did you mean \"{s}\"?)")).unwrap_or_default())]
pub struct StatusError {
    /// What was written and why it is not a status, e.g. "`not200` is not a status form".
    pub what: String,
    /// The class spelling closest to what was written.
    pub suggestion: Option<&'static str>,
}

/// The accepted forms, for messages.
pub const ACCEPTED: &str = "expected a status code (200), a list of codes ([401, 403]), or one of \
\"2xx\", \"4xx\", \"5xx\", \"not-2xx\", \"not-200\", \"not-5xx\", \"any\"";

fn check_code(code: i64) -> Result<u16, StatusError> {
    if (100..=599).contains(&code) {
        Ok(code as u16)
    } else {
        Err(StatusError {
            what: format!("{code} is not an HTTP status code (100 to 599)"),
            suggestion: None,
        })
    }
}

impl fmt::Display for StatusExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusExpect::Code(code) => write!(f, "{code}"),
            StatusExpect::AnyOf(codes) => {
                let list: Vec<String> = codes.iter().map(u16::to_string).collect();
                write!(f, "one of {}", list.join(", "))
            }
            StatusExpect::Class(class) => f.write_str(class.as_str()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for StatusExpect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StatusExpect, D::Error> {
        deserializer.deserialize_any(StatusVisitor)
    }
}

struct StatusVisitor;

impl<'de> Visitor<'de> for StatusVisitor {
    type Value = StatusExpect;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ACCEPTED.trim_start_matches("expected "))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusExpect, E> {
        StatusExpect::from_written(Written::Integer(v)).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusExpect, E> {
        self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusExpect, E> {
        StatusExpect::from_written(Written::Text(v)).map_err(E::custom)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<StatusExpect, E> {
        StatusExpect::from_written(Written::Bool(v)).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<StatusExpect, E> {
        StatusExpect::from_written(Written::Float(v)).map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusExpect, A::Error> {
        let mut codes = Vec::new();
        while let Some(code) = seq.next_element::<i64>()? {
            // Refused at the first bad code, before a later element is read.
            check_code(code).map_err(de::Error::custom)?;
            codes.push(code);
        }
        StatusExpect::from_written(Written::List(codes)).map_err(de::Error::custom)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _map: A) -> Result<StatusExpect, A::Error> {
        StatusExpect::from_written(Written::Table).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::status::{StatusClass, StatusExpect};

    #[derive(serde::Deserialize)]
    struct Holder {
        status: StatusExpect,
    }

    fn parse(toml_text: &str) -> Result<StatusExpect, String> {
        toml::from_str::<Holder>(toml_text)
            .map(|h| h.status)
            .map_err(|e| e.message().to_owned())
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(parse("status = 200"), Ok(StatusExpect::Code(200)));
        assert_eq!(
            parse("status = [401, 403]"),
            Ok(StatusExpect::AnyOf(vec![401, 403]))
        );
        assert_eq!(
            parse("status = \"4xx\""),
            Ok(StatusExpect::Class(StatusClass::ClientError))
        );
        assert_eq!(
            parse("status = \"not-2xx\""),
            Ok(StatusExpect::Class(StatusClass::NotSuccess))
        );
        assert_eq!(parse("status = \"204\""), Ok(StatusExpect::Code(204)));
    }

    #[test]
    fn rejected_forms_list_what_is_accepted() {
        let err = parse("status = \"not200\"").unwrap_err();
        assert!(err.contains("did you mean \"not-200\"?"), "{err}");
        assert!(err.contains("\"not-5xx\""), "{err}");
        let err = parse("status = true").unwrap_err();
        assert!(err.contains("a list of codes"), "{err}");
        assert!(parse("status = 999").unwrap_err().contains("100 to 599"));
        assert!(parse("status = []").unwrap_err().contains("empty list"));
        assert!(parse("status = [200, \"x\"]").is_err());
    }

    #[test]
    fn matching() {
        let not2xx = StatusExpect::Class(StatusClass::NotSuccess);
        assert!(not2xx.matches(401) && not2xx.matches(500) && not2xx.matches(302));
        assert!(!not2xx.matches(200) && !not2xx.matches(204));
        assert!(StatusExpect::Class(StatusClass::Not200).matches(202));
        assert!(!StatusExpect::Class(StatusClass::NotServerError).matches(503));
        let any = StatusExpect::Class(StatusClass::Any);
        assert!(any.matches(202) && any.matches(401) && any.matches(500));
        assert!(StatusExpect::AnyOf(vec![401, 403]).matches(403));
        assert!(!StatusExpect::Code(200).matches(201));
        assert_eq!(
            StatusExpect::AnyOf(vec![401, 403]).to_string(),
            "one of 401, 403"
        );
    }
}
