//! Checking a quote: the AK is fit to attest, and its signature covers the TPMS_ATTEST bytes.
//!
//! What the quote *says* (nonce, PCR digest) is judged by the caller against the verifier's
//! own expectations; this module only establishes that the TPM holding the AK said it.

use boardproof_formats::tpm2::HashAlg;
use boardproof_formats::tpm2::{
    Attest, Public, PublicKey, Signature, ATTR_FIXED_PARENT, ATTR_FIXED_TPM, ATTR_RESTRICTED,
    ATTR_SENSITIVE_DATA_ORIGIN, ATTR_SIGN, ECC_NIST_P256, ECC_NIST_P384,
};
use p256::ecdsa::signature::hazmat::PrehashVerifier;

use crate::credential::{rsa_key, sec1};
use crate::Error;

/// Parses the AK public area and checks it can only be a TPM-resident attestation key: generated
/// inside the TPM, never leaving it, and restricted (it signs only digests the TPM computed
/// itself, so it cannot be made to sign a forged TPMS_ATTEST).
pub fn attestation_key(tpm2b_public: &[u8]) -> Result<Public, Error> {
    let ak = Public::parse_2b(tpm2b_public).map_err(Error::parse("AK public area"))?;
    let need = [
        (ATTR_FIXED_TPM, "fixedTPM"),
        (ATTR_FIXED_PARENT, "fixedParent"),
        (ATTR_SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"),
        (ATTR_RESTRICTED, "restricted"),
        (ATTR_SIGN, "sign"),
    ];
    let missing: Vec<&str> = need
        .iter()
        .filter(|(bit, _)| !ak.has(*bit))
        .map(|(_, n)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(Error::KeyNotFit(format!(
            "the AK lacks {} (attributes {:#010x}): a key without them could sign data that \
             did not come from the TPM, or could exist outside it",
            missing.join(", "),
            ak.attributes
        )));
    }
    Ok(ak)
}

/// Verifies `signature` (a TPMT_SIGNATURE) over `attest` (TPMS_ATTEST bytes) with `ak`, and
/// parses the attest structure.
pub fn verify(ak: &Public, attest: &[u8], signature: &[u8]) -> Result<Attest, Error> {
    let sig = Signature::parse(signature).map_err(Error::parse("quote signature"))?;
    let parsed = Attest::parse(attest).map_err(Error::parse("quote (TPMS_ATTEST)"))?;
    let digest = boardproof_formats::eventlog::hash(sig.hash(), &[attest]).ok_or_else(|| {
        Error::Unsupported(format!("signature hash algorithm {:#06x}", sig.hash()))
    })?;
    match (&ak.key, &sig) {
        (PublicKey::Ecc { curve, x, y }, Signature::Ecdsa { r, s, hash }) => {
            match ecdsa_matched(*curve, *hash, x, y, r, s, attest) {
                Some(result) => result?,
                None => ecdsa(*curve, x, y, r, s, &digest)?,
            }
        }
        (
            PublicKey::Rsa {
                exponent, modulus, ..
            },
            Signature::RsaSsa { hash, sig },
        ) => rsa_verify(&rsa_key(modulus, *exponent)?, false, *hash, sig, &digest)?,
        (
            PublicKey::Rsa {
                exponent, modulus, ..
            },
            Signature::RsaPss { hash, sig },
        ) => rsa_verify(&rsa_key(modulus, *exponent)?, true, *hash, sig, &digest)?,
        _ => {
            return Err(Error::BadSignature(
                "the signature's algorithm does not fit the AK's key type".into(),
            ))
        }
    }
    Ok(parsed)
}

/// ECDSA with the curve's own hash (P-256/SHA-256, P-384/SHA-384, what TPMs use) goes to
/// ring, whose assembly verifies about four times faster than the portable code on this
/// project's machines (docs/performance.md); other pairings fall back to RustCrypto.
fn ecdsa_matched(
    curve: u16,
    hash: u16,
    x: &[u8],
    y: &[u8],
    r: &[u8],
    s: &[u8],
    message: &[u8],
) -> Option<Result<(), Error>> {
    let (alg, n): (&'static ring::signature::EcdsaVerificationAlgorithm, usize) =
        match (curve, HashAlg::from_id(hash)) {
            (ECC_NIST_P256, Some(HashAlg::Sha256)) => {
                (&ring::signature::ECDSA_P256_SHA256_FIXED, 32)
            }
            (ECC_NIST_P384, Some(HashAlg::Sha384)) => {
                (&ring::signature::ECDSA_P384_SHA384_FIXED, 48)
            }
            _ => return None,
        };
    let bad = |what: &str| Some(Err(Error::BadSignature(what.to_owned())));
    let (Some(x), Some(y)) = (left_pad(x, n), left_pad(y, n)) else {
        return Some(Err(Error::KeyNotFit(
            "AK coordinate longer than the curve".into(),
        )));
    };
    let (Some(r), Some(s)) = (left_pad(r, n), left_pad(s, n)) else {
        return bad("r or s longer than the curve's order");
    };
    let mut point = vec![4u8];
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let mut sig = r;
    sig.extend_from_slice(&s);
    Some(
        ring::signature::UnparsedPublicKey::new(alg, &point)
            .verify(message, &sig)
            .map_err(|_| Error::BadSignature("ECDSA verification failed".into())),
    )
}

/// `v` without leading zeros, left-padded with zeros to `n` bytes; `None` when longer.
fn left_pad(v: &[u8], n: usize) -> Option<Vec<u8>> {
    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    let v = v.get(start..)?;
    let mut out = vec![0u8; n.checked_sub(v.len())?];
    out.extend_from_slice(v);
    Some(out)
}

fn ecdsa(curve: u16, x: &[u8], y: &[u8], r: &[u8], s: &[u8], digest: &[u8]) -> Result<(), Error> {
    let bad = |e: &dyn std::fmt::Display| Error::BadSignature(e.to_string());
    match curve {
        ECC_NIST_P256 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1(x, y))
                .map_err(|e| Error::KeyNotFit(format!("AK point is not on P-256: {e}")))?;
            let sig = p256::ecdsa::Signature::from_scalars(
                scalar::<32>(r).ok_or_else(|| bad(&"r longer than 32 bytes"))?,
                scalar::<32>(s).ok_or_else(|| bad(&"s longer than 32 bytes"))?,
            )
            .map_err(|e| bad(&e))?;
            key.verify_prehash(digest, &sig).map_err(|e| bad(&e))
        }
        ECC_NIST_P384 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1(x, y))
                .map_err(|e| Error::KeyNotFit(format!("AK point is not on P-384: {e}")))?;
            let sig = p384::ecdsa::Signature::from_scalars(
                scalar::<48>(r).ok_or_else(|| bad(&"r longer than 48 bytes"))?,
                scalar::<48>(s).ok_or_else(|| bad(&"s longer than 48 bytes"))?,
            )
            .map_err(|e| bad(&e))?;
            key.verify_prehash(digest, &sig).map_err(|e| bad(&e))
        }
        other => Err(Error::Unsupported(format!(
            "ECDSA on curve {other:#06x} (P-256 and P-384 are supported)"
        ))),
    }
}

/// A big-endian scalar left-padded to N bytes (the TPM drops leading zeros).
fn scalar<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
    left_pad(v, N)?.try_into().ok()
}

fn rsa_verify(
    key: &rsa::RsaPublicKey,
    pss: bool,
    hash: u16,
    sig: &[u8],
    digest: &[u8],
) -> Result<(), Error> {
    use rsa::traits::PublicKeyParts;
    let bad = |e: rsa::Error| Error::BadSignature(e.to_string());
    if !pss {
        let scheme = match HashAlg::from_id(hash) {
            Some(HashAlg::Sha256) => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Some(HashAlg::Sha384) => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            Some(HashAlg::Sha512) => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            _ => return Err(Error::Unsupported(format!("RSASSA with hash {hash:#06x}"))),
        };
        return key.verify(scheme, digest, sig).map_err(bad);
    }
    // TPMs use a salt as long as the digest (FIPS 186-4) or, in older firmware, the longest
    // that fits (Part 1, B.7); accept either, as other verifiers do.
    let h = digest.len();
    let longest = key.size().saturating_sub(h).saturating_sub(2);
    let mut last = None;
    for salt in [h, longest] {
        let scheme = match HashAlg::from_id(hash) {
            Some(HashAlg::Sha256) => rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
            Some(HashAlg::Sha384) => rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
            Some(HashAlg::Sha512) => rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
            _ => return Err(Error::Unsupported(format!("RSAPSS with hash {hash:#06x}"))),
        };
        match key.verify(scheme, digest, sig) {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(bad(last.unwrap_or(rsa::Error::Verification)))
}

/// The digest a quote's `pcrDigest` must equal: `H_alg(value_0 || value_1 || ...)` over the
/// selected PCR values in selection order (Part 3, 18.4).
pub fn pcr_digest(alg: u16, values: &[&[u8]]) -> Result<Vec<u8>, Error> {
    boardproof_formats::eventlog::hash(alg, values)
        .ok_or_else(|| Error::Unsupported(format!("PCR digest with algorithm {alg:#06x}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkey::TestKey;
    use boardproof_formats::tpm2::{PcrSelection, ALG_ECDSA};
    use sha2::Digest;

    fn sized(v: &[u8]) -> Vec<u8> {
        let mut out = (v.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(v);
        out
    }

    /// An AK area on `curve` with the point (x, y), scheme ECDSA with `hash`.
    fn area(curve: u16, hash: u16, x: &[u8], y: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&boardproof_formats::tpm2::ALG_ECC.to_be_bytes());
        p.extend_from_slice(&HashAlg::Sha256.id().to_be_bytes());
        p.extend_from_slice(&0x0005_0072u32.to_be_bytes());
        p.extend_from_slice(&sized(&[]));
        p.extend_from_slice(&boardproof_formats::tpm2::ALG_NULL.to_be_bytes());
        p.extend_from_slice(&ALG_ECDSA.to_be_bytes());
        p.extend_from_slice(&hash.to_be_bytes());
        p.extend_from_slice(&curve.to_be_bytes());
        p.extend_from_slice(&boardproof_formats::tpm2::ALG_NULL.to_be_bytes());
        p.extend_from_slice(&sized(x));
        p.extend_from_slice(&sized(y));
        sized(&p)
    }

    fn signature(hash: u16, r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut out = ALG_ECDSA.to_be_bytes().to_vec();
        out.extend_from_slice(&hash.to_be_bytes());
        out.extend_from_slice(&sized(r));
        out.extend_from_slice(&sized(s));
        out
    }

    /// Both code paths (ring for a curve with its own hash, RustCrypto otherwise) accept a good
    /// signature and refuse it over one changed byte.
    #[test]
    fn every_ecdsa_pairing_verifies_and_refuses() {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        let (attest, _) = TestKey::new(9).quote(
            b"n",
            &[PcrSelection {
                alg: HashAlg::Sha256.id(),
                pcrs: vec![0],
            }],
            &[1; 32],
        );
        let mut cases = Vec::new();
        let k256 = p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap();
        let pt = k256.verifying_key().to_encoded_point(false);
        for (hash, digest) in [
            (HashAlg::Sha256.id(), sha2::Sha256::digest(&attest).to_vec()),
            (HashAlg::Sha384.id(), sha2::Sha384::digest(&attest).to_vec()),
        ] {
            let sig: p256::ecdsa::Signature = k256.sign_prehash(&digest).unwrap();
            let (r, s) = sig.split_bytes();
            cases.push((
                area(ECC_NIST_P256, hash, pt.x().unwrap(), pt.y().unwrap()),
                signature(hash, &r, &s),
            ));
        }
        let k384 = p384::ecdsa::SigningKey::from_slice(&[6; 48]).unwrap();
        let pt = k384.verifying_key().to_encoded_point(false);
        for (hash, digest) in [
            (HashAlg::Sha384.id(), sha2::Sha384::digest(&attest).to_vec()),
            (HashAlg::Sha256.id(), sha2::Sha256::digest(&attest).to_vec()),
        ] {
            let sig: p384::ecdsa::Signature = k384.sign_prehash(&digest).unwrap();
            let (r, s) = sig.split_bytes();
            cases.push((
                area(ECC_NIST_P384, hash, pt.x().unwrap(), pt.y().unwrap()),
                signature(hash, &r, &s),
            ));
        }
        for (i, (ak, sig)) in cases.iter().enumerate() {
            let ak = attestation_key(ak).unwrap();
            verify(&ak, &attest, sig).unwrap_or_else(|e| panic!("case {i}: {e}"));
            let mut other = attest.clone();
            let last = other.len() - 1;
            other[last] ^= 1;
            assert!(verify(&ak, &other, sig).is_err(), "case {i}");
        }
    }
}
