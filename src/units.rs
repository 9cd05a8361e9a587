//! Durations (`200ms`, `2s`, `1.5s`), signed offsets (`-60s`, `+10m`) and sizes
//! (`300KiB`, `4MiB`, `65536`): the one grammar for each, shared by scenario files and
//! command-line flags so `2s` or `4MiB` means the same wherever a user writes it.
//!
//! Errors are typed; each front (a scenario diagnostic, a clap value parser) words
//! them for its reader.

use std::fmt;
use std::time::Duration;

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DurationError {
    /// Nothing (or only spaces) was written.
    #[error("empty duration; write e.g. 500ms, 2s or 5m")]
    Empty,
    /// A bare number: seconds or milliseconds would both be a guess.
    #[error("`{0}` has no unit; write e.g. {0}s or {0}ms")]
    NoUnit(String),
    /// Not a duration at all; the source says what the parser tripped on.
    #[error("expected a duration such as 500ms, 2s, 5m or 1m30s")]
    Malformed(#[source] humantime::DurationError),
}

/// Parses a duration such as `500ms`, `2s`, `1m30s` or `1.5s` (surrounding spaces
/// ignored; humantime reads the fractions). A bare number is refused rather than
/// guessed.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DurationError::NoUnit(trimmed.to_owned()));
    }
    humantime::parse_duration(trimmed).map_err(DurationError::Malformed)
}

/// Why a text is not a signed time offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffsetError {
    /// The magnitude after the optional sign is not a duration.
    #[error("expected a signed offset such as -60s (in the past), +10m (ahead) or 0s")]
    Malformed,
    /// More than a year either way: no signature or message time needs that.
    #[error("offset too large: at most 366 days either way")]
    TooLarge,
}

/// A signed time offset from "now", e.g. `-60s` (in the past) or `+10m` / `10m` (ahead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Offset {
    /// Milliseconds; negative is in the past.
    pub millis: i64,
}

impl Offset {
    /// Parses `-60s`, `+5m`, `10m`, `0s`.
    pub fn parse(text: &str) -> Result<Offset, OffsetError> {
        let trimmed = text.trim();
        let (negative, rest) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let magnitude = parse_duration(rest).map_err(|_| OffsetError::Malformed)?;
        let millis = i64::try_from(magnitude.as_millis())
            .ok()
            .filter(|m| *m <= MAX_OFFSET_MILLIS)
            .ok_or(OffsetError::TooLarge)?;
        Ok(Offset {
            millis: if negative { -millis } else { millis },
        })
    }

    /// As a `time::Duration` (negative in the past), to add to a `time::OffsetDateTime`.
    pub fn as_time(self) -> time::Duration {
        time::Duration::milliseconds(self.millis)
    }

    /// Whole seconds, rounded toward zero (for Unix-second signature timestamps).
    pub fn whole_seconds(self) -> i64 {
        self.millis / 1000
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.millis < 0 { "-" } else { "+" };
        let magnitude = Duration::from_millis(self.millis.unsigned_abs());
        write!(f, "{sign}{}", humantime::format_duration(magnitude))
    }
}

const MAX_OFFSET_MILLIS: i64 = 366 * 24 * 3600 * 1000;

/// Why a text is not a size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// No number before the unit (or not one number).
    #[error("expected a size such as 300KiB, 1MiB or 500KB")]
    NotANumber,
    /// A unit other than B, KB, KiB, MB, MiB, GB, GiB (any case; K, M, G for the
    /// decimal ones).
    #[error("`{0}` is not a size unit; use B, KB, KiB, MB, MiB, GB or GiB")]
    UnknownUnit(String),
    /// Over 10^15 bytes: more than any body, payload or buffer can be.
    #[error("size out of range")]
    OutOfRange,
}

/// The largest size accepted, in bytes; far above any limit, so it only rules out
/// nonsense and keeps the `f64` arithmetic exact.
const MAX_SIZE: f64 = 1e15;

/// Parses a size such as `300KiB`, `1.5MiB`, `500KB`, `4 mib`, `2048B` or `2048` (bytes).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.parse().map_err(|_| SizeError::NotANumber)?;
    let unit = unit.trim();
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return Err(SizeError::UnknownUnit(unit.to_owned())),
    };
    let bytes = value * factor as f64;
    if !bytes.is_finite() || !(0.0..=MAX_SIZE).contains(&bytes) {
        return Err(SizeError::OutOfRange);
    }
    Ok(bytes as u64)
}

/// Writes a byte count the way users write it (`300KiB`, `16MiB`, `512B`).
pub fn format_size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{}MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{}KiB", bytes >> 10)
    } else {
        format!("{bytes}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration(" 40s "), Ok(Duration::from_secs(40)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(
            parse_duration("200"),
            Err(DurationError::NoUnit("200".into()))
        );
        assert_eq!(parse_duration("  "), Err(DurationError::Empty));
        assert!(matches!(
            parse_duration("fast"),
            Err(DurationError::Malformed(_))
        ));
        assert!(parse_duration("-2s").is_err());
    }

    #[test]
    fn offsets() {
        assert_eq!(Offset::parse("-60s").unwrap().millis, -60_000);
        assert_eq!(Offset::parse("+10m").unwrap().millis, 600_000);
        assert_eq!(Offset::parse("10m").unwrap().whole_seconds(), 600);
        assert_eq!(Offset::parse("-10m").unwrap().to_string(), "-10m");
        assert_eq!(Offset::parse("-ten"), Err(OffsetError::Malformed));
        assert_eq!(Offset::parse("400days"), Err(OffsetError::TooLarge));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("300KiB"), Ok(300 * 1024));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("4 mib"), Ok(4 << 20));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("500KB"), Ok(500_000));
        assert_eq!(parse_size("1 MB"), Ok(1_000_000));
        assert_eq!(parse_size("12"), Ok(12));
        assert_eq!(parse_size("big"), Err(SizeError::NotANumber));
        assert_eq!(
            parse_size("3 parsecs"),
            Err(SizeError::UnknownUnit("parsecs".into()))
        );
        assert_eq!(parse_size("99999999999GiB"), Err(SizeError::OutOfRange));
        assert_eq!(format_size(300 * 1024), "300KiB");
        assert_eq!(format_size(16 << 20), "16MiB");
    }

    #[test]
    fn decimal_and_binary_gigabytes() {
        assert_eq!(parse_size("2G"), Ok(2_000_000_000));
        assert_eq!(parse_size("3gb"), Ok(3_000_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    }

    #[test]
    fn a_size_is_written_in_the_largest_unit_it_is_a_whole_multiple_of() {
        assert_eq!(format_size(0), "0B");
        assert_eq!(format_size(1500), "1500B");
        assert_eq!(format_size(1024), "1KiB");
        // 1.5 MiB is not a whole number of MiB: it stays in KiB.
        assert_eq!(format_size(1536 * 1024), "1536KiB");
        assert_eq!(format_size(1 << 20), "1MiB");
    }

    #[test]
    fn fractions_are_durations_and_exponents_are_not() {
        assert_eq!(parse_duration("0.25s"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5ms"), Ok(Duration::from_micros(1500)));
        assert!(matches!(
            parse_duration("1e3s"),
            Err(DurationError::Malformed(_))
        ));
    }

    #[test]
    fn offsets_reach_366_days_either_way_and_no_further() {
        assert_eq!(
            Offset::parse("-366days").unwrap().millis,
            -366 * 24 * 3600 * 1000
        );
        assert_eq!(Offset::parse("367days"), Err(OffsetError::TooLarge));
        assert_eq!(Offset::parse("-367days"), Err(OffsetError::TooLarge));
    }

    #[test]
    fn an_offset_converts_and_prints_with_its_sign() {
        assert_eq!(
            Offset::parse("-90s").unwrap().as_time(),
            time::Duration::seconds(-90)
        );
        assert_eq!(
            Offset::parse("1500ms").unwrap().as_time(),
            time::Duration::milliseconds(1500)
        );
        // Zero is not in the past.
        assert_eq!(Offset::parse("0s").unwrap().to_string(), "+0s");
        assert_eq!(Offset::parse("-1500ms").unwrap().whole_seconds(), -1);
    }
}
