//! `booking = "NAME"` on send steps: every step naming the same booking tells one
//! story (see [`crate::event::story`]). Here, at load time: the name itself, whether
//! one product fits every operation of a booking (an error otherwise), and warnings
//! when the story as written cannot be a booking's (a void before the ticketing) or
//! a payload override replaces what the story keeps the same or rising (`version`,
//! `pnrId`, …).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use super::diagnostic::Problem;
use super::json::{JsonKind, JsonNode};
use super::model::SendSource;
use super::raw::RawStep;
use crate::event::EventKind;
use crate::event::story::{self, Beat};
use crate::units::Offset;

/// What the checks found, for the loader to report: errors and warnings.
#[derive(Default)]
pub(super) struct Found {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// The file the checks point into.
struct File<'a> {
    name: &'a str,
    text: &'a Arc<str>,
}

impl File<'_> {
    fn problem(&self, span: Range<usize>, message: String, label: &str) -> Problem {
        Problem::at(self.name, self.text, span, message, label)
    }

    /// The span of `key = …` for a value span (backs up over `key = `).
    fn key_span(&self, value: Range<usize>, key: &str) -> Range<usize> {
        let before = &self.text[..value.start.min(self.text.len())];
        if let Some(eq) = before.trim_end().strip_suffix('=') {
            let eq = eq.trim_end();
            if eq.ends_with(key) {
                return eq.len() - key.len()..value.end;
            }
        }
        value
    }
}

/// Payload fields a story draws once or derives from the lifecycle, with what an
/// override of them breaks.
const STORY_FIELDS: &[(&str, &str)] = &[
    ("pnrId", "every event of a booking carries its one pnrId"),
    ("tripId", "every event of a booking carries its one tripId"),
    (
        "version",
        "the story's version rises with message_time; an override can make it go backwards",
    ),
    ("createdAt", "a booking's createdAt never changes"),
    ("updatedAt", "updatedAt is the event's own time"),
    (
        "pnrTravelers",
        "a booking's travelers keep their user ids and names",
    ),
    (
        "basicTripInfo",
        "every event of a booking carries its one trip",
    ),
    (
        "totalFare",
        "the fare is the booking's, refunds are checked against it",
    ),
    (
        "totalFareAmount",
        "the fare is the booking's, refunds are checked against it",
    ),
    ("traveler", "the traveler is the booking's"),
    ("pnrTotal", "the total is the booking's fare"),
    ("personalInfo", "a traveler keeps their name across events"),
    ("id", "a traveler keeps their user id across events"),
];

/// The `booking` name of a send step: letters, digits, `-` and `_`; not on
/// `send = "each"` (no one booking goes through every operation).
pub(super) fn name(
    file: &str,
    text: &Arc<str>,
    value: &Spanned<String>,
    source: Option<&SendSource>,
) -> Result<String, Problem> {
    let f = File { name: file, text };
    let name = value.get_ref();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(f
            .problem(
                value.span(),
                format!("`{name}` is not a booking name"),
                "not a name",
            )
            .with_help(
                "name the booking with letters, digits, `-` or `_`, e.g. booking = \"b1\"",
            ));
    }
    if matches!(source, Some(SendSource::EachSubscribed)) {
        return Err(f
            .problem(
                f.key_span(value.span(), "booking"),
                "`booking` cannot be combined with send = \"each\"".to_owned(),
                "one booking",
            )
            .with_help(
                "\"each\" sends every subscribed operation, which no one booking goes through; \
                 name the booking on steps that send one EVENT/OPERATION each",
            ));
    }
    Ok(name.clone())
}

/// One send step of a booking, as written.
struct Told<'a> {
    step: usize,
    kind: EventKind,
    offset_ms: i64,
    repeat: i64,
    product: Option<&'a Spanned<String>>,
    booking: &'a Spanned<String>,
    payload: Option<&'a JsonNode>,
}

/// Checks every booking of the scenario: one product must fit all its operations
/// (an error), its order must be a booking's, its overrides must keep the story
/// (warnings).
pub(super) fn stories(file: &str, text: &Arc<str>, raw: &[Spanned<RawStep>]) -> Found {
    let f = File { name: file, text };
    let mut found = Found::default();
    let mut bookings: BTreeMap<&str, Vec<Told<'_>>> = BTreeMap::new();
    for (step, spanned) in raw.iter().enumerate() {
        let raw = spanned.get_ref();
        let (Some(booking), Some(send)) = (&raw.booking, &raw.send) else {
            continue;
        };
        let Ok(kind) = send.get_ref().parse::<EventKind>() else {
            continue;
        };
        let offset_ms = raw
            .message_time
            .as_ref()
            .and_then(|m| Offset::parse(m.get_ref()).ok())
            .map_or(0, |o| o.millis);
        bookings
            .entry(booking.get_ref().as_str())
            .or_default()
            .push(Told {
                step,
                kind,
                offset_ms,
                repeat: raw.repeat.as_ref().map_or(1, |r| *r.get_ref()).max(1),
                product: raw.product.as_ref(),
                booking,
                payload: raw.payload.as_ref(),
            });
    }
    for (name, told) in &bookings {
        products(&f, &mut found, name, told);
        order(&f, &mut found, name, told);
        overrides(&f, &mut found, name, told);
    }
    found
}

/// One product must fit every operation of the booking and every `product` written.
fn products(f: &File<'_>, found: &mut Found, name: &str, told: &[Told<'_>]) {
    let mut fits = crate::event::fixtures::Product::ALL.to_vec();
    let mut narrowed: Vec<String> = Vec::new();
    for t in told {
        let allowed = story::products_for([t.kind]);
        let written: Option<Vec<_>> = t.product.map(|p| {
            crate::event::fixtures::Product::ALL
                .into_iter()
                .filter(|product| product.key().trim_end_matches("Pnr") == p.get_ref())
                .collect()
        });
        fits.retain(|p| allowed.contains(p) && written.as_ref().is_none_or(|w| w.contains(p)));
        narrowed.push(format!(
            "step {} {}{}",
            t.step + 1,
            t.kind,
            t.product
                .map(|p| format!(" (product {})", p.get_ref()))
                .unwrap_or_default()
        ));
        if fits.is_empty() {
            let p = f.problem(
                f.key_span(t.booking.span(), "booking"),
                format!("booking \"{name}\" cannot be one product"),
                "no product fits every step of this booking",
            );
            found.errors.push(p.with_help(format!(
                "{}: flights and tickets are air, a rebooking or a cancellation by \
                     traveler or vendor is a hotel or a car; use two bookings",
                narrowed.join(", ")
            )));
            return;
        }
    }
}

/// The beats of a booking, one per delivery, in step order.
fn beats(told: &[Told<'_>]) -> (Vec<Beat>, Vec<usize>) {
    let mut beats = Vec::new();
    let mut owner = Vec::new();
    for (i, t) in told.iter().enumerate() {
        for _ in 0..t.repeat.min(1_000) {
            beats.push(Beat {
                kind: t.kind,
                offset_ms: t.offset_ms,
            });
            owner.push(i);
        }
    }
    (beats, owner)
}

/// Warnings for an order no booking goes through (a void before its ticketing).
fn order(f: &File<'_>, found: &mut Found, name: &str, told: &[Told<'_>]) {
    let (beats, owner) = beats(told);
    let mut warned: Vec<usize> = Vec::new();
    for (beat, why) in story::incoherences(&beats) {
        let t = &told[owner[beat]];
        if warned.contains(&t.step) {
            continue;
        }
        warned.push(t.step);
        let p = f
            .problem(
                f.key_span(t.booking.span(), "booking"),
                format!("booking \"{name}\": {why}"),
                "breaks the booking's story",
            )
            .with_help(
                "a stateful partner may refuse it (409); order the steps' message_time \
             as the booking's lifecycle goes",
            );
        found.warnings.push(p);
    }
}

/// Warnings for overrides of what the story keeps the same or rising.
fn overrides(f: &File<'_>, found: &mut Found, name: &str, told: &[Told<'_>]) {
    let mut versions: Vec<(i64, i64, Range<usize>)> = Vec::new();
    for t in told {
        let Some(JsonKind::Table(entries)) = t.payload.map(|p| &p.kind) else {
            continue;
        };
        for (key, node) in entries {
            let Some((field, why)) = STORY_FIELDS.iter().find(|(f, _)| f == key.get_ref()) else {
                continue;
            };
            if *field == "version"
                && let JsonKind::Int(n) = node.kind
            {
                versions.push((t.offset_ms, n, node.span.clone()));
                continue;
            }
            let p = f
                .problem(
                    node.span.clone(),
                    format!(
                        "payload override /{field} of booking \"{name}\" replaces the story's value"
                    ),
                    "breaks the booking's story",
                )
                .with_help(format!("{why}; leave it to the story, or drop `booking`"));
            found.warnings.push(p);
        }
    }
    if let [(_, n, span)] = versions.as_slice() {
        let p = f.problem(span.clone(),
            format!(
                "payload override /version = {n} of booking \"{name}\" replaces the story's value"
            ),
            "breaks the booking's story",
        )
        .with_help(
            "the story's version rises with message_time; a fixed one can go backwards \
             against the booking's other events (leave it to the story)",
        );
        found.warnings.push(p);
    }
    versions.sort_by_key(|(offset, _, _)| *offset);
    for pair in versions.windows(2) {
        let ((_, before, _), (_, after, span)) = (&pair[0], &pair[1]);
        if after <= before {
            let p = f
                .problem(
                    span.clone(),
                    format!(
                        "payload override /version = {after} of booking \"{name}\" goes backwards \
                     (an older message_time has version {before})"
                    ),
                    "breaks the booking's story",
                )
                .with_help(
                    "a booking's version rises with message_time; a partner resolving conflicts \
                 by version keeps the wrong event",
                );
            found.warnings.push(p);
        }
    }
}
