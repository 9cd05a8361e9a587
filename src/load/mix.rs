//! The event mix of a load run: which event kinds, how often, and how many bodies of
//! each are pre-built.

use crate::event::EventKind;

/// How many different bodies are pre-built for each event kind of the mix.
pub const VARIANTS_PER_KIND: usize = 4;

/// An event kind of the mix and its relative weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightedKind {
    /// The event kind.
    pub kind: EventKind,
    /// Relative weight (at least 1).
    pub weight: u32,
}

/// Why a mix (`EVENT/OPERATION=WEIGHT,EVENT,…`) does not parse. Names no flag: the
/// command line words it.
#[derive(Debug, thiserror::Error)]
pub enum MixError {
    /// A weight that is not a whole number from 1 to 1000; `item` as written.
    #[error("the weight in `{item}` is not a whole number from 1 to 1000")]
    Weight {
        /// The item of the mix, e.g. `TRIP=0`.
        item: String,
    },
    /// An event type or kind that does not exist.
    #[error(transparent)]
    Unknown(#[from] crate::event::UnknownEvent),
    /// The text names no event at all.
    #[error("names no event")]
    Empty,
}

/// Parses a mix: comma-separated `EVENT/OPERATION` or `EVENT` (all its operations),
/// each optionally `=WEIGHT` (1 to 1000, default 1).
pub fn parse(text: &str) -> Result<Vec<WeightedKind>, MixError> {
    use crate::event::EventType;
    let mut mix = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, weight) = match item.split_once('=') {
            Some((name, weight)) => {
                let weight: u32 = weight
                    .trim()
                    .parse()
                    .ok()
                    .filter(|w| (1..=1000).contains(w))
                    .ok_or_else(|| MixError::Weight {
                        item: item.to_owned(),
                    })?;
                (name.trim(), weight)
            }
            None => (item, 1),
        };
        if name.contains('/') {
            let kind: EventKind = name.parse()?;
            mix.push(WeightedKind { kind, weight });
        } else {
            let event_type: EventType = name.parse()?;
            mix.extend(
                EventKind::all_of(&[event_type])
                    .into_iter()
                    .map(|kind| WeightedKind { kind, weight }),
            );
        }
    }
    if mix.is_empty() {
        return Err(MixError::Empty);
    }
    Ok(mix)
}
