//! Physical block devices from sys/block (virtual ones, without a `device` link, are noted).

use std::collections::BTreeMap;
use std::path::Path;

use boardproof_evidence::{Component, ComponentClass, Inventory};

use super::pci_location;
use crate::fsutil::{attr, device_path, list_dir, under};
use crate::{Error, SourceOutput};

pub fn collect(root: &Path, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    let dir = under(root, "sys/block");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist",
            dir.display()
        )));
    }
    let mut out = SourceOutput::default();
    let mut virtual_devs = Vec::new();
    for name in list_dir(&dir)? {
        let blk = dir.join(&name);
        let dev = blk.join("device");
        if !dev.exists() {
            virtual_devs.push(name);
            continue;
        }
        let mut identity = BTreeMap::new();
        let first = |paths: &[&str]| paths.iter().find_map(|p| attr(&blk.join(p)));
        if let Some(m) = first(&["device/model"]) {
            identity.insert("model".into(), m);
        }
        if let Some(s) = first(&["serial", "device/serial"]) {
            identity.insert("serial".into(), s);
        }
        if let Some(w) = first(&["wwid", "device/wwid"]) {
            identity.insert("wwn".into(), w);
        }
        if let Some(v) = first(&["device/vendor"]) {
            identity.insert("vendor".into(), v);
        }
        if let Some(sectors) = attr(&blk.join("size")).and_then(|s| s.parse::<u64>().ok()) {
            identity.insert("size_bytes".into(), sectors.saturating_mul(512).to_string());
        }
        if !identity.contains_key("serial") && !identity.contains_key("wwn") {
            out.notes.push(format!(
                "{name}: no serial number or WWN exposed; matched by model and size"
            ));
        }
        let comps = device_path(root, &blk).unwrap_or_default();
        let (pci_loc, used) = pci_location(&comps);
        // After the controller: keep port-like names (ata3), drop enumeration counters.
        let port = comps
            .get(used..)
            .unwrap_or(&[])
            .iter()
            .find(|c| c.starts_with("ata"))
            .cloned();
        let location = match port {
            Some(p) => format!("{pci_loc}/{p}/{name}"),
            None => format!("{pci_loc}/{name}"),
        };
        inv.components.push(Component {
            class: ComponentClass::Block,
            identity,
            location,
            description: first(&["device/model"]),
            attributes: BTreeMap::from([("name".to_owned(), name.clone())]),
        });
        out.items += 1;
    }
    if !virtual_devs.is_empty() {
        out.notes.push(format!(
            "virtual block devices not recorded: {}",
            virtual_devs.join(", ")
        ));
    }
    Ok(out)
}
