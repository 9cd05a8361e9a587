//! How rates are rounded in load reports (one decimal), in one place so a report, a
//! merged report, a ramp step and a timeline second agree to the digit.

/// Rounds to one decimal (how rates are reported).
pub(super) fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
