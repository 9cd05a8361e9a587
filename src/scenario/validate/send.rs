//! `send` steps: the event or body sent, its size, headers and signature.

use super::oauth::*;
use super::payload::*;
use super::prelude::*;
use super::templates::*;
use super::validator::*;
use super::values::*;

pub(super) fn send_source(v: &mut Validator<'_>, value: &Spanned<String>) -> Option<SendSource> {
    if value.get_ref() == "each" {
        return Some(SendSource::EachSubscribed);
    }
    match value.get_ref().parse::<EventKind>() {
        Ok(kind) => Some(SendSource::Event(kind)),
        Err(err) => {
            let label = match err.suggestion() {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => "not in the catalogue".to_owned(),
            };
            let (message, help) = match &err {
                UnknownEvent::Shape { given } => (
                    format!("`{given}` is not EVENT/OPERATION"),
                    format!(
                        "write e.g. \"PNR_V3/BOOKING_CREATED\", or \"each\" for every subscribed event; {}",
                        err.expected()
                    ),
                ),
                UnknownEvent::Type { given, .. } => (
                    format!("unknown event type `{given}`"),
                    format!("expected {}", err.expected()),
                ),
                UnknownEvent::Operation {
                    event_type, given, ..
                } => (
                    format!("unknown operation `{given}` for {event_type}"),
                    format!(
                        "expected {}; to send an operation that is not in the catalogue, send a \
                         known one and set envelope = {{ operation = \"{given}\" }}",
                        err.expected()
                    ),
                ),
            };
            v.error_help(value.span(), message, label, help);
            None
        }
    }
}

pub(super) fn send_step(
    v: &mut Validator<'_>,
    raw: &RawStep,
    source: Option<SendSource>,
    scope: &Scope<'_>,
) -> Option<SendStep> {
    let payload = raw
        .payload
        .as_ref()
        .and_then(|n| json_table(v, n, "payload", scope));
    let envelope = raw
        .envelope
        .as_ref()
        .and_then(|n| json_table(v, n, "envelope", scope));
    let payload_file = raw
        .payload_file
        .as_ref()
        .and_then(|p| read_payload_file(v, p));
    let body = raw.body.as_ref().and_then(|b| v.template(b, scope));
    let large = raw.large.as_ref().and_then(|l| large(v, l));
    let product = raw.product.as_ref().and_then(|p| {
        choice(
            v,
            p,
            "product",
            &[
                ("air", Product::Air),
                ("hotel", Product::Hotel),
                ("car", Product::Car),
                ("rail", Product::Rail),
            ],
        )
    });
    let booking = raw.booking.as_ref().and_then(|b| {
        crate::scenario::booking::name(v.file, v.text, b, source.as_ref())
            .map_err(|problem| v.push(problem))
            .ok()
    });
    let message_time = raw.message_time.as_ref().and_then(|o| offset(v, o));
    let timestamp = raw.timestamp.as_ref().and_then(|o| offset(v, o));
    let signature = match &raw.signature {
        None => SignatureSpec::Valid(None),
        Some(s) => signature(v, s).unwrap_or(SignatureSpec::Valid(None)),
    };
    let tamper = raw.tamper.as_ref().and_then(|t| {
        choice(
            v,
            t,
            "tamper",
            &[
                ("body", Tamper::Body),
                ("id", Tamper::Id),
                ("timestamp", Tamper::Timestamp),
            ],
        )
    });
    let body_style = raw.body_style.as_ref().and_then(|b| {
        choice(
            v,
            b,
            "body style",
            &[
                ("compact", BodyStyle::Compact),
                ("pretty", BodyStyle::Pretty),
                ("reordered", BodyStyle::Reordered),
                ("escaped-unicode", BodyStyle::EscapedUnicode),
                ("float-forms", BodyStyle::FloatForms),
            ],
        )
    });
    let org_id = raw.org_id.as_ref().and_then(|o| v.template(o, scope));
    let authorization = authorization(v, raw, scope);
    let headers = custom_headers(v, raw, scope);
    let omit_headers = omitted_headers(v, raw);
    let repeat = count(v, raw.repeat.as_ref(), "repeat", limits::MAX_REPEAT);
    let concurrency = count(
        v,
        raw.concurrency.as_ref(),
        "concurrency",
        limits::MAX_CONCURRENCY,
    );
    several_deliveries_fit(v, raw, source.as_ref(), repeat, concurrency);
    if payload.is_some() || payload_file.is_some() {
        override_warnings(v, raw, source.as_ref(), payload_file.as_ref(), product);
    }
    Some(SendStep {
        source: source?,
        payload,
        envelope,
        payload_file,
        body,
        large,
        product,
        booking,
        message_time,
        timestamp,
        signature,
        tamper,
        body_style,
        org_id,
        headers,
        omit_headers,
        repeat,
        concurrency,
        authorization,
    })
}

/// `large = "300KiB"`: a padded payload of that size, at most [`limits::MAX_LARGE`].
pub(super) fn large(v: &mut Validator<'_>, l: &Spanned<String>) -> Option<u64> {
    match parse_size(l.get_ref()) {
        Ok(n) if n > limits::MAX_LARGE => {
            v.error(
                l.span(),
                format!("`large` of {} is over the limit", format_size(n)),
                "at most 16MiB",
            );
            None
        }
        Ok(n) => Some(n),
        Err(err) => {
            // Scenario files show one example for a wrong number or unit alike.
            let label = match err {
                SizeError::OutOfRange => err.to_string(),
                SizeError::NotANumber | SizeError::UnknownUnit(_) => {
                    SizeError::NotANumber.to_string()
                }
            };
            v.error(l.span(), format!("`{}` is not a size", l.get_ref()), label);
            None
        }
    }
}

/// `header = { Name = "value" }`: valid names, none reserved, none twice.
pub(super) fn custom_headers(
    v: &mut Validator<'_>,
    raw: &RawStep,
    scope: &Scope<'_>,
) -> Vec<(String, crate::scenario::template::Template)> {
    let mut headers: Vec<(String, crate::scenario::template::Template)> = Vec::new();
    if let Some(table) = &raw.header {
        for (key, value) in &table.get_ref().0 {
            let lower = key.get_ref().to_ascii_lowercase();
            if !is_header_name(&lower) {
                v.error(
                    key.span(),
                    format!("`{}` is not a valid HTTP header name", key.get_ref()),
                    "letters, digits and !#$%&'*+-.^_`|~ only",
                );
            } else if RESERVED_HEADERS.contains(&lower.as_str()) {
                v.error_help(
                    key.span(),
                    format!("`{}` is a reserved header", key.get_ref()),
                    "spotcheck sets this one",
                    "use `signature`, `timestamp` or `tamper` to alter the signature headers, \
                 `body` for the content; reserved: content-type, authorization, host, \
                 content-length, transfer-encoding, connection, x-spotnana-webhook-*, \
                 x-b3-traceid, x-b3-spanid",
                );
            } else if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&lower)) {
                v.error(
                    key.span(),
                    format!("header `{}` is set twice", key.get_ref()),
                    "duplicate",
                );
            } else if let Some(t) = v.template(value, scope) {
                headers.push((key.get_ref().clone(), t));
            }
        }
    }
    headers
}

/// `omit_headers = ["name", …]`: header names, lower-cased.
pub(super) fn omitted_headers(v: &mut Validator<'_>, raw: &RawStep) -> Vec<String> {
    let mut omit_headers = Vec::new();
    for h in raw.omit_headers.iter().flatten() {
        let lower = h.get_ref().to_ascii_lowercase();
        if is_header_name(&lower) {
            omit_headers.push(lower);
        } else {
            v.error(
                h.span(),
                format!("`{}` is not a header name", h.get_ref()),
                "",
            );
        }
    }
    omit_headers
}

/// `concurrency` and `p95_within` mean something only over several deliveries.
pub(super) fn several_deliveries_fit(
    v: &mut Validator<'_>,
    raw: &RawStep,
    source: Option<&SendSource>,
    repeat: u32,
    concurrency: u32,
) {
    if let Some(c) = &raw.concurrency {
        let each = matches!(source, Some(SendSource::EachSubscribed));
        if concurrency > 1 && repeat == 1 && !each {
            v.error_help(
            c.span(),
            "`concurrency` without `repeat` has nothing to run at once",
            "only one delivery",
            "add `repeat = N` (the number of deliveries); `concurrency` is how many are in flight at once",
        );
        }
    }
    if let (Some(p95), Some(source)) = (&raw.expect, source)
        && let Some(p) = &p95.get_ref().p95_within
    {
        let several = repeat > 1 || matches!(source, SendSource::EachSubscribed);
        if !several {
            v.error_help(
                p.span(),
                "`p95_within` needs several deliveries",
                "one delivery has no percentile",
                "add `repeat = N` to the step, or use `within` for one delivery",
            );
        }
    }
}

/// Warnings for payload overrides that Spotnana's schemas for the step's events reject.
pub(super) fn override_warnings(
    v: &mut Validator<'_>,
    raw: &RawStep,
    source: Option<&SendSource>,
    payload_file: Option<&serde_json::Value>,
    product: Option<Product>,
) {
    let kinds: Vec<crate::event::EventKind> = match source {
        Some(SendSource::Event(kind)) => vec![*kind],
        Some(SendSource::EachSubscribed) => crate::event::EventKind::all().collect(),
        _ => Vec::new(),
    };
    let step = crate::scenario::overrides::Override {
        file: v.file,
        text: v.text,
        payload: raw.payload.as_ref(),
        payload_file: payload_file.zip(raw.payload_file.as_ref().map(Spanned::span)),
        product,
    };
    v.warnings
        .extend(crate::scenario::overrides::warnings(&step, &kinds));
}

pub(super) fn signature(
    v: &mut Validator<'_>,
    value: &Spanned<OneOrMany>,
) -> Option<SignatureSpec> {
    match value.get_ref() {
        OneOrMany::One(text) => {
            let spanned = Spanned::new(value.span(), text.clone());
            let names = ["valid", "missing", "garbage", "wrong-secret", "bare", "v1"];
            let options: Vec<(&'static str, &'static str)> =
                names.iter().map(|n| (*n, *n)).collect();
            choice(v, &spanned, "signature", &options).map(|name| match name {
                "missing" => SignatureSpec::Missing,
                "garbage" => SignatureSpec::Garbage,
                "wrong-secret" => SignatureSpec::WrongSecret,
                "bare" => SignatureSpec::Valid(Some(SignatureFormat::Bare)),
                "v1" => SignatureSpec::Valid(Some(SignatureFormat::V1)),
                _ => SignatureSpec::Valid(None),
            })
        }
        OneOrMany::Many(items) => {
            if items.is_empty() {
                v.error_help(
                    value.span(),
                    "an empty signature list",
                    "no tokens",
                    "use signature = \"missing\" for no header, or list tokens such as [\"stale-key\", \"valid\"]",
                );
                return None;
            }
            let options = [
                ("valid", SignatureToken::Valid(None)),
                ("stale-key", SignatureToken::StaleKey),
                ("garbage", SignatureToken::Garbage),
                ("bare", SignatureToken::Valid(Some(SignatureFormat::Bare))),
                ("v1", SignatureToken::Valid(Some(SignatureFormat::V1))),
                (
                    "valid-bare",
                    SignatureToken::Valid(Some(SignatureFormat::Bare)),
                ),
                ("valid-v1", SignatureToken::Valid(Some(SignatureFormat::V1))),
            ];
            let tokens: Vec<Option<SignatureToken>> = items
                .iter()
                .map(|item| choice(v, item, "signature token", &options))
                .collect();
            tokens
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(SignatureSpec::Tokens)
        }
    }
}
