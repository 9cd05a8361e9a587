//! The JSON Schema of the scenario format, for editors (taplo, Tombi, VS Code Even
//! Better TOML) to complete and check scenario files as they are typed.
//!
//! Built from the loader's own key tables (`raw::SCENARIO_KEYS`, `STEP_KEYS`,
//! `EXPECT_KEYS`), the event catalogue and the value vocabularies below, so it
//! follows the format: a test checks that every value listed here loads and that
//! the committed `docs/scenario.schema.json` is this output.

use serde_json::{Map, Value, json};

use super::raw::{EXPECT_KEYS, SCENARIO_KEYS, STEP_KEYS};
use super::status::StatusClass;
use crate::check::DiagnosisKind;
use crate::event::EventKind;
use crate::event::body_style::BodyStyle;
use crate::event::fixtures::Product;

/// `signature = "…"` values.
pub const SIGNATURE_VALUES: &[&str] =
    &["valid", "missing", "garbage", "wrong-secret", "bare", "v1"];
/// Tokens of a `signature = [ … ]` rotation list.
pub const SIGNATURE_TOKENS: &[&str] = &[
    "valid",
    "stale-key",
    "garbage",
    "bare",
    "v1",
    "valid-bare",
    "valid-v1",
];
/// `tamper` values.
pub const TAMPER_VALUES: &[&str] = &["body", "id", "timestamp"];
/// `requires` values.
pub const CAPABILITIES: &[&str] = &["state", "oauth", "hmac"];
/// `token = "…"` values (legacy OAuth: request a token with the configured or a wrong secret).
pub const TOKEN_VALUES: &[&str] = &["issued", "bad-credentials"];
/// `authorization = "…"` values (legacy OAuth: which bearer token a send carries).
pub const AUTHORIZATION_VALUES: &[&str] = &["issued", "none", "forged"];

const DURATION: &str = r"^\s*\d+(\.\d+)?\s*(ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d)(\s*\d+(\.\d+)?\s*(ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d))*\s*$";

/// The schema (JSON Schema draft 2020-12).
pub fn schema() -> Value {
    let top = properties(SCENARIO_KEYS, top_key);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://spotcheck.invalid/scenario.schema.json",
        "title": "spotcheck scenario",
        "description": "One conformance check for a Spotnana webhook endpoint. See the README's \"Scenario files\".",
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "title", "level", "why", "fix"],
        "properties": top,
        "$defs": {
            "step": {
                "type": "object",
                "additionalProperties": false,
                "properties": properties(STEP_KEYS, step_key),
            },
            "expect": {
                "type": "object",
                "additionalProperties": false,
                "properties": properties(EXPECT_KEYS, expect_key),
            },
            "duration": {
                "type": "string",
                "description": "A duration such as 500ms, 2s, 5m or 1m30s.",
                "pattern": DURATION,
            },
            "offset": {
                "type": "string",
                "description": "A signed offset from now: -60s (in the past), +10m (ahead).",
                "pattern": r"^\s*[+-]?\s*\d",
            },
            "json": {
                "description": "A JSON value written in TOML; strings may hold {{ templates }}.",
            },
        },
    })
}

fn properties(keys: &[&str], describe: fn(&str) -> Value) -> Map<String, Value> {
    keys.iter()
        .map(|key| ((*key).to_owned(), describe(key)))
        .collect()
}

fn text(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn one_of_strings(values: &[&str], description: &str) -> Value {
    json!({ "type": "string", "enum": values, "description": description })
}

fn top_key(key: &str) -> Value {
    match key {
        "id" => json!({
            "type": "string",
            "pattern": r"^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9.-]*$",
            "description": "Stable check id, suite.name (e.g. ordering.out-of-order-accepted).",
        }),
        "title" => text("One-line title."),
        "level" => one_of_strings(
            &["required", "recommended"],
            "required: a failure fails the run; recommended: a failure is a warning.",
        ),
        "why" => text("Why the check matters, for the report."),
        "fix" => text("How to fix a failure, for the report."),
        "tags" => {
            json!({ "type": "array", "items": { "type": "string" }, "description": "Tags for --tags." })
        }
        "requires" => json!({
            "type": "array",
            "items": { "type": "string", "enum": CAPABILITIES },
            "description": "Capabilities the run needs (state: --state-url; oauth: --oauth-*, without it the check is left out; hmac: signed deliveries, skipped with --no-hmac); otherwise the check is skipped.",
        }),
        "diagnosis" => {
            let names: Vec<&str> = DiagnosisKind::ALL.iter().map(|(name, _)| *name).collect();
            json!({
                "type": "string",
                "enum": names,
                "description": "The diagnosis that asks the endpoint why this check failed (signature, rotation, body-style, event-allow-list, unknown-operation, clock-skew); it reads the check's deliveries as the built-in check that declares it lays them out. Default: none.",
            })
        }
        "schedule" => json!({
            "type": "string",
            "enum": ["timing", "load"],
            "description": "How the check must be scheduled: timing (it measures answer times: runs with nothing else of the run in flight) or load (it sends many deliveries at once: never beside a timing check). Default: neither.",
        }),
        "vars" => json!({
            "type": "object",
            "additionalProperties": { "type": "string" },
            "description": "Variables for {{ name }} templates, resolved in order.",
        }),
        "step" => json!({
            "type": "array",
            "minItems": 1,
            "items": { "$ref": "#/$defs/step" },
            "description": "The steps, in order.",
        }),
        _ => json!({}),
    }
}

fn step_key(key: &str) -> Value {
    let events: Vec<String> = EventKind::all()
        .map(|k| k.to_string())
        .chain(["each".to_owned()])
        .collect();
    let products: Vec<String> = Product::ALL.iter().map(|p| product_name(*p)).collect();
    let styles: Vec<&str> = BodyStyle::ALL.iter().map(|s| s.as_str()).collect();
    match key {
        "name" => text("A name for redeliver/replay and {{ steps.NAME.… }}."),
        "send" => json!({
            "type": "string",
            "enum": events,
            "description": "Deliver an event: EVENT/OPERATION, or \"each\" for every subscribed type and operation.",
        }),
        "redeliver" => text(
            "Redeliver an earlier step: same webhook id and body, fresh timestamp and signature.",
        ),
        "replay" => {
            text("Replay an earlier step's exact request (same id, timestamp, signature, body).")
        }
        "sleep" => json!({ "$ref": "#/$defs/duration", "description": "Wait this long." }),
        "observe" => json!({
            "type": "string",
            "pattern": r"^GET\s+\S",
            "description": "GET the observation endpoint, e.g. \"GET {{ state_url }}/webhooks/{{ steps.first.webhook_id }}\".",
        }),
        "payload" => {
            json!({ "type": "object", "description": "Merged over the generated payload." })
        }
        "envelope" => {
            json!({ "type": "object", "description": "Merged over the envelope's top level." })
        }
        "payload_file" => text("A JSON file (relative to this file) merged over the payload."),
        "body" => text("Raw body bytes sent as written (instead of a generated event)."),
        "large" => json!({
            "type": "string",
            "pattern": r"^\s*\d+\s*(B|KiB|MiB|KB|MB|k|K|M)?\s*$",
            "description": "Grow the PNR to at least this size, e.g. 300KiB.",
        }),
        "product" => {
            json!({ "type": "string", "enum": products, "description": "PNR booking kind." })
        }
        "booking" => json!({
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]+$",
            "description": "The booking (PNR) this event is about: every step naming the same booking tells one story (one pnrId, trip, travelers, tickets and fare; version rising with message_time). Not with send = \"each\".",
        }),
        "message_time" => {
            json!({ "$ref": "#/$defs/offset", "description": "Envelope timestamp offset from now." })
        }
        "timestamp" => {
            json!({ "$ref": "#/$defs/offset", "description": "Signature timestamp header offset from now." })
        }
        "signature" => json!({
            "description": "How the signature header is written: one value, or a rotation list of tokens.",
            "oneOf": [
                { "type": "string", "enum": SIGNATURE_VALUES },
                { "type": "array", "minItems": 1, "items": { "type": "string", "enum": SIGNATURE_TOKENS } },
            ],
        }),
        "tamper" => one_of_strings(TAMPER_VALUES, "What is changed after signing."),
        "body_style" => one_of_strings(&styles, "How the JSON body is written."),
        "org_id" => text("audience.organizationId for this send."),
        "header" => json!({
            "type": "object",
            "additionalProperties": { "type": "string" },
            "description": "Extra headers (not the reserved ones).",
        }),
        "omit_headers" => {
            json!({ "type": "array", "items": { "type": "string" }, "description": "Headers normally sent that this send leaves out." })
        }
        "repeat" => {
            json!({ "type": "integer", "minimum": 1, "maximum": super::model::limits::MAX_REPEAT, "description": "How many deliveries." })
        }
        "concurrency" => {
            json!({ "type": "integer", "minimum": 1, "maximum": super::model::limits::MAX_CONCURRENCY, "description": "How many in flight at once." })
        }
        "token" => one_of_strings(
            TOKEN_VALUES,
            "Legacy OAuth: request a token from --oauth-token-url with the configured secret (issued) or a wrong one.",
        ),
        "authorization" => one_of_strings(
            AUTHORIZATION_VALUES,
            "Legacy OAuth: the bearer token this send carries (the issued one, none, or a forged one).",
        ),
        "expect" => json!({ "$ref": "#/$defs/expect" }),
        "precondition" => json!({
            "type": "object",
            "additionalProperties": false,
            "description": "What the step's answers must be before the check can judge anything (a control delivery). Not met: the check is skipped with \"could not judge: …\", never passed or failed.",
            "properties": {
                "status": status_schema("The status every answer must have (default 200)."),
                "see": { "type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9.-]*$", "description": "The check that judges this condition on its own, named in the message." },
            },
        }),
        "exec" => json!({
            "type": "array",
            "minItems": 1,
            "maxItems": super::model::limits::MAX_EXEC_ARGS,
            "items": { "type": "string" },
            "description": "Run a program (no shell) with the step's exchange as JSON on stdin: exit 0 passes, anything else fails the check with its stdout. A program path with a / is relative to this file; a bare name is looked up on PATH. Needs --allow-exec (otherwise the check is skipped). See docs/exec.md.",
        }),
        "exec_timeout" => json!({
            "$ref": "#/$defs/duration",
            "description": "How long the exec program may run before it is killed and the check fails (default 10s, at most 5m).",
        }),
        _ => json!({ "description": "See the README's \"Scenario files\"." }),
    }
}

fn expect_key(key: &str) -> Value {
    match key {
        "status" => status_schema("Expected HTTP status: a code, a list of codes, or a class."),
        "json" => json!({
            "type": "object",
            "description": "Observe: JSON pointer → expected value.",
            "additionalProperties": { "$ref": "#/$defs/json" },
        }),
        "within" => {
            json!({ "$ref": "#/$defs/duration", "description": "Send: answer time limit. Observe: how long to poll." })
        }
        "p95_within" => {
            json!({ "$ref": "#/$defs/duration", "description": "95th percentile answer time limit over the step's deliveries." })
        }
        _ => json!({ "description": "See the README's \"Scenario files\"." }),
    }
}

/// A status expectation: a code, a list of codes, or a class.
fn status_schema(description: &str) -> Value {
    let classes: Vec<&str> = StatusClass::ALL.iter().map(|(name, _)| *name).collect();
    json!({
        "description": description,
        "oneOf": [
            { "type": "integer", "minimum": 100, "maximum": 599 },
            { "type": "array", "minItems": 1, "items": { "type": "integer", "minimum": 100, "maximum": 599 } },
            { "type": "string", "enum": classes },
        ],
    })
}

fn product_name(product: Product) -> String {
    product.key().trim_end_matches("Pnr").to_owned()
}

/// The schema as pretty JSON with a final newline (what `scenarios schema` prints).
pub fn render() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("schemas serialize");
    text.push('\n');
    text
}
