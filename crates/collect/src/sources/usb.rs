//! USB devices from sys/bus/usb/devices (interfaces, named `bus-port:config.intf`, are skipped:
//! they belong to their device).

use std::collections::BTreeMap;
use std::path::Path;

use boardproof_evidence::{Component, ComponentClass, Inventory};

use super::pci_location;
use crate::fsutil::{attr, device_path, link_name, list_dir, under};
use crate::{Error, SourceOutput};

/// Vendor id of the Linux Foundation, used by the kernel's root hubs; their bcdDevice and
/// strings carry the kernel version, so only their ids are identity.
const LINUX_ROOT_HUB_VENDOR: &str = "1d6b";

pub fn collect(root: &Path, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    let dir = under(root, "sys/bus/usb/devices");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: no USB controller on this machine (or the kernel lacks USB support)",
            dir.display()
        )));
    }
    let mut out = SourceOutput::default();
    for name in list_dir(&dir)? {
        if name.contains(':') {
            continue;
        }
        let dev = dir.join(&name);
        let Some(vendor) = attr(&dev.join("idVendor")) else {
            out.notes.push(format!("{name}: no idVendor, skipped"));
            continue;
        };
        let product = attr(&dev.join("idProduct")).unwrap_or_default();
        let root_hub = vendor == LINUX_ROOT_HUB_VENDOR;
        let mut identity = BTreeMap::from([
            ("vendor".to_owned(), vendor.clone()),
            ("product".to_owned(), product),
        ]);
        if !root_hub {
            for (k, f) in [("bcd_device", "bcdDevice"), ("serial", "serial")] {
                if let Some(v) = attr(&dev.join(f)) {
                    identity.insert(k.into(), v);
                }
            }
        }
        // Location: the controller's PCI location, the root hub's speed (xHCI has a USB 2 and a
        // USB 3 root hub) and the port chain; bus numbers are left out.
        let comps = device_path(root, &dev).unwrap_or_else(|| vec![name.clone()]);
        let (pci_loc, used) = pci_location(&comps);
        let hub = comps.get(used).cloned().unwrap_or_default();
        let hub_speed = comps
            .get(..used.saturating_add(1))
            .map(|c| root.join("sys/devices").join(c.join("/")))
            .and_then(|p| attr(&p.join("speed")))
            .unwrap_or_else(|| hub.clone());
        let ports = if root_hub && name.starts_with("usb") {
            "root".to_owned()
        } else {
            name.split_once('-')
                .map_or(name.clone(), |(_, p)| p.to_owned())
        };
        let location = format!("{pci_loc}/usb{hub_speed}/{ports}");
        let mut attributes = BTreeMap::from([("sysfs_name".to_owned(), name.clone())]);
        for (k, f) in [
            ("manufacturer", "manufacturer"),
            ("product_name", "product"),
        ] {
            if let Some(v) = attr(&dev.join(f)) {
                attributes.insert(k.into(), v);
            }
        }
        if let Some(d) = link_name(&dev.join("driver")) {
            attributes.insert("driver".into(), d);
        }
        let description = match (
            attributes.get("manufacturer"),
            attributes.get("product_name"),
        ) {
            (Some(m), Some(p)) => Some(format!("{m} {p}")),
            (None, Some(p)) => Some(p.clone()),
            _ => None,
        };
        inv.components.push(Component {
            class: ComponentClass::Usb,
            identity,
            location,
            description,
            attributes,
        });
        out.items += 1;
    }
    Ok(out)
}
