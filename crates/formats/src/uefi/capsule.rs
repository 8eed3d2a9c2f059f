//! UEFI capsules: how firmware updates are shipped (UEFI 2.10, 8.5.3 EFI_CAPSULE_HEADER; 23.3
//! the Firmware Management Protocol capsule). A vendor's update file is what a customer can
//! compare a server's flash with, so the payloads are read down to their modules.
//!
//! An FMP capsule holds embedded drivers and payloads, each behind an
//! EFI_FIRMWARE_MANAGEMENT_CAPSULE_IMAGE_HEADER; a payload may start with an
//! EFI_FIRMWARE_IMAGE_AUTHENTICATION (a monotonic count and a PKCS#7 signature, kept as
//! facts: this module does not check the signature) and EDK2's FMP_PAYLOAD_HEADER ("MSS1",
//! version and lowest supported version). What remains is the firmware image, parsed like any
//! other when it holds volumes. Other capsules (EFI_CAPSULE_GUID and vendors' that share its
//! header) carry an image directly after the header.
//!
//! All payloads share one decompression and item budget, so a capsule of many payloads cannot
//! multiply the caps.

use super::{parse_at, sha256, Budget, Image};
use crate::error::{ErrorKind, ParseError};
use crate::guid::Guid;
use crate::reader::{le16_at, le32_at, le64_at};

/// EFI_FIRMWARE_MANAGEMENT_CAPSULE_ID_GUID.
pub const FMP_CAPSULE: Guid = Guid([
    0xed, 0xd5, 0xcb, 0x6d, 0x2d, 0xe8, 0x44, 0x4c, 0xbd, 0xa1, 0x71, 0x94, 0x19, 0x9a, 0xd9, 0x2a,
]);
/// EFI_CAPSULE_GUID: a capsule whose body is a firmware volume.
pub const EFI_CAPSULE: Guid = Guid([
    0xbd, 0x86, 0x66, 0x3b, 0x76, 0x0d, 0x30, 0x40, 0xb7, 0x0e, 0xb5, 0x51, 0x9e, 0x2f, 0xc5, 0xa0,
]);
/// Intel's capsule GUID (EFI_CAPSULE_HEADER, then a flash image).
pub const INTEL_CAPSULE: Guid = Guid([
    0xb9, 0x82, 0x91, 0x53, 0xb5, 0xab, 0x91, 0x43, 0xb6, 0x9a, 0xe3, 0xa9, 0x43, 0xf7, 0x2f, 0xcc,
]);
/// AMI Aptio capsules (unsigned, signed): EFI_CAPSULE_HEADER with two more offsets.
pub const AMI_CAPSULE: Guid = Guid([
    0x8b, 0xa6, 0x3c, 0x4a, 0x23, 0x77, 0xfb, 0x48, 0x80, 0x3d, 0x57, 0x8c, 0xc1, 0xfe, 0xc4, 0x4d,
]);
/// AMI Aptio, signed.
pub const AMI_SIGNED_CAPSULE: Guid = Guid([
    0x90, 0xbb, 0xee, 0x14, 0x0a, 0x89, 0xdb, 0x43, 0xae, 0xd1, 0x5d, 0x3c, 0x45, 0x88, 0xa4, 0x18,
]);
/// EFI_CERT_TYPE_PKCS7_GUID: the signature type of an authenticated FMP payload.
pub const CERT_PKCS7: Guid = Guid([
    0x9d, 0xd2, 0xaf, 0x4a, 0xdf, 0x68, 0xee, 0x49, 0x8a, 0xa9, 0x34, 0x7d, 0x37, 0x56, 0x65, 0xa7,
]);

/// Most drivers plus payloads one FMP capsule may list.
pub const MAX_FMP_ITEMS: usize = 256;

/// A parsed capsule.
#[derive(Debug, Clone)]
pub struct Capsule {
    /// CapsuleGuid.
    pub guid: Guid,
    /// HeaderSize.
    pub header_size: u32,
    /// Flags (bit 16 persist across reset, 17 populate system table, 18 initiate reset).
    pub flags: u32,
    /// CapsuleImageSize: header included.
    pub image_size: u32,
    /// What the capsule carries.
    pub body: Body,
}

/// The body of a capsule.
#[derive(Debug, Clone)]
pub enum Body {
    /// An FMP capsule.
    Fmp(Fmp),
    /// An image directly after the header (volumes and gaps).
    Image(Image),
}

/// EFI_FIRMWARE_MANAGEMENT_CAPSULE_HEADER and what it lists.
#[derive(Debug, Clone)]
pub struct Fmp {
    /// Version (1).
    pub version: u32,
    /// Embedded drivers: offset in the capsule, size, SHA-256.
    pub drivers: Vec<(usize, usize, [u8; 32])>,
    /// Payloads.
    pub payloads: Vec<Payload>,
}

/// One FMP payload.
#[derive(Debug, Clone)]
pub struct Payload {
    /// Offset of its image header in the capsule.
    pub offset: usize,
    /// SHA-256 of the whole item: image header, authentication, payload header, image, and
    /// vendor code.
    pub sha256: [u8; 32],
    /// EFI_FIRMWARE_MANAGEMENT_CAPSULE_IMAGE_HEADER version (1 to 3).
    pub header_version: u32,
    /// UpdateImageTypeId: which firmware this updates.
    pub image_type_id: Guid,
    /// UpdateImageIndex.
    pub image_index: u8,
    /// UpdateImageSize.
    pub image_size: u32,
    /// UpdateVendorCodeSize.
    pub vendor_code_size: u32,
    /// UpdateHardwareInstance (version 2 on).
    pub hardware_instance: u64,
    /// ImageCapsuleSupport (version 3): bit 0 authentication, bit 1 dependency.
    pub capsule_support: u64,
    /// EFI_FIRMWARE_IMAGE_AUTHENTICATION: monotonic count, certificate type, certificate
    /// length. Not verified here.
    pub auth: Option<(u64, Guid, u32)>,
    /// EDK2's FMP_PAYLOAD_HEADER: firmware version, lowest supported version.
    pub fmp_header: Option<(u32, u32)>,
    /// Offset of the firmware image in the capsule, its size and SHA-256.
    pub data: (usize, usize, [u8; 32]),
    /// The firmware image, when it holds volumes; `None`: the payload is no UEFI firmware
    /// image ([`NOT_FIRMWARE`]) and is hashed whole.
    pub image: Option<Image>,
}

/// What is said of a payload that holds no firmware volume.
pub const NOT_FIRMWARE: &str = "payload is no UEFI firmware image (no volume in it): hashed whole";

/// Whether `bytes` start with a capsule header this module reads (by its GUID).
pub fn is_capsule(bytes: &[u8]) -> bool {
    bytes.get(..16).is_some_and(|g| {
        [
            FMP_CAPSULE,
            EFI_CAPSULE,
            INTEL_CAPSULE,
            AMI_CAPSULE,
            AMI_SIGNED_CAPSULE,
        ]
        .iter()
        .any(|k| k.0 == g)
    })
}

fn u32_at(b: &[u8], at: usize, field: &'static str) -> Result<u32, ParseError> {
    le32_at(b, at).ok_or_else(|| ParseError::at(at, field, ErrorKind::Truncated))
}

fn guid_at(b: &[u8], at: usize, field: &'static str) -> Result<Guid, ParseError> {
    b.get(at..at.saturating_add(16))
        .and_then(Guid::from_slice)
        .ok_or_else(|| ParseError::at(at, field, ErrorKind::Truncated))
}

/// Parses a capsule.
pub fn parse_capsule(bytes: &[u8]) -> Result<Capsule, ParseError> {
    let guid = guid_at(bytes, 0, "CapsuleGuid")?;
    let header_size = u32_at(bytes, 16, "HeaderSize")?;
    let flags = u32_at(bytes, 20, "Flags")?;
    let image_size = u32_at(bytes, 24, "CapsuleImageSize")?;
    let end = usize::try_from(image_size)
        .ok()
        .filter(|e| *e <= bytes.len())
        .ok_or_else(|| {
            ParseError::at(
                24,
                "CapsuleImageSize",
                ErrorKind::BadLength(image_size.into()),
            )
        })?;
    let start = usize::try_from(header_size)
        .ok()
        .filter(|h| *h >= 28 && *h <= end)
        .ok_or_else(|| {
            ParseError::at(16, "HeaderSize", ErrorKind::BadLength(header_size.into()))
        })?;
    let body = bytes.get(start..end).unwrap_or_default();
    let mut budget = Budget::new();
    let body = if guid == FMP_CAPSULE {
        Body::Fmp(fmp(body, start, &mut budget)?)
    } else {
        Body::Image(parse_at(body, start, 1, &mut budget)?)
    };
    Ok(Capsule {
        guid,
        header_size,
        flags,
        image_size,
        body,
    })
}

fn fmp(b: &[u8], base: usize, budget: &mut Budget) -> Result<Fmp, ParseError> {
    let abs = |rel: usize| base.saturating_add(rel);
    let version =
        le32_at(b, 0).ok_or_else(|| ParseError::at(abs(0), "FMP Version", ErrorKind::Truncated))?;
    if version != 1 {
        return Err(ParseError::at(
            abs(0),
            "FMP Version",
            ErrorKind::Invalid("not version 1"),
        ));
    }
    let drivers = le16_at(b, 4)
        .ok_or_else(|| ParseError::at(abs(4), "EmbeddedDriverCount", ErrorKind::Truncated))?;
    let payloads = le16_at(b, 6)
        .ok_or_else(|| ParseError::at(abs(6), "PayloadItemCount", ErrorKind::Truncated))?;
    let count = usize::from(drivers).saturating_add(usize::from(payloads));
    if count > MAX_FMP_ITEMS {
        return Err(ParseError::at(
            abs(4),
            "FMP item count",
            ErrorKind::TooMany(count as u64),
        ));
    }
    let mut offsets = Vec::with_capacity(count);
    for i in 0..count {
        let at = i.saturating_mul(8).saturating_add(8);
        let o = le64_at(b, at)
            .ok_or_else(|| ParseError::at(abs(at), "ItemOffsetList", ErrorKind::Truncated))?;
        let o = usize::try_from(o)
            .ok()
            .filter(|o| *o < b.len())
            .ok_or_else(|| ParseError::at(abs(at), "ItemOffsetList", ErrorKind::BadLength(o)))?;
        offsets.push(o);
    }
    // Each item runs to the next item's offset (or the body's end): the list is in order.
    let item_end = |i: usize| offsets.get(i.saturating_add(1)).copied().unwrap_or(b.len());
    let mut out = Fmp {
        version,
        drivers: Vec::new(),
        payloads: Vec::new(),
    };
    for (i, o) in offsets.iter().enumerate() {
        let end = item_end(i);
        if end < *o {
            return Err(ParseError::at(
                abs(i.saturating_mul(8).saturating_add(8)),
                "ItemOffsetList (not in order)",
                ErrorKind::Invalid("items overlap"),
            ));
        }
        let item = b.get(*o..end).unwrap_or_default();
        if i < usize::from(drivers) {
            out.drivers.push((abs(*o), item.len(), sha256(item)));
        } else {
            out.payloads.push(payload(item, abs(*o), budget)?);
        }
    }
    Ok(out)
}

fn payload(b: &[u8], base: usize, budget: &mut Budget) -> Result<Payload, ParseError> {
    let abs = |rel: usize| base.saturating_add(rel);
    let header_version = u32_at(b, 0, "image header Version").map_err(|e| reb(e, base))?;
    let header_len: usize = match header_version {
        1 => 32,
        2 => 40,
        3 => 48,
        _ => {
            return Err(ParseError::at(
                abs(0),
                "image header Version",
                ErrorKind::Invalid("not 1, 2 or 3"),
            ))
        }
    };
    let image_type_id = guid_at(b, 4, "UpdateImageTypeId").map_err(|e| reb(e, base))?;
    let image_index = *b
        .get(20)
        .ok_or_else(|| ParseError::at(abs(20), "UpdateImageIndex", ErrorKind::Truncated))?;
    let image_size = u32_at(b, 24, "UpdateImageSize").map_err(|e| reb(e, base))?;
    let vendor_code_size = u32_at(b, 28, "UpdateVendorCodeSize").map_err(|e| reb(e, base))?;
    let hardware_instance = if header_version >= 2 {
        le64_at(b, 32).ok_or_else(|| {
            ParseError::at(abs(32), "UpdateHardwareInstance", ErrorKind::Truncated)
        })?
    } else {
        0
    };
    let capsule_support = if header_version >= 3 {
        le64_at(b, 40)
            .ok_or_else(|| ParseError::at(abs(40), "ImageCapsuleSupport", ErrorKind::Truncated))?
    } else {
        0
    };
    let image_len = usize::try_from(image_size).unwrap_or(usize::MAX);
    let image = header_len
        .checked_add(image_len)
        .and_then(|e| b.get(header_len..e))
        .ok_or_else(|| {
            ParseError::at(
                abs(24),
                "UpdateImageSize",
                ErrorKind::BadLength(image_size.into()),
            )
        })?;
    let mut pos = 0usize;
    // EFI_FIRMWARE_IMAGE_AUTHENTICATION: MonotonicCount, then WIN_CERTIFICATE_UEFI_GUID whose
    // dwLength covers its own header, the CertType GUID and the signature.
    let signed = capsule_support & 1 != 0
        || (le16_at(image, 12) == Some(0x0200) && le16_at(image, 14) == Some(0x0ef1));
    let auth = if signed {
        let count = le64_at(image, 0).ok_or_else(|| {
            ParseError::at(abs(header_len), "MonotonicCount", ErrorKind::Truncated)
        })?;
        let len = le32_at(image, 8).ok_or_else(|| {
            ParseError::at(
                abs(header_len.saturating_add(8)),
                "dwLength",
                ErrorKind::Truncated,
            )
        })?;
        let cert_type = guid_at(image, 16, "CertType").map_err(|e| reb(e, abs(header_len)))?;
        let skip = usize::try_from(len)
            .ok()
            .filter(|l| *l >= 24)
            .and_then(|l| l.checked_add(8))
            .filter(|e| *e <= image.len())
            .ok_or_else(|| {
                ParseError::at(
                    abs(header_len.saturating_add(8)),
                    "WIN_CERTIFICATE dwLength",
                    ErrorKind::BadLength(len.into()),
                )
            })?;
        pos = skip;
        Some((count, cert_type, len))
    } else {
        None
    };
    if capsule_support & 2 != 0 {
        // EFI_FIRMWARE_IMAGE_DEP: opcodes up to and including END (0x0d); PUSH_GUID (0x00)
        // and PUSH_VERSION (0x01) carry operands. Skipped, its bytes hashed with the payload.
        let mut i = pos;
        loop {
            let op = *image.get(i).ok_or_else(|| {
                ParseError::at(
                    abs(header_len.saturating_add(i)),
                    "dependency",
                    ErrorKind::Truncated,
                )
            })?;
            i = i.saturating_add(match op {
                0x00 => 17,
                // PUSH_VERSION, DECLARE_LENGTH: a UINT32.
                0x01 | 0x0e => 5,
                0x02 => {
                    // DECLARE_VERSION_MESSAGE: a NUL-terminated string.
                    let rest = image.get(i.saturating_add(1)..).unwrap_or_default();
                    rest.iter()
                        .position(|c| *c == 0)
                        .map_or(rest.len(), |p| p.saturating_add(1))
                        .saturating_add(1)
                }
                _ => 1,
            });
            if op == 0x0d {
                break;
            }
        }
        pos = i.min(image.len());
    }
    let fmp_header = if image.get(pos..pos.saturating_add(4)) == Some(&b"MSS1"[..]) {
        let hs = le32_at(image, pos.saturating_add(4)).unwrap_or(0);
        let fw = le32_at(image, pos.saturating_add(8));
        let lsv = le32_at(image, pos.saturating_add(12));
        let hs = usize::try_from(hs)
            .ok()
            .filter(|h| *h >= 16 && pos.saturating_add(*h) <= image.len());
        match (hs, fw, lsv) {
            (Some(hs), Some(fw), Some(lsv)) => {
                pos = pos.saturating_add(hs);
                Some((fw, lsv))
            }
            _ => {
                return Err(ParseError::at(
                    abs(header_len.saturating_add(pos)),
                    "FMP_PAYLOAD_HEADER",
                    ErrorKind::Truncated,
                ))
            }
        }
    } else {
        None
    };
    let data = image.get(pos..).unwrap_or_default();
    let data_at = abs(header_len.saturating_add(pos));
    let parsed = match parse_at(data, data_at, 1, budget) {
        Ok(i) => Some(i),
        // A payload that is no firmware image (a microcode blob, an EC binary) is hashed; a
        // damaged volume inside one that is stays an error.
        Err(e) if e.field == "firmware volume" => None,
        Err(e) => return Err(e),
    };
    Ok(Payload {
        offset: base,
        sha256: sha256(b),
        header_version,
        image_type_id,
        image_index,
        image_size,
        vendor_code_size,
        hardware_instance,
        capsule_support,
        auth,
        fmp_header,
        data: (data_at, data.len(), sha256(data)),
        image: parsed,
    })
}

/// An error found in a sub-slice, moved to its absolute offset.
fn reb(mut e: ParseError, base: usize) -> ParseError {
    e.offset = e.offset.saturating_add(base);
    e
}
