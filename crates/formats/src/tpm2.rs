//! TPM 2.0 structures a verifier receives from an untrusted agent: `TPMT_PUBLIC` (the AK and
//! EK public areas), `TPMS_ATTEST` (what a quote signed) and `TPMT_SIGNATURE`.
//!
//! The agent, or whoever sits between it and the verifier, chose these bytes; only the
//! signature check that follows makes them trustworthy. So every size is read against what is
//! really there and against the TPM's own maximum for that field (TPM 2.0 Part 2), and every
//! structure must fill its container exactly: a quote with trailing bytes is not the quote the
//! TPM signed. References are to TPM 2.0 Library Part 2 (Structures), revision 1.59.

use crate::error::{ErrorKind, ParseError};
use crate::reader::Reader;

/// A hash algorithm of the TPM (TPM 2.0 Part 2, TPM_ALG_ID): the one type for PCR banks,
/// event-log digests, object names, quote and credential hashes. A wire field stays a `u16`
/// (a log or a TPM may name an algorithm boardproof does not compute); [`HashAlg::from_id`]
/// says whether it is one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlg {
    /// TPM_HashAlg::Sha1.id() (0x0004).
    Sha1,
    /// TPM_HashAlg::Sha256.id() (0x000b).
    Sha256,
    /// TPM_ALG_SHA384 (0x000c).
    Sha384,
    /// TPM_ALG_SHA512 (0x000d).
    Sha512,
    /// TPM_ALG_SM3_256 (0x0012).
    Sm3_256,
}

impl HashAlg {
    /// Every algorithm boardproof computes.
    pub const ALL: [HashAlg; 5] = [
        HashAlg::Sha1,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
        HashAlg::Sm3_256,
    ];

    /// The TPM_ALG_ID.
    pub const fn id(self) -> u16 {
        match self {
            HashAlg::Sha1 => 0x0004,
            HashAlg::Sha256 => 0x000b,
            HashAlg::Sha384 => 0x000c,
            HashAlg::Sha512 => 0x000d,
            HashAlg::Sm3_256 => 0x0012,
        }
    }

    /// The algorithm of a TPM_ALG_ID, if boardproof computes it.
    pub fn from_id(id: u16) -> Option<HashAlg> {
        HashAlg::ALL.into_iter().find(|a| a.id() == id)
    }

    /// The name tpm2-tools uses (`sha256`).
    pub const fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "sha1",
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha384 => "sha384",
            HashAlg::Sha512 => "sha512",
            HashAlg::Sm3_256 => "sm3_256",
        }
    }

    /// The algorithm of a name [`HashAlg::name`] gives.
    pub fn from_name(name: &str) -> Option<HashAlg> {
        HashAlg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Digest size in bytes.
    pub const fn size(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 | HashAlg::Sm3_256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// The digest of the concatenation of `parts`.
    pub fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            HashAlg::Sha1 => run::<sha1::Sha1>(parts),
            HashAlg::Sha256 => run::<sha2::Sha256>(parts),
            HashAlg::Sha384 => run::<sha2::Sha384>(parts),
            HashAlg::Sha512 => run::<sha2::Sha512>(parts),
            HashAlg::Sm3_256 => run::<sm3::Sm3>(parts),
        }
    }
}

/// TPM_ALG_RSA.
pub const ALG_RSA: u16 = 0x0001;
/// TPM_ALG_ECC.
pub const ALG_ECC: u16 = 0x0023;
/// TPM_ALG_NULL.
pub const ALG_NULL: u16 = 0x0010;
/// TPM_ALG_RSASSA (PKCS#1 v1.5).
pub const ALG_RSASSA: u16 = 0x0014;
/// TPM_ALG_RSAPSS.
pub const ALG_RSAPSS: u16 = 0x0016;
/// TPM_ALG_ECDSA.
pub const ALG_ECDSA: u16 = 0x0018;
/// TPM_ALG_ECDAA (its scheme carries a count as well as the hash).
pub const ALG_ECDAA: u16 = 0x001a;
/// TPM_ALG_AES.
pub const ALG_AES: u16 = 0x0006;
/// TPM_ALG_CFB.
pub const ALG_CFB: u16 = 0x0043;
/// TPM_ECC_NIST_P256.
pub const ECC_NIST_P256: u16 = 0x0003;
/// TPM_ECC_NIST_P384.
pub const ECC_NIST_P384: u16 = 0x0004;
/// TPM_GENERATED_VALUE: the first field of every structure the TPM itself signs (Part 2 6.2).
pub const TPM_GENERATED: u32 = 0xff54_4347;
/// TPM_ST_ATTEST_QUOTE.
pub const ST_ATTEST_QUOTE: u16 = 0x8018;

/// `fixedTPM`: the key cannot leave this TPM (Part 2 8.3).
pub const ATTR_FIXED_TPM: u32 = 1 << 1;
/// `fixedParent`.
pub const ATTR_FIXED_PARENT: u32 = 1 << 4;
/// `sensitiveDataOrigin`: the TPM generated the private part.
pub const ATTR_SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
/// `userWithAuth`.
pub const ATTR_USER_WITH_AUTH: u32 = 1 << 6;
/// `adminWithPolicy`.
pub const ATTR_ADMIN_WITH_POLICY: u32 = 1 << 7;
/// `restricted`: a signing key that only signs what the TPM produced.
pub const ATTR_RESTRICTED: u32 = 1 << 16;
/// `decrypt`.
pub const ATTR_DECRYPT: u32 = 1 << 17;
/// `sign`.
pub const ATTR_SIGN: u32 = 1 << 18;

/// sizeof(TPMU_HA): the largest digest (SHA-512).
const MAX_DIGEST: usize = 64;
/// sizeof(TPMT_HA): TPM2B_DATA's maximum.
const MAX_DATA: usize = 66;
/// sizeof(TPMU_NAME).
const MAX_NAME: usize = 68;
/// MAX_RSA_KEY_BYTES for 4096-bit keys.
const MAX_RSA_BYTES: usize = 512;
/// MAX_ECC_KEY_BYTES (P-521 rounded up, as the reference implementation allows).
const MAX_ECC_BYTES: usize = 128;
/// HASH_COUNT: more banks than any TPM has.
const MAX_BANKS: u32 = 16;
/// PCR_SELECT_MAX for up to 256 PCRs; real TPMs use 3 (24 PCRs).
const MAX_SELECT: u8 = 32;
/// sizeof(TPMS_ATTEST) is bounded by MAX_DATA, names and PCR selections: a few hundred bytes.
const MAX_ATTEST: usize = 1024;

/// The algorithm-specific part of a public area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An RSA key.
    Rsa {
        /// Key size in bits.
        bits: u16,
        /// Public exponent (0 in the structure means 65537).
        exponent: u32,
        /// Modulus, big-endian.
        modulus: Vec<u8>,
    },
    /// An elliptic-curve key.
    Ecc {
        /// TPM_ECC_CURVE.
        curve: u16,
        /// X coordinate, big-endian.
        x: Vec<u8>,
        /// Y coordinate, big-endian.
        y: Vec<u8>,
    },
}

/// A parsed `TPMT_PUBLIC` (Part 2 12.2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Public {
    /// The marshalled TPMT_PUBLIC: the object's name hashes exactly these bytes.
    pub bytes: Vec<u8>,
    /// TPMI_ALG_PUBLIC.
    pub key_type: u16,
    /// The hash of the object's name.
    pub name_alg: u16,
    /// TPMA_OBJECT.
    pub attributes: u32,
    /// The policy that authorises use of the key (the EK's is PolicySecret(endorsement)).
    pub auth_policy: Vec<u8>,
    /// Symmetric algorithm of a storage/decryption key (`ALG_NULL` for a signing key).
    pub symmetric: u16,
    /// Symmetric key bits (0 when `symmetric` is NULL).
    pub symmetric_bits: u16,
    /// Signing scheme (`ALG_NULL` when the caller chooses).
    pub scheme: u16,
    /// Hash of the signing scheme.
    pub scheme_hash: u16,
    /// The key itself.
    pub key: PublicKey,
}

impl Public {
    /// Parses a `TPM2B_PUBLIC` (a u16 size, then a TPMT_PUBLIC filling it).
    pub fn parse_2b(data: &[u8]) -> Result<Public, ParseError> {
        let mut r = Reader::new(data, 0);
        let size = usize::from(r.u16_be("TPM2B_PUBLIC.size")?);
        let inner = r.sub(size, "TPM2B_PUBLIC.publicArea")?;
        r.expect_empty("TPM2B_PUBLIC")?;
        Self::parse_from(inner)
    }

    /// Parses a bare `TPMT_PUBLIC`.
    pub fn parse(data: &[u8]) -> Result<Public, ParseError> {
        Self::parse_from(Reader::new(data, 0))
    }

    fn parse_from(mut r: Reader<'_>) -> Result<Public, ParseError> {
        let bytes = r.rest().to_vec();
        let key_type = r.u16_be("TPMT_PUBLIC.type")?;
        let name_alg = r.u16_be("TPMT_PUBLIC.nameAlg")?;
        let attributes = r.u32_be("TPMT_PUBLIC.objectAttributes")?;
        let auth_policy = sized(&mut r, MAX_DIGEST, "TPMT_PUBLIC.authPolicy")?.to_vec();
        let (symmetric, symmetric_bits) = match key_type {
            ALG_RSA | ALG_ECC => sym_def_object(&mut r)?,
            _ => {
                return Err(r.err(
                    "TPMT_PUBLIC.type",
                    ErrorKind::Invalid("only RSA and ECC public areas are keys a quote can use"),
                ))
            }
        };
        let (scheme, scheme_hash) = scheme(&mut r, "TPMT_PUBLIC.parameters.scheme")?;
        let key = if key_type == ALG_RSA {
            let bits = r.u16_be("TPMS_RSA_PARMS.keyBits")?;
            let exponent = r.u32_be("TPMS_RSA_PARMS.exponent")?;
            let modulus = sized(&mut r, MAX_RSA_BYTES, "TPMT_PUBLIC.unique.rsa")?.to_vec();
            PublicKey::Rsa {
                bits,
                exponent,
                modulus,
            }
        } else {
            let curve = r.u16_be("TPMS_ECC_PARMS.curveID")?;
            let kdf = r.u16_be("TPMS_ECC_PARMS.kdf.scheme")?;
            if kdf != ALG_NULL {
                r.u16_be("TPMS_ECC_PARMS.kdf.hashAlg")?;
            }
            let x = sized(&mut r, MAX_ECC_BYTES, "TPMT_PUBLIC.unique.ecc.x")?.to_vec();
            let y = sized(&mut r, MAX_ECC_BYTES, "TPMT_PUBLIC.unique.ecc.y")?.to_vec();
            PublicKey::Ecc { curve, x, y }
        };
        r.expect_empty("TPMT_PUBLIC")?;
        Ok(Public {
            bytes,
            key_type,
            name_alg,
            attributes,
            auth_policy,
            symmetric,
            symmetric_bits,
            scheme,
            scheme_hash,
            key,
        })
    }

    /// The object's name: `nameAlg || H_nameAlg(TPMT_PUBLIC)` (Part 1 16), or `None` when the
    /// name algorithm is not one boardproof computes.
    pub fn name(&self) -> Option<Vec<u8>> {
        let digest = HashAlg::from_id(self.name_alg)?.hash(&[&self.bytes]);
        let mut name = self.name_alg.to_be_bytes().to_vec();
        name.extend_from_slice(&digest);
        Some(name)
    }

    /// Whether every bit of `mask` is set.
    pub fn has(&self, mask: u32) -> bool {
        self.attributes & mask == mask
    }
}

/// One bank of a `TPML_PCR_SELECTION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcrSelection {
    /// The bank's hash algorithm.
    pub alg: u16,
    /// Selected PCR indices, ascending.
    pub pcrs: Vec<u32>,
}

/// A parsed `TPMS_ATTEST` of type quote (Part 2 10.12.12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attest {
    /// The name of the key that signed (qualified by its hierarchy).
    pub qualified_signer: Vec<u8>,
    /// The caller's qualifying data: the verifier's nonce.
    pub extra_data: Vec<u8>,
    /// Milliseconds the TPM has been powered (TPMS_CLOCK_INFO.clock).
    pub clock: u64,
    /// TPM resets (reboots) since the TPM was provisioned.
    pub reset_count: u32,
    /// TPM restarts (resumes from hibernation) since the last reset.
    pub restart_count: u32,
    /// Whether the clock has not gone backwards.
    pub safe: bool,
    /// Vendor firmware version.
    pub firmware_version: u64,
    /// The PCRs the digest covers, in the order the TPM concatenated them.
    pub selection: Vec<PcrSelection>,
    /// Hash of the selected PCR values, concatenated bank by bank, PCR by PCR.
    pub pcr_digest: Vec<u8>,
}

impl Attest {
    /// Parses a `TPMS_ATTEST` (the body of a TPM2B_ATTEST, the bytes the signature covers).
    pub fn parse(data: &[u8]) -> Result<Attest, ParseError> {
        let mut r = Reader::new(data, 0);
        if data.len() > MAX_ATTEST {
            return Err(r.err(
                "TPMS_ATTEST",
                ErrorKind::BadLength(u64::try_from(data.len()).unwrap_or(u64::MAX)),
            ));
        }
        if r.u32_be("TPMS_ATTEST.magic")? != TPM_GENERATED {
            return Err(ParseError {
                offset: 0,
                field: "TPMS_ATTEST.magic",
                kind: ErrorKind::Invalid(
                    "not TPM_GENERATED_VALUE: the TPM did not produce these bytes",
                ),
            });
        }
        let at = r.offset();
        if r.u16_be("TPMS_ATTEST.type")? != ST_ATTEST_QUOTE {
            return Err(ParseError {
                offset: at,
                field: "TPMS_ATTEST.type",
                kind: ErrorKind::Invalid("not TPM_ST_ATTEST_QUOTE"),
            });
        }
        let qualified_signer = sized(&mut r, MAX_NAME, "TPMS_ATTEST.qualifiedSigner")?.to_vec();
        let extra_data = sized(&mut r, MAX_DATA, "TPMS_ATTEST.extraData")?.to_vec();
        let clock = r.u64_be("TPMS_CLOCK_INFO.clock")?;
        let reset_count = r.u32_be("TPMS_CLOCK_INFO.resetCount")?;
        let restart_count = r.u32_be("TPMS_CLOCK_INFO.restartCount")?;
        let at = r.offset();
        let safe = match r.u8("TPMS_CLOCK_INFO.safe")? {
            0 => false,
            1 => true,
            _ => {
                return Err(ParseError {
                    offset: at,
                    field: "TPMS_CLOCK_INFO.safe",
                    kind: ErrorKind::Invalid("TPMI_YES_NO other than 0 or 1"),
                })
            }
        };
        let firmware_version = r.u64_be("TPMS_ATTEST.firmwareVersion")?;
        let selection = pcr_selection(&mut r)?;
        let pcr_digest = sized(&mut r, MAX_DIGEST, "TPMS_QUOTE_INFO.pcrDigest")?.to_vec();
        r.expect_empty("TPMS_ATTEST")?;
        Ok(Attest {
            qualified_signer,
            extra_data,
            clock,
            reset_count,
            restart_count,
            safe,
            firmware_version,
            selection,
            pcr_digest,
        })
    }
}

/// A parsed `TPMT_SIGNATURE` (Part 2 11.3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// RSASSA-PKCS1-v1_5.
    RsaSsa {
        /// Hash of the signed data.
        hash: u16,
        /// The signature, big-endian.
        sig: Vec<u8>,
    },
    /// RSASSA-PSS.
    RsaPss {
        /// Hash of the signed data (also the MGF1 hash).
        hash: u16,
        /// The signature, big-endian.
        sig: Vec<u8>,
    },
    /// ECDSA.
    Ecdsa {
        /// Hash of the signed data.
        hash: u16,
        /// r, big-endian.
        r: Vec<u8>,
        /// s, big-endian.
        s: Vec<u8>,
    },
}

impl Signature {
    /// Parses a `TPMT_SIGNATURE` that fills `data`.
    pub fn parse(data: &[u8]) -> Result<Signature, ParseError> {
        let mut r = Reader::new(data, 0);
        let alg = r.u16_be("TPMT_SIGNATURE.sigAlg")?;
        let sig = match alg {
            ALG_RSASSA | ALG_RSAPSS => {
                let hash = r.u16_be("TPMS_SIGNATURE_RSA.hash")?;
                let sig = sized(&mut r, MAX_RSA_BYTES, "TPMS_SIGNATURE_RSA.sig")?.to_vec();
                if alg == ALG_RSASSA {
                    Signature::RsaSsa { hash, sig }
                } else {
                    Signature::RsaPss { hash, sig }
                }
            }
            ALG_ECDSA => {
                let hash = r.u16_be("TPMS_SIGNATURE_ECC.hash")?;
                let sr = sized(&mut r, MAX_ECC_BYTES, "TPMS_SIGNATURE_ECC.signatureR")?.to_vec();
                let ss = sized(&mut r, MAX_ECC_BYTES, "TPMS_SIGNATURE_ECC.signatureS")?.to_vec();
                Signature::Ecdsa { hash, r: sr, s: ss }
            }
            _ => {
                return Err(ParseError {
                    offset: 0,
                    field: "TPMT_SIGNATURE.sigAlg",
                    kind: ErrorKind::Invalid(
                        "not RSASSA, RSAPSS or ECDSA (the schemes an attestation key uses)",
                    ),
                })
            }
        };
        r.expect_empty("TPMT_SIGNATURE")?;
        Ok(sig)
    }

    /// The hash algorithm the signature is over.
    pub fn hash(&self) -> u16 {
        match self {
            Signature::RsaSsa { hash, .. }
            | Signature::RsaPss { hash, .. }
            | Signature::Ecdsa { hash, .. } => *hash,
        }
    }
}

/// Reads a TPM2B: a big-endian u16 size, then that many bytes, at most `max`.
fn sized<'a>(r: &mut Reader<'a>, max: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
    let at = r.offset();
    let size = r.u16_be(field)?;
    if usize::from(size) > max {
        return Err(ParseError {
            offset: at,
            field,
            kind: ErrorKind::BadLength(u64::from(size)),
        });
    }
    r.take(usize::from(size), field)
}

/// TPMT_SYM_DEF_OBJECT: algorithm, then key bits and mode unless NULL.
fn sym_def_object(r: &mut Reader<'_>) -> Result<(u16, u16), ParseError> {
    let alg = r.u16_be("TPMT_SYM_DEF_OBJECT.algorithm")?;
    if alg == ALG_NULL {
        return Ok((alg, 0));
    }
    let bits = r.u16_be("TPMT_SYM_DEF_OBJECT.keyBits")?;
    r.u16_be("TPMT_SYM_DEF_OBJECT.mode")?;
    Ok((alg, bits))
}

/// TPMT_RSA_SCHEME / TPMT_ECC_SCHEME: scheme, then its hash unless NULL (ECDAA adds a count).
fn scheme(r: &mut Reader<'_>, field: &'static str) -> Result<(u16, u16), ParseError> {
    let scheme = r.u16_be(field)?;
    if scheme == ALG_NULL {
        return Ok((scheme, ALG_NULL));
    }
    let hash = r.u16_be("TPMS_SCHEME_HASH.hashAlg")?;
    if scheme == ALG_ECDAA {
        r.u16_be("TPMS_SCHEME_ECDAA.count")?;
    }
    Ok((scheme, hash))
}

/// TPML_PCR_SELECTION (Part 2 10.9.7).
fn pcr_selection(r: &mut Reader<'_>) -> Result<Vec<PcrSelection>, ParseError> {
    let at = r.offset();
    let count = r.u32_be("TPML_PCR_SELECTION.count")?;
    if count > MAX_BANKS {
        return Err(ParseError {
            offset: at,
            field: "TPML_PCR_SELECTION.count",
            kind: ErrorKind::TooMany(u64::from(count)),
        });
    }
    let mut out = Vec::new();
    for _ in 0..count {
        let alg = r.u16_be("TPMS_PCR_SELECTION.hash")?;
        let at = r.offset();
        let size = r.u8("TPMS_PCR_SELECTION.sizeofSelect")?;
        if size > MAX_SELECT {
            return Err(ParseError {
                offset: at,
                field: "TPMS_PCR_SELECTION.sizeofSelect",
                kind: ErrorKind::BadLength(u64::from(size)),
            });
        }
        let bits = r.take(usize::from(size), "TPMS_PCR_SELECTION.pcrSelect")?;
        let mut pcrs = Vec::new();
        for (byte, b) in (0u32..).zip(bits) {
            for bit in 0..8u32 {
                if b & (1 << bit) != 0 {
                    pcrs.push(byte.saturating_mul(8).saturating_add(bit));
                }
            }
        }
        out.push(PcrSelection { alg, pcrs });
    }
    Ok(out)
}

/// Marshals a `TPML_PCR_SELECTION` (3 select bytes per bank: PCRs 0-23), for the agent's
/// quote command and for tests.
pub fn marshal_pcr_selection(selection: &[PcrSelection]) -> Vec<u8> {
    let mut out = Vec::new();
    let count = u32::try_from(selection.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for s in selection {
        out.extend_from_slice(&s.alg.to_be_bytes());
        out.push(3);
        let mut bits = [0u8; 3];
        for &p in &s.pcrs {
            let i = usize::try_from(p / 8).unwrap_or(usize::MAX);
            if let Some(b) = bits.get_mut(i) {
                *b |= 1 << (p % 8);
            }
        }
        out.extend_from_slice(&bits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_algorithms_are_one_table() {
        for a in HashAlg::ALL {
            assert_eq!(HashAlg::from_id(a.id()), Some(a));
            assert_eq!(HashAlg::from_name(a.name()), Some(a));
            assert_eq!(crate::eventlog::algorithm_name(a.id()), a.name());
            assert_eq!(crate::eventlog::algorithm_id(a.name()), Some(a.id()));
            assert_eq!(a.hash(&[b"abc"]).len(), a.size(), "{a:?}");
        }
        assert_eq!(HashAlg::from_id(0x0010), None, "TPM_ALG_NULL is no hash");
        assert_eq!(crate::eventlog::algorithm_name(0x0027), "alg_0x0027");
        // FIPS 180-2 and GB/T 32905 test vectors, over parts hashed as one message.
        assert_eq!(
            hex::encode(HashAlg::Sha256.hash(&[b"a", b"bc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(HashAlg::Sha1.hash(&[b"abc"])),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(HashAlg::Sm3_256.hash(&[b"abc"])),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    /// A quote built field by field (SHA-256 signer name, nonce "boardproof", PCRs 0-7 sha256);
    /// real swtpm quotes are checked in the attest crate's tests.
    fn quote() -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&TPM_GENERATED.to_be_bytes());
        a.extend_from_slice(&ST_ATTEST_QUOTE.to_be_bytes());
        a.extend_from_slice(&34u16.to_be_bytes());
        a.extend_from_slice(&[0x00, 0x0b]);
        a.extend_from_slice(&[7; 32]);
        a.extend_from_slice(&10u16.to_be_bytes());
        a.extend_from_slice(b"boardproof");
        a.extend_from_slice(&1234u64.to_be_bytes());
        a.extend_from_slice(&5u32.to_be_bytes());
        a.extend_from_slice(&0u32.to_be_bytes());
        a.push(1);
        a.extend_from_slice(&0x2023_0101u64.to_be_bytes());
        a.extend_from_slice(&marshal_pcr_selection(&[PcrSelection {
            alg: HashAlg::Sha256.id(),
            pcrs: (0..8).collect(),
        }]));
        a.extend_from_slice(&32u16.to_be_bytes());
        a.extend_from_slice(&[9; 32]);
        a
    }

    #[test]
    fn parses_a_quote() {
        let q = Attest::parse(&quote()).unwrap();
        assert_eq!(q.extra_data, b"boardproof");
        assert_eq!(q.clock, 1234);
        assert_eq!(q.reset_count, 5);
        assert!(q.safe);
        assert_eq!(q.selection.len(), 1);
        assert_eq!(q.selection[0].pcrs, (0..8).collect::<Vec<_>>());
        assert_eq!(q.pcr_digest, vec![9; 32]);
    }

    #[test]
    fn every_truncation_and_extension_is_an_error() {
        let q = quote();
        for n in 0..q.len() {
            assert!(Attest::parse(&q[..n]).is_err(), "prefix {n}");
        }
        let mut longer = q.clone();
        longer.push(0);
        assert_eq!(
            Attest::parse(&longer).unwrap_err().kind,
            ErrorKind::TrailingData
        );
    }

    #[test]
    fn wrong_magic_and_type_are_named() {
        let mut q = quote();
        q[0] = 0;
        assert_eq!(Attest::parse(&q).unwrap_err().field, "TPMS_ATTEST.magic");
        let mut q = quote();
        q[5] = 0x17;
        let e = Attest::parse(&q).unwrap_err();
        assert_eq!((e.field, e.offset), ("TPMS_ATTEST.type", 4));
    }

    #[test]
    fn oversized_fields_are_rejected_before_reading() {
        let mut q = quote();
        // extraData size 0xffff
        q[42] = 0xff;
        q[43] = 0xff;
        let e = Attest::parse(&q).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadLength(0xffff));
        assert_eq!(e.offset, 42);
    }

    #[test]
    fn pcr_selection_round_trips() {
        let sel = vec![
            PcrSelection {
                alg: HashAlg::Sha1.id(),
                pcrs: vec![0, 7, 10, 23],
            },
            PcrSelection {
                alg: HashAlg::Sha256.id(),
                pcrs: vec![],
            },
        ];
        let bytes = marshal_pcr_selection(&sel);
        let mut r = Reader::new(&bytes, 0);
        assert_eq!(pcr_selection(&mut r).unwrap(), sel);
        assert!(r.is_empty());
    }

    #[test]
    fn signature_kinds() {
        let mut s = vec![0x00, 0x18, 0x00, 0x0b, 0, 2, 1, 2, 0, 1, 3];
        assert_eq!(
            Signature::parse(&s).unwrap(),
            Signature::Ecdsa {
                hash: HashAlg::Sha256.id(),
                r: vec![1, 2],
                s: vec![3]
            }
        );
        s.push(0);
        assert!(Signature::parse(&s).is_err());
        let hmac = [0x00, 0x05, 0x00, 0x0b];
        assert_eq!(
            Signature::parse(&hmac).unwrap_err().field,
            "TPMT_SIGNATURE.sigAlg"
        );
    }

    #[test]
    fn public_name_is_alg_and_hash_of_the_area() {
        // A P-256 AK area: restricted signing, ECDSA-SHA256.
        let mut p = Vec::new();
        p.extend_from_slice(&ALG_ECC.to_be_bytes());
        p.extend_from_slice(&HashAlg::Sha256.id().to_be_bytes());
        p.extend_from_slice(&0x0005_0072u32.to_be_bytes());
        p.extend_from_slice(&0u16.to_be_bytes());
        p.extend_from_slice(&ALG_NULL.to_be_bytes());
        p.extend_from_slice(&ALG_ECDSA.to_be_bytes());
        p.extend_from_slice(&HashAlg::Sha256.id().to_be_bytes());
        p.extend_from_slice(&ECC_NIST_P256.to_be_bytes());
        p.extend_from_slice(&ALG_NULL.to_be_bytes());
        p.extend_from_slice(&32u16.to_be_bytes());
        p.extend_from_slice(&[1; 32]);
        p.extend_from_slice(&32u16.to_be_bytes());
        p.extend_from_slice(&[2; 32]);
        let mut b = (p.len() as u16).to_be_bytes().to_vec();
        b.extend_from_slice(&p);
        let k = Public::parse_2b(&b).unwrap();
        assert!(k.has(ATTR_FIXED_TPM | ATTR_RESTRICTED | ATTR_SIGN));
        assert_eq!((k.scheme, k.scheme_hash), (ALG_ECDSA, HashAlg::Sha256.id()));
        let name = k.name().unwrap();
        assert_eq!(&name[..2], &[0, 0x0b]);
        assert_eq!(name[2..], HashAlg::Sha256.hash(&[&p])[..]);
        for n in 0..b.len() {
            assert!(Public::parse_2b(&b[..n]).is_err(), "prefix {n}");
        }
    }
}
