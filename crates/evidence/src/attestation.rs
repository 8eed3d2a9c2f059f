//! The documents of a TPM attestation round: the agent's keys, the verifier's challenge, the
//! secret the verifier keeps, and the quote the agent returns inside its evidence.
//!
//! Binary TPM structures travel as lowercase hex of their exact marshalled bytes, so that
//! anyone can re-check a signature with other tools (`tpm2_checkquote`).
//!
//! The round: the agent reports its EK (with the EK certificate from NV) and AK; the verifier
//! checks the EK certificate against its CA set and encrypts a fresh secret to the EK, bound
//! to the AK's name (TPM2_MakeCredential); the agent's TPM recovers the secret only if it holds
//! both keys (TPM2_ActivateCredential) and quotes with the secret as qualifying data. A quote
//! over that secret is therefore fresh and made by a key that lives in that TPM.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `schema` of [`AttestationKeys`].
pub const ATTEST_KEYS_SCHEMA: &str = "boardproof.attest-keys/v1";
/// `schema` of [`AttestationChallenge`].
pub const ATTEST_CHALLENGE_SCHEMA: &str = "boardproof.attest-challenge/v1";
/// `schema` of [`AttestationSecret`].
pub const ATTEST_SECRET_SCHEMA: &str = "boardproof.attest-secret/v1";

/// A TPM quote and the keys that make it checkable (in the evidence's volatile part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// TPM2B_PUBLIC of the EK, hex.
    pub ek_public: String,
    /// The EK certificate read from the TPM's NV, DER as hex (absent when the TPM has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ek_certificate: Option<String>,
    /// TPM2B_PUBLIC of the AK, hex.
    pub ak_public: String,
    /// TPMS_ATTEST the TPM signed, hex.
    pub quote: String,
    /// TPMT_SIGNATURE over `quote`, hex.
    pub signature: String,
}

/// What the agent reports before a challenge (`boardproof attest keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationKeys {
    /// Always [`ATTEST_KEYS_SCHEMA`].
    pub schema: String,
    /// TPM2B_PUBLIC of the EK, hex.
    pub ek_public: String,
    /// The EK certificate from NV, DER as hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ek_certificate: Option<String>,
    /// TPM2B_PUBLIC of the AK, hex.
    pub ak_public: String,
}

/// What the verifier sends the agent (`boardproof attest challenge`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationChallenge {
    /// Always [`ATTEST_CHALLENGE_SCHEMA`].
    pub schema: String,
    /// The AK name the credential is bound to, hex.
    pub ak_name: String,
    /// TPM2B_ID_OBJECT, hex.
    pub credential_blob: String,
    /// TPM2B_ENCRYPTED_SECRET, hex.
    pub encrypted_secret: String,
}

/// What the verifier keeps to check the answer (`--challenge-secret`). Whoever holds this file
/// can forge freshness: keep it with the verifier, never send it to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationSecret {
    /// Always [`ATTEST_SECRET_SCHEMA`].
    pub schema: String,
    /// The secret the quote's qualifying data must equal, hex.
    pub secret: String,
    /// The AK name challenged, hex.
    pub ak_name: String,
    /// sha256 of the challenged EK's TPM2B_PUBLIC bytes, hex.
    pub ek_public_sha256: String,
}
