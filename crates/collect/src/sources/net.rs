//! Physical network interfaces from sys/class/net.

use std::collections::BTreeMap;
use std::path::Path;

use boardproof_evidence::{Component, ComponentClass, Inventory};

use super::pci_location;
use crate::fsutil::{attr, device_path, hex_attr, link_name, list_dir, under};
use crate::{Error, SourceOutput};

/// `addr_assign_type` 0 (NET_ADDR_PERM): the address is the one burnt into the device.
const NET_ADDR_PERM: &str = "0";

pub fn collect(root: &Path, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    let dir = under(root, "sys/class/net");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist",
            dir.display()
        )));
    }
    let mut out = SourceOutput::default();
    let mut virtual_ifs = Vec::new();
    for name in list_dir(&dir)? {
        let nic = dir.join(&name);
        let dev = nic.join("device");
        if !dev.exists() {
            virtual_ifs.push(name);
            continue;
        }
        let mut identity = BTreeMap::new();
        let mac = attr(&nic.join("address"));
        match attr(&nic.join("addr_assign_type")).as_deref() {
            Some(NET_ADDR_PERM) => {
                if let Some(m) = mac.clone() {
                    identity.insert("permanent_mac".into(), m);
                }
            }
            other => out.notes.push(format!(
                "{name}: address set by software (addr_assign_type {}); the permanent MAC is not \
                 in sysfs, so it is not part of identity",
                other.unwrap_or("unknown")
            )),
        }
        let comps = device_path(root, &dev).unwrap_or_default();
        let (pci_loc, _) = pci_location(&comps);
        // The ids of the function the interface sits on (a virtio device's parent for virtio).
        let pci_dev = comps
            .iter()
            .rposition(|c| super::is_pci_address(c))
            .and_then(|i| comps.get(..=i))
            .map(|c| root.join("sys/devices").join(c.join("/")));
        if let Some(p) = &pci_dev {
            if let (Some(v), Some(d)) = (hex_attr(&p.join("vendor")), hex_attr(&p.join("device"))) {
                identity.insert("pci_id".into(), format!("{v:04x}:{d:04x}"));
            }
        }
        let port = attr(&nic.join("dev_port")).unwrap_or_else(|| "0".into());
        let mut attributes = BTreeMap::from([("name".to_owned(), name.clone())]);
        if let Some(m) = mac {
            attributes.insert("address".into(), m);
        }
        if let Some(d) = link_name(&dev.join("driver")) {
            attributes.insert("driver".into(), d);
        }
        inv.components.push(Component {
            class: ComponentClass::Nic,
            identity,
            location: format!("{pci_loc}/port{port}"),
            description: Some(name.clone()),
            attributes,
        });
        out.items += 1;
    }
    if !virtual_ifs.is_empty() {
        out.notes.push(format!(
            "virtual interfaces not recorded: {}",
            virtual_ifs.join(", ")
        ));
    }
    Ok(out)
}
