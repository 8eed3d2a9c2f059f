//! Quote verification: parse the AK public area and check its fitness, parse the TPMS_ATTEST
//! and the TPMT_SIGNATURE, verify ECDSA P-256 over the attest bytes — everything verify does
//! per quote except the PCR digest. Compare with `openssl speed ecdsap256` (issue 4's goal:
//! at least 70 % of its verify rate; figures in docs/performance.md). Run with
//! `cargo bench -p boardproof-attest --features test-util`.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use boardproof_attest::quote;
use boardproof_attest::testkey::TestKey;
use boardproof_formats::tpm2::HashAlg;

const ALG_SHA256: u16 = HashAlg::Sha256.id();
use boardproof_formats::tpm2::PcrSelection;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let key = TestKey::new(7);
    let ak = key.public();
    let (attest, signature) = key.quote(
        &[0x5a; 32],
        &[PcrSelection {
            alg: ALG_SHA256,
            pcrs: (0..11).collect(),
        }],
        &[0x11; 32],
    );
    let mut g = c.benchmark_group("quote");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify ECDSA P-256 quote", |b| {
        b.iter(|| {
            let ak = quote::attestation_key(std::hint::black_box(&ak)).expect("AK");
            quote::verify(&ak, std::hint::black_box(&attest), &signature).expect("verifies")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
