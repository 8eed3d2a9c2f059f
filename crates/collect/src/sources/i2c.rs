//! I2C / SMBus clients the kernel knows about, from sys/bus/i2c/devices, and (opt-in) an
//! active probe of each adapter for chips nothing declared.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use boardproof_evidence::{Component, ComponentClass, Inventory, SourceStatus};
use sha2::{Digest, Sha256};

use super::pci_location;
use crate::fsutil::{attr, device_path, link_name, list_dir, under};
use crate::{Error, SourceOutput};

/// Always said without a probe, because it is the limit of this source.
pub const NOT_ENUMERABLE: &str = "Linux lists only I2C clients it was told about (ACPI, device \
tree, drivers); a chip added on an SMBus/I2C bus that nothing declared does not appear here \
(an active probe, when asked for, scans the buses)";

pub fn collect(root: &Path, inv: &mut Inventory, probe_i2c: bool) -> Result<SourceOutput, Error> {
    let dir = under(root, "sys/bus/i2c/devices");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: the kernel has no I2C core loaded, so no SMBus/I2C bus is visible",
            dir.display()
        )));
    }
    let mut out = SourceOutput::default();
    if !probe_i2c {
        out.notes.push(NOT_ENUMERABLE.to_owned());
    }
    let names = list_dir(&dir)?;
    let adapters: Vec<u32> = names
        .iter()
        .filter_map(|n| n.strip_prefix("i2c-")?.parse().ok())
        .collect();
    out.notes.push(format!("{} adapters", adapters.len()));
    let mut declared: BTreeSet<(u32, u16)> = BTreeSet::new();
    for name in names {
        // Clients are "<adapter>-<4 hex digit address>".
        let Some((bus, addr)) = name.split_once('-') else {
            continue;
        };
        if bus == "i2c" || addr.len() != 4 {
            continue;
        }
        let dev = dir.join(&name);
        let adapter = Adapter::read(root, &dir, bus);
        let address = u16::from_str_radix(addr, 16)
            .map_or_else(|_| addr.to_owned(), |a| format!("0x{a:02x}"));
        if let (Ok(b), Ok(a)) = (bus.parse(), u16::from_str_radix(addr, 16)) {
            declared.insert((b, a));
        }
        let client = attr(&dev.join("name")).unwrap_or_default();
        let identity = BTreeMap::from([
            ("adapter".to_owned(), adapter.stable.clone()),
            ("address".to_owned(), address.clone()),
            ("name".to_owned(), client.clone()),
        ]);
        let mut attributes = BTreeMap::from([
            ("sysfs_name".to_owned(), name.clone()),
            ("adapter_name".to_owned(), adapter.name.clone()),
        ]);
        if let Some(d) = link_name(&dev.join("driver")) {
            attributes.insert("driver".into(), d);
        }
        inv.components.push(Component {
            class: ComponentClass::I2c,
            identity,
            location: adapter.location(&address),
            description: Some(client),
            attributes,
        });
        out.items += 1;
    }
    if probe_i2c {
        let mut failed = Vec::new();
        for bus in adapters {
            let adapter = Adapter::read(root, &dir, &bus.to_string());
            let name = &adapter.name;
            let node = under(root, &format!("dev/i2c-{bus}"));
            match probe_adapter(&node, bus, &declared) {
                Ok(found) => {
                    out.notes.push(format!(
                        "probed i2c-{bus} ({name}) at 0x{FIRST:02x}-0x{LAST:02x}: {} answered \
                         that no driver declared",
                        found.len()
                    ));
                    for p in found {
                        inv.components.push(p.component(&adapter));
                        out.items += 1;
                    }
                }
                Err(e) => failed.push(format!("i2c-{bus} ({name}): {e}")),
            }
        }
        if !failed.is_empty() {
            // The clients and the adapters that were probed are kept; the source says which
            // buses it could not scan, so nothing is silently skipped.
            out.status = Some(SourceStatus::Error);
            out.reason = Some(format!("probe failed on {}", failed.join("; ")));
        }
    }
    Ok(out)
}

/// An adapter as identity sees it.
struct Adapter {
    /// The kernel's name (`SMBus I801 adapter at 6000`).
    name: String,
    /// The name without the I/O address the firmware assigned.
    stable: String,
    /// Path of the PCI device it belongs to (`pci0000:00/1f.3`), when it has one.
    pci: Option<String>,
}

impl Adapter {
    fn read(root: &Path, dir: &Path, bus: &str) -> Adapter {
        let node = dir.join(format!("i2c-{bus}"));
        let name = attr(&node.join("name")).unwrap_or_else(|| format!("i2c-{bus}"));
        let pci = device_path(root, &node)
            .map(|c| pci_location(&c).0)
            .filter(|p| !p.is_empty());
        Adapter {
            stable: stable_adapter_name(&name).to_owned(),
            name,
            pci,
        }
    }

    fn location(&self, address: &str) -> String {
        match &self.pci {
            Some(p) => format!("{p}/{}@{address}", self.stable),
            None => format!("{}@{address}", self.stable),
        }
    }
}

/// The adapter name without a trailing ` at <hex>` I/O address (`SMBus I801 adapter at 6000`
/// → `SMBus I801 adapter`): the firmware assigns that address, and it moves when another
/// device takes I/O space, which must not look like a new bus.
pub fn stable_adapter_name(name: &str) -> &str {
    match name.rsplit_once(" at ") {
        Some((head, tail))
            if !head.is_empty()
                && !tail.is_empty()
                && tail.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            head
        }
        _ => name,
    }
}

/// First and last address probed: i2cdetect's default range (0x00-0x07 and 0x78-0x7f are
/// reserved by the I2C specification).
pub const FIRST: u16 = 0x08;
/// See [`FIRST`].
pub const LAST: u16 = 0x77;

/// How an address is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeMode {
    /// SMBus receive byte: for ranges where a quick write can harm a chip (0x30-0x37 and
    /// 0x50-0x5f: some EEPROMs take a quick write as the start of a write and lock or corrupt
    /// themselves — i2cdetect's rule).
    ReadByte,
    /// SMBus quick command with the write bit: only the address is sent, no data.
    QuickWrite,
}

impl ProbeMode {
    fn as_str(self) -> &'static str {
        match self {
            ProbeMode::ReadByte => "read-byte",
            ProbeMode::QuickWrite => "quick-write",
        }
    }
}

/// i2cdetect's default ("auto") choice per address.
pub fn probe_mode(addr: u16) -> ProbeMode {
    if (0x30..=0x37).contains(&addr) || (0x50..=0x5f).contains(&addr) {
        ProbeMode::ReadByte
    } else {
        ProbeMode::QuickWrite
    }
}

/// Whether an answering address is read as an EEPROM (SPD and FRU EEPROMs, AT24 family):
/// 256 single-byte reads with an offset. Setting the offset moves the EEPROM's address pointer
/// and stores nothing.
pub fn eeprom_like(addr: u16) -> bool {
    (0x50..=0x57).contains(&addr)
}

/// A chip that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// Address.
    pub address: u16,
    /// How it was asked.
    pub mode: ProbeMode,
    /// sha256 of the first 256 bytes, for EEPROM-like addresses that returned all of them.
    pub contents_sha256: Option<String>,
}

impl Probed {
    fn component(&self, adapter: &Adapter) -> Component {
        let address = format!("0x{:02x}", self.address);
        let mut identity = BTreeMap::from([
            ("adapter".to_owned(), adapter.stable.clone()),
            ("address".to_owned(), address.clone()),
            (
                "detected_by".to_owned(),
                format!("probe ({})", self.mode.as_str()),
            ),
        ]);
        if let Some(h) = &self.contents_sha256 {
            identity.insert("contents_sha256".into(), h.clone());
        }
        Component {
            class: ComponentClass::I2c,
            identity,
            location: adapter.location(&address),
            description: Some(if self.contents_sha256.is_some() {
                "EEPROM-like chip (answered a probe; no driver declared it)".to_owned()
            } else {
                "chip that answered a probe (no driver declared it)".to_owned()
            }),
            attributes: BTreeMap::from([("adapter_name".to_owned(), adapter.name.clone())]),
        }
    }
}

/// Errno values the probe treats as "nothing there" or "not ours to touch".
const EBUSY: i32 = 16;

/// Probes one adapter. Addresses a driver declared are skipped (the kernel also refuses them:
/// I2C_SLAVE answers EBUSY, and boardproof never forces it).
fn probe_adapter(
    node: &Path,
    bus: u32,
    declared: &BTreeSet<(u32, u16)>,
) -> Result<Vec<Probed>, String> {
    use i2cdev::core::I2CDevice;
    use i2cdev::linux::{LinuxI2CDevice, LinuxI2CError};
    if !node.exists() {
        return Err(format!(
            "{} does not exist (load the i2c-dev module; a snapshot of another host cannot be probed)",
            node.display()
        ));
    }
    let mut found = Vec::new();
    for addr in FIRST..=LAST {
        if declared.contains(&(bus, addr)) {
            continue;
        }
        let mut dev = match LinuxI2CDevice::new(node, addr) {
            Ok(d) => d,
            Err(LinuxI2CError::Errno(EBUSY)) => continue,
            Err(LinuxI2CError::Io(e)) if e.raw_os_error() == Some(EBUSY) => continue,
            Err(e) => return Err(format!("{}: address 0x{addr:02x}: {e}", node.display())),
        };
        let mode = probe_mode(addr);
        let answered = match mode {
            ProbeMode::ReadByte => dev.smbus_read_byte().is_ok(),
            ProbeMode::QuickWrite => dev.smbus_write_quick(false).is_ok(),
        };
        if !answered {
            continue;
        }
        let contents_sha256 = if eeprom_like(addr) {
            let mut bytes = Vec::with_capacity(256);
            for offset in 0..=255u8 {
                match dev.smbus_read_byte_data(offset) {
                    Ok(b) => bytes.push(b),
                    Err(_) => break,
                }
            }
            (bytes.len() == 256).then(|| hex::encode(Sha256::digest(&bytes)))
        } else {
            None
        };
        found.push(Probed {
            address: addr,
            mode,
            contents_sha256,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_names_lose_the_io_address_only() {
        assert_eq!(
            stable_adapter_name("SMBus I801 adapter at 6000"),
            "SMBus I801 adapter"
        );
        assert_eq!(
            stable_adapter_name("SMBus PIIX4 adapter port 2 at 0b00"),
            "SMBus PIIX4 adapter port 2"
        );
        assert_eq!(stable_adapter_name("i915 gmbus dpc"), "i915 gmbus dpc");
        assert_eq!(stable_adapter_name("bus at home"), "bus at home");
        assert_eq!(stable_adapter_name(" at 10"), " at 10");
    }

    #[test]
    fn modes_follow_i2cdetect() {
        assert_eq!(probe_mode(0x08), ProbeMode::QuickWrite);
        assert_eq!(probe_mode(0x2f), ProbeMode::QuickWrite);
        assert_eq!(probe_mode(0x30), ProbeMode::ReadByte);
        assert_eq!(probe_mode(0x37), ProbeMode::ReadByte);
        assert_eq!(probe_mode(0x38), ProbeMode::QuickWrite);
        assert_eq!(probe_mode(0x50), ProbeMode::ReadByte);
        assert_eq!(probe_mode(0x5f), ProbeMode::ReadByte);
        assert_eq!(probe_mode(0x60), ProbeMode::QuickWrite);
        assert!(eeprom_like(0x50) && eeprom_like(0x57));
        assert!(!eeprom_like(0x58) && !eeprom_like(0x4f));
    }

    #[test]
    fn probing_a_snapshot_is_an_error_not_a_silent_skip() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bus = tmp.path().join("sys/bus/i2c/devices/i2c-0");
        std::fs::create_dir_all(&bus).expect("mkdir");
        std::fs::write(bus.join("name"), "SMBus I801 adapter at b100\n").expect("write");
        let mut inv = Inventory::default();
        let out = collect(tmp.path(), &mut inv, true).expect("collects");
        assert_eq!(out.status, Some(SourceStatus::Error));
        let reason = out.reason.expect("reason");
        assert!(
            reason.contains("i2c-0 (SMBus I801 adapter at b100)"),
            "{reason}"
        );
        assert!(reason.contains("dev/i2c-0 does not exist"), "{reason}");
        // Without the probe the same snapshot is ok and says what it cannot see.
        let out = collect(tmp.path(), &mut inv, false).expect("collects");
        assert_eq!(out.status, None);
        assert!(out.notes.iter().any(|n| n.contains("an active probe")));
    }
}
