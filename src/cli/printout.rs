//! The printout of one answered delivery, shared by `send`, `send --retry` and
//! `redeliver`: the response lines and the verdict line, worded with this front's
//! flag names.

use crate::delivery::exchange::{BODY_EXCERPT_LIMIT, Exchange};
use crate::delivery::verdict::{DeliveryVerdict, Refusal, TransportCause};

/// The response part of the printout: status, headers, first KiB of the body.
pub fn render_response(exchange: &Exchange) -> String {
    let mut text = String::new();
    let millis = exchange.duration.as_secs_f64() * 1000.0;
    match &exchange.response {
        Some(response) => {
            text.push_str(&format!("< {} ({millis:.0} ms)\n", response.status_line()));
            for (name, value) in &response.headers {
                text.push_str(&format!("< {name}: {value}\n"));
            }
            if response.body_bytes_read > 0 {
                // Bytes of the body the excerpt covers (its text may be longer once
                // control characters are escaped).
                let shown = response.body_bytes_read.min(BODY_EXCERPT_LIMIT);
                let more = if response.body_truncated {
                    format!(
                        "first {} bytes read, body is longer",
                        response.body_bytes_read
                    )
                } else {
                    format!("{} bytes", response.body_bytes_read)
                };
                text.push_str(&format!("< body ({more}; first {shown} shown):\n"));
                for line in response.body_excerpt.lines() {
                    text.push_str(&format!("<   {line}\n"));
                }
            }
        }
        None => text.push_str(&format!("< no answer ({millis:.0} ms)\n")),
    }
    text
}

/// The line saying whether Spotnana counts the delivery as delivered, and why not.
pub fn verdict_line(verdict: &DeliveryVerdict) -> String {
    let retry = "so it will retry this delivery";
    match verdict {
        DeliveryVerdict::Delivered => {
            "delivered: 200 OK is the answer Spotnana counts as success".to_owned()
        }
        DeliveryVerdict::Incomplete {
            status_line,
            class,
            message,
        } => format!(
            "FAILED: {status_line} arrived but the answer did not complete ({}: {message}); \
             Spotnana would retry this delivery",
            class.as_str()
        ),
        DeliveryVerdict::Refused {
            status_line,
            refusal,
        } => {
            let why = match refusal {
                Refusal::Redirect { location } => {
                    let location = location
                        .as_ref()
                        .map(|value| format!(" (Location: {value})"))
                        .unwrap_or_default();
                    format!(
                        "redirects are not followed{location}, {retry}; \
                         give Spotnana the final URL and answer 200 there"
                    )
                }
                Refusal::Unauthorized => format!(
                    "only 200 OK counts, {retry}; the delivery was correctly signed, so check \
                     that the endpoint verifies the raw body with this secret"
                ),
                Refusal::Other => format!("only 200 OK counts, {retry}"),
            };
            format!("FAILED: {status_line} is a failure for Spotnana: {why}")
        }
        DeliveryVerdict::NoAnswer {
            class,
            message,
            cause,
        } => {
            let advice = match cause {
                Some(TransportCause::TooSlow) => format!(
                    "; Spotnana waits {} s per attempt: answer 200 at once and process later",
                    crate::wire::SPOTNANA_TIMEOUT.as_secs()
                ),
                Some(TransportCause::ClientCertificateRequired) => {
                    "; the endpoint requires a client certificate (mutual TLS): \
                     pass --client-cert and --client-key"
                        .to_owned()
                }
                Some(TransportCause::Tls) => {
                    "; Spotnana needs a certificate that verifies and TLS 1.2 or newer \
                     (pass --ca-cert for a private CA)"
                        .to_owned()
                }
                None => String::new(),
            };
            format!(
                "FAILED: {}: {message}; Spotnana would retry this delivery{advice}",
                class.as_str()
            )
        }
        DeliveryVerdict::Nothing => {
            "FAILED: no answer; Spotnana would retry this delivery".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::exchange::ErrorClass;

    #[test]
    fn verdicts_say_why() {
        assert_eq!(
            verdict_line(&DeliveryVerdict::Delivered),
            "delivered: 200 OK is the answer Spotnana counts as success"
        );
        assert_eq!(
            verdict_line(&DeliveryVerdict::Refused {
                status_line: "202 Accepted".into(),
                refusal: Refusal::Other
            }),
            "FAILED: 202 Accepted is a failure for Spotnana: only 200 OK counts, so it will retry this delivery"
        );
        let moved = verdict_line(&DeliveryVerdict::Refused {
            status_line: "301 Moved Permanently".into(),
            refusal: Refusal::Redirect {
                location: Some("https://x.test/".into()),
            },
        });
        assert!(
            moved.contains("redirects are not followed (Location: https://x.test/)"),
            "{moved}"
        );
        let timeout = verdict_line(&DeliveryVerdict::NoAnswer {
            class: ErrorClass::Timeout,
            message: "no answer within 1s".into(),
            cause: Some(TransportCause::TooSlow),
        });
        assert!(
            timeout.starts_with("FAILED: timeout: no answer within 1s"),
            "{timeout}"
        );
    }
}
