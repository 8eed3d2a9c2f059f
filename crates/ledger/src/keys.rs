//! Signing keys on disk: Ed25519 or ECDSA P-256, private as PKCS#8 PEM (mode 0600), public as
//! SPKI PEM (what `openssl genpkey` / `openssl pkey -pubout` write). The log's own key is
//! Ed25519 only (C2SP signed notes); manifests, policies and verdicts may use either.

use std::io::Write;
use std::path::{Path, PathBuf};

use boardproof_signature::{self as signature, Curve, EcdsaEncoding, HashAlg, Scheme};
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

/// Key algorithms.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA over P-256 with SHA-256, signatures DER-encoded (as openssl writes them).
    EcdsaP256,
}

impl Algorithm {
    /// The name used on the command line and in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
        }
    }
}

/// A public key of either algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Ed25519.
    Ed25519(VerifyingKey),
    /// ECDSA P-256.
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

/// A private key of either algorithm.
#[derive(Clone)]
pub enum PrivateKey {
    /// Ed25519.
    Ed25519(SigningKey),
    /// ECDSA P-256.
    EcdsaP256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PrivateKey({} {})",
            self.algorithm().as_str(),
            self.public().key_id()
        )
    }
}

impl PublicKey {
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::EcdsaP256(_) => Algorithm::EcdsaP256,
        }
    }

    /// Key id: SHA-256 of the raw public key (Ed25519: the 32 bytes; P-256: the 65-byte
    /// uncompressed SEC1 point), lowercase hex.
    pub fn key_id(&self) -> String {
        match self {
            PublicKey::Ed25519(k) => key_id(k),
            PublicKey::EcdsaP256(k) => {
                hex::encode(Sha256::digest(k.to_encoded_point(false).as_bytes()))
            }
        }
    }

    /// Whether `sig` is this key's signature over `msg` (Ed25519; ECDSA P-256 with SHA-256,
    /// DER). A signature of the wrong length or encoding is simply not valid.
    ///
    /// Verification is `boardproof-signature`'s, the one stack every signature boardproof
    /// checks goes through (quotes, EK certificates, checkpoints). Keys are still read and
    /// signatures made with RustCrypto.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.verify_with(EcdsaEncoding::Der, msg, sig)
    }

    /// Whether `sig` is this P-256 key's fixed-width (r ‖ s, 64 bytes) signature over `msg`,
    /// as COSE writes ES256. Other keys: no.
    pub fn verify_p256_fixed(&self, msg: &[u8], sig: &[u8]) -> bool {
        matches!(self, PublicKey::EcdsaP256(_)) && self.verify_with(EcdsaEncoding::Fixed, msg, sig)
    }

    fn verify_with(&self, encoding: EcdsaEncoding, msg: &[u8], sig: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(k) => signature::verify(
                signature::PublicKey::Ed25519(k.as_bytes()),
                Scheme::Ed25519,
                msg,
                sig,
            ),
            PublicKey::EcdsaP256(k) => signature::verify(
                signature::PublicKey::Ec {
                    curve: Curve::P256,
                    point: k.to_encoded_point(false).as_bytes(),
                },
                Scheme::Ecdsa(HashAlg::Sha256, encoding),
                msg,
                sig,
            ),
        }
        .is_ok()
    }

    /// SPKI PEM.
    pub fn to_pem(&self) -> Result<String, Error> {
        let r = match self {
            PublicKey::Ed25519(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::EcdsaP256(k) => {
                p256::pkcs8::EncodePublicKey::to_public_key_pem(k, LineEnding::LF)
            }
        };
        r.map_err(|e| Error::Key {
            path: PathBuf::new(),
            what: "cannot encode the public key",
            why: e.to_string(),
        })
    }

    /// Parses SPKI PEM of either algorithm.
    pub fn from_pem(text: &str) -> Result<PublicKey, Error> {
        if let Ok(k) = VerifyingKey::from_public_key_pem(text) {
            return Ok(PublicKey::Ed25519(k));
        }
        p256::ecdsa::VerifyingKey::from_public_key_pem(text)
            .map(PublicKey::EcdsaP256)
            .map_err(|e| Error::NotAKey {
                what: "not an Ed25519 or ECDSA P-256 public key (SPKI PEM)",
                why: e.to_string(),
            })
    }
}

impl PrivateKey {
    /// The public half.
    pub fn public(&self) -> PublicKey {
        match self {
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            PrivateKey::EcdsaP256(k) => PublicKey::EcdsaP256(*k.verifying_key()),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.public().algorithm()
    }

    /// Signs `msg` (Ed25519: 64 bytes; P-256: SHA-256, DER-encoded, RFC 6979 nonces).
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match self {
            PrivateKey::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
            PrivateKey::EcdsaP256(k) => {
                let s: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, msg);
                s.to_der().as_bytes().to_vec()
            }
        }
    }

    /// A new random key.
    pub fn generate(alg: Algorithm) -> PrivateKey {
        match alg {
            Algorithm::Ed25519 => PrivateKey::Ed25519(SigningKey::generate(&mut rand_core::OsRng)),
            Algorithm::EcdsaP256 => {
                PrivateKey::EcdsaP256(p256::ecdsa::SigningKey::random(&mut rand_core::OsRng))
            }
        }
    }

    fn to_pem(&self) -> Result<String, String> {
        match self {
            PrivateKey::Ed25519(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::EcdsaP256(k) => {
                p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(k, LineEnding::LF)
            }
        }
        .map(|z| z.to_string())
        .map_err(|e| e.to_string())
    }

    fn from_pem(text: &str) -> Result<PrivateKey, String> {
        if let Ok(k) = SigningKey::from_pkcs8_pem(text) {
            return Ok(PrivateKey::Ed25519(k));
        }
        p256::ecdsa::SigningKey::from_pkcs8_pem(text)
            .map(PrivateKey::EcdsaP256)
            .map_err(|e| format!("neither an Ed25519 nor a P-256 PKCS#8 private key: {e}"))
    }
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
pub fn generate(
    prefix: &Path,
    alg: Algorithm,
    force: bool,
) -> Result<(PathBuf, PathBuf, String), Error> {
    let (private, public) = key_paths(prefix);
    if !force {
        for p in [&private, &public] {
            if p.exists() {
                return Err(Error::Exists(p.clone()));
            }
        }
    }
    let sk = PrivateKey::generate(alg);
    let pem = sk.to_pem().map_err(|why| Error::Key {
        path: private.clone(),
        what: "cannot encode the private key",
        why,
    })?;
    let pub_pem = sk.public().to_pem().map_err(|_| Error::Key {
        path: public.clone(),
        what: "cannot encode the public key",
        why: "PEM".into(),
    })?;
    write_new(&private, pem.as_bytes(), 0o600, force)?;
    write_new(&public, pub_pem.as_bytes(), 0o644, force)?;
    Ok((private, public, sk.public().key_id()))
}

fn read_text(path: &Path) -> Result<String, Error> {
    Ok(boardproof_input::read_text(
        path,
        boardproof_input::Kind::Key,
    )?)
}

/// Loads a private key of either algorithm.
pub fn load_private_key(path: &Path) -> Result<PrivateKey, Error> {
    PrivateKey::from_pem(&read_text(path)?).map_err(|why| Error::Key {
        path: path.to_owned(),
        what: "not an Ed25519 or ECDSA P-256 private key (PKCS#8 PEM)",
        why,
    })
}

/// Loads a public key of either algorithm.
pub fn load_public_key(path: &Path) -> Result<PublicKey, Error> {
    PublicKey::from_pem(&read_text(path)?).map_err(|e| match e {
        Error::NotAKey { what, why } => Error::Key {
            path: path.to_owned(),
            what,
            why,
        },
        other => other,
    })
}

/// Loads an Ed25519 private key (the log's key: C2SP notes are Ed25519).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, Error> {
    let text = read_text(path)?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| Error::Key {
        path: path.to_owned(),
        what: "not an Ed25519 private key (PKCS#8 PEM; a log key is always Ed25519)",
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
        let (sk_path, pk_path, id) = generate(&prefix, Algorithm::Ed25519, false).unwrap();
        let mode = std::fs::metadata(&sk_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sk = load_signing_key(&sk_path).unwrap();
        let pk = load_public_key(&pk_path).unwrap();
        assert_eq!(PublicKey::Ed25519(sk.verifying_key()), pk);
        assert_eq!(pk.key_id(), id);
        let before = std::fs::read(&sk_path).unwrap();
        assert!(matches!(
            generate(&prefix, Algorithm::Ed25519, false),
            Err(Error::Exists(_))
        ));
        assert_eq!(std::fs::read(&sk_path).unwrap(), before);
        generate(&prefix, Algorithm::Ed25519, true).unwrap();
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
        assert!(matches!(load_public_key(&p), Err(Error::Key { .. })));
        let (sk_path, _, _) = generate(&dir.path().join("k"), Algorithm::Ed25519, false).unwrap();
        // a private key where a public key is expected
        assert!(load_public_key(&sk_path).is_err());
    }

    #[test]
    fn p256_keys_sign_and_verify_and_refuse_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (sk_path, pk_path, id) =
            generate(&dir.path().join("p"), Algorithm::EcdsaP256, false).unwrap();
        let sk = load_private_key(&sk_path).unwrap();
        let pk = load_public_key(&pk_path).unwrap();
        assert_eq!(pk.algorithm(), Algorithm::EcdsaP256);
        assert_eq!(pk.key_id(), id);
        let sig = sk.sign(b"m");
        assert!(pk.verify(b"m", &sig));
        assert!(!pk.verify(b"n", &sig));
        let ed = PrivateKey::generate(Algorithm::Ed25519);
        assert!(!pk.verify(b"m", &ed.sign(b"m")));
        assert!(!ed.public().verify(b"m", &sig));
        // Ed25519-only loaders refuse a P-256 key.
        assert!(load_signing_key(&sk_path).is_err());
    }
}
