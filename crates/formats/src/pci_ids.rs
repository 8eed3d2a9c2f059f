//! The hwdata / pciutils `pci.ids` database (plain text, format described at its top).
//!
//! Names are for people only: boardproof never uses a name as identity, because a counterfeit
//! part can carry any IDs it likes and the database can be out of date. Lookups follow
//! libpci's rules so that the names match what `lspci` prints.

use std::ops::Range;

/// `pci.ids` text with an index of its top-level entries.
///
/// Only vendor and class lines are indexed when the file is opened; devices and subsystems
/// are found by scanning the one vendor block a lookup needs. A server has tens of PCI
/// functions, the file has ~40,000 lines: parsing every line into maps cost `collect` more
/// than all of its real work (80 of 90 million instructions).
#[derive(Debug, Default, Clone)]
pub struct PciIds {
    text: String,
    /// Vendor id and the byte range of its block (the vendor line to the next top-level line).
    vendors: Vec<(u16, Range<usize>)>,
    /// Class code and the byte range of its block.
    classes: Vec<(u8, Range<usize>)>,
}

fn hex16(s: &str) -> Option<u16> {
    u16::from_str_radix(s, 16).ok()
}

fn hex8(s: &str) -> Option<u8> {
    u8::from_str_radix(s, 16).ok()
}

/// Splits "xxxx  name" into its id and the name.
fn id_and_name(line: &str) -> Option<(&str, &str)> {
    let (id, name) = line.split_once("  ")?;
    Some((id.trim(), name.trim()))
}

/// Lines of `block` (after its first line) indented by exactly `tabs` tabs, stopping at the
/// first line indented less (the end of the entry they belong to).
fn children(block: &str, tabs: usize) -> impl Iterator<Item = &str> {
    block
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| (l.bytes().take_while(|b| *b == b'\t').count(), l))
        .take_while(move |(n, _)| *n >= tabs)
        .filter(move |(n, _)| *n == tabs)
        .filter_map(move |(_, l)| l.get(tabs..))
}

impl PciIds {
    /// Indexes the database text. Malformed lines are skipped: the file is display data, and
    /// a bad line must cost only its own name.
    pub fn parse(text: &str) -> Self {
        Self::from_text(text.to_owned())
    }

    /// [`PciIds::parse`] without copying the text.
    pub fn from_text(text: String) -> Self {
        let mut db = PciIds::default();
        // (is class, id, start of block)
        let mut tops: Vec<(bool, u16, usize)> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut offset: usize = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset = offset.saturating_add(line.len());
            match line.as_bytes().first() {
                None | Some(b'\t' | b'#' | b'\n' | b'\r') => continue,
                Some(_) => {}
            }
            ends.push(start);
            let top = match line.strip_prefix("C ") {
                Some(rest) => id_and_name(rest)
                    .and_then(|(id, _)| hex8(id))
                    .map(|c| (true, u16::from(c))),
                None => id_and_name(line)
                    .and_then(|(id, _)| hex16(id))
                    .map(|v| (false, v)),
            };
            // A malformed top-level line still ends the block before it.
            tops.push(top.map_or((false, 0, usize::MAX), |(c, id)| (c, id, start)));
        }
        ends.push(text.len());
        for (i, (is_class, id, start)) in tops.into_iter().enumerate() {
            if start == usize::MAX {
                continue;
            }
            let end = ends.get(i.saturating_add(1)).copied().unwrap_or(text.len());
            if is_class {
                if let Ok(c) = u8::try_from(id) {
                    db.classes.push((c, start..end));
                }
            } else {
                db.vendors.push((id, start..end));
            }
        }
        // Stable sort: a repeated id keeps its first entry first, and lookups take the first.
        db.vendors.sort_by_key(|(v, _)| *v);
        db.classes.sort_by_key(|(c, _)| *c);
        db.text = text;
        db
    }

    fn block<T: Ord + Copy>(&self, list: &[(T, Range<usize>)], id: T) -> Option<&str> {
        let i = list.partition_point(|(k, _)| *k < id);
        let (k, range) = list.get(i)?;
        if *k != id {
            return None;
        }
        self.text.get(range.clone())
    }

    /// The device line and block under a vendor.
    fn device_block(&self, vendor: u16, device: u16) -> Option<(&str, &str)> {
        let block = self.block(&self.vendors, vendor)?;
        let (start, line) = block
            .split_inclusive('\n')
            .scan(0usize, |off, l| {
                let at = *off;
                *off = off.saturating_add(l.len());
                Some((at, l))
            })
            .skip(1)
            .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
            .take_while(|(_, l)| l.starts_with('\t'))
            .find(|(_, l)| {
                !l.starts_with("\t\t")
                    && id_and_name(l.trim_start_matches('\t')).and_then(|(id, _)| hex16(id))
                        == Some(device)
            })?;
        let name = id_and_name(line.trim_start_matches('\t'))?.1;
        Some((name, block.get(start..)?))
    }

    /// Vendor name.
    pub fn vendor(&self, vendor: u16) -> Option<&str> {
        let block = self.block(&self.vendors, vendor)?;
        id_and_name(block.lines().next()?).map(|(_, n)| n)
    }

    /// Device name.
    pub fn device(&self, vendor: u16, device: u16) -> Option<&str> {
        self.device_block(vendor, device).map(|(name, _)| name)
    }

    /// Subsystem name as libpci gives it: the subsystem entry under the device, else the device
    /// name when the subsystem IDs repeat the device IDs.
    pub fn subsystem(&self, vendor: u16, device: u16, sv: u16, sd: u16) -> Option<&str> {
        let dev = self.device_block(vendor, device);
        let listed = dev.and_then(|(_, block)| {
            children(block, 2).find_map(|l| {
                let (ids, name) = id_and_name(l)?;
                let (a, b) = ids.split_once(' ')?;
                (hex16(a)? == sv && hex16(b)? == sd).then_some(name)
            })
        });
        if listed.is_some() {
            return listed;
        }
        if sv == vendor && sd == device {
            return dev.map(|(name, _)| name);
        }
        None
    }

    /// Class name for the 24-bit class code: the subclass name, else the base class name.
    pub fn class(&self, class_code: u32) -> Option<&str> {
        let base = u8::try_from((class_code >> 16) & 0xFF).ok()?;
        let sub = u8::try_from((class_code >> 8) & 0xFF).ok()?;
        let block = self.block(&self.classes, base)?;
        let base_name = id_and_name(block.lines().next()?.get(2..)?)?.1;
        Some(
            children(block, 1)
                .find_map(|l| {
                    let (id, name) = id_and_name(l)?;
                    (hex8(id)? == sub).then_some(name)
                })
                .unwrap_or(base_name),
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
    fn lookups_stay_inside_their_entry() {
        let db = PciIds::parse(
            "1000  A\n\t0001  Dev one\n\t0002  Dev two\n\t\t1000 0009  Two's sub\n\
             # comment inside\n2000  B\n\t0003  Dev three\n1000  A again\n\t0004  Late\n",
        );
        assert_eq!(db.subsystem(0x1000, 0x0001, 0x1000, 0x0009), None);
        assert_eq!(
            db.subsystem(0x1000, 0x0002, 0x1000, 0x0009),
            Some("Two's sub")
        );
        assert_eq!(db.device(0x1000, 0x0003), None);
        assert_eq!(db.device(0x2000, 0x0003), Some("Dev three"));
        // A repeated vendor: the first entry is the one used.
        assert_eq!(db.vendor(0x1000), Some("A"));
        assert_eq!(db.device(0x1000, 0x0004), None);
    }

    #[test]
    fn garbage_lines_cost_only_themselves() {
        let db = PciIds::parse("zzzz  bad\n\tqq\n1234  Good\n\t\tbroken\n");
        assert_eq!(db.vendor(0x1234), Some("Good"));
        assert_eq!(db.vendor_count(), 1);
    }
}
