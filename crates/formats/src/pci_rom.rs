//! PCI expansion ROMs (option ROMs), as read from `sys/bus/pci/devices/*/rom` or a ROM file:
//! PCI Firmware Specification 3.0, chapter 5 (ROM header, PCI Data Structure "PCIR"), and the
//! UEFI Specification 2.10, 14.4.2 (the EFI ROM header and its compressed PE32+ image).
//!
//! A network card, RAID controller or GPU carries code that the host firmware runs before the
//! operating system, with full access to memory: a changed option ROM is a changed driver.
//! A ROM is a chain of images (a legacy x86 one, an EFI one, …), each announcing its length
//! and whether it is the last; what follows the last image is kept as a hashed trailing
//! region, because that is where data can be hidden.
//!
//! Every length is checked against the bytes present; the chain is capped at [`MAX_IMAGES`];
//! an EFI image's decompression is capped at [`MAX_EFI_IMAGE`].

use crate::error::{ErrorKind, ParseError};
use crate::reader::{le16_at, le32_at};
use crate::uefi::{self, Region};

/// Most images one ROM may chain.
pub const MAX_IMAGES: usize = 64;
/// Largest decompressed EFI driver (a PCI ROM BAR is at most 16 MiB).
pub const MAX_EFI_IMAGE: usize = 16 << 20;

/// A parsed option ROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionRom {
    /// The images, in ROM order.
    pub images: Vec<RomImage>,
    /// Bytes after the last image, when there are any.
    pub trailing: Option<Region>,
}

/// One image of a ROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RomImage {
    /// Offset in the ROM.
    pub offset: usize,
    /// Length (PCIR image length × 512).
    pub length: usize,
    /// PCIR vendor ID.
    pub vendor: u16,
    /// PCIR device ID.
    pub device: u16,
    /// PCIR class code (24 bits).
    pub class_code: u32,
    /// PCIR structure revision.
    pub pcir_revision: u8,
    /// Revision level of the code.
    pub code_revision: u16,
    /// 0 x86 PC-AT, 1 Open Firmware, 2 PA-RISC, 3 EFI.
    pub code_type: u8,
    /// The last-image indicator is set.
    pub last: bool,
    /// For a legacy x86 image: whether its bytes sum to zero.
    pub checksum_ok: Option<bool>,
    /// For an EFI image: its header and driver.
    pub efi: Option<EfiImage>,
    /// SHA-256 of the image's bytes.
    pub sha256: [u8; 32],
}

/// The EFI part of an image of code type 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfiImage {
    /// EfiSubsystem: 10 application, 11 boot service driver, 12 runtime driver.
    pub subsystem: u16,
    /// EfiMachineType (PE machine: 0x8664 x64, 0xaa64 AArch64, 0x0ebc EBC, …).
    pub machine: u16,
    /// CompressionType 1: the driver is EFI-compressed.
    pub compressed: bool,
    /// The driver (decompressed when compressed): its size and SHA-256, or why it could not be
    /// read.
    pub driver: Result<(usize, [u8; 32]), String>,
}

impl RomImage {
    /// The code type as people say it.
    pub fn code_type_name(&self) -> String {
        match self.code_type {
            0 => "x86 PC-AT".into(),
            1 => "Open Firmware".into(),
            2 => "PA-RISC".into(),
            3 => "EFI".into(),
            t => format!("code type {t:#04x}"),
        }
    }
}

/// The PE machine type as people say it.
pub fn machine_name(m: u16) -> String {
    match m {
        0x014c => "IA32".into(),
        0x0200 => "IA64".into(),
        0x0ebc => "EBC".into(),
        0x8664 => "x64".into(),
        0x01c2 => "ARM".into(),
        0xaa64 => "AArch64".into(),
        0x5032 => "RISC-V 32".into(),
        0x5064 => "RISC-V 64".into(),
        0x6264 => "LoongArch64".into(),
        m => format!("machine {m:#06x}"),
    }
}

/// Parses a ROM. A ROM that does not start with an image header is an error; so is any image
/// whose header, PCIR or length does not fit.
pub fn parse(rom: &[u8]) -> Result<OptionRom, ParseError> {
    let mut images = Vec::new();
    let mut off = 0usize;
    loop {
        if images.len() >= MAX_IMAGES {
            return Err(ParseError::at(
                off,
                "ROM image",
                ErrorKind::TooMany(images.len() as u64),
            ));
        }
        let image = parse_image(rom, off)?;
        let last = image.last;
        off = off.saturating_add(image.length);
        images.push(image);
        if last || off >= rom.len() {
            break;
        }
        // No last-image flag, but what follows is no image either: the chain ends here and the
        // rest is trailing data (firmware would stop here too).
        if rom.get(off..off.saturating_add(2)) != Some(&[0x55, 0xaa][..]) {
            break;
        }
    }
    let trailing = (off < rom.len()).then(|| {
        // Erased ROM reads 0xFF; a padded ROM file may hold zeros.
        let rest = rom.get(off..).unwrap_or_default();
        let erase = if rest.first() == Some(&0) { 0 } else { 0xff };
        uefi::region(rom, off, rom.len(), erase)
    });
    Ok(OptionRom { images, trailing })
}

fn parse_image(rom: &[u8], off: usize) -> Result<RomImage, ParseError> {
    let at = |rel: usize| off.saturating_add(rel);
    if rom.get(off..at(2)) != Some(&[0x55, 0xaa][..]) {
        return Err(ParseError::at(
            off,
            "ROM signature (55 AA)",
            ErrorKind::BadMagic,
        ));
    }
    let pcir_rel = le16_at(rom, at(0x18)).ok_or_else(|| {
        ParseError::at(at(0x18), "PCI data structure pointer", ErrorKind::Truncated)
    })?;
    let p = at(usize::from(pcir_rel));
    if rom.get(p..p.saturating_add(4)) != Some(&b"PCIR"[..]) {
        return Err(ParseError::at(
            p,
            "PCI data structure signature (PCIR)",
            ErrorKind::BadMagic,
        ));
    }
    let field = |rel: usize, name: &'static str| {
        le16_at(rom, p.saturating_add(rel))
            .ok_or_else(|| ParseError::at(p.saturating_add(rel), name, ErrorKind::Truncated))
    };
    let vendor = field(0x04, "PCIR vendor")?;
    let device = field(0x06, "PCIR device")?;
    let pcir_revision = *rom.get(p.saturating_add(0x0c)).ok_or_else(|| {
        ParseError::at(
            p.saturating_add(0x0c),
            "PCIR revision",
            ErrorKind::Truncated,
        )
    })?;
    let class = rom
        .get(p.saturating_add(0x0d)..p.saturating_add(0x10))
        .ok_or_else(|| {
            ParseError::at(
                p.saturating_add(0x0d),
                "PCIR class code",
                ErrorKind::Truncated,
            )
        })?;
    let class_code = class
        .iter()
        .rev()
        .fold(0u32, |a, b| (a << 8) | u32::from(*b));
    let units = field(0x10, "PCIR image length")?;
    let code_revision = field(0x12, "PCIR code revision")?;
    let code_type = *rom.get(p.saturating_add(0x14)).ok_or_else(|| {
        ParseError::at(
            p.saturating_add(0x14),
            "PCIR code type",
            ErrorKind::Truncated,
        )
    })?;
    let indicator = *rom.get(p.saturating_add(0x15)).ok_or_else(|| {
        ParseError::at(
            p.saturating_add(0x15),
            "PCIR indicator",
            ErrorKind::Truncated,
        )
    })?;
    let length = usize::from(units).saturating_mul(512);
    let end = off
        .checked_add(length)
        .filter(|e| length > 0 && *e <= rom.len())
        .ok_or_else(|| {
            ParseError::at(
                p.saturating_add(0x10),
                "PCIR image length",
                ErrorKind::BadLength(length as u64),
            )
        })?;
    let bytes = rom.get(off..end).unwrap_or_default();
    let checksum_ok =
        (code_type == 0).then(|| bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)) == 0);
    let efi = if code_type == 3 {
        Some(efi_image(bytes, off)?)
    } else {
        None
    };
    Ok(RomImage {
        offset: off,
        length,
        vendor,
        device,
        class_code,
        pcir_revision,
        code_revision,
        code_type,
        last: indicator & 0x80 != 0,
        checksum_ok,
        efi,
        sha256: uefi::sha256_of(bytes),
    })
}

/// EFI_PCI_EXPANSION_ROM_HEADER: the driver sits at EfiImageHeaderOffset, EFI-compressed when
/// CompressionType is 1. A driver that does not decompress, or is no PE image, is reported
/// (firmware would not load it either), not an error: the image's bytes are still hashed.
fn efi_image(image: &[u8], off: usize) -> Result<EfiImage, ParseError> {
    let at = |rel: usize| off.saturating_add(rel);
    let sig = le32_at(image, 4)
        .ok_or_else(|| ParseError::at(at(4), "EfiSignature", ErrorKind::Truncated))?;
    if sig != 0x0ef1 {
        return Err(ParseError::at(
            at(4),
            "EfiSignature (0x0EF1)",
            ErrorKind::BadMagic,
        ));
    }
    let field = |rel: usize, name: &'static str| {
        le16_at(image, rel).ok_or_else(|| ParseError::at(at(rel), name, ErrorKind::Truncated))
    };
    let subsystem = field(0x08, "EfiSubsystem")?;
    let machine = field(0x0a, "EfiMachineType")?;
    let compression = field(0x0c, "CompressionType")?;
    let start = usize::from(field(0x16, "EfiImageHeaderOffset")?);
    let data = image
        .get(start..)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            ParseError::at(
                at(0x16),
                "EfiImageHeaderOffset",
                ErrorKind::BadLength(start as u64),
            )
        })?;
    let driver = match compression {
        0 => Ok(data.to_vec()),
        1 => uefi::tiano::decompress(data, uefi::tiano::Variant::Efi, MAX_EFI_IMAGE)
            .map_err(|e| format!("EFI-compressed driver does not decompress: {e}")),
        t => Err(format!("compression type {t} is not defined")),
    }
    .and_then(|pe| {
        if pe.starts_with(b"MZ") {
            Ok((pe.len(), uefi::sha256_of(&pe)))
        } else {
            Err("the driver is no PE image (no MZ header)".into())
        }
    });
    Ok(EfiImage {
        subsystem,
        machine,
        compressed: compression == 1,
        driver,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A legacy image of `units` × 512 bytes with a valid checksum.
    fn legacy(units: u16, last: bool) -> Vec<u8> {
        let mut b = vec![0u8; usize::from(units) * 512];
        b[0] = 0x55;
        b[1] = 0xaa;
        b[0x18] = 0x40;
        b[0x40..0x44].copy_from_slice(b"PCIR");
        b[0x44..0x46].copy_from_slice(&0x8086u16.to_le_bytes());
        b[0x46..0x48].copy_from_slice(&0x10d3u16.to_le_bytes());
        b[0x4d..0x50].copy_from_slice(&[0x00, 0x00, 0x02]);
        b[0x50..0x52].copy_from_slice(&units.to_le_bytes());
        b[0x55] = if last { 0x80 } else { 0 };
        let sum = b.iter().fold(0u8, |a, x| a.wrapping_add(*x));
        b[6] = 0u8.wrapping_sub(sum);
        b
    }

    #[test]
    fn a_chain_and_its_trailing_bytes() {
        let mut rom = legacy(2, false);
        rom.extend(legacy(1, true));
        rom.extend([0xff; 100]);
        let r = parse(&rom).unwrap();
        assert_eq!(r.images.len(), 2);
        assert_eq!(r.images[1].offset, 1024);
        assert_eq!(r.images[0].class_code, 0x020000);
        assert_eq!(r.images[0].checksum_ok, Some(true));
        let t = r.trailing.unwrap();
        assert!(t.empty);
        assert_eq!(t.size, 100);
        rom[1024 + 512 + 5] = 0x41;
        assert!(!parse(&rom).unwrap().trailing.unwrap().empty);
    }

    #[test]
    fn every_truncation_is_an_error_or_a_shorter_chain() {
        let mut rom = legacy(2, false);
        rom.extend(legacy(1, true));
        for n in 0..rom.len() {
            match parse(&rom[..n]) {
                Ok(r) => assert!(r.images.iter().all(|i| i.offset + i.length <= n)),
                Err(e) => assert!(e.offset <= rom.len(), "{e}"),
            }
        }
        assert!(parse(&rom[..1023]).is_err());
    }

    #[test]
    fn zero_length_and_missing_pcir_are_errors() {
        let mut rom = legacy(1, true);
        rom[0x50] = 0;
        assert_eq!(parse(&rom).unwrap_err().kind, ErrorKind::BadLength(0));
        let mut rom = legacy(1, true);
        rom[0x18] = 0xf0;
        assert_eq!(parse(&rom).unwrap_err().kind, ErrorKind::BadMagic);
    }
}
