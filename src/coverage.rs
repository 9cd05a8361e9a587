//! What a run proved, measured from what the endpoint accepted: per event type and
//! operation, per product block, per published value of the fields a receiver branches
//! on, the share of each published payload schema's property paths, and the signature
//! forms, body styles and TLS versions that worked. Computed from the exchanges the run
//! already made (no extra delivery), each accepted payload walked once.
//!
//! A delivery counts as *sent* when it went out with a webhook envelope of a known
//! event type and operation, and as *accepted* when the endpoint answered `200` and its
//! signature headers verify with the run's secret (with `--no-hmac`, any `200`).

pub mod paths;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use crate::check::CheckResult;
use crate::delivery::exchange::Exchange;
use crate::event::body_style::{self, BodyStyle};
use crate::event::fixtures::Product;
use crate::event::schema::PayloadSchema;
use crate::event::{EventKind, EventType, Subscription};
use crate::signing::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, SignatureFormat, Verifier,
};
use crate::tls_probe::{Outcome, TlsReport};
use paths::PathIndex;

/// How many uncovered subtrees a schema's coverage names.
pub const UNCOVERED_NAMED: usize = 5;

/// The enumerated fields a receiver typically branches on, per event type: the path in
/// the payload (as [`paths`] writes it). Their published values come from the schema.
const BRANCH_FIELDS: &[(EventType, &str)] = &[
    (EventType::PnrV3, "bookingStatus"),
    (EventType::PnrV3, "airPnr.legs[].flights[].cabin"),
    (EventType::PnrV3, "hotelPnr.pnrStatus"),
    (EventType::PnrV3, "carPnr.pnrStatus"),
    (EventType::TripDetailsV3, "tripStatus"),
    (EventType::TripDetailsV3, "tripBookingStatus"),
    (EventType::TravelerV2, "persona"),
    (EventType::TravelerV2, "tier"),
];

/// The event types whose payload schema's paths are measured.
const SCHEMA_TYPES: [EventType; 3] = [
    EventType::PnrV3,
    EventType::TripDetailsV3,
    EventType::TravelerV2,
];

/// A share: how many of how many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Ratio {
    /// How many were covered.
    pub covered: usize,
    /// Out of how many.
    pub total: usize,
}

impl Ratio {
    /// The share in percent, rounded down (100 when there is nothing to cover).
    pub fn percent(self) -> u32 {
        (self.covered * 100).checked_div(self.total).unwrap_or(100) as u32
    }

    /// Whether the share reaches `percent`, compared exactly (`covered/total ≥ p/100`).
    pub fn reaches(self, percent: u32) -> bool {
        self.total == 0 || self.covered * 100 >= percent as usize * self.total
    }
}

/// One event type and operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationCoverage {
    /// `PNR_V3`.
    pub event_type: &'static str,
    /// `BOOKING_CREATED`.
    pub operation: &'static str,
    /// Whether the subscription names it (a subscribed kind never accepted is a gap).
    pub subscribed: bool,
    /// Deliveries of it that went out.
    pub sent: usize,
    /// Deliveries of it the endpoint accepted (200, correctly signed).
    pub accepted: usize,
}

/// One product block of `PNR_V3` (`airPnr`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductCoverage {
    /// `air`, `hotel`, `car`, `rail`.
    pub product: &'static str,
    /// `PNR_V3` deliveries carrying it that went out.
    pub sent: usize,
    /// Those accepted.
    pub accepted: usize,
}

/// One published value of an enumerated field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumValue {
    /// The value.
    pub value: String,
    /// Whether a delivery carrying it went out.
    pub sent: bool,
    /// Whether a delivery carrying it was accepted.
    pub accepted: bool,
}

/// An enumerated field a receiver branches on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumCoverage {
    /// The event type.
    pub event_type: &'static str,
    /// Its path in the payload.
    pub field: &'static str,
    /// Published values accepted, of all published values.
    pub values_accepted: Ratio,
    /// Every published value, in the schema's order.
    pub values: Vec<EnumValue>,
}

/// A subtree of a schema no accepted payload reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UncoveredSubtree {
    /// Its root path.
    pub path: String,
    /// How many property paths it holds (itself included).
    pub paths: usize,
}

/// How much of one published payload schema the accepted payloads exercised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaCoverage {
    /// The event type.
    pub event_type: &'static str,
    /// The schema (`PnrData`, …).
    pub schema: &'static str,
    /// Property paths present in at least one accepted payload, of all the schema's.
    pub paths: Ratio,
    /// Published enum values (over every enumerated path) seen in accepted payloads.
    pub enum_values: Ratio,
    /// The largest subtrees no accepted payload reached, largest first.
    pub largest_uncovered: Vec<UncoveredSubtree>,
}

/// The four shares `--min-coverage` can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    /// Subscribed event types and operations accepted.
    pub operations: Ratio,
    /// Product blocks accepted (when `PNR_V3` is subscribed).
    pub products: Ratio,
    /// Published values of the branch fields accepted (of subscribed types).
    pub enums: Ratio,
    /// The lowest share of schema paths among the subscribed published schemas.
    pub schema: Ratio,
}

/// What a run proved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Coverage {
    /// The shares `--min-coverage` is compared with.
    pub totals: Totals,
    /// Per event type and operation: every subscribed one, and any other sent.
    pub operations: Vec<OperationCoverage>,
    /// Per product block of `PNR_V3` (empty when `PNR_V3` is not subscribed).
    pub products: Vec<ProductCoverage>,
    /// Per branch field of the subscribed types.
    pub enums: Vec<EnumCoverage>,
    /// Per subscribed published schema.
    pub schemas: Vec<SchemaCoverage>,
    /// Signature forms accepted: `v1`, `bare`, `several-tokens`.
    pub signature_variants: Vec<String>,
    /// Body styles accepted (`compact`, `pretty`, …).
    pub body_styles: Vec<String>,
    /// TLS versions the endpoint completed a handshake at.
    pub tls_versions: Vec<String>,
    /// The goals set with `--min-coverage` that the run fell short of (empty when none
    /// was set or all were met).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub below_minimum: Vec<Shortfall>,
}

/// One coverage goal not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortfall {
    /// `operations`, `products`, `enums`, `schema`.
    pub key: &'static str,
    /// The goal, in percent.
    pub required_percent: u32,
    /// What the run reached, in percent (rounded down).
    pub reached_percent: u32,
}

/// A schema's paths, listed once per process.
fn index_of(event_type: EventType) -> Option<&'static PathIndex> {
    static INDEXES: [OnceLock<PathIndex>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let at = SCHEMA_TYPES.iter().position(|t| *t == event_type)?;
    let schema = PayloadSchema::of(event_type)?;
    Some(INDEXES[at].get_or_init(|| PathIndex::of(schema.document(), schema.name)))
}

/// One schema's tally: its type, the paths present, the enum values seen (path, value).
type SchemaTally = (EventType, Vec<bool>, BTreeSet<(u32, String)>);

/// One branch field's tally: its type, its path (and index in the schema's paths),
/// the values sent, the values accepted.
#[derive(Debug)]
struct BranchTally {
    event_type: EventType,
    field: &'static str,
    at: Option<u32>,
    sent: BTreeSet<String>,
    accepted: BTreeSet<String>,
}

/// The running tally: feed it exchanges with [`Tally::observe`] as they are recorded,
/// then [`Tally::finish`]. It holds no exchange: each is read once, when it is made,
/// so the run need not keep every body to the end (a run of 10,000 variants would
/// otherwise hold a gigabyte of them). Its size depends on the schemas, not the run.
#[derive(Debug)]
pub struct Tally {
    subscription: Subscription,
    verifier: Option<Verifier>,
    operations: Vec<OperationCoverage>,
    products: [(usize, usize); 4],
    /// Per schema type: paths present, enum values seen (path index, value).
    schemas: Vec<SchemaTally>,
    /// Per branch field of the subscribed types.
    enums: Vec<BranchTally>,
    signature_variants: BTreeSet<&'static str>,
    /// Accepted body styles, as flags in `BodyStyle::ALL`'s order.
    body_styles: [bool; 5],
}

impl Tally {
    /// A tally for a run over `subscription`; `secret` is `None` with `--no-hmac`.
    pub fn new(subscription: &Subscription, secret: Option<&Secret>) -> Tally {
        let operations = subscription
            .kinds()
            .into_iter()
            .map(|kind| OperationCoverage {
                event_type: kind.event_type.as_str(),
                operation: kind.operation,
                subscribed: true,
                sent: 0,
                accepted: 0,
            })
            .collect();
        let types = subscription.event_types();
        let schemas = SCHEMA_TYPES
            .iter()
            .filter(|t| types.contains(t))
            .filter_map(|t| Some((*t, vec![false; index_of(*t)?.len()], BTreeSet::new())))
            .collect();
        let enums = BRANCH_FIELDS
            .iter()
            .filter(|(t, _)| types.contains(t))
            .map(|(t, field)| BranchTally {
                event_type: *t,
                field,
                at: index_of(*t).and_then(|index| index.find(field)),
                sent: BTreeSet::new(),
                accepted: BTreeSet::new(),
            })
            .collect();
        Tally {
            subscription: subscription.clone(),
            verifier: secret.map(|s| Verifier::new(vec![s.clone()]).with_tolerance(None)),
            operations,
            products: [(0, 0); 4],
            schemas,
            enums,
            signature_variants: BTreeSet::new(),
            body_styles: [false; 5],
        }
    }

    /// Counts one exchange: skipped unless it went out as a webhook delivery. Reads
    /// the whole body, so it must see the exchange before the body is let go.
    pub fn observe(&mut self, exchange: &Exchange) {
        if exchange.not_sent || exchange.request.method != "POST" {
            return;
        }
        let body = &exchange.request.body;
        let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let Some(kind) = kind_of(&envelope) else {
            return;
        };
        let signature = if exchange.status() == Some(200) {
            self.signed_with(exchange)
        } else {
            None
        };
        let accepted = signature.is_some();
        let at =
            match self.operations.iter().position(|o| {
                o.event_type == kind.event_type.as_str() && o.operation == kind.operation
            }) {
                Some(at) => at,
                None => {
                    self.operations.push(OperationCoverage {
                        event_type: kind.event_type.as_str(),
                        operation: kind.operation,
                        subscribed: self.subscription.covers(kind),
                        sent: 0,
                        accepted: 0,
                    });
                    self.operations.len() - 1
                }
            };
        self.operations[at].sent += 1;
        if let Some(variants) = signature {
            self.operations[at].accepted += 1;
            self.signature_variants.extend(variants);
            let style = style_of(body, &envelope);
            if let Some(at) = BodyStyle::ALL.iter().position(|s| *s == style) {
                self.body_styles[at] = true;
            }
        }
        let payload = &envelope["payload"];
        if kind.event_type == EventType::PnrV3 {
            for (at, product) in Product::ALL.iter().enumerate() {
                if payload.get(product.key()).is_some_and(|b| !b.is_null()) {
                    self.products[at].0 += 1;
                    if accepted {
                        self.products[at].1 += 1;
                    }
                }
            }
        }
        let Some(index) = index_of(kind.event_type) else {
            return;
        };
        let Some((_, present, seen_values)) = self
            .schemas
            .iter_mut()
            .find(|(t, _, _)| *t == kind.event_type)
        else {
            return;
        };
        let enums = &mut self.enums;
        let mut on_enum = |at: u32, value: &str| {
            if accepted {
                seen_values.insert((at, value.to_owned()));
            }
            for branch in enums.iter_mut() {
                if branch.event_type == kind.event_type && branch.at == Some(at) {
                    branch.sent.insert(value.to_owned());
                    if accepted {
                        branch.accepted.insert(value.to_owned());
                    }
                }
            }
        };
        // Only accepted payloads mark paths; every payload sent tells the enum values
        // sent.
        if accepted {
            paths::mark(index, payload, present, &mut on_enum);
        } else {
            paths::enum_values_in(index, payload, &mut on_enum);
        }
    }

    /// Adds what `other` (a tally of the same run, over the exchanges made after those
    /// this one saw) counted, as if this one had observed them itself.
    pub fn merge(&mut self, other: Tally) {
        for operation in other.operations {
            match self.operations.iter_mut().find(|o| {
                o.event_type == operation.event_type && o.operation == operation.operation
            }) {
                Some(known) => {
                    known.sent += operation.sent;
                    known.accepted += operation.accepted;
                }
                None => self.operations.push(operation),
            }
        }
        for (mine, (sent, accepted)) in self.products.iter_mut().zip(other.products) {
            mine.0 += sent;
            mine.1 += accepted;
        }
        for (event_type, present, seen) in other.schemas {
            if let Some((_, mine, my_seen)) =
                self.schemas.iter_mut().find(|(t, _, _)| *t == event_type)
            {
                for (at, here) in mine.iter_mut().zip(present) {
                    *at |= here;
                }
                my_seen.extend(seen);
            }
        }
        for branch in other.enums {
            if let Some(mine) = self
                .enums
                .iter_mut()
                .find(|b| b.event_type == branch.event_type && b.field == branch.field)
            {
                mine.sent.extend(branch.sent);
                mine.accepted.extend(branch.accepted);
            }
        }
        self.signature_variants.extend(other.signature_variants);
        for (mine, theirs) in self.body_styles.iter_mut().zip(other.body_styles) {
            *mine |= theirs;
        }
    }

    /// The tally so far, leaving an empty one in its place.
    pub fn take(&mut self) -> Tally {
        let empty = Tally {
            subscription: self.subscription.clone(),
            verifier: None,
            operations: Vec::new(),
            products: [(0, 0); 4],
            schemas: Vec::new(),
            enums: Vec::new(),
            signature_variants: BTreeSet::new(),
            body_styles: [false; 5],
        };
        std::mem::replace(self, empty)
    }

    /// The signature forms that verified, when the delivery is correctly signed.
    fn signed_with(&self, exchange: &Exchange) -> Option<Vec<&'static str>> {
        let Some(verifier) = &self.verifier else {
            return Some(Vec::new());
        };
        let headers = &exchange.request.headers;
        let signature = crate::wire::header(headers, HEADER_SIGNATURE);
        let format = verifier
            .verify(
                crate::wire::header(headers, HEADER_ID),
                crate::wire::header(headers, HEADER_TIMESTAMP),
                signature,
                &exchange.request.body,
                0,
            )
            .ok()?;
        let mut variants = vec![match format {
            SignatureFormat::V1 => "v1",
            SignatureFormat::Bare => "bare",
        }];
        if signature.is_some_and(|s| s.split_ascii_whitespace().count() > 1) {
            variants.push("several-tokens");
        }
        Some(variants)
    }

    /// The coverage, with the TLS versions the probe completed.
    pub fn finish(self, tls: Option<&TlsReport>) -> Coverage {
        let operations = self.operations;
        let subscribed: Vec<&OperationCoverage> =
            operations.iter().filter(|o| o.subscribed).collect();
        let pnr = self.subscription.event_types().contains(&EventType::PnrV3);
        let products: Vec<ProductCoverage> = if pnr {
            Product::ALL
                .iter()
                .zip(self.products)
                .map(|(product, (sent, accepted))| ProductCoverage {
                    product: product_name(*product),
                    sent,
                    accepted,
                })
                .collect()
        } else {
            Vec::new()
        };
        let enums: Vec<EnumCoverage> = self
            .enums
            .into_iter()
            .filter_map(|branch| {
                let index = index_of(branch.event_type)?;
                let values: Vec<EnumValue> = index
                    .enum_values(branch.at?)
                    .iter()
                    .map(|v| EnumValue {
                        value: v.clone(),
                        sent: branch.sent.contains(v),
                        accepted: branch.accepted.contains(v),
                    })
                    .collect();
                let field = branch.field;
                Some(EnumCoverage {
                    event_type: branch.event_type.as_str(),
                    field,
                    values_accepted: Ratio {
                        covered: values.iter().filter(|v| v.accepted).count(),
                        total: values.len(),
                    },
                    values,
                })
            })
            .collect();
        let schemas: Vec<SchemaCoverage> = self
            .schemas
            .into_iter()
            .filter_map(|(t, present, seen)| {
                let index = index_of(t)?;
                let enum_total = index.enum_total();
                Some(SchemaCoverage {
                    event_type: t.as_str(),
                    schema: PayloadSchema::of(t)?.name,
                    paths: Ratio {
                        covered: present.iter().filter(|p| **p).count(),
                        total: present.len(),
                    },
                    enum_values: Ratio {
                        covered: seen.len(),
                        total: enum_total,
                    },
                    largest_uncovered: paths::largest_absent(index, &present, UNCOVERED_NAMED)
                        .into_iter()
                        .map(|(path, paths)| UncoveredSubtree { path, paths })
                        .collect(),
                })
            })
            .collect();
        let sum = |ratios: &mut dyn Iterator<Item = Ratio>| {
            ratios.fold(Ratio::default(), |a, r| Ratio {
                covered: a.covered + r.covered,
                total: a.total + r.total,
            })
        };
        let totals = Totals {
            operations: Ratio {
                covered: subscribed.iter().filter(|o| o.accepted > 0).count(),
                total: subscribed.len(),
            },
            products: Ratio {
                covered: products.iter().filter(|p| p.accepted > 0).count(),
                total: products.len(),
            },
            enums: sum(&mut enums.iter().map(|e| e.values_accepted)),
            schema: schemas
                .iter()
                .map(|s| s.paths)
                .min_by(|a, b| (a.covered * b.total.max(1)).cmp(&(b.covered * a.total.max(1))))
                .unwrap_or_default(),
        };
        let tls_versions = tls
            .map(|report| {
                report
                    .versions
                    .iter()
                    .filter(|v| v.outcome == Outcome::Accepted)
                    .map(|v| v.version.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        Coverage {
            totals,
            operations,
            products,
            enums,
            schemas,
            signature_variants: self
                .signature_variants
                .into_iter()
                .map(str::to_owned)
                .collect(),
            body_styles: BodyStyle::ALL
                .iter()
                .zip(self.body_styles)
                .filter(|(_, accepted)| *accepted)
                .map(|(style, _)| style.as_str().to_owned())
                .collect(),
            tls_versions,
            below_minimum: Vec::new(),
        }
    }
}

impl Coverage {
    /// The coverage of a run's checks (every exchange of every check).
    pub fn of(
        checks: &[CheckResult],
        subscription: &Subscription,
        secret: Option<&Secret>,
        tls: Option<&TlsReport>,
    ) -> Coverage {
        let mut tally = Tally::new(subscription, secret);
        for check in checks {
            for exchange in &check.exchanges {
                tally.observe(exchange);
            }
        }
        tally.finish(tls)
    }

    /// Compares the run with the goals; records and returns whether it fell short.
    pub fn apply_minimum(&mut self, minimum: &MinCoverage) -> bool {
        self.below_minimum = minimum
            .goals()
            .filter_map(|(key, percent)| {
                let ratio = match key {
                    "operations" => self.totals.operations,
                    "products" => self.totals.products,
                    "enums" => self.totals.enums,
                    _ => self.totals.schema,
                };
                (!ratio.reaches(percent)).then_some(Shortfall {
                    key,
                    required_percent: percent,
                    reached_percent: ratio.percent(),
                })
            })
            .collect();
        !self.below_minimum.is_empty()
    }
}

fn product_name(product: Product) -> &'static str {
    match product {
        Product::Air => "air",
        Product::Hotel => "hotel",
        Product::Car => "car",
        Product::Rail => "rail",
    }
}

/// The event type and operation of a webhook envelope (either envelope style).
fn kind_of(envelope: &Value) -> Option<EventKind> {
    let name = envelope
        .get("eventType")
        .or_else(|| envelope.get("event_type"))?
        .as_str()?;
    let event_type = EventType::ALL.into_iter().find(|t| t.as_str() == name)?;
    let operation = envelope.get("operation")?.as_str()?;
    let operation = *event_type.operations().iter().find(|o| **o == operation)?;
    Some(EventKind {
        event_type,
        operation,
    })
}

/// The body style whose bytes `body` is (compact when none matches exactly). A
/// reordered body parses to its reversed key order and so writes back compact: it is
/// told by its first key, which an envelope in the documented order has as `timestamp`.
fn style_of(body: &[u8], value: &Value) -> BodyStyle {
    let style = BodyStyle::ALL
        .into_iter()
        .find(|style| body_style::write(value, *style) == body)
        .unwrap_or(BodyStyle::Compact);
    let first_key = value.as_object().and_then(|map| map.keys().next());
    if style == BodyStyle::Compact && first_key.is_some_and(|key| key != "timestamp") {
        BodyStyle::Reordered
    } else {
        style
    }
}

/// Coverage goals (`--min-coverage operations=100%,schema=60%`): each key at most once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinCoverage {
    /// Subscribed event types and operations accepted, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<u32>,
    /// Product blocks (air, hotel, car, rail) accepted, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products: Option<u32>,
    /// Published values of the branch fields accepted, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enums: Option<u32>,
    /// Property paths of each subscribed published schema, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<u32>,
}

/// Why a `--min-coverage` value was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MinCoverageError {
    /// A key that is not one of the four.
    #[error("unknown coverage key `{0}` (expected operations, products, enums or schema)")]
    UnknownKey(String),
    /// `key=` missing or the percentage unreadable.
    #[error("`{0}` is not KEY=PERCENT (e.g. `schema=60%`)")]
    Malformed(String),
    /// Above 100.
    #[error("`{0}` is above 100%")]
    TooHigh(String),
    /// The same key twice.
    #[error("coverage key `{0}` is given twice")]
    Repeated(String),
}

impl MinCoverage {
    /// Parses `operations=100%,schema=60%` (the `%` is optional).
    pub fn parse(text: &str) -> Result<MinCoverage, MinCoverageError> {
        let mut goals = MinCoverage::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| MinCoverageError::Malformed(part.to_owned()))?;
            let number = value.trim().trim_end_matches('%').trim();
            let percent: u32 = number
                .parse()
                .map_err(|_| MinCoverageError::Malformed(part.to_owned()))?;
            if percent > 100 {
                return Err(MinCoverageError::TooHigh(part.to_owned()));
            }
            let slot = match key.trim() {
                "operations" => &mut goals.operations,
                "products" => &mut goals.products,
                "enums" => &mut goals.enums,
                "schema" => &mut goals.schema,
                other => return Err(MinCoverageError::UnknownKey(other.to_owned())),
            };
            if slot.replace(percent).is_some() {
                return Err(MinCoverageError::Repeated(key.trim().to_owned()));
            }
        }
        Ok(goals)
    }

    /// The goals set, as `(key, percent)`, in key order.
    pub fn goals(&self) -> impl Iterator<Item = (&'static str, u32)> {
        [
            ("operations", self.operations),
            ("products", self.products),
            ("enums", self.enums),
            ("schema", self.schema),
        ]
        .into_iter()
        .filter_map(|(key, percent)| Some((key, percent?)))
    }

    /// Whether no goal is set.
    pub fn is_empty(&self) -> bool {
        self.goals().next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_goals_and_refuses_unknown_keys() {
        let goals = MinCoverage::parse("operations=100%, schema=60").unwrap();
        assert_eq!(
            goals.goals().collect::<Vec<_>>(),
            [("operations", 100), ("schema", 60)]
        );
        assert_eq!(
            MinCoverage::parse("paths=5%"),
            Err(MinCoverageError::UnknownKey("paths".into()))
        );
        assert_eq!(
            MinCoverage::parse("schema=101%"),
            Err(MinCoverageError::TooHigh("schema=101%".into()))
        );
        assert!(MinCoverage::parse("schema").is_err());
        assert!(MinCoverage::parse("schema=1,schema=2").is_err());
    }

    #[test]
    fn a_ratio_reaches_a_goal_exactly() {
        let two_of_three = Ratio {
            covered: 2,
            total: 3,
        };
        assert_eq!(two_of_three.percent(), 66);
        assert!(two_of_three.reaches(66));
        assert!(!two_of_three.reaches(67));
    }

    #[test]
    fn every_branch_field_is_an_enumerated_path_of_its_schema() {
        for (event_type, field) in BRANCH_FIELDS {
            let index = index_of(*event_type).unwrap();
            let at = index.find(field).unwrap_or_else(|| panic!("{field}"));
            assert!(!index.enum_values(at).is_empty(), "{field}");
        }
    }

    #[test]
    fn every_schema_path_is_found_by_its_text() {
        for event_type in SCHEMA_TYPES {
            let index = index_of(event_type).unwrap();
            assert!(index.len() > 100, "{event_type:?}");
            for at in 0..index.len() as u32 {
                let path = index.path(at);
                assert_eq!(index.find(&path), Some(at), "{path}");
            }
        }
    }
}
