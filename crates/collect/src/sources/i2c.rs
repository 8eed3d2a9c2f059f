//! I2C / SMBus clients the kernel knows about, from sys/bus/i2c/devices.

use std::collections::BTreeMap;
use std::path::Path;

use boardproof_evidence::{Component, ComponentClass, Inventory};

use crate::fsutil::{attr, link_name, list_dir, under};
use crate::{Error, SourceOutput};

/// Always said, because it is the limit of this source.
pub const NOT_ENUMERABLE: &str = "Linux lists only I2C clients it was told about (ACPI, device \
tree, drivers); a chip added on an SMBus/I2C bus that nothing declared does not appear here";

pub fn collect(root: &Path, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    let dir = under(root, "sys/bus/i2c/devices");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: the kernel has no I2C core loaded, so no SMBus/I2C bus is visible",
            dir.display()
        )));
    }
    let mut out = SourceOutput {
        notes: vec![NOT_ENUMERABLE.to_owned()],
        ..SourceOutput::default()
    };
    let names = list_dir(&dir)?;
    let adapters = names.iter().filter(|n| n.starts_with("i2c-")).count();
    out.notes.push(format!("{adapters} adapters"));
    for name in names {
        // Clients are "<adapter>-<4 hex digit address>".
        let Some((bus, addr)) = name.split_once('-') else {
            continue;
        };
        if bus == "i2c" || addr.len() != 4 {
            continue;
        }
        let dev = dir.join(&name);
        let adapter_name = attr(&dir.join(format!("i2c-{bus}")).join("name"))
            .unwrap_or_else(|| format!("i2c-{bus}"));
        let address = u16::from_str_radix(addr, 16)
            .map_or_else(|_| addr.to_owned(), |a| format!("0x{a:02x}"));
        let client = attr(&dev.join("name")).unwrap_or_default();
        let identity = BTreeMap::from([
            ("adapter".to_owned(), adapter_name.clone()),
            ("address".to_owned(), address.clone()),
            ("name".to_owned(), client.clone()),
        ]);
        let mut attributes = BTreeMap::from([("sysfs_name".to_owned(), name.clone())]);
        if let Some(d) = link_name(&dev.join("driver")) {
            attributes.insert("driver".into(), d);
        }
        inv.components.push(Component {
            class: ComponentClass::I2c,
            identity,
            location: format!("{adapter_name}@{address}"),
            description: Some(client),
            attributes,
        });
        out.items += 1;
    }
    Ok(out)
}
