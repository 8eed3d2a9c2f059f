//! The EFI/Tiano decompressor on arbitrary streams, both variants. Output never exceeds the
//! allowance, and a stream that decodes yields exactly the size its header declares.
#![no_main]

use boardproof_formats::uefi::tiano::{declared_size, decompress, Variant};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for v in [Variant::Efi, Variant::Tiano] {
        if let Ok(out) = decompress(data, v, 1 << 20) {
            assert_eq!(Some(out.len()), declared_size(data));
        }
    }
});
