//! Shared test code, one module per job; a test module takes what it needs with
//! `use crate::support::cli;` (or `use crate::support;` for the receiver helpers most
//! tests call as `support::start`, `support::check`, `support::SECRET`).

// A toolkit: a few helpers (a run's stdin, a background process's id) have no caller
// at the moment and stay for the next test that needs them.
#![allow(dead_code)]

pub mod chromium;
pub mod cli;
pub mod partner;
pub mod proxy;
pub mod receiver;
pub mod schema;
pub mod snapshot;
pub mod tls_fixtures;
pub mod tools;

pub use receiver::*;
