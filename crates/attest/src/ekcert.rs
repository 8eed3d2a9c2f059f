//! EK certificates: the TPM vendor's statement that an EK belongs to a genuine TPM.
//!
//! Checks, in order: the certificate parses (DER, X.509 v3); its public key is the EK the
//! server reported; it chains, signature by signature, to a certificate of the given CA set
//! (every certificate given is a trust anchor: give the vendor's intermediate that issued the
//! EK certificate, or the root when it issued it directly);
//! every certificate on the path is within its validity at `now`. Name constraints, key usage
//! and the TCG-specific extensions (TPM manufacturer, model, version in the subject alternative
//! name) are not checked: they are recorded for people, not used to decide.

use boardproof_formats::tpm2::{Public, PublicKey};
use der::{Decode, Encode};
pub use x509_cert::Certificate;

use crate::credential::rsa_key;
use crate::Error;

/// What a verified EK certificate says, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Subjects from the EK certificate up to the anchor.
    pub path: Vec<String>,
}

/// Now, in seconds since the epoch: the time certificates are checked at.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Reads PEM or DER certificates (a PEM file may hold several).
pub fn read_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, Error> {
    // x509-cert 0.2's PEM chain reader computes `len - 1` of the input with its trailing line
    // ends stripped: an empty remainder overflows (a panic where overflow is checked). Found by
    // the ekcert fuzz target on the empty input.
    if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
        return Err(Error::Certificate(
            "no certificate: the input is empty".into(),
        ));
    }
    if bytes.starts_with(b"-----BEGIN") || bytes.iter().take(64).all(|b| b.is_ascii()) {
        let certs = Certificate::load_pem_chain(bytes)
            .map_err(|e| Error::Certificate(format!("PEM: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Certificate("no certificate in the PEM text".into()));
        }
        return Ok(certs);
    }
    Certificate::from_der(bytes)
        .map(|c| vec![c])
        .map_err(|e| Error::Certificate(format!("DER: {e}")))
}

/// Verifies `ek_cert_der` (as read from the TPM's NV index: see [`der_from_nv`]) for `ek`
/// against `anchors` at `now` (seconds since the epoch).
pub fn verify(
    ek_cert_der: &[u8],
    ek: &Public,
    anchors: &[Certificate],
    now: u64,
) -> Result<Verified, Error> {
    let leaf_der = der_from_nv(ek_cert_der);
    let leaf = Certificate::from_der(leaf_der)
        .map_err(|e| Error::Certificate(format!("EK certificate DER: {e}")))?;
    let leaf_tbs = tbs_as_signed(leaf_der)?;
    same_key(&leaf, ek)?;
    in_validity(&leaf, now)?;
    let issuer = &leaf.tbs_certificate.issuer;
    let mut tried = Vec::new();
    // Every given certificate is an anchor: the path ends at the first one that signed.
    let found = anchors.iter().find(|a| {
        if &a.tbs_certificate.subject != issuer {
            return false;
        }
        match signed_tbs(&leaf, &leaf_tbs, a) {
            Ok(()) => true,
            Err(e) => {
                tried.push(e.to_string());
                false
            }
        }
    });
    let Some(anchor) = found else {
        return Err(Error::Certificate(if tried.is_empty() {
            format!("no CA given is its issuer ({issuer})")
        } else {
            format!("the CA {issuer} did not sign it: {}", tried.join("; "))
        }));
    };
    in_validity(anchor, now)?;
    Ok(Verified {
        path: vec![
            leaf.tbs_certificate.subject.to_string(),
            anchor.tbs_certificate.subject.to_string(),
        ],
    })
}

/// The DER certificate inside what a TPM's EK certificate NV index holds. Some TPMs store it
/// bare; some (Intel PTT, TPM 1.2 heritage) wrap it in the PC Client stored-certificate
/// header — tag 0x1001, a zero byte, a big-endian size, tag 0x1002 — and many pad the index
/// after the DER. Both are removed here, nothing else: what remains must still be a whole
/// certificate that verifies, so unwrapping gives a tampered server nothing.
pub fn der_from_nv(nv: &[u8]) -> &[u8] {
    let body = match nv {
        [0x10, 0x01, 0x00, hi, lo, 0x10, 0x02, rest @ ..] => {
            // The size counts the 0x1002 tag and the DER; a size past the end keeps it all.
            let len = (usize::from(*hi) << 8 | usize::from(*lo)).saturating_sub(2);
            rest.get(..len).unwrap_or(rest)
        }
        _ => nv,
    };
    strip_nv_padding(body)
}

/// EK certificates read from NV indices are sometimes padded after the DER structure.
fn strip_nv_padding(der: &[u8]) -> &[u8] {
    // A DER SEQUENCE with a two-byte long-form length: 0x30 0x82 hi lo.
    if let [0x30, 0x82, hi, lo, ..] = der {
        let len = usize::from(*hi) << 8 | usize::from(*lo);
        if let Some(body) = der.get(..len.saturating_add(4)) {
            return body;
        }
    }
    der
}

pub(crate) fn in_validity(c: &Certificate, now: u64) -> Result<(), Error> {
    let v = &c.tbs_certificate.validity;
    let from = v.not_before.to_unix_duration().as_secs();
    let to = v.not_after.to_unix_duration().as_secs();
    if now < from || now > to {
        return Err(Error::Certificate(format!(
            "{} is valid from {} to {}, not now",
            c.tbs_certificate.subject, v.not_before, v.not_after
        )));
    }
    Ok(())
}

/// The certificate's key equals the EK public area's key.
fn same_key(cert: &Certificate, ek: &Public) -> Result<(), Error> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let bits = spki.subject_public_key.raw_bytes();
    let matches = match &ek.key {
        PublicKey::Rsa {
            exponent, modulus, ..
        } => {
            let want = rsa_key(modulus, *exponent)?;
            // rsaEncryption, or id-RSAES-OAEP, which many TPM vendors' EK certificates name
            // (the key is an encryption key): the bits are a PKCS#1 RSAPublicKey either way.
            let oid = spki.algorithm.oid.to_string();
            if oid != "1.2.840.113549.1.1.1" && oid != "1.2.840.113549.1.1.7" {
                return Err(Error::Certificate(format!(
                    "the EK certificate's key is not RSA (algorithm {oid}) but the EK is"
                )));
            }
            use rsa::pkcs1::DecodeRsaPublicKey;
            let got = rsa::RsaPublicKey::from_pkcs1_der(bits)
                .map_err(|e| Error::Certificate(format!("EK certificate RSA key: {e}")))?;
            got == want
        }
        PublicKey::Ecc { x, y, .. } => bits == crate::credential::sec1(x, y).as_slice(),
    };
    if matches {
        Ok(())
    } else {
        Err(Error::Certificate(
            "the EK certificate is for another key than the TPM's EK".into(),
        ))
    }
}

/// Verifies `child`'s signature with `issuer`'s key, over its TBSCertificate re-encoded
/// (for certificates read from files whose bytes are not kept; see [`tbs_as_signed`]).
pub(crate) fn signed_by(child: &Certificate, issuer: &Certificate) -> Result<(), Error> {
    let tbs = child
        .tbs_certificate
        .to_der()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    signed_tbs(child, &tbs, issuer)
}

fn signed_tbs(child: &Certificate, tbs: &[u8], issuer: &Certificate) -> Result<(), Error> {
    verify_signature(
        &child.signature_algorithm.oid.to_string(),
        tbs,
        child.signature.raw_bytes(),
        issuer,
    )
}

/// The TBSCertificate of certificate `der` as its own bytes hold it: the signature covers
/// exactly these. Re-encoding the parsed certificate can change them — x509-cert sorts the
/// members of a SET OF, and Nuvoton's EK certificates, for one, list a multi-valued RDN out
/// of DER order — and a genuine certificate would then fail to verify.
pub fn tbs_as_signed(der: &[u8]) -> Result<Vec<u8>, Error> {
    use der::asn1::AnyRef;
    use der::{Reader, Tagged};
    let bad = |e: der::Error| Error::Certificate(format!("certificate DER: {e}"));
    let outer = AnyRef::from_der(der).map_err(bad)?;
    let mut inner = der::SliceReader::new(outer.value()).map_err(bad)?;
    let tbs: AnyRef<'_> = inner.decode().map_err(bad)?;
    if outer.tag() != der::Tag::Sequence || tbs.tag() != der::Tag::Sequence {
        return Err(Error::Certificate(
            "certificate DER: not a SEQUENCE holding a TBSCertificate".into(),
        ));
    }
    tbs.to_der().map_err(bad)
}

/// Verifies a signature by `issuer`'s key over `tbs` with the X.509 signature algorithm
/// `alg` (dotted OID): RSA PKCS#1 v1.5 with SHA-1/256/384/512, ECDSA P-256/P-384 with
/// SHA-256/384. Used for certificates and attribute certificates alike.
pub fn verify_signature(
    alg: &str,
    tbs: &[u8],
    sig: &[u8],
    issuer: &Certificate,
) -> Result<(), Error> {
    use boardproof_formats::tpm2::HashAlg;
    use boardproof_signature::{Curve, EcdsaEncoding, PublicKey, Scheme};
    let spki = &issuer.tbs_certificate.subject_public_key_info;
    let bits = spki.subject_public_key.raw_bytes();
    let (scheme, key) = match alg {
        // sha{1,256,384,512}WithRSAEncryption, and OIW's sha1WithRSASignature (old TCG
        // certificates); the issuer key's bits are a PKCS#1 RSAPublicKey
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => (
            Scheme::RsaPkcs1(HashAlg::Sha1),
            PublicKey::RsaPkcs1Der(bits),
        ),
        "1.2.840.113549.1.1.11" => (
            Scheme::RsaPkcs1(HashAlg::Sha256),
            PublicKey::RsaPkcs1Der(bits),
        ),
        "1.2.840.113549.1.1.12" => (
            Scheme::RsaPkcs1(HashAlg::Sha384),
            PublicKey::RsaPkcs1Der(bits),
        ),
        "1.2.840.113549.1.1.13" => (
            Scheme::RsaPkcs1(HashAlg::Sha512),
            PublicKey::RsaPkcs1Der(bits),
        ),
        // ecdsa-with-SHA256 / SHA384, issuer on P-256 or P-384 (told apart by the point's size;
        // the stack checks the point is on its curve)
        "1.2.840.10045.4.3.2" | "1.2.840.10045.4.3.3" => {
            let hash = if alg.ends_with(".2") {
                HashAlg::Sha256
            } else {
                HashAlg::Sha384
            };
            let curve = if bits.len() == 97 {
                Curve::P384
            } else {
                Curve::P256
            };
            (
                Scheme::Ecdsa(hash, EcdsaEncoding::Der),
                PublicKey::Ec { curve, point: bits },
            )
        }
        other => {
            return Err(Error::Unsupported(format!(
                "certificate signature algorithm {other}"
            )))
        }
    };
    boardproof_signature::verify(key, scheme, tbs, sig).map_err(|e| match e {
        boardproof_signature::Error::Unsupported(what) => Error::Unsupported(what),
        e => Error::Certificate(format!("signature ({alg}): {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nv_wrapping_is_removed_and_nothing_else() {
        let der = [0x30, 0x82, 0x00, 0x02, 0xaa, 0xbb];
        assert_eq!(der_from_nv(&der), der);
        let mut padded = der.to_vec();
        padded.extend([0xff; 9]);
        assert_eq!(der_from_nv(&padded), der);
        let mut wrapped = vec![0x10, 0x01, 0x00, 0x00, 0x08, 0x10, 0x02];
        wrapped.extend(der);
        wrapped.extend([0x00; 3]);
        assert_eq!(der_from_nv(&wrapped), der);
        // A header whose size runs past the end keeps what there is (the DER parse then
        // fails on it); a header with another tag is not a header.
        let short = [0x10, 0x01, 0x00, 0xff, 0xff, 0x10, 0x02, 0x30];
        assert_eq!(der_from_nv(&short), [0x30]);
        let other = [0x10, 0x01, 0x00, 0x00, 0x08, 0x10, 0x03, 0x30];
        assert_eq!(der_from_nv(&other), other);
        for n in 0..wrapped.len() {
            let _ = der_from_nv(&wrapped[..n]);
        }
    }

    #[test]
    fn empty_and_garbage_inputs_are_errors() {
        for input in [
            &b""[..],
            b"\n",
            b"\r\n\r\n",
            b"-----BEGIN CERTIFICATE-----\n",
            b"\x30\x82",
        ] {
            assert!(read_certificates(input).is_err(), "{input:?}");
        }
        assert!(tbs_as_signed(b"").is_err());
        assert!(tbs_as_signed(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
    }
}
