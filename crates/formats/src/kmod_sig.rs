//! Linux kernel module signature trailer: `struct module_signature` followed by the magic
//! `~Module signature appended~\n` (linux/include/linux/module_signature.h, kernel 4.x–6.x),
//! and the PKCS#7 / CMS SignedData (RFC 5652) it carries since Linux 4.3.
//!
//! This tells *who signed* a module file as the file claims it; it does not check the
//! signature (the kernel does that at load time, against its own keyring). boardproof records
//! the signer beside the file's sha256, so a module re-signed by someone else is visible even
//! when its name and version are unchanged.

use crate::error::{ErrorKind, ParseError};
use crate::reader::Reader;
use der::Decode;

/// The trailing magic string.
pub const MAGIC: &[u8] = b"~Module signature appended~\n";

/// Size of `struct module_signature`.
const INFO_LEN: usize = 12;

/// `id_type` 2: the signature is PKCS#7 (CMS) SignedData.
pub const PKEY_ID_PKCS7: u8 = 2;

/// The signature trailer of a module file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSignature<'a> {
    /// `id_type` (0 PGP, 1 X.509, 2 PKCS#7).
    pub id_type: u8,
    /// Length of the module proper (what the signature covers).
    pub signed_len: usize,
    /// The signature blob.
    pub signature: &'a [u8],
    /// For the pre-PKCS#7 formats: the signer name stored before the key id.
    pub legacy_signer: Option<&'a [u8]>,
}

/// Who signed, as named by the CMS SignerInfo (what `modinfo` shows as signer / sig_key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Issuer distinguished name of the signing certificate (RFC 4514 text).
    pub issuer: String,
    /// Common name within the issuer, when present (modinfo's `signer`).
    pub issuer_cn: Option<String>,
    /// Serial number of the signing certificate, hex (modinfo's `sig_key`).
    pub serial: String,
    /// Digest algorithm OID.
    pub digest_algorithm: String,
}

/// Finds the signature trailer at the end of `file`; `Ok(None)` when the module is unsigned.
pub fn parse_trailer(file: &[u8]) -> Result<Option<ModuleSignature<'_>>, ParseError> {
    let Some(body_len) = file.len().checked_sub(MAGIC.len()) else {
        return Ok(None);
    };
    if file.get(body_len..) != Some(MAGIC) {
        return Ok(None);
    }
    let info_at = body_len.checked_sub(INFO_LEN).ok_or(ParseError {
        offset: 0,
        field: "module_signature",
        kind: ErrorKind::Truncated,
    })?;
    let mut r = Reader::new(file.get(info_at..body_len).unwrap_or(&[]), info_at);
    let _algo = r.u8("algo")?;
    let _hash = r.u8("hash")?;
    let id_type = r.u8("id_type")?;
    let signer_len = usize::from(r.u8("signer_len")?);
    let key_id_len = usize::from(r.u8("key_id_len")?);
    r.skip(3, "pad")?;
    let sig_len = usize::try_from(r.u32_be("sig_len")?).unwrap_or(usize::MAX);
    let total = sig_len
        .checked_add(signer_len)
        .and_then(|n| n.checked_add(key_id_len))
        .ok_or(ParseError {
            offset: info_at.saturating_add(8),
            field: "sig_len",
            kind: ErrorKind::BadLength(sig_len as u64),
        })?;
    let sig_start = info_at.checked_sub(total).ok_or(ParseError {
        offset: info_at.saturating_add(8),
        field: "sig_len",
        kind: ErrorKind::BadLength(sig_len as u64),
    })?;
    let blob = file.get(sig_start..info_at).unwrap_or(&[]);
    let legacy_signer = (signer_len > 0).then(|| blob.get(..signer_len).unwrap_or(&[]));
    let signature = blob
        .get(signer_len.saturating_add(key_id_len)..)
        .unwrap_or(&[]);
    Ok(Some(ModuleSignature {
        id_type,
        signed_len: sig_start,
        signature,
        legacy_signer,
    }))
}

fn cn_of(name: &x509_cert::name::Name) -> Option<String> {
    name.0.iter().flat_map(|rdn| rdn.0.iter()).find_map(|atv| {
        if atv.oid != const_oid_cn() {
            return None;
        }
        // CN is a DirectoryString: UTF8String or PrintableString in practice.
        atv.value.decode_as::<String>().ok().or_else(|| {
            atv.value
                .decode_as::<der::asn1::PrintableStringRef<'_>>()
                .ok()
                .map(|s| s.as_str().to_owned())
        })
    })
}

fn const_oid_cn() -> der::asn1::ObjectIdentifier {
    // id-at-commonName, RFC 4519.
    der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3")
}

/// Reads the signer of a PKCS#7 module signature.
pub fn pkcs7_signer(der_bytes: &[u8]) -> Result<Signer, ParseError> {
    let bad = |why: String| ParseError {
        offset: 0,
        field: "PKCS#7 signature",
        kind: ErrorKind::Nested(why),
    };
    let ci = cms::content_info::ContentInfo::from_der(der_bytes).map_err(|e| bad(e.to_string()))?;
    let sd: cms::signed_data::SignedData =
        ci.content.decode_as().map_err(|e| bad(e.to_string()))?;
    let si = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| bad("no SignerInfo".into()))?;
    match &si.sid {
        cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => Ok(Signer {
            issuer: ias.issuer.to_string(),
            issuer_cn: cn_of(&ias.issuer),
            serial: hex_upper(ias.serial_number.as_bytes()),
            digest_algorithm: si.digest_alg.oid.to_string(),
        }),
        cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(ski) => Ok(Signer {
            issuer: String::new(),
            issuer_cn: None,
            serial: format!("ski:{}", hex_upper(ski.0.as_bytes())),
            digest_algorithm: si.digest_alg.oid.to_string(),
        }),
    }
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_module_has_no_trailer() {
        assert_eq!(parse_trailer(b"\x7fELF....").unwrap(), None);
        assert_eq!(parse_trailer(b"").unwrap(), None);
    }

    #[test]
    fn trailer_layout() {
        let mut f = b"MODULE".to_vec();
        f.extend_from_slice(b"SIG!"); // 4-byte signature
        f.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0]);
        f.extend_from_slice(&4u32.to_be_bytes());
        f.extend_from_slice(MAGIC);
        let s = parse_trailer(&f).unwrap().unwrap();
        assert_eq!(s.id_type, PKEY_ID_PKCS7);
        assert_eq!(s.signed_len, 6);
        assert_eq!(s.signature, b"SIG!");
        // not a CMS structure
        assert!(pkcs7_signer(s.signature).is_err());
    }

    #[test]
    fn oversized_sig_len_is_an_error() {
        let mut f = vec![0u8; 4];
        f.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0]);
        f.extend_from_slice(&u32::MAX.to_be_bytes());
        f.extend_from_slice(MAGIC);
        assert_eq!(parse_trailer(&f).unwrap_err().field, "sig_len");
        assert!(parse_trailer(&f[2..]).is_err());
    }
}
