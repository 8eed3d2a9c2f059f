//! In-process inventory of Debian's OVMF_CODE_4M.fd: every volume, file and section, the LZMA
//! volume decompressed, every body hashed (issue 5's goal is against UEFIExtract on the same
//! file; the whole-process figures are in docs/performance.md, from scripts/perf.sh). Also the
//! LZMA decode and the SHA-256 of the decompressed bytes alone, which bound it.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use boardproof_formats::uefi::{self, Content, Inner, TopItem};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const IMAGE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";

fn bench(c: &mut Criterion) {
    let Ok(bytes) = std::fs::read(IMAGE) else {
        // A bench has nothing to measure without the image; CI installs ovmf and only builds
        // benches, so this is a local message, never a silently passing test.
        eprintln!("{IMAGE} missing: apt-get install ovmf");
        return;
    };
    let image = uefi::parse_image(&bytes).expect("OVMF_CODE_4M.fd parses");
    let decompressed: usize = image
        .items
        .iter()
        .filter_map(|i| match i {
            TopItem::Volume(v) => Some(v),
            TopItem::Gap(_) | TopItem::Region(_) => None,
        })
        .flat_map(|v| v.files.iter())
        .flat_map(|f| f.sections.iter().flatten())
        .filter_map(|s| match &s.content {
            Content::Guided {
                inner: Inner::Sections(inner),
                ..
            } => Some(inner.iter().map(|s| s.size).sum::<usize>()),
            _ => None,
        })
        .sum();
    let mut g = c.benchmark_group("uefi");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("inventory OVMF_CODE_4M.fd", |b| {
        b.iter(|| uefi::parse_image(std::hint::black_box(&bytes)).expect("parses"))
    });
    g.throughput(Throughput::Bytes(decompressed as u64));
    let plain = vec![0x5au8; decompressed];
    g.bench_function("sha256 of the decompressed bytes once", |b| {
        b.iter(|| uefi::sha256_of(std::hint::black_box(&plain)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
