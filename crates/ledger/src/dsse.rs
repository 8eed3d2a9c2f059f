//! DSSE envelopes (secure-systems-lab/dsse, protocol v1.0) signed with Ed25519 or ECDSA P-256.
//!
//! The signature covers PAE(payloadType, payload) = `"DSSEv1" SP len(type) SP type SP
//! len(body) SP body`. On top of the protocol, boardproof writes envelopes in exactly one byte
//! form (compact JSON in field order, standard padded base64, one trailing newline) and refuses
//! any other form, and requires each signature's `keyid` to be the key id of the key that
//! verifies it. Together these make any single changed byte of a manifest file fail to verify.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::keys::{PrivateKey, PublicKey};
use crate::Error;

/// Upper bound on signatures read from one envelope.
pub const MAX_SIGNATURES: usize = 16;

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Media type of the payload.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Base64 of the payload bytes.
    pub payload: String,
    /// Signatures.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// Key id of the signing key ([`PublicKey::key_id`]).
    pub keyid: String,
    /// Base64 of the signature (Ed25519: 64 bytes; P-256: DER).
    pub sig: String,
}

/// Pre-authentication encoding (DSSE v1.0).
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        payload
            .len()
            .saturating_add(payload_type.len())
            .saturating_add(32),
    );
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Signs `payload`.
    pub fn sign(payload_type: &str, payload: &[u8], key: &PrivateKey) -> Self {
        let mut env = Envelope {
            payload_type: payload_type.to_owned(),
            payload: STANDARD.encode(payload),
            signatures: Vec::new(),
        };
        env.add_signature_raw(payload, key);
        env
    }

    fn add_signature_raw(&mut self, payload: &[u8], key: &PrivateKey) {
        let sig = key.sign(&pae(&self.payload_type, payload));
        self.signatures.push(EnvelopeSignature {
            keyid: key.public().key_id(),
            sig: STANDARD.encode(sig),
        });
    }

    /// Adds a signature by `key` (a co-signature) over the same payload. Refused when the key
    /// already signed or the envelope holds [`MAX_SIGNATURES`].
    pub fn cosign(&mut self, key: &PrivateKey) -> Result<(), Error> {
        let id = key.public().key_id();
        if self.signatures.iter().any(|s| s.keyid == id) {
            return Err(Error::Envelope(format!("key {id} already signed it")));
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(Error::Envelope(format!(
                "already {MAX_SIGNATURES} signatures"
            )));
        }
        let payload = self.payload_bytes()?;
        self.add_signature_raw(&payload, key);
        Ok(())
    }

    /// The payload bytes, unverified.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, Error> {
        STANDARD
            .decode(&self.payload)
            .map_err(|e| Error::Envelope(format!("payload is not base64: {e}")))
    }

    /// Whether `key` has a valid signature on this envelope (its key id and signature both
    /// match). Never trusts a key id alone.
    pub fn signed_by(&self, key: &PublicKey) -> Result<bool, Error> {
        let payload = self.payload_bytes()?;
        let id = key.key_id();
        let message = pae(&self.payload_type, &payload);
        for s in self.signatures.iter().filter(|s| s.keyid == id) {
            let raw = STANDARD
                .decode(&s.sig)
                .map_err(|e| Error::Envelope(format!("signature is not base64: {e}")))?;
            if key.verify(&message, &raw) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The one byte form boardproof writes.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        // An envelope is strings only, which serde_json always encodes; the fallback is dead.
        let mut out = serde_json::to_vec(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Parses an envelope file, refusing any byte form other than the canonical one.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let env: Envelope = serde_json::from_slice(bytes)
            .map_err(|e| Error::Envelope(format!("not a DSSE envelope: {e}")))?;
        if env.signatures.len() > MAX_SIGNATURES {
            return Err(Error::Envelope(format!(
                "{} signatures (at most {MAX_SIGNATURES} are read)",
                env.signatures.len()
            )));
        }
        if env.to_canonical_bytes() != bytes {
            return Err(Error::Envelope(
                "not in canonical form (whitespace, field order or escaping was changed)".into(),
            ));
        }
        Ok(env)
    }

    /// Verifies with `key` and returns the payload bytes. At least one signature must carry the
    /// key's id and verify; the payload type must be `expected_type`.
    pub fn verify(&self, key: &PublicKey, expected_type: &'static str) -> Result<Vec<u8>, Error> {
        if !self.signed_by(key)? {
            return Err(Error::BadSignature {
                key_id: key.key_id(),
            });
        }
        if self.payload_type != expected_type {
            return Err(Error::PayloadType {
                found: self.payload_type.clone(),
                expected: expected_type,
            });
        }
        self.payload_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn pae_matches_the_spec_example() {
        // DSSE protocol.md example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn round_trip_and_every_single_byte_change_fails() {
        let k = key(7);
        let env = Envelope::sign("application/x-test", br#"{"a":1}"#, &k);
        let bytes = env.to_canonical_bytes();
        let back = Envelope::from_canonical_bytes(&bytes).unwrap();
        assert_eq!(
            back.verify(&k.public(), "application/x-test").unwrap(),
            br#"{"a":1}"#
        );
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= flip;
                let r = Envelope::from_canonical_bytes(&b)
                    .and_then(|e| e.verify(&k.public(), "application/x-test"));
                assert!(r.is_err(), "byte {i} ^ {flip:#x} still verified");
            }
        }
    }

    #[test]
    fn wrong_key_and_wrong_type_fail() {
        let env = Envelope::sign("application/x-test", b"x", &key(1));
        assert!(matches!(
            env.verify(&key(2).public(), "application/x-test"),
            Err(Error::BadSignature { .. })
        ));
        assert!(matches!(
            env.verify(&key(1).public(), "application/other"),
            Err(Error::PayloadType { .. })
        ));
    }
}
