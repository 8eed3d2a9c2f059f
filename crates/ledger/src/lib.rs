//! Keys, signed manifests and the store.
//!
//! * [`keys`]: Ed25519 keys as PKCS#8 / SPKI PEM files (ed25519-dalek; no hand-written crypto).
//! * [`dsse`]: DSSE envelopes (secure-systems-lab/dsse v1.0). Envelopes are written in one
//!   canonical form and rejected in any other, so that no byte of a manifest file can change
//!   without verification failing.
//! * [`store`]: the embedded SQLite store of scans and baselines. Every write is one
//!   transaction: a kill at any point leaves the previous baseline intact.
#![warn(missing_docs)]

pub mod dsse;
pub mod keys;
pub mod manifest;
pub mod store;

use std::path::PathBuf;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Refusing to overwrite an existing key or manifest.
    #[error("{0}: already exists (pass --force to replace it)")]
    Exists(PathBuf),
    /// A key file that is not an Ed25519 key in the expected PEM form.
    #[error("{path}: not an Ed25519 {what} PEM: {why}")]
    Key {
        /// The path.
        path: PathBuf,
        /// Private or public key.
        what: &'static str,
        /// Why.
        why: String,
    },
    /// A DSSE envelope that is malformed or not canonical.
    #[error("envelope: {0}")]
    Envelope(String),
    /// No signature in the envelope verifies with the given key.
    #[error("signature does not verify with the given public key (key id {key_id})")]
    BadSignature {
        /// Key id of the key tried.
        key_id: String,
    },
    /// The payload type is not the one expected.
    #[error("payload type {found:?}, expected {expected:?}")]
    PayloadType {
        /// Found.
        found: String,
        /// Expected.
        expected: &'static str,
    },
    /// A document could not be encoded as JSON (not expected for boardproof's own types, but
    /// never signed as empty bytes if it happens).
    #[error("encoding {what} as JSON: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// serde_json's error.
        source: serde_json::Error,
    },
    /// The payload is not a valid document.
    #[error(transparent)]
    Model(#[from] boardproof_evidence::Error),
    /// The database failed.
    #[error("store {path}: {source}")]
    Store {
        /// Database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Stored data that does not parse (the store was edited by hand or is damaged).
    #[error("store {path}: corrupt row: {why}")]
    Corrupt {
        /// Database file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}
