//! Hostile input: truncation and bit-flip sweeps over every test file give an error where
//! the input is cut, never a panic or a slow parse; bad files exit 2 with one line naming the
//! file.

use boardproof_formats::smbios;

use crate::util::{code, run, stderr, testdata_files};

/// Structures (type, handle, sha256) of a dump, or None when it is refused; each decode
/// within a bounded time.
fn decode_all(bytes: &[u8]) -> Option<Vec<(u8, u16, String)>> {
    let t = std::time::Instant::now();
    let r = match smbios::from_dump(bytes) {
        Ok((ep, table)) => {
            let inv = boardproof_collect::smbios::inventory(&ep, &table);
            // A structure that does not parse ends the walk with an error: refused.
            inv.error.is_none().then(|| {
                inv.structures
                    .iter()
                    .map(|s| (s.kind, s.handle, s.sha256.clone()))
                    .collect()
            })
        }
        Err(_) => None,
    };
    assert!(
        t.elapsed() < std::time::Duration::from_secs(2),
        "slow decode"
    );
    r
}

/// Every cut of every dump is refused, except where SMBIOS itself cannot tell: a 3.x table has
/// no structure count and only a maximum size, and real tables end without their type 127
/// (siderolabs' Beelink EQ12, which dmidecode reads the same way), so a 3.x table cut at a
/// structure boundary reads as the structures before the cut — exactly those, never a changed
/// one (verify then reports every structure after the cut as gone). Every bit flip is
/// refused or gives an inventory, never a panic or a slow decode.
#[test]
fn smbios_truncation_and_bit_flip_sweeps() {
    let mut runs = 0u64;
    for file in testdata_files("smbios", ".dump") {
        let bytes = std::fs::read(&file).unwrap();
        let Some(whole) = decode_all(&bytes) else {
            // A table dmidecode also calls broken (smbios_dmidecode.rs): its cuts are
            // refused all the more.
            for len in (0..bytes.len()).step_by(13) {
                assert!(decode_all(&bytes[..len]).is_none());
            }
            continue;
        };
        assert!(!whole.is_empty());
        let v3 = bytes.starts_with(b"_SM3_");
        let mut prefixes = 0;
        for len in 0..bytes.len() {
            if let Some(got) = decode_all(&bytes[..len]) {
                assert!(
                    v3 && got.len() < whole.len() && got[..] == whole[..got.len()],
                    "{}: cut at {len} of {} decoded into {} structures",
                    file.display(),
                    bytes.len(),
                    got.len()
                );
                prefixes += 1;
            }
            runs += 1;
        }
        // Only cuts at structure boundaries can read as a prefix.
        assert!(prefixes <= whole.len(), "{}: {prefixes}", file.display());
        for i in 0..bytes.len() {
            for bit in [0u8, 3, 7] {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                decode_all(&b);
                runs += 1;
            }
        }
    }
    assert!(runs > 100_000, "{runs}");
}

/// ACPI headers: every cut shorter than the 36-byte header is an error, every flip of the
/// length field that makes it disagree with the bytes is an error. Module trailers: a cut
/// removes the magic, so nothing cut reads as signed.
#[test]
fn acpi_and_module_trailer_sweeps() {
    let table = crate::fixture::acpi_table(b"SSDT", 120, 3);
    let whole = boardproof_formats::acpi::parse_header(&table).unwrap();
    for len in 0..table.len() {
        let r = boardproof_formats::acpi::parse_header(&table[..len]);
        if len < 36 {
            assert!(r.is_err(), "an ACPI header cut at {len} parsed");
        }
    }
    for i in 0..table.len() {
        let mut b = table.clone();
        b[i] ^= 0x5a;
        if let Ok(h) = boardproof_formats::acpi::parse_header(&b) {
            // A flip outside the length field never changes what the header says the
            // length is.
            if !(4..8).contains(&i) {
                assert_eq!(h.length, whole.length, "flip at {i}");
            }
        }
    }
    let mut module = b"\x7fELF body".to_vec();
    module.extend_from_slice(&[0x30, 0x03, 0x02, 0x01, 0x00]);
    module.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    module.extend_from_slice(boardproof_formats::kmod_sig::MAGIC);
    assert!(boardproof_formats::kmod_sig::parse_trailer(&module)
        .unwrap()
        .is_some());
    for len in 0..module.len() {
        assert!(
            !matches!(
                boardproof_formats::kmod_sig::parse_trailer(&module[..len]),
                Ok(Some(_))
            ),
            "a trailer cut at {len} read as signed"
        );
    }
    for i in 0..module.len() {
        let mut b = module.clone();
        b[i] ^= 0xff;
        if let Ok(Some(s)) = boardproof_formats::kmod_sig::parse_trailer(&b) {
            // The 5-byte blob is no PKCS#7 structure whatever the flip.
            assert!(boardproof_formats::kmod_sig::pkcs7_signer(s.signature).is_err());
        }
    }
}

#[test]
fn bad_files_exit_2_with_one_line_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let src = &testdata_files("smbios", ".dump")[0];
    let bytes = std::fs::read(src).unwrap();
    // Truncated inside the table.
    let p = dir.path().join("truncated.dump");
    std::fs::write(&p, &bytes[..bytes.len() - 40]).unwrap();
    let o = run(&["smbios", "decode", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains("truncated.dump") && e.contains("offset 0x"),
        "{e}"
    );
    // Not SMBIOS at all.
    let p = dir.path().join("garbage.bin");
    std::fs::write(&p, b"hello world").unwrap();
    let o = run(&["smbios", "decode", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("garbage.bin"), "{}", stderr(&o));
    // Missing file.
    let o = run(&["smbios", "decode", "/nonexistent/x.dump"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("/nonexistent/x.dump"));
    // Evidence that is not JSON.
    let o = run(&["show", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("garbage.bin"), "{}", stderr(&o));
}
