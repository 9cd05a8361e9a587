//! Tells the run's redactor ([`crate::redact`]) the credential values on the command
//! line before the command starts: every `--header` value and every query-parameter
//! value of `--endpoint`, `--oauth-token-url`, `--state-url` (and of `tls URL`). The
//! signing and OAuth client secrets are registered where they are loaded
//! (`common.rs`, `oauth.rs`), issued OAuth tokens where they arrive.
//!
//! `verify`'s `--header` flags are the received request's headers (signature, id,
//! timestamp), which the command is there to show, so they are not registered.

/// Registers the query-parameter values of `--endpoint` and the headers of
/// `--header` (a command's [`super::common::TargetArgs`]).
pub fn target(target: &super::common::TargetArgs) {
    url(target.endpoint.as_deref());
    headers(&target.headers);
}

/// Registers a URL's query-parameter values.
pub fn url(url: Option<&str>) {
    if let Some(url) = url {
        crate::redact::register_url(url);
    }
}

/// Registers the values of `Name: value` header arguments.
pub fn headers(raw: &[String]) {
    // A malformed item (no `:`) is refused before anything is sent; its error shows
    // only its first characters.
    for (_, value) in raw
        .iter()
        .filter_map(|item| super::common::split_header(item))
    {
        crate::redact::register(value);
    }
}
