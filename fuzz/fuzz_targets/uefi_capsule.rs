//! UEFI capsules: EFI_CAPSULE_HEADER, the FMP header and item list, payload headers,
//! authentication, dependency expressions, EDK2's payload header, and the images inside (one
//! budget for all payloads).
#![no_main]

use boardproof_formats::uefi::capsule::{parse_capsule, Body, MAX_FMP_ITEMS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = parse_capsule(data) {
        assert!(c.image_size as usize <= data.len());
        if let Body::Fmp(f) = &c.body {
            assert!(f.drivers.len() + f.payloads.len() <= MAX_FMP_ITEMS);
            for p in &f.payloads {
                assert!(p.data.0 + p.data.1 <= data.len());
            }
        }
    }
});
