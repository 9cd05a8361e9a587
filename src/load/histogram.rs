//! The latency histogram as it travels in a load report: HdrHistogram's standard
//! V2 + DEFLATE encoding, base64 (the "HISTFAAA…" strings HdrHistogram's own log
//! tools read), so several runs can be added into one with exact percentiles.

use std::io::Cursor;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Highest latency the histograms track (longer ones are recorded as this).
pub const MAX_TRACKED: Duration = Duration::from_secs(120);

/// A latency histogram in microseconds, 1 µs to [`MAX_TRACKED`], 3 significant digits
/// (about 136 KiB, whatever the number of requests).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED.as_micros() as u64, 3)
        .expect("static histogram bounds are valid")
}

/// The only encoding written and read.
pub const ENCODING: &str = "hdrhistogram-v2-deflate-base64";
/// The unit of the recorded values.
pub const UNIT: &str = "us";
/// Largest encoded histogram accepted when reading (a full 3-digit histogram of
/// the default bounds compresses to a few KiB).
const MAX_ENCODED_BYTES: usize = 8 << 20;

/// A serialized latency histogram (the `histogram` field of a load report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedHistogram {
    /// Always [`ENCODING`].
    pub encoding: String,
    /// Always [`UNIT`]: values are microseconds.
    pub unit: String,
    /// The encoded histogram.
    pub data: String,
}

impl EncodedHistogram {
    /// Encodes a histogram.
    pub fn encode(histogram: &Histogram<u64>) -> EncodedHistogram {
        let mut bytes = Vec::new();
        // Writing into a Vec cannot fail, and a histogram of u64 counts always
        // fits the V2 format.
        let _ = V2DeflateSerializer::new().serialize(histogram, &mut bytes);
        EncodedHistogram {
            encoding: ENCODING.to_owned(),
            unit: UNIT.to_owned(),
            data: STANDARD.encode(bytes),
        }
    }

    /// Decodes into a histogram with the load histograms' bounds (1 µs to 120 s,
    /// 3 significant digits), ready to be added to others.
    pub fn decode(&self) -> Result<Histogram<u64>, String> {
        if self.encoding != ENCODING {
            return Err(format!(
                "histogram encoding `{}` is not `{ENCODING}`",
                self.encoding
            ));
        }
        if self.unit != UNIT {
            return Err(format!("histogram unit `{}` is not `{UNIT}`", self.unit));
        }
        if self.data.len() > MAX_ENCODED_BYTES {
            return Err(format!(
                "histogram data is {} bytes; at most {MAX_ENCODED_BYTES} are read",
                self.data.len()
            ));
        }
        let bytes = STANDARD
            .decode(self.data.trim())
            .map_err(|err| format!("histogram data is not base64: {err}"))?;
        let read: Histogram<u64> = Deserializer::new()
            .deserialize(&mut Cursor::new(&bytes))
            .map_err(|err| format!("histogram data is not an HdrHistogram V2 encoding: {err:?}"))?;
        let mut histogram = latency_histogram();
        histogram
            .add(&read)
            .map_err(|err| format!("histogram values are out of range: {err:?}"))?;
        Ok(histogram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encoding_round_trips_every_count(values in proptest::collection::vec(1u64..120_000_000, 0..400)) {
            let mut histogram = latency_histogram();
            for value in &values {
                histogram.record(*value).unwrap();
            }
            let decoded = EncodedHistogram::encode(&histogram).decode().unwrap();
            prop_assert_eq!(decoded.len(), values.len() as u64);
            prop_assert_eq!(decoded.max(), histogram.max());
            for quantile in [0.5, 0.9, 0.99, 0.999] {
                prop_assert_eq!(decoded.value_at_quantile(quantile), histogram.value_at_quantile(quantile));
            }
        }
    }

    #[test]
    fn data_is_read_up_to_its_bound_and_no_further() {
        let mut histogram = latency_histogram();
        histogram.record(250).unwrap();
        let mut at_bound = EncodedHistogram::encode(&histogram);
        // Trailing spaces are trimmed before decoding: only the length differs.
        let padding = MAX_ENCODED_BYTES - at_bound.data.len();
        at_bound.data.push_str(&" ".repeat(padding));
        assert_eq!(at_bound.decode().unwrap().len(), 1);
        let mut over = at_bound.clone();
        over.data.push(' ');
        let refused = over.decode().unwrap_err();
        assert!(refused.contains("at most 8388608 are read"), "{refused}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let bad = |data: &str| EncodedHistogram {
            encoding: ENCODING.to_owned(),
            unit: UNIT.to_owned(),
            data: data.to_owned(),
        };
        assert!(
            bad("not base64!")
                .decode()
                .unwrap_err()
                .contains("not base64")
        );
        assert!(
            bad("SElTVEZBQUE=")
                .decode()
                .unwrap_err()
                .contains("not an HdrHistogram")
        );
        let mut other = bad("");
        other.encoding = "csv".into();
        assert!(other.decode().unwrap_err().contains("encoding `csv`"));
    }
}
