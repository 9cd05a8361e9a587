//! Durations (`200ms`, `2s`, `5m`), signed offsets (`-60s`, `+10m`) and sizes (`300KiB`)
//! as written in scenario files.

use std::fmt;
use std::time::Duration;

/// Parses a duration such as `500ms`, `2s`, `1m30s` or `1.5s`.
///
/// The message of the error says what was expected; it never repeats long input.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration; write e.g. 500ms, 2s or 5m".to_owned());
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{trimmed}` has no unit; write e.g. {trimmed}s or {trimmed}ms"
        ));
    }
    if let Some(seconds) = trimmed
        .strip_suffix('s')
        .filter(|n| n.contains('.') && !n.ends_with('m'))
        .and_then(|n| n.parse::<f64>().ok())
        && seconds.is_finite()
        && (0.0..1e9).contains(&seconds)
    {
        return Ok(Duration::from_secs_f64(seconds));
    }
    humantime::parse_duration(trimmed)
        .map_err(|_| "expected a duration such as 500ms, 2s, 5m or 1m30s".to_owned())
}

/// A signed time offset from "now", e.g. `-60s` (in the past) or `+10m` / `10m` (ahead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Offset {
    /// Milliseconds; negative is in the past.
    pub millis: i64,
}

impl Offset {
    /// Parses `-60s`, `+5m`, `10m`, `0s`.
    pub fn parse(text: &str) -> Result<Offset, String> {
        let trimmed = text.trim();
        let (negative, rest) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let magnitude = parse_duration(rest).map_err(|_| {
            "expected a signed offset such as -60s (in the past), +10m (ahead) or 0s".to_owned()
        })?;
        let millis = i64::try_from(magnitude.as_millis())
            .ok()
            .filter(|m| *m <= MAX_OFFSET_MILLIS)
            .ok_or_else(|| "offset too large: at most 366 days either way".to_owned())?;
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

/// Parses a size such as `300KiB`, `1MiB`, `500KB`, `2048B` or `2048` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err("expected a size such as 300KiB, 1MiB or 500KB".to_owned()),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| "expected a size such as 300KiB, 1MiB or 500KB".to_owned())?;
    let bytes = value * factor as f64;
    if !bytes.is_finite() || !(0.0..1e15).contains(&bytes) {
        return Err("size out of range".to_owned());
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
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("200").unwrap_err().contains("no unit"));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-2s").is_err());
    }

    #[test]
    fn offsets() {
        assert_eq!(Offset::parse("-60s").unwrap().millis, -60_000);
        assert_eq!(Offset::parse("+10m").unwrap().millis, 600_000);
        assert_eq!(Offset::parse("10m").unwrap().whole_seconds(), 600);
        assert_eq!(Offset::parse("-10m").unwrap().to_string(), "-10m");
        assert!(Offset::parse("-ten").is_err());
        assert!(Offset::parse("400days").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("300KiB"), Ok(300 * 1024));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("500KB"), Ok(500_000));
        assert_eq!(parse_size("12"), Ok(12));
        assert!(parse_size("big").is_err());
        assert!(parse_size("3 parsecs").is_err());
        assert_eq!(format_size(300 * 1024), "300KiB");
        assert_eq!(format_size(16 << 20), "16MiB");
    }
}
