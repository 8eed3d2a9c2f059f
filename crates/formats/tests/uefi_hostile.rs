//! Firmware images truncated, bit-flipped and built to abuse the caps: every outcome is a tree
//! or an error, never a panic, a hang or unbounded memory.
//!
//! Images: every file under ../shared/testdata/uefi, Debian's OVMF_CODE_4M.fd (whose LZMA
//! section holds the PEI and DXE volumes; a flip inside it exercises the decompressor on
//! corrupt data) and OVMF_VARS_4M.ms.fd (a variable store with Microsoft's keys).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use boardproof_formats::uefi::{self, TopItem};
use boardproof_formats::ErrorKind;

fn images() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("../shared/testdata/uefi"))
        .expect("../shared/testdata/uefi (is ../shared beside the workspace?)")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // OVMF's code (an LZMA section holding the PEI and DXE volumes) and its Microsoft-enrolled
    // variable store (the NVRAM parser).
    for name in ["OVMF_CODE_4M.fd", "OVMF_VARS_4M.ms.fd"] {
        if let Some(ovmf) = boardproof_testkit::require_path(
            PathBuf::from("/usr/share/OVMF").join(name),
            "Debian package ovmf",
        ) {
            files.push(ovmf);
        }
    }
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Parses and walks everything, as `firmware inspect` does, within a bounded time (a hang on
/// hostile input fails here, not only in the fuzzer).
fn exercise(bytes: &[u8]) -> usize {
    let t = std::time::Instant::now();
    let n = walk(bytes);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "{} bytes took {:?}",
        bytes.len(),
        t.elapsed()
    );
    n
}

fn walk(bytes: &[u8]) -> usize {
    match uefi::parse_image(bytes) {
        Ok(img) => img
            .items
            .iter()
            .map(|i| match i {
                TopItem::Volume(v) => v
                    .files
                    .iter()
                    .map(|f| f.ui_name().map_or(0, str::len) + 1)
                    .sum(),
                TopItem::Gap(g) => g.size,
                TopItem::Region(r) => r.region.size + r.items.len(),
            })
            .sum(),
        Err(e) => {
            // Every error names a field and an offset inside the input.
            assert!(e.offset <= bytes.len(), "{e}");
            0
        }
    }
}

/// Offsets spread over the whole image: `n` evenly, plus every header near the start.
fn points(len: usize, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).map(|i| i * len / n).collect();
    v.extend(0..len.min(256));
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn truncations_never_panic() {
    for (name, bytes) in images() {
        let n = if bytes.len() > 1 << 20 { 60 } else { 400 };
        for cut in points(bytes.len(), n) {
            exercise(&bytes[..cut]);
        }
        eprintln!("{name}: truncations done");
    }
}

#[test]
fn bit_flips_never_panic() {
    for (name, bytes) in images() {
        let n = if bytes.len() > 1 << 20 { 60 } else { 400 };
        let mut m = bytes.clone();
        for at in points(bytes.len(), n) {
            for bit in [0u8, 5] {
                m[at] ^= 1 << bit;
                exercise(&m);
                m[at] ^= 1 << bit;
            }
        }
        eprintln!("{name}: bit flips done");
    }
}

#[test]
fn ovmf_lzma_flips_are_errors_or_changes() {
    let Some((_, bytes)) = images()
        .into_iter()
        .find(|(n, _)| n.ends_with("OVMF_CODE_4M.fd"))
    else {
        return;
    };
    let clean = uefi::parse_image(&bytes).unwrap();
    let TopItem::Volume(v) = &clean.items[0] else {
        panic!("first item is a volume")
    };
    let want = v.files[0].body_sha256;
    // Flip bytes inside the compressed stream (it starts at 0x90 + 24 + 13).
    let mut m = bytes.clone();
    for at in [0x200usize, 0x10_000, 0x80_000, 0x120_000] {
        m[at] ^= 0x10;
        match uefi::parse_image(&m) {
            Err(e) => assert!(e.to_string().contains("LZMA"), "{e}"),
            Ok(img) => {
                let TopItem::Volume(v) = &img.items[0] else {
                    panic!()
                };
                assert_ne!(v.files[0].body_sha256, want);
            }
        }
        m[at] ^= 0x10;
    }
}

/// A volume (FFSv2, erase polarity 1, valid checksum) holding `files`.
fn volume(files: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for f in files {
        while body.len() % 8 != 0 {
            body.push(0xff);
        }
        body.extend_from_slice(f);
    }
    let len = 72 + body.len().next_multiple_of(8);
    let mut v = vec![0u8; 72];
    v[16..32].copy_from_slice(&uefi::FFS2.0);
    v[32..40].copy_from_slice(&(len as u64).to_le_bytes());
    v[40..44].copy_from_slice(b"_FVH");
    v[44..48].copy_from_slice(&0x0004_0800u32.to_le_bytes());
    v[48..50].copy_from_slice(&72u16.to_le_bytes());
    v[55] = 2;
    v[56..60].copy_from_slice(&1u32.to_le_bytes());
    v[60..64].copy_from_slice(&(len as u32).to_le_bytes());
    let sum = v.chunks(2).fold(0u16, |a, c| {
        a.wrapping_add(u16::from_le_bytes([c[0], c[1]]))
    });
    v[50..52].copy_from_slice(&(0u16.wrapping_sub(sum)).to_le_bytes());
    v.extend_from_slice(&body);
    v.resize(len, 0xff);
    v
}

/// A file of type `t` holding `sections` (each 4-aligned).
fn file(name: u8, t: u8, sections: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for s in sections {
        while body.len() % 4 != 0 {
            body.push(0);
        }
        body.extend_from_slice(s);
    }
    let size = 24 + body.len();
    let mut f = vec![name; 16];
    f.extend_from_slice(&[0, 0xaa, t, 0]);
    f.extend_from_slice(&(size as u32).to_le_bytes()[..3]);
    f.push(!0x07);
    // IntegrityCheck.Header: the header sums to zero, File (17) and State (23) left out.
    let sum = f
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 17 && *i != 23)
        .fold(0u8, |a, (_, b)| a.wrapping_add(*b));
    f[16] = 0u8.wrapping_sub(sum);
    f.extend_from_slice(&body);
    f
}

fn section(t: u8, body: &[u8]) -> Vec<u8> {
    let mut s = ((4 + body.len()) as u32).to_le_bytes()[..3].to_vec();
    s.push(t);
    s.extend_from_slice(body);
    s
}

#[test]
fn built_volumes_parse_and_nesting_is_capped() {
    let ui: Vec<u8> = "Implant\0"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let leaf = volume(&[file(1, 0x07, &[section(0x10, b"MZ.."), section(0x15, &ui)])]);
    let img = uefi::parse_image(&leaf).unwrap();
    let TopItem::Volume(v) = &img.items[0] else {
        panic!()
    };
    assert_eq!(v.files.len(), 1);
    assert_eq!(v.files[0].ui_name(), Some("Implant"));
    assert!(v.files[0].checksums_ok);

    // Volumes inside volume-image sections, deeper and deeper: refused past MAX_DEPTH.
    let mut nested = leaf.clone();
    let mut depth_ok = 0;
    for level in 1..=12 {
        nested = volume(&[file(2, 0x0b, &[section(0x17, &nested)])]);
        match uefi::parse_image(&nested) {
            Ok(_) => depth_ok = level,
            Err(e) => {
                assert!(matches!(e.kind, ErrorKind::TooMany(_)), "{e}");
                break;
            }
        }
    }
    assert!((3..12).contains(&depth_ok), "nesting stopped at {depth_ok}");
}

#[test]
fn overlapping_and_oversized_items_are_errors() {
    // A file whose size runs past its volume.
    let mut v = volume(&[file(1, 0x07, &[section(0x19, b"data")])]);
    v[72 + 20] = 0xf0;
    let e = uefi::parse_image(&v).unwrap_err();
    assert_eq!(e.field, "file size");
    assert_eq!(e.offset, 72 + 20);
    // A section whose size runs past its file.
    let mut v = volume(&[file(1, 0x07, &[section(0x19, b"data")])]);
    v[72 + 24] = 0x40;
    let e = uefi::parse_image(&v).unwrap_err();
    assert_eq!(e.field, "section size");
    assert_eq!(e.offset, 72 + 24);
    // An LZMA section claiming a huge output is refused before decoding.
    let mut g = boardproof_formats::guid::Guid::parse_text("EE4E5898-3914-4259-9D6E-DC7BD79403CF")
        .unwrap()
        .0
        .to_vec();
    g.extend_from_slice(&24u16.to_le_bytes());
    g.extend_from_slice(&1u16.to_le_bytes());
    g.extend_from_slice(&[0x5d, 0, 0, 0x80, 0]);
    g.extend_from_slice(&(1u64 << 40).to_le_bytes());
    g.extend_from_slice(&[0; 16]);
    let v = volume(&[file(1, 0x07, &[section(0x02, &g)])]);
    let e = uefi::parse_image(&v).unwrap_err();
    assert_eq!(e.field, "LZMA data");
    assert_eq!(e.kind, ErrorKind::BadLength(1 << 40));
}

/// An Intel flash image: descriptor v2, GbE at 0x1000, ME at 0x3000, BIOS (a real volume) at
/// the end; `regs` overrides FLREG entries (index, base, limit).
fn intel(regs: &[(usize, u16, u16)]) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fv = std::fs::read(root.join("../shared/testdata/uefi/fiano-ovmfSECFV.fv")).unwrap();
    let size = 0x8000 + fv.len();
    let mut img = vec![0xffu8; size];
    img[0x10..0x14].copy_from_slice(&0x0ff0_a55au32.to_le_bytes());
    img[0x14..0x1c].copy_from_slice(&[0x03, 0x00, 0x04, 0x02, 0x06, 0x02, 0x10, 0x00]);
    img[0x30..0x34].copy_from_slice(&[0x05, 0x00, 6 << 1, 0x00]);
    let mut flreg = [(0x7fffu16, 0u16); 16];
    flreg[0] = (0, 0);
    flreg[1] = (8, ((size >> 12) - 1) as u16);
    flreg[2] = (3, 7);
    flreg[3] = (1, 2);
    for (i, b, l) in regs {
        flreg[*i] = (*b, *l);
    }
    for (i, (b, l)) in flreg.iter().enumerate() {
        img[0x40 + 4 * i..0x42 + 4 * i].copy_from_slice(&b.to_le_bytes());
        img[0x42 + 4 * i..0x44 + 4 * i].copy_from_slice(&l.to_le_bytes());
    }
    img[0x8000..].copy_from_slice(&fv);
    img
}

#[test]
fn flash_descriptors_are_checked() {
    let good = intel(&[]);
    let img = uefi::parse_image(&good).unwrap();
    let names: Vec<String> = img
        .items
        .iter()
        .map(|i| match i {
            TopItem::Region(r) => format!("{}@{:#x}", r.name(), r.region.offset),
            TopItem::Gap(g) => format!("gap@{:#x}", g.offset),
            TopItem::Volume(_) => "volume".into(),
        })
        .collect();
    assert_eq!(
        names,
        ["Descriptor@0x0", "GbE@0x1000", "ME@0x3000", "BIOS@0x8000"]
    );
    let TopItem::Region(bios) = &img.items[3] else {
        panic!()
    };
    assert!(matches!(bios.items[0], TopItem::Volume(_)));
    // Overlapping regions, a region past the end, no BIOS region, bases out of the
    // descriptor: errors naming the field.
    let bad: Vec<(Vec<u8>, &str)> = vec![
        (intel(&[(3, 1, 4)]), "overlaps"),
        (intel(&[(1, 8, 0x7ff)]), "outside the image"),
        (intel(&[(1, 0x7fff, 0)]), "BIOS"),
        (intel(&[(3, 0, 1)]), "overlaps"),
        (
            {
                let mut b = good.clone();
                b[0x16] = 0xf0;
                b
            },
            "region base",
        ),
    ];
    for (b, field) in bad {
        let e = uefi::parse_image(&b).unwrap_err();
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
    // Every truncation keeping the signature is a tree or an error, never a panic.
    for n in (0x1000..good.len()).step_by(0x1000 / 4) {
        let _ = exercise(&good[..n]);
    }
}
