//! Signature verification as the chain of custody does it: a bare signature over a short
//! message (what `openssl speed` measures) and a whole DSSE envelope of a manifest-sized
//! payload, for Ed25519 and ECDSA P-256.

#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use boardproof_ledger::dsse::Envelope;
use boardproof_ledger::keys::{Algorithm, PrivateKey};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("signatures");
    g.throughput(Throughput::Elements(1));
    // A manifest of a server with a few hundred components is tens of kilobytes of JSON.
    let payload: Vec<u8> = (0..32 * 1024).map(|i| b"{}[],:\"abc0123"[i % 14]).collect();
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
        let k = PrivateKey::generate(alg);
        let pk = k.public();
        let msg = [7u8; 64];
        let sig = k.sign(&msg);
        g.bench_function(format!("{} verify, 64-byte message", alg.as_str()), |b| {
            b.iter(|| assert!(pk.verify(std::hint::black_box(&msg), &sig)))
        });
        let env = Envelope::sign("application/vnd.boardproof.manifest+json", &payload, &k);
        g.bench_function(
            format!("{} DSSE envelope verify, 32 KiB payload", alg.as_str()),
            |b| {
                b.iter(|| {
                    std::hint::black_box(&env)
                        .verify(&pk, "application/vnd.boardproof.manifest+json")
                        .expect("verifies")
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
