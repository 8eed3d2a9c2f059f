//! UEFI firmware images: volumes, files, sections, LZMA and EFI/Tiano decompression, nested
//! volumes. Errors are fine; panics, hangs and unbounded allocation are not.
#![no_main]

use boardproof_formats::uefi::{self, TopItem};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = uefi::parse_image(data) {
        for item in &img.items {
            if let TopItem::Volume(v) = item {
                for f in &v.files {
                    let _ = f.ui_name();
                }
            }
        }
    }
});
