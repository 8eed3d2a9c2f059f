//! Hostile input: truncation and bit-flip sweeps over every test file give an error or a
//! result, never a panic; bad files exit 2 with one line naming the file.

use boardproof_formats::smbios;

use crate::util::{code, run, stderr, testdata_files};

fn decode_all(bytes: &[u8]) -> usize {
    match smbios::from_dump(bytes) {
        Ok((ep, table)) => boardproof_collect::smbios::inventory(&ep, &table)
            .structures
            .len(),
        Err(_) => 0,
    }
}

#[test]
fn smbios_truncation_and_bit_flip_sweeps() {
    let mut runs = 0u64;
    for file in testdata_files("smbios", ".dump") {
        let bytes = std::fs::read(&file).unwrap();
        for len in 0..bytes.len() {
            decode_all(&bytes[..len]);
            runs += 1;
        }
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

#[test]
fn acpi_and_module_trailer_sweeps() {
    let table = crate::fixture::acpi_table(b"SSDT", 120, 3);
    for len in 0..table.len() {
        let _ = boardproof_formats::acpi::parse_header(&table[..len]);
    }
    for i in 0..table.len() {
        let mut b = table.clone();
        b[i] ^= 0x5a;
        let _ = boardproof_formats::acpi::parse_header(&b);
    }
    let mut module = b"\x7fELF body".to_vec();
    module.extend_from_slice(&[0x30, 0x03, 0x02, 0x01, 0x00]);
    module.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    module.extend_from_slice(boardproof_formats::kmod_sig::MAGIC);
    for len in 0..module.len() {
        if let Ok(Some(s)) = boardproof_formats::kmod_sig::parse_trailer(&module[..len]) {
            let _ = boardproof_formats::kmod_sig::pkcs7_signer(s.signature);
        }
    }
    for i in 0..module.len() {
        let mut b = module.clone();
        b[i] ^= 0xff;
        if let Ok(Some(s)) = boardproof_formats::kmod_sig::parse_trailer(&b) {
            let _ = boardproof_formats::kmod_sig::pkcs7_signer(s.signature);
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
