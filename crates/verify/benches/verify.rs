//! Verify throughput: one evidence document with 200 components (a large server's PCI tree,
//! NICs, disks, DIMMs, CPUs) against its own reference, signature checking excluded.
//!
//! The goal in issue 2 is at least 50,000 verifications per second on one core; the measured
//! figure is in docs/performance.md.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

#[path = "support/server.rs"]
mod server;

use boardproof_evidence::Reference;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use server::{component, evidence};

fn bench(c: &mut Criterion) {
    let ev = evidence(200);
    let reference = Reference::from_evidence(&ev);
    // The collector's order is sysfs order; make the evidence side differ from the reference.
    let mut shuffled = ev.clone();
    shuffled.inventory.components.reverse();

    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(1));
    g.bench_function("200-components-clean", |b| {
        b.iter(|| boardproof_verify::verify(&reference, std::hint::black_box(&shuffled)))
    });
    let mut implanted = shuffled.clone();
    implanted.inventory.components.push(component(1000));
    g.bench_function("200-components-one-added", |b| {
        b.iter(|| boardproof_verify::verify(&reference, std::hint::black_box(&implanted)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
