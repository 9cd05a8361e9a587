//! Re-serializers named: when an endpoint refuses correctly signed deliveries and no
//! signing mistake explains it, or refuses some body styles, the same event is sent as
//! each common JSON library writes it ([`SERIALIZERS`]), signed over exactly those
//! bytes. An endpoint that verifies over the JSON it parsed and wrote back accepts
//! only the bytes its own library writes, so the one accepted names the library.
//!
//! Each probe's event carries, inside its payload and in fields Spotnana's published
//! schemas define ([`probe_event`]: the first traveler's preferred name, one points
//! payment on the first amount), values no two libraries write alike: without them
//! every compact library writes an event with short decimals alike, and an endpoint
//! would accept several probes. The envelope stays as documented, so a receiver that
//! refuses unknown envelope fields is diagnosed like any other. One more probe sends
//! the refused bytes with ASCII-only text, which tells an endpoint that re-encodes
//! the text (and keeps the JSON as it is) apart from one that re-serializes.

use bytes::Bytes;
use serde_json::Value;

use super::probes::STACKS;
use super::probing;
use crate::check::{Diagnosis, ProbeRecord, StackFix};
use crate::event::random::{self, SeededRng};
use crate::runner::context::RunContext;
use crate::signing::reserialize::{SERIALIZERS, Serializer, ascii_only, probe_event};
use crate::signing::{SignedHeaders, unix_now};

/// The id of the probe with ASCII-only text.
pub const ASCII_TEXT: &str = "ascii-text";

/// How to verify over the raw body, per stack, in the order of [`STACKS`].
const RAW_BODY_LINES: [&str; 7] = [
    "app.post('/webhooks', express.raw({ type: 'application/json' }), (req, res) => { const rawBody = req.body; /* a Buffer: verify it, then JSON.parse(rawBody) */ });",
    "raw_body = request.get_data()  # Flask; Django: request.body. Verify it, then json.loads(raw_body)",
    "public ResponseEntity<Void> webhook(@RequestBody byte[] rawBody, @RequestHeader HttpHeaders headers) { /* verify rawBody, then objectMapper.readValue(rawBody, Event.class) */ }",
    "Request.EnableBuffering(); using var ms = new MemoryStream(); await Request.Body.CopyToAsync(ms); var rawBody = ms.ToArray(); // verify, then JsonSerializer.Deserialize",
    "rawBody, err := io.ReadAll(r.Body) // verify rawBody, then json.Unmarshal(rawBody, &event)",
    "raw_body = request.raw_post # Rack: request.body.read. Verify it, then JSON.parse(raw_body)",
    "$rawBody = file_get_contents('php://input'); // verify it, then json_decode($rawBody)",
];

/// The fixes of a re-serializing endpoint, one per stack.
fn raw_body_fixes() -> Vec<StackFix> {
    STACKS
        .iter()
        .zip(RAW_BODY_LINES)
        .map(|(stack, line)| StackFix { stack, line })
        .collect()
}

/// The event of `body` as each library writes it (with [`probe_event`]'s values), and, when
/// `with_ascii` and the body has non-ASCII text, the body with ASCII-only text; each
/// signed over exactly its bytes, as Spotnana signs.
fn attempts(
    ctx: &RunContext,
    body: &Bytes,
    with_ascii: bool,
    rng: &mut SeededRng,
) -> Vec<(String, String, crate::delivery::request::Attempt)> {
    let mut out = Vec::new();
    let Ok(event) = serde_json::from_slice::<Value>(body) else {
        return out;
    };
    if !event.is_object() {
        return out;
    }
    let event = probe_event(&event);
    let sign = |bytes: Vec<u8>, rng: &mut SeededRng| {
        let bytes = Bytes::from(bytes);
        let id = random::uuid(rng);
        let signed = SignedHeaders::new(&[&ctx.secret], &id, unix_now(), &bytes, ctx.format);
        probing::delivery(ctx, &bytes, &signed, rng)
    };
    for serializer in SERIALIZERS {
        let attempt = sign(serializer.write(&event), rng);
        out.push((
            serializer.id.to_owned(),
            format!(
                "the event as {} writes it, signed over those bytes",
                serializer.writer
            ),
            attempt,
        ));
    }
    if with_ascii && let Some(ascii) = ascii_only(body) {
        let attempt = sign(ascii, rng);
        out.push((
            ASCII_TEXT.to_owned(),
            "the same bytes with ASCII-only text, signed over them".to_owned(),
            attempt,
        ));
    }
    out
}

/// What the answers to the re-serializer probes say.
#[derive(Debug)]
enum Reading {
    /// Exactly one library's output accepted.
    Library(&'static Serializer),
    /// ASCII-only text accepted, and no library's output but ASCII-only ones.
    ReEncoded,
    /// Nothing accepted.
    Nothing,
    /// Several libraries' outputs accepted: no single one can be named.
    Several(Vec<String>),
}

fn read(records: &[ProbeRecord]) -> Reading {
    let accepted: Vec<&ProbeRecord> = records.iter().filter(|r| r.accepted).collect();
    let libraries: Vec<&ProbeRecord> = accepted
        .iter()
        .copied()
        .filter(|r| r.id != ASCII_TEXT)
        .collect();
    let ascii = accepted.iter().any(|r| r.id == ASCII_TEXT);
    if let [one] = libraries.as_slice()
        && let Some(serializer) = SERIALIZERS.iter().find(|s| s.id == one.id)
    {
        return Reading::Library(serializer);
    }
    if ascii && libraries.iter().all(|r| r.exchange.request.body.is_ascii()) {
        return Reading::ReEncoded;
    }
    if libraries.is_empty() {
        return Reading::Nothing;
    }
    Reading::Several(libraries.iter().map(|r| format!("`{}`", r.id)).collect())
}

/// The finding for one library: what the endpoint does, and the fix for its stack.
fn named(serializer: &Serializer) -> String {
    format!(
        "your endpoint verifies the signature over the JSON it parsed and wrote back (as {} writes it), not over the bytes received: it accepted the same event written that way and signed over those bytes (probe `{}`); fix ({}): {}",
        serializer.writer, serializer.id, serializer.stack, serializer.fix
    )
}

const RE_ENCODED: &str = "your endpoint re-encodes the body's text before verifying: it accepted the same event with ASCII-only text (probe `ascii-text`) and refused the UTF-8 bytes Spotnana sent; fix: verify over the raw bytes as received, not over a string decoded in another character set and encoded again";

/// After the signing-mistake probes found nothing: the event as each library writes
/// it, and ASCII-only text. One accepted replaces `diagnosis`'s finding with the
/// library (or the re-encoding) and its fix; none accepted says so in the finding.
/// Every probe is added to `diagnosis.probes`.
pub(super) async fn after_signing_mistakes(
    diagnosis: &mut Diagnosis,
    ctx: &RunContext,
    body: &Bytes,
    rng: &mut SeededRng,
) {
    let attempts = attempts(ctx, body, true, rng);
    if attempts.is_empty() {
        return;
    }
    let records = probing::send(ctx, attempts).await;
    let reading = read(&records);
    diagnosis.probes.extend(records);
    match reading {
        Reading::Library(serializer) => {
            diagnosis.confirmed = true;
            diagnosis.finding = named(serializer);
            diagnosis.fixes = raw_body_fixes();
            diagnosis.steps.clear();
        }
        Reading::ReEncoded => {
            diagnosis.confirmed = true;
            diagnosis.finding = RE_ENCODED.to_owned();
            diagnosis.fixes = raw_body_fixes();
            diagnosis.steps.clear();
        }
        Reading::Nothing => {
            diagnosis.finding = diagnosis.finding.replacen(
                " either, so",
                &format!(
                    " either, nor the same event as any of {} common JSON libraries write it or with ASCII-only text, so",
                    SERIALIZERS.len()
                ),
                1,
            );
        }
        Reading::Several(ids) => {
            diagnosis.finding = format!(
                "{}; the endpoint also accepted the event as several JSON libraries write it ({}), so it may verify over re-serialized JSON",
                diagnosis.finding,
                probing::list(&ids)
            );
        }
    }
}

/// A `signature.raw-body` failure explained as refused body styles: the event as each
/// library writes it says which library the endpoint writes the JSON back with. Only
/// an answer that names one library changes `diagnosis` (finding and fixes); the
/// probes are added either way.
pub(super) async fn after_body_styles(
    diagnosis: &mut Diagnosis,
    ctx: &RunContext,
    body: &Bytes,
    rng: &mut SeededRng,
) {
    let attempts = attempts(ctx, body, false, rng);
    if attempts.is_empty() {
        return;
    }
    let records = probing::send(ctx, attempts).await;
    let reading = read(&records);
    diagnosis.probes.extend(records);
    if let Reading::Library(serializer) = reading {
        diagnosis.finding = format!("{}; {}", diagnosis.finding, named(serializer));
        diagnosis.fixes = raw_body_fixes();
    }
}
