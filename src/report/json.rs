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

#[cfg(test)]
mod tests {
    use crate::outcome::fixture;

    #[test]
    fn the_report_is_json_with_a_replay_command_on_each_failed_or_warned_check() {
        let report = fixture::report(fixture::one_of_each(), false);
        let bytes = super::render(&report);
        assert_eq!(bytes.last(), Some(&b'\n'));
        let json: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
        let checks = json["checks"].as_array().unwrap();
        let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            ["a.pass", "a.fail", "b.warn", "b.skip", "c.error", "c.cut"]
        );
        let repros: Vec<Option<&str>> = checks.iter().map(|c| c["repro"].as_str()).collect();
        assert_eq!(
            repros,
            [
                None,
                Some("spotcheck run --seed 1 --only a.fail"),
                Some("spotcheck run --seed 1 --only b.warn"),
                None,
                None,
                None
            ]
        );
        assert_eq!(json["summary"]["failed"], 1);
    }
}
