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
    pub fn parse_str(text: &str) -> Result<StatusExpect, String> {
        let trimmed = text.trim();
        if let Some((_, class)) = StatusClass::ALL.iter().find(|(s, _)| *s == trimmed) {
            return Ok(StatusExpect::Class(*class));
        }
        if let Ok(code) = trimmed.parse::<i64>() {
            return check_code(code).map(StatusExpect::Code);
        }
        let mut message = format!("`{text}` is not a status form; {ACCEPTED}");
        let lower = trimmed.to_ascii_lowercase();
        if let Some(suggestion) =
            crate::event::catalogue::closest(&lower, StatusClass::ALL.iter().map(|(s, _)| *s))
        {
            message.push_str(&format!(" (did you mean \"{suggestion}\"?)"));
        }
        Err(message)
    }
}

/// The accepted forms, for messages.
pub const ACCEPTED: &str = "expected a status code (200), a list of codes ([401, 403]), or one of \
\"2xx\", \"4xx\", \"5xx\", \"not-2xx\", \"not-200\", \"not-5xx\", \"any\"";

fn check_code(code: i64) -> Result<u16, String> {
    if (100..=599).contains(&code) {
        Ok(code as u16)
    } else {
        Err(format!(
            "{code} is not an HTTP status code (100 to 599); {ACCEPTED}"
        ))
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
        check_code(v).map(StatusExpect::Code).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusExpect, E> {
        self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusExpect, E> {
        StatusExpect::parse_str(v).map_err(E::custom)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<StatusExpect, E> {
        Err(E::custom(format!("`{v}` is not a status; {ACCEPTED}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<StatusExpect, E> {
        Err(E::custom(format!("`{v}` is not a status; {ACCEPTED}")))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusExpect, A::Error> {
        let mut codes = Vec::new();
        while let Some(code) = seq.next_element::<i64>()? {
            codes.push(check_code(code).map_err(de::Error::custom)?);
        }
        if codes.is_empty() {
            return Err(de::Error::custom(format!(
                "an empty list matches no status; {ACCEPTED}"
            )));
        }
        Ok(StatusExpect::AnyOf(codes))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _map: A) -> Result<StatusExpect, A::Error> {
        Err(de::Error::custom(format!(
            "a table is not a status; {ACCEPTED}"
        )))
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
