//! The TLS probe: which protocol versions an endpoint accepts, and what its certificate is.
//!
//! For an `https://` endpoint [`probe_url`] makes four handshakes at once, one per version:
//! TLS 1.0 and 1.1 with the project's own ClientHello, judged from the server's first
//! flight (rustls cannot speak them, and no system TLS library is linked; see `legacy`),
//! TLS 1.2 and 1.3 through rustls, the stack deliveries use (see `modern`). The rustls handshakes also capture the certificate chain and verify it
//! against the system roots plus `--ca-cert` (see [`certificate`]). Each handshake ends in
//! one [`Outcome`]: accepted (with the cipher), refused (an alert, a reset, a closed
//! connection), unreachable (no TCP connection at all), or error (no TLS answer in time,
//! or an answer that is not TLS). At the same time the cipher scan (see `cipher_scan`)
//! lists every TLS 1.0–1.2 suite the server accepts with hand-built ClientHellos, so weak
//! suites are found even though no local library can negotiate them. [`checks`] turns
//! the report into the nine `tls.*` checks; `report/tls.rs` words them.
//!
//! A plain `http://` endpoint is not probed: its report has every version `not-tested`,
//! and the checks fail `tls.https-required` and skip the rest.

mod address;
pub mod certificate;
mod checks;
pub mod cipher_scan;
mod handshakes;
mod hello;
mod legacy;
mod modern;
mod report;
mod strength;
pub mod suites;
mod version;
mod wire;

pub use address::{Address, AddressError, parse_address};
pub use certificate::CertificateInfo;
pub use checks::{
    CertificateBlock, EXPIRY_WARN_DAYS, TlsCheck, certificate_blocks_delivery, check_infos, checks,
    tls_checks,
};
pub use cipher_scan::{AcceptedSuite, SuiteScan};
pub use handshakes::{DEFAULT_TIMEOUT, ProbeError, ProbeOptions, probe_url};
pub use report::{Outcome, TlsReport, VersionResult};
pub use version::TlsVersion;

/// The client certificate type, re-exported where `run` and older callers name it.
pub use crate::tls::ClientIdentity;
