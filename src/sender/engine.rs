//! The sender's engine: sets up the destination, builds each message, delivers it
//! once or on the retry policy, and tells the sink.

use bytes::Bytes;
use serde_json::Value;

use super::events::{SendEvent, SendSink};
use super::outcome::{MessageOutcome, SendOutcome};
use super::plan::{Message, Mode, RedeliverPlan, SendPlan, TargetPlan, What, apply_payload};
use crate::delivery::Client;
use crate::delivery::oauth::{OAuthClient, OAuthConfig};
use crate::delivery::park::ParkError;
use crate::delivery::request::signed_attempt;
use crate::delivery::retry::{AttemptReport, RetryMessage, RetryRun};
use crate::delivery::retry_or_park::retry_or_park;
use crate::delivery::verdict::DeliveryVerdict;
use crate::event::{self, EventSpec, SeededRng, random};
use crate::runner::Cancel;
use crate::signing::{Secret, unix_now};
use crate::target::{self, Target, TargetError};
use crate::tls::ClientConfigError;

/// Why the sender could not do what was planned (the front words each; exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The destination could not be set up.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The delivery client could not be built (trust store, client certificate).
    #[error(transparent)]
    Client(#[from] ClientConfigError),
    /// OAuth was asked for but no token URL is known.
    #[error("OAuth needs the partner's token URL")]
    NoTokenUrl,
    /// Retrying on the policy is done for HMAC-signed deliveries without OAuth only.
    #[error("retrying supports neither OAuth nor deliveries without HMAC signatures yet")]
    RetryNeedsHmacOnly,
    /// An event could not be serialized.
    #[error("cannot serialize the event: {0}")]
    Serialize(#[from] serde_json::Error),
    /// An undelivered message could not be parked.
    #[error(transparent)]
    Park(#[from] ParkError),
}

/// Where the messages go and with what.
struct Destination {
    /// The webhook URL.
    endpoint: String,
    /// The client (trust store, client identity, timeout).
    client: Client,
    /// Attaches `Authorization: Bearer <token>` (refetched once on 401).
    oauth: Option<OAuthClient>,
    /// Whether the signature headers are sent.
    hmac: bool,
    /// The signing secret.
    secret: Secret,
    /// The in-process reference receiver when there is no endpoint; shut down at the
    /// end so its log line for the last event is printed.
    receiver: Option<crate::receiver::RunningReceiver>,
}

/// Runs `send`'s plan to its outcome, telling `sink` what happens; `cancel` interrupts
/// a retry sequence (its message is parked, and nothing more is sent).
///
/// Every value is drawn from the plan's seed in a fixed order (the first event, the
/// destination's secret, then each delivery and the next event), so a seed replays
/// the same bytes.
pub async fn send(
    plan: SendPlan,
    sink: &mut (impl SendSink + Send),
    cancel: &Cancel,
) -> Result<SendOutcome, SendError> {
    if matches!(plan.mode, Mode::Retry { .. }) && (plan.target.oauth.is_some() || !plan.target.hmac)
    {
        return Err(SendError::RetryNeedsHmacOnly);
    }
    let mut rng = random::rng_for(plan.seed, "send");
    let SendPlan {
        target,
        what,
        format,
        envelope,
        custom_headers,
        mode,
        ..
    } = plan;
    let message = |body: &Value, rng: &mut SeededRng| -> Result<Message, SendError> {
        Ok(Message {
            body: Bytes::from(serde_json::to_vec(body)?),
            webhook_id: random::uuid(rng),
            format,
            custom_headers: custom_headers.clone(),
        })
    };
    let mut outcome = SendOutcome::default();
    let destination = match what {
        What::Event {
            kind,
            organizations,
            payload,
        } => {
            // One organization (given or drawn) draws exactly what it always did.
            let organizations = if organizations.is_empty() {
                vec![random::uuid(&mut rng)]
            } else {
                organizations
            };
            let build = |org_id: &str, rng: &mut SeededRng| -> Result<Message, SendError> {
                let mut body = event::build_event(
                    &EventSpec {
                        kind,
                        organization_id: org_id,
                        message_time: time::OffsetDateTime::now_utc(),
                        style: envelope,
                        pnr_id: None,
                    },
                    rng,
                );
                if let Some(payload) = &payload {
                    apply_payload(&mut body, &payload.patch, payload.replace);
                }
                message(&body, rng)
            };
            let mut next = Some(build(&organizations[0], &mut rng)?);
            let destination = destination(target, &mut rng, sink).await?;
            for index in 1..=organizations.len() {
                let Some(current) = next.take() else { break };
                let sent = deliver(
                    &destination,
                    &current.to(&destination.endpoint),
                    &mode,
                    &mut rng,
                    sink,
                    cancel,
                )
                .await?;
                let stop = sent.interrupted();
                outcome.messages.push(sent);
                if stop {
                    break;
                }
                if let Some(org_id) = organizations.get(index) {
                    next = Some(build(org_id, &mut rng)?);
                }
            }
            destination
        }
        What::Lifecycle(plan) => {
            use rand::seq::SliceRandom;
            // One booking belongs to one organization.
            let org_id = plan.organization.unwrap_or_else(|| random::uuid(&mut rng));
            let events = plan.lifecycle.envelopes(
                &org_id,
                time::OffsetDateTime::now_utc(),
                envelope,
                &mut rng,
            );
            let mut order: Vec<usize> = (0..events.len()).collect();
            if plan.shuffled {
                order.shuffle(&mut rng);
                if order.windows(2).all(|w| w[0] < w[1]) {
                    order.reverse();
                }
            }
            let pnr = events
                .iter()
                .find_map(|e| e.pointer("/payload/pnrId").and_then(Value::as_str))
                .unwrap_or("?")
                .to_owned();
            let destination = destination(target, &mut rng, sink).await?;
            sink.event(SendEvent::LifecycleStarted {
                name: plan.lifecycle.name,
                events: events.len(),
                pnr: &pnr,
                shuffled: plan.shuffled,
            });
            for (n, index) in order.into_iter().enumerate() {
                let event = &events[index];
                sink.event(SendEvent::LifecycleEvent {
                    number: n + 1,
                    total: events.len(),
                    event,
                });
                let current = message(event, &mut rng)?;
                let sent = deliver(
                    &destination,
                    &current.to(&destination.endpoint),
                    &Mode::Once,
                    &mut rng,
                    sink,
                    cancel,
                )
                .await?;
                outcome.messages.push(sent);
            }
            destination
        }
    };
    if let Some(receiver) = destination.receiver {
        // Shutting down drains the processing queue, so the receiver's log line is printed.
        receiver.shutdown().await;
    }
    Ok(outcome)
}

/// Runs `redeliver`'s plan: every parked message to the one destination, with its
/// original webhook id and body and a fresh timestamp and signature, once or on the
/// retry policy again. A stop ends the command after the message it interrupted.
pub async fn redeliver(
    plan: RedeliverPlan,
    sink: &mut (impl SendSink + Send),
    cancel: &Cancel,
) -> Result<SendOutcome, SendError> {
    let target = Target::build(plan.spec).await?;
    let destination = Destination {
        endpoint: target.endpoint().to_owned(),
        client: Client::new(&target.client_options(plan.timeout))?,
        oauth: None,
        hmac: true,
        secret: plan.secret,
        receiver: None,
    };
    let mut rng = random::rng(random::fresh_seed());
    let mut outcome = SendOutcome::default();
    for (path, message) in &plan.messages {
        sink.event(SendEvent::MessageStarted {
            source: path,
            webhook_id: &message.webhook_id,
            endpoint: &message.endpoint,
        });
        let sent = deliver(&destination, message, &plan.mode, &mut rng, sink, cancel).await?;
        let stop = sent.interrupted() || cancel.is_set();
        outcome.messages.push(sent);
        if stop {
            break;
        }
    }
    Ok(outcome)
}

/// The secret and, when there is no endpoint, the reference receiver (which takes the
/// secret and the OAuth credentials), the client and the OAuth client.
async fn destination(
    plan: TargetPlan,
    rng: &mut SeededRng,
    sink: &mut impl SendSink,
) -> Result<Destination, SendError> {
    let secret = target::secret_or_made_up(plan.secret, rng);
    let mut spec = plan.spec;
    spec.reference = crate::receiver::ReceiverConfig {
        secrets: vec![secret.clone()],
        print_events: true,
        oauth: plan
            .oauth
            .as_ref()
            .map(|o| crate::receiver::OAuthServerConfig {
                client_id: o.client_id.clone(),
                client_secret: o.client_secret.clone(),
            }),
        ..crate::receiver::ReceiverConfig::default()
    };
    let mut target = Target::build(spec).await?;
    if target.receiver().is_some() {
        sink.event(SendEvent::ReferenceReceiver {
            endpoint: target.endpoint(),
        });
    }
    let client = Client::new(&target.client_options(plan.timeout))?;
    let oauth = match plan.oauth {
        None => None,
        Some(options) => {
            let token_url = options
                .token_url
                .or(target.token_url())
                .ok_or(SendError::NoTokenUrl)?;
            Some(OAuthClient::new(
                OAuthConfig {
                    token_url,
                    client_id: options.client_id,
                    client_secret: options.client_secret,
                },
                client.clone(),
            ))
        }
    };
    Ok(Destination {
        endpoint: target.endpoint().to_owned(),
        client,
        oauth,
        hmac: plan.hmac,
        secret,
        receiver: target.take_receiver(),
    })
}

/// Delivers one message the way `mode` says.
async fn deliver(
    destination: &Destination,
    message: &RetryMessage,
    mode: &Mode,
    rng: &mut SeededRng,
    sink: &mut (impl SendSink + Send),
    cancel: &Cancel,
) -> Result<MessageOutcome, SendError> {
    match mode {
        Mode::Once => Ok(MessageOutcome::Sent(
            deliver_once(destination, message, rng, sink).await,
        )),
        Mode::Retry {
            policy,
            time_scale,
            park_dir,
        } => {
            sink.event(SendEvent::RetryStarted {
                policy,
                time_scale: *time_scale,
                endpoint: &message.endpoint,
                webhook_id: &message.webhook_id,
            });
            let run = RetryRun {
                client: &destination.client,
                oauth: None,
                secret: &destination.secret,
                policy,
                time_scale: *time_scale,
                first_attempt: 1,
                budget: None,
            };
            let outcome = {
                let mut on_attempt =
                    |attempt: &AttemptReport| sink.event(SendEvent::Attempt(attempt));
                retry_or_park(&run, message, park_dir, rng, &mut on_attempt, cancel.wait()).await?
            };
            sink.event(SendEvent::RetryFinished {
                outcome: &outcome,
                webhook_id: &message.webhook_id,
                attempts_at_most: policy.schedule().len(),
            });
            Ok(MessageOutcome::Retried(outcome))
        }
    }
}

/// Signs `message` at the current time and sends it once: with a bearer token from
/// the OAuth client (fetched before the delivery, shown redacted, refetched once on a
/// `401`) and without signature headers when HMAC is off. B3 ids come from `rng`.
async fn deliver_once(
    destination: &Destination,
    message: &RetryMessage,
    rng: &mut SeededRng,
    sink: &mut impl SendSink,
) -> DeliveryVerdict {
    let mut attempt = signed_attempt(
        &message.endpoint,
        &[&destination.secret],
        &message.webhook_id,
        unix_now(),
        message.body.clone(),
        message.format,
        &message.custom_headers,
        rng,
    );
    if !destination.hmac {
        attempt.headers.retain(|(name, _)| {
            !name.eq_ignore_ascii_case(crate::signing::HEADER_SIGNATURE)
                && !name.eq_ignore_ascii_case(crate::signing::HEADER_TIMESTAMP)
        });
    }
    if destination.oauth.is_some() {
        // Shown in the printout (redacted); the token itself is attached by the client.
        attempt = crate::delivery::oauth::with_bearer(&attempt, "pending");
    }
    sink.event(SendEvent::Sending {
        oauth: destination.oauth.as_ref().map(OAuthClient::config),
        request: &attempt.record(),
    });
    let exchange = match &destination.oauth {
        Some(oauth) => oauth.send(&attempt).await,
        None => destination.client.send(&attempt).await,
    };
    let verdict = DeliveryVerdict::of(&exchange);
    sink.event(SendEvent::Answered {
        exchange: &exchange,
        verdict: &verdict,
    });
    verdict
}
