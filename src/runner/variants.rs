//! The `payload.schema-variants-accepted` check: payloads generated from Spotnana's
//! published schemas ([`crate::event::variants`]), each enveloped, signed and
//! delivered like any event, must all get `200`.
//!
//! When one does not, it is shrunk: parts of it are removed (a whole container's
//! members at once, then halves, then one by one, as delta debugging does) as long as
//! the payload still validates and still fails, within [`SHRINK_DELIVERIES`] more
//! deliveries. Then the smallest set of changes that turns the shrunk payload into
//! one that gets `200` is sought among the differences from a variant that passed
//! (halving again, within [`SEPARATE_DELIVERIES`]), and reported as a JSON Patch from
//! the passing payload to the failing one (`remove /totalFare` → `500`).

use std::collections::VecDeque;
use std::time::Instant;

use serde_json::Value;

use super::compose::{self, ComposeContext, Content, SendPlan};
use super::context::RunContext;
use super::recovery::verifies;
use crate::check::{CheckInfo, CheckResult, Level, Needs, SkipReason, Verdict};
use crate::coverage::Tally;
use crate::delivery::exchange::Exchange;
use crate::delivery::retry::delivered;
use crate::event::random::{self, SeededRng};
use crate::event::schema::PayloadSchema;
use crate::event::variants::{self, Recipe};
use crate::event::{EventKind, EventType};
use crate::signing::{Verifier, unix_now};

/// The check's id (a public contract).
pub const CHECK_ID: &str = "payload.schema-variants-accepted";
/// How many variants `spotcheck run` sends unless `--variants` says otherwise.
pub const DEFAULT_COUNT: usize = 50;
/// The most `--variants` accepts.
pub const MAX_COUNT: usize = 10_000;
/// Extra deliveries the shrinking of a failing variant may make.
pub const SHRINK_DELIVERIES: usize = 32;
/// Extra deliveries the search for what separates it from a passing payload may make.
pub const SEPARATE_DELIVERIES: usize = 12;
/// Variants in flight at once.
const CONCURRENCY: usize = 4;
/// Failing variants named in the message.
const NAMED_FAILURES: usize = 3;

/// What the check is.
pub fn info() -> CheckInfo {
    CheckInfo {
        id: CHECK_ID.to_owned(),
        title: "Payloads valid against Spotnana's published schemas are all accepted".to_owned(),
        level: Level::Required,
        why: "Real Spotnana traffic holds what its published schemas allow, not only what a \
              few sample events hold: optional fields absent or all present, every published \
              status, cabin and product block, empty arrays, long and non-ASCII text, edge \
              numbers. A payload the receiver cannot take is answered non-200, retried for \
              14 days and then parked: that event is lost."
            .to_owned(),
        fix: "Parse payloads with every field optional unless the schema requires it, map \
              every published enum value (and keep an unknown one instead of failing), accept \
              empty arrays and any Unicode text, and store numbers at the schema's width; \
              answer 200 once the event is safely stored."
            .to_owned(),
        tags: vec!["payload".to_owned(), "schema".to_owned()],
        // Many payloads, several at once: never beside a check that measures time.
        needs: Needs {
            loads_endpoint: true,
            ..Needs::default()
        },
        diagnosis: None,
    }
}

/// `--variants N`: a count from 1 to [`MAX_COUNT`].
pub fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_COUNT}")),
    }
}

/// Variants made, composed and sent at a time: a batch's payloads and bodies are let
/// go before the next batch is made, so the check's memory does not grow with
/// `--variants` (a whole-schema payload is 100 KB and more).
const BATCH: usize = 32;

/// One generated variant and what became of it. The payload is not kept (10,000 of
/// them would take a gigabyte): where the generator stood before making it is, and
/// the same payload is made again from there when it is needed (sent, shrunk,
/// compared with a failing one).
struct Variant {
    recipe: Recipe,
    kind: EventKind,
    /// The generator's word position before this variant was generated.
    at: u128,
    /// Whether it got `200`.
    delivered: bool,
}

impl Variant {
    /// The variant's payload, made again exactly as it was first made.
    fn payload(&self, seed: u64) -> Value {
        let mut rng = random::rng_for(seed, CHECK_ID);
        rng.set_word_pos(self.at);
        variants::generate(&self.recipe, &mut rng)
    }
}

/// What the sweep over the variants found, kept for the verdict.
#[derive(Default)]
struct Sweep {
    /// The first variant not accepted: its exchange, whole.
    first_failure: Option<Exchange>,
    /// What the first [`NAMED_FAILURES`] variants not accepted got.
    outcomes: Vec<String>,
}

/// Delivers payloads for the check, recording every exchange (most without their
/// bodies, see [`Sender::record`]) and counting each into the coverage as it is made.
struct Sender<'a> {
    ctx: &'a RunContext,
    rng: SeededRng,
    exchanges: Vec<Exchange>,
    /// The check's own coverage tally, added to the run's when the check ends (a
    /// check cut short by a stop counts nothing, as its result lists no exchange).
    tally: Tally,
    /// Verifies signatures as `retry.recovers-after-failure` does, to know which
    /// failed delivery it may pick.
    verifier: Verifier,
    /// Keep every body from now on (shrinking and separating: a bounded number).
    keep_all: bool,
    /// A failed variant's body is kept already (the shrinking starts from it).
    variant_failure_kept: bool,
    /// How many correctly signed failed deliveries kept their bodies: answered
    /// otherwise, answered with another success code.
    signed_failures_kept: [usize; 2],
    /// The last exchange recorded keeps its body only for being last.
    last_strippable: bool,
}

impl Sender<'_> {
    /// Sends each payload as an event of its kind, `CONCURRENCY` at a time; the
    /// exchanges in input order.
    async fn send(&mut self, payloads: Vec<(EventKind, Value)>) -> Vec<Exchange> {
        self.deliver(plans_of(payloads), false).await
    }

    /// Delivers one regular generated event of `kind` (the fixture, not a variant).
    async fn control(&mut self, kind: EventKind) -> Exchange {
        self.deliver(vec![SendPlan::new(kind)], false)
            .await
            .remove(0)
    }

    /// Composes, signs and delivers each plan, `CONCURRENCY` at a time, recording every
    /// exchange; the exchanges in input order. `variants`: the plans are the sweep's
    /// variants.
    async fn deliver(&mut self, plans: Vec<SendPlan>, variants: bool) -> Vec<Exchange> {
        let context = ComposeContext::of(self.ctx, unix_now());
        let mut attempts: Vec<_> = plans
            .iter()
            .map(|plan| compose::compose(plan, &context, None, None, &mut self.rng).attempt)
            .collect();
        drop(plans);
        if !self.ctx.hmac {
            super::steps::strip_hmac(&mut attempts);
        }
        let exchanges =
            super::steps::send_all(self.ctx, self.ctx.oauth.as_ref(), attempts, CONCURRENCY).await;
        for exchange in &exchanges {
            self.record(exchange, variants);
        }
        exchanges
    }

    /// Counts `exchange` into the coverage and keeps it for the report. Its whole
    /// body is kept only where something may still read it: the failed variant the
    /// shrinking starts from; the first two correctly signed failed deliveries of
    /// each kind, answered with another success code or not (`retry.recovers-after-
    /// failure` resends the first of the run not answered with a success code, else
    /// reports the first that was, and the verdict may move one of them to the end);
    /// every delivery of the bounded shrinking and separating; and the check's last
    /// exchange (the one `--export-curl` prints). Every other keeps its size and
    /// excerpt, all any report shows of it.
    fn record(&mut self, exchange: &Exchange, variant: bool) {
        self.tally.observe(exchange);
        let failed = !delivered(exchange);
        let mut keep = self.keep_all;
        if failed && variant && !self.variant_failure_kept {
            self.variant_failure_kept = true;
            keep = true;
        }
        if failed
            && exchange.request.method == "POST"
            && !exchange.not_sent
            && verifies(&self.verifier, exchange).is_some()
        {
            let class = usize::from(exchange.status().is_some_and(|s| (200..300).contains(&s)));
            if self.signed_failures_kept[class] < 2 {
                self.signed_failures_kept[class] += 1;
                keep = true;
            }
        }
        if self.last_strippable
            && let Some(last) = self.exchanges.last_mut()
        {
            last.forget_bodies();
        }
        self.exchanges.push(exchange.clone());
        self.last_strippable = !keep;
    }

    /// Delivers one payload; `Some(exchange)` when it was not accepted.
    async fn fails(&mut self, kind: EventKind, payload: &Value) -> Option<Exchange> {
        let exchange = self.send(vec![(kind, payload.clone())]).await.remove(0);
        (!delivered(&exchange)).then_some(exchange)
    }
}

/// Each payload as an event of its kind.
fn plans_of(payloads: Vec<(EventKind, Value)>) -> Vec<SendPlan> {
    payloads
        .into_iter()
        .map(|(kind, payload)| SendPlan {
            content: Content::Payload(kind, payload),
            ..SendPlan::new(kind)
        })
        .collect()
}

/// Runs the check: generates `count` variants for the run's subscribed event types,
/// delivers them, and shrinks the first that is not accepted.
pub async fn run(ctx: &RunContext, count: usize) -> CheckResult {
    let started = Instant::now();
    let recipes = variants::plan(&ctx.subscription.event_types(), count);
    if recipes.is_empty() {
        return CheckResult::new(
            info(),
            Verdict::Skipped(SkipReason::NoPublishedSchema),
            started.elapsed(),
            Vec::new(),
        );
    }
    let mut rng = random::rng_for(ctx.seed, CHECK_ID);
    let mut made: Vec<Variant> = Vec::with_capacity(recipes.len());
    for (index, recipe) in recipes.into_iter().enumerate() {
        // Only the subscribed operations of the type: Spotnana sends no other.
        let operations: Vec<&'static str> = ctx
            .subscription
            .types()
            .iter()
            .find(|t| t.event_type == recipe.event_type)
            .map(|t| t.operations())
            .unwrap_or_else(|| recipe.event_type.operations().to_vec());
        let kind = EventKind {
            event_type: recipe.event_type,
            operation: operations[index / 3 % operations.len()],
        };
        // Made here only to move the generator past it: the deliveries' ids and
        // signatures come from where it stands after every variant (as they did when
        // every payload was kept), and each payload is made again when it is sent.
        let at = rng.get_word_pos();
        drop(variants::generate(&recipe, &mut rng));
        made.push(Variant {
            recipe,
            kind,
            at,
            delivered: false,
        });
    }
    let mut sender = Sender {
        ctx,
        rng,
        exchanges: Vec::new(),
        tally: Tally::new(&ctx.subscription, ctx.hmac.then_some(&ctx.secret)),
        verifier: Verifier::new(vec![ctx.secret.clone()]),
        keep_all: false,
        variant_failure_kept: false,
        signed_failures_kept: [0; 2],
        last_strippable: false,
    };
    let verdict = sweep_and_judge(&mut made, &mut sender).await;
    let Sender {
        exchanges, tally, ..
    } = sender;
    ctx.tally().merge(tally);
    CheckResult::new(info(), verdict, started.elapsed(), exchanges)
}

/// Sends the control delivery, then every variant, batch by batch, and judges.
async fn sweep_and_judge(made: &mut [Variant], sender: &mut Sender<'_>) -> Verdict {
    let seed = sender.ctx.seed;
    // The precondition: a regular generated event of the first variant's kind gets 200.
    // Otherwise every variant's refusal would only repeat delivery.status-200's finding
    // (an endpoint answering 202 or 401 to everything), not say anything of payloads.
    let control_kind = made[0].kind;
    let control = sender.control(control_kind).await;
    if let Some(response) = control.response.as_ref().filter(|_| !delivered(&control)) {
        return Verdict::Skipped(SkipReason::Precondition {
            step: None,
            what: Some(format!(
                "the control delivery ({control_kind}, a generated fixture event)"
            )),
            request: None,
            got: response.status_line(),
            needed: "200".to_owned(),
            see: Some("delivery.status-200".to_owned()),
        });
    }
    drop(control);
    let mut sweep = Sweep::default();
    for batch in made.chunks_mut(BATCH) {
        let payloads = batch
            .iter()
            .map(|variant| (variant.kind, variant.payload(seed)))
            .collect();
        let exchanges = sender.deliver(plans_of(payloads), true).await;
        for (variant, exchange) in batch.iter_mut().zip(exchanges) {
            variant.delivered = delivered(&exchange);
            if variant.delivered {
                continue;
            }
            if sweep.outcomes.len() < NAMED_FAILURES {
                sweep.outcomes.push(exchange.outcome_text());
            }
            if sweep.first_failure.is_none() {
                sweep.first_failure = Some(exchange);
            }
        }
    }
    sender.keep_all = true;
    judge(made, sweep, sender).await
}

async fn judge(results: &[Variant], sweep: Sweep, sender: &mut Sender<'_>) -> Verdict {
    let seed = sender.ctx.seed;
    let failed: Vec<(usize, &Variant)> = results
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.delivered)
        .collect();
    let (Some(&(first_index, first)), Some(first_exchange)) = (failed.first(), sweep.first_failure)
    else {
        return Verdict::Passed(passed_summary(results).into());
    };
    let mut named: Vec<String> = failed
        .iter()
        .zip(&sweep.outcomes)
        .map(|((i, v), outcome)| {
            format!(
                "#{} {}/{} ({}) got {}",
                i + 1,
                v.kind.event_type.as_str(),
                v.kind.operation,
                v.recipe.describe(),
                outcome
            )
        })
        .collect();
    if failed.len() > NAMED_FAILURES {
        named.push(format!("{} more", failed.len() - NAMED_FAILURES));
    }
    let mut message = format!(
        "{} of {} schema-valid variants did not get 200: {}",
        failed.len(),
        results.len(),
        named.join(", ")
    );
    if first_exchange.response.is_none() {
        message.push_str(&format!(
            "; #{} was not shrunk: it got no answer, and each further try would wait as long",
            first_index + 1
        ));
        return Verdict::Failed(message.into());
    }
    let schema = PayloadSchema::of(first.kind.event_type).expect("variants have schemas");
    let first_payload = first.payload(seed);
    let mut budget = SHRINK_DELIVERIES;
    let (shrunk, mut outcome) = shrink(
        sender,
        schema,
        first.kind,
        first_payload.clone(),
        first_exchange,
        &mut budget,
    )
    .await;
    let shrink_cost = SHRINK_DELIVERIES - budget;
    let smaller = if shrunk == first_payload {
        format!("could not be made smaller ({shrink_cost} more deliveries tried)")
    } else {
        format!("shrunk in {shrink_cost} more deliveries to")
    };
    drop(first_payload);
    message.push_str(&format!(
        "; #{} {smaller}: {} {}",
        first_index + 1,
        first.kind.event_type.as_str(),
        short_json(&shrunk, 300)
    ));
    let passed = closest_passed(results, first.kind.event_type, &shrunk, seed);
    let mut budget = SEPARATE_DELIVERIES;
    match separate(sender, schema, first.kind, &shrunk, &passed, &mut budget).await {
        Some(passing) => {
            let patch = json_patch::diff(&passing, &shrunk);
            message.push_str(&format!(
                "; what separates it from a payload that got 200, as a JSON Patch: {} → {}",
                short_json(&serde_json::to_value(&patch).unwrap_or_default(), 400),
                outcome.outcome_text()
            ));
        }
        None if passed.is_empty() => message.push_str(&format!(
            "; no {} variant got 200, so there is no accepted payload to compare it with",
            first.kind.event_type.as_str()
        )),
        None => message.push_str(
            "; no change towards an accepted variant made it pass within the delivery bound",
        ),
    }
    // The failing delivery of the shrunk payload is the check's last exchange (the one
    // `--export-curl` prints).
    if let Some(at) = sender
        .exchanges
        .iter()
        .rposition(|e| e.request.body == outcome.request.body)
    {
        outcome = sender.exchanges.remove(at);
    }
    sender.exchanges.push(outcome);
    Verdict::Failed(message.into())
}

/// The (at most two) payloads of `event_type` that got 200 to compare the shrunk
/// failing one with: first those holding every field it holds (the patch then says
/// `replace`, naming both values), then the smallest; ties in variant order. Made
/// again one at a time, so only the two best are ever held.
fn closest_passed(
    results: &[Variant],
    event_type: EventType,
    shrunk: &Value,
    seed: u64,
) -> Vec<Value> {
    let fields: Vec<&String> = shrunk
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    let mut best: Vec<((usize, usize), Value)> = Vec::with_capacity(3);
    for variant in results
        .iter()
        .filter(|v| v.kind.event_type == event_type && v.delivered)
    {
        let payload = variant.payload(seed);
        let missing = fields
            .iter()
            .filter(|f| payload.get(f.as_str()).is_none())
            .count();
        let size = serde_json::to_vec(&payload).map_or(usize::MAX, |b| b.len());
        best.push(((missing, size), payload));
        // Stable: an earlier variant stays ahead of a later one with the same key.
        best.sort_by_key(|(key, _)| *key);
        best.truncate(2);
    }
    best.into_iter().map(|(_, payload)| payload).collect()
}

/// What the passing variants covered.
fn passed_summary(results: &[Variant]) -> String {
    let mut per_type: Vec<(EventType, usize)> = Vec::new();
    for variant in results {
        match per_type
            .iter_mut()
            .find(|(t, _)| *t == variant.kind.event_type)
        {
            Some((_, n)) => *n += 1,
            None => per_type.push((variant.kind.event_type, 1)),
        }
    }
    let enums = results
        .iter()
        .filter(|v| v.recipe.pins.iter().any(|p| p.value.is_some()))
        .count();
    format!(
        "all {} variants generated from Spotnana's published schemas got 200 ({}): only \
         required fields, every optional field, one product block each, empty arrays, long \
         and non-ASCII strings, edge numbers, {enums} pinned enum values",
        results.len(),
        per_type
            .iter()
            .map(|(t, n)| format!("{n} {}", t.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Removes what it can from a failing payload while it stays schema-valid and keeps
/// failing: each container (the root first, then what remains inside) loses its
/// members all at once, else in halves, quarters… down to one at a time.
async fn shrink(
    sender: &mut Sender<'_>,
    schema: PayloadSchema,
    kind: EventKind,
    payload: Value,
    exchange: Exchange,
    budget: &mut usize,
) -> (Value, Exchange) {
    let mut current = payload;
    let mut outcome = exchange;
    let mut containers: VecDeque<Vec<String>> = VecDeque::from([Vec::new()]);
    while let Some(container) = containers.pop_front() {
        let mut parts = 1usize;
        loop {
            let members = members(&current, &container);
            if members.is_empty() || *budget == 0 {
                break;
            }
            let parts_now = parts.min(members.len());
            let size = members.len().div_ceil(parts_now);
            let mut removed = false;
            for chunk in members.chunks(size) {
                let mut candidate = current.clone();
                // Last first, so array indices stay right.
                for member in chunk.iter().rev() {
                    let mut at = container.clone();
                    at.push(member.clone());
                    variants::remove_at(&mut candidate, &at);
                }
                if !schema.is_valid(&candidate) {
                    continue;
                }
                if *budget == 0 {
                    break;
                }
                *budget -= 1;
                if let Some(failure) = sender.fails(kind, &candidate).await {
                    current = candidate;
                    outcome = failure;
                    removed = true;
                    break;
                }
            }
            if removed {
                parts = parts_now.saturating_sub(1).max(1);
            } else if parts_now >= members.len() {
                break;
            } else {
                parts = (parts_now * 2).min(members.len());
            }
        }
        for member in members(&current, &container) {
            let mut at = container.clone();
            at.push(member);
            if value_at(&current, &at).is_some_and(|v| {
                v.as_object().is_some_and(|o| !o.is_empty())
                    || v.as_array().is_some_and(|a| !a.is_empty())
            }) {
                containers.push_back(at);
            }
        }
    }
    (current, outcome)
}

/// Finds a payload that gets 200 and differs from `failing` as little as the bound
/// allows: the differences from an accepted variant are applied in halves, keeping a
/// half that still passes, until one change is left or neither half passes alone.
async fn separate(
    sender: &mut Sender<'_>,
    schema: PayloadSchema,
    kind: EventKind,
    failing: &Value,
    passed: &[Value],
    budget: &mut usize,
) -> Option<Value> {
    for accepted in passed.iter().take(2) {
        let mut changes = json_patch::diff(failing, accepted).0;
        if changes.is_empty() {
            // The same payload failed and passed: not a matter of its content.
            continue;
        }
        while changes.len() > 1 && *budget > 0 {
            let second = changes.split_off(changes.len() / 2);
            let first = std::mem::take(&mut changes);
            let mut kept = None;
            for half in [first.clone(), second.clone()] {
                let Some(candidate) = applied(failing, &half) else {
                    continue;
                };
                if !schema.is_valid(&candidate) || *budget == 0 {
                    continue;
                }
                *budget -= 1;
                if sender.fails(kind, &candidate).await.is_none() {
                    kept = Some(half);
                    break;
                }
            }
            match kept {
                Some(half) => changes = half,
                None => {
                    changes = first;
                    changes.extend(second);
                    break;
                }
            }
        }
        return applied(failing, &changes);
    }
    None
}

/// `value` with the patch operations applied; `None` when they do not apply.
fn applied(value: &Value, operations: &[json_patch::PatchOperation]) -> Option<Value> {
    let mut result = value.clone();
    json_patch::patch(&mut result, operations).ok()?;
    Some(result)
}

/// The member names of the object or array at `container` (indices as text).
fn members(value: &Value, container: &[String]) -> Vec<String> {
    match value_at(value, container) {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(Value::Array(items)) => (0..items.len()).map(|i| i.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn value_at<'v>(value: &'v Value, segments: &[String]) -> Option<&'v Value> {
    segments.iter().try_fold(value, |at, segment| match at {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Compact JSON, cut at `max` characters with `…`.
fn short_json(value: &Value, max: usize) -> String {
    let text = value.to_string();
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_is_a_required_payload_check() {
        let info = info();
        assert_eq!(info.id, "payload.schema-variants-accepted");
        assert_eq!(info.level, Level::Required);
        assert_eq!(info.suite(), "payload");
    }

    #[test]
    fn count_is_bounded() {
        assert_eq!(parse_count("50"), Ok(50));
        assert!(parse_count("0").is_err());
        assert!(parse_count("10001").is_err());
        assert!(parse_count("x").is_err());
    }

    #[test]
    fn a_variant_is_made_again_identical_from_its_generator_position() {
        let recipes = variants::plan(&[EventType::PnrV3, EventType::TravelerV2], 16);
        let mut rng = random::rng_for(7, CHECK_ID);
        let mut made = Vec::new();
        for recipe in recipes {
            let at = rng.get_word_pos();
            let payload = variants::generate(&recipe, &mut rng);
            let kind = EventKind {
                event_type: recipe.event_type,
                operation: recipe.event_type.operations()[0],
            };
            let variant = Variant {
                recipe,
                kind,
                at,
                delivered: true,
            };
            made.push((variant, payload));
        }
        // Out of order, as the shrinking and the comparison ask for them.
        for (variant, payload) in made.iter().rev() {
            assert_eq!(variant.payload(7), *payload);
        }
    }

    #[test]
    fn long_json_is_cut() {
        assert_eq!(short_json(&serde_json::json!({"a": 1}), 100), r#"{"a":1}"#);
        assert_eq!(short_json(&serde_json::json!("ééééé"), 3), "\"éé…");
    }
}
