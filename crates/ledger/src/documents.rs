//! The JSON documents the store, its log and bundles are shown as (`history`, `log …`,
//! `bundle verify`, `corim show` with `--json`; a service answers with the same). Each has a
//! `schema` field and a JSON Schema in `schemas/` ([`schemas`]).

use schemars::JsonSchema;
use serde::Serialize;

use crate::corim::Corim;
use crate::entry::Entry;
use crate::proof::{Checked, ProofFile};
use crate::store::ScanRow;

/// `boardproof.history/v1`.
pub const HISTORY_SCHEMA: &str = "boardproof.history/v1";
/// `boardproof.log-show/v1`.
pub const LOG_SHOW_SCHEMA: &str = "boardproof.log-show/v1";
/// `boardproof.log-append/v1`.
pub const LOG_APPEND_SCHEMA: &str = "boardproof.log-append/v1";
/// `boardproof.log-audit/v1`.
pub const LOG_AUDIT_SCHEMA: &str = "boardproof.log-audit/v1";
/// `boardproof.log-verify-proof/v1`.
pub const LOG_VERIFY_PROOF_SCHEMA: &str = "boardproof.log-verify-proof/v1";
/// `boardproof.log-consistency/v1`.
pub const LOG_CONSISTENCY_SCHEMA: &str = "boardproof.log-consistency/v1";
/// `boardproof.bundle-verify/v1`.
pub const BUNDLE_VERIFY_SCHEMA: &str = "boardproof.bundle-verify/v1";
/// `boardproof.corim/v1`.
pub const CORIM_SCHEMA: &str = "boardproof.corim/v1";

/// The stored scans, newest first, and whether the store's rows match its log.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct History {
    /// [`HISTORY_SCHEMA`].
    pub schema: String,
    /// The store file.
    pub store: String,
    /// The scans shown.
    pub scans: Vec<ScanRow>,
    /// How many store rows were checked against the transparency log.
    pub rows_checked: u64,
    /// Each row or log entry that does not match (empty: every row is what was recorded).
    pub problems: Vec<String>,
}

/// One entry of `log show`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ShownEntry {
    /// Its index.
    pub index: u64,
    /// When it was appended (RFC 3339).
    pub appended_at: String,
    /// The entry, when its leaf is one.
    #[serde(flatten)]
    pub entry: Option<Entry>,
    /// The leaf's bytes, hex, when they are not an entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_hex: Option<String>,
}

/// The log: its name, key, size, root, latest checkpoint and last entries.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogShow {
    /// [`LOG_SHOW_SCHEMA`].
    pub schema: String,
    /// The log's name (none: never started).
    pub origin: Option<String>,
    /// Its verifier key.
    pub verifier: Option<String>,
    /// Entries.
    pub size: u64,
    /// Merkle root of all entries, hex.
    pub root: String,
    /// The latest signed checkpoint.
    pub checkpoint: Option<String>,
    /// The last entries.
    pub entries: Vec<ShownEntry>,
}

/// One appended file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Appended {
    /// The file.
    pub file: String,
    /// Its entry index.
    pub index: u64,
    /// The entry.
    pub entry: Entry,
}

/// What `log append` appended.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogAppend {
    /// [`LOG_APPEND_SCHEMA`].
    pub schema: String,
    /// Each file, in order.
    pub entries: Vec<Appended>,
    /// The log's size after.
    pub size: u64,
    /// Its verifier key.
    pub verifier: String,
    /// The new checkpoint.
    pub checkpoint: String,
}

/// What `log audit` found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogAudit {
    /// [`LOG_AUDIT_SCHEMA`].
    pub schema: String,
    /// The log's verifier key.
    pub verifier: String,
    /// Entries replayed.
    pub leaves: u64,
    /// Checkpoints checked (the log's and those given).
    pub checkpoints: u64,
    /// Store rows checked against the log.
    pub rows: u64,
    /// No problem found.
    pub sound: bool,
    /// Each problem.
    pub problems: Vec<String>,
}

/// What `log verify-proof` concluded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogVerifyProof {
    /// [`LOG_VERIFY_PROOF_SCHEMA`].
    pub schema: String,
    /// The proof holds.
    pub proven: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What was checked, when it held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<Checked>,
    /// The file that had to be the proven entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// What `log consistency` concluded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogConsistency {
    /// [`LOG_CONSISTENCY_SCHEMA`].
    pub schema: String,
    /// The newer checkpoint extends the older.
    pub consistent: bool,
    /// Older size.
    pub old_size: u64,
    /// Newer size.
    pub new_size: u64,
    /// Why not.
    pub reason: Option<String>,
    /// The proof, when consistent.
    pub proof: Option<ProofFile>,
}

/// One check of `bundle verify`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BundleCheck {
    /// What was checked.
    pub check: String,
    /// It held.
    pub ok: bool,
    /// How, or why not.
    pub detail: String,
}

/// What `bundle verify` concluded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BundleVerify {
    /// [`BUNDLE_VERIFY_SCHEMA`].
    pub schema: String,
    /// The bundle.
    pub bundle: String,
    /// Every check held.
    pub verified: bool,
    /// The verdict the bundle carries (`verified` or `findings`), when its signature held.
    pub verdict: Option<String>,
    /// Its number of findings.
    pub findings: Option<u64>,
    /// Each check.
    pub checks: Vec<BundleCheck>,
}

/// `corim show`: a CoRIM decoded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CorimShow {
    /// [`CORIM_SCHEMA`].
    pub schema: String,
    /// The CoRIM.
    #[serde(flatten)]
    pub corim: Corim,
}

/// JSON Schemas of these documents and the policy, keyed by file name under `schemas/`.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let to_value = |s: schemars::Schema| serde_json::to_value(s).unwrap_or_default();
    vec![
        ("history-v1.json", to_value(schemars::schema_for!(History))),
        ("log-show-v1.json", to_value(schemars::schema_for!(LogShow))),
        (
            "log-append-v1.json",
            to_value(schemars::schema_for!(LogAppend)),
        ),
        (
            "log-audit-v1.json",
            to_value(schemars::schema_for!(LogAudit)),
        ),
        (
            "log-verify-proof-v1.json",
            to_value(schemars::schema_for!(LogVerifyProof)),
        ),
        (
            "log-consistency-v1.json",
            to_value(schemars::schema_for!(LogConsistency)),
        ),
        (
            "bundle-verify-v1.json",
            to_value(schemars::schema_for!(BundleVerify)),
        ),
        ("corim-v1.json", to_value(schemars::schema_for!(CorimShow))),
        (
            "policy-v1.json",
            to_value(schemars::schema_for!(crate::policy::Policy)),
        ),
    ]
}
