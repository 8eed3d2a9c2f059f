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

/// Verifies `ek_cert_der` for `ek` against `anchors` at `now` (seconds since the epoch).
pub fn verify(
    ek_cert_der: &[u8],
    ek: &Public,
    anchors: &[Certificate],
    now: u64,
) -> Result<Verified, Error> {
    let leaf = Certificate::from_der(strip_nv_padding(ek_cert_der))
        .map_err(|e| Error::Certificate(format!("EK certificate DER: {e}")))?;
    same_key(&leaf, ek)?;
    in_validity(&leaf, now)?;
    let issuer = &leaf.tbs_certificate.issuer;
    let mut tried = Vec::new();
    // Every given certificate is an anchor: the path ends at the first one that signed.
    let found = anchors.iter().find(|a| {
        if &a.tbs_certificate.subject != issuer {
            return false;
        }
        match signed_by(&leaf, a) {
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
            let der = spki
                .to_der()
                .map_err(|e| Error::Certificate(format!("EK certificate key: {e}")))?;
            use rsa::pkcs8::DecodePublicKey;
            let got = rsa::RsaPublicKey::from_public_key_der(&der)
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

/// Verifies `child`'s signature with `issuer`'s key.
pub(crate) fn signed_by(child: &Certificate, issuer: &Certificate) -> Result<(), Error> {
    let tbs = child
        .tbs_certificate
        .to_der()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    verify_signature(
        &child.signature_algorithm.oid.to_string(),
        &tbs,
        child.signature.raw_bytes(),
        issuer,
    )
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
    use p256::ecdsa::signature::Verifier;
    let alg = alg.to_owned();
    let spki = &issuer.tbs_certificate.subject_public_key_info;
    let spki_der = spki
        .to_der()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    let bad = |e: &dyn std::fmt::Display| Error::Certificate(format!("signature ({alg}): {e}"));
    match alg.as_str() {
        // sha{1,256,384,512}WithRSAEncryption, and OIW's sha1WithRSASignature (old TCG
        // certificates)
        "1.3.14.3.2.29"
        | "1.2.840.113549.1.1.5"
        | "1.2.840.113549.1.1.11"
        | "1.2.840.113549.1.1.12"
        | "1.2.840.113549.1.1.13" => {
            use rsa::pkcs8::DecodePublicKey;
            use sha2::Digest;
            let key = rsa::RsaPublicKey::from_public_key_der(&spki_der).map_err(|e| bad(&e))?;
            let (scheme, digest) = match alg.as_str() {
                "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => (
                    rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                    sha1::Sha1::digest(tbs).to_vec(),
                ),
                "1.2.840.113549.1.1.11" => (
                    rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    sha2::Sha256::digest(tbs).to_vec(),
                ),
                "1.2.840.113549.1.1.12" => (
                    rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    sha2::Sha384::digest(tbs).to_vec(),
                ),
                _ => (
                    rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                    sha2::Sha512::digest(tbs).to_vec(),
                ),
            };
            key.verify(scheme, &digest, sig).map_err(|e| bad(&e))
        }
        // ecdsa-with-SHA256 / SHA384, issuer on P-256 or P-384
        "1.2.840.10045.4.3.2" | "1.2.840.10045.4.3.3" => {
            let point = spki.subject_public_key.raw_bytes();
            if let Ok(k) = p256::ecdsa::VerifyingKey::from_sec1_bytes(point) {
                let s = p256::ecdsa::DerSignature::from_bytes(sig).map_err(|e| bad(&e))?;
                if alg.ends_with(".2") {
                    k.verify(tbs, &s).map_err(|e| bad(&e))
                } else {
                    use p256::ecdsa::signature::hazmat::PrehashVerifier;
                    use sha2::Digest;
                    let d = sha2::Sha384::digest(tbs);
                    k.verify_prehash(&d, &s).map_err(|e| bad(&e))
                }
            } else {
                let k = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| bad(&e))?;
                let s = p384::ecdsa::DerSignature::from_bytes(sig).map_err(|e| bad(&e))?;
                use p256::ecdsa::signature::hazmat::PrehashVerifier;
                use sha2::Digest;
                let d: Vec<u8> = if alg.ends_with(".2") {
                    sha2::Sha256::digest(tbs).to_vec()
                } else {
                    sha2::Sha384::digest(tbs).to_vec()
                };
                k.verify_prehash(&d, &s).map_err(|e| bad(&e))
            }
        }
        other => Err(Error::Unsupported(format!(
            "certificate signature algorithm {other}"
        ))),
    }
}
