//! PCI option ROMs from `sys/bus/pci/devices/*/rom`.
//!
//! The kernel only returns a ROM's bytes after `1` is written to that file, which turns on the
//! device's ROM address decoding until `0` is written back; it then reads the images the ROM
//! announces (pci_map_rom), not the whole BAR. That write touches the device, so this source
//! runs only when asked (`--option-roms`): on some devices ROM decoding shares an address
//! decoder with a memory BAR, and a driver using the device at that moment could misbehave.
//! Below a snapshot root the `rom` files are plain files and are read as they are.

use std::io::{ErrorKind as IoKind, Write};
use std::path::Path;

use boardproof_evidence::{Inventory, OptionRom, OptionRomImage};
use boardproof_formats::pci_rom;

use super::pci_location;
use crate::fsutil::{device_path, hex_attr, list_dir, under};
use crate::{read_capped, Error, SourceOutput};

/// Reads every device's ROM when `enabled`.
pub fn collect(root: &Path, enabled: bool, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    if !enabled {
        return Err(Error::Unavailable(
            "not read: option ROMs are read only when asked for (reading turns on each \
             device's ROM decoding for a moment; see docs/evidence.md)"
                .into(),
        ));
    }
    let dir = under(root, "sys/bus/pci/devices");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: no PCI bus on this machine, or sysfs is not mounted",
            dir.display()
        )));
    }
    let mut out = SourceOutput::default();
    let mut denied = 0usize;
    for name in list_dir(&dir)? {
        let dev = dir.join(&name);
        let rom_path = dev.join("rom");
        if !rom_path.exists() {
            continue;
        }
        let bytes = match read_rom(&rom_path) {
            Ok(b) if b.is_empty() => {
                out.notes.push(format!(
                    "{name}: ROM BAR present, the kernel read no image from it"
                ));
                continue;
            }
            Ok(b) => b,
            Err(e) if e.kind() == IoKind::PermissionDenied => {
                denied = denied.saturating_add(1);
                continue;
            }
            // No valid ROM behind the BAR (the kernel checks the 55 AA signature): nothing to
            // hash, said so.
            Err(e) => {
                out.notes
                    .push(format!("{name}: ROM BAR present but not readable: {e}"));
                continue;
            }
        };
        let comps = device_path(root, &dev).unwrap_or_else(|| vec![name.clone()]);
        let (location, _) = pci_location(&comps);
        let id =
            |attr: &str| hex_attr(&dev.join(attr)).map_or("????".into(), |v| format!("{v:04x}"));
        inv.option_roms.push(describe(
            location,
            format!("{}:{}", id("vendor"), id("device")),
            name,
            &bytes,
        ));
        out.items = out.items.saturating_add(1);
    }
    if denied > 0 && out.items == 0 {
        return Err(Error::Unavailable(format!(
            "{denied} option ROMs not readable (not root)"
        )));
    }
    if denied > 0 {
        out.notes
            .push(format!("{denied} option ROMs not readable (not root)"));
    }
    Ok(out)
}

/// Reads a sysfs `rom` file, enabling it first when the kernel asks for that (EINVAL), and
/// disabling it again whatever the read gave.
fn read_rom(path: &Path) -> std::io::Result<Vec<u8>> {
    match read_all(path) {
        Err(e) if e.raw_os_error() == Some(22) => {
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)?
                .write_all(b"1")?;
            let read = read_all(path);
            let off = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|mut f| f.write_all(b"0"));
            let bytes = read?;
            off?;
            Ok(bytes)
        }
        other => other,
    }
}

/// The crate's capped read, keeping the OS error the caller tells EINVAL and EACCES by.
fn read_all(path: &Path) -> std::io::Result<Vec<u8>> {
    read_capped(path).map_err(|e| match e {
        Error::Io { source, .. } | Error::Input(boardproof_input::Error::Io { os: source, .. }) => {
            source
        }
        other => std::io::Error::other(other.to_string()),
    })
}

/// The evidence record of one ROM's bytes.
pub fn describe(location: String, device: String, address: String, bytes: &[u8]) -> OptionRom {
    let sha256 = hex::encode(boardproof_formats::uefi::sha256_of(bytes));
    let (images, trailing, error) = match pci_rom::parse(bytes) {
        Ok(rom) => (
            rom.images.iter().map(image).collect(),
            rom.trailing.map(|t| {
                format!(
                    "{} bytes {} sha256={}",
                    t.size,
                    if t.empty { "erased" } else { "holding data" },
                    hex::encode(t.sha256)
                )
            }),
            None,
        ),
        Err(e) => (Vec::new(), None, Some(e.to_string())),
    };
    OptionRom {
        location,
        device,
        address,
        size: bytes.len() as u64,
        sha256,
        images,
        trailing,
        error,
    }
}

fn image(i: &pci_rom::RomImage) -> OptionRomImage {
    OptionRomImage {
        offset: i.offset as u64,
        length: i.length as u64,
        code_type: i.code_type_name(),
        pci_id: format!("{:04x}:{:04x}", i.vendor, i.device),
        class_code: format!("{:06x}", i.class_code),
        code_revision: i.code_revision,
        efi: i.efi.as_ref().map(|e| {
            format!(
                "{} subsystem {}{}",
                pci_rom::machine_name(e.machine),
                e.subsystem,
                if e.compressed { ", compressed" } else { "" }
            )
        }),
        driver_sha256: i.efi.as_ref().map(|e| match &e.driver {
            Ok((_, d)) => hex::encode(d),
            Err(why) => format!("not read: {why}"),
        }),
        sha256: hex::encode(i.sha256),
    }
}
