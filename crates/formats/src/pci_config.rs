//! PCI configuration space: PCI Express Base Specification 6.0, section 7.6 (extended
//! capability list) and 7.9.3 (Device Serial Number extended capability).
//!
//! The Device Serial Number is a 64-bit unique id some PCIe functions carry; it is the closest
//! thing to a serial a PCI device has, so boardproof keeps it as identity when present.

use crate::reader::le32_at;

/// Extended capabilities start here.
const EXT_CAP_START: usize = 0x100;
/// Capability ID of the Device Serial Number capability.
const CAP_ID_DSN: u32 = 0x0003;
/// More links than the 4 KiB space can hold means a loop.
const MAX_EXT_CAPS: usize = 1024;

/// The Device Serial Number, when `config` (as read from sysfs `config`, 4096 bytes when the
/// reader is root) carries one. A looping or out-of-range capability list yields `None`.
pub fn device_serial_number(config: &[u8]) -> Option<u64> {
    device_serial_number_with(|at| le32_at(config, at))
}

/// [`device_serial_number`] reading one dword at a time through `read_dword(offset)`.
///
/// On a live system every config-space dword read is a hardware access (a trap to the
/// hypervisor in a VM, ~20 µs here); walking the capability list touches a handful of dwords
/// where reading the whole 4 KiB space touches a thousand.
pub fn device_serial_number_with(mut read_dword: impl FnMut(usize) -> Option<u32>) -> Option<u64> {
    let mut at = EXT_CAP_START;
    for _ in 0..MAX_EXT_CAPS {
        let header = read_dword(at)?;
        if header == 0 || header == 0xFFFF_FFFF {
            return None;
        }
        if header & 0xFFFF == CAP_ID_DSN {
            let lo = read_dword(at.checked_add(4)?)?;
            let hi = read_dword(at.checked_add(8)?)?;
            return Some((u64::from(hi) << 32) | u64::from(lo));
        }
        let next = usize::try_from(header >> 20).ok()? & !3;
        if next < EXT_CAP_START || next <= at {
            return None;
        }
        at = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(id: u32, next: usize) -> [u8; 4] {
        ((id) | (1 << 16) | ((next as u32) << 20)).to_le_bytes()
    }

    #[test]
    fn finds_dsn_after_other_caps() {
        let mut c = vec![0u8; 4096];
        c[0x100..0x104].copy_from_slice(&cap(0x0001, 0x140)); // AER
        c[0x140..0x144].copy_from_slice(&cap(CAP_ID_DSN, 0));
        c[0x144..0x148].copy_from_slice(&0x0506_0708u32.to_le_bytes());
        c[0x148..0x14C].copy_from_slice(&0x0102_0304u32.to_le_bytes());
        assert_eq!(device_serial_number(&c), Some(0x0102_0304_0506_0708));
    }

    #[test]
    fn loops_and_short_config_give_none() {
        let mut c = vec![0u8; 4096];
        c[0x100..0x104].copy_from_slice(&cap(0x0001, 0x100));
        assert_eq!(device_serial_number(&c), None);
        assert_eq!(device_serial_number(&c[..64]), None);
        let mut d = vec![0u8; 0x142];
        d[0x100..0x104].copy_from_slice(&cap(0x0001, 0x140));
        assert_eq!(device_serial_number(&d), None);
    }
}
