//! Verdicts: a customer's (or auditor's) conclusion about one server, as an in-toto Statement
//! v1 whose subjects are the evidence and the manifest it was judged against, and whose
//! predicate (`https://boardproof.dev/verdict/v1`) is the report.
//!
//! The statement names its inputs by digest, so that a third party holding the evidence and
//! manifest files can check the verdict is about exactly those, and re-run the verification.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use boardproof_evidence::{Creator, HostIdentity, Report, Verdict};

use crate::Error;

/// DSSE payload type of an in-toto Statement.
pub const VERDICT_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Predicate type of a boardproof verdict.
pub const VERDICT_PREDICATE: &str = "https://boardproof.dev/verdict/v1";

/// Subject name of the evidence file in a verdict.
pub const SUBJECT_EVIDENCE: &str = "evidence";
/// Subject name of the manifest in a verdict.
pub const SUBJECT_MANIFEST: &str = "manifest";
/// Subject name of the trust policy in a verdict judged under one.
pub const SUBJECT_POLICY: &str = "policy";

/// An in-toto Statement v1 (the fields this crate writes and reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement<P> {
    /// [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// What kind of statement.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The statement itself.
    pub predicate: P,
}

/// An in-toto resource descriptor with a name and digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Name.
    pub name: String,
    /// Algorithm → lowercase hex digest.
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// A subject named `name` with the SHA-256 of `bytes`.
    pub fn sha256(name: &str, bytes: &[u8]) -> Subject {
        Subject {
            name: name.to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), hex::encode(Sha256::digest(bytes)))]),
        }
    }
}

/// The verdict predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictPredicate {
    /// `verified` or `findings`.
    pub verdict: Verdict,
    /// When it was decided (RFC 3339, UTC).
    pub decided_at: String,
    /// Who decided (and, when signed, with which key).
    pub decided_by: Creator,
    /// The host the evidence comes from.
    pub host: HostIdentity,
    /// The key id whose signature on the manifest was trusted (empty when none was).
    pub manifest_signed_by: String,
    /// The full report.
    pub report: Report,
}

impl VerdictPredicate {
    /// `verified` or `findings`.
    pub fn verdict_str(&self) -> &'static str {
        match self.verdict {
            Verdict::Verified => "verified",
            Verdict::Findings => "findings",
        }
    }
}

/// A verdict statement.
pub type VerdictStatement = Statement<VerdictPredicate>;

/// Builds the statement about `evidence` judged against `manifest` (both as the file bytes).
pub fn build(evidence: &[u8], manifest: &[u8], predicate: VerdictPredicate) -> VerdictStatement {
    Statement {
        type_: STATEMENT_TYPE.into(),
        subject: vec![
            Subject::sha256(SUBJECT_EVIDENCE, evidence),
            Subject::sha256(SUBJECT_MANIFEST, manifest),
        ],
        predicate_type: VERDICT_PREDICATE.into(),
        predicate,
    }
}

/// The payload bytes (compact JSON).
pub fn to_payload(s: &VerdictStatement) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(s).map_err(|source| Error::Encode {
        what: "verdict",
        source,
    })
}

/// Parses payload bytes as a verdict statement, checking its types.
pub fn from_payload(bytes: &[u8]) -> Result<VerdictStatement, Error> {
    let s: VerdictStatement = serde_json::from_slice(bytes)
        .map_err(|e| Error::Envelope(format!("not a boardproof verdict statement: {e}")))?;
    if s.type_ != STATEMENT_TYPE || s.predicate_type != VERDICT_PREDICATE {
        return Err(Error::Envelope(format!(
            "statement {} / predicate {}, expected {STATEMENT_TYPE} / {VERDICT_PREDICATE}",
            s.type_, s.predicate_type
        )));
    }
    Ok(s)
}

impl VerdictStatement {
    /// The SHA-256 the statement gives for subject `name`.
    pub fn subject_sha256(&self, name: &str) -> Option<&str> {
        self.subject
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.digest.get("sha256"))
            .map(String::as_str)
    }
}
