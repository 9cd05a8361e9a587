//! Turns a [`RawScenario`](crate::scenario::raw::RawScenario) into a checked
//! [`Scenario`](crate::scenario::Scenario), collecting every problem with its span
//! (rather than stopping at the first).
//!
//! One file per grammar area, as Hurl's parser: the whole file (`file`), the header
//! (`header`), a step's action and keys (`steps`), `send` (`send`, `payload`, `oauth`),
//! `observe`, `exec`, `[steps.expect]` and `precondition` (`expect`), templates
//! (`templates`), plain values (`values`) and what a step can send (`sizes`). Each
//! imports the shared names (`prelude`), the [`Validator`] (`validator`) and the
//! siblings it uses, never this file: no import cycle between them.

mod exec;
mod expect;
mod file;
mod header;
mod oauth;
mod observe;
mod payload;
mod prelude;
mod send;
mod sizes;
mod steps;
mod templates;
mod validator;
mod values;

pub(crate) use file::validate;
pub(crate) use validator::Validator;
