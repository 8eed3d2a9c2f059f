//! The errors of the use cases: each names the input it is about.

/// Why a use case could not run (the caller maps every one to exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A signed document (manifest, policy, CoRIM, challenge) did not open or parse.
    #[error("{name}: {source}")]
    Document {
        /// What the caller called the input (its path, or "in the bundle").
        name: String,
        /// Why.
        #[source]
        source: boardproof_ledger::Error,
    },
    /// The store or its log failed.
    #[error(transparent)]
    Store(#[from] boardproof_ledger::Error),
    /// The store's rows do not match its transparency log: nothing read from it is trusted
    /// and nothing is added to it.
    #[error(
        "{path}: the store does not match its transparency log ({} problems: {}{}); nothing was compared or recorded (run `boardproof log audit`)",
        problems.len(),
        problems.iter().take(3).map(String::as_str).collect::<Vec<_>>().join("; "),
        if problems.len() > 3 { "; …" } else { "" }
    )]
    StoreEdited {
        /// The store file.
        path: std::path::PathBuf,
        /// Each row or entry that does not match.
        problems: Vec<String>,
    },
    /// An input was refused for what it says (e.g. an empty acceptance reason).
    #[error("{0}")]
    Invalid(String),
    /// The TPM could not answer a challenge.
    #[error("{name}: {why}")]
    Tpm {
        /// The TPM or the challenge.
        name: String,
        /// Why.
        why: String,
    },
    /// A document could not be serialised (a bug).
    #[error("internal error: {0}")]
    Json(#[from] serde_json::Error),
}
