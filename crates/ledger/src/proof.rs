//! Proof files: what `log prove` and `log consistency` write and `log verify-proof` checks
//! with nothing but the log's verifier key — no store, no network.
//!
//! A proof is checked with the verifier key the auditor brings, never the one inside the file
//! (which must equal it), so a file cannot vouch for itself.

use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::tlog;
use crate::Error;

/// The `format` of a proof file.
pub const PROOF_FORMAT: &str = "boardproof.log-proof/v1";

/// Upper bound on hashes read from a proof (a log of 2^64 leaves needs 128).
pub const MAX_PROOF_HASHES: usize = 130;

/// A proof file. (No `deny_unknown_fields`: serde does not allow it with `flatten`; the
/// one-byte-form check in [`ProofFile::from_bytes`] refuses unknown fields instead.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProofFile {
    /// [`PROOF_FORMAT`].
    pub format: String,
    /// The verifier key of the log that made it (must equal the auditor's; never trusted).
    pub verifier: String,
    /// What it proves.
    #[serde(flatten)]
    pub proof: Proof,
}

/// What a proof file proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Proof {
    /// `leaf` is entry `index` of the tree the checkpoint signs.
    Inclusion {
        /// The signed checkpoint (C2SP signed note text).
        checkpoint: String,
        /// Entry index.
        index: u64,
        /// The entry (its leaf bytes, which are JSON text).
        leaf: String,
        /// Audit path, hex.
        proof: Vec<String>,
    },
    /// The `new` checkpoint's tree extends the `old` one's.
    Consistency {
        /// The older checkpoint.
        old: String,
        /// The newer checkpoint.
        new: String,
        /// Consistency path, hex.
        proof: Vec<String>,
    },
}

fn bad(why: impl Into<String>) -> Error {
    Error::LogMalformed {
        what: "proof file",
        why: why.into(),
    }
}

fn hashes(proof: &[String]) -> Result<Vec<[u8; 32]>, Error> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(bad(format!(
            "{} hashes (no log needs more than {MAX_PROOF_HASHES})",
            proof.len()
        )));
    }
    proof
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if !h
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            {
                return Err(bad(format!("proof hash {i} is not lowercase hex")));
            }
            let b = hex::decode(h).map_err(|e| bad(format!("proof hash {i}: {e}")))?;
            <[u8; 32]>::try_from(b.as_slice())
                .map_err(|_| bad(format!("proof hash {i} is {} bytes, not 32", b.len())))
        })
        .collect()
}

fn hex_all(p: &[[u8; 32]]) -> Vec<String> {
    p.iter().map(hex::encode).collect()
}

/// What a proof showed, once checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Checked {
    /// The checkpoint's origin (the log's name).
    pub origin: String,
    /// Tree size of the (newer) checkpoint.
    pub size: u64,
    /// Root hash of that checkpoint, hex.
    pub root: String,
    /// For inclusion: the entry and its index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<(u64, Entry)>,
    /// For consistency: the older size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_size: Option<u64>,
}

impl ProofFile {
    /// An inclusion proof file.
    pub fn inclusion(
        verifier: &str,
        checkpoint: &[u8],
        index: u64,
        leaf: &[u8],
        proof: &[[u8; 32]],
    ) -> Result<ProofFile, Error> {
        Ok(ProofFile {
            format: PROOF_FORMAT.into(),
            verifier: verifier.into(),
            proof: Proof::Inclusion {
                checkpoint: text(checkpoint, "checkpoint")?,
                index,
                leaf: text(leaf, "log entry")?,
                proof: hex_all(proof),
            },
        })
    }

    /// A consistency proof file.
    pub fn consistency(
        verifier: &str,
        old: &[u8],
        new: &[u8],
        proof: &[[u8; 32]],
    ) -> Result<ProofFile, Error> {
        Ok(ProofFile {
            format: PROOF_FORMAT.into(),
            verifier: verifier.into(),
            proof: Proof::Consistency {
                old: text(old, "checkpoint")?,
                new: text(new, "checkpoint")?,
                proof: hex_all(proof),
            },
        })
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut v = serde_json::to_vec_pretty(self).map_err(|source| Error::Encode {
            what: "proof file",
            source,
        })?;
        v.push(b'\n');
        Ok(v)
    }

    /// Parses a proof file.
    pub fn from_bytes(bytes: &[u8]) -> Result<ProofFile, Error> {
        let p: ProofFile = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if p.format != PROOF_FORMAT {
            return Err(bad(format!(
                "format {:?}, expected {PROOF_FORMAT:?}",
                p.format
            )));
        }
        // One byte form only, so that an edited byte is never passed over as meaningless.
        if p.to_bytes()? != bytes {
            return Err(bad(
                "not in the form `log prove` writes (whitespace, order or escaping changed)",
            ));
        }
        Ok(p)
    }

    /// Checks the proof with `verifier` (the auditor's key, not the file's). Every failure is
    /// an error saying which part does not hold.
    pub fn check(&self, verifier: &str) -> Result<Checked, Error> {
        // Also here, not only in from_bytes: proofs arrive inside bundles too.
        if self.format != PROOF_FORMAT {
            return Err(bad(format!(
                "format {:?}, expected {PROOF_FORMAT:?}",
                self.format
            )));
        }
        if self.verifier != verifier {
            return Err(Error::LogSignature(format!(
                "the proof names the log with verifier key {}, not {verifier}",
                self.verifier
            )));
        }
        match &self.proof {
            Proof::Inclusion {
                checkpoint,
                index,
                leaf,
                proof,
            } => {
                let entry = Entry::from_leaf(leaf.as_bytes())?;
                let (origin, size, root) = tlog::open_checkpoint(checkpoint.as_bytes(), verifier)?;
                tlog::verify_inclusion_in(&root, size, leaf.as_bytes(), *index, &hashes(proof)?)?;
                Ok(Checked {
                    origin,
                    size,
                    root: hex::encode(root),
                    entry: Some((*index, entry)),
                    old_size: None,
                })
            }
            Proof::Consistency { old, new, proof } => {
                tlog::verify_consistency(
                    old.as_bytes(),
                    new.as_bytes(),
                    verifier,
                    &hashes(proof)?,
                )?;
                let (_, old_size, _) = tlog::open_checkpoint(old.as_bytes(), verifier)?;
                let (origin, size, root) = tlog::open_checkpoint(new.as_bytes(), verifier)?;
                Ok(Checked {
                    origin,
                    size,
                    root: hex::encode(root),
                    entry: None,
                    old_size: Some(old_size),
                })
            }
        }
    }
}

fn text(b: &[u8], what: &'static str) -> Result<String, Error> {
    String::from_utf8(b.to_vec()).map_err(|_| Error::LogMalformed {
        what,
        why: "not UTF-8 text".into(),
    })
}
