//! The JSON report (shape in `docs/report.schema.json`, described in `docs/reports.md`).

use super::RunReport;

/// The report as pretty-printed JSON, ending in a newline. Each failed or warned
/// check carries `repro`: the command that replays it with the same seed.
pub fn render(report: &RunReport) -> Vec<u8> {
    let mut value = serde_json::to_value(report).expect("reports serialize");
    if let Some(checks) = value.get_mut("checks").and_then(|c| c.as_array_mut()) {
        for (json, check) in checks.iter_mut().zip(&report.checks) {
            if let (Some(object), Some(repro)) = (json.as_object_mut(), report.repro(check)) {
                object.insert("repro".to_owned(), serde_json::Value::String(repro));
            }
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&value).expect("reports serialize");
    bytes.push(b'\n');
    bytes
}
