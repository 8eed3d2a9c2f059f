//! EDK2's LZMA section data through liblzma: never more output than allowed, and a stream that
//! decodes yields exactly the size its header declares.
#![no_main]

use boardproof_formats::uefi::lzma_decompress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = lzma_decompress(data, 1 << 20) {
        assert!(out.len() <= 1 << 20);
        let declared = data.get(5..13).map(|s| {
            let mut b = [0u8; 8];
            b.copy_from_slice(s);
            u64::from_le_bytes(b)
        });
        assert_eq!(declared, Some(out.len() as u64));
    }
});
