//! Signing throughput: HMAC-SHA256 over `{id}.{timestamp}.{body}` and the Base64
//! token, for 1 KiB, 64 KiB and 1 MiB bodies. Criterion reports bytes per second.
//!
//! `sign_keyed/3378B` is what `spotcheck load` pays per request for its signature:
//! the HMAC from a key state computed once (`SigningKey`), over a body of the load
//! mix's mean size at seed 1 (3,378 bytes), without the Base64.
//!
//! `cargo bench --bench signing -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use spotcheck::signing::{Secret, SignatureFormat, SigningKey};

fn signing(c: &mut Criterion) {
    let secret = Secret::from_key(vec![7u8; 32]);
    let id = "6f1c2b4e-8d7a-4c3b-9e2f-1a0b3c4d5e6f";
    let timestamp = "1764400000";
    let mut group = c.benchmark_group("sign");
    for (label, size) in [("1KiB", 1024), ("64KiB", 64 * 1024), ("1MiB", 1024 * 1024)] {
        let body: Vec<u8> = (0..size).map(|i| b"{\"a\":1}"[i % 7]).collect();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &body, |b, body| {
            b.iter(|| {
                std::hint::black_box(
                    secret
                        .sign(id, timestamp, std::hint::black_box(body))
                        .token(SignatureFormat::V1),
                )
            })
        });
    }
    group.finish();

    let key = SigningKey::new(&secret);
    let mut group = c.benchmark_group("sign_keyed");
    let size = 3378;
    let body: Vec<u8> = (0..size).map(|i| b"{\"a\":1}"[i % 7]).collect();
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_with_input(BenchmarkId::from_parameter("3378B"), &body, |b, body| {
        b.iter(|| {
            std::hint::black_box(key.sign(
                id.as_bytes(),
                timestamp.as_bytes(),
                std::hint::black_box(body),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
