//! JSON merge (RFC 7396): how scenario `payload`/`envelope` tables and `--payload`
//! files are laid over a generated event.

use serde_json::Value;

/// Merges `patch` into `target`: objects merge key by key (recursively), `null`
/// removes a key, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_recursively_and_removes_nulls() {
        let mut target = json!({"a": {"b": 1, "c": 2}, "d": 3});
        merge(&mut target, &json!({"a": {"b": 9, "x": true}, "d": null}));
        assert_eq!(target, json!({"a": {"b": 9, "c": 2, "x": true}}));
    }
}
