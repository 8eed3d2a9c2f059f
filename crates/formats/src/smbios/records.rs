//! Typed decoding of the structure types boardproof keeps as identity: DMTF DSP0134 3.7.0,
//! sections 7.1 (type 0), 7.2 (1), 7.3 (2), 7.4 (3), 7.5 (4), 7.10 (9), 7.17 (16), 7.18 (17),
//! 7.39 (38), 7.40 (39) and 7.42 (41).
//!
//! Every field past the 4-byte header is optional: a structure from an older SMBIOS version is
//! shorter, and a short (or hostile) structure simply lacks the fields it does not hold. Nothing
//! here indexes; a missing byte gives `None`.

use crate::smbios::entry_point::Version;
use crate::smbios::table::Structure;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

macro_rules! record {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        #[cfg_attr(feature = "serde", derive(Serialize, Deserialize, schemars::JsonSchema))]
        pub struct $name { $($(#[$fm])* #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))] pub $f: $t,)* }
    };
}

record! {
    /// Type 0: BIOS information.
    pub struct Bios {
        /// Vendor string.
        pub vendor: Option<String>,
        /// Version string.
        pub version: Option<String>,
        /// Release date string (mm/dd/yyyy per the spec, but free text in practice).
        pub release_date: Option<String>,
        /// ROM size in KiB, from the 8-bit field or (3.1+) the extended field.
        pub rom_size_kib: Option<u64>,
        /// System BIOS major.minor release (2.4+; absent when 0xFF.0xFF).
        pub bios_release: Option<String>,
        /// Embedded controller firmware major.minor release (absent when 0xFF.0xFF).
        pub ec_release: Option<String>,
    }
}

record! {
    /// Type 1: system information.
    pub struct System {
        /// Manufacturer string.
        pub manufacturer: Option<String>,
        /// Product name string.
        pub product: Option<String>,
        /// Version string.
        pub version: Option<String>,
        /// Serial number string.
        pub serial: Option<String>,
        /// UUID as text; SMBIOS 2.6+ stores the first three fields little-endian (7.2.1).
        /// `None` when all bytes are 0xFF ("not present").
        pub uuid: Option<String>,
        /// SKU number string (2.4+).
        pub sku: Option<String>,
        /// Family string (2.4+).
        pub family: Option<String>,
    }
}

record! {
    /// Type 2: baseboard (module) information.
    pub struct Baseboard {
        /// Manufacturer string.
        pub manufacturer: Option<String>,
        /// Product string.
        pub product: Option<String>,
        /// Version string.
        pub version: Option<String>,
        /// Serial number string.
        pub serial: Option<String>,
        /// Asset tag string.
        pub asset_tag: Option<String>,
        /// Location in chassis string.
        pub location_in_chassis: Option<String>,
        /// Board type (table 15).
        pub board_type: Option<u8>,
    }
}

record! {
    /// Type 3: system enclosure or chassis.
    pub struct Chassis {
        /// Manufacturer string.
        pub manufacturer: Option<String>,
        /// Chassis type (table 17), lock bit removed.
        pub chassis_type: Option<u8>,
        /// Version string.
        pub version: Option<String>,
        /// Serial number string.
        pub serial: Option<String>,
        /// Asset tag string.
        pub asset_tag: Option<String>,
        /// SKU number string (2.7+), after the contained elements.
        pub sku: Option<String>,
    }
}

record! {
    /// Type 4: processor information.
    pub struct Processor {
        /// Socket designation string.
        pub socket: Option<String>,
        /// Processor type (table 22).
        pub processor_type: Option<u8>,
        /// Processor family (table 23; 0xFE means "see family 2").
        pub family: Option<u16>,
        /// Manufacturer string.
        pub manufacturer: Option<String>,
        /// Processor ID (CPUID signature and feature flags), hex of the 8 raw bytes.
        pub id: Option<String>,
        /// Version string.
        pub version: Option<String>,
        /// Maximum speed in MHz (0 = unknown).
        pub max_speed_mhz: Option<u16>,
        /// Socket populated (status bit 6).
        pub populated: Option<bool>,
        /// Serial number string (2.3+).
        pub serial: Option<String>,
        /// Asset tag string (2.3+).
        pub asset_tag: Option<String>,
        /// Part number string (2.3+).
        pub part_number: Option<String>,
        /// Core count (2.5+, 3.0 extended when 0xFF).
        pub core_count: Option<u16>,
        /// Enabled cores.
        pub core_enabled: Option<u16>,
        /// Thread count.
        pub thread_count: Option<u16>,
    }
}

record! {
    /// Type 9: system slot.
    pub struct Slot {
        /// Designation string.
        pub designation: Option<String>,
        /// Slot type (table 45).
        pub slot_type: Option<u8>,
        /// Data bus width (table 46).
        pub bus_width: Option<u8>,
        /// Slot ID.
        pub slot_id: Option<u16>,
        /// Segment group number (2.6+).
        pub segment: Option<u16>,
        /// Bus number (2.6+).
        pub bus: Option<u8>,
        /// Device (bits 7:3) and function (bits 2:0) number (2.6+).
        pub device_function: Option<u8>,
    }
}

record! {
    /// Type 16: physical memory array.
    pub struct MemoryArray {
        /// Location (table 72).
        pub location: Option<u8>,
        /// Use (table 73).
        pub array_use: Option<u8>,
        /// Error correction type (table 74).
        pub error_correction: Option<u8>,
        /// Maximum capacity in KiB (extended field used when the 32-bit one is 0x80000000).
        pub max_capacity_kib: Option<u64>,
        /// Number of memory devices (slots).
        pub devices: Option<u16>,
    }
}

record! {
    /// Type 17: memory device (a DIMM slot, populated or not).
    pub struct MemoryDevice {
        /// Handle of the type 16 array it belongs to.
        pub array_handle: Option<u16>,
        /// Total width in bits.
        pub total_width: Option<u16>,
        /// Data width in bits.
        pub data_width: Option<u16>,
        /// Size in MiB; `Some(0)` = no module installed; `None` = unknown or absent field.
        pub size_mib: Option<u64>,
        /// Form factor (table 76).
        pub form_factor: Option<u8>,
        /// Device locator string (e.g. "DIMM_A1").
        pub locator: Option<String>,
        /// Bank locator string.
        pub bank_locator: Option<String>,
        /// Memory type (table 77).
        pub memory_type: Option<u8>,
        /// Maximum speed in MT/s (2.3+; extended field used when 0xFFFF).
        pub speed_mts: Option<u32>,
        /// Manufacturer string.
        pub manufacturer: Option<String>,
        /// Serial number string.
        pub serial: Option<String>,
        /// Asset tag string.
        pub asset_tag: Option<String>,
        /// Part number string.
        pub part_number: Option<String>,
    }
}

record! {
    /// Type 38: IPMI device information (the BMC's host interface).
    pub struct Ipmi {
        /// Interface type (table 128: 1 KCS, 2 SMIC, 3 BT, 4 SSIF).
        pub interface_type: Option<u8>,
        /// IPMI specification revision as "major.minor".
        pub spec_revision: Option<String>,
        /// I2C target address of the BMC (already shifted, as stored).
        pub i2c_address: Option<u8>,
        /// NV storage device address (0xFF = none).
        pub nv_storage_address: Option<u8>,
        /// Base address (I/O or memory, LSB tells which).
        pub base_address: Option<u64>,
    }
}

record! {
    /// Type 39: system power supply.
    pub struct PowerSupply {
        /// Power unit group.
        pub group: Option<u8>,
        /// Location string.
        pub location: Option<String>,
        /// Device name string.
        pub device_name: Option<String>,
        /// Manufacturer string.
        pub manufacturer: Option<String>,
        /// Serial number string.
        pub serial: Option<String>,
        /// Asset tag string.
        pub asset_tag: Option<String>,
        /// Model part number string.
        pub model_part_number: Option<String>,
        /// Revision level string.
        pub revision: Option<String>,
        /// Maximum power capacity in W (absent when 0x8000 = unknown).
        pub max_power_w: Option<u16>,
    }
}

record! {
    /// Type 41: onboard devices extended information.
    pub struct OnboardDevice {
        /// Reference designation string.
        pub designation: Option<String>,
        /// Device type (table 53, bits 6:0).
        pub device_type: Option<u8>,
        /// Device enabled (bit 7).
        pub enabled: Option<bool>,
        /// Device type instance.
        pub instance: Option<u8>,
        /// Segment group number.
        pub segment: Option<u16>,
        /// Bus number.
        pub bus: Option<u8>,
        /// Device/function number.
        pub device_function: Option<u8>,
    }
}

/// A structure decoded by type; types boardproof does not decode are kept as `Other`
/// (their bytes are still hashed by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Record {
    Bios(Bios),
    System(System),
    Baseboard(Baseboard),
    Chassis(Chassis),
    Processor(Processor),
    Slot(Slot),
    MemoryArray(MemoryArray),
    MemoryDevice(MemoryDevice),
    Ipmi(Ipmi),
    PowerSupply(PowerSupply),
    OnboardDevice(OnboardDevice),
    Other(u8),
}

/// Decodes `s` according to its type and the table's SMBIOS version.
pub fn decode(s: &Structure<'_>, version: Version) -> Record {
    match s.kind {
        0 => Record::Bios(bios(s)),
        1 => Record::System(system(s, version)),
        2 => Record::Baseboard(baseboard(s)),
        3 => Record::Chassis(chassis(s)),
        4 => Record::Processor(processor(s)),
        9 => Record::Slot(slot(s)),
        16 => Record::MemoryArray(memory_array(s)),
        17 => Record::MemoryDevice(memory_device(s)),
        38 => Record::Ipmi(ipmi(s)),
        39 => Record::PowerSupply(power_supply(s)),
        41 => Record::OnboardDevice(onboard(s)),
        other => Record::Other(other),
    }
}

fn text(s: &Structure<'_>, off: usize) -> Option<String> {
    s.string_at(off).into_option()
}

fn release(major: Option<u8>, minor: Option<u8>) -> Option<String> {
    match (major?, minor?) {
        (0xFF, 0xFF) => None,
        (a, b) => Some(format!("{a}.{b}")),
    }
}

fn bios(s: &Structure<'_>) -> Bios {
    // 7.1: ROM size is 64K * (n + 1); 0xFF means "see the extended size" (3.1+), whose
    // bits 15:14 give the unit (00 MiB, 01 GiB).
    let rom_size_kib = match s.byte(0x09) {
        Some(0xFF) => s.word(0x18).map(|ext| {
            let n = u64::from(ext & 0x3FFF);
            match ext >> 14 {
                0 => n.saturating_mul(1024),
                _ => n.saturating_mul(1024 * 1024),
            }
        }),
        Some(n) => Some(u64::from(n).saturating_add(1).saturating_mul(64)),
        None => None,
    };
    Bios {
        vendor: text(s, 0x04),
        version: text(s, 0x05),
        release_date: text(s, 0x08),
        rom_size_kib,
        bios_release: release(s.byte(0x14), s.byte(0x15)),
        ec_release: release(s.byte(0x16), s.byte(0x17)),
    }
}

/// Formats an SMBIOS UUID (7.2.1): from version 2.6 on, the first three fields are
/// little-endian; before that, dmidecode (and firmware of that era) shows the bytes in order.
pub fn uuid_text(raw: &[u8; 16], version: Version) -> Option<String> {
    if raw.iter().all(|b| *b == 0xFF) {
        return None;
    }
    let mut b = *raw;
    if version.at_least(2, 6) {
        b[..4].reverse();
        b[4..6].reverse();
        b[6..8].reverse();
    }
    let h = |r: std::ops::Range<usize>| -> String {
        b.get(r)
            .unwrap_or(&[])
            .iter()
            .map(|x| format!("{x:02X}"))
            .collect()
    };
    Some(format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    ))
}

fn system(s: &Structure<'_>, version: Version) -> System {
    let uuid = s
        .bytes(0x08, 16)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .and_then(|raw| uuid_text(&raw, version));
    System {
        manufacturer: text(s, 0x04),
        product: text(s, 0x05),
        version: text(s, 0x06),
        serial: text(s, 0x07),
        uuid,
        sku: text(s, 0x19),
        family: text(s, 0x1A),
    }
}

fn baseboard(s: &Structure<'_>) -> Baseboard {
    Baseboard {
        manufacturer: text(s, 0x04),
        product: text(s, 0x05),
        version: text(s, 0x06),
        serial: text(s, 0x07),
        asset_tag: text(s, 0x08),
        location_in_chassis: text(s, 0x0A),
        board_type: s.byte(0x0D),
    }
}

fn chassis(s: &Structure<'_>) -> Chassis {
    // The SKU string follows n contained elements of m bytes each (7.4).
    let sku_off = match (s.byte(0x13), s.byte(0x14)) {
        (Some(n), Some(m)) => usize::from(n)
            .checked_mul(usize::from(m))
            .and_then(|nm| nm.checked_add(0x15)),
        _ => None,
    };
    Chassis {
        manufacturer: text(s, 0x04),
        chassis_type: s.byte(0x05).map(|t| t & 0x7F),
        version: text(s, 0x06),
        serial: text(s, 0x07),
        asset_tag: text(s, 0x08),
        sku: sku_off.and_then(|o| text(s, o)),
    }
}

fn processor(s: &Structure<'_>) -> Processor {
    let family = match s.byte(0x06) {
        Some(0xFE) => s.word(0x28).or(Some(0xFE)),
        other => other.map(u16::from),
    };
    // 3.0: a count of 0xFF means "see the 16-bit field".
    let count = |short: usize, long: usize| match s.byte(short) {
        Some(0xFF) => s.word(long).or(Some(0xFF)),
        other => other.map(u16::from),
    };
    Processor {
        socket: text(s, 0x04),
        processor_type: s.byte(0x05),
        family,
        manufacturer: text(s, 0x07),
        id: s
            .bytes(0x08, 8)
            .map(|b| b.iter().map(|x| format!("{x:02X}")).collect()),
        version: text(s, 0x10),
        max_speed_mhz: s.word(0x14),
        populated: s.byte(0x18).map(|st| st & 0x40 != 0),
        serial: text(s, 0x20),
        asset_tag: text(s, 0x21),
        part_number: text(s, 0x22),
        core_count: count(0x23, 0x2A),
        core_enabled: count(0x24, 0x2C),
        thread_count: count(0x25, 0x2E),
    }
}

fn slot(s: &Structure<'_>) -> Slot {
    Slot {
        designation: text(s, 0x04),
        slot_type: s.byte(0x05),
        bus_width: s.byte(0x06),
        slot_id: s.word(0x09),
        segment: s.word(0x0D),
        bus: s.byte(0x0F),
        device_function: s.byte(0x10),
    }
}

fn memory_array(s: &Structure<'_>) -> MemoryArray {
    let max_capacity_kib = match s.dword(0x07) {
        Some(0x8000_0000) => s.qword(0x0F).map(|bytes| bytes / 1024),
        other => other.map(u64::from),
    };
    MemoryArray {
        location: s.byte(0x04),
        array_use: s.byte(0x05),
        error_correction: s.byte(0x06),
        max_capacity_kib,
        devices: s.word(0x0D),
    }
}

/// Size of a memory device in MiB (7.18.5): 0 = not installed, 0xFFFF = unknown, 0x7FFF =
/// see the extended size (MiB, bits 30:0); otherwise bit 15 selects KiB (1) or MiB (0).
fn memory_size_mib(s: &Structure<'_>) -> Option<u64> {
    match s.word(0x0C)? {
        0xFFFF => None,
        0x7FFF => s.dword(0x1C).map(|e| u64::from(e & 0x7FFF_FFFF)),
        v if v & 0x8000 != 0 => Some(u64::from(v & 0x7FFF) / 1024),
        v => Some(u64::from(v)),
    }
}

fn memory_device(s: &Structure<'_>) -> MemoryDevice {
    // 0xFFFF is "unknown" by the spec; firmware also writes 0 for it (dmidecode agrees).
    let width = |off| s.word(off).filter(|w| *w != 0xFFFF && *w != 0);
    let speed_mts = match s.word(0x15) {
        Some(0xFFFF) => s.dword(0x54),
        Some(0) | None => None,
        Some(v) => Some(u32::from(v)),
    };
    MemoryDevice {
        array_handle: s.word(0x04),
        total_width: width(0x08),
        data_width: width(0x0A),
        size_mib: memory_size_mib(s),
        form_factor: s.byte(0x0E),
        locator: text(s, 0x10),
        bank_locator: text(s, 0x11),
        memory_type: s.byte(0x12),
        speed_mts,
        manufacturer: text(s, 0x17),
        serial: text(s, 0x18),
        asset_tag: text(s, 0x19),
        part_number: text(s, 0x1A),
    }
}

fn ipmi(s: &Structure<'_>) -> Ipmi {
    Ipmi {
        interface_type: s.byte(0x04),
        spec_revision: s.byte(0x05).map(|r| format!("{}.{}", r >> 4, r & 0x0F)),
        i2c_address: s.byte(0x06),
        nv_storage_address: s.byte(0x07),
        base_address: s.qword(0x08),
    }
}

fn power_supply(s: &Structure<'_>) -> PowerSupply {
    PowerSupply {
        group: s.byte(0x04),
        location: text(s, 0x05),
        device_name: text(s, 0x06),
        manufacturer: text(s, 0x07),
        serial: text(s, 0x08),
        asset_tag: text(s, 0x09),
        model_part_number: text(s, 0x0A),
        revision: text(s, 0x0B),
        max_power_w: s.word(0x0C).filter(|w| *w != 0x8000),
    }
}

fn onboard(s: &Structure<'_>) -> OnboardDevice {
    OnboardDevice {
        designation: text(s, 0x04),
        device_type: s.byte(0x05).map(|t| t & 0x7F),
        enabled: s.byte(0x05).map(|t| t & 0x80 != 0),
        instance: s.byte(0x06),
        segment: s.word(0x07),
        bus: s.byte(0x09),
        device_function: s.byte(0x0A),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u8, minor: u8) -> Version {
        Version {
            major,
            minor,
            docrev: 0,
        }
    }

    #[test]
    fn uuid_byte_order_depends_on_version() {
        let raw = [
            0x44, 0x45, 0x4C, 0x4C, 0x44, 0x00, 0x10, 0x4E, 0x80, 0x31, 0xB9, 0xC0, 0x4F, 0x4B,
            0x4C, 0x32,
        ];
        assert_eq!(
            uuid_text(&raw, v(2, 6)).unwrap(),
            "4C4C4544-0044-4E10-8031-B9C04F4B4C32"
        );
        assert_eq!(
            uuid_text(&raw, v(2, 5)).unwrap(),
            "44454C4C-4400-104E-8031-B9C04F4B4C32"
        );
        assert_eq!(uuid_text(&[0xFF; 16], v(3, 0)), None);
    }

    #[test]
    fn memory_sizes() {
        let mk = |size: u16, ext: u32| {
            let mut f = vec![0u8; 0x22];
            f[0] = 17;
            f[1] = 0x22;
            f[0x0C..0x0E].copy_from_slice(&size.to_le_bytes());
            f[0x1C..0x20].copy_from_slice(&ext.to_le_bytes());
            f
        };
        let case = |size, ext| {
            let f = mk(size, ext);
            let s = Structure {
                offset: 0,
                kind: 17,
                handle: 0,
                formatted: &f,
                strings: &[],
                raw: &f,
            };
            memory_size_mib(&s)
        };
        assert_eq!(case(0, 0), Some(0));
        assert_eq!(case(0xFFFF, 0), None);
        assert_eq!(case(8192, 0), Some(8192));
        assert_eq!(case(0x8000 | 2048, 0), Some(2));
        assert_eq!(case(0x7FFF, 65536), Some(65536));
    }

    #[test]
    fn short_structure_has_no_fields() {
        let f = [1u8, 4, 0, 0];
        let s = Structure {
            offset: 0,
            kind: 1,
            handle: 0,
            formatted: &f,
            strings: &[],
            raw: &f,
        };
        assert_eq!(decode(&s, v(3, 0)), Record::System(System::default()));
    }
}
