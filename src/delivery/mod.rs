//! HTTP delivery of signed events: one client, one exchange record per attempt.

pub mod classify;
pub mod client;
pub mod connection;
pub mod destination;
pub mod endpoint;
pub mod exchange;
pub mod oauth;
pub mod park;
pub mod request;
pub mod retry;
pub mod retry_or_park;
pub mod verdict;

pub use client::{Client, ClientOptions};
pub use request::Attempt;
pub use retry::RetryPolicy;
