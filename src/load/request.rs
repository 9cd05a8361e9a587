//! Building each load request: the body comes from a few templates per event kind
//! serialized once; per request only the webhook id, the timestamp, the HMAC
//! signature and the B3 ids are fresh, and the whole request is written as HTTP/1.1
//! bytes into a buffer the worker reuses.

use std::sync::Arc;

use hyper::Uri;
use hyper::header::{HOST, HeaderName, HeaderValue, USER_AGENT};
use rand::{Rng, RngCore};

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
        RequestPlan {
            format,
            templates,
            redeliver_ratio: 0.0,
            head,
            custom,
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
    timestamp: (i64, String),
    sent: Vec<([u8; 16], u32)>,
    next_slot: usize,
}

const USER_AGENT_VALUE: &str = concat!("spotcheck/", env!("CARGO_PKG_VERSION"), " (load)");

impl RequestMaker {
    /// A maker drawing ids and bodies from `rng`.
    pub fn new(plan: Arc<RequestPlan>, rng: SeededRng) -> RequestMaker {
        RequestMaker {
            plan,
            rng,
            timestamp: (i64::MIN, String::new()),
            sent: Vec::new(),
            next_slot: 0,
        }
    }

    /// Writes a freshly signed HTTP/1.1 request into `out` (cleared first): new
    /// webhook id, the current timestamp, the HMAC of `{id}.{timestamp}.{body}`
    /// (signed into a stack buffer by [`SigningKey::token_into`]), new B3 trace and
    /// span ids, all in the one delivery header order of
    /// [`crate::wire::for_each_delivery_header`], then the body.
    ///
    /// With a redelivery ratio, that share of requests is instead a redelivery, as
    /// Spotnana retries: the webhook id and body of one of the worker's
    /// [`REDELIVERY_MEMORY`] latest first deliveries, with a new timestamp, signature
    /// and B3 ids. Returns whether it was one.
    pub fn write_request(&mut self, out: &mut Vec<u8>) -> bool {
        let plan = &*self.plan;
        let redelivery = plan.redeliver_ratio > 0.0
            && !self.sent.is_empty()
            && self.rng.random_bool(plan.redeliver_ratio.min(1.0));
        let (id_bytes, body_index) = if redelivery {
            self.sent[self.rng.random_range(0..self.sent.len())]
        } else {
            // The body first, then the id: the draws of runs without redelivery.
            let body_index = plan.templates.pick(&mut self.rng);
            let fresh = (self.rng.random::<[u8; 16]>(), body_index);
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
        let body = &plan.templates.bodies[body_index as usize][..];

        let mut id_buf = uuid::Uuid::encode_buffer();
        let id = uuid::Builder::from_random_bytes(id_bytes)
            .into_uuid()
            .hyphenated()
            .encode_lower(&mut id_buf);

        let now = crate::signing::unix_now();
        if self.timestamp.0 != now {
            self.timestamp = (now, now.to_string());
        }

        let mut token = [0u8; MAX_TOKEN_LEN];
        let signature = plan
            .key
            .token_into(id, &self.timestamp.1, body, plan.format, &mut token);

        let mut trace = [0u8; 32];
        hex_into(&self.rng.random::<u128>().to_be_bytes(), &mut trace);
        let mut span = [0u8; 16];
        hex_into(&self.rng.next_u64().to_be_bytes(), &mut span);

        out.clear();
        out.reserve(plan.head.len() + 256 + body.len());
        out.extend_from_slice(&plan.head);
        let signed = [
            (HEADER_ID, id.as_bytes()),
            (HEADER_TIMESTAMP, self.timestamp.1.as_bytes()),
            (HEADER_SIGNATURE, signature),
        ];
        let custom = plan
            .custom
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        for_each_delivery_header(signed, &trace, &span, custom, |name, value| {
            field(out, name.as_bytes(), value)
        });
        let mut length = itoa::Buffer::new();
        field(out, b"content-length", length.format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
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

fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
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
}
