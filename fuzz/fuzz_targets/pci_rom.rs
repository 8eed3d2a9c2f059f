//! PCI option ROMs (sys/bus/pci/devices/*/rom): the image chain, PCIR, the EFI header and its
//! compressed driver. Every image lies inside the ROM, the chain is capped.
#![no_main]

use boardproof_formats::pci_rom::{parse, MAX_IMAGES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rom) = parse(data) {
        assert!(rom.images.len() <= MAX_IMAGES);
        for i in &rom.images {
            assert!(i.offset.checked_add(i.length).is_some_and(|e| e <= data.len()));
        }
    }
});
