//! The hand-built TLS 1.0–1.2 ClientHello of the cipher scan, and the reading of the
//! server's answer up to its ServerHello.
//!
//! The scan needs to offer suites no local TLS library will negotiate any more (RC4,
//! EXPORT, NULL, …), so it writes the ClientHello itself, as sslyze and testssl.sh do,
//! and never completes the handshake: the ServerHello already names the suite picked.

use super::version::TlsVersion;
use super::wire;

/// The largest record a server may send: 2^14 bytes of plaintext plus the 2048 bytes of
/// expansion RFC 5246 §6.2.3 allows.
pub(super) const MAX_RECORD: usize = 16_384 + 2_048;

/// The wire form of a version (`0x0301` … `0x0303`); `None` for TLS 1.3 (the scan does
/// not speak it).
pub(super) fn wire_version(version: TlsVersion) -> Option<u16> {
    match version {
        TlsVersion::Tls10 => Some(0x0301),
        TlsVersion::Tls11 => Some(0x0302),
        TlsVersion::Tls12 => Some(0x0303),
        TlsVersion::Tls13 => None,
    }
}

/// `TLS 1.0` for `0x0301`, `SSL 3.0` for `0x0300`, else the hex form.
pub(super) fn version_name(wire: u16) -> String {
    match wire {
        0x0300 => "SSL 3.0".to_owned(),
        0x0301 => "TLS 1.0".to_owned(),
        0x0302 => "TLS 1.1".to_owned(),
        0x0303 => "TLS 1.2".to_owned(),
        0x0304 => "TLS 1.3".to_owned(),
        other => format!("version 0x{other:04x}"),
    }
}

/// Named groups offered: x25519, secp256r1, secp384r1, secp521r1, x448, ffdhe2048/3072/4096.
const GROUPS: [u16; 8] = [29, 23, 24, 25, 30, 256, 257, 258];

/// Signature schemes offered (TLS 1.2): ECDSA, RSA-PSS, RSA PKCS#1, EdDSA, then SHA-1 and DSA.
const SIGNATURE_SCHEMES: [u16; 17] = [
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0807, 0x0808, 0x0809,
    0x080a, 0x080b, 0x0201, 0x0203, 0x0202,
];

fn push_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn push_u24(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
}

fn extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    push_u16(out, kind);
    push_u16(out, body.len() as u16);
    out.extend_from_slice(body);
}

fn u16_list(items: &[u16]) -> Vec<u8> {
    let mut body = Vec::with_capacity(2 + items.len() * 2);
    push_u16(&mut body, (items.len() * 2) as u16);
    for &item in items {
        push_u16(&mut body, item);
    }
    body
}

/// A ClientHello record for `version` offering `suites`, with SNI when `sni` is a name,
/// supported_groups, ec_point_formats, signature_algorithms (TLS 1.2 only),
/// renegotiation_info, extended_master_secret, and padding out of the 256–511 byte
/// range some middleboxes choke on.
pub(super) fn client_hello(
    version: u16,
    suites: &[u16],
    sni: Option<&str>,
    random: [u8; 32],
) -> Vec<u8> {
    let mut extensions = Vec::new();
    if let Some(name) = sni {
        let mut body = Vec::new();
        push_u16(&mut body, (name.len() + 3) as u16);
        body.push(0); // host_name
        push_u16(&mut body, name.len() as u16);
        body.extend_from_slice(name.as_bytes());
        extension(&mut extensions, 0, &body);
    }
    extension(&mut extensions, 10, &u16_list(&GROUPS));
    extension(&mut extensions, 11, &[1, 0]);
    if version >= 0x0303 {
        extension(&mut extensions, 13, &u16_list(&SIGNATURE_SCHEMES));
    }
    extension(&mut extensions, 0xff01, &[0]);
    extension(&mut extensions, 23, &[]);

    let mut body = Vec::new();
    push_u16(&mut body, version);
    body.extend_from_slice(&random);
    body.push(0); // no session id
    body.extend_from_slice(&u16_list(suites));
    body.extend_from_slice(&[1, 0]); // compression: null only
    // Handshake header (4) + body + extensions length (2) + extensions.
    let unpadded = 4 + body.len() + 2 + extensions.len();
    if (256..512).contains(&unpadded) {
        // The padding extension's own header is 4 bytes.
        let fill = (512 - unpadded).saturating_sub(4);
        extension(&mut extensions, 21, &vec![0; fill]);
    }
    push_u16(&mut body, extensions.len() as u16);
    body.extend_from_slice(&extensions);

    let mut handshake = vec![1];
    push_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);

    let mut record = vec![0x16, 0x03, 0x01];
    push_u16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    record
}

/// What the bytes received so far say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reply {
    /// Not enough bytes yet.
    NeedMore,
    /// A ServerHello: the version and the suite the server picked.
    ServerHello {
        /// The version the server chose (wire form).
        version: u16,
        /// The suite it picked.
        suite: u16,
    },
    /// A TLS alert with this description.
    Alert(u8),
    /// The server does not speak TLS: a printable excerpt.
    NotTls(String),
    /// TLS-looking bytes that break the protocol: what is wrong.
    Malformed(String),
}

/// Reads the records in `bytes` (everything received so far) up to the ServerHello.
pub(super) fn read_reply(bytes: &[u8]) -> Reply {
    walk_records(bytes, "the ServerHello", read_server_hello)
}

/// How far the server's first flight got, read past its ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Flight {
    /// Not enough bytes yet.
    NeedMore,
    /// Every message up to and including ServerHelloDone: the server goes on with the
    /// handshake at the version of its ServerHello.
    Done,
    /// A TLS alert with this description.
    Alert(u8),
    /// TLS-looking bytes that break the protocol: what is wrong.
    Malformed(String),
}

/// Reads the records in `bytes` through the server's first flight of a TLS 1.0–1.2
/// handshake (ServerHello, Certificate, ServerKeyExchange, CertificateRequest, …,
/// ServerHelloDone). Call it once [`read_reply`] has found the ServerHello.
///
/// A server that accepts the version goes on to ServerHelloDone; one that only answered
/// the hello to refuse it sends an alert instead. That is where testssl.sh and sslyze
/// draw the line too: no key exchange is needed to know the version is accepted.
pub(super) fn read_flight(bytes: &[u8]) -> Flight {
    match walk_records(bytes, "ServerHelloDone", read_until_hello_done) {
        Reply::NeedMore => Flight::NeedMore,
        Reply::ServerHello { .. } => Flight::Done,
        Reply::Alert(description) => Flight::Alert(description),
        Reply::NotTls(excerpt) => Flight::Malformed(format!("bytes that are not TLS: `{excerpt}`")),
        Reply::Malformed(what) => Flight::Malformed(what),
    }
}

/// Walks the records in `bytes`, gathering handshake payloads, and asks `complete` after
/// each handshake record whether the handshake messages so far answer the question
/// (`None`: read on). An alert, a non-TLS start or a broken record ends the walk;
/// `awaited` names what a record of another type came before.
fn walk_records(bytes: &[u8], awaited: &str, complete: impl Fn(&[u8]) -> Option<Reply>) -> Reply {
    let mut offset = 0;
    let mut handshake: Vec<u8> = Vec::new();
    loop {
        let Some(header) = bytes.get(offset..offset + 5) else {
            if offset == 0 && !bytes.is_empty() && !looks_like_tls(bytes) {
                return Reply::NotTls(wire::printable(bytes));
            }
            return Reply::NeedMore;
        };
        if !looks_like_tls(header) {
            return if offset == 0 {
                Reply::NotTls(wire::printable(bytes))
            } else {
                Reply::Malformed(format!(
                    "a record of unknown type {} after the first",
                    header[0]
                ))
            };
        }
        let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if length > MAX_RECORD {
            return Reply::Malformed(format!(
                "a record of {length} bytes, over the {MAX_RECORD}-byte limit of TLS"
            ));
        }
        let Some(payload) = bytes.get(offset + 5..offset + 5 + length) else {
            return Reply::NeedMore;
        };
        offset += 5 + length;
        match header[0] {
            0x15 => {
                return match payload {
                    [_, description, ..] => Reply::Alert(*description),
                    _ => Reply::Malformed("an alert record shorter than 2 bytes".to_owned()),
                };
            }
            0x16 => {
                handshake.extend_from_slice(payload);
                if let Some(reply) = complete(&handshake) {
                    return reply;
                }
            }
            other => {
                return Reply::Malformed(format!("a record of type {other} before {awaited}"));
            }
        }
    }
}

/// Whether `bytes` starts like a TLS record: a known content type and major version 3.
fn looks_like_tls(bytes: &[u8]) -> bool {
    match bytes {
        [kind] => (0x14..=0x17).contains(kind),
        [kind, major, ..] => (0x14..=0x17).contains(kind) && *major == 3,
        [] => true,
    }
}

/// `None` while the ServerHello is incomplete.
fn read_server_hello(handshake: &[u8]) -> Option<Reply> {
    let [kind, a, b, c, ..] = *handshake else {
        return None;
    };
    if kind != 2 {
        return Some(Reply::Malformed(format!(
            "the first handshake message is of type {kind}, not a ServerHello"
        )));
    }
    let length = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
    if length > 65_536 {
        return Some(Reply::Malformed(format!("a ServerHello of {length} bytes")));
    }
    let body = handshake.get(4..4 + length)?;
    let malformed = || Some(Reply::Malformed("a truncated ServerHello".to_owned()));
    let Some(&[major, minor]) = body.get(0..2) else {
        return malformed();
    };
    let Some(&session_len) = body.get(34) else {
        return malformed();
    };
    let at = 35 + usize::from(session_len);
    let Some(&[hi, lo]) = body.get(at..at + 2) else {
        return malformed();
    };
    Some(Reply::ServerHello {
        version: u16::from_be_bytes([major, minor]),
        suite: u16::from_be_bytes([hi, lo]),
    })
}

/// The largest handshake message accepted while reading a first flight (a certificate
/// chain is rarely over 16 KiB; the reader stops at 64 KiB anyway).
const MAX_MESSAGE: usize = 65_536;

/// The ServerHello (as [`read_server_hello`] reads it) once every message up to
/// ServerHelloDone (type 14) is complete; `None` while messages are missing.
fn read_until_hello_done(handshake: &[u8]) -> Option<Reply> {
    let hello = read_server_hello(handshake)?;
    if !matches!(hello, Reply::ServerHello { .. }) {
        return Some(hello);
    }
    let mut offset = 0;
    loop {
        let [kind, a, b, c] = *handshake.get(offset..offset + 4)? else {
            return None;
        };
        let length = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
        if length > MAX_MESSAGE {
            return Some(Reply::Malformed(format!(
                "a handshake message of type {kind} and {length} bytes"
            )));
        }
        handshake.get(offset + 4..offset + 4 + length)?;
        offset += 4 + length;
        if kind == 14 {
            return Some(hello);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tls_probe::hello::*;

    /// A ServerHello record for `version` picking `suite`, as a server would send it.
    pub(crate) fn server_hello(version: u16, suite: u16) -> Vec<u8> {
        let mut body = Vec::new();
        push_u16(&mut body, version);
        body.extend_from_slice(&[7; 32]);
        body.push(32);
        body.extend_from_slice(&[9; 32]);
        push_u16(&mut body, suite);
        body.push(0);
        push_u16(&mut body, 0);
        let mut handshake = vec![2];
        push_u24(&mut handshake, body.len());
        handshake.extend_from_slice(&body);
        record(0x03, &handshake)
    }

    /// A handshake record (TLS 1.`minor - 1` on the record layer) carrying `payload`.
    fn record(minor: u8, payload: &[u8]) -> Vec<u8> {
        let mut record = vec![0x16, 0x03, minor];
        push_u16(&mut record, payload.len() as u16);
        record.extend_from_slice(payload);
        record
    }

    #[test]
    fn client_hello_is_well_formed() {
        let hello = client_hello(0x0303, &[0xC02F, 0x0005], Some("partner.example"), [0; 32]);
        assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
        let record_len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
        assert_eq!(hello.len(), 5 + record_len);
        assert_eq!(hello[5], 1);
        assert_eq!(&hello[9..11], &[0x03, 0x03]);
        // No session id, then the two suites.
        assert_eq!(hello[43], 0);
        assert_eq!(&hello[44..50], &[0, 4, 0xC0, 0x2F, 0x00, 0x05]);
        assert!(hello.windows(15).any(|w| w == b"partner.example"));

        // A long offer is padded to 512 bytes of handshake.
        let many: Vec<u16> = (1..=120).collect();
        let padded = client_hello(0x0303, &many, None, [0; 32]);
        assert!(padded.len() - 5 >= 512, "{}", padded.len());
    }

    #[test]
    fn reads_server_hellos_alerts_and_garbage() {
        let hello = server_hello(0x0303, 0x002F);
        assert_eq!(
            read_reply(&hello),
            Reply::ServerHello {
                version: 0x0303,
                suite: 0x002F
            }
        );
        // Any prefix is NeedMore, never a misreading.
        for cut in 0..hello.len() {
            assert_eq!(read_reply(&hello[..cut]), Reply::NeedMore, "cut at {cut}");
        }
        // Split over two records.
        let payload = &hello[5..];
        let mut split = vec![0x16, 3, 3, 0, 10];
        split.extend_from_slice(&payload[..10]);
        split.extend_from_slice(&[0x16, 3, 3, 0, (payload.len() - 10) as u8]);
        split.extend_from_slice(&payload[10..]);
        assert!(matches!(
            read_reply(&split),
            Reply::ServerHello { suite: 0x002F, .. }
        ));

        assert_eq!(read_reply(&[0x15, 3, 3, 0, 2, 2, 40]), Reply::Alert(40));
        assert_eq!(
            read_reply(b"HTTP/1.1 400 Bad Request\r\n"),
            Reply::NotTls("HTTP/1.1 400 Bad Request\\r\\n".to_owned())
        );
        assert_eq!(read_reply(b"H"), Reply::NotTls("H".to_owned()));
        assert_eq!(
            read_reply(&[0x16, 3, 3, 0xff, 0xff]),
            Reply::Malformed(
                "a record of 65535 bytes, over the 18432-byte limit of TLS".to_owned()
            )
        );
        assert_eq!(
            read_reply(&[0x16, 3, 3, 0, 4, 11, 0, 0, 0]),
            Reply::Malformed(
                "the first handshake message is of type 11, not a ServerHello".to_owned()
            )
        );
        assert_eq!(
            read_reply(&[0x16, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3]),
            Reply::Malformed("a truncated ServerHello".to_owned())
        );
    }

    /// A record holding handshake messages of these types with these body lengths.
    fn handshake_record(messages: &[(u8, usize)]) -> Vec<u8> {
        let mut payload = Vec::new();
        for &(kind, len) in messages {
            payload.push(kind);
            push_u24(&mut payload, len);
            payload.extend(std::iter::repeat_n(0x42, len));
        }
        record(0x01, &payload)
    }

    #[test]
    fn reads_the_first_flight_through_server_hello_done() {
        // ServerHello; Certificate and ServerKeyExchange; then CertificateRequest and
        // ServerHelloDone, over three records as OpenSSL sends a TLS 1.0 flight.
        let mut flight = server_hello(0x0301, 0xC014);
        flight.extend(handshake_record(&[(11, 900), (12, 300)]));
        flight.extend(handshake_record(&[(13, 20), (14, 0)]));
        assert_eq!(read_flight(&flight), Flight::Done);
        assert!(matches!(
            read_reply(&flight),
            Reply::ServerHello {
                version: 0x0301,
                suite: 0xC014
            }
        ));
        // Every prefix is NeedMore: the flight is not over before ServerHelloDone.
        for cut in 0..flight.len() {
            assert_eq!(
                read_flight(&flight[..cut]),
                Flight::NeedMore,
                "cut at {cut}"
            );
        }

        // A server that answers the hello and then refuses.
        let mut refused = server_hello(0x0301, 0xC014);
        refused.extend_from_slice(&[0x15, 3, 1, 0, 2, 2, 70]);
        assert_eq!(read_flight(&refused), Flight::Alert(70));

        // Application data where the flight should go on.
        let mut broken = server_hello(0x0301, 0xC014);
        broken.extend_from_slice(&[0x17, 3, 1, 0, 1, 0]);
        assert_eq!(
            read_flight(&broken),
            Flight::Malformed("a record of type 23 before ServerHelloDone".to_owned())
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = read_reply(&bytes);
            let _ = read_flight(&bytes);
        }
    }
}
