//! Platform certificates truncated at every length and bit-flipped at every byte: each outcome
//! is a certificate or an error with an offset inside the input, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use boardproof_formats::platform_cert;

fn certs() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/platform-cert");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("../shared/testdata/platform-cert (is ../shared beside the workspace?)")
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let der = platform_cert::decode_pem_or_der(&std::fs::read(&p).unwrap()).ok()?;
            // X.509 CA certificates in the folder are not attribute certificates.
            platform_cert::parse(&der).ok()?;
            Some((p.display().to_string(), der))
        })
        .collect()
}

#[test]
fn truncations_and_bit_flips_never_panic() {
    let all = certs();
    assert!(all.len() >= 17, "{} attribute certificates", all.len());
    for (name, der) in &all {
        for n in 0..der.len() {
            match platform_cert::parse(&der[..n]) {
                Ok(_) => panic!("{name}: a truncation to {n} bytes parsed"),
                Err(e) => assert!(e.offset <= n, "{name}: offset {} beyond {n}", e.offset),
            }
        }
        for i in 0..der.len() {
            for flip in [0x01u8, 0x80] {
                let mut b = der.clone();
                b[i] ^= flip;
                if let Err(e) = platform_cert::parse(&b) {
                    assert!(
                        e.offset <= b.len(),
                        "{name}: offset {} beyond the input",
                        e.offset
                    );
                }
            }
        }
    }
}

#[test]
fn hostile_lengths_are_refused() {
    // A SEQUENCE claiming 4 GiB, a five-byte length, an indefinite length.
    for bad in [
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00][..],
        &[0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00],
        &[0x30, 0x80, 0x00, 0x00],
        &[0x30],
        &[],
    ] {
        assert!(platform_cert::parse(bad).is_err(), "{bad:02x?}");
    }
}
