//! The hwdata / pciutils `pci.ids` database (plain text, format described at its top).
//!
//! Names are for people only: boardproof never uses a name as identity, because a counterfeit
//! part can carry any IDs it likes and the database can be out of date. Lookups follow
//! libpci's rules so that the names match what `lspci` prints.

use std::collections::HashMap;

/// A parsed `pci.ids`.
#[derive(Debug, Default, Clone)]
pub struct PciIds {
    vendors: HashMap<u16, Vendor>,
    classes: HashMap<u8, Class>,
}

#[derive(Debug, Default, Clone)]
struct Vendor {
    name: String,
    devices: HashMap<u16, Device>,
}

#[derive(Debug, Default, Clone)]
struct Device {
    name: String,
    subsystems: HashMap<(u16, u16), String>,
}

#[derive(Debug, Default, Clone)]
struct Class {
    name: String,
    subclasses: HashMap<u8, String>,
}

fn hex16(s: &str) -> Option<u16> {
    u16::from_str_radix(s, 16).ok()
}

/// Splits "xxxx  name" into its id and the name.
fn id_and_name(line: &str) -> Option<(&str, &str)> {
    let (id, name) = line.split_once("  ")?;
    Some((id.trim(), name.trim()))
}

impl PciIds {
    /// Parses the database text. Malformed lines are skipped: the file is display data, and
    /// a bad line must cost only its own name.
    pub fn parse(text: &str) -> Self {
        enum Ctx {
            None,
            Vendor(u16),
            Device(u16, u16),
            Class(u8),
        }
        let mut db = PciIds::default();
        let mut ctx = Ctx::None;
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let tabs = line.bytes().take_while(|b| *b == b'\t').count();
            let body = line.get(tabs..).unwrap_or("");
            match tabs {
                0 => {
                    if let Some(rest) = body.strip_prefix("C ") {
                        ctx = match id_and_name(rest)
                            .and_then(|(id, n)| u8::from_str_radix(id, 16).ok().map(|c| (c, n)))
                        {
                            Some((c, name)) => {
                                db.classes.insert(
                                    c,
                                    Class {
                                        name: name.to_owned(),
                                        subclasses: HashMap::new(),
                                    },
                                );
                                Ctx::Class(c)
                            }
                            None => Ctx::None,
                        };
                    } else if let Some((v, name)) =
                        id_and_name(body).and_then(|(id, n)| hex16(id).map(|v| (v, n)))
                    {
                        db.vendors.insert(
                            v,
                            Vendor {
                                name: name.to_owned(),
                                devices: HashMap::new(),
                            },
                        );
                        ctx = Ctx::Vendor(v);
                    } else {
                        ctx = Ctx::None;
                    }
                }
                1 => match ctx {
                    Ctx::Vendor(v) | Ctx::Device(v, _) => {
                        if let Some((d, name)) =
                            id_and_name(body).and_then(|(id, n)| hex16(id).map(|d| (d, n)))
                        {
                            if let Some(vendor) = db.vendors.get_mut(&v) {
                                vendor.devices.insert(
                                    d,
                                    Device {
                                        name: name.to_owned(),
                                        subsystems: HashMap::new(),
                                    },
                                );
                            }
                            ctx = Ctx::Device(v, d);
                        }
                    }
                    Ctx::Class(c) => {
                        if let Some((s, name)) = id_and_name(body)
                            .and_then(|(id, n)| u8::from_str_radix(id, 16).ok().map(|s| (s, n)))
                        {
                            if let Some(class) = db.classes.get_mut(&c) {
                                class.subclasses.insert(s, name.to_owned());
                            }
                        }
                    }
                    Ctx::None => {}
                },
                2 => {
                    if let Ctx::Device(v, d) = ctx {
                        let parsed = id_and_name(body).and_then(|(ids, name)| {
                            let (sv, sd) = ids.split_once(' ')?;
                            Some((hex16(sv)?, hex16(sd)?, name))
                        });
                        if let Some((sv, sd, name)) = parsed {
                            if let Some(dev) = db
                                .vendors
                                .get_mut(&v)
                                .and_then(|vendor| vendor.devices.get_mut(&d))
                            {
                                dev.subsystems.insert((sv, sd), name.to_owned());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        db
    }

    /// Vendor name.
    pub fn vendor(&self, vendor: u16) -> Option<&str> {
        self.vendors.get(&vendor).map(|v| v.name.as_str())
    }

    /// Device name.
    pub fn device(&self, vendor: u16, device: u16) -> Option<&str> {
        self.vendors
            .get(&vendor)?
            .devices
            .get(&device)
            .map(|d| d.name.as_str())
    }

    /// Subsystem name as libpci gives it: the subsystem entry under the device, else the device
    /// name when the subsystem IDs repeat the device IDs.
    pub fn subsystem(&self, vendor: u16, device: u16, sv: u16, sd: u16) -> Option<&str> {
        let dev = self.vendors.get(&vendor)?.devices.get(&device);
        if let Some(name) = dev.and_then(|d| d.subsystems.get(&(sv, sd))) {
            return Some(name.as_str());
        }
        if sv == vendor && sd == device {
            return dev.map(|d| d.name.as_str());
        }
        None
    }

    /// Class name for the 24-bit class code: the subclass name, else the base class name.
    pub fn class(&self, class_code: u32) -> Option<&str> {
        let base = u8::try_from((class_code >> 16) & 0xFF).ok()?;
        let sub = u8::try_from((class_code >> 8) & 0xFF).ok()?;
        let class = self.classes.get(&base)?;
        Some(
            class
                .subclasses
                .get(&sub)
                .map(String::as_str)
                .unwrap_or(class.name.as_str()),
        )
    }

    /// Number of vendors known.
    pub fn vendor_count(&self) -> usize {
        self.vendors.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# comment\n\
1af4  Red Hat, Inc.\n\
\t1041  Virtio 1.0 network device\n\
\t\t1af4 1100  QEMU Virtual Machine\n\
8086  Intel Corporation\n\
C 02  Network controller\n\
\t00  Ethernet controller\n\
C ff  Unassigned class\n";

    #[test]
    fn lookups_follow_libpci() {
        let db = PciIds::parse(SAMPLE);
        assert_eq!(db.vendor(0x1af4), Some("Red Hat, Inc."));
        assert_eq!(db.device(0x1af4, 0x1041), Some("Virtio 1.0 network device"));
        assert_eq!(
            db.subsystem(0x1af4, 0x1041, 0x1af4, 0x1100),
            Some("QEMU Virtual Machine")
        );
        assert_eq!(
            db.subsystem(0x1af4, 0x1041, 0x1af4, 0x1041),
            Some("Virtio 1.0 network device")
        );
        assert_eq!(db.subsystem(0x1af4, 0x1041, 0x1234, 0x1), None);
        assert_eq!(db.device(0x8086, 0x0d57), None);
        assert_eq!(db.class(0x020000), Some("Ethernet controller"));
        assert_eq!(db.class(0xffff00), Some("Unassigned class"));
        assert_eq!(db.class(0x990000), None);
    }

    #[test]
    fn garbage_lines_cost_only_themselves() {
        let db = PciIds::parse("zzzz  bad\n\tqq\n1234  Good\n\t\tbroken\n");
        assert_eq!(db.vendor(0x1234), Some("Good"));
        assert_eq!(db.vendor_count(), 1);
    }
}
