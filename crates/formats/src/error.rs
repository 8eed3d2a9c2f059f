//! The one error type of this crate.

use std::fmt;

/// Why a parse failed, and where.
///
/// `offset` is absolute within the input given to the top-level parser, so a user can find the
/// byte with a hex viewer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} at offset {offset:#x}: {kind}")]
pub struct ParseError {
    /// Absolute byte offset in the input.
    pub offset: usize,
    /// The field being read.
    pub field: &'static str,
    /// The cause.
    pub kind: ErrorKind,
}

impl ParseError {
    /// An error at absolute `offset` of the input, reading `field`.
    pub fn at(offset: usize, field: &'static str, kind: ErrorKind) -> ParseError {
        ParseError {
            offset,
            field,
            kind,
        }
    }
}

/// The cause of a [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended before the field did.
    Truncated,
    /// A magic value or anchor string did not match.
    BadMagic,
    /// A length field is smaller than its structure's minimum or larger than allowed.
    BadLength(u64),
    /// A count exceeded this crate's cap for that field.
    TooMany(u64),
    /// A checksum did not add up.
    BadChecksum,
    /// Bytes were left over after a structure that must fill its container.
    TrailingData,
    /// A value that the specification does not allow.
    Invalid(&'static str),
    /// A nested structure could not be decoded.
    Nested(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Truncated => f.write_str("input ends inside this field"),
            ErrorKind::BadMagic => f.write_str("wrong magic / anchor"),
            ErrorKind::BadLength(n) => write!(f, "invalid length {n}"),
            ErrorKind::TooMany(n) => write!(f, "count {n} exceeds the limit"),
            ErrorKind::BadChecksum => f.write_str("checksum mismatch"),
            ErrorKind::TrailingData => f.write_str("unexpected trailing data"),
            ErrorKind::Invalid(why) => f.write_str(why),
            ErrorKind::Nested(why) => f.write_str(why),
        }
    }
}
