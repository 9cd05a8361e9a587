//! `redeliver`'s one destination per run: every parked message goes to the same
//! endpoint, the one the user named (`--endpoint`) or the first file's.
//!
//! A parked file is data anyone can write. Trusting each file's own `endpoint` would
//! send the run's `--header` credentials and a validly signed body, chosen by whoever
//! wrote the file, to a host of their choosing, with the trust store and client
//! certificate set up for another. So a file naming another endpoint is refused: not
//! sent, and named.

use std::path::PathBuf;

use super::park::ParkedMessage;

/// Where a redelivery run sends, and what it sends and refuses.
#[derive(Debug)]
pub struct Destination {
    /// The one endpoint every message goes to.
    pub endpoint: String,
    /// The files that go there, in the order given.
    pub accepted: Vec<(PathBuf, ParkedMessage)>,
    /// The files naming another endpoint, with that endpoint: not sent.
    pub refused: Vec<(PathBuf, String)>,
}

/// Splits parked files by destination: `chosen` (`--endpoint`) takes every file; without
/// it the first file's endpoint is the destination and a file naming another is refused.
/// `None` when there is no file.
pub fn split(chosen: Option<&str>, files: Vec<(PathBuf, ParkedMessage)>) -> Option<Destination> {
    let endpoint = match chosen {
        Some(endpoint) => endpoint.to_owned(),
        None => files.first()?.1.endpoint.clone(),
    };
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for (path, parked) in files {
        if chosen.is_some() || same_endpoint(&parked.endpoint, &endpoint) {
            accepted.push((path, parked));
        } else {
            refused.push((path, parked.endpoint));
        }
    }
    Some(Destination {
        endpoint,
        accepted,
        refused,
    })
}

/// Whether two endpoint URLs are the same once normalized (scheme and host case, a
/// default port, an empty path); text that is not a URL only equals itself.
pub fn same_endpoint(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::park::ParkedBody;
    use crate::signing::SignatureFormat;

    fn parked(endpoint: &str) -> ParkedMessage {
        ParkedMessage {
            spotcheck_parked: 1,
            webhook_id: "id".into(),
            endpoint: endpoint.into(),
            parked_at: "2026-01-01T00:00:00Z".into(),
            reason: "r".into(),
            signature_format: SignatureFormat::V1,
            body: ParkedBody::of(b"{}"),
            headers: Vec::new(),
            attempts: Vec::new(),
        }
    }

    fn files(endpoints: &[&str]) -> Vec<(PathBuf, ParkedMessage)> {
        endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (PathBuf::from(format!("{i}.json")), parked(e)))
            .collect()
    }

    #[test]
    fn the_first_file_names_the_destination_and_others_are_refused() {
        let split = split(
            None,
            files(&[
                "https://partner.example/hook",
                "HTTPS://Partner.example:443/hook",
                "https://evil.example/hook",
                "https://partner.example/other",
            ]),
        )
        .unwrap();
        assert_eq!(split.endpoint, "https://partner.example/hook");
        let sent: Vec<_> = split.accepted.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(sent, [PathBuf::from("0.json"), PathBuf::from("1.json")]);
        assert_eq!(
            split.refused,
            [
                (
                    PathBuf::from("2.json"),
                    "https://evil.example/hook".to_owned()
                ),
                (
                    PathBuf::from("3.json"),
                    "https://partner.example/other".to_owned()
                )
            ]
        );
    }

    #[test]
    fn endpoint_given_takes_every_file() {
        let split = split(
            Some("https://mine.example/hook"),
            files(&["https://a.example/", "https://b.example/"]),
        )
        .unwrap();
        assert_eq!(split.endpoint, "https://mine.example/hook");
        assert_eq!(split.accepted.len(), 2);
        assert!(split.refused.is_empty());
        assert!(super::split(None, Vec::new()).is_none());
    }
}
