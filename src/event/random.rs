//! Seeded randomness: every generated id, name and amount comes from here, so a
//! run with the same `--seed` replays the same bytes.

use rand::{Rng, SeedableRng};

/// The generator used everywhere (ChaCha8: stable output across platforms and versions).
pub type SeededRng = rand_chacha::ChaCha8Rng;

/// A generator for `seed`.
pub fn rng(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}

/// A generator for one labelled part of a run (a check id, a step), independent of
/// the order in which parts run: `(seed, label)` always gives the same stream.
pub fn rng_for(seed: u64, label: &str) -> SeededRng {
    // FNV-1a over the label, mixed with the seed: stable and dependency-free.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in label.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    SeededRng::seed_from_u64(seed ^ hash.rotate_left(17))
}

/// A fresh seed when the user gave none.
pub fn fresh_seed() -> u64 {
    rand::random::<u64>() % 1_000_000_000
}

/// A random UUID (version 4 layout) from the seeded stream.
pub fn uuid(rng: &mut impl Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// `n` lowercase hex digits.
pub fn hex(rng: &mut impl Rng, n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdef";
    (0..n)
        .map(|_| DIGITS[rng.random_range(0..16)] as char)
        .collect()
}

/// `n` decimal digits (no leading zero).
pub fn digits(rng: &mut impl Rng, n: usize) -> String {
    let mut out = String::with_capacity(n);
    out.push(char::from(b'1' + rng.random_range(0..9u8)));
    for _ in 1..n {
        out.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    out
}

/// Uppercase letters and digits, like a GDS record locator (`n` characters).
pub fn locator(rng: &mut impl Rng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// A Spotnana-style PNR id (10 digits).
pub fn pnr_id(rng: &mut impl Rng) -> String {
    digits(rng, 10)
}

/// A B3 trace id (32 hex digits).
pub fn trace_id(rng: &mut impl Rng) -> String {
    hex(rng, 32)
}

/// A B3 span id (16 hex digits).
pub fn span_id(rng: &mut impl Rng) -> String {
    hex(rng, 16)
}

/// One element of a non-empty slice.
pub fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_label_give_same_values() {
        let a = uuid(&mut rng_for(7, "delivery.status-200"));
        let b = uuid(&mut rng_for(7, "delivery.status-200"));
        let c = uuid(&mut rng_for(7, "delivery.latency"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn shapes() {
        let mut r = rng(1);
        assert_eq!(trace_id(&mut r).len(), 32);
        assert_eq!(span_id(&mut r).len(), 16);
        let pnr = pnr_id(&mut r);
        assert_eq!(pnr.len(), 10);
        assert!(pnr.bytes().all(|b| b.is_ascii_digit()) && !pnr.starts_with('0'));
    }
}
