//! The firmware scenario's patch on Debian's real OVMF image: exactly one byte of the
//! decompressed volume changes, and nothing outside the LZMA section.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use boardproof_lab::{matrix::PATCHED_MODULE, ovmf};

fn ovmf_code() -> Option<Vec<u8>> {
    let p =
        boardproof_testkit::require_path(boardproof_lab::assets::OVMF_CODE, "Debian package ovmf")?;
    Some(std::fs::read(p).unwrap())
}

#[test]
fn one_byte_of_one_module_changes() {
    let Some(orig) = ovmf_code() else { return };
    let mut patched = orig.clone();
    let patch = ovmf::patch_dxe_module(&mut patched, PATCHED_MODULE).unwrap();
    assert_eq!(patched.len(), orig.len());
    let a = ovmf::decompressed_volume(&orig).unwrap();
    let b = ovmf::decompressed_volume(&patched).unwrap();
    assert_eq!(a.len(), b.len());
    let diffs: Vec<usize> = a
        .iter()
        .zip(&b)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(diffs, [patch.byte_offset]);
    // Outside the compressed section the image is unchanged.
    let changed: Vec<usize> = orig
        .iter()
        .zip(&patched)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, _)| i)
        .collect();
    let first = *changed.first().unwrap();
    let last = *changed.last().unwrap();
    assert!(
        first > patch.section_offset,
        "{first:#x} {:#x}",
        patch.section_offset
    );
    assert!(last < patch.section_offset + 24 + patch.compressed.0);
    assert!(patch.compressed.1 <= patch.compressed.0);
    // The same patch twice gives the same bytes (the cached image is reproducible).
    let mut again = orig.clone();
    ovmf::patch_dxe_module(&mut again, PATCHED_MODULE).unwrap();
    assert!(again == patched);
}

#[test]
fn names_that_are_not_there_are_refused() {
    let Some(orig) = ovmf_code() else { return };
    let mut img = orig.clone();
    let err = ovmf::patch_dxe_module(&mut img, "NoSuchModuleDxe").unwrap_err();
    assert!(err.to_string().contains("not in the DXE volume"), "{err}");
    assert!(img == orig, "a refused patch leaves the image alone");
    let mut junk = vec![0u8; 4096];
    assert!(ovmf::patch_dxe_module(&mut junk, PATCHED_MODULE).is_err());
}
