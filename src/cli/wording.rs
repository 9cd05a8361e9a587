//! How the library layers' typed errors read on the command line: the flag each
//! value came from, and a hint where there is a useful one. The layers below name no
//! flag, so a URL refused as `--oauth-token-url` and as `--endpoint` is one error
//! worded twice, here.

use crate::delivery::endpoint::EndpointError;
use crate::delivery::request::CustomHeaderError;
use crate::error::SetupError;
use crate::load::connector::ResolveError;
use crate::runner::RunError;
use crate::runner::filter::{FilterError, GlobList};
use crate::target::TargetError;
use crate::tls::identity::IdentityFile;
use crate::tls::{ClientConfigError, IdentityError, TrustError};
use crate::tls_probe::{AddressError, ProbeError};
use crate::wire::RESERVED_HEADERS;

/// An endpoint URL refused, worded for the flag it came from (`--endpoint`,
/// `--oauth-token-url`).
pub fn endpoint_error(flag: &str, err: &EndpointError) -> SetupError {
    match err {
        EndpointError::NotAUrl { .. } => SetupError::new(format!("{flag} {err}"))
            .with_hint("write the full URL, e.g. https://partner.example/webhooks"),
        EndpointError::Scheme { .. } | EndpointError::NoHost { .. } => {
            SetupError::new(format!("{flag} {err}"))
        }
        EndpointError::Credentials => SetupError::new(format!(
            "{flag} carries credentials in the URL; they would be logged and reported"
        ))
        .with_hint("remove them from the URL and pass them with --header 'Authorization: …'"),
    }
}

/// The `tls` command's URL refused: the wording the probe has always used.
fn probe_url_error(err: &AddressError) -> SetupError {
    let error = SetupError::new(err.to_string());
    match err {
        AddressError::NotAUrl { .. } => {
            error.with_hint("write the full endpoint URL, e.g. https://partner.example/webhooks")
        }
        _ => error,
    }
}

impl From<EndpointError> for SetupError {
    fn from(err: EndpointError) -> SetupError {
        endpoint_error("--endpoint", &err)
    }
}

impl From<TrustError> for SetupError {
    fn from(err: TrustError) -> SetupError {
        match err {
            TrustError::Unreadable { path, source } => SetupError::new(format!(
                "cannot read --ca-cert {}: {source}",
                path.display()
            )),
            TrustError::Invalid {
                path: Some(path),
                problem,
            } => SetupError::new(format!("--ca-cert {}: {problem}", path.display()))
                .with_hint("pass the PEM file of the CA that signed the endpoint's certificate"),
            TrustError::Invalid {
                path: None,
                problem,
            } => SetupError::new(format!("the --ca-cert file {problem}")),
        }
    }
}

impl From<ClientConfigError> for SetupError {
    fn from(err: ClientConfigError) -> SetupError {
        match err {
            ClientConfigError::Trust(err) => err.into(),
            ClientConfigError::ClientCertificate => SetupError::new(err.to_string()),
        }
    }
}

impl From<IdentityError> for SetupError {
    fn from(err: IdentityError) -> SetupError {
        match err {
            IdentityError::Unreadable { file, path, source } => {
                let flag = match file {
                    IdentityFile::Certificate => "--client-cert",
                    IdentityFile::Key => "--client-key",
                };
                SetupError::new(format!("cannot read {flag} {}: {source}", path.display()))
            }
            IdentityError::Invalid { cert, key, problem } => SetupError::new(format!(
                "--client-cert {} / --client-key {}: {problem}",
                cert.display(),
                key.display()
            ))
            .with_hint(
                "pass the PEM certificate the partner issued and the private key it was made for",
            ),
        }
    }
}

impl From<CustomHeaderError> for SetupError {
    fn from(err: CustomHeaderError) -> SetupError {
        SetupError::new(format!("--header {err}")).with_hint(format!(
            "custom headers are for extra headers such as `API-Version: 2.0`; reserved: {}",
            RESERVED_HEADERS.join(", ")
        ))
    }
}

impl From<ProbeError> for SetupError {
    fn from(err: ProbeError) -> SetupError {
        match err {
            ProbeError::Address(err) => probe_url_error(&err),
            ProbeError::Trust(err) => err.into(),
        }
    }
}

impl From<ResolveError> for SetupError {
    fn from(err: ResolveError) -> SetupError {
        match err {
            ResolveError::Unresolved(url) => {
                SetupError::new(format!("cannot resolve the host of --endpoint `{url}`"))
            }
            ResolveError::InvalidHost(url) => {
                SetupError::new(format!("--endpoint `{url}` has an invalid host name"))
            }
            ResolveError::Route(err) => route_error(&err),
            ResolveError::Tls(err) => err.into(),
        }
    }
}

impl From<TargetError> for SetupError {
    fn from(err: TargetError) -> SetupError {
        match err {
            TargetError::Endpoint(err) => err.into(),
            TargetError::Trust(err) => err.into(),
            TargetError::Identity(err) => err.into(),
            TargetError::Receiver(err) => SetupError::from(err),
            TargetError::Route(err) => route_error(&err),
        }
    }
}

/// The sender's errors (`send`, `redeliver`) in this front's words.
impl From<crate::sender::SendError> for SetupError {
    fn from(err: crate::sender::SendError) -> SetupError {
        use crate::sender::SendError;
        match err {
            SendError::Target(err) => err.into(),
            SendError::Client(err) => err.into(),
            SendError::Park(err) => err.into(),
            SendError::NoTokenUrl => {
                SetupError::new(err.to_string()).with_hint("pass --oauth-token-url URL")
            }
            SendError::RetryNeedsHmacOnly => {
                SetupError::new("--retry does not support OAuth (--oauth-*) or --no-hmac yet")
                    .with_hint("send once without --retry, or retry an HMAC-signed delivery")
            }
            SendError::Serialize(_) => SetupError::new(err.to_string()),
        }
    }
}

/// A proxy that cannot be reached or refuses the tunnel: the partner's network set-up
/// (exit 2), named with its status, never its credentials.
pub fn route_error(err: &crate::route::RouteError) -> SetupError {
    use crate::route::RouteError;
    let hint = match err {
        RouteError::ProxyRefused { status: 407, .. } => {
            "the proxy wants credentials: put them in the proxy variable, e.g. \
             HTTPS_PROXY=http://user:password@proxy:3128 (never on --proxy)"
        }
        RouteError::ProxyRefused { .. } => {
            "ask the proxy's owners to allow CONNECT to the endpoint's host and port, \
             or list the host in NO_PROXY / pass --no-proxy"
        }
        _ => "check HTTPS_PROXY / HTTP_PROXY / ALL_PROXY or --proxy, or pass --no-proxy",
    };
    SetupError::new(err.to_string()).with_hint(hint)
}

/// A target error of the `tls` command, whose URL is an argument, not `--endpoint`:
/// worded as the probe always worded it.
pub fn tls_target_error(err: TargetError) -> SetupError {
    match err {
        TargetError::Endpoint(EndpointError::NotAUrl { url, reason }) => {
            probe_url_error(&AddressError::NotAUrl { url, reason })
        }
        TargetError::Endpoint(EndpointError::Scheme { url, scheme }) => {
            probe_url_error(&AddressError::Scheme { url, scheme })
        }
        TargetError::Endpoint(EndpointError::NoHost { url }) => {
            probe_url_error(&AddressError::NoHost { url })
        }
        other => other.into(),
    }
}

impl From<RunError> for SetupError {
    fn from(err: RunError) -> SetupError {
        match err {
            RunError::Target(err) => err.into(),
            RunError::Client(err) => err.into(),
            RunError::Probe(err) => err.into(),
            RunError::TokenUrl(err) => SetupError {
                hint: Some(
                    "write the token URL in full, e.g. https://partner.example/oauth/token".into(),
                ),
                ..endpoint_error("--oauth-token-url", &err)
            },
            RunError::NoTokenUrl => SetupError::new(err.to_string())
                .with_hint("pass --oauth-token-url URL with --endpoint"),
        }
    }
}

impl From<FilterError> for SetupError {
    fn from(err: FilterError) -> SetupError {
        let flag = |list: &GlobList| match list {
            GlobList::Only => "--only",
            GlobList::Skip => "--skip",
        };
        match &err {
            FilterError::Glob { list, .. } => SetupError::new(format!("{} {err}", flag(list)))
                .with_hint("use * and ? wildcards, e.g. 'signature.*'"),
            FilterError::Set { list, .. } => SetupError::new(format!("{}: {err}", flag(list))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::error::SetupError;
    use crate::target::{Target, TargetSpec};

    #[tokio::test]
    async fn load_and_tls_word_a_bad_ca_file_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let spec = TargetSpec {
            endpoint: Some("https://127.0.0.1:1/hook".into()),
            ca_cert: Some(path.clone()),
            ..TargetSpec::default()
        };
        let load = SetupError::from(Target::build(spec.clone()).await.unwrap_err());
        let tls = super::tls_target_error(Target::build(spec).await.unwrap_err());
        assert_eq!(load, tls);
        assert_eq!(
            load.message,
            format!(
                "--ca-cert {}: holds no certificate (no `-----BEGIN CERTIFICATE-----` block)",
                path.display()
            )
        );
    }

    #[test]
    fn endpoint_errors_name_the_flag_they_came_from() {
        let err = crate::delivery::endpoint::parse_endpoint("ftp://x/").unwrap_err();
        assert_eq!(
            super::endpoint_error("--oauth-token-url", &err).message,
            "--oauth-token-url `ftp://x/` uses `ftp:`; Spotnana delivers to https:// URLs"
        );
        assert_eq!(
            SetupError::from(err).message,
            "--endpoint `ftp://x/` uses `ftp:`; Spotnana delivers to https:// URLs"
        );
    }
}
