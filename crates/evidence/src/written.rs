//! What a command that writes something wrote, as its `--json` prints it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `schema` of [`Written`].
pub const WRITTEN_SCHEMA: &str = "boardproof.written/v1";

/// One command's result: the files it wrote and, where it logged one, the log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Written {
    /// Always [`WRITTEN_SCHEMA`].
    pub schema: String,
    /// The command (`keygen`, `manifest create`, `policy sign`, `bundle create`, `log prove`,
    /// `corim export`, `platform-cert components`).
    pub command: String,
    /// Every file written, in the order written.
    pub files: Vec<WrittenFile>,
    /// The key that signed what was written, or the key made (`keygen`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The algorithm of that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// Where the written record was logged, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logged: Option<LoggedAt>,
    /// Facts about what was written (counts, what was left out and why).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A file written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WrittenFile {
    /// Its path as given.
    pub path: String,
    /// What it is (`private key`, `public key`, `manifest`, `policy`, `bundle`, `proof`,
    /// `corim`, `component list`).
    pub what: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, lowercase hex (not given for a private key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoggedAt {
    /// The store's database file.
    pub store: String,
    /// The entry's index.
    pub index: u64,
    /// The log's verifier key.
    pub verifier: String,
}

impl Written {
    /// A result of `command` with nothing in it yet.
    pub fn new(command: &str) -> Self {
        Written {
            schema: WRITTEN_SCHEMA.to_owned(),
            command: command.to_owned(),
            files: Vec::new(),
            key_id: None,
            algorithm: None,
            logged: None,
            notes: Vec::new(),
        }
    }

    /// Adds a file written with these bytes.
    pub fn file(mut self, path: &std::path::Path, what: &str, bytes: &[u8]) -> Self {
        use sha2::Digest;
        self.files.push(WrittenFile {
            path: path.display().to_string(),
            what: what.to_owned(),
            bytes: bytes.len() as u64,
            sha256: Some(hex::encode(sha2::Sha256::digest(bytes))),
        });
        self
    }

    /// Adds a secret file (a private key): its size, no digest of it.
    pub fn secret_file(mut self, path: &std::path::Path, what: &str, len: u64) -> Self {
        self.files.push(WrittenFile {
            path: path.display().to_string(),
            what: what.to_owned(),
            bytes: len,
            sha256: None,
        });
        self
    }

    /// Says where the written record was logged.
    pub fn logged(mut self, store: &std::path::Path, index: u64, verifier: &str) -> Self {
        self.logged = Some(LoggedAt {
            store: store.display().to_string(),
            index,
            verifier: verifier.to_owned(),
        });
        self
    }

    /// Names the key.
    pub fn key(mut self, id: &str, algorithm: &str) -> Self {
        self.key_id = Some(id.to_owned());
        self.algorithm = Some(algorithm.to_owned());
        self
    }
}
