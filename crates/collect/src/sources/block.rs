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
        if let Some(s) = first(&["serial", "device/serial"]).or_else(|| vpd_serial(&blk)) {
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

/// The unit serial number from SCSI VPD page 0x80 (`device/vpd_pg80`), which is where SATA and
/// SAS disks expose it (libata translates the ATA IDENTIFY serial into this page).
fn vpd_serial(blk: &Path) -> Option<String> {
    let bytes = std::fs::read(blk.join("device/vpd_pg80")).ok()?;
    parse_vpd_pg80(&bytes)
}

/// Page 0x80: byte 1 is the page code, bytes 2-3 the big-endian length of the serial.
pub fn parse_vpd_pg80(bytes: &[u8]) -> Option<String> {
    if bytes.get(1) != Some(&0x80) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]));
    let serial = bytes.get(4..4usize.checked_add(len)?)?;
    let text: String = String::from_utf8_lossy(serial)
        .trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .to_owned();
    (!text.is_empty() && text.chars().all(|c| c.is_ascii_graphic() || c == ' ')).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpd_page_80() {
        let mut p = vec![0x00, 0x80, 0x00, 0x14];
        p.extend_from_slice(b"      S45PNA0M123456");
        assert_eq!(parse_vpd_pg80(&p).as_deref(), Some("S45PNA0M123456"));
        assert_eq!(parse_vpd_pg80(&p[..10]), None, "truncated");
        assert_eq!(
            parse_vpd_pg80(&[0x00, 0x83, 0x00, 0x01, b'x']),
            None,
            "other page"
        );
        assert_eq!(
            parse_vpd_pg80(&[0x00, 0x80, 0x00, 0x02, b' ', 0]),
            None,
            "blank"
        );
        assert_eq!(
            parse_vpd_pg80(&[0x00, 0x80, 0x00, 0x01, 0x07]),
            None,
            "not text"
        );
        assert_eq!(parse_vpd_pg80(&[]), None);
    }
}
