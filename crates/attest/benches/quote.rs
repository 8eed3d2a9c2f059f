//! Quote verification: parse the AK public area and check its fitness, parse the TPMS_ATTEST
//! and the TPMT_SIGNATURE, verify ECDSA P-256 over the attest bytes — everything verify does
//! per quote except the PCR digest. Compare with `openssl speed ecdsap256` (issue 4's goal:
//! at least 70 % of its verify rate; figures in docs/performance.md).

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use boardproof_attest::quote;
use boardproof_formats::eventlog::ALG_SHA256;
use boardproof_formats::tpm2::{
    marshal_pcr_selection, PcrSelection, ALG_ECC, ALG_ECDSA, ALG_NULL, ECC_NIST_P256,
    ST_ATTEST_QUOTE, TPM_GENERATED,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use sha2::Digest;

fn sized(v: &[u8]) -> Vec<u8> {
    let mut out = (v.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(v);
    out
}

/// An AK public area for `key`, as TPM2_CreatePrimary returns it (TPM2B_PUBLIC).
fn ak_public(key: &p256::ecdsa::VerifyingKey) -> Vec<u8> {
    let point = key.to_encoded_point(false);
    let mut p = Vec::new();
    p.extend_from_slice(&ALG_ECC.to_be_bytes());
    p.extend_from_slice(&ALG_SHA256.to_be_bytes());
    p.extend_from_slice(&0x0005_0072u32.to_be_bytes());
    p.extend_from_slice(&sized(&[]));
    p.extend_from_slice(&ALG_NULL.to_be_bytes());
    p.extend_from_slice(&ALG_ECDSA.to_be_bytes());
    p.extend_from_slice(&ALG_SHA256.to_be_bytes());
    p.extend_from_slice(&ECC_NIST_P256.to_be_bytes());
    p.extend_from_slice(&ALG_NULL.to_be_bytes());
    p.extend_from_slice(&sized(point.x().expect("x")));
    p.extend_from_slice(&sized(point.y().expect("y")));
    sized(&p)
}

fn bench(c: &mut Criterion) {
    let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key");
    let ak = ak_public(key.verifying_key());
    let mut attest = Vec::new();
    attest.extend_from_slice(&TPM_GENERATED.to_be_bytes());
    attest.extend_from_slice(&ST_ATTEST_QUOTE.to_be_bytes());
    attest.extend_from_slice(&sized(&[0x00, 0x0b].repeat(17)));
    attest.extend_from_slice(&sized(&[0x5a; 32]));
    attest.extend_from_slice(&[0u8; 8 + 4 + 4 + 1 + 8]);
    attest.extend_from_slice(&marshal_pcr_selection(&[PcrSelection {
        alg: ALG_SHA256,
        pcrs: (0..10).collect(),
    }]));
    attest.extend_from_slice(&sized(&[0x11; 32]));
    let digest = sha2::Sha256::digest(&attest);
    let sig: p256::ecdsa::Signature = key.sign_prehash(&digest).expect("sign");
    let (r, s) = sig.split_bytes();
    let mut signature = Vec::new();
    signature.extend_from_slice(&ALG_ECDSA.to_be_bytes());
    signature.extend_from_slice(&ALG_SHA256.to_be_bytes());
    signature.extend_from_slice(&sized(&r));
    signature.extend_from_slice(&sized(&s));
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
