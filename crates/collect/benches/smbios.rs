//! SMBIOS decoding as `boardproof smbios decode` and `collect` do it: entry point, structure
//! walk, typed records, sha256 of every structure. Inputs are the real tables in
//! ../shared/testdata/smbios; the whole-process comparison with dmidecode is in
//! docs/performance.md (hyperfine).

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::path::Path;

use boardproof_formats::smbios;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/smbios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (is ../shared beside the workspace?)",
                dir.display()
            )
        })
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dump"))
        .collect();
    files.sort();
    let mut g = c.benchmark_group("smbios-decode");
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let (ep, table) = smbios::from_dump(std::hint::black_box(&bytes)).ok()?;
                Some(boardproof_collect::smbios::inventory(&ep, &table))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
