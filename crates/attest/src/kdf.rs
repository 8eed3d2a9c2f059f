//! The TPM's key derivation functions (TPM 2.0 Part 1, 11.4.10): KDFa, an HMAC counter-mode
//! KDF (SP 800-108), and KDFe, the hash counter-mode KDF of SP 800-56A for ECDH.
//!
//! Written here because they are a few lines over `hmac`/`sha2` and no crate implements the
//! TPM's exact framing (a NUL-terminated label, contexts, and the bit count at the end).

use boardproof_formats::tpm2::HashAlg;
use hmac::{Hmac, Mac};

use crate::Error;

/// The label as the TPM uses it: the text and its terminating NUL.
fn label_bytes(label: &str) -> Vec<u8> {
    let mut l = label.as_bytes().to_vec();
    if l.last() != Some(&0) {
        l.push(0);
    }
    l
}

fn hmac_parts(alg: u16, key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, Error> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, Error> {
        // HMAC accepts keys of any length; the error exists only in the generic signature.
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .map_err(|e| Error::Unsupported(format!("HMAC key: {e}")))?;
        for p in parts {
            m.update(p);
        }
        Ok(m.finalize().into_bytes().to_vec())
    }
    match HashAlg::from_id(alg) {
        Some(HashAlg::Sha1) => run::<Hmac<sha1::Sha1>>(key, parts),
        Some(HashAlg::Sha256) => run::<Hmac<sha2::Sha256>>(key, parts),
        Some(HashAlg::Sha384) => run::<Hmac<sha2::Sha384>>(key, parts),
        Some(HashAlg::Sha512) => run::<Hmac<sha2::Sha512>>(key, parts),
        Some(HashAlg::Sm3_256) | None => Err(Error::Unsupported(format!(
            "HMAC with algorithm {alg:#06x}"
        ))),
    }
}

/// `HMAC_alg(key, parts...)`.
pub fn hmac(alg: u16, key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, Error> {
    hmac_parts(alg, key, parts)
}

/// KDFa(alg, key, label, context_u, context_v, bits).
pub fn kdfa(
    alg: u16,
    key: &[u8],
    label: &str,
    context_u: &[u8],
    context_v: &[u8],
    bits: u32,
) -> Result<Vec<u8>, Error> {
    let label = label_bytes(label);
    let want = usize::try_from(bits.div_ceil(8))
        .map_err(|_| Error::Unsupported(format!("KDFa of {bits} bits")))?;
    let mut out = Vec::with_capacity(want);
    let mut counter: u32 = 1;
    while out.len() < want {
        let block = hmac_parts(
            alg,
            key,
            &[
                &counter.to_be_bytes(),
                &label,
                context_u,
                context_v,
                &bits.to_be_bytes(),
            ],
        )?;
        out.extend_from_slice(&block);
        counter = counter
            .checked_add(1)
            .ok_or_else(|| Error::Unsupported("KDFa counter overflow".into()))?;
    }
    out.truncate(want);
    Ok(out)
}

/// KDFe(alg, z, label, party_u, party_v, bits): `H(counter || Z || label || U || V)` blocks.
pub fn kdfe(
    alg: u16,
    z: &[u8],
    label: &str,
    party_u: &[u8],
    party_v: &[u8],
    bits: u32,
) -> Result<Vec<u8>, Error> {
    let label = label_bytes(label);
    let want = usize::try_from(bits.div_ceil(8))
        .map_err(|_| Error::Unsupported(format!("KDFe of {bits} bits")))?;
    let mut out = Vec::with_capacity(want);
    let mut counter: u32 = 1;
    while out.len() < want {
        let block = boardproof_formats::eventlog::hash(
            alg,
            &[&counter.to_be_bytes(), z, &label, party_u, party_v],
        )
        .ok_or_else(|| Error::Unsupported(format!("hash algorithm {alg:#06x}")))?;
        out.extend_from_slice(&block);
        counter = counter
            .checked_add(1)
            .ok_or_else(|| Error::Unsupported("KDFe counter overflow".into()))?;
    }
    out.truncate(want);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kdfa_truncates_to_the_bits_asked_and_depends_on_every_input() {
        let a = kdfa(HashAlg::Sha256.id(), b"seed", "STORAGE", b"name", b"", 128).unwrap();
        assert_eq!(a.len(), 16);
        let long = kdfa(HashAlg::Sha256.id(), b"seed", "STORAGE", b"name", b"", 512).unwrap();
        assert_eq!(long.len(), 64);
        // The bit count is hashed in, so a longer output is not an extension of a shorter one.
        assert_ne!(&long[..16], &a[..]);
        for other in [
            kdfa(HashAlg::Sha256.id(), b"seeD", "STORAGE", b"name", b"", 128).unwrap(),
            kdfa(
                HashAlg::Sha256.id(),
                b"seed",
                "INTEGRITY",
                b"name",
                b"",
                128,
            )
            .unwrap(),
            kdfa(HashAlg::Sha256.id(), b"seed", "STORAGE", b"namE", b"", 128).unwrap(),
            kdfa(HashAlg::Sha256.id(), b"seed", "STORAGE", b"name", b"v", 128).unwrap(),
        ] {
            assert_ne!(other, a);
        }
    }

    #[test]
    fn kdfa_first_block_is_the_specified_hmac() {
        // One block, computed from the definition with the hmac crate directly.
        let mut m = <Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new_from_slice(b"k").unwrap();
        m.update(&1u32.to_be_bytes());
        m.update(b"INTEGRITY\0");
        m.update(&256u32.to_be_bytes());
        let want = m.finalize().into_bytes().to_vec();
        assert_eq!(
            kdfa(HashAlg::Sha256.id(), b"k", "INTEGRITY", b"", b"", 256).unwrap(),
            want
        );
    }
}
