//! SMBIOS: a dump file, or the sysfs pair split at the first input byte; every structure walked
//! and decoded the way `collect` does.
#![no_main]

use boardproof_formats::smbios;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((ep, table)) = smbios::from_dump(data) {
        let _ = boardproof_collect::smbios::inventory(&ep, &table);
    }
    if let Some((&split, rest)) = data.split_first() {
        let (ep_bytes, dmi) = rest.split_at(usize::from(split).min(rest.len()));
        if let Ok((ep, table)) = smbios::from_sysfs(ep_bytes, dmi) {
            let _ = boardproof_collect::smbios::inventory(&ep, &table);
        }
    }
});
