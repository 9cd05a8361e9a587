//! The bookings of one scenario run: the steps naming each `booking` (in step order,
//! one beat per delivery), told as one story the first time a step needs it.

use std::collections::HashMap;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::event::random::SeededRng;
use crate::event::story::{Beat, Story};
use crate::scenario::model::{Action, Product, Scenario, SendSource};

/// One booking's plan.
#[derive(Debug)]
struct Plan {
    beats: Vec<Beat>,
    /// Step index → its first beat.
    first_beat: HashMap<usize, usize>,
    product: Option<Product>,
    told: Option<Arc<Story>>,
}

/// The scenario's bookings, by name.
#[derive(Debug, Default)]
pub struct Bookings {
    plans: HashMap<String, Plan>,
}

impl Bookings {
    /// The bookings `scenario`'s send steps name.
    pub fn of(scenario: &Scenario) -> Bookings {
        let mut plans: HashMap<String, Plan> = HashMap::new();
        for (index, step) in scenario.steps.iter().enumerate() {
            let Action::Send(send) = &step.action else {
                continue;
            };
            let (Some(name), SendSource::Event(kind)) = (&send.booking, &send.source) else {
                continue;
            };
            let plan = plans.entry(name.clone()).or_insert_with(|| Plan {
                beats: Vec::new(),
                first_beat: HashMap::new(),
                product: None,
                told: None,
            });
            plan.first_beat.insert(index, plan.beats.len());
            plan.product = plan.product.or(send.product);
            for _ in 0..send.repeat.max(1) {
                plan.beats.push(Beat {
                    kind: *kind,
                    offset_ms: send.message_time.map_or(0, |o| o.millis),
                });
            }
        }
        Bookings { plans }
    }

    /// The story of booking `name` and the first of step `index`'s events in it; the
    /// story is told (drawn from `rng`, anchored at `now`, for `organization_id`) the
    /// first time it is asked for.
    pub fn story(
        &mut self,
        name: &str,
        index: usize,
        organization_id: &str,
        now: OffsetDateTime,
        rng: &mut SeededRng,
    ) -> Option<(Arc<Story>, usize)> {
        let plan = self.plans.get_mut(name)?;
        let first = *plan.first_beat.get(&index)?;
        let story = plan.told.get_or_insert_with(|| {
            Arc::new(Story::tell(
                &plan.beats,
                plan.product,
                organization_id,
                now,
                None,
                rng,
            ))
        });
        Some((Arc::clone(story), first))
    }
}
