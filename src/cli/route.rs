//! The route flags every command that connects to an endpoint takes (`run`, `send`,
//! `load`, `redeliver`, `tls`): `--resolve`, `--connect-to`, `--proxy`, `--no-proxy`,
//! read together with the proxy variables of the environment into one
//! [`crate::route::Routes`].

use clap::Args;

use crate::error::SetupError;
use crate::route::{RouteSpec, RouteSpecError, Routes};

/// How to reach the endpoint when the network requires it.
#[derive(Debug, Clone, Default, Args)]
pub struct RouteArgs {
    /// Use ADDR (comma-separated addresses) for HOST:PORT instead of DNS, as curl's --resolve (repeatable). TLS name, certificate check and Host stay the endpoint's.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Connect to HOST2:PORT2 whenever HOST:PORT is asked for, as curl's --connect-to (an empty part matches any / keeps it; repeatable). TLS name, certificate check and Host stay the endpoint's.
    #[arg(long, value_name = "HOST:PORT:HOST2:PORT2")]
    pub connect_to: Vec<String>,
    /// HTTP proxy for every connection (a CONNECT tunnel), replacing HTTPS_PROXY / HTTP_PROXY / ALL_PROXY; NO_PROXY still applies. No credentials here: put them in the variable.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,
    /// Connect directly, ignoring HTTPS_PROXY / HTTP_PROXY / ALL_PROXY.
    #[arg(long)]
    pub no_proxy: bool,
}

impl RouteArgs {
    /// The routes these flags and the process environment ask for; proxy credentials
    /// from the environment are registered with the redactor before anything is sent.
    pub fn routes(&self) -> Result<Routes, SetupError> {
        let spec = RouteSpec {
            resolve: self.resolve.clone(),
            connect_to: self.connect_to.clone(),
            proxy: self.proxy.clone(),
            no_proxy: self.no_proxy,
        };
        let routes = Routes::build(&spec, &|name| std::env::var(name).ok()).map_err(spec_error)?;
        for secret in routes.secrets() {
            crate::redact::register(secret);
        }
        Ok(routes)
    }
}

impl RouteArgs {
    /// Adds these flags to a replay command: `--resolve`, `--connect-to`, `--proxy`
    /// (which never carries credentials: refused) and `--no-proxy`. The proxy
    /// variables are not flags: the command is pasted where they are set.
    pub fn replay_into(&self, replay: &mut crate::replay::Replay) {
        // Without `..`: a new route flag does not compile until it is replayed here.
        let RouteArgs {
            resolve,
            connect_to,
            proxy,
            no_proxy,
        } = self;
        for value in resolve {
            replay.push("--resolve", value);
        }
        for value in connect_to {
            replay.push("--connect-to", value);
        }
        if let Some(proxy) = proxy {
            replay.push("--proxy", proxy);
        }
        if *no_proxy {
            replay.push_flag("--no-proxy");
        }
    }
}

/// A route flag or proxy variable that cannot be used, named with its flag.
fn spec_error(err: RouteSpecError) -> SetupError {
    match &err {
        RouteSpecError::Resolve { .. } => SetupError::new(format!("--resolve {err}"))
            .with_hint("e.g. --resolve partner.example:443:192.0.2.10"),
        RouteSpecError::ConnectTo { .. } => SetupError::new(format!("--connect-to {err}"))
            .with_hint("e.g. --connect-to partner.example:443:node-2.partner.example:443"),
        RouteSpecError::CredentialsOnFlag { .. } => SetupError::new(err.to_string()).with_hint(
            "a flag shows in process lists, shell histories and repro commands: put the \
             credentials in HTTPS_PROXY (http://user:password@proxy:3128) and pass no --proxy",
        ),
        RouteSpecError::Proxy { .. } => SetupError::new(err.to_string())
            .with_hint("write the proxy as http://host:port, or pass --no-proxy"),
    }
}
