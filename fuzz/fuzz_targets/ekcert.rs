//! EK certificates as a tampered server hands them over (read from TPM NV, so the server
//! controls every byte): read as PEM or DER, then verified for an EK against the bytes
//! themselves as a CA set. Whatever the input, the result is a value or an error; nothing
//! the fuzzer makes verifies against a CA set that holds no certificate.
#![no_main]

use boardproof_attest::ekcert;
use boardproof_formats::tpm2::{Public, PublicKey};
use libfuzzer_sys::fuzz_target;

fn ek() -> Public {
    Public {
        bytes: Vec::new(),
        key_type: 0x0001,
        name_alg: 0x000b,
        attributes: 0,
        auth_policy: Vec::new(),
        symmetric: 0x0010,
        symmetric_bits: 0,
        scheme: 0x0010,
        scheme_hash: 0x0010,
        key: PublicKey::Rsa {
            bits: 2048,
            exponent: 0,
            modulus: vec![0xc5; 256],
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let anchors = ekcert::read_certificates(data).unwrap_or_default();
    let now = 1_700_000_000;
    let _ = ekcert::verify(data, &ek(), &anchors, now);
    assert!(
        ekcert::verify(data, &ek(), &[], now).is_err(),
        "an EK certificate verified with no CA"
    );
    if let Some(c) = anchors.first() {
        let _ = ekcert::verify_signature("1.2.840.10045.4.3.2", data, data, c);
        let _ = ekcert::verify_signature("1.2.840.113549.1.1.11", data, data, c);
    }
});
