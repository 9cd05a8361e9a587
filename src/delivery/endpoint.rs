//! Endpoint URLs: what spotcheck can and may send to.

use crate::error::SetupError;

/// Parses an endpoint URL, refusing what spotcheck cannot or must not send to: no
/// URL at all, a scheme other than `http`/`https`, no host, or credentials in the URL
/// (they would end up in logs and reports; pass them with `--header`).
pub fn parse_endpoint(endpoint: &str) -> Result<reqwest::Url, SetupError> {
    let url = reqwest::Url::parse(endpoint).map_err(|err| {
        SetupError::new(format!("--endpoint `{endpoint}` is not a valid URL: {err}"))
            .with_hint("write the full URL, e.g. https://partner.example/webhooks")
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(SetupError::new(format!(
            "--endpoint `{endpoint}` uses `{}:`; Spotnana delivers to https:// URLs",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(SetupError::new(format!(
            "--endpoint `{endpoint}` has no host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SetupError::new(
            "--endpoint carries credentials in the URL; they would be logged and reported",
        )
        .with_hint("remove them from the URL and pass them with --header 'Authorization: …'"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(!err.to_string().contains("hunter2"));
    }
}
