//! The signature stack's verify rate for the schemes a server's evidence carries beside the
//! ones the chain of custody uses (those are in the ledger's `signatures` bench): RSA-2048
//! PKCS#1 v1.5 and PSS (EK certificates, RSA attestation keys), PSS with the longest salt (the
//! RustCrypto fallback, which costs a refused ring verify first), and ECDSA P-384. Compare
//! with `openssl speed rsa2048 ecdsap384` (scripts/perf.sh prints both).

#![allow(missing_docs)]

use boardproof_signature::{verify, Curve, EcdsaEncoding, HashAlg, PublicKey, Scheme};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("signature");
    g.throughput(Throughput::Elements(1));
    let msg = [7u8; 64];
    let mut rng = rand_core::OsRng;

    let sk = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("RSA key");
    let (n, e) = (sk.n().to_bytes_be(), sk.e().to_bytes_be());
    let key = PublicKey::Rsa { n: &n, e: &e };
    let pkcs1 = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(sk.clone())
        .sign(&msg)
        .to_vec();
    let pss = rsa::pss::SigningKey::<sha2::Sha256>::new(sk.clone())
        .sign_with_rng(&mut rng, &msg)
        .to_vec();
    let longest = n.len() - 32 - 2;
    let pss_long = rsa::pss::SigningKey::<sha2::Sha256>::new_with_salt_len(sk, longest)
        .sign_with_rng(&mut rng, &msg)
        .to_vec();
    for (name, scheme, sig) in [
        (
            "RSA-2048 PKCS#1 v1.5 SHA-256",
            Scheme::RsaPkcs1(HashAlg::Sha256),
            &pkcs1,
        ),
        (
            "RSA-2048 PSS SHA-256",
            Scheme::RsaPss(HashAlg::Sha256),
            &pss,
        ),
        (
            "RSA-2048 PSS SHA-256 longest salt (fallback)",
            Scheme::RsaPss(HashAlg::Sha256),
            &pss_long,
        ),
    ] {
        verify(key, scheme, &msg, sig).expect("verifies");
        g.bench_function(format!("{name} verify, 64-byte message"), |b| {
            b.iter(|| verify(key, scheme, std::hint::black_box(&msg), sig).expect("verifies"))
        });
    }

    let sk = p384::ecdsa::SigningKey::random(&mut rng);
    let point = sk
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec();
    let sig: p384::ecdsa::Signature = sk.sign(&msg);
    let sig = sig.to_bytes().to_vec();
    let key = PublicKey::Ec {
        curve: Curve::P384,
        point: &point,
    };
    let scheme = Scheme::Ecdsa(HashAlg::Sha384, EcdsaEncoding::Fixed);
    verify(key, scheme, &msg, &sig).expect("verifies");
    g.bench_function("ECDSA P-384 SHA-384 verify, 64-byte message", |b| {
        b.iter(|| verify(key, scheme, std::hint::black_box(&msg), &sig).expect("verifies"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
