//! File sections: EFI_COMMON_SECTION_HEADER(2) and the section types of PI Vol. 3, 3.2.4-3.2.5
//! (encapsulation: compression, GUID-defined, firmware volume image; leaves: PE32, TE, PIC,
//! dependency expressions, version, user interface, raw, freeform subtype GUID).

use super::tiano::{self, Variant};
use super::volume::{self, Volume};
use super::{err, guided, lzma, sha256, At, Budget, Location};
use crate::error::{ErrorKind, ParseError};
use crate::guid::{utf16z, Guid};
use crate::reader::{le16_at, Reader};

/// EFI_GUIDED_SECTION_PROCESSING_REQUIRED: the data cannot be read without the GUID's decoder.
const PROCESSING_REQUIRED: u16 = 0x01;
/// Most opcodes one dependency expression may have.
const MAX_DEPEX_OPS: usize = 4096;

/// One section of a file.
#[derive(Debug, Clone)]
pub struct Section {
    /// Where the section's header starts.
    pub location: Location,
    /// EFI_SECTION_TYPE.
    pub section_type: u8,
    /// Whole size, header included.
    pub size: usize,
    /// 4, or 8 for a section with an extended size (more headers follow for some types).
    pub header_size: usize,
    /// SHA-256 of the section's bytes after the common header, as stored.
    pub body_sha256: [u8; 32],
    /// What it holds.
    pub content: Content,
}

/// What a section holds.
#[derive(Debug, Clone)]
pub enum Content {
    /// Bytes boardproof hashes but does not decode (PE32, TE, PIC, raw, …).
    Leaf,
    /// A user-interface name.
    Ui(String),
    /// A version section.
    Version {
        /// BuildNumber.
        build: u16,
        /// The version string.
        text: String,
    },
    /// A dependency expression, opcode by opcode.
    Depex(Vec<String>),
    /// EFI_SECTION_FREEFORM_SUBTYPE_GUID: the subtype GUID.
    FreeformGuid(Guid),
    /// EFI_SECTION_COMPRESSION.
    Compressed {
        /// CompressionType: 0 none, 1 standard (EFI/Tiano).
        compression_type: u8,
        /// UncompressedLength.
        uncompressed_length: u32,
        /// Which of the two formats type 1 may mean the data turned out to be.
        variant: Option<Variant>,
        /// The sections inside, or why they were not read.
        inner: Inner,
    },
    /// EFI_SECTION_GUID_DEFINED.
    Guided {
        /// SectionDefinitionGuid.
        guid: Guid,
        /// Attributes.
        attributes: u16,
        /// The sections inside, or why they were not read.
        inner: Inner,
    },
    /// EFI_SECTION_FIRMWARE_VOLUME_IMAGE.
    Volume(Box<Volume>),
}

/// The sections inside an encapsulation section.
#[derive(Debug, Clone)]
pub enum Inner {
    /// Decoded and parsed.
    Sections(Vec<Section>),
    /// Not decoded: why (an unknown GUID that requires processing, a method not implemented).
    Opaque(String),
}

/// The kind of a section type, as UEFIExtract names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SectionKind {
    /// 0x01.
    Compression,
    /// 0x02.
    GuidDefined,
    /// 0x03.
    Disposable,
    /// 0x10.
    Pe32,
    /// 0x11.
    Pic,
    /// 0x12.
    Te,
    /// 0x13.
    DxeDepex,
    /// 0x14.
    Version,
    /// 0x15.
    Ui,
    /// 0x16.
    Compatibility16,
    /// 0x17.
    VolumeImage,
    /// 0x18.
    FreeformSubtypeGuid,
    /// 0x19.
    Raw,
    /// 0x1B.
    PeiDepex,
    /// 0x1C.
    MmDepex,
    /// Anything else.
    Unknown(u8),
}

impl SectionKind {
    /// The kind of section type `t`.
    pub fn of(t: u8) -> SectionKind {
        match t {
            0x01 => SectionKind::Compression,
            0x02 => SectionKind::GuidDefined,
            0x03 => SectionKind::Disposable,
            0x10 => SectionKind::Pe32,
            0x11 => SectionKind::Pic,
            0x12 => SectionKind::Te,
            0x13 => SectionKind::DxeDepex,
            0x14 => SectionKind::Version,
            0x15 => SectionKind::Ui,
            0x16 => SectionKind::Compatibility16,
            0x17 => SectionKind::VolumeImage,
            0x18 => SectionKind::FreeformSubtypeGuid,
            0x19 => SectionKind::Raw,
            0x1b => SectionKind::PeiDepex,
            0x1c => SectionKind::MmDepex,
            other => SectionKind::Unknown(other),
        }
    }

    /// UEFIExtract's name of the kind.
    pub fn name(&self) -> String {
        match self {
            SectionKind::Compression => "Compressed".into(),
            SectionKind::GuidDefined => "GUID defined".into(),
            SectionKind::Disposable => "Disposable".into(),
            SectionKind::Pe32 => "PE32 image".into(),
            SectionKind::Pic => "PIC image".into(),
            SectionKind::Te => "TE image".into(),
            SectionKind::DxeDepex => "DXE dependency".into(),
            SectionKind::Version => "Version".into(),
            SectionKind::Ui => "UI".into(),
            SectionKind::Compatibility16 => "16-bit image".into(),
            SectionKind::VolumeImage => "Volume image".into(),
            SectionKind::FreeformSubtypeGuid => "Freeform subtype GUID".into(),
            SectionKind::Raw => "Raw".into(),
            SectionKind::PeiDepex => "PEI dependency".into(),
            SectionKind::MmDepex => "MM dependency".into(),
            SectionKind::Unknown(t) => format!("Unknown {t:#04x}"),
        }
    }
}

impl Section {
    /// The kind of this section.
    pub fn kind(&self) -> SectionKind {
        SectionKind::of(self.section_type)
    }

    /// The sections inside, when this is a decoded encapsulation section.
    pub fn children(&self) -> &[Section] {
        match &self.content {
            Content::Compressed {
                inner: Inner::Sections(s),
                ..
            }
            | Content::Guided {
                inner: Inner::Sections(s),
                ..
            } => s,
            _ => &[],
        }
    }
}

/// The first UI name among `sections`, searching encapsulations but not nested volumes.
pub(crate) fn first_ui(sections: &[Section]) -> Option<&str> {
    sections.iter().find_map(|s| match &s.content {
        Content::Ui(name) => Some(name.as_str()),
        _ => first_ui(s.children()),
    })
}

/// Parses the sections filling `data` (a file's data, or decoded encapsulation data); each
/// starts 4-byte aligned from `data`'s start.
pub(crate) fn parse_all(
    data: &[u8],
    at: At,
    budget: &mut Budget,
) -> Result<Vec<Section>, ParseError> {
    let mut out = Vec::new();
    let mut off = 0usize;
    loop {
        off = match off.checked_add(3) {
            Some(o) => o & !3,
            None => break,
        };
        if off >= data.len() {
            break;
        }
        let rest = data.get(off..).unwrap_or_default();
        // EDK2 pads the end of decompressed data and some files to 4 or 8 bytes; padding that
        // cannot hold a section header is accepted only when it is blank.
        if rest.len() < 4 {
            if rest.iter().all(|b| *b == 0 || *b == 0xff) {
                break;
            }
            return Err(err(&at, off, "section header", ErrorKind::Truncated));
        }
        let s = parse_one(data, off, at, budget)?;
        off = off.saturating_add(s.size);
        out.push(s);
    }
    Ok(out)
}

fn parse_one(data: &[u8], off: usize, at: At, budget: &mut Budget) -> Result<Section, ParseError> {
    budget.item(at.abs(off), "section")?;
    let mut r = Reader::new(data.get(off..).unwrap_or_default(), at.abs(off));
    let size24 = r.u24_le("section size")?;
    let section_type = r.u8("section type")?;
    let (size, header_size) = if size24 == 0xff_ffff {
        let s = r.u32_le("ExtendedSize")?;
        (usize::try_from(s).unwrap_or(usize::MAX), 8)
    } else {
        (size24 as usize, 4)
    };
    let end = off
        .checked_add(size)
        .filter(|e| size >= header_size && *e <= data.len())
        .ok_or_else(|| err(&at, off, "section size", ErrorKind::BadLength(size as u64)))?;
    let section = data.get(off..end).unwrap_or_default();
    let body = section.get(header_size..).unwrap_or_default();
    let body_at = off.saturating_add(header_size);
    let content = match SectionKind::of(section_type) {
        SectionKind::Ui => Content::Ui(utf16z(body)),
        SectionKind::Version => Content::Version {
            build: le16_at(body, 0)
                .ok_or_else(|| err(&at, body_at, "BuildNumber", ErrorKind::Truncated))?,
            text: utf16z(body.get(2..).unwrap_or_default()),
        },
        SectionKind::DxeDepex | SectionKind::PeiDepex | SectionKind::MmDepex => {
            Content::Depex(depex(body, body_at, &at)?)
        }
        SectionKind::FreeformSubtypeGuid => Content::FreeformGuid(
            Guid::from_slice(body)
                .ok_or_else(|| err(&at, body_at, "SubTypeGuid", ErrorKind::Truncated))?,
        ),
        SectionKind::VolumeImage => {
            let inner = at.deeper(body_at, "volume image section")?;
            Content::Volume(Box::new(volume::parse(body, inner, budget)?))
        }
        SectionKind::Compression => compressed(section, off, header_size, at, budget)?,
        SectionKind::GuidDefined => guid_defined(section, off, header_size, at, budget)?,
        _ => Content::Leaf,
    };
    Ok(Section {
        location: at.loc(off),
        section_type,
        size,
        header_size,
        body_sha256: sha256(body),
        content,
    })
}

/// EFI_COMPRESSION_SECTION: UncompressedLength, CompressionType, then the data.
fn compressed(
    section: &[u8],
    off: usize,
    header: usize,
    at: At,
    budget: &mut Budget,
) -> Result<Content, ParseError> {
    let mut r = Reader::new(section, at.abs(off));
    r.skip(header, "section header")?;
    let uncompressed_length = r.u32_le("UncompressedLength")?;
    let compression_type = r.u8("CompressionType")?;
    let data_at = header.saturating_add(5);
    let data = section.get(data_at..).unwrap_or_default();
    let inner = match compression_type {
        0 => {
            if usize::try_from(uncompressed_length).ok() != Some(data.len()) {
                return Err(err(
                    &at,
                    off.saturating_add(header),
                    "UncompressedLength",
                    ErrorKind::BadLength(uncompressed_length.into()),
                ));
            }
            let inner = at.deeper(off.saturating_add(data_at), "compression section")?;
            Inner::Sections(parse_all(data, inner, budget)?)
        }
        1 => {
            let data_abs = off.saturating_add(data_at);
            let (variant, inner) =
                efi_or_tiano(data, data_abs, &[Variant::Efi, Variant::Tiano], at, budget)?;
            return Ok(Content::Compressed {
                compression_type,
                uncompressed_length,
                variant: Some(variant),
                inner,
            });
        }
        other => {
            return Err(err(
                &at,
                off.saturating_add(header).saturating_add(4),
                "CompressionType",
                ErrorKind::BadLength(other.into()),
            ))
        }
    };
    Ok(Content::Compressed {
        compression_type,
        uncompressed_length,
        variant: None,
        inner,
    })
}

/// EFI_GUID_DEFINED_SECTION: SectionDefinitionGuid, DataOffset, Attributes, then the data.
fn guid_defined(
    section: &[u8],
    off: usize,
    header: usize,
    at: At,
    budget: &mut Budget,
) -> Result<Content, ParseError> {
    let mut r = Reader::new(section, at.abs(off));
    r.skip(header, "section header")?;
    let guid = Guid(r.array("SectionDefinitionGuid")?);
    let data_offset = usize::from(r.u16_le("DataOffset")?);
    let attributes = r.u16_le("Attributes")?;
    if data_offset < header.saturating_add(20) || data_offset > section.len() {
        return Err(err(
            &at,
            off.saturating_add(header).saturating_add(16),
            "DataOffset",
            ErrorKind::BadLength(data_offset as u64),
        ));
    }
    let data = section.get(data_offset..).unwrap_or_default();
    let data_abs = off.saturating_add(data_offset);
    let inner = if guid == guided::LZMA {
        let plain = lzma::decompress(data, budget.allowance(data.len()))
            .map_err(|kind| err(&at, data_abs, "LZMA data", kind))?;
        budget.spend(plain.len());
        let inner = At::decompressed(at.deeper(data_abs, "LZMA section")?.depth);
        Inner::Sections(
            parse_all(&plain, inner, budget)
                .map_err(|e| nested(&at, data_abs, "LZMA section", e))?,
        )
    } else if guid == guided::TIANO {
        efi_or_tiano(data, data_abs, &[Variant::Tiano, Variant::Efi], at, budget)?.1
    } else if attributes & PROCESSING_REQUIRED == 0 || guid == guided::CRC32 {
        // The data is plain sections; any header bytes before DataOffset (a CRC32, a
        // signature) are hashed with the section body.
        let inner = at.deeper(data_abs, "GUID-defined section")?;
        Inner::Sections(parse_all(data, inner, budget)?)
    } else {
        Inner::Opaque(match guided::name(&guid) {
            Some(name) => format!("{name} compression: not decoded by this version"),
            None => {
                format!("GUID-defined section {guid} requires processing boardproof does not know")
            }
        })
    };
    Ok(Content::Guided {
        guid,
        attributes,
        inner,
    })
}

/// Type 1 compression is EFI or Tiano, and nothing in the section says which (UEFI 2.10,
/// 19.1; EDK2 writes EFI, other vendors Tiano): the first of `order` whose output decodes and
/// parses as sections is taken, as firmware would have to. Both failing is an error naming
/// the first one's reason.
fn efi_or_tiano(
    data: &[u8],
    data_abs: usize,
    order: &[Variant; 2],
    at: At,
    budget: &mut Budget,
) -> Result<(Variant, Inner), ParseError> {
    let allowance = budget.allowance(data.len());
    let depth = at.deeper(data_abs, "compressed section")?.depth;
    let mut first_error = None;
    for variant in order {
        let attempt = tiano::decompress(data, *variant, allowance)
            .map_err(|kind| err(&at, data_abs, "EFI/Tiano data", kind))
            .and_then(|plain| {
                let mut trial = *budget;
                trial.spend(plain.len());
                let sections = parse_all(&plain, At::decompressed(depth), &mut trial)
                    .map_err(|e| nested(&at, data_abs, "EFI/Tiano section", e))?;
                Ok((sections, trial))
            });
        match attempt {
            Ok((sections, trial)) => {
                *budget = trial;
                return Ok((*variant, Inner::Sections(sections)));
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        err(
            &at,
            data_abs,
            "EFI/Tiano data",
            ErrorKind::Invalid("not decoded"),
        )
    }))
}

/// An error inside decompressed data, reported at the compressed section that holds it.
fn nested(at: &At, data_abs: usize, what: &'static str, inner: ParseError) -> ParseError {
    ParseError {
        offset: at.abs(data_abs),
        field: what,
        kind: ErrorKind::Nested(format!(
            "in its decompressed data, {} at offset {:#x}: {}",
            inner.field, inner.offset, inner.kind
        )),
    }
}

/// A dependency expression (PI Vol. 2, 10.7 / Vol. 1, 8.3), as `OPCODE [GUID]` strings.
fn depex(body: &[u8], body_at: usize, at: &At) -> Result<Vec<String>, ParseError> {
    let mut ops = Vec::new();
    let mut i = 0usize;
    while let Some(op) = body.get(i).copied() {
        if ops.len() >= MAX_DEPEX_OPS {
            return Err(err(
                at,
                body_at.saturating_add(i),
                "dependency opcode",
                ErrorKind::TooMany(ops.len() as u64),
            ));
        }
        let with_guid = |name: &str| -> Result<String, ParseError> {
            let g = Guid::from_slice(body.get(i.saturating_add(1)..).unwrap_or_default())
                .ok_or_else(|| {
                    err(
                        at,
                        body_at.saturating_add(i).saturating_add(1),
                        "dependency GUID",
                        ErrorKind::Truncated,
                    )
                })?;
            Ok(format!("{name} {g}"))
        };
        let (text, len) = match op {
            0x00 => (with_guid("BEFORE")?, 17),
            0x01 => (with_guid("AFTER")?, 17),
            0x02 => (with_guid("PUSH")?, 17),
            0x03 => ("AND".into(), 1),
            0x04 => ("OR".into(), 1),
            0x05 => ("NOT".into(), 1),
            0x06 => ("TRUE".into(), 1),
            0x07 => ("FALSE".into(), 1),
            0x08 => ("END".into(), 1),
            0x09 => ("SOR".into(), 1),
            _ => {
                return Err(err(
                    at,
                    body_at.saturating_add(i),
                    "dependency opcode",
                    ErrorKind::Invalid("unknown opcode"),
                ))
            }
        };
        ops.push(text);
        i = i.saturating_add(len);
        if op == 0x08 {
            break;
        }
    }
    Ok(ops)
}
