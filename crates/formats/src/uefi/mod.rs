//! UEFI Platform Initialization firmware images: PI Specification 1.8, Volume 3 (Shared
//! Architectural Elements), chapter 3 (firmware volumes, firmware file system FFSv2/FFSv3,
//! files and sections).
//!
//! An implant that persists lives here: a DXE driver added to a volume, a patched module, a
//! module hidden in a pad file or in a volume's free space. This module reads an image down to
//! every section, decompressing LZMA sections and descending into nested volumes, so that a
//! change can be named by module rather than by image.
//!
//! Threat model: the image comes from a flash dump, a vendor download or a compromised host.
//! Every length is checked against the bytes present before it is used; nothing is allocated
//! from a length the input gives without a cap; decompression is capped in output size, in
//! ratio to its input and in total per image; nesting is capped in depth and the number of
//! items per image is capped. A volume or file that overlaps its container, a section that
//! runs past its file, and a decompressed size that disagrees with the header are errors
//! naming the offset. Bytes that are not structure (gaps between volumes, a volume's free
//! space, pad files) are hashed too and reported when they are not erased flash, because that
//! is where data can be hidden.
//!
//! What it refuses to guess: a GUID-defined section whose GUID it does not know and whose
//! attributes say processing is required is kept as one opaque, hashed item (and said so), not
//! parsed; a volume whose file system is not FFSv2/FFSv3 (an NVRAM store, say) is hashed whole.

pub mod capsule;
pub mod descriptor;
mod lzma;
pub mod nvram;
mod section;
pub mod tiano;
mod volume;

pub use section::{Content, Inner, Section, SectionKind};
pub use volume::{File, FreeSpace, Volume};

use crate::error::{ErrorKind, ParseError};
use crate::guid::Guid;

/// Deepest nesting of volumes inside sections inside files inside volumes.
pub const MAX_DEPTH: usize = 12;
/// Most items (volumes, files, sections) one image may hold.
pub const MAX_ITEMS: usize = 200_000;
/// Largest output of one decompression.
pub const MAX_DECOMPRESSED: usize = 64 << 20;
/// Largest output of all decompressions of one image together.
pub const MAX_DECOMPRESSED_TOTAL: usize = 512 << 20;
/// Largest ratio of one decompression's output to its input. Erased flash compresses very well
/// (OVMF's DXE volume is half 0xFF), so small inputs may expand up to [`RATIO_FLOOR`] anyway.
pub const MAX_RATIO: usize = 1024;
/// Output any decompression may reach whatever its ratio.
pub const RATIO_FLOOR: usize = 16 << 20;

/// The file system of FFSv2 volumes (EFI_FIRMWARE_FILE_SYSTEM2_GUID).
pub const FFS2: Guid = Guid([
    0x78, 0xe5, 0x8c, 0x8c, 0x3d, 0x8a, 0x1c, 0x4f, 0x99, 0x35, 0x89, 0x61, 0x85, 0xc3, 0x2d, 0xd3,
]);
/// The file system of FFSv3 volumes (EFI_FIRMWARE_FILE_SYSTEM3_GUID): large files allowed.
pub const FFS3: Guid = Guid([
    0x7a, 0xc0, 0x73, 0x54, 0xcb, 0x3d, 0xca, 0x4d, 0xbd, 0x6f, 0x1e, 0x96, 0x89, 0xe7, 0x34, 0x9a,
]);

/// A parsed image: its volumes, in order, and the bytes between them.
#[derive(Debug, Clone)]
pub struct Image {
    /// Size of the input.
    pub size: usize,
    /// Volumes and gaps, in image order, covering the whole input.
    pub items: Vec<TopItem>,
}

/// One region of a raw image.
#[derive(Debug, Clone)]
pub enum TopItem {
    /// A firmware volume.
    Volume(Volume),
    /// Bytes that are no volume (padding between volumes, or data something else owns).
    Gap(Region),
    /// A region of an Intel flash image (after its descriptor); the BIOS region holds the
    /// volumes.
    Region(descriptor::FlashRegion),
}

/// A run of bytes that is no structure: where it is, and whether it is erased flash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Offset in its container (absolute when `in_image`).
    pub offset: usize,
    /// Length.
    pub size: usize,
    /// Every byte is the erase value (0xFF, or 0x00 for erase polarity 0).
    pub empty: bool,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

/// Where an item sits: in the image itself, or inside data decompressed from a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Absolute offset in the image.
    Image(usize),
    /// Offset inside the data decompressed from the nearest compressed section.
    Decompressed(usize),
}

impl Location {
    /// The absolute offset, when the item is stored uncompressed in the image.
    pub fn image_offset(&self) -> Option<usize> {
        match self {
            Location::Image(o) => Some(*o),
            Location::Decompressed(_) => None,
        }
    }
}

/// State shared by one parse: caps that hold for the image as a whole.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    items: usize,
    decompressed: usize,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            items: 0,
            decompressed: 0,
        }
    }

    /// Counts one more item, failing past [`MAX_ITEMS`].
    pub(crate) fn item(&mut self, offset: usize, field: &'static str) -> Result<(), ParseError> {
        self.items = self.items.saturating_add(1);
        if self.items > MAX_ITEMS {
            return Err(ParseError::at(
                offset,
                field,
                ErrorKind::TooMany(self.items as u64),
            ));
        }
        Ok(())
    }

    /// The most a decompression of `input_len` bytes may produce now.
    pub(crate) fn allowance(&self, input_len: usize) -> usize {
        let by_ratio = input_len.saturating_mul(MAX_RATIO).max(RATIO_FLOOR);
        MAX_DECOMPRESSED
            .min(by_ratio)
            .min(MAX_DECOMPRESSED_TOTAL.saturating_sub(self.decompressed))
    }

    pub(crate) fn spend(&mut self, n: usize) {
        self.decompressed = self.decompressed.saturating_add(n);
    }
}

/// Where a parse is: which buffer (for offsets), how deep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    /// Offset of the buffer's first byte in the image, or in the decompressed data it lies in.
    pub(crate) base: usize,
    /// False inside decompressed data.
    pub(crate) in_image: bool,
    pub(crate) depth: usize,
}

impl At {
    pub(crate) fn loc(&self, offset: usize) -> Location {
        let at = self.base.saturating_add(offset);
        if self.in_image {
            Location::Image(at)
        } else {
            Location::Decompressed(at)
        }
    }

    /// The offset to put in an error: absolute in the image when the item is stored there,
    /// else in the decompressed data (the error then names the compressed section too).
    pub(crate) fn abs(&self, offset: usize) -> usize {
        self.base.saturating_add(offset)
    }

    /// The start of data decompressed from a section at depth `depth`.
    pub(crate) fn decompressed(depth: usize) -> At {
        At {
            base: 0,
            in_image: false,
            depth,
        }
    }

    pub(crate) fn deeper(&self, offset: usize, field: &'static str) -> Result<At, ParseError> {
        let depth = self.depth.saturating_add(1);
        if depth > MAX_DEPTH {
            return Err(ParseError::at(
                self.abs(offset),
                field,
                ErrorKind::TooMany(depth as u64),
            ));
        }
        Ok(At {
            base: self.base.saturating_add(offset),
            in_image: self.in_image,
            depth,
        })
    }
}

/// An error at `offset` of the buffer `at` locates.
pub(crate) fn err(at: &At, offset: usize, field: &'static str, kind: ErrorKind) -> ParseError {
    ParseError::at(at.abs(offset), field, kind)
}

/// Reads a raw image (a flash dump, an OVMF CODE or VARS file, a bare volume): every firmware
/// volume in it and the gaps between them. An input with no volume at all is an error.
pub fn parse_image(bytes: &[u8]) -> Result<Image, ParseError> {
    let mut budget = Budget::new();
    if descriptor::present(bytes) {
        return Ok(Image {
            size: bytes.len(),
            items: descriptor::parse(bytes, &mut budget)?,
        });
    }
    parse_at(bytes, 0, 0, &mut budget)
}

/// Volumes and gaps of `bytes`, which sit at offset `base` of the input (a capsule's payload),
/// `depth` levels down, sharing `budget` with the rest of the input.
pub(crate) fn parse_at(
    bytes: &[u8],
    base: usize,
    depth: usize,
    budget: &mut Budget,
) -> Result<Image, ParseError> {
    let at = At {
        base,
        in_image: true,
        depth,
    };
    let mut items = Vec::new();
    let mut pos = 0usize;
    let mut gap_from = 0usize;
    while let Some(start) = volume::find_next(bytes, pos) {
        let Some(data) = bytes.get(start..) else {
            break;
        };
        // A signature that does not head a well-formed volume is just data: keep scanning.
        let Some(length) = volume::plausible_length(data) else {
            pos = start.saturating_add(1);
            continue;
        };
        if start > gap_from {
            items.push(TopItem::Gap(gap(bytes, base, gap_from, start)));
        }
        let v = volume::parse(
            data.get(..length).unwrap_or(data),
            at.deeper(start, "volume")?,
            budget,
        )
        .map(|mut v| {
            v.location = Location::Image(base.saturating_add(start));
            v
        })?;
        items.push(TopItem::Volume(v));
        pos = start.saturating_add(length);
        gap_from = pos;
    }
    if !items.iter().any(|i| matches!(i, TopItem::Volume(_))) {
        return Err(ParseError::at(
            base,
            "firmware volume",
            ErrorKind::Invalid("no firmware volume (_FVH header) in the input"),
        ));
    }
    if gap_from < bytes.len() {
        items.push(TopItem::Gap(gap(bytes, base, gap_from, bytes.len())));
    }
    Ok(Image {
        size: bytes.len(),
        items,
    })
}

/// A gap between volumes, at its absolute offset.
fn gap(bytes: &[u8], base: usize, from: usize, to: usize) -> Region {
    let mut r = region(bytes, from, to, 0xff);
    r.offset = base.saturating_add(from);
    r
}

/// The region `from..to` of `bytes` (clamped), hashed.
pub(crate) fn region(bytes: &[u8], from: usize, to: usize, erase: u8) -> Region {
    let b = bytes.get(from..to).unwrap_or_default();
    Region {
        offset: from,
        size: b.len(),
        empty: all_erased(b, erase),
        sha256: sha256(b),
    }
}

/// Whether every byte of `b` is `erase`. Megabytes of erased flash are checked per image, so
/// this compares in blocks the compiler vectorises instead of stopping at each byte.
pub(crate) fn all_erased(b: &[u8], erase: u8) -> bool {
    let mut blocks = b.chunks_exact(64);
    let whole = blocks
        .by_ref()
        .all(|c| c.iter().fold(0u8, |acc, x| acc | (x ^ erase)) == 0);
    whole && blocks.remainder().iter().all(|x| *x == erase)
}

/// Decodes EDK2 LZMA section data (13-byte header, LZMA1 stream) producing at most `allowance`
/// bytes: what the parser does for an LZMA GUID-defined section, open for fuzzing and tools.
pub fn lzma_decompress(data: &[u8], allowance: usize) -> Result<Vec<u8>, ErrorKind> {
    lzma::decompress(data, allowance)
}

/// SHA-256 of `b`: the digest every item of an image is named by.
pub fn sha256_of(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

pub(crate) use sha256_of as sha256;

/// The name of a file type (PI Vol. 3, 2.1.4.1 EFI_FV_FILETYPE), as UEFIExtract prints it.
pub fn file_type_name(t: u8) -> String {
    match t {
        0x01 => "Raw".into(),
        0x02 => "Freeform".into(),
        0x03 => "SEC core".into(),
        0x04 => "PEI core".into(),
        0x05 => "DXE core".into(),
        0x06 => "PEI module".into(),
        0x07 => "DXE driver".into(),
        0x08 => "Combined PEI/DXE".into(),
        0x09 => "Application".into(),
        0x0a => "SMM module".into(),
        0x0b => "Volume image".into(),
        0x0c => "Combined SMM/DXE".into(),
        0x0d => "SMM core".into(),
        0x0e => "MM standalone module".into(),
        0x0f => "MM standalone core".into(),
        0xf0 => "Pad".into(),
        0xc0..=0xdf => format!("OEM {t:#04x}"),
        0xe0..=0xef => format!("Debug {t:#04x}"),
        _ => format!("Unknown {t:#04x}"),
    }
}

/// The name of a known GUID-defined section kind (LZMA, Tiano, CRC32, …).
pub fn guided_name(g: &Guid) -> Option<&'static str> {
    guided::name(g)
}

/// Known GUID-defined section kinds.
pub(crate) mod guided {
    use crate::guid::Guid;

    /// EDK2 LZMA (LzmaCustomDecompress).
    pub(crate) const LZMA: Guid = Guid([
        0x98, 0x58, 0x4e, 0xee, 0x14, 0x39, 0x59, 0x42, 0x9d, 0x6e, 0xdc, 0x7b, 0xd7, 0x94, 0x03,
        0xcf,
    ]);
    /// EDK2 LZMA with the x86 branch filter (LzmaF86CustomDecompress).
    pub(crate) const LZMA_F86: Guid = Guid([
        0xbd, 0xe6, 0x2a, 0xd4, 0x52, 0x13, 0xfb, 0x4b, 0x90, 0x9a, 0xca, 0x72, 0xa6, 0xea, 0xe8,
        0x89,
    ]);
    /// EDK2 Tiano compression (TianoCustomDecompress).
    pub(crate) const TIANO: Guid = Guid([
        0xad, 0x80, 0x12, 0xa3, 0x1e, 0x48, 0xb6, 0x41, 0x95, 0xe8, 0x12, 0x7f, 0x4c, 0x98, 0x47,
        0x79,
    ]);
    /// EFI_CRC32_GUIDED_SECTION_EXTRACTION: a CRC32 and the data, uncompressed.
    pub(crate) const CRC32: Guid = Guid([
        0xb0, 0xcd, 0x1b, 0xfc, 0x31, 0x7d, 0xaa, 0x49, 0x93, 0x6a, 0xa4, 0x60, 0x0d, 0x9d, 0xd0,
        0x83,
    ]);
    /// EDK2 Brotli.
    pub(crate) const BROTLI: Guid = Guid([
        0x50, 0x20, 0x53, 0x3d, 0xda, 0x5c, 0xd0, 0x4f, 0x87, 0x9e, 0x0f, 0x7f, 0x63, 0x0d, 0x5a,
        0xfb,
    ]);

    /// A human name for a GUID-defined section's GUID.
    pub(crate) fn name(g: &Guid) -> Option<&'static str> {
        Some(match *g {
            LZMA => "LZMA",
            LZMA_F86 => "LZMA x86",
            TIANO => "Tiano",
            CRC32 => "CRC32",
            BROTLI => "Brotli",
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_the_registry_guids() {
        assert_eq!(FFS2.to_string(), "8C8CE578-8A3D-4F1C-9935-896185C32DD3");
        assert_eq!(FFS3.to_string(), "5473C07A-3DCB-4DCA-BD6F-1E9689E7349A");
        assert_eq!(
            guided::LZMA.to_string(),
            "EE4E5898-3914-4259-9D6E-DC7BD79403CF"
        );
        assert_eq!(
            guided::LZMA_F86.to_string(),
            "D42AE6BD-1352-4BFB-909A-CA72A6EAE889"
        );
        assert_eq!(
            guided::TIANO.to_string(),
            "A31280AD-481E-41B6-95E8-127F4C984779"
        );
        assert_eq!(
            guided::CRC32.to_string(),
            "FC1BCDB0-7D31-49AA-936A-A4600D9DD083"
        );
        assert_eq!(
            guided::BROTLI.to_string(),
            "3D532050-5CDA-4FD0-879E-0F7F630D5AFB"
        );
    }

    #[test]
    fn no_volume_is_an_error() {
        let e = parse_image(&[0xff; 4096]).unwrap_err();
        assert_eq!(e.field, "firmware volume");
    }
}
