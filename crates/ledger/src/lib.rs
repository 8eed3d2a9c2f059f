//! Keys, signed manifests, trust policies, verdicts, the store and its transparency log.
//!
//! * [`keys`]: Ed25519 and ECDSA P-256 keys as PKCS#8 / SPKI PEM files (RustCrypto's
//!   ed25519-dalek and p256; no hand-written crypto).
//! * [`policy`], [`chain`]: the vendor's signed trust policy (who may certify what) and the
//!   check of a manufacturer's manifest against it.
//! * [`verdict`]: a customer's verdict as an in-toto Statement.
//! * [`entry`], [`proof`]: what the log holds per record, and portable proof files.
//! * [`bundle`]: evidence, manifest, policy, verdict and proofs in one file.
//! * [`corim`]: reference values as CoRIM/CoMID (CBOR, COSE_Sign1).
//! * [`dsse`]: DSSE envelopes (secure-systems-lab/dsse v1.0). Envelopes are written in one
//!   canonical form and rejected in any other, so that no byte of a manifest file can change
//!   without verification failing.
//! * [`store`]: the embedded SQLite store of scans and baselines. Every write is one
//!   transaction: a kill at any point leaves the previous baseline intact.
//! * [`tlog`]: the transparency log in that store: RFC 6962 Merkle tree, C2SP signed
//!   checkpoints, inclusion and consistency proofs, audit (docs/transparency-log.md).
// Bytes read here come from the host, a file or a peer: a length or value that does not
// fit is an error, never silently cut by a cast.
#![deny(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]
#![warn(missing_docs)]

pub mod bundle;
pub mod chain;
pub mod corim;
pub mod documents;
pub mod dsse;
pub mod entry;
pub mod keys;
pub mod manifest;
pub mod policy;
pub mod proof;
pub mod rows;
pub mod store;
pub mod tlog;
pub mod verdict;

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
    /// A command that only reads a store was pointed at a folder that holds none.
    #[error("{0}: no boardproof store here (nothing was recorded in it)")]
    NoStore(PathBuf),
    /// Refusing to overwrite an existing key or manifest.
    #[error("{0}: already exists, and is not replaced")]
    Exists(PathBuf),
    /// PEM text (embedded in a policy, or read from a file) that is not a key of a supported
    /// kind.
    #[error("{what}: {why}")]
    NotAKey {
        /// What it should have been.
        what: &'static str,
        /// Why it is not.
        why: String,
    },
    /// A key file that is not a key of a supported kind in the expected PEM form.
    #[error("{path}: {what}: {why}")]
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
    /// A file argument could not be read (missing, not a file, over its cap).
    #[error(transparent)]
    Input(#[from] boardproof_input::Error),
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
    /// The transparency log's tables could not be read or written.
    #[error("transparency log: {0}")]
    LogDb(#[from] rusqlite::Error),
    /// A log tree hash is missing or not 32 bytes: the store was edited or is damaged.
    #[error("transparency log: stored hash {0} is missing or damaged")]
    LogHash(u64),
    /// A checkpoint, note or log key that does not parse.
    #[error("{what}: {why}")]
    LogMalformed {
        /// What it was.
        what: &'static str,
        /// Why it does not parse.
        why: String,
    },
    /// A checkpoint whose signature does not verify with the given verifier key.
    #[error("checkpoint signature does not verify: {0}")]
    LogSignature(String),
    /// A proof that does not prove what it claims.
    #[error("{0}")]
    LogProof(String),
    /// An entry or size the log does not have.
    #[error("{0}")]
    LogRange(String),
}
