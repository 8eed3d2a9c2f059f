//! The one error type of this crate.

use boardproof_formats::ParseError;

/// Why an attestation check failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A TPM structure did not parse.
    #[error("{what}: {source}")]
    Parse {
        /// Which structure.
        what: &'static str,
        /// Where and why.
        source: ParseError,
    },
    /// A key, scheme or algorithm boardproof does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The key is not fit for the use (an AK that is not restricted, not fixedTPM, ...).
    #[error("{0}")]
    KeyNotFit(String),
    /// A signature did not verify.
    #[error("signature does not verify: {0}")]
    BadSignature(String),
    /// A certificate did not parse, does not chain, or does not match the key.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The system random generator failed.
    #[error("random generator: {0}")]
    Random(String),
}

impl Error {
    pub(crate) fn parse(what: &'static str) -> impl FnOnce(ParseError) -> Error {
        move |source| Error::Parse { what, source }
    }
}
