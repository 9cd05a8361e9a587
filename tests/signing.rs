//! The signing scheme against independent known-answer vectors, and its properties.
//!
//! `tests/data/signing-vectors.json` is a verbatim copy of the project's shared
//! `vectors/signing.json`: read-only input computed with an independent
//! implementation (Python's `hmac` module), not by this crate. Never regenerate it
//! from spotcheck's own output.

use proptest::prelude::*;
use serde::Deserialize;
use spotcheck::signing::{
    Secret, SignatureFormat, SignedHeaders, Verifier, VerifyError, join_tokens,
};

#[derive(Debug, Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Debug, Deserialize)]
struct Vector {
    secret: String,
    webhook_id: String,
    timestamp: String,
    body: String,
    signature_base64: String,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("data/signing-vectors.json");
    let parsed: Vectors = serde_json::from_str(text).expect("vector file is valid JSON");
    assert!(parsed.vectors.len() >= 4, "the vector file lost entries");
    parsed.vectors
}

#[test]
fn every_vector_signs_to_the_published_signature() {
    for v in vectors() {
        let secret = Secret::parse(&v.secret).expect("vector secret parses");
        let signature = secret.sign(&v.webhook_id, &v.timestamp, v.body.as_bytes());
        assert_eq!(
            signature.to_base64(),
            v.signature_base64,
            "vector {}",
            v.webhook_id
        );
        assert_eq!(
            signature.token(SignatureFormat::V1),
            format!("v1,{}", v.signature_base64)
        );
        // The header builder agrees when the timestamp is numeric.
        let ts: i64 = v.timestamp.parse().unwrap();
        let headers = SignedHeaders::new(
            &[&secret],
            &v.webhook_id,
            ts,
            v.body.as_bytes(),
            SignatureFormat::Bare,
        );
        assert_eq!(headers.signature, v.signature_base64);
    }
}

#[test]
fn every_vector_verifies_in_both_forms_and_fails_when_tampered() {
    for v in vectors() {
        let secret = Secret::parse(&v.secret).unwrap();
        let verifier = Verifier::new(vec![secret]);
        let now: i64 = v.timestamp.parse().unwrap();
        for (token, form) in [
            (v.signature_base64.clone(), SignatureFormat::Bare),
            (format!("v1,{}", v.signature_base64), SignatureFormat::V1),
        ] {
            assert_eq!(
                verifier.verify(
                    Some(&v.webhook_id),
                    Some(&v.timestamp),
                    Some(&token),
                    v.body.as_bytes(),
                    now
                ),
                Ok(form),
                "vector {}",
                v.webhook_id
            );
        }
        let mut tampered = v.body.clone().into_bytes();
        tampered.push(b' ');
        assert_eq!(
            verifier.verify(
                Some(&v.webhook_id),
                Some(&v.timestamp),
                Some(&v.signature_base64),
                &tampered,
                now
            ),
            Err(VerifyError::NoMatch {
                tokens: 1,
                body_len: tampered.len()
            })
        );
    }
}

fn verify(
    secret: &Secret,
    id: &str,
    ts: &str,
    header: &str,
    body: &[u8],
) -> Result<SignatureFormat, VerifyError> {
    Verifier::new(vec![secret.clone()])
        .with_tolerance(None)
        .verify(Some(id), Some(ts), Some(header), body, 0)
}

fn format_strategy() -> impl Strategy<Value = SignatureFormat> {
    prop_oneof![Just(SignatureFormat::V1), Just(SignatureFormat::Bare)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn sign_then_verify_round_trips(
        key in proptest::collection::vec(any::<u8>(), 1..80),
        id in "[ -~]{1,40}",
        ts in any::<i64>(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
        format in format_strategy(),
    ) {
        let secret = Secret::from_key(key);
        let headers = SignedHeaders::new(&[&secret], &id, ts, &body, format);
        prop_assert_eq!(headers.timestamp.clone(), ts.to_string());
        prop_assert_eq!(
            verify(&secret, &headers.id, &headers.timestamp, &headers.signature, &body),
            Ok(format)
        );
        // A secret's whsec_ form parses back to the same key.
        let whsec = secret.expose_whsec();
        prop_assert_eq!(Secret::parse(&whsec).unwrap(), secret);
    }

    #[test]
    fn any_single_byte_change_fails(
        key in proptest::collection::vec(any::<u8>(), 1..64),
        id in "[a-zA-Z0-9_-]{1,30}",
        ts in 0i64..4_000_000_000,
        body in proptest::collection::vec(any::<u8>(), 1..256),
        which in 0usize..3,
        position in any::<proptest::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let secret = Secret::from_key(key);
        let ts_text = ts.to_string();
        let header = secret.sign(&id, &ts_text, &body).token(SignatureFormat::V1);
        let (mut id_b, mut ts_b, mut body_b) =
            (id.clone().into_bytes(), ts_text.clone().into_bytes(), body.clone());
        let target = match which {
            0 => &mut body_b,
            1 => &mut id_b,
            _ => &mut ts_b,
        };
        let i = position.index(target.len());
        target[i] ^= flip;
        // Changed id or timestamp bytes may no longer be UTF-8: such a header could
        // not even be sent, so only valid text is checked.
        if let (Ok(id2), Ok(ts2)) = (String::from_utf8(id_b), String::from_utf8(ts_b)) {
            let result = Verifier::new(vec![secret.clone()])
                .with_tolerance(None)
                .verify(Some(&id2), Some(&ts2), Some(&header), &body_b, 0);
            prop_assert!(result.is_err(), "a change to part {} at {} verified", which, i);
        }
    }

    #[test]
    fn valid_token_verifies_at_any_position_among_others(
        key in proptest::collection::vec(any::<u8>(), 1..64),
        others in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 1..64), format_strategy()), 0..5),
        position in any::<proptest::sample::Index>(),
        format in format_strategy(),
        body in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let secret = Secret::from_key(key.clone());
        let mut tokens: Vec<String> = others
            .iter()
            .filter(|(other, _)| *other != key)
            .map(|(other, f)| Secret::from_key(other.clone()).sign("id", "7", &body).token(*f))
            .collect();
        let at = position.index(tokens.len() + 1);
        tokens.insert(at, secret.sign("id", "7", &body).token(format));
        let header = join_tokens(&tokens);
        prop_assert_eq!(verify(&secret, "id", "7", &header, &body), Ok(format));
        // The same header without the valid token does not verify.
        tokens.remove(at);
        if !tokens.is_empty() {
            let result = verify(&secret, "id", "7", &join_tokens(&tokens), &body);
            let no_match = matches!(result, Err(VerifyError::NoMatch { .. }));
            prop_assert!(no_match);
        }
    }

    #[test]
    fn rotation_headers_signed_with_several_secrets_verify_with_each(
        keys in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..48), 1..4),
        body in proptest::collection::vec(any::<u8>(), 0..128),
        format in format_strategy(),
    ) {
        let secrets: Vec<Secret> = keys.into_iter().map(Secret::from_key).collect();
        let refs: Vec<&Secret> = secrets.iter().collect();
        let headers = SignedHeaders::new(&refs, "evt", 1_700_000_000, &body, format);
        prop_assert_eq!(headers.signature.split(' ').count(), secrets.len());
        for secret in &secrets {
            prop_assert_eq!(
                verify(secret, "evt", "1700000000", &headers.signature, &body),
                Ok(format)
            );
        }
    }
}
