//! TPM 2.0 structures an agent sends a verifier: the first byte picks the parser, the rest is
//! the input. Errors are fine; panics and unbounded allocation are not.
#![no_main]

use boardproof_formats::tpm2::{Attest, Public, Signature};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((which, rest)) = data.split_first() else {
        return;
    };
    match which % 4 {
        0 => {
            let _ = Attest::parse(rest);
        }
        1 => {
            if let Ok(p) = Public::parse_2b(rest) {
                let _ = p.name();
            }
        }
        2 => {
            let _ = Public::parse(rest);
        }
        _ => {
            let _ = Signature::parse(rest);
        }
    }
});
