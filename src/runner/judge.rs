//! Judging: a step's answers against its expectations and precondition, into the
//! typed parts of a verdict ([`Finding`], [`SkipReason`], [`CheckError`]). Sends
//! nothing (that is [`super::steps`]) and words no verdict (that is
//! `report::wording`): a finding's `text` is what was seen, with the values compared
//! also kept typed (`expected`, `got`).

use std::time::Duration;

use serde_json::Value;

use crate::check::{CheckError, ErrorCause, Finding, Seen, SkipReason, StepRef, Verdict, Which};
use crate::delivery::exchange::Exchange;
use crate::delivery::oauth::IssuedToken;
use crate::outcome::Latency;
use crate::scenario::model::{
    Expect, Precondition, SendSource, SendStep, Step, TokenCredentials, TokenStep,
};

/// How a step's answers measured up, before it becomes the check's verdict.
pub(super) enum Judgement {
    /// Every expectation holds.
    Met,
    /// The check's own finding: what was seen instead (its step is set by
    /// [`Judgement::verdict`]).
    Failed(Finding),
    /// An answer did not meet the step's precondition: the check could not judge.
    NotJudged(Unmet),
    /// A delivery of the step was never sent (no OAuth token to send it with, an
    /// unreachable endpoint): the check could not judge, and the cause is not a
    /// precondition of this step.
    NotSent {
        /// Which of the step's deliveries.
        request: Option<Which>,
        /// Why it was not sent.
        why: String,
    },
    /// The step could not run: a template that cannot be rendered, an observation
    /// whose answer cannot be read. A mistake in the scenario, not a finding.
    Error(ErrorCause),
}

/// An answer that did not meet its step's precondition.
pub(super) enum Unmet {
    /// A delivery got another status than the precondition needs.
    Status {
        /// Which of the step's deliveries.
        request: Option<Which>,
        /// What it got (`401 Unauthorized`).
        got: String,
        /// What was needed (`200`).
        needed: String,
    },
    /// A token request's answer is not what the precondition needs.
    Token {
        /// Which of the step's requests.
        request: Option<Which>,
        /// What is wrong with it.
        problem: String,
    },
}

impl Judgement {
    /// The check's verdict when this ends it (`None`: go on with the next step).
    /// `sends` describes the step's requests (`None` when its label says enough).
    pub(super) fn verdict(
        self,
        index: usize,
        sends: Option<String>,
        step: &Step,
    ) -> Option<Verdict> {
        let step_ref = StepRef {
            number: index + 1,
            name: step.name.clone(),
            sends,
            program: None,
        };
        let see = step.precondition.as_ref().and_then(|p| p.see.clone());
        match self {
            Judgement::Met => None,
            Judgement::Failed(finding) => Some(Verdict::Failed(Finding {
                step: Some(step_ref),
                ..finding
            })),
            Judgement::NotJudged(Unmet::Status {
                request,
                got,
                needed,
            }) => Some(Verdict::Skipped(SkipReason::Precondition {
                step: Some(step_ref),
                what: None,
                request,
                got,
                needed,
                see,
            })),
            Judgement::NotJudged(Unmet::Token { request, problem }) => {
                Some(Verdict::Skipped(SkipReason::TokenPrecondition {
                    step: step_ref,
                    request,
                    problem,
                    see,
                }))
            }
            Judgement::NotSent { request, why } => Some(Verdict::Skipped(SkipReason::NotSent {
                step: step_ref,
                request,
                why,
            })),
            Judgement::Error(cause) => Some(Verdict::Error(CheckError {
                step: Some(step_ref),
                cause,
            })),
        }
    }
}

/// What the first answer that does not meet `pre` got, when every delivery of the
/// step was answered: a delivery without an answer is a failure of the check it
/// belongs to (the step's own expectations say so), never a reason to skip it.
pub(super) fn unmet_precondition(sent: &[Exchange], pre: &Precondition) -> Option<Unmet> {
    if sent.iter().any(|e| e.response.is_none()) {
        return None;
    }
    sent.iter().enumerate().find_map(|(i, exchange)| {
        let status = exchange.status()?;
        (!pre.status.matches(status)).then(|| Unmet::Status {
            request: Which::of(i, sent.len()),
            got: exchange.outcome_text(),
            needed: pre.status.to_string(),
        })
    })
}

/// The first delivery of a step that never went out, and why (`no OAuth token from
/// …`).
pub(super) fn not_sent(sent: &[Exchange]) -> Option<Judgement> {
    sent.iter().enumerate().find_map(|(i, exchange)| {
        exchange.not_sent.then(|| {
            let why = exchange
                .error
                .as_ref()
                .map_or("no reason recorded", |e| e.message.as_str());
            Judgement::NotSent {
                request: Which::of(i, sent.len()),
                why: why.to_owned(),
            }
        })
    })
}

/// `delivery 2 of 5: ` for the `i`th of several requests of a step; empty for one.
pub(super) fn which(noun: &str, i: usize, total: usize) -> String {
    if total > 1 {
        format!("{noun} {} of {total}: ", i + 1)
    } else {
        String::new()
    }
}

/// What a passing scenario saw: its answers, their statuses and the slowest.
pub(super) fn summarize(exchanges: &[Exchange], answered: usize) -> Seen {
    let mut counts: Vec<(u16, usize)> = Vec::new();
    for status in exchanges
        .iter()
        .filter(|e| e.request.method == "POST")
        .filter_map(Exchange::status)
    {
        match counts.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((status, 1)),
        }
    }
    counts.sort();
    let statuses = counts
        .iter()
        .map(|(s, n)| {
            if *n == 1 {
                s.to_string()
            } else {
                format!("{s} ×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let slowest = exchanges
        .iter()
        .filter(|e| e.response.is_some())
        .map(|e| e.duration)
        .max()
        .unwrap_or_default();
    Seen::from(if answered == 0 {
        "as expected".to_owned()
    } else {
        format!(
            "{answered} {} as expected ({statuses}; slowest {} ms)",
            if answered == 1 { "answer" } else { "answers" },
            slowest.as_millis()
        )
    })
}

/// A one-line description of what a send step alters, for messages.
pub(super) fn describe_send(send: &SendStep) -> String {
    use crate::scenario::model::{SignatureSpec, Tamper};
    let mut parts = vec![match &send.source {
        SendSource::Event(kind) => kind.to_string(),
        SendSource::EachSubscribed => "each subscribed event".to_owned(),
        SendSource::Redeliver(r) => format!("redelivery of \"{}\"", r.name),
        SendSource::Replay(r) => format!("replay of \"{}\"", r.name),
    }];
    match &send.signature {
        SignatureSpec::Valid(None) => {}
        SignatureSpec::Valid(Some(format)) => {
            parts.push(format!("signature as {}", format.as_str()))
        }
        SignatureSpec::Missing => parts.push("no signature header".into()),
        SignatureSpec::Garbage => parts.push("garbage signature".into()),
        SignatureSpec::WrongSecret => parts.push("signed with another secret".into()),
        SignatureSpec::Tokens(tokens) => parts.push(format!("{} signature tokens", tokens.len())),
    }
    if let Some(offset) = send.timestamp {
        parts.push(format!("timestamp {offset}"));
    }
    if let Some(tamper) = send.tamper {
        parts.push(
            match tamper {
                Tamper::Body => "body changed after signing",
                Tamper::Id => "webhook id changed after signing",
                Tamper::Timestamp => "timestamp changed after signing",
            }
            .into(),
        );
    }
    if let Some(style) = send.body_style {
        parts.push(format!("body written {style:?}").to_lowercase());
    }
    if send.repeat > 1 {
        parts.push(format!(
            "×{} at concurrency {}",
            send.repeat, send.concurrency
        ));
    }
    parts.join(", ")
}

/// For a 3xx answer: says that redirects are not followed (as Spotnana does not
/// follow them) and where it pointed, so a redirect loop or an http→https redirect is
/// recognisable in the report. Empty for other answers.
fn redirect_note(exchange: &Exchange) -> String {
    let Some(response) = exchange
        .response
        .as_ref()
        .filter(|r| (300..400).contains(&r.status))
    else {
        return String::new();
    };
    let location = crate::wire::header(&response.headers, "location")
        .map(|value| format!(" to {value}"))
        .unwrap_or_default();
    format!(" (a redirect{location}: redirects are not followed)")
}

/// Checks every answer of a send step against its expectations: the first unmet
/// one is the finding. (A finding is made once per check: its size does not matter.)
#[allow(clippy::result_large_err)]
pub(super) fn judge_sends(
    sent: &[Exchange],
    expect: &Expect,
    timeout: Duration,
) -> Result<(), Finding> {
    let within = expect.within.unwrap_or(timeout);
    for (i, exchange) in sent.iter().enumerate() {
        let request = Which::of(i, sent.len());
        let which = which("delivery", i, sent.len());
        let at = |text: String| Finding {
            request,
            ..Finding::from(text)
        };
        let Some(status) = exchange.status() else {
            let error = exchange
                .error
                .as_ref()
                .map(|e| format!("{} ({})", e.message, e.class.as_str()))
                .unwrap_or_else(|| "no answer".into());
            return Err(at(format!(
                "{which}no answer after {} ms: {error}",
                exchange.duration.as_millis()
            )));
        };
        if let Some(expected) = &expect.status
            && !expected.matches(status)
        {
            return Err(Finding {
                expected: Some(expected.to_string()),
                got: Some(exchange.outcome_text()),
                ..at(format!(
                    "{which}expected {expected}, got {}{}",
                    exchange.outcome_text(),
                    redirect_note(exchange)
                ))
            });
        }
        // A status that arrived but whose answer then broke off (body reset, stalled
        // past the timeout) is not a delivery: Spotnana's client fails the attempt and
        // retries. Only matters where the step expects success; a refusal that
        // breaks off is still a refusal.
        if let (Some(error), Some(expected)) = (&exchange.error, &expect.status)
            && expected.matches(200)
        {
            return Err(at(format!(
                "{which}{} arrived but the answer did not complete: {} ({})",
                exchange.outcome_text(),
                error.message,
                error.class.as_str()
            )));
        }
        if exchange.duration > within {
            return Err(Finding {
                expected: Some(format!("within {} ms", within.as_millis())),
                got: Some(format!("{} ms", exchange.duration.as_millis())),
                ..at(format!(
                    "{which}answered in {} ms, over the {} ms limit",
                    exchange.duration.as_millis(),
                    within.as_millis()
                ))
            });
        }
    }
    if let Some(limit) = expect.p95_within
        && let Some(latency) = Latency::of(sent.iter().map(|e| e.duration).collect())
        && latency.p95_ms > limit.as_secs_f64() * 1000.0
    {
        return Err(Finding {
            expected: Some(format!("p95 within {} ms", limit.as_millis())),
            got: Some(format!("p95 {} ms", latency.p95_ms)),
            ..Finding::from(format!(
                "p95 answer time {} ms over {} deliveries is above {} ms (p50 {} ms, max {} ms)",
                latency.p95_ms,
                latency.samples,
                limit.as_millis(),
                latency.p50_ms,
                latency.max_ms
            ))
        });
    }
    Ok(())
}

pub(super) fn describe_token(token: &TokenStep) -> String {
    let mut text = match token.credentials {
        TokenCredentials::Configured => "token request with the configured client credentials",
        TokenCredentials::WrongSecret => "token request with a wrong client secret",
    }
    .to_owned();
    if token.repeat > 1 {
        text.push_str(&format!(
            ", ×{} at concurrency {}",
            token.repeat, token.concurrency
        ));
    }
    text
}

/// The answers of a token step against its precondition (judged first, and only when
/// every request was answered) and its expectations.
pub(super) fn judge_tokens(
    answers: &[(
        Exchange,
        Result<IssuedToken, crate::delivery::oauth::TokenRefusal>,
    )],
    token: &TokenStep,
    step: &Step,
    expected: &[(String, Value)],
    within: Duration,
) -> Judgement {
    let expect = &step.expect;
    let total = answers.len();
    // A precondition is judged like an expectation of its status alone (with 200, a
    // usable token), and only when every request was answered.
    if let Some(pre) = &step.precondition
        && answers.iter().all(|(e, _)| e.response.is_some())
    {
        let needed = Expect {
            status: Some(pre.status.clone()),
            ..Expect::default()
        };
        let unmet = answers
            .iter()
            .enumerate()
            .find_map(|(i, (exchange, parsed))| {
                token_problem(exchange, parsed, &needed, &[], Duration::MAX, false).map(|problem| {
                    Unmet::Token {
                        request: Which::of(i, total),
                        problem,
                    }
                })
            });
        if let Some(unmet) = unmet {
            return Judgement::NotJudged(unmet);
        }
    }
    let mut failures: Vec<String> = Vec::new();
    for (i, (exchange, parsed)) in answers.iter().enumerate() {
        // The shape of a token response is judged on a single request that is not a
        // precondition (the subject of `oauth.token-issued`); a precondition needs a
        // usable token, and a burst judges that every request got one.
        let shape = token.repeat <= 1 && step.precondition.is_none();
        if let Some(problem) = token_problem(exchange, parsed, expect, expected, within, shape) {
            failures.push(format!("{}{problem}", which("request", i, total)));
        }
    }
    match failures.as_slice() {
        [] => Judgement::Met,
        [one] => Judgement::Failed(Finding::from(one.clone())),
        [first, ..] => Judgement::Failed(Finding::from(format!(
            "{} of {total} token requests failed; first: {first}",
            failures.len()
        ))),
    }
}
fn token_problem(
    exchange: &Exchange,
    parsed: &Result<IssuedToken, crate::delivery::oauth::TokenRefusal>,
    expect: &Expect,
    expected: &[(String, Value)],
    within: Duration,
    shape: bool,
) -> Option<String> {
    let Some(response) = &exchange.response else {
        return Some(format!(
            "no answer after {} ms: {}",
            exchange.duration.as_millis(),
            exchange.outcome_text()
        ));
    };
    let wants_token = expect.status.as_ref().is_none_or(|s| s.matches(200));
    if let Some(status) = &expect.status
        && !status.matches(response.status)
    {
        return Some(match parsed {
            Err(problem) if wants_token => problem.to_string(),
            Ok(_) => format!(
                "expected {status}, got {}: a token was issued",
                response.status_line()
            ),
            Err(_) => format!("expected {status}, got {}", response.status_line()),
        });
    }
    if wants_token
        && response.status == 200
        && let Err(problem) = parsed
    {
        return Some(format!("the token response is not usable: {problem}"));
    }
    if shape
        && wants_token
        && response.status == 200
        && let Ok(token) = parsed
        && !token.deviations.is_empty()
    {
        return Some(format!(
            "the token response deviates from RFC 6749 and Spotnana's documentation: {}; \
             the token was still used for the deliveries, as Spotnana's sender does",
            token.deviations.join("; ")
        ));
    }
    if !expected.is_empty() {
        let observed: Value = match serde_json::from_slice(&response.body) {
            Ok(value) => value,
            Err(err) => return Some(format!("the answer is not JSON: {err}")),
        };
        for (pointer, want) in expected {
            match observed.pointer(pointer) {
                Some(got) if json_equal(got, want) => {}
                Some(got) => return Some(format!("{pointer} is {got}, expected {want}")),
                None => return Some(format!("{pointer} is absent, expected {want}")),
            }
        }
    }
    if exchange.duration > within {
        return Some(format!(
            "answered in {} ms, over the {} ms limit",
            exchange.duration.as_millis(),
            within.as_millis()
        ));
    }
    None
}

/// Why an observation does not (yet) show what the step expects.
pub(super) enum ObserveProblem {
    /// The answer cannot be read (no answer, or not JSON where JSON is expected): the
    /// observation endpoint does not work, so nothing can be concluded.
    Unreadable(String),
    /// The answer says something other than expected: the check's finding.
    Mismatch(String),
}

pub(super) fn observe_problem(
    exchange: &Exchange,
    expect: &Expect,
    expected: &[(String, Value)],
) -> Option<ObserveProblem> {
    use ObserveProblem::{Mismatch, Unreadable};
    let Some(response) = &exchange.response else {
        return Some(Unreadable(format!(
            "no answer: {}",
            exchange.outcome_text()
        )));
    };
    if let Some(status) = &expect.status
        && !status.matches(response.status)
    {
        return Some(Mismatch(format!(
            "expected {status}, got {}",
            response.status_line()
        )));
    }
    if expected.is_empty() {
        return None;
    }
    let observed: Value = match serde_json::from_slice(&response.body) {
        Ok(value) => value,
        Err(err) => return Some(Unreadable(format!("the answer is not JSON: {err}"))),
    };
    for (pointer, want) in expected {
        match observed.pointer(pointer) {
            Some(got) if json_equal(got, want) => {}
            Some(got) => return Some(Mismatch(format!("{pointer} is {got}, expected {want}"))),
            None => return Some(Mismatch(format!("{pointer} is absent, expected {want}"))),
        }
    }
    None
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
pub(super) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}
