//! `spotcheck send EVENT/OPERATION`: one signed event, delivered the way Spotnana
//! delivers it, and the exchange printed with a verdict.

use std::io::Write;
use std::path::PathBuf;

use bytes::Bytes;
use clap::Args;
use serde_json::Value;

use super::common::{FormatArgs, SecretArgs, TargetArgs, parse_headers, read_input};
use super::printout::{render_response, verdict_line};
use crate::delivery::request::{check_custom_headers, signed_attempt};
use crate::delivery::retry::RetryMessage;
use crate::delivery::verdict::DeliveryVerdict;
use crate::delivery::{Client, RetryPolicy};
use crate::error::{SetupError, exit};
use crate::event::{self, EventKind, EventSpec, SeededRng, random};
use crate::signing::{Secret, SignatureFormat, unix_now};
use crate::target::Target;

/// Options of `spotcheck send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The event to send, e.g. `PNR_V3/BOOKING_TICKETED` (not needed with --dry-run
    /// or --lifecycle).
    #[arg(value_name = "EVENT/OPERATION", required_unless_present_any = ["dry_run", "lifecycle"])]
    pub event: Option<String>,
    /// Send the whole story of one booking instead of one event: every event of its
    /// lifecycle, each signed, oldest first (one pnrId, trip, travelers and tickets;
    /// version rising with the timestamp).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["event", "payload", "retry"], value_parser = lifecycle_names())]
    pub lifecycle: Option<String>,
    /// With --lifecycle: deliver the events shuffled (a seeded order that is not the
    /// story's), as Spotnana may; the timestamps and versions still tell the order.
    #[arg(long, requires = "lifecycle")]
    pub out_of_order: bool,
    /// Endpoint, CA, custom headers and timeout.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Where the signing secret comes from.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Signature token form and envelope spelling.
    #[command(flatten)]
    pub format: FormatArgs,
    /// Legacy OAuth: bearer token from the partner's token URL.
    #[command(flatten)]
    pub oauth: super::oauth::OAuthArgs,
    /// JSON file (`-` for standard input) merged over the generated event's `payload` object
    /// (RFC 7396: objects merge, `null` removes a key).
    #[arg(long, value_name = "FILE|-")]
    pub payload: Option<PathBuf>,
    /// Replace the generated `payload` object with the --payload JSON instead of merging.
    #[arg(long, requires = "payload")]
    pub replace_payload: bool,
    /// `audience.organizationId` of the event (default: a UUID drawn from the seed);
    /// repeatable: one event per organization, in the order given (`--lifecycle`: one
    /// booking, for the first).
    #[arg(long, value_name = "ID")]
    pub org_id: Vec<String>,
    /// Seed for every generated id and value (default: random; printed so a run can be replayed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Follow Spotnana's retry policy on anything but 200 OK: 5 immediate retries, then
    /// backoff from 1 minute doubling (at most 12 h apart) for 14 days, then park the message.
    #[arg(long)]
    pub retry: bool,
    /// Divide every retry delay by N (1 or more; 100000 replays two weeks in about 12 s).
    #[arg(long, value_name = "N", default_value = "1", value_parser = crate::delivery::retry::parse_time_scale, requires = "retry")]
    pub time_scale: f64,
    /// Print the retry schedule (attempt, offset) and exit without sending.
    #[arg(long, requires = "retry")]
    pub dry_run: bool,
    /// Folder a message is parked in (as JSON) when every retry failed.
    #[arg(long, value_name = "DIR", default_value = crate::delivery::park::DEFAULT_PARK_DIR, requires = "retry")]
    pub park_dir: PathBuf,
}

/// What `send` delivers once the event is built: the body and how to sign it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The exact body bytes (compact JSON).
    pub body: Bytes,
    /// `x-spotnana-webhook-id`.
    pub webhook_id: String,
    /// Signature token form.
    pub format: SignatureFormat,
    /// Subscription custom headers (already checked with `check_custom_headers`).
    pub custom_headers: Vec<(String, String)>,
}

/// Runs `spotcheck send`.
pub async fn run(args: SendArgs) -> Result<u8, SetupError> {
    if args.dry_run {
        let text = super::timeline::render_schedule(&RetryPolicy::default(), args.time_scale);
        // A closed pipe (`| head`) is not an error worth a panic.
        let mut out = crate::redact::stdout();
        let _ = writeln!(out, "{text}dry run: nothing was sent");
        let _ = out.flush();
        return Ok(exit::CONFORMANT);
    }
    if let Some(name) = &args.lifecycle {
        return send_lifecycle(&args, name).await;
    }
    let kind: EventKind = args
        .event
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|err: event::UnknownEvent| SetupError::new(err.to_string()))?;
    let custom_headers = parse_headers(&args.target.headers)?;
    check_custom_headers(&custom_headers)?;
    let patch = match &args.payload {
        Some(path) => Some(read_payload(path)?),
        None => None,
    };
    if let (Some(patch), Some(path)) = (&patch, &args.payload) {
        for violation in
            crate::scenario::overrides::payload_violations(kind, patch, args.replace_payload)
        {
            errln!("{}", override_warning(path, kind, &violation));
        }
    }

    let seed = args.seed.unwrap_or_else(random::fresh_seed);
    let mut rng = random::rng_for(seed, "send");
    // One event per organization (`--org-id` repeated), each built and delivered in
    // turn; one organization (given or drawn) draws exactly what it always did.
    let organizations = if args.org_id.is_empty() {
        vec![random::uuid(&mut rng)]
    } else {
        args.org_id.clone()
    };
    let build = |org_id: &str, rng: &mut SeededRng| -> Result<Delivery, SetupError> {
        let mut body = event::build_event(
            &EventSpec {
                kind,
                organization_id: org_id,
                message_time: time::OffsetDateTime::now_utc(),
                style: args.format.envelope,
                pnr_id: None,
            },
            rng,
        );
        if let Some(patch) = &patch {
            apply_payload(&mut body, patch, args.replace_payload);
        }
        let body = serde_json::to_vec(&body)
            .map_err(|err| SetupError::new(format!("cannot serialize the event: {err}")))?;
        Ok(Delivery {
            body: Bytes::from(body),
            webhook_id: random::uuid(rng),
            format: args.format.signature_format,
            custom_headers: custom_headers.clone(),
        })
    };
    let first = build(&organizations[0], &mut rng)?;
    let destination = destination(&args, &mut rng).await?;
    let mut code = deliver(&args, &destination, &first, seed, &mut rng).await;
    for org_id in &organizations[1..] {
        let delivery = build(org_id, &mut rng)?;
        let next = deliver(&args, &destination, &delivery, seed, &mut rng).await;
        // The worst outcome is the command's: a setup error, then a refusal.
        code = match (code, next) {
            (Err(err), _) | (Ok(_), Err(err)) => Err(err),
            (Ok(a), Ok(b)) => Ok(a.max(b)),
        };
    }
    if let Some(receiver) = destination.receiver {
        // Shutting down drains the processing queue, so the receiver's log line is printed.
        receiver.shutdown().await;
    }
    code
}

/// The lifecycles `--lifecycle` takes, each with what it tells (shown by `--help`).
fn lifecycle_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::event::story::Lifecycle::ALL
            .iter()
            .map(|l| clap::builder::PossibleValue::new(l.name).help(l.about)),
    )
}

/// `send --lifecycle NAME`: one booking's events, signed, in order or shuffled.
/// Exit 0 when every one got 200, 1 otherwise.
async fn send_lifecycle(args: &SendArgs, name: &str) -> Result<u8, SetupError> {
    use rand::seq::SliceRandom;
    let Some(lifecycle) = crate::event::story::Lifecycle::named(name) else {
        return Err(SetupError::new(format!("unknown lifecycle `{name}`")));
    };
    let custom_headers = parse_headers(&args.target.headers)?;
    check_custom_headers(&custom_headers)?;
    let seed = args.seed.unwrap_or_else(random::fresh_seed);
    let mut rng = random::rng_for(seed, "send");
    // One booking belongs to one organization: the first given.
    let org_id = args
        .org_id
        .first()
        .cloned()
        .unwrap_or_else(|| random::uuid(&mut rng));
    let events = lifecycle.envelopes(
        &org_id,
        time::OffsetDateTime::now_utc(),
        args.format.envelope,
        &mut rng,
    );
    let mut order: Vec<usize> = (0..events.len()).collect();
    if args.out_of_order {
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
    let destination = destination(args, &mut rng).await?;
    outln!(
        "lifecycle {name}: {} events of PNR {pnr}, {}",
        events.len(),
        if args.out_of_order {
            "shuffled"
        } else {
            "oldest first"
        }
    );
    let mut code = exit::CONFORMANT;
    for (n, index) in order.into_iter().enumerate() {
        let event = &events[index];
        outln!(
            "\n[{}/{}] {}/{} at {} (version {})",
            n + 1,
            events.len(),
            event["eventType"]
                .as_str()
                .or(event["event_type"].as_str())
                .unwrap_or("?"),
            event["operation"].as_str().unwrap_or("?"),
            event["timestamp"].as_str().unwrap_or("?"),
            event
                .pointer("/payload/version")
                .map_or("-".to_owned(), Value::to_string)
        );
        let body = serde_json::to_vec(event)
            .map_err(|err| SetupError::new(format!("cannot serialize the event: {err}")))?;
        let delivery = Delivery {
            body: Bytes::from(body),
            webhook_id: random::uuid(&mut rng),
            format: args.format.signature_format,
            custom_headers: custom_headers.clone(),
        };
        let Destination {
            endpoint,
            client,
            how,
            secret,
            ..
        } = &destination;
        let one =
            deliver_and_print_with(client, how, endpoint, secret, &delivery, seed, &mut rng).await;
        code = code.max(one);
    }
    if let Some(receiver) = destination.receiver {
        receiver.shutdown().await;
    }
    Ok(code)
}

/// Where `send` delivers and with what.
struct Destination {
    /// The webhook URL.
    endpoint: String,
    /// The client (trust store, client identity, timeout).
    client: Client,
    /// OAuth and HMAC on or off.
    how: How,
    /// The signing secret.
    secret: Secret,
    /// The in-process reference receiver when there is no `--endpoint`; shut down
    /// after the delivery so its log line for the event is printed.
    receiver: Option<crate::receiver::RunningReceiver>,
}

/// Sets up the endpoint, or the embedded default: the reference receiver started
/// in-process on loopback HTTPS (generated CA; the secret from the environment or a
/// generated one), so `send` shows both sides: the exchange, then the receiver's log
/// line for the event. Also the trust store, the client identity and OAuth.
async fn destination(args: &SendArgs, rng: &mut SeededRng) -> Result<Destination, SetupError> {
    let oauth = args.oauth.options(args.target.endpoint.is_some())?;
    let secret = match args.target.endpoint.as_deref() {
        Some(endpoint) => {
            // The same refusals as `run` (scheme, no host, credentials in the URL)
            // first, so a password in the URL is never sent nor echoed in the printout.
            check_endpoint(endpoint)?;
            args.secret.require()?
        }
        None => match args.secret.load()? {
            Some(secret) => secret,
            None => Secret::generate(rng),
        },
    };
    let reference = crate::receiver::ReceiverConfig {
        secrets: vec![secret.clone()],
        print_events: true,
        oauth: oauth.as_ref().map(|o| crate::receiver::OAuthServerConfig {
            client_id: o.client_id.clone(),
            client_secret: o.client_secret.clone(),
        }),
        ..crate::receiver::ReceiverConfig::default()
    };
    let mut target = Target::build(args.target.spec(reference)?).await?;
    if target.receiver().is_some() {
        outln!(
            "no --endpoint: delivering to the built-in reference receiver at {}\n",
            target.endpoint()
        );
    }
    let client = Client::new(&target.client_options(args.target.timeout))?;
    let how = How {
        oauth: oauth_client(oauth, target.token_url(), &client)?,
        hmac: !args.oauth.no_hmac,
    };
    Ok(Destination {
        endpoint: target.endpoint().to_owned(),
        client,
        how,
        secret,
        receiver: target.take_receiver(),
    })
}

/// Delivers once ([`deliver_and_print_with`]) or, with `--retry`, on Spotnana's retry
/// policy.
async fn deliver(
    args: &SendArgs,
    destination: &Destination,
    delivery: &Delivery,
    seed: u64,
    rng: &mut SeededRng,
) -> Result<u8, SetupError> {
    let Destination {
        endpoint,
        client,
        how,
        secret,
        ..
    } = destination;
    if !args.retry {
        return Ok(
            deliver_and_print_with(client, how, endpoint, secret, delivery, seed, rng).await,
        );
    }
    if how.oauth.is_some() || !how.hmac {
        return Err(
            SetupError::new("--retry does not support OAuth (--oauth-*) or --no-hmac yet")
                .with_hint("send once without --retry, or retry an HMAC-signed delivery"),
        );
    }
    // Listened for before the first attempt: a stop (Ctrl-C, SIGTERM, SIGHUP) from
    // now on parks the message instead of losing it.
    let stop = super::stop::StopSignals::listen();
    outln!("seed {seed} (replay with --seed {seed})");
    let message = RetryMessage {
        endpoint: endpoint.clone(),
        webhook_id: delivery.webhook_id.clone(),
        body: delivery.body.clone(),
        format: delivery.format,
        custom_headers: delivery.custom_headers.clone(),
    };
    let policy = RetryPolicy::default();
    super::timeline::retry_and_print(
        client,
        secret,
        &message,
        &super::timeline::RetryPrintOptions {
            policy: &policy,
            time_scale: args.time_scale,
            park_dir: &args.park_dir,
            stop: &stop,
        },
        rng,
    )
    .await
}

/// Checks that the endpoint is an absolute `http(s)://` URL; notes on stderr when it is
/// plain HTTP (Spotnana delivers over HTTPS only).
pub fn check_endpoint(endpoint: &str) -> Result<(), SetupError> {
    let url = crate::delivery::endpoint::parse_endpoint(endpoint)?;
    if url.scheme() == "http" {
        errln!(
            "note: {endpoint} is plain http://; Spotnana delivers only over HTTPS (TLS 1.2+), \
             so use this for a local dev server only"
        );
    }
    Ok(())
}

/// One warning line for a `--payload` value Spotnana's schema rejects (sent anyway).
fn override_warning(
    path: &std::path::Path,
    kind: EventKind,
    violation: &crate::event::schema::Violation,
) -> String {
    format!(
        "warning: --payload {}: {} = {} is not what Spotnana sends for {} ({allowed}); sending it anyway",
        path.display(),
        if violation.pointer.is_empty() {
            "/"
        } else {
            &violation.pointer
        },
        violation.value,
        kind.event_type.as_str(),
        allowed = violation.allowed_text()
    )
}

fn read_payload(path: &std::path::Path) -> Result<Value, SetupError> {
    let bytes = read_input(path)?;
    serde_json::from_slice(&bytes).map_err(|err| {
        SetupError::new(format!(
            "--payload {} is not valid JSON: {err}",
            path.display()
        ))
    })
}

/// Lays the `--payload` JSON over the event's `payload` object (or replaces it).
pub fn apply_payload(event: &mut Value, patch: &Value, replace: bool) {
    let Some(object) = event.as_object_mut() else {
        return;
    };
    let slot = object.entry("payload").or_insert(Value::Null);
    if replace {
        *slot = patch.clone();
    } else {
        event::merge_patch::merge(slot, patch);
    }
}

/// How `send` delivers beyond signing: legacy OAuth bearer tokens, HMAC on or off.
#[derive(Debug, Clone, Default)]
pub struct How {
    /// Attach `Authorization: Bearer <token>` from this client (refetched once on 401).
    pub oauth: Option<crate::delivery::oauth::OAuthClient>,
    /// Whether the signature headers are sent (`false` with `--no-hmac`).
    pub hmac: bool,
}

fn oauth_client(
    options: Option<crate::runner::OAuthOptions>,
    fallback_url: Option<String>,
    client: &Client,
) -> Result<Option<crate::delivery::oauth::OAuthClient>, SetupError> {
    let Some(options) = options else {
        return Ok(None);
    };
    let Some(token_url) = options.token_url.or(fallback_url) else {
        return Err(SetupError::new("OAuth needs the partner's token URL")
            .with_hint("pass --oauth-token-url URL"));
    };
    check_endpoint(&token_url)
        .map_err(|err| SetupError::new(err.message.replace("--endpoint", "--oauth-token-url")))?;
    Ok(Some(crate::delivery::oauth::OAuthClient::new(
        crate::delivery::oauth::OAuthConfig {
            token_url,
            client_id: options.client_id,
            client_secret: options.client_secret,
        },
        client.clone(),
    )))
}

/// Signs `delivery` with `secret` at the current time, sends it to `endpoint`,
/// prints the exchange and a verdict to standard output, and returns the exit code:
/// 0 for `200 OK`, 1 for anything else. B3 ids come from `rng`.
pub async fn deliver_and_print(
    client: &Client,
    endpoint: &str,
    secret: &Secret,
    delivery: &Delivery,
    seed: u64,
    rng: &mut SeededRng,
) -> u8 {
    let how = How {
        oauth: None,
        hmac: true,
    };
    deliver_and_print_with(client, &how, endpoint, secret, delivery, seed, rng).await
}

/// [`deliver_and_print`] with a bearer token from `how.oauth` (fetched before the
/// delivery, shown redacted, refetched once on a `401`) and without signature headers
/// when `how.hmac` is off.
pub async fn deliver_and_print_with(
    client: &Client,
    how: &How,
    endpoint: &str,
    secret: &Secret,
    delivery: &Delivery,
    seed: u64,
    rng: &mut SeededRng,
) -> u8 {
    let mut attempt = signed_attempt(
        endpoint,
        &[secret],
        &delivery.webhook_id,
        unix_now(),
        delivery.body.clone(),
        delivery.format,
        &delivery.custom_headers,
        rng,
    );
    if !how.hmac {
        attempt.headers.retain(|(name, _)| {
            !name.eq_ignore_ascii_case(crate::signing::HEADER_SIGNATURE)
                && !name.eq_ignore_ascii_case(crate::signing::HEADER_TIMESTAMP)
        });
    }
    let mut out = crate::redact::stdout();
    let _ = writeln!(out, "seed {seed} (replay with --seed {seed})");
    if let Some(oauth) = &how.oauth {
        let _ = writeln!(
            out,
            "OAuth: bearer token from {} (client id {})",
            oauth.config().token_url,
            oauth.config().client_id
        );
        // Shown in the printout below (redacted); the token itself is attached by the client.
        attempt = crate::delivery::oauth::with_bearer(&attempt, "pending");
    }
    let request = attempt.record();
    let _ = writeln!(out, "> {} {}", request.method, request.url);
    for (name, value) in &request.headers {
        let _ = writeln!(out, "> {name}: {value}");
    }
    let _ = writeln!(out, "> ({} bytes of JSON)", request.body_len);
    let _ = out.flush();
    drop(out);

    let exchange = match &how.oauth {
        Some(oauth) => oauth.send(&attempt).await,
        None => client.send(&attempt).await,
    };
    let verdict = DeliveryVerdict::of(&exchange);
    let mut out = crate::redact::stdout();
    let _ = write!(out, "{}", render_response(&exchange));
    let _ = writeln!(out, "{}", verdict_line(&verdict));
    let _ = out.flush();
    if verdict.delivered() {
        exit::CONFORMANT
    } else {
        exit::NOT_CONFORMANT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_merges_or_replaces_the_payload_object() {
        let mut event = json!({"eventType": "PNR_V3", "payload": {"pnrId": "1", "tripId": "2"}});
        apply_payload(
            &mut event,
            &json!({"pnrId": "9", "tripId": null, "x": 1}),
            false,
        );
        assert_eq!(event["payload"], json!({"pnrId": "9", "x": 1}));
        apply_payload(&mut event, &json!({"only": true}), true);
        assert_eq!(event["payload"], json!({"only": true}));
        assert_eq!(event["eventType"], "PNR_V3");
    }
}
