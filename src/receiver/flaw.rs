//! Deliberate, test-only flaws that turn the reference receiver into the broken
//! endpoints real partners build, so that every conformance check can be shown
//! to fail against something.
//!
//! A receiver with no flaws is conformant. Several flaws may be combined.

use std::time::Duration;

/// One deliberate mistake, each imitating a real-world receiver bug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flaw {
    /// Answers this status instead of `200` to valid deliveries (a framework
    /// default of `202 Accepted`/`204 No Content`, or a redirect to a new path;
    /// `3xx` answers carry `Location: /moved`). The event is still processed.
    Status(u16),
    /// Waits this long before answering valid deliveries (processing inline
    /// instead of acknowledging first).
    SlowAck(Duration),
    /// Answers `503` when more than this many requests are in flight (a tiny
    /// worker pool); each valid request is held ~30 ms so bursts overlap.
    MaxConcurrent(usize),
    /// Answers `413` to bodies over this many bytes (a framework's default body
    /// limit, e.g. 100 KiB).
    BodyLimit(usize),
    /// Answers `400` when `X-B3-TraceId`/`X-B3-SpanId` or any header outside a
    /// small allowlist is present (an over-eager WAF or header validator).
    RejectTraceHeaders,
    /// Answers `400` to these operations (a receiver that forgot some subscribed
    /// operation in its `match`).
    RejectOperations(Vec<String>),
    /// Answers `400` when the operation is not in the catalogue for its event
    /// type (a closed enum that breaks on Spotnana's non-breaking additions).
    RejectUnknownOperations,
    /// Answers `400` when the envelope has keys outside the documented ones or
    /// `audience` has keys other than `organizationId` (a strict deserializer,
    /// `deny_unknown_fields`).
    StrictFields,
    /// Accepts everything without checking any signature.
    SkipVerification,
    /// Trims white space around the body before verifying (PHP `trim(file_get_contents(…))`).
    TrimBodyBeforeVerify,
    /// Uses the whole `whsec_…` text as the HMAC key instead of Base64-decoding the
    /// part after the prefix (the most common first bug in a verifier).
    KeyNotDecoded,
    /// Verifies only when the signature header is present.
    AcceptMissingSignature,
    /// Treats a signature token that is not Base64 of 32 bytes (or an empty
    /// header) as "skip verification" (a swallowed decoding exception).
    AcceptUndecodableSignature,
    /// Parses the body and re-serializes it compactly before verifying (so only
    /// compact bodies in their original key order verify).
    ReserializeBeforeVerify,
    /// Looks only at the first space-separated signature token (breaks rotation).
    FirstTokenOnly,
    /// Looks only at the last space-separated signature token (breaks rotation).
    LastTokenOnly,
    /// Accepts only `v1,<base64>` tokens.
    RequireV1Prefix,
    /// Accepts only bare `<base64>` tokens.
    RequireBareToken,
    /// Accepts a request whose signature token was verified before without
    /// recomputing it (a "signature cache"): a replayed signature with another
    /// webhook id or body passes.
    TrustSeenSignatures,
    /// Never checks the timestamp (no replay protection).
    NoTimestampCheck,
    /// Checks only that the timestamp is not too old, not that it is not in the future.
    NoFutureTimestampCheck,
    /// Refusals are `500` instead of `401` (an exception escaping to the
    /// framework), which makes Spotnana retry a forgery.
    RejectWith500,
    /// Answers `409` to a webhook id seen before (treating a retry as a conflict).
    RejectDuplicates,
    /// Answers `409` when the envelope timestamp is older than the newest seen for
    /// the same `payload.pnrId` (expects in-order delivery).
    RejectOutOfOrder,
    /// Answers `403` when `audience.organizationId` differs from the first one
    /// seen (a single-tenant receiver behind a TMC-level subscription).
    SingleOrganization,
    /// Processes a redelivered webhook id again (no idempotency).
    ProcessDuplicates,
    /// Per-PNR state takes the last arrival instead of the newest envelope timestamp.
    LastArrivalWins,
    /// Answers `500` to the first n valid deliveries of each webhook id, then `200`
    /// (a flaky dependency; for retry tests).
    FailFirst(usize),
    /// The token endpoint accepts only JSON bodies and answers `415` to the form
    /// Spotnana sends (legacy OAuth).
    TokenJsonOnly,
    /// The token response omits `token_type` (legacy OAuth).
    TokenNoType,
    /// The token endpoint issues a token whatever the client secret (legacy OAuth).
    TokenAnyCredentials,
    /// The token endpoint answers `503` when more than this many token requests
    /// overlap; each is held ~30 ms so concurrent requests do (legacy OAuth).
    TokenConcurrencyLimit(usize),
    /// Deliveries without an `Authorization` header are accepted; a token that is
    /// present is still checked (legacy OAuth).
    BearerNotRequired,
}

/// Headers a [`Flaw::RejectTraceHeaders`] receiver lets through.
pub const HEADER_ALLOWLIST: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "user-agent",
    "accept",
    "accept-encoding",
    "connection",
    "authorization",
    "transfer-encoding",
    crate::signing::HEADER_ID,
    crate::signing::HEADER_TIMESTAMP,
    crate::signing::HEADER_SIGNATURE,
];

/// Envelope keys a [`Flaw::StrictFields`] receiver knows.
pub const KNOWN_ENVELOPE_KEYS: &[&str] = &[
    "timestamp",
    "eventType",
    "event_type",
    "operation",
    "operationSummary",
    "audience",
    "payload",
];

/// The flaws in force, with quick look-ups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flaws {
    list: Vec<Flaw>,
}

impl Flaws {
    pub(crate) fn new(list: Vec<Flaw>) -> Flaws {
        Flaws { list }
    }

    /// Whether this exact (field-less) flaw is on.
    pub(crate) fn has(&self, flaw: &Flaw) -> bool {
        self.list.contains(flaw)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn status(&self) -> Option<u16> {
        self.list.iter().find_map(|f| match f {
            Flaw::Status(code) => Some(*code),
            _ => None,
        })
    }

    pub(crate) fn slow_ack(&self) -> Option<Duration> {
        self.list.iter().find_map(|f| match f {
            Flaw::SlowAck(delay) => Some(*delay),
            _ => None,
        })
    }

    pub(crate) fn max_concurrent(&self) -> Option<usize> {
        self.list.iter().find_map(|f| match f {
            Flaw::MaxConcurrent(n) => Some(*n),
            _ => None,
        })
    }

    pub(crate) fn body_limit(&self) -> Option<usize> {
        self.list
            .iter()
            .filter_map(|f| match f {
                Flaw::BodyLimit(n) => Some(*n),
                _ => None,
            })
            .min()
    }

    pub(crate) fn fail_first(&self) -> Option<usize> {
        self.list.iter().find_map(|f| match f {
            Flaw::FailFirst(n) => Some(*n),
            _ => None,
        })
    }

    pub(crate) fn token_concurrency_limit(&self) -> Option<usize> {
        self.list.iter().find_map(|f| match f {
            Flaw::TokenConcurrencyLimit(n) => Some(*n),
            _ => None,
        })
    }

    pub(crate) fn rejects_operation(&self, operation: &str) -> bool {
        self.list.iter().any(|f| match f {
            Flaw::RejectOperations(ops) => ops.iter().any(|op| op == operation),
            _ => false,
        })
    }

    /// Whether any flaw needs the envelope parsed before answering.
    pub(crate) fn inspects_envelope(&self) -> bool {
        self.list.iter().any(|f| {
            matches!(
                f,
                Flaw::RejectOperations(_)
                    | Flaw::RejectUnknownOperations
                    | Flaw::StrictFields
                    | Flaw::RejectOutOfOrder
                    | Flaw::SingleOrganization
            )
        })
    }
}
