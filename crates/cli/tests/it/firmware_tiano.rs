//! EFI and Tiano decompression checked against EDK2's own C compressor and decompressor (the
//! `efi_compressor` module of PyPI's uefi_firmware, built from EDK2's BaseTools sources), run
//! live: real firmware bytes compressed by the reference come back exactly, in both variants,
//! and the real EFI-compressed sections of Intel's Apollo Lake FSP decompress to the same
//! bytes the reference decoder gives.

use std::io::Write;
use std::process::{Command, Stdio};

use boardproof_formats::uefi::tiano::{decompress, Variant};

use crate::util::{require_python_module, testdata};

/// Runs `efi_compressor.<function>(data, len(data))` in Python; `None` when the module is not
/// installed outside CI (under CI that fails the test). A failed call fails the test.
fn reference(function: &str, data: &[u8]) -> Option<Vec<u8>> {
    if !require_python_module("uefi_firmware.efi_compressor") {
        return None;
    }
    let script = format!(
        "import sys\nfrom uefi_firmware import efi_compressor as c\n\
         d = sys.stdin.buffer.read()\nsys.stdout.buffer.write(c.{function}(d, len(d)))\n"
    );
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "efi_compressor.{function} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

#[test]
fn reference_compressed_firmware_round_trips() {
    let sec = std::fs::read(testdata().join("uefi/fiano-ovmfSECFV.fv")).unwrap();
    let fsp = std::fs::read(testdata().join("uefi/fiano-ApolloLake-Fsp.fd")).unwrap();
    // Code, headers, erased flash, and a short input.
    let inputs: [&[u8]; 5] = [
        &sec,
        &sec[0x90..0x5414],
        &fsp[..0x2a000],
        &sec[..100],
        &[0xff; 70_000],
    ];
    for plain in inputs {
        for (variant, function) in [
            (Variant::Efi, "EfiCompress"),
            (Variant::Tiano, "TianoCompress"),
        ] {
            let Some(packed) = reference(function, plain) else {
                return;
            };
            let got = decompress(&packed, variant, 1 << 24).unwrap();
            assert!(
                got == plain,
                "{function}: {} bytes differ after decompression",
                plain.len()
            );
            // Truncated streams end in an error or in bytes that differ: never a panic, never
            // the original — also when the header's compressed size is mended to the cut.
            for cut in [9, packed.len() / 3, packed.len() - 1] {
                let short = decompress(&packed[..cut], variant, 1 << 24);
                assert!(
                    short.as_ref().map_or(true, |s| s != plain),
                    "{function}: cut at {cut} of {} still gives the original",
                    packed.len()
                );
                let mut fixed = packed[..cut].to_vec();
                fixed[0..4].copy_from_slice(&((cut - 8) as u32).to_le_bytes());
                let mended = decompress(&fixed, variant, 1 << 24);
                // The last byte of a stream may hold nothing but padding bits: without it, a
                // stream whose header says so may still decode whole. Earlier cuts lose
                // code bits and must not.
                if cut < packed.len() - 1 {
                    assert!(
                        mended.as_ref().map_or(true, |s| s != plain),
                        "{function}: cut at {cut}, size mended, still gives the original"
                    );
                }
            }
        }
    }
}

#[test]
fn real_fsp_sections_equal_the_reference_decoder() {
    let fsp = std::fs::read(testdata().join("uefi/fiano-ApolloLake-Fsp.fd")).unwrap();
    // EFI_COMPRESSION_SECTION data at the offsets UEFIExtract lists (header 4 + 5 bytes).
    let mut checked = 0;
    for section in [0x2180usize, 0x50bc, 0xfa90, 0x17438] {
        let size =
            u32::from_le_bytes([fsp[section], fsp[section + 1], fsp[section + 2], 0]) as usize;
        assert_eq!(fsp[section + 3], 0x01, "section type at {section:#x}");
        assert_eq!(fsp[section + 8], 0x01, "compression type at {section:#x}");
        let data = &fsp[section + 9..section + size];
        let Some(want) = reference("EfiDecompress", data) else {
            return;
        };
        assert_eq!(decompress(data, Variant::Efi, 1 << 24).unwrap(), want);
        checked += 1;
    }
    assert_eq!(checked, 4);
}
