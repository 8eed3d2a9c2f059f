//! In-process event log parse + replay of a typical log: the lab server's real OVMF log
//! (2,614 bytes, SHA-1 and SHA-256 banks), and the SHA-256 extends alone over the same
//! digests, to compare with `openssl speed sha256` (issue 4's goals; figures in
//! docs/performance.md).

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use boardproof_formats::eventlog::{self, extend};
use boardproof_formats::tpm2::HashAlg;

const ALG_SHA256: u16 = HashAlg::Sha256.id();
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/lab/golden/eventlog.bin"
    );
    let bytes = std::fs::read(path).expect("testdata/lab/golden/eventlog.bin");
    let log = eventlog::parse(&bytes).expect("the golden log parses");
    let sha256: Vec<Vec<u8>> = log
        .events
        .iter()
        .filter(|e| e.event_type != 3)
        .filter_map(|e| {
            e.digests
                .iter()
                .find(|(a, _)| *a == ALG_SHA256)
                .map(|(_, d)| d.to_vec())
        })
        .collect();
    let mut g = c.benchmark_group("eventlog");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse+replay golden log", |b| {
        b.iter(|| {
            let log = eventlog::parse(std::hint::black_box(&bytes)).expect("parses");
            eventlog::replay(&log).expect("replays")
        })
    });
    g.bench_function(
        format!("sha256 extends alone ({} per log)", sha256.len()),
        |b| {
            b.iter(|| {
                let mut v = vec![0u8; 32];
                for d in &sha256 {
                    v = extend(ALG_SHA256, &v, std::hint::black_box(d)).expect("sha256");
                }
                v
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
