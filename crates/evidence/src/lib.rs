//! The boardproof data model, `boardproof.evidence/v1`: what was seen on one server
//! ([`Evidence`]), what it is expected to be ([`Reference`]), and how the two differ
//! ([`Finding`]).
//!
//! Fields that identify hardware and firmware are kept apart from fields that change on their
//! own (timestamps, counters, load addresses, which live in [`Volatile`]), so that a clean
//! reboot of an unchanged server gives zero findings. A JSON Schema generated from these types
//! is checked in under `schemas/`; a test fails when the two disagree.
// Bytes read here come from the host, a file or a peer: a length or value that does not
// fit is an error, never silently cut by a cast.
#![deny(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]
#![warn(missing_docs)]

pub mod attestation;
pub mod documents;
pub mod evidence;
pub mod finding;
pub mod firmware_tree;
pub mod platform_cert;
pub mod reference;
pub mod source;
pub mod written;

pub use attestation::*;
pub use evidence::*;
pub use finding::*;
pub use firmware_tree::*;
pub use platform_cert::*;
pub use reference::*;
pub use source::{Source, UnknownSource};
pub use written::*;

/// Errors reading a document of this model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not JSON, or JSON that does not fit the type (serde names the line and column).
    #[error("not a valid {what}: {source}")]
    Json {
        /// What was expected.
        what: &'static str,
        /// serde's error, with line and column.
        source: serde_json::Error,
    },
    /// A `schema` field naming another format or version.
    #[error("unsupported schema {found:?} (expected {expected:?})")]
    Schema {
        /// The schema found.
        found: String,
        /// The schema this build reads.
        expected: &'static str,
    },
}

/// JSON Schema documents for every public document type, keyed by file name under `schemas/`.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let to_value = |s: schemars::Schema| serde_json::to_value(s).unwrap_or_default();
    vec![
        (
            "evidence-v1.json",
            to_value(schemars::schema_for!(Evidence)),
        ),
        (
            "manifest-v1.json",
            to_value(schemars::schema_for!(Manifest)),
        ),
        ("report-v1.json", to_value(schemars::schema_for!(Report))),
        ("scan-v1.json", to_value(schemars::schema_for!(ScanResult))),
        (
            "eventlog-v1.json",
            to_value(schemars::schema_for!(documents::EventLogShow)),
        ),
        (
            "eventlog-replay-v1.json",
            to_value(schemars::schema_for!(documents::EventLogReplay)),
        ),
        (
            "smbios-v1.json",
            to_value(schemars::schema_for!(documents::SmbiosDecode)),
        ),
        (
            "attest-keys-v1.json",
            to_value(schemars::schema_for!(AttestationKeys)),
        ),
        (
            "attest-challenge-v1.json",
            to_value(schemars::schema_for!(AttestationChallenge)),
        ),
        (
            "attest-secret-v1.json",
            to_value(schemars::schema_for!(AttestationSecret)),
        ),
        (
            "firmware-inspect-v1.json",
            to_value(schemars::schema_for!(FirmwareTree)),
        ),
        (
            "option-rom-v1.json",
            to_value(schemars::schema_for!(OptionRom)),
        ),
        ("written-v1.json", to_value(schemars::schema_for!(Written))),
        (
            "platform-cert-v1.json",
            to_value(schemars::schema_for!(PlatformCertShow)),
        ),
        (
            "platform-cert-verify-v1.json",
            to_value(schemars::schema_for!(PlatformCertVerify)),
        ),
    ]
}
