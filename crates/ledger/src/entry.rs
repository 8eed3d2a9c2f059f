//! What a leaf of the transparency log holds: one [`Entry`], a kind and a SHA-256, in one
//! canonical JSON form.
//!
//! The digest of a signed file (a DSSE envelope: manifest, policy, verdict) is the digest of
//! its *payload*, the bytes the parties signed, not of the envelope: a co-signature added later
//! changes the envelope but not what was logged. Any other file is logged by the digest of its
//! bytes. [`Entry::for_file`] is the one rule, used both when appending and when an auditor
//! checks a file against a proof, so the two can never disagree.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dsse::Envelope;
use crate::Error;

/// Version of the entry format.
pub const ENTRY_VERSION: u32 = 1;

/// What was logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A signed manifest (its payload).
    Manifest,
    /// A signed trust policy (its payload).
    Policy,
    /// A verdict statement (its payload).
    Verdict,
    /// Any other DSSE envelope (its payload).
    Signed,
    /// Any other file (its bytes).
    File,
    /// A scan row of the store (see [`crate::rows`]).
    Scan,
    /// A baseline row of the store (see [`crate::rows`]).
    Baseline,
}

impl EntryKind {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Manifest => "manifest",
            EntryKind::Policy => "policy",
            EntryKind::Verdict => "verdict",
            EntryKind::Signed => "signed",
            EntryKind::File => "file",
            EntryKind::Scan => "scan",
            EntryKind::Baseline => "baseline",
        }
    }

    /// The kind of a DSSE payload type.
    pub fn of_payload_type(t: &str) -> EntryKind {
        match t {
            crate::manifest::MANIFEST_PAYLOAD_TYPE => EntryKind::Manifest,
            crate::policy::POLICY_PAYLOAD_TYPE => EntryKind::Policy,
            crate::verdict::VERDICT_PAYLOAD_TYPE => EntryKind::Verdict,
            _ => EntryKind::Signed,
        }
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// [`ENTRY_VERSION`].
    pub v: u32,
    /// What was logged.
    pub kind: EntryKind,
    /// SHA-256 of the payload (signed files) or of the bytes (other files), lowercase hex.
    pub sha256: String,
}

impl Entry {
    /// The entry for `kind` over `bytes`.
    pub fn new(kind: EntryKind, bytes: &[u8]) -> Entry {
        Entry {
            v: ENTRY_VERSION,
            kind,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }

    /// The entry for a file's bytes: a canonical DSSE envelope is logged by its payload and its
    /// payload type's kind, anything else as a `file` by its bytes.
    pub fn for_file(bytes: &[u8]) -> Entry {
        if let Ok(env) = Envelope::from_canonical_bytes(bytes) {
            if let Ok(payload) = base64::engine::general_purpose::STANDARD.decode(&env.payload) {
                return Entry::new(EntryKind::of_payload_type(&env.payload_type), &payload);
            }
        }
        Entry::new(EntryKind::File, bytes)
    }

    /// The leaf bytes: compact JSON in field order, no newline.
    pub fn to_leaf(&self) -> Vec<u8> {
        // Plain strings and integers: serde_json cannot fail on them.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses leaf bytes, refusing any form other than the one [`Entry::to_leaf`] writes.
    pub fn from_leaf(leaf: &[u8]) -> Result<Entry, Error> {
        let bad = |why: String| Error::LogMalformed {
            what: "log entry",
            why,
        };
        let e: Entry = serde_json::from_slice(leaf).map_err(|e| bad(e.to_string()))?;
        if e.v != ENTRY_VERSION {
            return Err(bad(format!(
                "version {} (this build reads {ENTRY_VERSION})",
                e.v
            )));
        }
        if e.sha256.len() != 64 || hex::decode(&e.sha256).is_err() {
            return Err(bad("sha256 is not 64 hex digits".into()));
        }
        if e.to_leaf() != leaf {
            return Err(bad("not in canonical form".into()));
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Algorithm, PrivateKey};

    #[test]
    fn envelopes_are_logged_by_payload_and_files_by_bytes() {
        let k = PrivateKey::generate(Algorithm::Ed25519);
        let env = Envelope::sign(crate::manifest::MANIFEST_PAYLOAD_TYPE, b"{}", &k);
        let e = Entry::for_file(&env.to_canonical_bytes());
        assert_eq!(e, Entry::new(EntryKind::Manifest, b"{}"));
        let mut cosigned = env.clone();
        cosigned
            .cosign(&PrivateKey::generate(Algorithm::EcdsaP256))
            .unwrap();
        assert_eq!(Entry::for_file(&cosigned.to_canonical_bytes()), e);
        assert_eq!(Entry::for_file(b"{}").kind, EntryKind::File);
        let leaf = e.to_leaf();
        assert_eq!(Entry::from_leaf(&leaf).unwrap(), e);
        assert!(Entry::from_leaf(&[leaf.as_slice(), b" "].concat()).is_err());
        assert!(Entry::from_leaf(br#"{"v":2,"kind":"file","sha256":"00"}"#).is_err());
    }
}
