//! What each step can send: the budget the scenario must fit.

use super::prelude::*;
use super::validator::*;

/// A delivery step's body, deliveries and bytes: the body against [`Limits::body`],
/// the scenario's running totals against [`Limits::deliveries`] and [`Limits::bytes`];
/// the step's sizes are kept for the steps after it.
pub(super) fn step_budget(
    v: &mut Validator<'_>,
    send: &SendStep,
    raw: &RawStep,
    index: usize,
    action_span: Range<usize>,
) {
    let (body, pnr_id, each) = match &send.source {
        SendSource::Redeliver(r) | SendSource::Replay(r) => {
            let earlier = v.step_sizes.get(&r.index).copied().unwrap_or_default();
            (earlier.body, earlier.pnr_id, 1)
        }
        SendSource::Event(_) | SendSource::EachSubscribed => {
            let each = if matches!(send.source, SendSource::EachSubscribed) {
                EventKind::all().count() as u64
            } else {
                1
            };
            match &send.body {
                Some(body) => (v.text_size(body).raw, TextSize::default(), each),
                None => {
                    let (body, pnr_id) = generated_sizes(v, send);
                    (body, pnr_id, each)
                }
            }
        }
    };
    v.step_sizes.insert(index, StepSize { body, pnr_id });
    let deliveries = u64::from(send.repeat).saturating_mul(each);
    let limits = *v.limits;
    let size = budget::figure;
    if body > limits.body {
        let span = raw
            .large
            .as_ref()
            .map_or(action_span.clone(), Spanned::span);
        v.error_help(
            span,
            format!(
                "one delivery of this step can be {} ({body} bytes), over the limit of {} for \
                 one body",
                size(body),
                size(limits.body)
            ),
            format!("up to {body} bytes"),
            "make the payload, `payload_file` or `large` smaller, or raise the limit with \
             --max-delivery-body SIZE",
        );
    }
    let before = v.budget;
    v.budget.deliveries = before.deliveries.saturating_add(deliveries);
    v.budget.bytes = before.bytes.saturating_add(deliveries.saturating_mul(body));
    v.budget.largest_body = before.largest_body.max(body);
    let span = raw.repeat.as_ref().map_or(action_span, Spanned::span);
    if v.budget.deliveries > limits.deliveries && before.deliveries <= limits.deliveries {
        v.error_help(
            span.clone(),
            format!(
                "the scenario sends up to {} deliveries with this step, over the limit of {} \
                 per scenario",
                v.budget.deliveries, limits.deliveries
            ),
            format!("{deliveries} deliveries here"),
            "lower `repeat` (use `spotcheck load` for load tests), or raise the limit with \
             --max-deliveries N",
        );
    }
    if v.budget.bytes > limits.bytes && before.bytes <= limits.bytes {
        v.error_help(
            span,
            format!(
                "the scenario sends up to {} of bodies with this step ({} bytes), over the \
                 limit of {} per scenario",
                size(v.budget.bytes),
                v.budget.bytes,
                size(limits.bytes)
            ),
            format!("{deliveries} × up to {body} bytes"),
            "lower `repeat` or `large`, or raise the limit with --max-scenario-bytes SIZE",
        );
    }
}

/// The largest body and PNR id of a generated event with this step's overrides.
pub(super) fn generated_sizes(v: &Validator<'_>, send: &SendStep) -> (u64, TextSize) {
    let mut string = |t: &Template| v.text_size(t);
    let mut overrides = JsonSize::default();
    for patch in [&send.payload, &send.envelope].into_iter().flatten() {
        overrides = overrides.plus(JsonSize::of_template(patch, &mut string));
    }
    if let Some(file) = &send.payload_file {
        overrides = overrides.plus(JsonSize::of_value(file));
    }
    let org = send.org_id.as_ref().map(|t| v.text_size(t));
    let pretty = send.body_style == Some(BodyStyle::Pretty);
    let body = budget::generated_body(overrides, org, send.large, pretty);
    // The PNR id is the fixture's (10 digits) unless an override writes `pnrId`.
    let mut pnr_id = TextSize::ascii(10);
    let mut widen = |size: TextSize| {
        pnr_id = TextSize {
            raw: pnr_id.raw.max(size.raw),
            json: pnr_id.json.max(size.json),
        };
    };
    let from_payload = send.payload.as_ref().and_then(|p| p.get("pnrId"));
    let from_envelope = send
        .envelope
        .as_ref()
        .and_then(|e| e.get("payload"))
        .and_then(|p| p.get("pnrId"));
    for value in [from_payload, from_envelope].into_iter().flatten() {
        if let JsonTemplate::String(t) = value {
            widen(v.text_size(t));
        }
    }
    if let Some(text) = send
        .payload_file
        .as_ref()
        .and_then(|f| f.get("pnrId"))
        .and_then(serde_json::Value::as_str)
    {
        widen(TextSize::of(text));
    }
    (body, pnr_id)
}
