//! Ed25519 keys on disk: private as PKCS#8 PEM (mode 0600), public as SPKI PEM.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Error;

/// The two files `keygen` writes for `prefix`.
pub fn key_paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let p = prefix.as_os_str().to_owned();
    let mut private = p.clone();
    private.push(".key");
    let mut public = p;
    public.push(".pub");
    (PathBuf::from(private), PathBuf::from(public))
}

/// A key id: sha256 of the 32-byte public key, lowercase hex.
pub fn key_id(vk: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(vk.as_bytes()))
}

/// Writes `bytes` to `path` with `mode`, refusing to replace an existing file unless `force`.
/// With `force` the file is written beside and renamed over, so a crash never leaves half a key.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32, force: bool) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if !force && path.exists() {
        return Err(Error::Exists(path.to_owned()));
    }
    let tmp = {
        let mut t = path.as_os_str().to_owned();
        t.push(format!(".tmp{}", std::process::id()));
        PathBuf::from(t)
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    let placed = if force {
        std::fs::rename(&tmp, path)
    } else {
        // hard_link fails if the target appeared meanwhile: never overwrite without --force.
        std::fs::hard_link(&tmp, path)
    };
    let _ = std::fs::remove_file(&tmp);
    placed.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Exists(path.to_owned())
        } else {
            io(e)
        }
    })
}

/// Generates a key pair and writes `PREFIX.key` (0600) and `PREFIX.pub` (0644).
pub fn generate(prefix: &Path, force: bool) -> Result<(PathBuf, PathBuf, String), Error> {
    let (private, public) = key_paths(prefix);
    if !force {
        for p in [&private, &public] {
            if p.exists() {
                return Err(Error::Exists(p.clone()));
            }
        }
    }
    let sk = SigningKey::generate(&mut rand_core::OsRng);
    let pem = sk.to_pkcs8_pem(LineEnding::LF).map_err(|e| Error::Key {
        path: private.clone(),
        what: "private key",
        why: e.to_string(),
    })?;
    let pub_pem = sk
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::Key {
            path: public.clone(),
            what: "public key",
            why: e.to_string(),
        })?;
    write_new(&private, pem.as_bytes(), 0o600, force)?;
    write_new(&public, pub_pem.as_bytes(), 0o644, force)?;
    Ok((private, public, key_id(&sk.verifying_key())))
}

fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| Error::Key {
        path: path.to_owned(),
        what: "key",
        why: "not UTF-8 text".into(),
    })
}

/// Loads a private key.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, Error> {
    let text = read_text(path)?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| Error::Key {
        path: path.to_owned(),
        what: "private key (PKCS#8)",
        why: e.to_string(),
    })
}

/// Loads a public key.
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, Error> {
    let text = read_text(path)?;
    VerifyingKey::from_public_key_pem(&text).map_err(|e| Error::Key {
        path: path.to_owned(),
        what: "public key (SPKI)",
        why: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn keygen_writes_0600_and_refuses_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("vendor");
        let (sk_path, pk_path, id) = generate(&prefix, false).unwrap();
        let mode = std::fs::metadata(&sk_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sk = load_signing_key(&sk_path).unwrap();
        let pk = load_verifying_key(&pk_path).unwrap();
        assert_eq!(sk.verifying_key(), pk);
        assert_eq!(key_id(&pk), id);
        let before = std::fs::read(&sk_path).unwrap();
        assert!(matches!(generate(&prefix, false), Err(Error::Exists(_))));
        assert_eq!(std::fs::read(&sk_path).unwrap(), before);
        generate(&prefix, true).unwrap();
        assert_ne!(std::fs::read(&sk_path).unwrap(), before);
        let mode = std::fs::metadata(&sk_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn wrong_key_type_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pub");
        std::fs::write(
            &p,
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        )
        .unwrap();
        assert!(matches!(load_verifying_key(&p), Err(Error::Key { .. })));
        let (sk_path, _, _) = generate(&dir.path().join("k"), false).unwrap();
        // a private key where a public key is expected
        assert!(load_verifying_key(&sk_path).is_err());
    }
}
