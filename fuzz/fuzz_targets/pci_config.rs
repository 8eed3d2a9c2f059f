//! PCI config space: the extended capability walk that finds a Device Serial Number, on a
//! whole buffer and dword by dword (as collect reads sysfs); both must agree.
#![no_main]

use boardproof_formats::pci_config::{device_serial_number, device_serial_number_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = device_serial_number(data);
    let by_dword = device_serial_number_with(|at| {
        let b = data.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    });
    assert_eq!(whole, by_dword);
});
