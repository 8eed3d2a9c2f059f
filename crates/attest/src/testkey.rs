//! A software attestation key, for tests and benchmarks only (feature `test-util`): it makes
//! the AK public area a TPM would return and signs quotes as the TPM would. The attributes
//! claim fixedTPM like a real AK; only credential activation (which a software key cannot
//! pass) and the EK certificate tell the difference, which is the point of both.

use boardproof_formats::tpm2::HashAlg;

const ALG_SHA256: u16 = HashAlg::Sha256.id();
use boardproof_formats::tpm2::{
    marshal_pcr_selection, PcrSelection, ALG_ECC, ALG_ECDSA, ALG_NULL, ECC_NIST_P256,
    ST_ATTEST_QUOTE, TPM_GENERATED,
};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use sha2::Digest;

fn sized(v: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(v.len())
        .unwrap_or(u16::MAX)
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(v);
    out
}

/// A P-256 key posing as an AK.
pub struct TestKey(p256::ecdsa::SigningKey);

impl TestKey {
    /// The key from a 32-byte seed (any value but zero and the group order's multiples).
    pub fn new(seed: u8) -> TestKey {
        let bytes = [seed.max(1); 32];
        TestKey(p256::ecdsa::SigningKey::from_slice(&bytes).unwrap_or_else(|_| unreachable!()))
    }

    /// TPM2B_PUBLIC of the key, with a restricted-signing AK's attributes.
    pub fn public(&self) -> Vec<u8> {
        let point = self.0.verifying_key().to_encoded_point(false);
        let mut p = Vec::new();
        p.extend_from_slice(&ALG_ECC.to_be_bytes());
        p.extend_from_slice(&ALG_SHA256.to_be_bytes());
        p.extend_from_slice(&0x0005_0072u32.to_be_bytes());
        p.extend_from_slice(&sized(&[]));
        p.extend_from_slice(&ALG_NULL.to_be_bytes());
        p.extend_from_slice(&ALG_ECDSA.to_be_bytes());
        p.extend_from_slice(&ALG_SHA256.to_be_bytes());
        p.extend_from_slice(&ECC_NIST_P256.to_be_bytes());
        p.extend_from_slice(&ALG_NULL.to_be_bytes());
        p.extend_from_slice(&sized(point.x().map(|x| x.as_slice()).unwrap_or_default()));
        p.extend_from_slice(&sized(point.y().map(|y| y.as_slice()).unwrap_or_default()));
        sized(&p)
    }

    /// A TPMS_ATTEST quote over `nonce`, `selection` and `pcr_digest`, and its TPMT_SIGNATURE.
    pub fn quote(
        &self,
        nonce: &[u8],
        selection: &[PcrSelection],
        pcr_digest: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let mut attest = Vec::new();
        attest.extend_from_slice(&TPM_GENERATED.to_be_bytes());
        attest.extend_from_slice(&ST_ATTEST_QUOTE.to_be_bytes());
        attest.extend_from_slice(&sized(&[0x00, 0x0b].repeat(17)));
        attest.extend_from_slice(&sized(nonce));
        attest.extend_from_slice(&[0u8; 8 + 4 + 4 + 1 + 8]);
        attest.extend_from_slice(&marshal_pcr_selection(selection));
        attest.extend_from_slice(&sized(pcr_digest));
        let digest = sha2::Sha256::digest(&attest);
        let sig: p256::ecdsa::Signature = self
            .0
            .sign_prehash(&digest)
            .unwrap_or_else(|_| unreachable!("a 32-byte digest"));
        let (r, s) = sig.split_bytes();
        let mut signature = Vec::new();
        signature.extend_from_slice(&boardproof_formats::tpm2::ALG_ECDSA.to_be_bytes());
        signature.extend_from_slice(&ALG_SHA256.to_be_bytes());
        signature.extend_from_slice(&sized(&r));
        signature.extend_from_slice(&sized(&s));
        (attest, signature)
    }
}
