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
