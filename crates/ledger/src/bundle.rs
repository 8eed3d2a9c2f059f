//! Bundles: one file holding everything a third party needs to re-check a verdict — the
//! evidence, the manifest, the trust policy, the signed verdict and the log's inclusion proofs
//! — checked with public keys only (`bundle verify`).
//!
//! Each part is kept as the exact bytes that were signed, hashed or logged (base64 in JSON), so
//! nothing is re-encoded on the way; the bundle itself is accepted only in the one form
//! `bundle create` writes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::proof::ProofFile;
use crate::Error;

/// The `format` of a bundle.
pub const BUNDLE_FORMAT: &str = "boardproof.bundle/v1";

/// Upper bound on proofs in one bundle.
pub const MAX_PROOFS: usize = 16;

/// A bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The evidence file, base64.
    pub evidence: String,
    /// The manifest file (DSSE envelope), base64.
    pub manifest: String,
    /// The trust policy file (DSSE envelope), base64, when the verdict was judged under one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The signed verdict (DSSE envelope), base64.
    pub verdict: String,
    /// Inclusion proofs of the verdict and, where given, the manifest and policy.
    pub proofs: Vec<ProofFile>,
}

/// A bundle's parts, decoded.
#[derive(Debug, Clone)]
pub struct Parts {
    /// Evidence bytes.
    pub evidence: Vec<u8>,
    /// Manifest bytes.
    pub manifest: Vec<u8>,
    /// Policy bytes.
    pub policy: Option<Vec<u8>>,
    /// Verdict bytes.
    pub verdict: Vec<u8>,
    /// Proofs.
    pub proofs: Vec<ProofFile>,
}

fn bad(why: impl Into<String>) -> Error {
    Error::LogMalformed {
        what: "bundle",
        why: why.into(),
    }
}

impl Bundle {
    /// A bundle of `parts`.
    pub fn new(parts: &Parts) -> Bundle {
        Bundle {
            format: BUNDLE_FORMAT.into(),
            evidence: STANDARD.encode(&parts.evidence),
            manifest: STANDARD.encode(&parts.manifest),
            policy: parts.policy.as_ref().map(|p| STANDARD.encode(p)),
            verdict: STANDARD.encode(&parts.verdict),
            proofs: parts.proofs.clone(),
        }
    }

    /// The one byte form: compact JSON, one trailing newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut v = serde_json::to_vec(self).map_err(|source| Error::Encode {
            what: "bundle",
            source,
        })?;
        v.push(b'\n');
        Ok(v)
    }

    /// Parses a bundle, refusing any other byte form, and decodes its parts.
    pub fn open(bytes: &[u8]) -> Result<Parts, Error> {
        let b: Bundle = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if b.format != BUNDLE_FORMAT {
            return Err(bad(format!(
                "format {:?}, expected {BUNDLE_FORMAT:?}",
                b.format
            )));
        }
        if b.proofs.len() > MAX_PROOFS {
            return Err(bad(format!(
                "{} proofs (at most {MAX_PROOFS})",
                b.proofs.len()
            )));
        }
        if b.to_bytes()? != bytes {
            return Err(bad(
                "not in the form `bundle create` writes (whitespace, order or escaping changed)",
            ));
        }
        let dec = |what: &str, s: &str| {
            STANDARD
                .decode(s)
                .map_err(|e| bad(format!("{what} is not base64: {e}")))
        };
        Ok(Parts {
            evidence: dec("evidence", &b.evidence)?,
            manifest: dec("manifest", &b.manifest)?,
            policy: b.policy.as_deref().map(|p| dec("policy", p)).transpose()?,
            verdict: dec("verdict", &b.verdict)?,
            proofs: b.proofs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every single-byte change of a bundle either makes it unreadable or changes the bytes of
    /// at least one part (which `bundle verify` then catches: a part's digest is in the signed
    /// verdict, the verdict is signed, each proof is checked). No edit leaves all parts equal.
    #[test]
    fn every_byte_edit_fails_to_open_or_changes_a_part() {
        let parts = Parts {
            evidence: br#"{"schema":"boardproof.evidence/v1","x":[1,2,3]}"#.to_vec(),
            manifest: b"{\"payloadType\":\"m\",\"payload\":\"e30=\",\"signatures\":[]}\n".to_vec(),
            policy: Some(b"{\"policy\":true}\n".to_vec()),
            verdict: b"{\"payloadType\":\"v\",\"payload\":\"e30=\",\"signatures\":[]}\n".to_vec(),
            proofs: vec![ProofFile::inclusion(
                "log+0badc0de+AQ==",
                b"log\n1\nAAAA\n\n- log sig\n",
                0,
                br#"{"v":1,"kind":"verdict","sha256":"00"}"#,
                &[[7u8; 32]],
            )
            .unwrap()],
        };
        let bytes = Bundle::new(&parts).to_bytes().unwrap();
        let same = |p: &Parts| {
            p.evidence == parts.evidence
                && p.manifest == parts.manifest
                && p.policy == parts.policy
                && p.verdict == parts.verdict
                && p.proofs == parts.proofs
        };
        assert!(same(&Bundle::open(&bytes).unwrap()));
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x02, 0x20, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= flip;
                if let Ok(p) = Bundle::open(&b) {
                    assert!(!same(&p), "byte {i} ^ {flip:#x} changed nothing");
                }
            }
        }
        // Truncations never open.
        for n in 0..bytes.len() {
            assert!(Bundle::open(&bytes[..n]).is_err(), "truncated to {n}");
        }
    }
}
