//! The JSON report (shape in DESIGN.md "Reports").

use super::RunReport;

/// The report as pretty-printed JSON, ending in a newline.
pub fn render(report: &RunReport) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(report).expect("reports serialize");
    bytes.push(b'\n');
    bytes
}
