//! boardproof's use cases, above `verify` and `ledger`: **collect** the evidence asked for
//! in one call, **judge** evidence against any trust input, **scan** (judge against the
//! stored baseline and record), **record** a verdict in the store and its log.
//!
//! The CLI, the lab and a verifier service all run these, so that each runs the same
//! verification. Nothing here reads a file argument or the clock: callers pass the bytes
//! they read (each within its cap, at their edge) and the time, so a verifier judging a
//! report it was sent does exactly what `boardproof verify` does with files. Collection is
//! behind the `collector` feature: built without it, this crate links no collector
//! (`cargo tree -p boardproof-workflow --no-default-features` shows it; a test checks it).
#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::cast_possible_truncation)]

#[cfg(feature = "collector")]
pub mod collect;
mod error;
pub mod judge;
mod outcome;
pub mod record;
pub mod scan;

pub use error::Error;
pub use outcome::Outcome;
