//! Module signatures of Debian's own signed kernel modules (the lab's kernel package, fetched
//! with apt-get on first use) read as kmod's `modinfo` reads them: signer, key serial, hash
//! algorithm, signature type; the same modules with their signature cut off read as unsigned,
//! and every cut of a signature's trailer is an error or "unsigned", never a wrong signer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use boardproof_formats::kmod_sig;
use boardproof_testkit::{nonempty, require_tool};

fn modules() -> Option<Vec<PathBuf>> {
    if !require_tool("apt-get") || !require_tool("dpkg-deb") || !require_tool("modinfo") {
        return None;
    }
    let cache = boardproof_lab::assets::default_cache_dir().expect("a cache folder");
    let k = boardproof_lab::assets::kernel(&cache, &boardproof_lab::Quiet)
        .unwrap_or_else(|e| panic!("the lab's kernel package: {e}"));
    let base = k.modules_dir().join("kernel");
    let mut v = Vec::new();
    for sub in [
        "drivers/i2c",
        "drivers/net/ethernet/intel/e1000e",
        "drivers/nvme/host",
        "fs/ext4",
    ] {
        let d = base.join(sub);
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "ko") {
                v.push(p);
            }
        }
    }
    v.sort();
    Some(nonempty(v, "signed .ko files in the lab's kernel"))
}

/// modinfo's `key: value` fields of `module` (continuation lines of a long value dropped).
fn modinfo(module: &Path) -> Vec<(String, String)> {
    let o = Command::new("modinfo").arg(module).output().unwrap();
    assert!(
        o.status.success(),
        "modinfo {}: {}",
        module.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| !k.starts_with(char::is_whitespace) && !k.is_empty())
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn get<'a>(m: &'a [(String, String)], k: &str) -> &'a str {
    m.iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("modinfo printed no {k}"))
}

#[test]
fn debian_module_signatures_read_as_modinfo_reads_them() {
    let Some(mods) = modules() else { return };
    assert!(mods.len() >= 5, "{} modules", mods.len());
    for m in &mods {
        let bytes = std::fs::read(m).unwrap();
        let info = modinfo(m);
        let sig = kmod_sig::parse_trailer(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", m.display()))
            .unwrap_or_else(|| {
                panic!("{}: unsigned to boardproof, signed to modinfo", m.display())
            });
        assert_eq!(get(&info, "sig_id"), "PKCS#7", "{}", m.display());
        assert_eq!(sig.id_type, 2, "{}", m.display());
        let signer = kmod_sig::pkcs7_signer(sig.signature).unwrap();
        assert_eq!(
            signer.issuer_cn.as_deref(),
            Some(get(&info, "signer")),
            "{}",
            m.display()
        );
        assert_eq!(
            signer.serial.to_uppercase(),
            get(&info, "sig_key").replace(':', ""),
            "{}",
            m.display()
        );
        assert_eq!(get(&info, "sig_hashalgo"), "sha256");
        assert_eq!(
            signer.digest_algorithm,
            "2.16.840.1.101.3.4.2.1",
            "{}",
            m.display()
        );
        // What precedes the signature is the module as built: modinfo finds no signature in it.
        let dir = tempfile::tempdir().unwrap();
        let stripped = dir.path().join("stripped.ko");
        std::fs::write(&stripped, &bytes[..sig.signed_len]).unwrap();
        assert!(kmod_sig::parse_trailer(&bytes[..sig.signed_len])
            .unwrap()
            .is_none());
        assert!(modinfo(&stripped).iter().all(|(k, _)| k != "signer"));
    }
}

#[test]
fn every_cut_of_a_real_trailer_is_an_error_or_unsigned() {
    let Some(mods) = modules() else { return };
    let bytes = std::fs::read(&mods[0]).unwrap();
    let sig = kmod_sig::parse_trailer(&bytes).unwrap().unwrap();
    assert!(kmod_sig::pkcs7_signer(sig.signature).is_ok());
    // Cutting from the end removes the magic string: unsigned. Cutting the signature blob
    // itself (by shortening sig_len's span from the front) must never yield another signer.
    for n in sig.signed_len..bytes.len() {
        match kmod_sig::parse_trailer(&bytes[..n]) {
            Ok(None) | Err(_) => {}
            Ok(Some(s)) => panic!(
                "cut at {n} still reads a signature of {} bytes",
                s.signature.len()
            ),
        }
    }
    let blob = sig.signature;
    for n in 0..blob.len() {
        if let Ok(s) = kmod_sig::pkcs7_signer(&blob[..n]) {
            panic!(
                "a PKCS#7 blob cut at {n} of {} read as signed by {}",
                blob.len(),
                s.issuer
            );
        }
    }
    // Every bit flip of the blob is read without a panic; flips in its structure are errors
    // (flips in the signature value itself leave a readable signer, rightly: this parser
    // names the signer, the kernel's keyring checks the signature).
    let mut flipped = blob.to_vec();
    let mut refused = 0;
    for i in 0..flipped.len() {
        flipped[i] ^= 0x80;
        refused += usize::from(kmod_sig::pkcs7_signer(&flipped).is_err());
        flipped[i] ^= 0x80;
    }
    assert!(refused > 20, "only {refused} flips refused");
}
