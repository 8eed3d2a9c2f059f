//! Loaded kernel modules (proc/modules) with the sha256 and signer of each module file under
//! lib/modules/<release>.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use boardproof_evidence::{Inventory, KernelModule, ModuleSignature, Volatile};
use boardproof_formats::kmod_sig;

use crate::fsutil::{read_capped, read_trimmed, sha256_hex, under};
use crate::{Error, SourceOutput};

/// Module file name endings, plain and compressed.
const MODULE_SUFFIXES: [&str; 4] = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];
/// Files visited while indexing lib/modules; a real tree holds a few thousand.
const MAX_TREE_FILES: usize = 200_000;

/// Module names use `_` in /proc/modules and either `_` or `-` in file names.
fn normalize(name: &str) -> String {
    name.replace('-', "_")
}

fn index_tree(dir: &Path, map: &mut HashMap<String, PathBuf>, seen: &mut usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        *seen += 1;
        if *seen > MAX_TREE_FILES {
            return;
        }
        let Ok(ft) = e.file_type() else { continue };
        let path = e.path();
        if ft.is_dir() {
            index_tree(&path, map, seen);
        } else if ft.is_file() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(stem) = MODULE_SUFFIXES.iter().find_map(|s| name.strip_suffix(s)) {
                map.entry(normalize(stem)).or_insert(path);
            }
        }
    }
}

fn signature_of(path: &Path, bytes: &[u8]) -> ModuleSignature {
    let name = path.to_string_lossy();
    if !name.ends_with(".ko") {
        return ModuleSignature::NotInspected {
            reason: "compressed module file; the signature is inside the compressed data".into(),
        };
    }
    match kmod_sig::parse_trailer(bytes) {
        Ok(None) => ModuleSignature::Unsigned,
        Ok(Some(sig)) if sig.id_type == kmod_sig::PKEY_ID_PKCS7 => {
            match kmod_sig::pkcs7_signer(sig.signature) {
                Ok(s) => ModuleSignature::Signed {
                    signer: s.issuer_cn,
                    issuer: s.issuer,
                    serial: s.serial,
                    digest_algorithm: s.digest_algorithm,
                },
                Err(e) => ModuleSignature::Malformed {
                    reason: e.to_string(),
                },
            }
        }
        Ok(Some(sig)) => ModuleSignature::Signed {
            signer: sig
                .legacy_signer
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            issuer: String::new(),
            serial: String::new(),
            digest_algorithm: format!("legacy id_type {}", sig.id_type),
        },
        Err(e) => ModuleSignature::Malformed {
            reason: e.to_string(),
        },
    }
}

pub fn collect(
    root: &Path,
    inv: &mut Inventory,
    vol: &mut Volatile,
) -> Result<SourceOutput, Error> {
    let path = under(root, "proc/modules");
    if !path.exists() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: the kernel has no loadable module support, or /proc is not mounted",
            path.display()
        )));
    }
    let text = String::from_utf8_lossy(&read_capped(&path)?).into_owned();
    let release = read_trimmed(root, "proc/sys/kernel/osrelease").unwrap_or_default();
    let tree = under(root, &format!("lib/modules/{release}"));
    let mut files = HashMap::new();
    let mut seen = 0;
    index_tree(&tree, &mut files, &mut seen);
    let mut out = SourceOutput::default();
    if seen > MAX_TREE_FILES {
        out.notes.push(format!(
            "{} holds more than {MAX_TREE_FILES} files; indexing stopped there",
            tree.display()
        ));
    }
    let mut missing = 0;
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let Some(name) = parts.next() else { continue };
        let _size = parts.next();
        let refcount = parts.next().unwrap_or("?");
        let _deps = parts.next();
        let state = parts.next().unwrap_or("?");
        vol.module_state
            .insert(name.to_owned(), format!("{state} refcount={refcount}"));
        let module = match files.get(&normalize(name)) {
            None => {
                missing += 1;
                KernelModule {
                    name: name.to_owned(),
                    file: None,
                    sha256: None,
                    signature: ModuleSignature::FileMissing {
                        reason: format!("no module file for it under {}", tree.display()),
                    },
                }
            }
            Some(p) => {
                let rel = p
                    .strip_prefix(root)
                    .map_or_else(|_| p.display().to_string(), |r| r.display().to_string());
                match read_capped(p) {
                    Ok(bytes) => KernelModule {
                        name: name.to_owned(),
                        file: Some(rel),
                        sha256: Some(sha256_hex(&bytes)),
                        signature: signature_of(p, &bytes),
                    },
                    Err(e) => KernelModule {
                        name: name.to_owned(),
                        file: Some(rel),
                        sha256: None,
                        signature: ModuleSignature::FileMissing {
                            reason: e.to_string(),
                        },
                    },
                }
            }
        };
        inv.kernel_modules.push(module);
        out.items += 1;
    }
    inv.kernel_modules.sort_by(|a, b| a.name.cmp(&b.name));
    if missing > 0 {
        out.notes.push(format!(
            "{missing} loaded modules have no file under {}",
            tree.display()
        ));
    }
    Ok(out)
}
