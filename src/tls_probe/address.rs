//! Where to probe: scheme, host and port, parsed from the endpoint URL.

/// Where to probe: parsed from the endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `https` or `http`.
    pub scheme: String,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port (explicit or the scheme's default).
    pub port: u16,
    /// Whether `host` is an IP address (no SNI is sent for those).
    pub host_is_ip: bool,
}

/// Why a URL cannot be probed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The text does not parse as an absolute URL.
    #[error("`{url}` is not a valid URL: {reason}")]
    NotAUrl {
        /// The URL as given.
        url: String,
        /// What the parser objected to.
        reason: String,
    },
    /// A scheme other than `http`/`https`.
    #[error(
        "`{url}` has scheme `{scheme}`; the endpoint must be https:// (or http:// to see why not)"
    )]
    Scheme {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// No host.
    #[error("`{url}` has no host")]
    NoHost {
        /// The URL as given.
        url: String,
    },
}

/// Parses an endpoint URL: errors for a URL that does not parse, a scheme other than
/// `http`/`https`, or a missing host.
pub fn parse_address(url: &str) -> Result<Address, AddressError> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|err| AddressError::NotAUrl {
        url: url.to_owned(),
        reason: err.to_string(),
    })?;
    let scheme = parsed.scheme().to_owned();
    if scheme != "https" && scheme != "http" {
        return Err(AddressError::Scheme {
            url: url.to_owned(),
            scheme,
        });
    }
    let raw_host = match parsed.host_str() {
        Some(host) if !host.is_empty() => host,
        _ => {
            return Err(AddressError::NoHost {
                url: url.to_owned(),
            });
        }
    };
    let unbracketed = raw_host.trim_start_matches('[').trim_end_matches(']');
    let host_is_ip = unbracketed.parse::<std::net::IpAddr>().is_ok();
    let host = unbracketed.to_owned();
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Ok(Address {
        scheme,
        host,
        port,
        host_is_ip,
    })
}
