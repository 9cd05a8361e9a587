//! The catalogue's skip rules: what a check declares it needs ([`crate::check::Needs`])
//! against what the run offers. Apart from the tables so the scenario runner can read
//! the rules without importing the checks that run it.

use crate::runner::context::RunContext;
use crate::scenario::Scenario;

/// What a check needs and the run does not offer: the check is skipped, saying so.
/// (A check needing OAuth in a run without it is not skipped but left out:
/// [`Catalogue::for_run`](super::Catalogue::for_run).)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet {
    /// It runs a program (`exec`) and the run does not allow programs.
    Exec {
        /// The first program's command line, as written.
        command: String,
    },
    /// It observes what the endpoint processed and the run has no observation URL.
    StateUrl,
    /// It judges signatures and the run sends none.
    Hmac,
}

/// What the run offers the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offered {
    /// Programs may run (`--allow-exec`).
    pub programs: bool,
    /// An observation URL (`--state-url`).
    pub state_url: bool,
    /// HMAC-signed deliveries (not `--no-hmac`).
    pub hmac: bool,
}

impl Offered {
    /// What this run offers.
    pub fn of(ctx: &RunContext) -> Offered {
        Offered {
            programs: ctx.allow_exec,
            state_url: ctx.state_url.is_some(),
            hmac: ctx.hmac,
        }
    }
}

/// The first thing `scenario` needs that the run does not offer, if any: the one place
/// a check is skipped for what it declares.
pub fn unmet(scenario: &Scenario, offered: Offered) -> Option<Unmet> {
    let needs = scenario.info.needs;
    if let Some(exec) = scenario.exec_steps().next()
        && !offered.programs
    {
        Some(Unmet::Exec {
            command: exec.display.clone(),
        })
    } else if needs.state_url && !offered.state_url {
        Some(Unmet::StateUrl)
    } else if needs.hmac && !offered.hmac {
        Some(Unmet::Hmac)
    } else {
        None
    }
}
