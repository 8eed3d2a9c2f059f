//! One signature stack. Every signature boardproof checks — DSSE envelopes and CoRIM, TPM
//! quotes, EK and platform certificates, transparency-log checkpoints — goes through
//! [`verify`], so one implementation decides what is valid, and one set of figures in
//! docs/performance.md says how fast.
//!
//! The implementation is ring: its assembly verifies ECDSA as fast as OpenSSL on this
//! project's machines, where RustCrypto's portable p256 took four to five times longer. ring
//! verifies a fixed set of pairings; anything outside it is [`Error::Unsupported`] (the caller
//! could not verify — never "valid", never "forged"). One scheme ring lacks is still needed:
//! RSASSA-PSS with the longest salt, which TPM firmware written before the salt length was
//! fixed to the digest length produces. That one case falls back to RustCrypto's `rsa` after
//! ring has refused the signature, so a current signature costs one ring verify.

pub use boardproof_formats::tpm2::HashAlg;

/// Why a signature was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The key, scheme and hash are a combination this stack does not verify.
    #[error("{0} is not supported (supported: Ed25519; ECDSA P-256/P-384 with SHA-256/SHA-384; RSA PKCS#1 v1.5 and PSS with SHA-256/384/512, PKCS#1 also SHA-1)")]
    Unsupported(String),
    /// The key is not a key of its kind (a point off the curve, a malformed modulus).
    #[error("bad public key: {0}")]
    BadKey(&'static str),
    /// The signature is not this key's signature over this message.
    #[error("the signature does not verify")]
    Invalid,
}

/// An elliptic curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
}

impl Curve {
    /// Bytes in a coordinate or scalar.
    pub fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        }
    }
}

/// A public key, as the bytes its container holds.
#[derive(Debug, Clone, Copy)]
pub enum PublicKey<'a> {
    /// An Ed25519 key: 32 bytes.
    Ed25519(&'a [u8]),
    /// An ECDSA key: the uncompressed SEC1 point `04 ‖ x ‖ y`.
    Ec {
        /// Its curve.
        curve: Curve,
        /// The point.
        point: &'a [u8],
    },
    /// An RSA key as a PKCS#1 `RSAPublicKey` (what an X.509 SubjectPublicKeyInfo holds).
    RsaPkcs1Der(&'a [u8]),
    /// An RSA key as its modulus and public exponent, big-endian (what a TPM public area
    /// holds).
    Rsa {
        /// The modulus.
        n: &'a [u8],
        /// The public exponent.
        e: &'a [u8],
    },
}

/// How an ECDSA signature is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcdsaEncoding {
    /// A DER `Ecdsa-Sig-Value` (X.509, DSSE).
    Der,
    /// `r ‖ s`, each left-padded to the curve's size (COSE, TPM quotes).
    Fixed,
}

/// A signature scheme and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Ed25519 (pure).
    Ed25519,
    /// ECDSA with this hash of the message.
    Ecdsa(HashAlg, EcdsaEncoding),
    /// RSASSA-PKCS1-v1_5 with this hash.
    RsaPkcs1(HashAlg),
    /// RSASSA-PSS with this hash, MGF1 with the same hash, and a salt as long as the digest or
    /// the longest the key allows (older TPM firmware).
    RsaPss(HashAlg),
}

/// Checks that `signature` is `key`'s signature over `message` under `scheme`. The message is
/// hashed here, as every scheme above defines.
pub fn verify(
    key: PublicKey<'_>,
    scheme: Scheme,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    use ring::signature as r;
    match (scheme, key) {
        (Scheme::Ed25519, PublicKey::Ed25519(k)) => {
            if k.len() != r::ED25519_PUBLIC_KEY_LEN {
                return Err(Error::BadKey("an Ed25519 key is 32 bytes"));
            }
            ring_verify(&r::ED25519, k, message, signature)
        }
        (Scheme::Ecdsa(hash, encoding), PublicKey::Ec { curve, point }) => {
            if point.len() != 1 + 2 * curve.size() || point.first() != Some(&4) {
                return Err(Error::BadKey("not an uncompressed point of its curve"));
            }
            let der;
            let (alg, sig): (&'static dyn r::VerificationAlgorithm, &[u8]) =
                match (curve, hash, encoding) {
                    (Curve::P256, HashAlg::Sha256, EcdsaEncoding::Fixed) => {
                        (&r::ECDSA_P256_SHA256_FIXED, signature)
                    }
                    (Curve::P384, HashAlg::Sha384, EcdsaEncoding::Fixed) => {
                        (&r::ECDSA_P384_SHA384_FIXED, signature)
                    }
                    (Curve::P256, HashAlg::Sha256, EcdsaEncoding::Der) => {
                        (&r::ECDSA_P256_SHA256_ASN1, signature)
                    }
                    (Curve::P384, HashAlg::Sha384, EcdsaEncoding::Der) => {
                        (&r::ECDSA_P384_SHA384_ASN1, signature)
                    }
                    // ring has the crossed pairings in DER only
                    (Curve::P256 | Curve::P384, HashAlg::Sha256 | HashAlg::Sha384, _) => {
                        let alg: &'static dyn r::VerificationAlgorithm = match (curve, hash) {
                            (Curve::P256, _) => &r::ECDSA_P256_SHA384_ASN1,
                            _ => &r::ECDSA_P384_SHA256_ASN1,
                        };
                        match encoding {
                            EcdsaEncoding::Der => (alg, signature),
                            EcdsaEncoding::Fixed => {
                                der =
                                    fixed_to_der(signature, curve.size()).ok_or(Error::Invalid)?;
                                (alg, der.as_slice())
                            }
                        }
                    }
                    _ => {
                        return Err(Error::Unsupported(format!(
                            "ECDSA {} with {}",
                            curve.name(),
                            hash.name()
                        )))
                    }
                };
            ring_verify(alg, point, message, sig)
        }
        (Scheme::RsaPkcs1(hash), key @ (PublicKey::Rsa { .. } | PublicKey::RsaPkcs1Der(_))) => {
            let small = rsa_bits(key)? < 2048;
            let params: &'static r::RsaParameters = match (hash, small) {
                (HashAlg::Sha1, false) => &r::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                (HashAlg::Sha256, false) => &r::RSA_PKCS1_2048_8192_SHA256,
                (HashAlg::Sha384, false) => &r::RSA_PKCS1_2048_8192_SHA384,
                (HashAlg::Sha512, false) => &r::RSA_PKCS1_2048_8192_SHA512,
                (HashAlg::Sha1, true) => &r::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                (HashAlg::Sha256, true) => &r::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                (HashAlg::Sha512, true) => &r::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
                _ => {
                    return Err(Error::Unsupported(format!(
                        "RSA PKCS#1 v1.5 with {}{}",
                        hash.name(),
                        if small {
                            " on a key under 2048 bits"
                        } else {
                            ""
                        }
                    )))
                }
            };
            rsa_ring(params, key, message, signature)
        }
        (Scheme::RsaPss(hash), key @ (PublicKey::Rsa { .. } | PublicKey::RsaPkcs1Der(_))) => {
            let params: &'static r::RsaParameters = match hash {
                HashAlg::Sha256 => &r::RSA_PSS_2048_8192_SHA256,
                HashAlg::Sha384 => &r::RSA_PSS_2048_8192_SHA384,
                HashAlg::Sha512 => &r::RSA_PSS_2048_8192_SHA512,
                _ => return Err(Error::Unsupported(format!("RSA PSS with {}", hash.name()))),
            };
            match rsa_ring(params, key, message, signature) {
                Ok(()) => Ok(()),
                Err(Error::Invalid) => pss_longest_salt(key, hash, message, signature),
                Err(e) => Err(e),
            }
        }
        (scheme, _) => Err(Error::Unsupported(format!(
            "{scheme:?} with a key of another kind"
        ))),
    }
}

fn ring_verify(
    alg: &'static dyn ring::signature::VerificationAlgorithm,
    key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    ring::signature::UnparsedPublicKey::new(alg, key)
        .verify(message, signature)
        .map_err(|_| Error::Invalid)
}

fn rsa_ring(
    params: &'static ring::signature::RsaParameters,
    key: PublicKey<'_>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    match key {
        PublicKey::Rsa { n, e } => ring::signature::RsaPublicKeyComponents { n, e }
            .verify(params, message, signature)
            .map_err(|_| Error::Invalid),
        PublicKey::RsaPkcs1Der(der) => ring_verify(params, der, message, signature),
        _ => Err(Error::BadKey("not an RSA key")),
    }
}

/// The RSA key as RustCrypto's type (for its size and the PSS fallback).
fn rsa_key(key: PublicKey<'_>) -> Result<rsa::RsaPublicKey, Error> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    match key {
        PublicKey::Rsa { n, e } => {
            let e = rsa::BigUint::from_bytes_be(e);
            rsa::RsaPublicKey::new_with_max_size(rsa::BigUint::from_bytes_be(n), e, 8192)
                .map_err(|_| Error::BadKey("not a valid RSA modulus and exponent"))
        }
        PublicKey::RsaPkcs1Der(der) => rsa::RsaPublicKey::from_pkcs1_der(der)
            .map_err(|_| Error::BadKey("not a PKCS#1 RSAPublicKey")),
        _ => Err(Error::BadKey("not an RSA key")),
    }
}

/// The modulus length in bits, without a big-number parse for the common (n, e) form.
fn rsa_bits(key: PublicKey<'_>) -> Result<usize, Error> {
    match key {
        PublicKey::Rsa { n, .. } => {
            let start = n.iter().position(|&b| b != 0).unwrap_or(n.len());
            let n = n.get(start..).unwrap_or_default();
            let top = n.first().map_or(0, |b| 8 - b.leading_zeros() as usize);
            Ok(n.len()
                .saturating_sub(1)
                .saturating_mul(8)
                .saturating_add(top))
        }
        other => {
            use rsa::traits::PublicKeyParts;
            Ok(rsa_key(other)?.n().bits())
        }
    }
}

/// RSASSA-PSS with the longest salt the key allows (TPM 2.0 Part 1, B.7, as it read before
/// revision 1.38; go-tpm and tpm2-tools accept it too). ring fixes the salt to the digest
/// length, so this is RustCrypto's: the one verification outside ring.
fn pss_longest_salt(
    key: PublicKey<'_>,
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    use rsa::traits::PublicKeyParts;
    let key = rsa_key(key)?;
    let h = hash.size();
    let salt = key.size().saturating_sub(h).saturating_sub(2);
    let digest = hash.hash(&[message]);
    let scheme = match hash {
        HashAlg::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
        HashAlg::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
        HashAlg::Sha512 => rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
        _ => return Err(Error::Unsupported(format!("RSA PSS with {}", hash.name()))),
    };
    key.verify(scheme, &digest, signature)
        .map_err(|_| Error::Invalid)
}

/// `r ‖ s` (each `n` bytes) as a DER `Ecdsa-Sig-Value`; `None` when not `2n` bytes.
fn fixed_to_der(sig: &[u8], n: usize) -> Option<Vec<u8>> {
    if sig.len() != n.checked_mul(2)? {
        return None;
    }
    let (r, s) = sig.split_at(n);
    let mut body = Vec::with_capacity(sig.len().saturating_add(8));
    for v in [r, s] {
        let start = v
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(v.len().saturating_sub(1));
        let v = v.get(start..)?;
        let pad = v.first().is_some_and(|&b| b & 0x80 != 0);
        body.push(0x02);
        body.push(u8::try_from(v.len().saturating_add(usize::from(pad))).ok()?);
        if pad {
            body.push(0);
        }
        body.extend_from_slice(v);
    }
    let mut out = vec![0x30];
    let len = body.len();
    if len < 0x80 {
        out.push(u8::try_from(len).ok()?);
    } else {
        out.push(0x81);
        out.push(u8::try_from(len).ok()?);
    }
    out.extend_from_slice(&body);
    Some(out)
}
