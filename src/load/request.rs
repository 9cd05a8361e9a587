//! Building each load request: the body comes from a few templates per event kind
//! serialized once; per request only the webhook id, the timestamp, the HMAC
//! signature and the B3 ids are fresh.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};
use rand::{Rng, RngCore};
use sha2::Sha256;

use crate::event::{self, EnvelopeStyle, EventKind, EventSpec, SeededRng, random};
use crate::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, SignatureFormat};

/// How many different bodies are pre-built for each event kind of the mix.
pub const VARIANTS_PER_KIND: usize = 4;

/// An event kind of the mix and its relative weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightedKind {
    /// The event kind.
    pub kind: EventKind,
    /// Relative weight (at least 1).
    pub weight: u32,
}

/// The pre-serialized bodies and a weighted table to draw from.
#[derive(Debug)]
pub struct Templates {
    bodies: Vec<Bytes>,
    /// Indices into `bodies`, repeated by weight: a uniform draw gives the mix.
    table: Vec<u32>,
}

impl Templates {
    /// Builds [`VARIANTS_PER_KIND`] realistic events per kind from the seeded fixtures.
    pub fn build(mix: &[WeightedKind], style: EnvelopeStyle, seed: u64) -> Templates {
        let mut rng = random::rng_for(seed, "load-templates");
        let org_id = random::uuid(&mut rng);
        let mut bodies = Vec::new();
        let mut table = Vec::new();
        for item in mix {
            for _ in 0..VARIANTS_PER_KIND {
                let value = event::build_event(
                    &EventSpec {
                        kind: item.kind,
                        organization_id: &org_id,
                        message_time: time::OffsetDateTime::now_utc(),
                        style,
                        pnr_id: None,
                    },
                    &mut rng,
                );
                let index = bodies.len() as u32;
                bodies.push(Bytes::from(serde_json::to_vec(&value).unwrap_or_default()));
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

    fn pick(&self, rng: &mut impl Rng) -> Bytes {
        let index = self.table[rng.random_range(0..self.table.len())];
        self.bodies[index as usize].clone()
    }
}

/// Everything a worker needs to make requests, shared read-only.
#[derive(Debug)]
pub struct RequestPlan {
    /// Request target (origin form: path and query).
    pub path: Uri,
    /// The `Host` header.
    pub host: HeaderValue,
    /// Signature token form.
    pub format: SignatureFormat,
    /// Bodies to draw from.
    pub templates: Templates,
    /// Subscription custom headers.
    pub custom: Vec<(HeaderName, HeaderValue)>,
    mac: Hmac<Sha256>,
}

impl RequestPlan {
    /// A plan signing with `secret`.
    pub fn new(
        path: Uri,
        host: HeaderValue,
        secret: &Secret,
        format: SignatureFormat,
        templates: Templates,
        custom: Vec<(HeaderName, HeaderValue)>,
    ) -> RequestPlan {
        let mac = Hmac::<Sha256>::new_from_slice(secret.expose_key())
            .expect("HMAC accepts keys of any length");
        RequestPlan {
            path,
            host,
            format,
            templates,
            custom,
            mac,
        }
    }
}

/// One worker's request maker: its own random stream and reused buffers.
#[derive(Debug)]
pub struct RequestMaker {
    plan: Arc<RequestPlan>,
    rng: SeededRng,
    timestamp: (i64, HeaderValue),
}

// Parsed once at compile time rather than on every insert.
const NAME_ID: HeaderName = HeaderName::from_static(HEADER_ID);
const NAME_TIMESTAMP: HeaderName = HeaderName::from_static(HEADER_TIMESTAMP);
const NAME_SIGNATURE: HeaderName = HeaderName::from_static(HEADER_SIGNATURE);
const NAME_TRACE_ID: HeaderName = HeaderName::from_static("x-b3-traceid");
const NAME_SPAN_ID: HeaderName = HeaderName::from_static("x-b3-spanid");

const USER_AGENT_VALUE: &str = concat!("spotcheck/", env!("CARGO_PKG_VERSION"), " (load)");

impl RequestMaker {
    /// A maker drawing ids and bodies from `rng`.
    pub fn new(plan: Arc<RequestPlan>, rng: SeededRng) -> RequestMaker {
        RequestMaker {
            plan,
            rng,
            timestamp: (i64::MIN, HeaderValue::from_static("0")),
        }
    }

    /// A freshly signed request: new webhook id, the current timestamp, the HMAC of
    /// `{id}.{timestamp}.{body}`, new B3 trace and span ids.
    pub fn make(&mut self) -> Request<Full<Bytes>> {
        let plan = &*self.plan;
        let body = plan.templates.pick(&mut self.rng);

        let mut id_buf = uuid::Uuid::encode_buffer();
        let id_bytes: [u8; 16] = self.rng.random();
        let id = uuid::Builder::from_random_bytes(id_bytes)
            .into_uuid()
            .hyphenated()
            .encode_lower(&mut id_buf);

        let now = crate::signing::unix_now();
        if self.timestamp.0 != now {
            self.timestamp = (now, HeaderValue::from(now));
        }
        let timestamp = self.timestamp.1.as_bytes();

        let mut mac = plan.mac.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp);
        mac.update(b".");
        mac.update(&body);
        let digest = mac.finalize().into_bytes();
        let mut sig_buf = [0u8; 3 + 44];
        let prefix = match plan.format {
            SignatureFormat::V1 => {
                sig_buf[..3].copy_from_slice(b"v1,");
                3
            }
            SignatureFormat::Bare => 0,
        };
        let written = STANDARD
            .encode_slice(digest, &mut sig_buf[prefix..])
            .unwrap_or(0);
        let signature = &sig_buf[..prefix + written];

        let mut trace = [0u8; 32];
        hex_into(&self.rng.random::<u128>().to_be_bytes(), &mut trace);
        let mut span = [0u8; 16];
        hex_into(&self.rng.next_u64().to_be_bytes(), &mut span);

        debug_assert!(
            NAME_TRACE_ID
                .as_str()
                .eq_ignore_ascii_case(crate::delivery::request::HEADER_TRACE_ID)
        );
        debug_assert!(
            NAME_SPAN_ID
                .as_str()
                .eq_ignore_ascii_case(crate::delivery::request::HEADER_SPAN_ID)
        );
        let mut headers = HeaderMap::with_capacity(8 + plan.custom.len());
        headers.insert(HOST, plan.host.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(NAME_ID, header_value(id.as_bytes()));
        headers.insert(NAME_TIMESTAMP, self.timestamp.1.clone());
        headers.insert(NAME_SIGNATURE, header_value(signature));
        headers.insert(NAME_TRACE_ID, header_value(&trace));
        headers.insert(NAME_SPAN_ID, header_value(&span));
        for (name, value) in &plan.custom {
            headers.append(name.clone(), value.clone());
        }
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = plan.path.clone();
        *request.headers_mut() = headers;
        request
    }
}

fn header_value(bytes: &[u8]) -> HeaderValue {
    // Ids, hex and Base64 are always valid header bytes.
    HeaderValue::from_bytes(bytes).unwrap_or_else(|_| HeaderValue::from_static(""))
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
    use super::*;
    use crate::signing::Verifier;

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
            Uri::from_static("/webhooks"),
            HeaderValue::from_static("127.0.0.1:1"),
            &secret,
            SignatureFormat::V1,
            templates,
            vec![],
        ));
        let mut maker = RequestMaker::new(plan, random::rng(1));
        let verifier = Verifier::new(vec![secret]);
        let mut ids = std::collections::HashSet::new();
        for _ in 0..20 {
            let (parts, body) = maker.make().into_parts();
            let h = |name: &str| parts.headers[name].to_str().unwrap().to_owned();
            assert!(h(HEADER_SIGNATURE).starts_with("v1,"));
            assert_eq!(h("x-b3-traceid").len(), 32);
            assert_eq!(h("x-b3-spanid").len(), 16);
            assert!(ids.insert(h(HEADER_ID)), "webhook ids repeat");
            let body = futures::executor::block_on(http_body_util::BodyExt::collect(body))
                .unwrap()
                .to_bytes();
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
}
