//! Building each load request: the body comes from a few templates per event kind
//! serialized once; per request only the webhook id, the timestamp, the HMAC
//! signature and the B3 ids are fresh, and the whole request is written as HTTP/1.1
//! bytes into a buffer the worker reuses.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::Uri;
use hyper::header::{HOST, HeaderName, HeaderValue, USER_AGENT};
use rand::{Rng, RngCore};
use tokio::time::Instant;

use super::profile::{Profile, Spread};
use crate::event::{self, EnvelopeStyle, EventSpec, SeededRng, random};
use crate::signing::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_TOKEN_LEN, Secret, SignatureFormat,
    SigningKey,
};
use crate::wire::for_each_delivery_header;

pub use super::mix::{VARIANTS_PER_KIND, WeightedKind};

/// The pre-serialized bodies and a weighted table to draw from.
#[derive(Debug)]
pub struct Templates {
    bodies: Vec<Vec<u8>>,
    /// Indices into `bodies`, repeated by weight: a uniform draw gives the mix.
    table: Vec<u32>,
}

impl Templates {
    /// Builds [`VARIANTS_PER_KIND`] realistic events per kind from the seeded fixtures,
    /// for one organization.
    pub fn build(mix: &[WeightedKind], style: EnvelopeStyle, seed: u64) -> Templates {
        Templates::build_spread(mix, style, seed, Profile::Uniform.spread())
    }

    /// Builds `spread.variants` realistic events per kind from the seeded fixtures,
    /// spread over `spread.organizations` organizations (round robin); with
    /// `shared_pnrs`, body `i` of every kind is about the same PNR.
    pub fn build_spread(
        mix: &[WeightedKind],
        style: EnvelopeStyle,
        seed: u64,
        spread: Spread,
    ) -> Templates {
        let mut rng = random::rng_for(seed, "load-templates");
        let organizations: Vec<String> = (0..spread.organizations.max(1))
            .map(|_| random::uuid(&mut rng))
            .collect();
        let pnrs: Vec<String> = if spread.shared_pnrs {
            (0..spread.variants)
                .map(|_| random::pnr_id(&mut rng))
                .collect()
        } else {
            Vec::new()
        };
        let mut bodies = Vec::new();
        let mut table = Vec::new();
        for item in mix {
            for variant in 0..spread.variants.max(1) {
                let value = event::build_event(
                    &EventSpec {
                        kind: item.kind,
                        organization_id: &organizations[variant % organizations.len()],
                        message_time: time::OffsetDateTime::now_utc(),
                        style,
                        pnr_id: pnrs.get(variant).map(String::as_str),
                    },
                    &mut rng,
                );
                let index = bodies.len() as u32;
                bodies.push(serde_json::to_vec(&value).unwrap_or_default());
                table.extend(std::iter::repeat_n(index, item.weight.max(1) as usize));
            }
        }
        Templates { bodies, table }
    }

    /// The number of distinct bodies.
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    /// Whether there are no bodies.
    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// Mean body size in bytes, weighted by the mix.
    pub fn mean_body_bytes(&self) -> usize {
        if self.table.is_empty() {
            return 0;
        }
        let total: usize = self
            .table
            .iter()
            .map(|i| self.bodies[*i as usize].len())
            .sum();
        total / self.table.len()
    }

    fn pick(&self, rng: &mut impl Rng) -> u32 {
        self.table[rng.random_range(0..self.table.len())]
    }
}

/// Everything a worker needs to make requests, shared read-only.
#[derive(Debug)]
pub struct RequestPlan {
    /// Signature token form.
    pub format: SignatureFormat,
    /// Bodies to draw from.
    pub templates: Templates,
    /// Share of requests sent again with an earlier request's webhook id and body
    /// (0 to 1; `--redeliver-ratio`).
    pub redeliver_ratio: f64,
    /// The request line and the transport fields (`Host`, `User-Agent`), the same on
    /// every request.
    head: Vec<u8>,
    /// The subscription's custom headers, sent after the B3 ids as on every delivery.
    custom: Vec<(HeaderName, HeaderValue)>,
    /// Per body: its `content-length` field and the empty line that ends the head.
    lengths: Vec<Box<[u8]>>,
    key: SigningKey,
}

impl RequestPlan {
    /// A plan posting to `path` at `host`, signing with `secret` and adding the
    /// subscription's `custom` headers to every request.
    pub fn new(
        path: Uri,
        host: HeaderValue,
        secret: &Secret,
        format: SignatureFormat,
        templates: Templates,
        custom: Vec<(HeaderName, HeaderValue)>,
    ) -> RequestPlan {
        let target = path.path_and_query().map_or("/", |p| p.as_str());
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(b"POST ");
        head.extend_from_slice(target.as_bytes());
        head.extend_from_slice(b" HTTP/1.1\r\n");
        field(&mut head, HOST.as_str().as_bytes(), host.as_bytes());
        field(
            &mut head,
            USER_AGENT.as_str().as_bytes(),
            USER_AGENT_VALUE.as_bytes(),
        );
        let lengths = templates
            .bodies
            .iter()
            .map(|body| {
                let mut line = Vec::with_capacity(40);
                let mut length = itoa::Buffer::new();
                field(
                    &mut line,
                    b"content-length",
                    length.format(body.len()).as_bytes(),
                );
                line.extend_from_slice(b"\r\n");
                line.into_boxed_slice()
            })
            .collect();
        RequestPlan {
            format,
            templates,
            redeliver_ratio: 0.0,
            head,
            custom,
            lengths,
            key: SigningKey::new(secret),
        }
    }
}

/// How many of its latest first deliveries a worker remembers to redeliver.
pub const REDELIVERY_MEMORY: usize = 64;

/// One worker's request maker: its own random stream, the current timestamp and,
/// with a redelivery ratio, its latest first deliveries (webhook id and body).
#[derive(Debug)]
pub struct RequestMaker {
    plan: Arc<RequestPlan>,
    rng: SeededRng,
    /// The second written in `head`'s timestamp field.
    timestamp: i64,
    /// When that second ends, on the monotonic clock.
    second_ends: Option<Instant>,
    sent: Vec<([u8; 16], u32)>,
    next_slot: usize,
    /// The head of the latest request: every field but the fresh ones is written once,
    /// and each request overwrites the fresh ones in place (see [`Slots`]).
    head: Vec<u8>,
    slots: Slots,
    /// The body of the latest request.
    body: u32,
}

/// Where the fresh values sit in a maker's head, all of fixed width: the webhook id
/// (36), the timestamp (its digits; the head is laid out again in the rare second
/// when their count changes), the signature's Base64 (44, after `v1,` in that
/// format), the B3 trace (32) and span (16) ids; `end` is where `content-length`
/// begins.
#[derive(Debug, Default, Clone, Copy)]
struct Slots {
    id: usize,
    timestamp: usize,
    timestamp_len: usize,
    signature: usize,
    trace: usize,
    span: usize,
    end: usize,
}

const USER_AGENT_VALUE: &str = concat!("spotcheck/", env!("CARGO_PKG_VERSION"), " (load)");

impl RequestMaker {
    /// A maker drawing ids and bodies from `rng`.
    pub fn new(plan: Arc<RequestPlan>, rng: SeededRng) -> RequestMaker {
        RequestMaker {
            plan,
            rng,
            timestamp: i64::MIN,
            second_ends: None,
            sent: Vec::new(),
            next_slot: 0,
            head: Vec::new(),
            slots: Slots::default(),
            body: 0,
        }
    }

    /// Lays the head out for timestamps of `timestamp_len` digits: the request line,
    /// `Host`, `User-Agent`, then the delivery headers in the one order of
    /// [`crate::wire::for_each_delivery_header`] with placeholders where the fresh
    /// values go, and records where those are.
    fn lay_out(&mut self, timestamp_len: usize) {
        let plan = &*self.plan;
        let id = [b'0'; 36];
        let timestamp = [b'0'; 20];
        let timestamp = &timestamp[..timestamp_len.min(20)];
        let mut signature = [b'0'; MAX_TOKEN_LEN];
        let prefix = match plan.format {
            SignatureFormat::V1 => {
                signature[..3].copy_from_slice(b"v1,");
                3
            }
            SignatureFormat::Bare => 0,
        };
        let signature = &signature[..prefix + BASE64_LEN];
        let trace = [b'0'; 32];
        let span = [b'0'; 16];
        let head = &mut self.head;
        head.clear();
        head.extend_from_slice(&plan.head);
        let mut slots = Slots {
            timestamp_len: timestamp.len(),
            ..Slots::default()
        };
        let signed = [
            (HEADER_ID, &id[..]),
            (HEADER_TIMESTAMP, timestamp),
            (HEADER_SIGNATURE, signature),
        ];
        let custom = plan
            .custom
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        for_each_delivery_header(signed, &trace, &span, custom, |name, value| {
            let at = head.len() + name.len() + 2;
            // The placeholders are told apart by where they live, not by name.
            let here = value.as_ptr();
            if here == id.as_ptr() {
                slots.id = at;
            } else if here == timestamp.as_ptr() {
                slots.timestamp = at;
            } else if here == signature.as_ptr() {
                slots.signature = at + prefix;
            } else if here == trace.as_ptr() {
                slots.trace = at;
            } else if here == span.as_ptr() {
                slots.span = at;
            }
            field(head, name.as_bytes(), value);
        });
        slots.end = head.len();
        self.slots = slots;
        // Written again below, in the new layout.
        self.timestamp = i64::MIN;
    }

    /// Makes the next request, freshly signed, and returns whether it is a
    /// redelivery; its bytes are then [`RequestMaker::head`] followed by
    /// [`RequestMaker::body`] (sent as one write).
    ///
    /// A new webhook id, the current timestamp, the HMAC of `{id}.{timestamp}.{body}`,
    /// new B3 trace and span ids, all in the one delivery header order of
    /// [`crate::wire::for_each_delivery_header`]. Only those values are written per
    /// request, in place in the head the maker keeps; the body is the template's,
    /// never copied.
    ///
    /// With a redelivery ratio, that share of requests is instead a redelivery, as
    /// Spotnana retries: the webhook id and body of one of the worker's
    /// [`REDELIVERY_MEMORY`] latest first deliveries, with a new timestamp, signature
    /// and B3 ids.
    ///
    /// `clock` is a recent reading of the monotonic clock: the Unix time is read only
    /// when it reaches the end of the second last read, so requests in between share
    /// one reading (the timestamp has whole seconds).
    pub fn prepare(&mut self, clock: Instant) -> bool {
        let now = match self.second_ends {
            Some(ends) if clock < ends => self.timestamp,
            _ => {
                let since_epoch = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let rest = Duration::from_secs(1)
                    - Duration::from_nanos(since_epoch.subsec_nanos().into());
                // From `clock`, which is not later than this reading: never late.
                self.second_ends = Some(clock + rest);
                i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
            }
        };
        self.prepare_at(now)
    }

    /// The head of the request [`RequestMaker::prepare`] made.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The body of the request [`RequestMaker::prepare`] made.
    pub fn body(&self) -> &[u8] {
        &self.plan.templates.bodies[self.body as usize]
    }

    /// [`RequestMaker::prepare`] at Unix time `now`.
    fn prepare_at(&mut self, now: i64) -> bool {
        if self.timestamp != now {
            let mut digits = itoa::Buffer::new();
            let digits = digits.format(now).as_bytes();
            if self.head.is_empty() || digits.len() != self.slots.timestamp_len {
                self.lay_out(digits.len());
            }
            let at = self.slots.timestamp;
            self.head[at..at + digits.len()].copy_from_slice(digits);
            self.timestamp = now;
        }
        let plan = &*self.plan;
        let redelivery = plan.redeliver_ratio > 0.0
            && !self.sent.is_empty()
            && self.rng.random_bool(plan.redeliver_ratio.min(1.0));
        let (id_bytes, body_index) = if redelivery {
            self.sent[self.rng.random_range(0..self.sent.len())]
        } else {
            // The body first, then the id: the draws of runs without redelivery.
            let body_index = plan.templates.pick(&mut self.rng);
            // One 128-bit draw (16 byte draws would cost 16 words of the stream).
            let fresh = (self.rng.random::<u128>().to_le_bytes(), body_index);
            if plan.redeliver_ratio > 0.0 {
                if self.sent.len() < REDELIVERY_MEMORY {
                    self.sent.push(fresh);
                } else {
                    self.sent[self.next_slot] = fresh;
                    self.next_slot = (self.next_slot + 1) % REDELIVERY_MEMORY;
                }
            }
            fresh
        };
        let trace = self.rng.random::<u128>().to_be_bytes();
        let span = self.rng.next_u64().to_be_bytes();

        let slots = self.slots;
        let head = &mut self.head[..];

        uuid_v4_into(id_bytes, &mut head[slots.id..slots.id + 36]);
        let body = &plan.templates.bodies[body_index as usize][..];
        let signature = plan.key.sign(
            &head[slots.id..slots.id + 36],
            &head[slots.timestamp..slots.timestamp + slots.timestamp_len],
            body,
        );
        base64_32(
            &signature.0,
            &mut head[slots.signature..slots.signature + BASE64_LEN],
        );
        hex_into(&trace, &mut head[slots.trace..slots.trace + 32]);
        hex_into(&span, &mut head[slots.span..slots.span + 16]);

        self.head.truncate(slots.end);
        self.head
            .extend_from_slice(&plan.lengths[body_index as usize]);
        self.body = body_index;
        redelivery
    }

    /// Makes the next request as [`RequestMaker::prepare`] does and writes all of it
    /// (head and body) into `out`, cleared first. Returns whether it is a redelivery.
    pub fn write_request(&mut self, out: &mut Vec<u8>) -> bool {
        let redelivery = self.prepare(Instant::now());
        out.clear();
        out.extend_from_slice(self.head());
        out.extend_from_slice(self.body());
        redelivery
    }
}

/// Appends the header line `name: value`.
fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The length of 32 bytes in padded Base64.
const BASE64_LEN: usize = 44;

/// Writes the standard padded Base64 of a 32-byte digest into `out` (44 bytes): the
/// same characters as `base64::engine::general_purpose::STANDARD`, without its
/// general-purpose bookkeeping.
fn base64_32(digest: &[u8; 32], out: &mut [u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let out = &mut out[..BASE64_LEN];
    for (group, chars) in digest.chunks(3).zip(out.chunks_exact_mut(4)) {
        let b0 = group[0];
        let b1 = group.get(1).copied().unwrap_or(0);
        let b2 = group.get(2).copied().unwrap_or(0);
        let bits = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        chars[0] = ALPHABET[(bits >> 18) as usize & 63];
        chars[1] = ALPHABET[(bits >> 12) as usize & 63];
        chars[2] = ALPHABET[(bits >> 6) as usize & 63];
        chars[3] = ALPHABET[bits as usize & 63];
    }
    // 32 = 10 × 3 + 2: the last group has two bytes, so one `=`.
    out[BASE64_LEN - 1] = b'=';
}

/// Writes the random (version 4) UUID of `bytes` in its hyphenated lower-case form
/// into `out` (36 bytes): what `uuid::Builder::from_random_bytes` and
/// `encode_lower` write, straight into the head.
fn uuid_v4_into(mut bytes: [u8; 16], out: &mut [u8]) {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    hex_into(&bytes[..4], &mut out[..8]);
    out[8] = b'-';
    hex_into(&bytes[4..6], &mut out[9..13]);
    out[13] = b'-';
    hex_into(&bytes[6..8], &mut out[14..18]);
    out[18] = b'-';
    hex_into(&bytes[8..10], &mut out[19..23]);
    out[23] = b'-';
    hex_into(&bytes[10..], &mut out[24..36]);
}

/// The two lower-case hex digits of every byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        pairs[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
        i += 1;
    }
    pairs
};

/// Writes `bytes` in lower-case hex into `out` (twice as long).
fn hex_into(bytes: &[u8], out: &mut [u8]) {
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(*byte)]);
    }
}

#[cfg(test)]
mod tests {
    use crate::event::EventKind;
    use crate::load::request::*;
    use crate::signing::Verifier;
    use crate::wire::{HEADER_CONTENT_TYPE, HEADER_SPAN_ID, HEADER_TRACE_ID};

    /// Parses one request the maker wrote, as a server would.
    fn parse(bytes: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        let httparse::Status::Complete(head) = request.parse(bytes).unwrap() else {
            panic!("incomplete request head");
        };
        assert_eq!(request.method, Some("POST"));
        assert_eq!(request.version, Some(1));
        let target = request.path.unwrap().to_owned();
        let fields: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    std::str::from_utf8(h.value).unwrap().to_owned(),
                )
            })
            .collect();
        (target, fields, bytes[head..].to_vec())
    }

    #[test]
    fn every_request_is_freshly_signed_and_verifies() {
        let secret = Secret::from_key(b"load-secret".to_vec());
        let kind: EventKind = "PNR_V3/BOOKING_TICKETED".parse().unwrap();
        let templates = Templates::build(
            &[WeightedKind { kind, weight: 1 }],
            EnvelopeStyle::EventType,
            7,
        );
        assert_eq!(templates.len(), VARIANTS_PER_KIND);
        let plan = Arc::new(RequestPlan::new(
            Uri::from_static("/webhooks?tenant=a"),
            HeaderValue::from_static("127.0.0.1:1"),
            &secret,
            SignatureFormat::V1,
            templates,
            vec![(
                HeaderName::from_static("x-partner-key"),
                HeaderValue::from_static("k1"),
            )],
        ));
        let mut maker = RequestMaker::new(plan, random::rng(1));
        let verifier = Verifier::new(vec![secret]);
        let mut ids = std::collections::HashSet::new();
        let mut wire = Vec::new();
        for _ in 0..20 {
            maker.write_request(&mut wire);
            let (target, fields, body) = parse(&wire);
            assert_eq!(target, "/webhooks?tenant=a");
            let h = |name: &str| {
                let mut values = fields.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
                let (_, value) = values.next().unwrap_or_else(|| panic!("no {name}"));
                assert!(values.next().is_none(), "{name} sent twice");
                value.clone()
            };
            assert_eq!(h("host"), "127.0.0.1:1");
            assert_eq!(h("content-type"), "application/json");
            assert_eq!(h("x-partner-key"), "k1");
            assert_eq!(h("content-length"), body.len().to_string());
            assert!(h(HEADER_SIGNATURE).starts_with("v1,"));
            assert_eq!(h("x-b3-traceid").len(), 32);
            assert_eq!(h("x-b3-spanid").len(), 16);
            assert!(ids.insert(h(HEADER_ID)), "webhook ids repeat");
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(value["operation"], "BOOKING_TICKETED");
            verifier
                .verify(
                    Some(&h(HEADER_ID)),
                    Some(&h(HEADER_TIMESTAMP)),
                    Some(&h(HEADER_SIGNATURE)),
                    &body,
                    crate::signing::unix_now(),
                )
                .unwrap();
        }
    }

    #[test]
    fn headers_go_in_the_one_delivery_order() {
        let secret = Secret::from_key(b"k".to_vec());
        let kind: EventKind = "PNR_V3/BOOKING_TICKETED".parse().unwrap();
        let templates = Templates::build(
            &[WeightedKind { kind, weight: 1 }],
            EnvelopeStyle::EventType,
            1,
        );
        let plan = Arc::new(RequestPlan::new(
            Uri::from_static("/"),
            HeaderValue::from_static("127.0.0.1:1"),
            &secret,
            SignatureFormat::V1,
            templates,
            vec![(
                HeaderName::from_static("api-version"),
                HeaderValue::from_static("2.0"),
            )],
        ));
        let mut wire = Vec::new();
        RequestMaker::new(plan, random::rng(1)).write_request(&mut wire);
        let (_, fields, _) = parse(&wire);
        let sent: Vec<String> = fields.into_iter().map(|(name, _)| name).collect();
        let delivery = crate::delivery::request::delivery_headers(
            Some(&crate::signing::SignedHeaders::new(
                &[&secret],
                "id",
                1,
                b"{}",
                SignatureFormat::V1,
            )),
            "t",
            "s",
            &[("api-version".to_owned(), "2.0".to_owned())],
        );
        let mut expected = vec!["host".to_owned(), "user-agent".to_owned()];
        expected.extend(delivery.into_iter().map(|(name, _)| name));
        expected.push("content-length".to_owned());
        assert_eq!(sent, expected);
        assert_eq!(sent[2], HEADER_CONTENT_TYPE);
        assert_eq!(sent[6..8], [HEADER_TRACE_ID, HEADER_SPAN_ID]);
    }
    proptest::proptest! {
        /// The webhook id is the uuid crate's random UUID of the same bytes.
        #[test]
        fn webhook_ids_are_random_uuids(bytes in proptest::prelude::any::<[u8; 16]>()) {
            let mut out = [0u8; 36];
            uuid_v4_into(bytes, &mut out);
            let expected = uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string();
            proptest::prop_assert_eq!(std::str::from_utf8(&out).unwrap(), expected);
        }

        /// The digest's Base64 is the base64 crate's standard padded encoding.
        #[test]
        fn base64_of_a_digest_is_the_standard_encoding(digest in proptest::prelude::any::<[u8; 32]>()) {
            use base64::Engine as _;
            let mut out = [0u8; BASE64_LEN];
            base64_32(&digest, &mut out);
            let expected = base64::engine::general_purpose::STANDARD.encode(digest);
            proptest::prop_assert_eq!(std::str::from_utf8(&out).unwrap(), expected);
        }
    }

    #[test]
    fn a_timestamp_with_more_digits_lays_the_head_out_again() {
        let secret = Secret::from_key(b"k".to_vec());
        let kind: EventKind = "PNR_V3/BOOKING_TICKETED".parse().unwrap();
        let templates = Templates::build(
            &[WeightedKind { kind, weight: 1 }],
            EnvelopeStyle::EventType,
            3,
        );
        for format in [SignatureFormat::V1, SignatureFormat::Bare] {
            let plan = Arc::new(RequestPlan::new(
                Uri::from_static("/"),
                HeaderValue::from_static("127.0.0.1:1"),
                &secret,
                format,
                Templates::build(
                    &[WeightedKind { kind, weight: 1 }],
                    EnvelopeStyle::EventType,
                    3,
                ),
                vec![(
                    HeaderName::from_static("x-after"),
                    HeaderValue::from_static("tail"),
                )],
            ));
            let mut maker = RequestMaker::new(plan, random::rng(2));
            let verifier = Verifier::new(vec![secret.clone()]);
            // Each second in turn, and back: the head is rewritten in place each time.
            for now in [
                999_999_999,
                999_999_999,
                1_000_000_000,
                99_999_999_999,
                1_000_000_001,
            ] {
                maker.prepare_at(now);
                let mut wire = maker.head().to_vec();
                wire.extend_from_slice(maker.body());
                let (_, fields, body) = parse(&wire);
                let h = |name: &str| {
                    fields
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.clone())
                        .unwrap()
                };
                assert_eq!(h(HEADER_TIMESTAMP), now.to_string());
                assert_eq!(h("x-after"), "tail");
                assert_eq!(h("content-length"), body.len().to_string());
                let token = h(HEADER_SIGNATURE);
                assert_eq!(token.starts_with("v1,"), format == SignatureFormat::V1);
                let expected = secret
                    .sign(&h(HEADER_ID), &now.to_string(), &body)
                    .token(format);
                assert_eq!(token, expected);
                if format == SignatureFormat::V1 {
                    verifier
                        .verify(
                            Some(&h(HEADER_ID)),
                            Some(&h(HEADER_TIMESTAMP)),
                            Some(&token),
                            &body,
                            now,
                        )
                        .unwrap();
                }
            }
        }
        assert!(!templates.is_empty());
    }
}
