//! Bounds on what a scenario file can make spotcheck build and send, computed at load
//! time from the file alone, before anything is rendered or composed: the output of one
//! template or `[vars]` value, one body, and the deliveries and bytes of a scenario and
//! of a run. A file over a bound is a load error with the figure and the limit, so a
//! scenario from a pull request cannot make a run allocate without end or flood an
//! endpoint; `scenarios check` refuses what `run` would (the same functions).
//!
//! The figures are upper bounds: every string as long as its template can make it,
//! every character escaped in the worst body style. They are meant to be generous,
//! never short: `tests/file_limits.rs` composes real deliveries and checks that none
//! is larger than the bound the loader computed for it.

use serde_json::Value;

use super::json::JsonTemplate;
use super::template::TextSize;
use crate::units::format_size;

/// The caps a scenario must fit (defaults in [`Limits::DEFAULT`]; the command line can
/// raise or lower each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes one template or `[vars]` value may render to.
    pub expansion: u64,
    /// Bytes of one delivery's body.
    pub body: u64,
    /// Deliveries one scenario may send.
    pub deliveries: u64,
    /// Body bytes one scenario may send (all its deliveries).
    pub bytes: u64,
    /// Deliveries all scenarios of a run may send together.
    pub run_deliveries: u64,
    /// Body bytes all scenarios of a run may send together.
    pub run_bytes: u64,
}

impl Limits {
    /// The defaults: each at least 30 times what the built-in scenarios need
    /// (`delivery.large-payload` one body bounded at 344 KiB, `concurrent-burst` 32
    /// deliveries; all built-ins together bounded at 6.1 MiB in 148 deliveries), and
    /// enough for a single `large = "16MiB"` delivery, the largest `large` allowed.
    pub const DEFAULT: Limits = Limits {
        expansion: 1 << 20,
        body: 32 << 20,
        deliveries: 10_000,
        bytes: 128 << 20,
        run_deliveries: 50_000,
        run_bytes: 512 << 20,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// The most a scenario can send, as computed at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    /// Deliveries (send, redeliver and replay steps, `repeat` and `each` counted).
    pub deliveries: u64,
    /// Body bytes of all those deliveries.
    pub bytes: u64,
    /// The largest body of one of its deliveries.
    pub largest_body: u64,
}

/// The size of a JSON document written in any body style: compact bytes with every
/// string escaped the worst way, how many values it holds, and how deep it nests
/// (pretty printing adds a line and an indent per value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JsonSize {
    /// Compact bytes, strings escaped in the worst style.
    pub bytes: u64,
    /// Values (scalars, arrays, objects), keys included.
    pub values: u64,
    /// Deepest nesting.
    pub depth: u64,
}

/// The generated event of any kind, product and seed, enveloped: measured over every
/// built-in kind and product (`tests/file_limits.rs` checks it holds), with room.
pub const FIXTURE: JsonSize = JsonSize {
    bytes: 40 << 10,
    values: 1_500,
    depth: 12,
};

/// Per byte of `large` padding at most one value in 8 bytes, one growth item beyond
/// the target at most 4 KiB (checked in `tests/file_limits.rs`).
const LARGE_BYTES_PER_VALUE: u64 = 8;
const LARGE_OVERSHOOT: u64 = 4 << 10;

/// A number in any body style (`float-forms` writes `1.50`, `1.5e0`…).
const NUMBER_BYTES: u64 = 40;

impl JsonSize {
    /// Two documents merged (RFC 7396: the result holds at most both).
    pub fn plus(self, other: JsonSize) -> JsonSize {
        JsonSize {
            bytes: self.bytes.saturating_add(other.bytes),
            values: self.values.saturating_add(other.values),
            depth: self.depth.max(other.depth),
        }
    }

    /// Bytes written pretty: a newline and two spaces per level before each value and
    /// `: ` after each key (the other styles are within [`JsonSize::bytes`]).
    pub fn written(self) -> u64 {
        let per_value = 3u64.saturating_add(self.depth.saturating_mul(2));
        self.bytes
            .saturating_add(self.values.saturating_mul(per_value))
            .saturating_add(1)
    }

    /// A JSON value read from a file (`payload_file`).
    pub fn of_value(value: &Value) -> JsonSize {
        match value {
            Value::Null | Value::Bool(_) => scalar(5),
            Value::Number(_) => scalar(NUMBER_BYTES),
            Value::String(s) => scalar(2 + TextSize::of(s).json),
            Value::Array(items) => container(items.iter().map(JsonSize::of_value)),
            Value::Object(map) => container(
                map.iter()
                    .map(|(k, v)| scalar(3 + TextSize::of(k).json).plus(JsonSize::of_value(v))),
            ),
        }
    }

    /// A scenario's JSON template, each string as large as `string` says.
    pub fn of_template(
        value: &JsonTemplate,
        string: &mut dyn FnMut(&super::template::Template) -> TextSize,
    ) -> JsonSize {
        match value {
            JsonTemplate::Bool(_) => scalar(5),
            JsonTemplate::Number(_) => scalar(NUMBER_BYTES),
            JsonTemplate::String(t) => scalar(2u64.saturating_add(string(t).json)),
            JsonTemplate::Array(items) => {
                container(items.iter().map(|i| JsonSize::of_template(i, string)))
            }
            JsonTemplate::Object(entries) => container(entries.iter().map(|(k, v)| {
                scalar(3 + TextSize::of(k).json).plus(JsonSize::of_template(v, string))
            })),
        }
    }
}

fn scalar(bytes: u64) -> JsonSize {
    JsonSize {
        bytes,
        values: 1,
        depth: 0,
    }
}

fn container(items: impl Iterator<Item = JsonSize>) -> JsonSize {
    let inner = items.fold(JsonSize::default(), |total, item| {
        // Each item and its comma.
        total.plus(JsonSize {
            bytes: item.bytes.saturating_add(1),
            ..item
        })
    });
    JsonSize {
        bytes: inner.bytes.saturating_add(2),
        values: inner.values.saturating_add(1),
        depth: inner.depth.saturating_add(1),
    }
}

/// The body of a generated event (not `body = …`): the fixture, the overrides merged
/// over it, an `org_id`, and `large` padding, in the largest body style.
pub fn generated_body(
    overrides: JsonSize,
    org_id: Option<TextSize>,
    large: Option<u64>,
    pretty: bool,
) -> u64 {
    let mut size = FIXTURE.plus(overrides);
    if let Some(org) = org_id {
        size.bytes = size.bytes.saturating_add(org.json);
    }
    if let Some(large) = large {
        size = size.plus(JsonSize {
            bytes: large.saturating_add(LARGE_OVERSHOOT),
            values: large / LARGE_BYTES_PER_VALUE + 1,
            depth: 0,
        });
    }
    if pretty {
        size.written()
    } else {
        size.bytes.saturating_add(1)
    }
}

/// A computed figure the way users write sizes: exact when it is a whole unit
/// (`16MiB`), else to one decimal (`156.7GiB`); the messages give the bytes beside it.
pub fn figure(bytes: u64) -> String {
    let exact = format_size(bytes);
    if bytes < 1 << 10 || !exact.ends_with("B") || exact.ends_with("iB") {
        return exact;
    }
    let (unit, scale) = [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)]
        .into_iter()
        .find(|(_, scale)| bytes >= *scale)
        .unwrap_or(("KiB", 1 << 10));
    format!("{:.1}{unit}", bytes as f64 / scale as f64)
}
