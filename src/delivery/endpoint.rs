//! Endpoint URLs: what spotcheck can and may send to.

/// Why a URL is not one spotcheck sends to. The caller names the flag it came from
/// (`--endpoint`, `--oauth-token-url`, the `tls` command's URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The text does not parse as an absolute URL.
    #[error("`{url}` is not a valid URL: {reason}")]
    NotAUrl {
        /// The URL as given.
        url: String,
        /// What the parser objected to.
        reason: String,
    },
    /// A scheme other than `http`/`https`.
    #[error("`{url}` uses `{scheme}:`; Spotnana delivers to https:// URLs")]
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
    /// A user name or password in the URL (never echoed: it would be logged).
    #[error("the URL carries credentials; they would be logged and reported")]
    Credentials,
}

/// Parses an endpoint URL, refusing what spotcheck cannot or must not send to: no
/// URL at all, a scheme other than `http`/`https`, no host, or credentials in the URL
/// (they would end up in logs and reports).
pub fn parse_endpoint(endpoint: &str) -> Result<reqwest::Url, EndpointError> {
    let url = reqwest::Url::parse(endpoint).map_err(|err| EndpointError::NotAUrl {
        url: endpoint.to_owned(),
        reason: err.to_string(),
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(EndpointError::Scheme {
            url: endpoint.to_owned(),
            scheme: url.scheme().to_owned(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EndpointError::NoHost {
            url: endpoint.to_owned(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::Credentials);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use crate::delivery::endpoint::{EndpointError, parse_endpoint};

    #[test]
    fn refuses_what_cannot_be_sent_to() {
        assert!(parse_endpoint("https://partner.example/webhooks").is_ok());
        assert!(parse_endpoint("http://127.0.0.1:8080/").is_ok());
        for bad in [
            "partner.example/webhooks",
            "ftp://partner.example/",
            "https://user:pw@partner.example/",
            "file:///etc/passwd",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        let err = parse_endpoint("https://user:hunter2@partner.example/").unwrap_err();
        assert_eq!(err, EndpointError::Credentials);
        assert!(!err.to_string().contains("hunter2"));
    }
}
