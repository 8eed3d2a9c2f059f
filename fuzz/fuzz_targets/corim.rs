//! CoRIM / CoMID / COSE_Sign1: arbitrary bytes, unsigned and against a fixed key (a forged
//! signature must never verify).
#![no_main]

use boardproof_ledger::corim;
use boardproof_ledger::keys::PrivateKey;
use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = corim::parse(data, None);
    let key = PrivateKey::Ed25519(SigningKey::from_bytes(&[9u8; 32]));
    if let Ok(c) = corim::parse(data, Some(&key.public())) {
        // Only bytes signed with the key can verify; the fuzzer cannot forge Ed25519.
        assert!(c.signed.is_some_and(|s| s.verified));
    }
});
