//! Tells the run's redactor ([`crate::redact`]) the credential values on the command
//! line before the command starts: every `--header` value and every query-parameter
//! value of `--endpoint`, `--oauth-token-url`, `--state-url` (and of `tls URL`). The
//! signing and OAuth client secrets are registered where they are loaded
//! (`common.rs`, `oauth.rs`), issued OAuth tokens where they arrive.
//!
//! `verify`'s `--header` flags are the received request's headers (signature, id,
//! timestamp), which the command is there to show, so they are not registered.

use super::Command;

/// Registers the credentials of `command`'s arguments.
pub fn register(command: &Command) {
    match command {
        Command::Run(args) => {
            target(&args.target);
            url(args.oauth.oauth_token_url.as_deref());
            url(args.state_url.as_deref());
        }
        Command::Send(args) => {
            target(&args.target);
            url(args.oauth.oauth_token_url.as_deref());
        }
        Command::Load(args) => target(&args.target),
        Command::Redeliver(args) => {
            url(args.endpoint.as_deref());
            headers(&args.headers);
        }
        Command::Tls(args) => url(Some(&args.url)),
        _ => {}
    }
}

fn target(target: &super::common::TargetArgs) {
    url(target.endpoint.as_deref());
    headers(&target.headers);
}

fn url(url: Option<&str>) {
    if let Some(url) = url {
        crate::redact::register_url(url);
    }
}

fn headers(raw: &[String]) {
    for item in raw {
        // A malformed item (no `:`) is a credential too: its error shows only a start.
        match item.split_once(':') {
            Some((_, value)) => crate::redact::register(value),
            None => crate::redact::register(item),
        }
    }
}
