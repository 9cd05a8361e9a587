//! The sender's engine (`send`, `redeliver` below the command line), as a front sees
//! it: a plan in, typed events to a sink of the test's own, and a typed outcome (how
//! each message's delivery or retry sequence ended), never an exit code.

use std::path::PathBuf;
use std::time::Duration;

use spotcheck::delivery::RetryPolicy;
use spotcheck::delivery::retry_or_park::RetryOutcome;
use spotcheck::delivery::verdict::DeliveryVerdict;
use spotcheck::event::EnvelopeStyle;
use spotcheck::runner::Cancel;
use spotcheck::sender::{
    self, MessageOutcome, Mode, SendEvent, SendPlan, SendSink, TargetPlan, What,
};
use spotcheck::signing::SignatureFormat;
use spotcheck::target::TargetSpec;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An event as recorded, owned.
#[derive(Debug, Clone, PartialEq)]
enum Recorded {
    ReferenceReceiver,
    Sending {
        webhook_id: Option<String>,
    },
    Answered {
        status: Option<u16>,
        delivered: bool,
    },
    RetryStarted,
    Attempt {
        number: usize,
        status: Option<u16>,
    },
    RetryFinished,
    Other,
}

#[derive(Default)]
struct Recorder(Vec<Recorded>);

impl SendSink for Recorder {
    fn event(&mut self, event: SendEvent<'_>) {
        self.0.push(match event {
            SendEvent::ReferenceReceiver { .. } => Recorded::ReferenceReceiver,
            SendEvent::Sending { request, .. } => Recorded::Sending {
                webhook_id: request
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("x-spotnana-webhook-id"))
                    .map(|(_, v)| v.clone()),
            },
            SendEvent::Answered { exchange, verdict } => Recorded::Answered {
                status: exchange.status(),
                delivered: verdict.delivered(),
            },
            SendEvent::RetryStarted { .. } => Recorded::RetryStarted,
            SendEvent::Attempt(attempt) => Recorded::Attempt {
                number: attempt.number,
                status: attempt.exchange.status(),
            },
            SendEvent::RetryFinished { .. } => Recorded::RetryFinished,
            _ => Recorded::Other,
        });
    }
}

fn plan(endpoint: Option<String>, organizations: Vec<String>, mode: Mode) -> SendPlan {
    SendPlan {
        seed: 7,
        target: TargetPlan {
            spec: TargetSpec {
                endpoint,
                ..TargetSpec::default()
            },
            timeout: Duration::from_secs(10),
            secret: Some(spotcheck::signing::Secret::from_key(b"k".to_vec())),
            oauth: None,
            hmac: true,
        },
        what: What::Event {
            kind: "PNR_V3/BOOKING_CREATED".parse().unwrap(),
            organizations,
            payload: None,
        },
        format: SignatureFormat::V1,
        envelope: EnvelopeStyle::EventType,
        custom_headers: Vec::new(),
        mode,
    }
}

/// Without an endpoint the engine starts the reference receiver, says so first, and
/// delivers one event per organization: each a `Sending` then an `Answered`, and the
/// outcome holds one verdict per message.
#[tokio::test]
async fn send_once_tells_each_delivery_and_returns_its_verdict() {
    spotcheck::init_crypto();
    let (_trigger, cancel) = Cancel::new();
    let mut sink = Recorder::default();
    let orgs = vec!["org-a".to_owned(), "org-b".to_owned()];
    let outcome = sender::send(plan(None, orgs, Mode::Once), &mut sink, &cancel)
        .await
        .unwrap();
    assert_eq!(outcome.messages.len(), 2);
    for message in &outcome.messages {
        assert!(matches!(
            message,
            MessageOutcome::Sent(DeliveryVerdict::Delivered)
        ));
    }
    assert!(outcome.all_delivered() && !outcome.interrupted());
    let kinds: Vec<&Recorded> = sink.0.iter().collect();
    assert_eq!(kinds[0], &Recorded::ReferenceReceiver, "{kinds:?}");
    let answered = |r: &&&Recorded| {
        matches!(
            r,
            Recorded::Answered {
                status: Some(200),
                delivered: true
            }
        )
    };
    assert_eq!(kinds.iter().filter(answered).count(), 2, "{kinds:?}");
    let ids: Vec<&Option<String>> = kinds
        .iter()
        .filter_map(|r| match r {
            Recorded::Sending { webhook_id } => Some(webhook_id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "each message has its own webhook id");
}

/// On the retry policy against an endpoint that answers 500 twice, then 200: every
/// attempt is told as it is answered and the outcome is `Delivered { attempt: 3 }`
/// (a type, not an exit code).
#[tokio::test]
async fn send_with_retry_returns_how_the_sequence_ended() {
    spotcheck::init_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&server)
        .await;
    let park_dir = tempfile::tempdir().unwrap();
    let mode = Mode::Retry {
        policy: RetryPolicy::default(),
        time_scale: 100_000.0,
        park_dir: PathBuf::from(park_dir.path()),
    };
    let (_trigger, cancel) = Cancel::new();
    let mut sink = Recorder::default();
    let outcome = sender::send(
        plan(Some(format!("{}/hook", server.uri())), Vec::new(), mode),
        &mut sink,
        &cancel,
    )
    .await
    .unwrap();
    assert!(
        matches!(
            outcome.messages.as_slice(),
            [MessageOutcome::Retried(RetryOutcome::Delivered {
                attempt: 3
            })]
        ),
        "{:?}",
        outcome.messages
    );
    assert_eq!(
        sink.0,
        [
            Recorded::RetryStarted,
            Recorded::Attempt {
                number: 1,
                status: Some(500)
            },
            Recorded::Attempt {
                number: 2,
                status: Some(500)
            },
            Recorded::Attempt {
                number: 3,
                status: Some(200)
            },
            Recorded::RetryFinished,
        ]
    );
    assert_eq!(std::fs::read_dir(park_dir.path()).unwrap().count(), 0);
}

/// A stop raised before the retries parks the message: the outcome says interrupted
/// (with the parked file), and the engine sends nothing after it.
#[tokio::test]
async fn a_stop_parks_the_message_and_ends_the_command() {
    spotcheck::init_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let park_dir = tempfile::tempdir().unwrap();
    let mode = Mode::Retry {
        policy: RetryPolicy::default(),
        // Real time: only the immediate retries could happen before the stop.
        time_scale: 1.0,
        park_dir: PathBuf::from(park_dir.path()),
    };
    let (trigger, cancel) = Cancel::new();
    trigger.cancel();
    let mut sink = Recorder::default();
    let orgs = vec!["org-a".to_owned(), "org-b".to_owned()];
    let outcome = sender::send(
        plan(Some(format!("{}/hook", server.uri())), orgs, mode),
        &mut sink,
        &cancel,
    )
    .await
    .unwrap();
    assert_eq!(outcome.messages.len(), 1, "{:?}", outcome.messages);
    assert!(outcome.interrupted() && !outcome.all_delivered());
    let MessageOutcome::Retried(RetryOutcome::Interrupted { path, .. }) = &outcome.messages[0]
    else {
        panic!("{:?}", outcome.messages)
    };
    assert!(path.starts_with(park_dir.path()), "{}", path.display());
    assert!(path.exists());
}
