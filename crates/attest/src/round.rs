//! The verifier's step of an attestation round, on the JSON documents: from the server's keys
//! to a challenge and the secret to keep. Used by `boardproof attest challenge` and by the lab,
//! which plays the verifier during each boot.

use boardproof_evidence::{
    AttestationChallenge, AttestationKeys, AttestationSecret, ATTEST_CHALLENGE_SCHEMA,
    ATTEST_KEYS_SCHEMA, ATTEST_SECRET_SCHEMA,
};
use boardproof_formats::tpm2::Public;
use sha2::{Digest, Sha256};

use crate::{credential, ekcert, quote, Error};

/// Why a challenge was not made.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The keys document is malformed (not hex, wrong schema, a structure that does not parse).
    #[error("{0}")]
    Input(String),
    /// The keys are well-formed but not to be trusted: an unfit AK, no EK certificate when CAs
    /// were given, or one that does not chain to them.
    #[error("refused: {0}")]
    Untrusted(String),
}

/// Checks `keys` (the EK certificate against `cas` unless empty) and makes a challenge.
pub fn challenge(
    keys: &AttestationKeys,
    cas: &[ekcert::Certificate],
    now: u64,
) -> Result<(AttestationChallenge, AttestationSecret), Refused> {
    if keys.schema != ATTEST_KEYS_SCHEMA {
        return Err(Refused::Input(format!(
            "schema {:?}, expected {ATTEST_KEYS_SCHEMA:?}",
            keys.schema
        )));
    }
    let unhex = |field: &str, v: &str| {
        hex::decode(v).map_err(|e| Refused::Input(format!("{field} is not hex: {e}")))
    };
    let ek_bytes = unhex("ek_public", &keys.ek_public)?;
    let ak_bytes = unhex("ak_public", &keys.ak_public)?;
    let ek = Public::parse_2b(&ek_bytes).map_err(|e| Refused::Input(format!("ek_public: {e}")))?;
    let ak = quote::attestation_key(&ak_bytes).map_err(|e| match e {
        Error::Parse { .. } => Refused::Input(e.to_string()),
        other => Refused::Untrusted(other.to_string()),
    })?;
    if !cas.is_empty() {
        let cert = match &keys.ek_certificate {
            Some(c) => unhex("ek_certificate", c)?,
            None => {
                return Err(Refused::Untrusted(
                    "no EK certificate, so the EK cannot be tied to a TPM vendor".into(),
                ))
            }
        };
        ekcert::verify(&cert, &ek, cas, now).map_err(|e| Refused::Untrusted(e.to_string()))?;
    }
    let ak_name = ak
        .name()
        .ok_or_else(|| Refused::Input("AK name algorithm not supported".into()))?;
    let secret = credential::fresh_secret().map_err(|e| Refused::Input(e.to_string()))?;
    let ch = credential::make_credential(&ek, &ak_name, &secret)
        .map_err(|e| Refused::Untrusted(e.to_string()))?;
    Ok((
        AttestationChallenge {
            schema: ATTEST_CHALLENGE_SCHEMA.into(),
            ak_name: hex::encode(&ak_name),
            credential_blob: hex::encode(&ch.credential_blob),
            encrypted_secret: hex::encode(&ch.encrypted_secret),
        },
        AttestationSecret {
            schema: ATTEST_SECRET_SCHEMA.into(),
            secret: hex::encode(secret),
            ak_name: hex::encode(&ak_name),
            ek_public_sha256: hex::encode(Sha256::digest(&ek_bytes)),
        },
    ))
}
