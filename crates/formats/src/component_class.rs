//! The TCG Component Class Registry, and how the other class registries a platform
//! certificate may use (SMBIOS, PCIe, storage) map onto it.
//!
//! A component class is a registry OID and a 4-byte value. The TCG registry's value holds a
//! category in its upper 16 bits; the SMBIOS registry's holds an SMBIOS structure type there;
//! the PCIe registry's is a PCI class code. One table here serves the certificate decoder
//! (names), the component list writer (values) and the comparison with evidence (which
//! inventory items a listed component may be).

/// The TCG component class registry (Component Class Registry v1.0).
pub const OID_TCG: &str = "2.23.133.18.3.1";
/// The SMBIOS component class registry: the upper 16 bits are the SMBIOS structure type.
pub const OID_SMBIOS: &str = "2.23.133.18.3.3";
/// The PCIe component class registry: the value is the PCI class code (base, sub, interface).
pub const OID_PCIE: &str = "2.23.133.18.3.4";
/// The storage component class registry (NVMe, ATA, SCSI drives).
pub const OID_STORAGE: &str = "2.23.133.18.3.5";

/// A category of the TCG registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Category {
    Processors,
    Containers,
    IcBoards,
    Modules,
    Controllers,
    Memory,
    Storage,
    MediaDrives,
    NetworkAdapters,
    EnergyObject,
    Sensors,
    DisplayDevices,
    Cooling,
    InputDevices,
    Slots,
    Ports,
    DiscreteComponent,
    Cabling,
    Firmware,
}

/// Each category, its code (the class value's upper 16 bits) and its name as the registry
/// writes it.
const CATEGORIES: [(Category, u16, &str); 19] = [
    (Category::Processors, 0x0001, "Processors"),
    (Category::Containers, 0x0002, "Containers"),
    (Category::IcBoards, 0x0003, "IC Boards"),
    (Category::Modules, 0x0004, "Modules"),
    (Category::Controllers, 0x0005, "Controllers"),
    (Category::Memory, 0x0006, "Memory"),
    (Category::Storage, 0x0007, "Storage"),
    (Category::MediaDrives, 0x0008, "Media Drives"),
    (Category::NetworkAdapters, 0x0009, "Network Adapters"),
    (Category::EnergyObject, 0x000a, "Energy Object"),
    (Category::Sensors, 0x000b, "Sensors"),
    (Category::DisplayDevices, 0x000c, "Display Devices"),
    (Category::Cooling, 0x000d, "Cooling"),
    (Category::InputDevices, 0x000e, "Input Devices"),
    (Category::Slots, 0x000f, "Slots"),
    (Category::Ports, 0x0010, "Ports"),
    (Category::DiscreteComponent, 0x0011, "Discrete Component"),
    (Category::Cabling, 0x0012, "Cabling"),
    (Category::Firmware, 0x0013, "Firmware"),
];

/// Classes boardproof writes into component lists (TCG registry values).
pub mod tcg {
    /// Processors / CPU.
    pub const CPU: u32 = 0x0001_0002;
    /// IC Boards / Motherboard (includes processor, memory and I/O).
    pub const MOTHERBOARD: u32 = 0x0003_0003;
    /// Memory / DRAM memory.
    pub const DRAM: u32 = 0x0006_0004;
    /// Storage / storage drive.
    pub const STORAGE_DRIVE: u32 = 0x0007_0002;
    /// Network Adapters / Ethernet adapter.
    pub const ETHERNET: u32 = 0x0009_0002;
    /// Firmware / System BIOS.
    pub const SYSTEM_BIOS: u32 = 0x0013_0003;
    /// Containers: the SMBIOS chassis type goes in the low half, as the registry defines.
    pub const CHASSIS_BASE: u32 = 0x0002_0000;
}

impl Category {
    fn row(self) -> (Category, u16, &'static str) {
        CATEGORIES
            .iter()
            .copied()
            .find(|r| r.0 == self)
            .unwrap_or((self, 0, "?"))
    }

    /// The category's code: the upper 16 bits of its class values.
    pub fn code(self) -> u16 {
        self.row().1
    }

    /// The registry's name for it.
    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The category with `code`, if the registry defines one.
    pub fn from_code(code: u16) -> Option<Self> {
        CATEGORIES.iter().find(|r| r.1 == code).map(|r| r.0)
    }
}

/// A class value as 8 hex digits, as component lists write it.
pub fn hex(value: u32) -> String {
    format!("{value:08X}")
}

/// What a component class says about the kind of thing listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// A TCG category (directly, or an SMBIOS type that has one).
    Category(Category),
    /// SMBIOS type 1: the system itself, compared as a component with SMBIOS type 1.
    System,
    /// A PCI function of this class code (PCIe registry).
    PciFunction(u32),
    /// A storage drive (storage registry).
    Drive,
}

/// The meaning of class `value` in `registry` (`None`: a v1 certificate's bare value, which
/// uses the TCG registry's values). `None` for registries and values not known here.
pub fn meaning(registry: Option<&str>, value: u32) -> Option<Meaning> {
    let upper = u16::try_from(value >> 16).ok()?;
    match registry {
        None | Some(OID_TCG) => Category::from_code(upper).map(Meaning::Category),
        Some(OID_SMBIOS) => Some(match upper {
            0 => Meaning::Category(Category::Firmware),
            1 => Meaning::System,
            2 => Meaning::Category(Category::IcBoards),
            3 => Meaning::Category(Category::Containers),
            4 => Meaning::Category(Category::Processors),
            17 => Meaning::Category(Category::Memory),
            _ => return None,
        }),
        Some(OID_PCIE) => Some(Meaning::PciFunction(value & 0x00ff_ffff)),
        Some(OID_STORAGE) => Some(Meaning::Drive),
        Some(_) => None,
    }
}

/// Parses a class value written as 8 hex digits (either case).
pub fn parse_hex(text: &str) -> Option<u32> {
    let t = text.trim();
    if t.len() != 8 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(t, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for (c, code, name) in CATEGORIES {
            assert_eq!(Category::from_code(code), Some(c));
            assert_eq!(c.code(), code);
            assert_eq!(c.name(), name);
        }
        assert_eq!(Category::from_code(0x0014), None);
        assert_eq!(Category::from_code(0), None);
    }

    #[test]
    fn registries_map_onto_categories() {
        assert_eq!(
            meaning(Some(OID_TCG), tcg::SYSTEM_BIOS),
            Some(Meaning::Category(Category::Firmware))
        );
        assert_eq!(
            meaning(None, tcg::CPU),
            Some(Meaning::Category(Category::Processors))
        );
        // paccor's SMBIOS-registry values: type 0 BIOS, 1 system, 17 memory device.
        assert_eq!(
            meaning(Some(OID_SMBIOS), 0x0000_830f),
            Some(Meaning::Category(Category::Firmware))
        );
        assert_eq!(
            meaning(Some(OID_SMBIOS), 0x0001_0000),
            Some(Meaning::System)
        );
        assert_eq!(
            meaning(Some(OID_SMBIOS), 0x0011_001a),
            Some(Meaning::Category(Category::Memory))
        );
        assert_eq!(meaning(Some(OID_SMBIOS), 0x002b_0000), None);
        assert_eq!(
            meaning(Some(OID_PCIE), 0x0002_8000),
            Some(Meaning::PciFunction(0x02_8000))
        );
        assert_eq!(meaning(Some("1.2.3"), 0x0001_0002), None);
        assert_eq!(parse_hex("0000830F"), Some(0x830f));
        assert_eq!(parse_hex("830F"), None);
        assert_eq!(parse_hex("0000830G"), None);
    }
}
