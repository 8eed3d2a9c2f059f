//! The binary IMA runtime measurement list.
#![no_main]

use boardproof_formats::ima;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = ima::parse(data) {
        for e in &entries {
            let _ = e.digest_text();
        }
    }
});
