//! Following Spotnana's retry policy to its end: the message is delivered, or it is
//! parked for manual intervention, as Spotnana does after two weeks of failures (and,
//! here, when the user stops the sequence, so nothing sent is lost).

use std::future::Future;
use std::path::{Path, PathBuf};

use super::exchange::Exchange;
use super::park::{self, ParkError, ParkedMessage};
use super::retry::{AttemptReport, RetryEnd, RetryMessage, RetryRun, human, run_retries};
use crate::event::SeededRng;

/// How a retry sequence followed to its end came out.
#[derive(Debug, Clone)]
pub enum RetryOutcome {
    /// An attempt got `200 OK`.
    Delivered {
        /// Its 1-based number.
        attempt: usize,
    },
    /// Every attempt failed (or the time budget ran out): the message was parked.
    Parked {
        /// The parked file.
        path: PathBuf,
        /// Why it was parked (also stored in the file).
        reason: String,
        /// The last attempt's exchange, when there was one (boxed: an exchange is
        /// large next to the other outcomes).
        last: Option<Box<Exchange>>,
    },
    /// The sequence was interrupted: the message was parked with the attempts so far.
    Interrupted {
        /// The parked file.
        path: PathBuf,
        /// How many attempts were made before the interruption.
        attempts: usize,
    },
}

/// Sends `message` on `run`'s policy (see [`run_retries`]), passing each answered
/// attempt to `on_attempt`, until it is delivered, the schedule ends or `interrupted`
/// completes. An undelivered message is parked in `park_dir`.
pub async fn retry_or_park(
    run: &RetryRun<'_>,
    message: &RetryMessage,
    park_dir: &Path,
    rng: &mut SeededRng,
    on_attempt: &mut (dyn FnMut(&AttemptReport) + Send),
    interrupted: impl Future<Output = ()>,
) -> Result<RetryOutcome, ParkError> {
    let mut attempts = Vec::new();
    let end = {
        let retries = run_retries(run, message, rng, &mut attempts, on_attempt);
        tokio::pin!(retries);
        tokio::select! {
            end = &mut retries => Some(end),
            () = interrupted => None,
        }
    };
    let Some(end) = end else {
        let reason = format!("interrupted after {} attempts", attempts.len());
        let path = park::write(park_dir, &ParkedMessage::new(message, &attempts, &reason))?;
        return Ok(RetryOutcome::Interrupted {
            path,
            attempts: attempts.len(),
        });
    };
    match end {
        RetryEnd::Delivered { attempt } => Ok(RetryOutcome::Delivered { attempt }),
        RetryEnd::Exhausted | RetryEnd::OutOfTime => {
            let reason = format!(
                "no attempt got 200 OK in {} attempts over {}",
                attempts.len(),
                human(run.policy.horizon)
            );
            let path = park::write(park_dir, &ParkedMessage::new(message, &attempts, &reason))?;
            Ok(RetryOutcome::Parked {
                path,
                reason,
                last: attempts.pop().map(|attempt| Box::new(attempt.exchange)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::{RetryOutcome, retry_or_park};
    use crate::delivery::park;
    use crate::delivery::retry::{RetryMessage, RetryPolicy, RetryRun};
    use crate::delivery::{Client, ClientOptions};
    use crate::event::random;
    use crate::signing::{Secret, SignatureFormat};

    /// A plain-HTTP client with a short timeout, and a signing secret.
    fn client_and_secret() -> (Client, Secret) {
        let client = Client::new(&ClientOptions {
            timeout: Duration::from_secs(2),
            ca_cert_pem: None,
            connect_timeout: None,
            client_identity: None,
            routes: crate::route::Routes::direct(),
        })
        .unwrap();
        (client, Secret::from_key(b"k".to_vec()))
    }

    /// A retry from the first attempt, at full time scale, with no time budget.
    fn retry_run<'a>(
        client: &'a Client,
        secret: &'a Secret,
        policy: &'a RetryPolicy,
    ) -> RetryRun<'a> {
        RetryRun {
            client,
            oauth: None,
            secret,
            policy,
            time_scale: 1.0,
            first_attempt: 1,
            budget: None,
        }
    }

    fn message() -> RetryMessage {
        RetryMessage {
            // Nothing listens on port 9 of loopback: every attempt fails at once.
            endpoint: "http://127.0.0.1:9/".into(),
            webhook_id: "evt-1".into(),
            body: Bytes::from_static(b"{}"),
            format: SignatureFormat::V1,
            custom_headers: Vec::new(),
        }
    }

    #[tokio::test]
    async fn an_exhausted_schedule_parks_the_message_with_every_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let (client, secret) = client_and_secret();
        let policy = RetryPolicy {
            immediate: 2,
            first_backoff: Duration::ZERO,
            ..RetryPolicy::default()
        };
        let run = retry_run(&client, &secret, &policy);
        let mut seen = 0;
        let outcome = retry_or_park(
            &run,
            &message(),
            dir.path(),
            &mut random::rng(1),
            &mut |_| seen += 1,
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(seen, 3);
        let RetryOutcome::Parked { path, reason, last } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(reason, "no attempt got 200 OK in 3 attempts over 14d");
        assert!(last.is_some_and(|exchange| exchange.response.is_none()));
        let parked = park::read(&path).unwrap();
        assert_eq!(parked.webhook_id, "evt-1");
        assert_eq!(parked.reason, reason);
        assert_eq!(parked.attempts.len(), 3);
    }

    #[tokio::test]
    async fn an_interruption_parks_what_was_sent_so_far() {
        let dir = tempfile::tempdir().unwrap();
        let (client, secret) = client_and_secret();
        let policy = RetryPolicy::default();
        let run = retry_run(&client, &secret, &policy);
        // The first backoff is a real minute: the interruption comes long before it.
        let outcome = retry_or_park(
            &run,
            &message(),
            dir.path(),
            &mut random::rng(1),
            &mut |_| {},
            tokio::time::sleep(Duration::from_millis(500)),
        )
        .await
        .unwrap();
        let RetryOutcome::Interrupted { path, attempts } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(attempts, 6);
        let parked = park::read(&path).unwrap();
        assert_eq!(parked.reason, "interrupted after 6 attempts");
    }
}
