//! The patched-firmware scenario: one byte changed inside one DXE module of Debian's OVMF.
//!
//! In OVMF_CODE_4M.fd the PEI and DXE volumes sit LZMA-compressed in one GUID-defined section
//! (EE4E5898-3914-4259-9D6E-DC7BD79403CF) of the single file of the first volume. That section
//! holds EDK2's LZMA format: a 13-byte header (properties byte, dictionary size, uncompressed
//! size) and an LZMA1 stream. The patch decompresses it, flips the case of the first letter
//! of one module's UI name (a UTF-16 string in the module's user-interface section: no code
//! changes, so the machine still boots), compresses again as LZMA1 with the same properties,
//! writes the real size into the header, and pads with zeros to the old section length, so
//! that no size or offset in the image changes. That file carries no data checksum. The result
//! must boot: the matrix shows it does, because the guest's evidence arrives.
//!
//! This is a deliberately small locator, not a firmware parser (that is the firmware-forensics
//! issue): it finds the section by its GUID and checks every length it reads.

use boardproof_formats::reader::le16_at;

use crate::Error;

/// GUID of EDK2's LZMA-compressed GUID-defined section, in its on-disk byte order.
pub const LZMA_SECTION_GUID: [u8; 16] = [
    0x98, 0x58, 0x4e, 0xee, 0x14, 0x39, 0x59, 0x42, 0x9d, 0x6e, 0xdc, 0x7b, 0xd7, 0x94, 0x03, 0xcf,
];

/// EFI_SECTION_GUID_DEFINED.
const SECTION_GUID_DEFINED: u8 = 0x02;
/// The largest volume the patch decompresses.
const MAX_DECOMPRESSED: u64 = 64 << 20;

/// What the patch changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Patch {
    /// The module's UI name before the patch.
    pub module: String,
    /// Offset of the section's data in the image.
    pub section_offset: usize,
    /// Offset of the changed byte in the decompressed volume.
    pub byte_offset: usize,
    /// Compressed lengths: original, new (before padding).
    pub compressed: (usize, usize),
}

fn u24_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(3)?)?;
    Some(usize::from(*s.first()?) | usize::from(*s.get(1)?) << 8 | usize::from(*s.get(2)?) << 16)
}

/// The LZMA section: (offset of the section, offset of its data, end of the section).
fn find_lzma_section(image: &[u8]) -> Result<(usize, usize, usize), Error> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(rel) = image
        .get(from..)
        .and_then(|rest| rest.windows(16).position(|w| w == LZMA_SECTION_GUID))
    {
        let g = from.saturating_add(rel);
        from = g.saturating_add(1);
        // Common section header: 3-byte size, 1-byte type, then the GUID.
        let Some(hdr) = g.checked_sub(4) else {
            continue;
        };
        if image.get(g.wrapping_sub(1)) != Some(&SECTION_GUID_DEFINED) {
            continue;
        }
        let Some(size) = u24_at(image, hdr) else {
            continue;
        };
        let Some(data_offset) = le16_at(image, g.saturating_add(16)) else {
            continue;
        };
        let data = hdr.saturating_add(usize::from(data_offset));
        let end = hdr.saturating_add(size);
        if size == 0xff_ffff || end > image.len() || data < g.saturating_add(20) || data >= end {
            continue;
        }
        found.push((hdr, data, end));
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::Invalid(
            "no LZMA GUID-defined section in the firmware image".into(),
        )),
        _ => Err(Error::Invalid(format!(
            "{} LZMA sections in the firmware image; expected the one OVMF has",
            found.len()
        ))),
    }
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Decompresses EDK2 LZMA (the .lzma "alone" format: same 13-byte header).
fn decompress(data: &[u8]) -> Result<Vec<u8>, Error> {
    // The firmware parser's decoder: EDK2's header, liblzma, output capped and checked against
    // the declared size.
    let cap = usize::try_from(MAX_DECOMPRESSED).unwrap_or(usize::MAX);
    boardproof_formats::uefi::lzma_decompress(data, cap).map_err(|e| {
        Error::Invalid(format!(
            "LZMA section (at most {MAX_DECOMPRESSED} bytes): {e}"
        ))
    })
}

/// Compresses as LZMA1 with the properties of `header` and writes the real size into the
/// header (the alone encoder writes "unknown" and an end marker, which EDK2's decoder accepts).
fn compress(plain: &[u8], header: &[u8]) -> Result<Vec<u8>, Error> {
    let props = *header
        .first()
        .ok_or_else(|| Error::Invalid("empty LZMA header".into()))?;
    let dict = header
        .get(1..5)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| Error::Invalid("short LZMA header".into()))?;
    let (lc, rest) = (props % 9, props / 9);
    let (lp, pb) = (rest % 5, rest / 5);
    let mut opts = liblzma::stream::LzmaOptions::new_preset(9)
        .map_err(|e| Error::Invalid(format!("LZMA options: {e}")))?;
    opts.dict_size(dict)
        .literal_context_bits(u32::from(lc))
        .literal_position_bits(u32::from(lp))
        .position_bits(u32::from(pb));
    let mut stream = liblzma::stream::Stream::new_lzma_encoder(&opts)
        .map_err(|e| Error::Invalid(format!("LZMA encoder: {e}")))?;
    let mut out = Vec::with_capacity(plain.len());
    loop {
        let before_in = stream.total_in();
        let consumed = usize::try_from(before_in).unwrap_or(usize::MAX);
        let input = plain.get(consumed..).unwrap_or_default();
        if out.capacity() == out.len() {
            out.reserve(1 << 20);
        }
        let status = stream
            .process_vec(input, &mut out, liblzma::stream::Action::Finish)
            .map_err(|e| Error::Invalid(format!("LZMA encoder: {e}")))?;
        if status == liblzma::stream::Status::StreamEnd {
            break;
        }
    }
    let size = (plain.len() as u64).to_le_bytes();
    let slot = out
        .get_mut(5..13)
        .ok_or_else(|| Error::Invalid("LZMA encoder wrote no header".into()))?;
    slot.copy_from_slice(&size);
    if out.first() != Some(&props) {
        return Err(Error::Invalid("LZMA encoder chose other properties".into()));
    }
    Ok(out)
}

/// Patches `image` (OVMF code) in place: flips the case of the first letter of the UI name
/// `module`, which must occur exactly once in the compressed volumes.
pub fn patch_dxe_module(image: &mut [u8], module: &str) -> Result<Patch, Error> {
    let (section, data, end) = find_lzma_section(image)?;
    let compressed = image
        .get(data..end)
        .ok_or_else(|| Error::Invalid("LZMA section out of the image".into()))?;
    // Sections are 4-byte aligned; trailing bytes after the stream are padding.
    let mut plain = decompress(compressed)?;
    let needle = utf16(module);
    let hits: Vec<usize> = plain
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle.as_slice())
        .map(|(i, _)| i)
        .collect();
    let at = match hits.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::Invalid(format!(
                "UI name {module} not in the DXE volume"
            )))
        }
        _ => {
            return Err(Error::Invalid(format!(
                "UI name {module} occurs {} times; pick a unique one",
                hits.len()
            )))
        }
    };
    let b = plain
        .get_mut(at)
        .ok_or_else(|| Error::Invalid("patch offset out of range".into()))?;
    if !b.is_ascii_alphabetic() {
        return Err(Error::Invalid(format!(
            "{module} does not start with a letter"
        )));
    }
    *b ^= 0x20;
    let (old_len, new_len) = recompress(image, data, end, &plain)?;
    Ok(Patch {
        module: module.to_owned(),
        section_offset: section,
        byte_offset: at,
        compressed: (old_len, new_len),
    })
}

/// Flips the bits `mask` of the byte at `offset` of the decompressed volumes and writes them
/// back compressed, as [`patch_dxe_module`] does: a code byte patched inside a compressed
/// module, for tests that a patch is pinpointed to its module. Returns the compressed
/// lengths, original and new.
pub fn patch_decompressed(
    image: &mut [u8],
    offset: usize,
    mask: u8,
) -> Result<(usize, usize), Error> {
    let (_, data, end) = find_lzma_section(image)?;
    let mut plain = decompress(
        image
            .get(data..end)
            .ok_or_else(|| Error::Invalid("LZMA section out of the image".into()))?,
    )?;
    let b = plain.get_mut(offset).ok_or_else(|| {
        Error::Invalid(format!(
            "offset {offset:#x} is past the decompressed volumes"
        ))
    })?;
    *b ^= mask;
    recompress(image, data, end, &plain)
}

/// Compresses `plain` into the LZMA section's data `data..end` with the header's properties,
/// zero-padded to the old length so that no size or offset in the image changes.
fn recompress(
    image: &mut [u8],
    data: usize,
    end: usize,
    plain: &[u8],
) -> Result<(usize, usize), Error> {
    let compressed = image
        .get(data..end)
        .ok_or_else(|| Error::Invalid("LZMA section out of the image".into()))?;
    let header = compressed
        .get(..13)
        .ok_or_else(|| Error::Invalid("short LZMA section".into()))?;
    let new = compress(plain, header)?;
    let old_len = compressed.len();
    if new.len() > old_len {
        return Err(Error::Invalid(format!(
            "recompressed volume is {} bytes, {} more than the section holds",
            new.len(),
            new.len().saturating_sub(old_len)
        )));
    }
    let slot = image
        .get_mut(data..end)
        .ok_or_else(|| Error::Invalid("LZMA section out of the image".into()))?;
    slot.fill(0);
    slot.get_mut(..new.len())
        .ok_or_else(|| Error::Invalid("patch does not fit".into()))?
        .copy_from_slice(&new);
    Ok((old_len, new.len()))
}

/// Decompresses the image's LZMA volume (for checks: exactly one byte differs after a patch).
pub fn decompressed_volume(image: &[u8]) -> Result<Vec<u8>, Error> {
    let (_, data, end) = find_lzma_section(image)?;
    decompress(
        image
            .get(data..end)
            .ok_or_else(|| Error::Invalid("LZMA section out of the image".into()))?,
    )
}
