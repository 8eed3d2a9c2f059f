//! The verifier's side of TPM 2.0 attestation, in pure Rust: nothing here talks to a TPM.
//!
//! - [`credential`]: TPM2_MakeCredential done in software. The verifier encrypts a fresh secret
//!   to the server's EK, bound to the name of its attestation key (AK). Only the TPM holding
//!   that EK, with that very AK loaded, can recover it (TPM2_ActivateCredential), so a quote
//!   whose qualifying data is the secret is both fresh and signed by a key of that TPM.
//! - [`quote`]: checks a quote's signature with the AK, and the AK's attributes.
//! - [`ekcert`]: checks that an EK certificate chains to a given CA set and names the EK.
//!
//! Errors are values of [`Error`]; the verify crate turns them into findings.
// Bytes read here come from the host, a file or a peer: a length or value that does not
// fit is an error, never silently cut by a cast.
#![deny(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]
#![warn(missing_docs)]

pub mod credential;
pub mod ekcert;
mod error;
pub mod kdf;
pub mod platform_cert;
pub mod quote;
pub mod round;
#[cfg(any(test, feature = "test-util"))]
pub mod testkey;

pub use error::Error;
