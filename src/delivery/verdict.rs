//! Whether Spotnana counts one exchange as delivered and, when it does not, why: the
//! verdict `send` and `redeliver` print under each answer. Only `200 OK`, answered
//! completely, is a delivery; everything else is retried.
//!
//! The verdict is data (what went wrong and what evidence there is), not text: the
//! command-line front words it, with its own flag names in the advice.

use super::exchange::{ErrorClass, Exchange};

/// How Spotnana judges one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryVerdict {
    /// `200 OK`, answered completely: the one answer that counts as success.
    Delivered,
    /// A status line arrived but the answer did not complete (a reset, a timeout
    /// while reading the body…).
    Incomplete {
        /// The status line that arrived, e.g. `200 OK`.
        status_line: String,
        /// What ended the answer.
        class: ErrorClass,
        /// The transport's account of it.
        message: String,
    },
    /// A complete answer other than `200 OK`.
    Refused {
        /// The status line, e.g. `202 Accepted`.
        status_line: String,
        /// What kind of refusal it is.
        refusal: Refusal,
    },
    /// No answer at all: the transport failed.
    NoAnswer {
        /// What failed.
        class: ErrorClass,
        /// The transport's account of it.
        message: String,
        /// What the failure most likely means for a partner's endpoint.
        cause: Option<TransportCause>,
    },
    /// Neither an answer nor an error was recorded.
    Nothing,
}

/// The kind of a complete answer that is not `200 OK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A `3xx`: Spotnana does not follow redirects.
    Redirect {
        /// The `Location` header, when the answer had one.
        location: Option<String>,
    },
    /// `401` or `403` to a correctly signed delivery: the endpoint's own check is off.
    Unauthorized,
    /// Any other status (including other `2xx`).
    Other,
}

/// What a transport failure most likely means for the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportCause {
    /// No answer in time: Spotnana waits 40 s per attempt.
    TooSlow,
    /// The TLS handshake ended with `certificate_required`: the endpoint wants a client
    /// certificate (mutual TLS).
    ClientCertificateRequired,
    /// Any other TLS failure: the certificate does not verify or the version is too old.
    Tls,
}

impl DeliveryVerdict {
    /// Judges one exchange.
    pub fn of(exchange: &Exchange) -> DeliveryVerdict {
        match (&exchange.response, &exchange.error) {
            (Some(response), None) if response.status == 200 => DeliveryVerdict::Delivered,
            (Some(response), Some(error)) => DeliveryVerdict::Incomplete {
                status_line: response.status_line(),
                class: error.class,
                message: error.message.clone(),
            },
            (Some(response), None) => {
                let refusal = match response.status {
                    300..=399 => Refusal::Redirect {
                        location: crate::wire::header(&response.headers, "location")
                            .map(str::to_owned),
                    },
                    401 | 403 => Refusal::Unauthorized,
                    _ => Refusal::Other,
                };
                DeliveryVerdict::Refused {
                    status_line: response.status_line(),
                    refusal,
                }
            }
            (None, Some(error)) => DeliveryVerdict::NoAnswer {
                class: error.class,
                message: error.message.clone(),
                cause: match error.class {
                    ErrorClass::Timeout => Some(TransportCause::TooSlow),
                    ErrorClass::Tls if error.certificate_required => {
                        Some(TransportCause::ClientCertificateRequired)
                    }
                    ErrorClass::Tls => Some(TransportCause::Tls),
                    _ => None,
                },
            },
            (None, None) => DeliveryVerdict::Nothing,
        }
    }

    /// Whether Spotnana counts the exchange as delivered (and will not retry it).
    pub fn delivered(&self) -> bool {
        matches!(self, DeliveryVerdict::Delivered)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::{DeliveryVerdict, Refusal, TransportCause};
    use crate::delivery::exchange::{
        ErrorClass, Exchange, RequestRecord, ResponseRecord, TransportError,
    };

    fn exchange(
        status: Option<u16>,
        headers: &[(&str, &str)],
        error: Option<(ErrorClass, &str)>,
    ) -> Exchange {
        Exchange {
            request: RequestRecord {
                method: "POST".into(),
                url: "http://127.0.0.1:1/".into(),
                headers: vec![],
                body_len: 2,
                body_excerpt: "{}".into(),
                body: Bytes::from_static(b"{}"),
            },
            response: status.map(|status| ResponseRecord {
                status,
                reason: reqwest::StatusCode::from_u16(status)
                    .unwrap()
                    .canonical_reason()
                    .unwrap_or("")
                    .into(),
                headers: headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                body_excerpt: String::new(),
                body_bytes_read: 0,
                body_truncated: false,
                body: Bytes::new(),
            }),
            error: error.map(|(class, message)| TransportError {
                class,
                message: message.into(),
                certificate_required: false,
            }),
            started_at_ms: 0,
            duration: Duration::from_millis(3),
            note: None,
            not_sent: false,
        }
    }

    #[test]
    fn only_a_complete_200_is_delivered() {
        let delivered = DeliveryVerdict::of(&exchange(Some(200), &[], None));
        assert_eq!(delivered, DeliveryVerdict::Delivered);
        assert!(delivered.delivered());
        let cut = DeliveryVerdict::of(&exchange(Some(200), &[], Some((ErrorClass::Body, "x"))));
        assert!(!cut.delivered());
        assert_eq!(
            cut,
            DeliveryVerdict::Incomplete {
                status_line: "200 OK".into(),
                class: ErrorClass::Body,
                message: "x".into()
            }
        );
        assert_eq!(
            DeliveryVerdict::of(&exchange(Some(202), &[], None)),
            DeliveryVerdict::Refused {
                status_line: "202 Accepted".into(),
                refusal: Refusal::Other
            }
        );
        assert_eq!(
            DeliveryVerdict::of(&exchange(None, &[], None)),
            DeliveryVerdict::Nothing
        );
    }

    #[test]
    fn refusals_and_transport_failures_are_classified() {
        let moved = DeliveryVerdict::of(&exchange(
            Some(301),
            &[("Location", "https://x.test/")],
            None,
        ));
        assert!(matches!(
            moved,
            DeliveryVerdict::Refused { refusal: Refusal::Redirect { location: Some(ref l) }, .. }
                if l == "https://x.test/"
        ));
        assert!(matches!(
            DeliveryVerdict::of(&exchange(Some(403), &[], None)),
            DeliveryVerdict::Refused {
                refusal: Refusal::Unauthorized,
                ..
            }
        ));
        let cause = |class, message| match DeliveryVerdict::of(&exchange(
            None,
            &[],
            Some((class, message)),
        )) {
            DeliveryVerdict::NoAnswer { cause, .. } => cause,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            cause(ErrorClass::Timeout, "no answer within 1s"),
            Some(TransportCause::TooSlow)
        );
        // The alert is read from the typed flag classify sets, not from the words.
        assert_eq!(
            cause(ErrorClass::Tls, "received fatal alert: CertificateRequired"),
            Some(TransportCause::Tls)
        );
        let mut required = exchange(None, &[], Some((ErrorClass::Tls, "handshake failed")));
        if let Some(error) = &mut required.error {
            error.certificate_required = true;
        }
        assert!(matches!(
            DeliveryVerdict::of(&required),
            DeliveryVerdict::NoAnswer {
                cause: Some(TransportCause::ClientCertificateRequired),
                ..
            }
        ));
        assert_eq!(
            cause(ErrorClass::Tls, "invalid peer certificate"),
            Some(TransportCause::Tls)
        );
        assert_eq!(cause(ErrorClass::Connect, "refused"), None);
    }
}
