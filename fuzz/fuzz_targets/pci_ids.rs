//! pci.ids text (hwdata's file is read from the host and may be damaged).
#![no_main]

use boardproof_formats::pci_ids::PciIds;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ids = PciIds::parse(&text);
    let _ = ids.vendor(0x8086);
    let _ = ids.device(0x8086, 0x1533);
    let _ = ids.subsystem(0x8086, 0x1533, 0x15d9, 0x1533);
    let _ = ids.class(0x020000);
});
