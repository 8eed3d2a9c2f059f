//! Signed manifests: a [`Manifest`] payload in a DSSE envelope of type
//! [`MANIFEST_PAYLOAD_TYPE`].

use boardproof_evidence::{Creator, Evidence, HostIdentity, Manifest, Reference, MANIFEST_SCHEMA};

use crate::dsse::Envelope;
use crate::keys::{PrivateKey, PublicKey};
use crate::Error;

/// DSSE payload type of a boardproof manifest.
pub const MANIFEST_PAYLOAD_TYPE: &str = "application/vnd.boardproof.manifest+json";

/// Builds the manifest for `ev`: identity fields only.
pub fn build(ev: &Evidence, creator: &str, key: &PrivateKey, now: &str) -> Manifest {
    Manifest {
        schema: MANIFEST_SCHEMA.to_owned(),
        created_at: now.to_owned(),
        created_by: Creator {
            name: creator.to_owned(),
            key_id: key.public().key_id(),
        },
        host: HostIdentity::of(ev),
        evidence_collected_at: ev.volatile.collected_at.clone(),
        reference: Reference::from_evidence(ev),
    }
}

/// Signs a manifest into canonical envelope bytes.
pub fn sign(m: &Manifest, key: &PrivateKey) -> Result<Vec<u8>, Error> {
    let payload = serde_json::to_vec(m).map_err(|source| Error::Encode {
        what: "manifest",
        source,
    })?;
    Ok(Envelope::sign(MANIFEST_PAYLOAD_TYPE, &payload, key).to_canonical_bytes())
}

/// Opens a manifest file's bytes: canonical envelope, signature by `key`, payload type, schema.
pub fn open(bytes: &[u8], key: &PublicKey) -> Result<Manifest, Error> {
    let env = Envelope::from_canonical_bytes(bytes)?;
    let payload = env.verify(key, MANIFEST_PAYLOAD_TYPE)?;
    Ok(Manifest::from_json(&payload)?)
}

/// Reads the payload without checking any signature, for `manifest show` without a key.
pub fn open_unverified(bytes: &[u8]) -> Result<Manifest, Error> {
    use base64::Engine;
    let env = Envelope::from_canonical_bytes(bytes)?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&env.payload)
        .map_err(|e| Error::Envelope(format!("payload is not base64: {e}")))?;
    Ok(Manifest::from_json(&payload)?)
}
