//! Transparency log throughput (issue 6's goals; figures in docs/performance.md): batched
//! appends into the embedded store, and inclusion-proof verification — the hash part alone and
//! with the checkpoint's Ed25519 signature — for an entry of a log of 2^20 leaves (a proof of
//! 20 hashes; 10^7 leaves need 24).

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use boardproof_ledger::store::Store;
use boardproof_ledger::tlog::{self, LogKey};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let key = LogKey::new(
        "boardproof.bench/log",
        &ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
    )
    .expect("log key");
    let batch: Vec<Vec<u8>> = (0..10_000u32)
        .map(|i| format!("verdict sha256:{i:064x}").into_bytes())
        .collect();
    let mut g = c.benchmark_group("tlog");
    g.sample_size(10);
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("append 10,000 leaves in one batch", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = Store::open(dir.path()).expect("store");
                (dir, store)
            },
            |(dir, mut store)| {
                tlog::append(store.log(), &key, &batch, "t").expect("append");
                drop(store);
                dir
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    // A log of 2^20 leaves, appended in batches.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("store");
    let mut note = Vec::new();
    for chunk in 0..16u32 {
        let leaves: Vec<Vec<u8>> = (0..65_536u32)
            .map(|i| format!("leaf {chunk} {i}").into_bytes())
            .collect();
        note = tlog::append(store.log(), &key, &leaves, "t")
            .expect("append")
            .1;
    }
    let size = 1u64 << 20;
    let n = 777_777u64;
    let leaf = format!("leaf {} {}", n / 65_536, n % 65_536).into_bytes();
    let proof = tlog::prove_inclusion(store.log(), n, size).expect("proof");
    let root = tlog::root(store.log(), size).expect("root");
    tlog::verify_inclusion(&note, &key.verifier, &leaf, n, &proof).expect("verifies");
    let mut g = c.benchmark_group("tlog");
    g.throughput(Throughput::Elements(1));
    g.bench_function("inclusion proof, 2^20 leaves, hashes only", |b| {
        b.iter(|| {
            tlog::verify_inclusion_in(std::hint::black_box(&root), size, &leaf, n, &proof)
                .expect("verifies")
        })
    });
    g.bench_function(
        "inclusion proof, 2^20 leaves, with the checkpoint signature",
        |b| {
            b.iter(|| {
                tlog::verify_inclusion(std::hint::black_box(&note), &key.verifier, &leaf, n, &proof)
                    .expect("verifies")
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
