//! The lab's reader of an OVMF variable store: arbitrary images, any name.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = boardproof_lab::vars::find(data, "db");
});
