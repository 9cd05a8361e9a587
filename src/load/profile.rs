//! Traffic profiles (`--profile`): which events a load run sends, across how many
//! organizations and PNRs. Payloads are the seeded fixtures of [`crate::event`];
//! a profile only chooses kinds, weights and spread, so the same seed gives the
//! same bodies.

use std::fmt;
use std::str::FromStr;

use crate::event::{EventKind, EventType};

use super::mix::WeightedKind;

/// A named traffic shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Every documented `EVENT/OPERATION` once, evenly, for one organization (the
    /// default; or the `--events` mix).
    #[default]
    Uniform,
    /// An airline schedule change: `PNR_V3` `FLIGHT_SCHEDULE_CHANGE_PENDING`,
    /// `FLIGHT_CHANGED` and `FLIGHT_SCHEDULE_CHANGE_CLOSED` for many PNRs of many
    /// organizations at once.
    ScheduleChange,
    /// Close to a real integration's day: mostly `PNR_V3`, some traveler and trip
    /// events, a few of the rest.
    Mixed,
}

/// Every profile name, for help and errors.
pub const NAMES: [&str; 3] = ["uniform", "schedule-change", "mixed"];

/// Organizations and PNRs of a schedule-change storm: each PNR gets all three
/// events, so an endpoint sees the same PNR changed several times in the burst.
const STORM_ORGANIZATIONS: usize = 16;
const STORM_PNRS: usize = 64;

impl Profile {
    /// The profile's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Uniform => NAMES[0],
            Profile::ScheduleChange => NAMES[1],
            Profile::Mixed => NAMES[2],
        }
    }

    /// The weighted event kinds.
    ///
    /// `mixed`: `PNR_V3` 70 % (10 per operation, 21 operations: a booking changes
    /// many times over its life: created, ticketed, seats, schedule changes, updates,
    /// invoices), `TRAVELER_V2` 15 % (profile edits are rarer than bookings),
    /// `TRIP_DETAILS_V3` 10 % (one per trip update), approvals, agent tasks and
    /// service fees 5 % together. These are estimates of a corporate integration's
    /// proportions, not figures Spotnana publishes.
    ///
    /// `schedule-change`: per affected PNR one `FLIGHT_SCHEDULE_CHANGE_PENDING`, one
    /// `FLIGHT_CHANGED` and one `FLIGHT_SCHEDULE_CHANGE_CLOSED`, so equal weights.
    pub fn mix(self) -> Vec<WeightedKind> {
        let kind = |event_type: EventType, operation: &'static str, weight: u32| WeightedKind {
            kind: EventKind {
                event_type,
                operation,
            },
            weight,
        };
        match self {
            Profile::Uniform => EventKind::all()
                .map(|kind| WeightedKind { kind, weight: 1 })
                .collect(),
            Profile::ScheduleChange => [
                "FLIGHT_SCHEDULE_CHANGE_PENDING",
                "FLIGHT_CHANGED",
                "FLIGHT_SCHEDULE_CHANGE_CLOSED",
            ]
            .into_iter()
            .map(|operation| kind(EventType::PnrV3, operation, 1))
            .collect(),
            Profile::Mixed => {
                // Weights in parts of 300: PNR_V3 210, TRAVELER_V2 44 (4 × 11),
                // TRIP_DETAILS_V3 30, the other three types 16.
                let weight = |event_type: EventType| match event_type {
                    EventType::PnrV3 => 10,
                    EventType::TravelerV2 => 11,
                    EventType::TripDetailsV3 => 30,
                    EventType::PnrApproval => 5,
                    EventType::AgentTaskDetails => 3,
                    EventType::ServiceCharge => 5,
                };
                EventKind::all()
                    .map(|kind| WeightedKind {
                        kind,
                        weight: weight(kind.event_type),
                    })
                    .collect()
            }
        }
    }

    /// How the bodies spread: `(organizations, distinct bodies per kind)`. In a
    /// schedule-change storm body `i` of every kind is about PNR `i`.
    pub fn spread(self) -> Spread {
        match self {
            Profile::Uniform => Spread {
                organizations: 1,
                variants: super::mix::VARIANTS_PER_KIND,
                shared_pnrs: false,
            },
            Profile::ScheduleChange => Spread {
                organizations: STORM_ORGANIZATIONS,
                variants: STORM_PNRS,
                shared_pnrs: true,
            },
            Profile::Mixed => Spread {
                organizations: 4,
                variants: super::mix::VARIANTS_PER_KIND,
                shared_pnrs: false,
            },
        }
    }
}

/// How many distinct bodies are built, and for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    /// Organizations the bodies are spread over (round robin).
    pub organizations: usize,
    /// Distinct bodies per event kind.
    pub variants: usize,
    /// Body `i` of every kind names the same PNR (one PNR, several events).
    pub shared_pnrs: bool,
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(text: &str) -> Result<Profile, String> {
        [Profile::Uniform, Profile::ScheduleChange, Profile::Mixed]
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not a profile; use one of {}", NAMES.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_is_mostly_pnr_v3() {
        let mix = Profile::Mixed.mix();
        let total: u32 = mix.iter().map(|m| m.weight).sum();
        let share = |t: EventType| {
            mix.iter()
                .filter(|m| m.kind.event_type == t)
                .map(|m| m.weight)
                .sum::<u32>() as f64
                / total as f64
        };
        assert_eq!(total, 300);
        assert!((share(EventType::PnrV3) - 0.70).abs() < 0.01);
        assert!((share(EventType::TravelerV2) - 0.147).abs() < 0.01);
        assert!((share(EventType::TripDetailsV3) - 0.10).abs() < 0.01);
        for name in NAMES {
            assert_eq!(name.parse::<Profile>().unwrap().as_str(), name);
        }
    }
}
