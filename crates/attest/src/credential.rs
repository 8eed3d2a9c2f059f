//! TPM2_MakeCredential in software (TPM 2.0 Part 1, 24: credential protection; Part 3, 12.6).
//!
//! The verifier never holds a TPM. It takes the EK public area the server reported and the AK
//! name, and produces the two blobs TPM2_ActivateCredential consumes. The secret inside comes
//! back only from the TPM that holds the EK's private key and has an object with exactly that
//! name loaded (a name hashes the AK's whole public area, attributes included, so a software
//! key posing as a fixedTPM AK has a different name or cannot be loaded).

use aes::cipher::{AsyncStreamCipher, KeyIvInit};
use boardproof_formats::tpm2::{Public, PublicKey, ALG_AES, ECC_NIST_P256};
use rand_core::{OsRng, RngCore};

use crate::kdf::{hmac, kdfa, kdfe};
use crate::Error;

/// What the verifier sends the agent, and keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// TPM2B_ID_OBJECT, marshalled with its size: the `credentialBlob` parameter.
    pub credential_blob: Vec<u8>,
    /// TPM2B_ENCRYPTED_SECRET, marshalled with its size: the `secret` parameter.
    pub encrypted_secret: Vec<u8>,
}

/// The largest credential: TPM2B_DIGEST of the EK's name algorithm (SHA-256: 32 bytes).
pub const SECRET_LEN: usize = 32;

/// Makes a challenge for `secret`, encrypted to `ek` and bound to the AK named `ak_name`.
pub fn make_credential(ek: &Public, ak_name: &[u8], secret: &[u8]) -> Result<Challenge, Error> {
    let digest_len = boardproof_formats::eventlog::hash(ek.name_alg, &[])
        .ok_or_else(|| Error::Unsupported(format!("EK name algorithm {:#06x}", ek.name_alg)))?
        .len();
    if secret.is_empty() || secret.len() > digest_len {
        return Err(Error::Unsupported(format!(
            "a credential of {} bytes (1 to {digest_len} fit this EK)",
            secret.len()
        )));
    }
    if ek.symmetric != ALG_AES || !matches!(ek.symmetric_bits, 128 | 256) {
        return Err(Error::KeyNotFit(format!(
            "EK symmetric algorithm {:#06x}/{} bits: an EK protects credentials with AES-128 or \
             AES-256 in CFB mode",
            ek.symmetric, ek.symmetric_bits
        )));
    }
    let (seed, encrypted) = seed_for(ek, digest_len)?;
    let bits = u32::try_from(digest_len * 8).unwrap_or(u32::MAX);
    let sym_key = kdfa(
        ek.name_alg,
        &seed,
        "STORAGE",
        ak_name,
        &[],
        u32::from(ek.symmetric_bits),
    )?;
    let mut enc_identity = Vec::with_capacity(2 + secret.len());
    enc_identity.extend_from_slice(&u16_len(secret.len())?.to_be_bytes());
    enc_identity.extend_from_slice(secret);
    let iv = [0u8; 16];
    match sym_key.len() {
        16 => cfb_mode::Encryptor::<aes::Aes128>::new_from_slices(&sym_key, &iv)
            .map_err(|e| Error::Unsupported(e.to_string()))?
            .encrypt(&mut enc_identity),
        _ => cfb_mode::Encryptor::<aes::Aes256>::new_from_slices(&sym_key, &iv)
            .map_err(|e| Error::Unsupported(e.to_string()))?
            .encrypt(&mut enc_identity),
    }
    let hmac_key = kdfa(ek.name_alg, &seed, "INTEGRITY", &[], &[], bits)?;
    let outer = hmac(ek.name_alg, &hmac_key, &[&enc_identity, ak_name])?;
    let mut id_object = Vec::new();
    id_object.extend_from_slice(&u16_len(outer.len())?.to_be_bytes());
    id_object.extend_from_slice(&outer);
    id_object.extend_from_slice(&enc_identity);
    Ok(Challenge {
        credential_blob: sized(&id_object)?,
        encrypted_secret: sized(&encrypted)?,
    })
}

/// A fresh random secret.
pub fn fresh_secret() -> Result<[u8; SECRET_LEN], Error> {
    let mut s = [0u8; SECRET_LEN];
    OsRng
        .try_fill_bytes(&mut s)
        .map_err(|e| Error::Random(e.to_string()))?;
    Ok(s)
}

/// The seed and its encryption to the EK: RSA-OAEP with the label "IDENTITY" (Part 1, B.10.3),
/// or ECDH with an ephemeral key and KDFe (Part 1, C.6.4).
fn seed_for(ek: &Public, digest_len: usize) -> Result<(Vec<u8>, Vec<u8>), Error> {
    match &ek.key {
        PublicKey::Rsa {
            exponent, modulus, ..
        } => {
            let key = rsa_key(modulus, *exponent)?;
            let mut seed = vec![0u8; digest_len];
            OsRng
                .try_fill_bytes(&mut seed)
                .map_err(|e| Error::Random(e.to_string()))?;
            let padding = match boardproof_formats::tpm2::HashAlg::from_id(ek.name_alg) {
                Some(boardproof_formats::tpm2::HashAlg::Sha256) => {
                    rsa::Oaep::new_with_label::<sha2::Sha256, _>("IDENTITY\0")
                }
                Some(boardproof_formats::tpm2::HashAlg::Sha384) => {
                    rsa::Oaep::new_with_label::<sha2::Sha384, _>("IDENTITY\0")
                }
                _ => {
                    return Err(Error::Unsupported(format!(
                        "RSA EK with name algorithm {:#06x}",
                        ek.name_alg
                    )))
                }
            };
            let encrypted = key
                .encrypt(&mut OsRng, padding, &seed)
                .map_err(|e| Error::KeyNotFit(format!("RSA-OAEP to the EK: {e}")))?;
            Ok((seed, encrypted))
        }
        PublicKey::Ecc { curve, x, y } => {
            if *curve != ECC_NIST_P256 {
                return Err(Error::Unsupported(format!(
                    "ECC EK on curve {curve:#06x} (P-256 is supported)"
                )));
            }
            let ek_point = p256::PublicKey::from_sec1_bytes(&sec1(x, y))
                .map_err(|e| Error::KeyNotFit(format!("EK point is not on P-256: {e}")))?;
            let eph = p256::ecdh::EphemeralSecret::random(&mut OsRng);
            let eph_pub = p256::EncodedPoint::from(eph.public_key());
            let shared = eph.diffie_hellman(&ek_point);
            let (Some(ex), Some(ey)) = (eph_pub.x(), eph_pub.y()) else {
                return Err(Error::KeyNotFit("ephemeral point at infinity".into()));
            };
            let bits = u32::try_from(digest_len * 8).unwrap_or(u32::MAX);
            let seed = kdfe(
                ek.name_alg,
                shared.raw_secret_bytes(),
                "IDENTITY",
                ex,
                &pad32(x),
                bits,
            )?;
            let mut point = Vec::new();
            point.extend_from_slice(&sized(ex)?);
            point.extend_from_slice(&sized(ey)?);
            Ok((seed, point))
        }
    }
}

fn pad32(v: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32usize.saturating_sub(v.len())];
    out.extend_from_slice(v);
    out
}

/// An uncompressed SEC1 point from TPM coordinates (which may drop leading zeros).
pub(crate) fn sec1(x: &[u8], y: &[u8]) -> Vec<u8> {
    let n = x.len().max(y.len());
    let mut p = vec![4u8];
    for c in [x, y] {
        p.extend(std::iter::repeat_n(0u8, n.saturating_sub(c.len())));
        p.extend_from_slice(c);
    }
    p
}

pub(crate) fn rsa_key(modulus: &[u8], exponent: u32) -> Result<rsa::RsaPublicKey, Error> {
    let e = if exponent == 0 { 65537 } else { exponent };
    rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(modulus), rsa::BigUint::from(e))
        .map_err(|e| Error::KeyNotFit(format!("RSA public key: {e}")))
}

fn u16_len(n: usize) -> Result<u16, Error> {
    u16::try_from(n).map_err(|_| Error::Unsupported(format!("a TPM2B of {n} bytes")))
}

/// `size || bytes`.
fn sized(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = u16_len(bytes.len())?.to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    Ok(out)
}
