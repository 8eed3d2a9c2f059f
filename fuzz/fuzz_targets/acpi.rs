//! ACPI table headers and the identity bytes (FACS volatile fields masked) that get hashed.
#![no_main]

use boardproof_formats::acpi;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = acpi::parse_header(data);
    let id = acpi::identity_bytes(data);
    assert_eq!(id.len(), data.len());
});
