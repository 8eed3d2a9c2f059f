//! EFI_FIRMWARE_VOLUME_HEADER and its extended header (PI Vol. 3, 3.2.1-3.2.2) and the files
//! of an FFSv2/FFSv3 volume: EFI_FFS_FILE_HEADER and EFI_FFS_FILE_HEADER2 (3.2.3).

use super::section::{self, Section};
use super::{err, region, sha256, At, Budget, Location, Region, FFS2, FFS3};
use crate::error::{ErrorKind, ParseError};
use crate::guid::Guid;
use crate::reader::{le16_at, le64_at, Reader};

/// The smallest volume header: 56 bytes with one block map entry and its terminator.
const MIN_HEADER: usize = 56;
/// EFI_FVB2_ERASE_POLARITY: erased flash reads 0xFF.
const ERASE_POLARITY: u32 = 0x800;
/// FFS_ATTRIB_LARGE_FILE: the header is EFI_FFS_FILE_HEADER2 with a 64-bit size.
const ATTRIB_LARGE_FILE: u8 = 0x01;
/// FFS_ATTRIB_CHECKSUM: the file's data is covered by IntegrityCheck.File.
const ATTRIB_CHECKSUM: u8 = 0x40;
/// IntegrityCheck.File of a file whose data is not checksummed (FFS_FIXED_CHECKSUM).
const FIXED_CHECKSUM: u8 = 0xaa;
/// The pad file type; pad and raw files hold no sections.
const FILETYPE_PAD: u8 = 0xf0;
const FILETYPE_RAW: u8 = 0x01;

/// A firmware volume.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Where the volume's header starts.
    pub location: Location,
    /// Length the header declares (the whole volume).
    pub length: usize,
    /// The file system GUID (FFSv2, FFSv3, an NVRAM store, …).
    pub file_system: Guid,
    /// FvName from the extended header, when there is one.
    pub name: Option<Guid>,
    /// EFI_FVB_ATTRIBUTES_2.
    pub attributes: u32,
    /// Header revision.
    pub revision: u8,
    /// HeaderLength.
    pub header_length: usize,
    /// Whether the header's 16-bit checksum adds up.
    pub header_checksum_ok: bool,
    /// SHA-256 of the header (and extended header): what the volume says of itself.
    pub header_sha256: [u8; 32],
    /// The files, in volume order; empty for a volume that is not FFS.
    pub files: Vec<File>,
    /// What follows the last file (erased flash, or not).
    pub free_space: Option<FreeSpace>,
    /// SHA-256 of the whole volume as stored.
    pub sha256: [u8; 32],
    /// For an NVRAM volume: its variable store, when it holds one this reads.
    pub variables: Option<Box<super::nvram::Store>>,
}

impl Volume {
    /// FFS version 2 or 3, or `None` for a volume whose files boardproof does not read.
    pub fn ffs_version(&self) -> Option<u8> {
        match self.file_system {
            FFS2 => Some(2),
            FFS3 => Some(3),
            _ => None,
        }
    }

    /// A short name of the file system, as UEFIExtract prints it.
    pub fn kind_name(&self) -> String {
        match self.ffs_version() {
            Some(v) => format!("FFSv{v}"),
            None if self.file_system == NVRAM => "NVRAM".into(),
            None => format!("unknown file system {}", self.file_system),
        }
    }
}

/// EFI_SYSTEM_NV_DATA_FV_GUID: the variable store volume.
pub const NVRAM: Guid = Guid([
    0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c, 0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50,
]);

/// The bytes of a volume after its last file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeSpace {
    /// Location of the first byte.
    pub location: Location,
    /// The bytes, hashed; `empty` is false when anything but erased flash is there.
    pub region: Region,
}

/// One FFS file.
#[derive(Debug, Clone)]
pub struct File {
    /// Where the file's header starts.
    pub location: Location,
    /// The file's name GUID.
    pub name: Guid,
    /// EFI_FV_FILETYPE.
    pub file_type: u8,
    /// EFI_FFS_FILE_ATTRIBUTES.
    pub attributes: u8,
    /// EFI_FFS_FILE_STATE, with the volume's erase polarity taken out.
    pub state: u8,
    /// Whole size, header included.
    pub size: usize,
    /// 24, or 32 for a large file.
    pub header_size: usize,
    /// Whether the header checksum and the data checksum (or its fixed value) add up.
    pub checksums_ok: bool,
    /// SHA-256 of the file's data (the bytes after its header, as stored).
    pub body_sha256: [u8; 32],
    /// Every byte of the data is the erase value: a pad file that holds nothing.
    pub body_erased: bool,
    /// The sections, for file types that hold them (all but raw and pad files).
    pub sections: Option<Vec<Section>>,
}

impl File {
    /// True for a pad file.
    pub fn is_pad(&self) -> bool {
        self.file_type == FILETYPE_PAD
    }

    /// The module's UI name: the first user-interface section, outside nested volumes.
    pub fn ui_name(&self) -> Option<&str> {
        section::first_ui(self.sections.as_deref()?)
    }

    /// True when the state says the file was deleted or its header is invalid: firmware skips
    /// such a file, but its bytes are still in the flash.
    pub fn is_deleted(&self) -> bool {
        // EFI_FILE_DELETED 0x10, EFI_FILE_HEADER_INVALID 0x20: the highest set bit wins.
        self.state & 0x30 != 0
    }
}

/// The next offset `>= from` where a volume header could start (its signature 40 bytes in).
pub(crate) fn find_next(bytes: &[u8], from: usize) -> Option<usize> {
    let search_from = from.checked_add(40)?;
    let rest = bytes.get(search_from..)?;
    let rel = rest.windows(4).position(|w| w == b"_FVH")?;
    Some(from.saturating_add(rel))
}

/// The declared length when `data` starts with a volume header that holds together (length
/// fits, header length sane, checksum adds up); `None` when these bytes are no volume.
pub(crate) fn plausible_length(data: &[u8]) -> Option<usize> {
    if data.get(40..44)? != b"_FVH" {
        return None;
    }
    let length = usize::try_from(le64_at(data, 32)?).ok()?;
    let header = usize::from(le16_at(data, 48)?);
    if header < MIN_HEADER || header > length || length > data.len() {
        return None;
    }
    checksum16(data.get(..header)?).then_some(length)
}

fn checksum16(b: &[u8]) -> bool {
    b.chunks(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .fold(0u16, u16::wrapping_add)
        == 0
}

fn align(n: usize, to: usize) -> Option<usize> {
    let m = to.checked_sub(1)?;
    Some(n.checked_add(m)? & !m)
}

/// Parses the volume that fills `data` exactly; `at` locates `data`'s first byte.
pub(crate) fn parse(data: &[u8], at: At, budget: &mut Budget) -> Result<Volume, ParseError> {
    budget.item(at.abs(0), "volume")?;
    if data.get(40..44) != Some(b"_FVH") {
        return Err(err(&at, 40, "volume signature", ErrorKind::BadMagic));
    }
    let mut r = Reader::new(data, at.abs(0));
    r.skip(16, "ZeroVector")?;
    let file_system = Guid(r.array("volume file system GUID")?);
    let length64 = r.u64_le("FvLength")?;
    r.skip(4, "volume signature")?;
    let length = usize::try_from(length64)
        .ok()
        .filter(|l| *l == data.len())
        .ok_or_else(|| err(&at, 32, "FvLength", ErrorKind::BadLength(length64)))?;
    let attributes = r.u32_le("Attributes")?;
    let header_length = usize::from(r.u16_le("HeaderLength")?);
    if header_length < MIN_HEADER || header_length > length {
        return Err(err(
            &at,
            48,
            "HeaderLength",
            ErrorKind::BadLength(header_length as u64),
        ));
    }
    r.skip(2, "Checksum")?;
    let ext_offset = usize::from(r.u16_le("ExtHeaderOffset")?);
    r.skip(1, "Reserved")?;
    let revision = r.u8("Revision")?;
    let header = data.get(..header_length).unwrap_or_default();
    let header_checksum_ok = checksum16(header);

    // The extended header, when present, names the volume and ends before the first file.
    let (name, files_start) = if ext_offset == 0 {
        (None, header_length)
    } else {
        if ext_offset < header_length {
            return Err(err(
                &at,
                52,
                "ExtHeaderOffset",
                ErrorKind::Invalid("extended header overlaps the volume header"),
            ));
        }
        let mut e = Reader::new(
            data.get(ext_offset..).unwrap_or_default(),
            at.abs(ext_offset),
        );
        let name = Guid(e.array("FvName")?);
        let size_at = e.offset();
        let ext_size = usize::try_from(e.u32_le("ExtHeaderSize")?).unwrap_or(usize::MAX);
        let end = ext_offset
            .checked_add(ext_size)
            .filter(|e| ext_size >= 20 && *e <= length)
            .ok_or(ParseError::at(
                size_at,
                "ExtHeaderSize",
                ErrorKind::BadLength(ext_size as u64),
            ))?;
        (Some(name), end)
    };
    let header_sha256 = sha256(data.get(..files_start).unwrap_or_default());
    let erase = if attributes & ERASE_POLARITY != 0 {
        0xff
    } else {
        0x00
    };

    let mut v = Volume {
        location: at.loc(0),
        length,
        file_system,
        name,
        attributes,
        revision,
        header_length,
        header_checksum_ok,
        header_sha256,
        files: Vec::new(),
        free_space: None,
        sha256: sha256(data),
        variables: None,
    };
    if v.ffs_version().is_none() {
        if file_system == NVRAM {
            v.variables = super::nvram::parse(data, at.abs(0), header_length)?.map(Box::new);
        }
        return Ok(v);
    }

    let mut off = files_start;
    loop {
        off = match align(off, 8) {
            Some(o) if o < length => o,
            _ => break,
        };
        let Some(head) = data.get(off..off.saturating_add(24)) else {
            break;
        };
        if head.iter().all(|b| *b == erase) {
            break;
        }
        let file = parse_file(data, off, erase, &at, budget)?;
        off = off.saturating_add(file.size);
        v.files.push(file);
    }
    if off < length {
        v.free_space = Some(FreeSpace {
            location: at.loc(off),
            region: region(data, off, length, erase),
        });
    }
    Ok(v)
}

/// One file at `off` of the volume `data`.
fn parse_file(
    data: &[u8],
    off: usize,
    erase: u8,
    at: &At,
    budget: &mut Budget,
) -> Result<File, ParseError> {
    budget.item(at.abs(off), "file")?;
    let mut r = Reader::new(data.get(off..).unwrap_or_default(), at.abs(off));
    let name = Guid(r.array("file name")?);
    r.skip(1, "IntegrityCheck.Header")?;
    let file_checksum = r.u8("IntegrityCheck.File")?;
    let file_type = r.u8("Type")?;
    let attributes = r.u8("Attributes")?;
    let size24 = r.u24_le("file size")?;
    let raw_state = r.u8("State")?;
    let state = if erase == 0xff { !raw_state } else { raw_state };
    let (size, header_size) = if attributes & ATTRIB_LARGE_FILE != 0 && size24 == 0 {
        let s = r.u64_le("ExtendedSize")?;
        let s = usize::try_from(s).map_err(|_| {
            err(
                at,
                off.saturating_add(24),
                "ExtendedSize",
                ErrorKind::BadLength(s),
            )
        })?;
        (s, 32)
    } else {
        (size24 as usize, 24)
    };
    let end = off
        .checked_add(size)
        .filter(|e| size >= header_size && *e <= data.len())
        .ok_or_else(|| {
            err(
                at,
                off.saturating_add(20),
                "file size",
                ErrorKind::BadLength(size as u64),
            )
        })?;
    let header = data
        .get(off..off.saturating_add(header_size))
        .unwrap_or_default();
    let body = data
        .get(off.saturating_add(header_size)..end)
        .unwrap_or_default();
    // IntegrityCheck.Header: the header sums to zero with State and IntegrityCheck.File as 0.
    let header_sum = header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 17 && *i != 23)
        .fold(0u8, |a, (_, b)| a.wrapping_add(*b));
    let data_ok = if attributes & ATTRIB_CHECKSUM != 0 {
        body.iter().fold(file_checksum, |a, b| a.wrapping_add(*b)) == 0
    } else {
        file_checksum == FIXED_CHECKSUM || file_checksum == 0x55
    };
    let sections = if file_type == FILETYPE_PAD || file_type == FILETYPE_RAW {
        None
    } else {
        let body_at = at.deeper(off.saturating_add(header_size), "file")?;
        Some(section::parse_all(body, body_at, budget)?)
    };
    Ok(File {
        location: at.loc(off),
        name,
        file_type,
        attributes,
        state,
        size,
        header_size,
        checksums_ok: header_sum == 0 && data_ok,
        body_sha256: sha256(body),
        body_erased: super::all_erased(body, erase),
        sections,
    })
}
