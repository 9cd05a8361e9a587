//! HTTP delivery of signed events: one client, one exchange record per attempt.

pub mod exchange;
