//! TLS set-up shared by every client spotcheck runs: which roots are trusted
//! ([`trust`]), which certificate is presented for mutual TLS ([`identity`]), and the
//! rustls client configuration built from both ([`client_config()`]).
//!
//! The delivery pool, the load client and the TLS probe all go through here, so a
//! `--ca-cert` file is read, checked and refused in one way whichever command reads it.

pub mod client_config;
pub mod identity;
pub mod trust;

pub use client_config::{AcceptAnyCertificate, ClientConfigError, client_config};
pub use identity::{ClientIdentity, IdentityError, IdentityProblem};
pub use trust::{PemProblem, TrustAnchors, TrustError, read_ca_file};
