//! One module per source. Each reads below the root and adds to the inventory.

pub mod acpi;
pub mod block;
pub mod cpu;
pub mod i2c;
pub mod ima;
pub mod modules;
pub mod net;
pub mod option_rom;
pub mod pci;
pub mod tpm;
pub mod usb;

use std::collections::BTreeMap;
use std::path::Path;

use boardproof_evidence::{Component, ComponentClass, Inventory, SourceStatus, Volatile};
use boardproof_formats::smbios::from_sysfs;

use crate::fsutil::{read_capped, under};
use crate::{Error, SourceOutput};

/// SMBIOS from the kernel's sysfs copy of the table.
pub fn smbios(root: &Path, inv: &mut Inventory, vol: &mut Volatile) -> Result<SourceOutput, Error> {
    let dir = under(root, "sys/firmware/dmi/tables");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: the firmware publishes no SMBIOS table, or the kernel lacks \
             CONFIG_DMI_SYSFS",
            dir.display()
        )));
    }
    let ep_path = dir.join("smbios_entry_point");
    let dmi_path = dir.join("DMI");
    let ep_bytes = read_capped(&ep_path)?;
    let dmi = read_capped(&dmi_path)?;
    let (ep, table) = from_sysfs(&ep_bytes, &dmi).map_err(|source| Error::Parse {
        path: ep_path.clone(),
        source,
    })?;
    let smbios = crate::smbios::inventory(&ep, &table);
    vol.wake_up_type = crate::smbios::wake_up_type(&table);
    let mut out = SourceOutput {
        items: smbios.structures.len() as u64,
        ..SourceOutput::default()
    };
    if let Some(e) = &smbios.error {
        out.status = Some(SourceStatus::Error);
        out.reason = Some(format!(
            "{}: {e}; the {} structures before it are kept",
            dmi_path.display(),
            smbios.structures.len()
        ));
    }
    let mut empty_slots = 0;
    for d in &smbios.memory_devices {
        let r = &d.record;
        if r.size_mib == Some(0) {
            empty_slots += 1;
            continue;
        }
        let mut identity = BTreeMap::new();
        for (k, v) in [
            ("manufacturer", &r.manufacturer),
            ("part_number", &r.part_number),
            ("serial", &r.serial),
            ("asset_tag", &r.asset_tag),
        ] {
            if let Some(v) = v {
                identity.insert(k.to_owned(), v.clone());
            }
        }
        identity.insert(
            "size_mib".into(),
            r.size_mib.map_or("unknown".into(), |s| s.to_string()),
        );
        let location = match (&r.bank_locator, &r.locator) {
            (Some(b), Some(l)) => format!("{b}/{l}"),
            (None, Some(l)) => l.clone(),
            (Some(b), None) => format!("{b}/handle {:#06x}", d.handle),
            (None, None) => format!("smbios handle {:#06x}", d.handle),
        };
        inv.components.push(Component {
            class: ComponentClass::Dimm,
            identity,
            location,
            description: None,
            attributes: BTreeMap::from([("smbios_handle".into(), format!("{:#06x}", d.handle))]),
        });
    }
    if empty_slots > 0 {
        out.notes.push(format!(
            "{empty_slots} memory slots report no module installed"
        ));
    }
    for p in &smbios.power_supplies {
        let r = &p.record;
        let mut identity = BTreeMap::new();
        for (k, v) in [
            ("manufacturer", &r.manufacturer),
            ("model_part_number", &r.model_part_number),
            ("serial", &r.serial),
            ("revision", &r.revision),
        ] {
            if let Some(v) = v {
                identity.insert(k.to_owned(), v.clone());
            }
        }
        inv.components.push(Component {
            class: ComponentClass::PowerSupply,
            identity,
            location: r
                .location
                .clone()
                .unwrap_or_else(|| format!("smbios handle {:#06x}", p.handle)),
            description: r.device_name.clone(),
            attributes: BTreeMap::new(),
        });
    }
    inv.smbios = Some(smbios);
    Ok(out)
}

/// True for a sysfs path component that is a PCI address (`0000:00:1c.0`).
pub fn is_pci_address(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    matches!(parts.as_slice(), [dom, bus, devfn]
        if dom.len() >= 4 && bus.len() == 2
        && devfn.len() == 4 && devfn.as_bytes().get(2) == Some(&b'.')
        && dom.bytes().chain(bus.bytes()).all(|b| b.is_ascii_hexdigit()))
}

/// Builds a location from a device path below sys/devices: the PCI root, then `dd.f` of every
/// PCI function on the way (bus numbers left out, because one added bridge renumbers every bus
/// behind it). Returns the location and how many components it used.
pub fn pci_location(components: &[String]) -> (String, usize) {
    let mut loc = String::new();
    let mut used = 0;
    for (i, c) in components.iter().enumerate() {
        if i == 0 && c.starts_with("pci") {
            loc.push_str(c);
            used = 1;
        } else if is_pci_address(c) {
            let devfn = c.rsplit(':').next().unwrap_or(c);
            loc.push('/');
            loc.push_str(devfn);
            used = i + 1;
        } else if used > 0 {
            break;
        }
    }
    if loc.is_empty() {
        loc = components.first().cloned().unwrap_or_default();
        used = usize::from(!components.is_empty());
    }
    (loc, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn location_ignores_bus_numbers() {
        let a = pci_location(&v(&["pci0000:00", "0000:00:1c.0", "0000:01:00.0"]));
        let b = pci_location(&v(&["pci0000:00", "0000:00:1c.0", "0000:02:00.0"]));
        assert_eq!(a, b);
        assert_eq!(a.0, "pci0000:00/1c.0/00.0");
        let c = pci_location(&v(&[
            "pci0000:00",
            "0000:00:02.0",
            "virtio1",
            "block",
            "vda",
        ]));
        assert_eq!(c, ("pci0000:00/02.0".to_string(), 2));
    }

    #[test]
    fn pci_address_shape() {
        assert!(is_pci_address("0000:00:1c.0"));
        assert!(is_pci_address("10000:e1:00.7"));
        assert!(!is_pci_address("pci0000:00"));
        assert!(!is_pci_address("1-1.2:1.0"));
    }
}
