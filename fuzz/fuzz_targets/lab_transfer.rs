//! The lab guest's serial output (marker lines, base64, sizes and digests).
#![no_main]

use boardproof_lab::transfer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = transfer::parse(data);
});
