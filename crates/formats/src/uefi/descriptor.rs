//! The Intel flash descriptor: the first 4 KiB of an Intel platform's SPI flash, which splits
//! the chip into regions — the descriptor itself, BIOS (the UEFI volumes), the ME/CSME
//! firmware, the GbE NIC's settings, platform data, the EC, and more on newer chipsets.
//!
//! Layout as Intel's public datasheets give it (FLMAP0 at 0x14: component and region section
//! bases; FLREG*n* in the region section: base and limit in 4 KiB units, a limit of zero for an
//! unused region) and as UEFITool reads it: descriptor version 1 (a 20 MHz read clock in the
//! component section) knows regions 0-6, version 2 (Skylake and later) regions 0-15. Regions
//! are sorted by offset; the bytes between them are gaps. A region that overlaps another or the
//! descriptor, or lies outside the image, is an error naming it.
//!
//! Only the BIOS region holds UEFI volumes; every other region is hashed whole, since its
//! formats (ME partitions, GbE NVM, EC code) are the vendors'.

use super::{parse_at, region, Budget, Region, TopItem};
use crate::error::{ErrorKind, ParseError};
use crate::reader::{le16_at, le32_at};

/// The descriptor's signature, at offset 0x10.
pub const SIGNATURE: u32 = 0x0ff0_a55a;
/// The descriptor region's size.
pub const DESCRIPTOR_SIZE: usize = 0x1000;
/// Section bases above this are not in the descriptor (UEFITool's bound).
const MAX_BASE: u8 = 0xe0;

/// One region of an Intel flash image.
#[derive(Debug, Clone)]
pub struct FlashRegion {
    /// FLREG index: 0 descriptor, 1 BIOS, 2 ME, 3 GbE, 4 PDR, …
    pub index: u8,
    /// Offset and bytes, hashed.
    pub region: Region,
    /// For the BIOS region: its volumes and gaps (absolute offsets). Empty otherwise, or when
    /// the BIOS region holds no volume.
    pub items: Vec<TopItem>,
}

impl FlashRegion {
    /// The region's name, as Intel and UEFITool call it.
    pub fn name(&self) -> &'static str {
        region_name(self.index)
    }
}

/// The name of FLREG `i`.
pub fn region_name(i: u8) -> &'static str {
    match i {
        0 => "Descriptor",
        1 => "BIOS",
        2 => "ME",
        3 => "GbE",
        4 => "PDR",
        5 => "DevExp1",
        6 => "BIOS2",
        7 => "Microcode",
        8 => "EC",
        9 => "DevExp2",
        10 => "IE",
        11 => "10GbE1",
        12 => "10GbE2",
        13 => "Reserved1",
        14 => "Reserved2",
        15 => "PTT",
        _ => "unknown",
    }
}

/// Whether `bytes` start with an Intel flash descriptor.
pub fn present(bytes: &[u8]) -> bool {
    bytes.len() >= DESCRIPTOR_SIZE && le32_at(bytes, 0x10) == Some(SIGNATURE)
}

/// The regions and the gaps between them, in image order.
pub(crate) fn parse(bytes: &[u8], budget: &mut Budget) -> Result<Vec<TopItem>, ParseError> {
    let byte = |at: usize, field: &'static str| {
        bytes
            .get(at)
            .copied()
            .ok_or_else(|| ParseError::at(at, field, ErrorKind::Truncated))
    };
    let component_base = byte(0x14, "FLMAP0 component base")?;
    let region_base = byte(0x16, "FLMAP0 region base")?;
    let master_base = byte(0x18, "FLMAP1 master base")?;
    if master_base > MAX_BASE || master_base == region_base || master_base == component_base {
        return Err(ParseError::at(
            0x18,
            "FLMAP1 master base",
            ErrorKind::Invalid("out of the descriptor"),
        ));
    }
    if region_base > MAX_BASE || region_base == component_base {
        return Err(ParseError::at(
            0x16,
            "FLMAP0 region base",
            ErrorKind::Invalid("out of the descriptor"),
        ));
    }
    if component_base > MAX_BASE {
        return Err(ParseError::at(
            0x14,
            "FLMAP0 component base",
            ErrorKind::Invalid("out of the descriptor"),
        ));
    }
    let fcba = usize::from(component_base) << 4;
    let frba = usize::from(region_base) << 4;
    // FLCOMP bits 19:17: the read clock; 20 MHz (0) only in version 1 descriptors.
    let clock = (byte(fcba.saturating_add(2), "FLCOMP read clock")? >> 1) & 0x7;
    let count: u8 = if clock == 0 { 7 } else { 16 };
    let mut found: Vec<(u8, usize, usize)> = Vec::new();
    for i in 1..count {
        let at = frba.saturating_add(usize::from(i).saturating_mul(4));
        let base = le16_at(bytes, at)
            .ok_or_else(|| ParseError::at(at, "FLREG base", ErrorKind::Truncated))?;
        let limit = le16_at(bytes, at.saturating_add(2)).ok_or_else(|| {
            ParseError::at(at.saturating_add(2), "FLREG limit", ErrorKind::Truncated)
        })?;
        // Region 0 is the descriptor: always the first 4 KiB, whatever its FLREG says.
        if limit == 0 || (base == 0xffff && limit == 0xffff) || limit < base {
            continue;
        }
        let size = usize::from(limit)
            .saturating_add(1)
            .saturating_sub(usize::from(base))
            << 12;
        found.push((i, usize::from(base) << 12, size));
    }
    // Gigabyte's descriptors give the BIOS region as the whole chip: it starts where the ME
    // region ends (UEFITool's reading).
    let me_end = found
        .iter()
        .find(|(i, _, _)| *i == 2)
        .map(|(_, o, s)| o.saturating_add(*s));
    if let Some(bios) = found
        .iter_mut()
        .find(|(i, _, s)| *i == 1 && *s == bytes.len())
    {
        let end = me_end.ok_or_else(|| {
            ParseError::at(
                frba.saturating_add(4),
                "FLREG1 (BIOS)",
                ErrorKind::Invalid("whole-chip BIOS region without an ME region"),
            )
        })?;
        bios.1 = end;
        bios.2 = bytes.len().saturating_sub(end);
    }
    if !found.iter().any(|(i, _, _)| *i == 1) {
        return Err(ParseError::at(
            frba.saturating_add(4),
            "FLREG1 (BIOS)",
            ErrorKind::Invalid("no BIOS region"),
        ));
    }
    found.sort_by_key(|(_, o, _)| *o);
    let mut items = vec![TopItem::Region(FlashRegion {
        index: 0,
        region: region(bytes, 0, DESCRIPTOR_SIZE, 0xff),
        items: Vec::new(),
    })];
    let mut pos = DESCRIPTOR_SIZE;
    for (i, offset, size) in found {
        let field = "flash region (overlaps the one before it)";
        if offset < pos {
            return Err(ParseError::at(
                frba.saturating_add(usize::from(i).saturating_mul(4)),
                field,
                ErrorKind::Invalid(region_name(i)),
            ));
        }
        let end = offset
            .checked_add(size)
            .filter(|e| *e <= bytes.len())
            .ok_or_else(|| {
                ParseError::at(
                    frba.saturating_add(usize::from(i).saturating_mul(4)),
                    "flash region (outside the image: a second chip?)",
                    ErrorKind::BadLength(size as u64),
                )
            })?;
        if offset > pos {
            items.push(TopItem::Gap(region(bytes, pos, offset, 0xff)));
        }
        let r = region(bytes, offset, end, 0xff);
        let inner = if i == 1 || i == 6 {
            match parse_at(
                bytes.get(offset..end).unwrap_or_default(),
                offset,
                1,
                budget,
            ) {
                Ok(image) => image.items,
                // A BIOS region with no volume in it is hashed whole.
                Err(e) if e.field == "firmware volume" => Vec::new(),
                Err(e) => return Err(e),
            }
        } else {
            Vec::new()
        };
        items.push(TopItem::Region(FlashRegion {
            index: i,
            region: r,
            items: inner,
        }));
        pos = end;
    }
    if pos < bytes.len() {
        items.push(TopItem::Gap(region(bytes, pos, bytes.len(), 0xff)));
    }
    Ok(items)
}
