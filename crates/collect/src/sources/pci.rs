//! PCI functions from sys/bus/pci/devices.

use std::collections::BTreeMap;
use std::path::Path;

use boardproof_evidence::{Component, ComponentClass, Inventory};
use boardproof_formats::pci_config::device_serial_number_with;
use boardproof_formats::pci_ids::PciIds;

use super::pci_location;
use crate::fsutil::{device_path, hex_attr, link_name, list_dir, under};
use crate::{Error, SourceOutput};

pub fn collect(
    root: &Path,
    ids: Option<&PciIds>,
    inv: &mut Inventory,
) -> Result<SourceOutput, Error> {
    let dir = under(root, "sys/bus/pci/devices");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: no PCI bus on this machine, or sysfs is not mounted",
            dir.display()
        )));
    }
    let mut out = SourceOutput::default();
    if ids.is_none() {
        out.notes
            .push("no pci.ids found (install hwdata): devices are shown without names".into());
    }
    for name in list_dir(&dir)? {
        let dev = dir.join(&name);
        let need = |attr: &str| {
            hex_attr(&dev.join(attr)).ok_or_else(|| {
                Error::Unavailable(format!(
                    "{}: missing or unreadable",
                    dev.join(attr).display()
                ))
            })
        };
        let (vendor, device, class) = match (need("vendor"), need("device"), need("class")) {
            (Ok(v), Ok(d), Ok(c)) => (v, d, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return Err(Error::Io {
                    path: dev.clone(),
                    source: std::io::Error::other(e.to_string()),
                })
            }
        };
        let sv = hex_attr(&dev.join("subsystem_vendor"));
        let sd = hex_attr(&dev.join("subsystem_device"));
        let rev = hex_attr(&dev.join("revision"));
        let mut identity = BTreeMap::from([
            ("vendor".to_owned(), format!("{vendor:04x}")),
            ("device".to_owned(), format!("{device:04x}")),
            ("class".to_owned(), format!("{class:06x}")),
        ]);
        if let Some(sv) = sv {
            identity.insert("subsystem_vendor".into(), format!("{sv:04x}"));
        }
        if let Some(sd) = sd {
            identity.insert("subsystem_device".into(), format!("{sd:04x}"));
        }
        if let Some(rev) = rev {
            identity.insert("revision".into(), format!("{rev:02x}"));
        }
        match extended_config(&dev.join("config")) {
            Ok(Extended::Serial(dsn)) => {
                identity.insert("serial_number".into(), format!("{dsn:016x}"));
            }
            Ok(Extended::NotRoot) => {
                if !out.notes.iter().any(|n| n.starts_with("extended config")) {
                    out.notes.push(
                        "extended config space not readable (not root): PCIe device serial \
                         numbers not collected"
                            .into(),
                    );
                }
            }
            Ok(Extended::None) => {}
            Err(e) => out
                .notes
                .push(format!("{name}: config space unreadable: {e}")),
        }
        let comps = device_path(root, &dev).unwrap_or_else(|| vec![name.clone()]);
        let (location, _) = pci_location(&comps);
        let mut attributes = BTreeMap::from([("address".to_owned(), name.clone())]);
        if let Some(drv) = link_name(&dev.join("driver")) {
            attributes.insert("driver".into(), drv);
        }
        attributes.insert("option_rom".into(), dev.join("rom").exists().to_string());
        let description = ids.map(|db| {
            let v = u16::try_from(vendor).unwrap_or(0);
            let d = u16::try_from(device).unwrap_or(0);
            format!(
                "{} {}",
                db.vendor(v).unwrap_or("unknown vendor"),
                db.device(v, d)
                    .map_or_else(|| format!("device {d:04x}"), str::to_owned)
            )
        });
        inv.components.push(Component {
            class: ComponentClass::Pci,
            identity,
            location,
            description,
            attributes,
        });
        out.items += 1;
    }
    Ok(out)
}

/// What the extended config space says about a device serial number.
enum Extended {
    /// A Device Serial Number capability.
    Serial(u64),
    /// None: conventional PCI (a 256-byte space), or no DSN capability in the list.
    None,
    /// The space is there but reads past 64 bytes return nothing: not root.
    NotRoot,
}

/// Walks the extended capability list of a sysfs `config` file dword by dword, as lspci
/// does, instead of reading all 4 KiB (each dword is a hardware access).
fn extended_config(path: &Path) -> std::io::Result<Extended> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() <= 256 {
        return Ok(Extended::None);
    }
    let mut unreadable = false;
    let dsn = device_serial_number_with(|at| {
        let mut b = [0u8; 4];
        let offset = u64::try_from(at).ok()?;
        match file.read_at(&mut b, offset) {
            Ok(4) => Some(u32::from_le_bytes(b)),
            Ok(_) => {
                unreadable = true;
                None
            }
            Err(_) => None,
        }
    });
    Ok(match dsn {
        Some(d) => Extended::Serial(d),
        None if unreadable => Extended::NotRoot,
        None => Extended::None,
    })
}
