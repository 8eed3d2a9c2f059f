//! DSSE manifest envelopes. Mode 0: arbitrary bytes as a manifest file (must never open under a
//! key that did not sign them). Mode 1: arbitrary bytes as a payload, signed with a fixed key,
//! so the fuzzer reaches the manifest JSON behind a valid signature.
#![no_main]

use boardproof_ledger::{dsse::Envelope, manifest};
use boardproof_ledger::keys::PrivateKey;
use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = PrivateKey::Ed25519(SigningKey::from_bytes(&[7u8; 32]));
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = manifest::open_unverified(rest);
        assert!(
            manifest::open(rest, &key.public()).is_err(),
            "unsigned bytes opened as a manifest"
        );
    } else {
        let bytes = Envelope::sign(manifest::MANIFEST_PAYLOAD_TYPE, rest, &key).to_canonical_bytes();
        let _ = manifest::open(&bytes, &key.public());
        let other = PrivateKey::Ed25519(SigningKey::from_bytes(&[8u8; 32]));
        assert!(manifest::open(&bytes, &other.public()).is_err());
    }
});
