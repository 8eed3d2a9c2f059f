//! IMA runtime measurement lists: the binary form, and the same bytes as the ASCII form and
//! as an allowlist.
#![no_main]

use boardproof_formats::ima;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ima::parse_ascii(text);
        let _ = ima::parse_allowlist(text);
    }
    if let Ok(entries) = ima::parse(data) {
        for e in &entries {
            let _ = e.digest_text();
        }
    }
});
