//! Kernel module signature trailers and the PKCS#7 blob they carry.
#![no_main]

use boardproof_formats::kmod_sig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kmod_sig::parse_trailer(data);
    let _ = kmod_sig::pkcs7_signer(data);
});
