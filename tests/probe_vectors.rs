//! The diagnosis probes' signatures against an independent verifier: the expected
//! header is computed here from the `hmac`, `sha2` and `base64` crates directly (the
//! key Base64-decoded from the `whsec_` text by hand), never through spotcheck's
//! signing code, so a probe that signs the wrong content or writes the wrong form
//! fails here even though it agrees with `fingerprint` (both share one `digest()`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use spotcheck::diagnose::probes::{PROBES, Probe, fingerprint};
use spotcheck::signing::{Secret, SignatureFormat};

use crate::support::cli::SECRET;

const ID: &str = "msg_2b1f6c1e-7d3a-4f7e-9c2a-5b8d0e4f1a23";
const TIMESTAMP: &str = "1764411330";
const BODY: &[u8] =
    br#"{"eventType":"PNR_V3","operation":"BOOKING_CREATED","payload":{"pnrId":"p-1"}}"#;

/// Base64 of HMAC-SHA256 over `content`, keyed with the decoded bytes after `whsec_`.
fn independent_hmac(content: &[u8]) -> String {
    let key = STANDARD
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(content);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn probe(id: &str) -> &'static Probe {
    PROBES
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no probe {id}"))
}

fn secret() -> Secret {
    Secret::parse(SECRET).unwrap()
}

#[test]
fn no_separator_signs_id_timestamp_and_body_concatenated() {
    let content = [ID.as_bytes(), TIMESTAMP.as_bytes(), BODY].concat();
    let expected = independent_hmac(&content);
    let probe = probe("no-separator");
    for (format, header) in [
        (SignatureFormat::V1, format!("v1,{expected}")),
        (SignatureFormat::Bare, expected.clone()),
    ] {
        assert!(probe.applies(format));
        assert_eq!(
            probe.signature(&secret(), ID, TIMESTAMP, BODY, format),
            header,
            "{format:?}"
        );
        assert_eq!(probe.timestamp(1_764_411_330), TIMESTAMP);
    }
    // And `verify` names it for the signature a partner's own code computed that way.
    let found: Vec<&str> = fingerprint(&secret(), ID, TIMESTAMP, BODY, &format!("v1,{expected}"))
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(found, ["no-separator"]);
    // The control: the documented content is not what this probe signs.
    let documented =
        independent_hmac(&[ID.as_bytes(), b".", TIMESTAMP.as_bytes(), b".", BODY].concat());
    assert_ne!(documented, expected);
}

#[test]
fn v1_prefix_required_sends_the_documented_signature_as_a_v1_token() {
    let content = [ID.as_bytes(), b".", TIMESTAMP.as_bytes(), b".", BODY].concat();
    let expected = format!("v1,{}", independent_hmac(&content));
    let probe = probe("v1-prefix-required");
    // Meaningful only for a run in the bare form (in the `v1,` form it is a valid
    // delivery), where it sends the `v1,` token a bare-refusing verifier wants.
    assert!(!probe.applies(SignatureFormat::V1));
    assert!(probe.applies(SignatureFormat::Bare));
    assert_eq!(
        probe.signature(&secret(), ID, TIMESTAMP, BODY, SignatureFormat::Bare),
        expected
    );
    assert_eq!(probe.timestamp(1_764_411_330), TIMESTAMP);
    // Both token forms verify, so it fingerprints nothing offline.
    assert!(fingerprint(&secret(), ID, TIMESTAMP, BODY, &expected).is_empty());
}
