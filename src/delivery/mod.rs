//! HTTP delivery of signed events: one client, one exchange record per attempt.

pub mod client;
pub mod endpoint;
pub mod exchange;
pub mod oauth;
pub mod request;

pub use client::{Client, ClientOptions};
pub use request::Attempt;
