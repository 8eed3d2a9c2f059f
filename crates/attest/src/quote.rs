//! Checking a quote: the AK is fit to attest, and its signature covers the TPMS_ATTEST bytes.
//!
//! What the quote *says* (nonce, PCR digest) is judged by the caller against the verifier's
//! own expectations; this module only establishes that the TPM holding the AK said it.

use boardproof_formats::tpm2::HashAlg;
use boardproof_formats::tpm2::{
    Attest, Public, PublicKey, Signature, ATTR_FIXED_PARENT, ATTR_FIXED_TPM, ATTR_RESTRICTED,
    ATTR_SENSITIVE_DATA_ORIGIN, ATTR_SIGN, ECC_NIST_P256, ECC_NIST_P384,
};

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
/// parses the attest structure. The signature goes to boardproof-signature, the one stack
/// every signature boardproof checks goes through.
pub fn verify(ak: &Public, attest: &[u8], signature: &[u8]) -> Result<Attest, Error> {
    use boardproof_signature::{Curve, EcdsaEncoding, Scheme};
    let sig = Signature::parse(signature).map_err(Error::parse("quote signature"))?;
    let parsed = Attest::parse(attest).map_err(Error::parse("quote (TPMS_ATTEST)"))?;
    let hash = HashAlg::from_id(sig.hash()).ok_or_else(|| {
        Error::Unsupported(format!("signature hash algorithm {:#06x}", sig.hash()))
    })?;
    let e65537 = [1u8, 0, 1];
    let exp_bytes;
    let result = match (&ak.key, &sig) {
        (PublicKey::Ecc { curve, x, y }, Signature::Ecdsa { r, s, .. }) => {
            let curve = match *curve {
                ECC_NIST_P256 => Curve::P256,
                ECC_NIST_P384 => Curve::P384,
                other => {
                    return Err(Error::Unsupported(format!(
                        "ECDSA on curve {other:#06x} (P-256 and P-384 are supported)"
                    )))
                }
            };
            let n = curve.size();
            let (Some(x), Some(y)) = (left_pad(x, n), left_pad(y, n)) else {
                return Err(Error::KeyNotFit(
                    "AK coordinate longer than the curve".into(),
                ));
            };
            let (Some(r), Some(s)) = (left_pad(r, n), left_pad(s, n)) else {
                return Err(Error::BadSignature(
                    "r or s longer than the curve's order".into(),
                ));
            };
            let point = [&[4u8][..], &x, &y].concat();
            boardproof_signature::verify(
                boardproof_signature::PublicKey::Ec {
                    curve,
                    point: &point,
                },
                Scheme::Ecdsa(hash, EcdsaEncoding::Fixed),
                attest,
                &[r, s].concat(),
            )
        }
        (
            PublicKey::Rsa {
                exponent, modulus, ..
            },
            Signature::RsaSsa { sig: bytes, .. } | Signature::RsaPss { sig: bytes, .. },
        ) => {
            // TPM 2.0 Part 2, 12.2.3.5: an exponent of zero means 2^16 + 1
            let e: &[u8] = if *exponent == 0 {
                &e65537
            } else {
                exp_bytes = exponent.to_be_bytes();
                &exp_bytes
            };
            let scheme = if matches!(sig, Signature::RsaPss { .. }) {
                Scheme::RsaPss(hash)
            } else {
                Scheme::RsaPkcs1(hash)
            };
            boardproof_signature::verify(
                boardproof_signature::PublicKey::Rsa { n: modulus, e },
                scheme,
                attest,
                bytes,
            )
        }
        _ => {
            return Err(Error::BadSignature(
                "the signature's algorithm does not fit the AK's key type".into(),
            ))
        }
    };
    result.map_err(|e| match e {
        boardproof_signature::Error::Unsupported(what) => Error::Unsupported(what),
        boardproof_signature::Error::BadKey(why) => Error::KeyNotFit(format!("AK: {why}")),
        boardproof_signature::Error::Invalid => Error::BadSignature(format!(
            "{} verification failed",
            match sig {
                Signature::Ecdsa { .. } => "ECDSA",
                Signature::RsaSsa { .. } => "RSASSA",
                _ => "RSAPSS",
            }
        )),
    })?;
    Ok(parsed)
}

/// `v` without leading zeros, left-padded with zeros to `n` bytes; `None` when longer.
fn left_pad(v: &[u8], n: usize) -> Option<Vec<u8>> {
    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    let v = v.get(start..)?;
    let mut out = vec![0u8; n.checked_sub(v.len())?];
    out.extend_from_slice(v);
    Some(out)
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

    /// Every curve/hash pairing a TPM signs with — the curve's own hash and the crossed ones,
    /// which the signature stack verifies through its DER path — accepts a good signature and
    /// refuses it over one changed byte.
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
