//! ACPI system description table headers: ACPI 6.5, section 5.2.6 (the common 36-byte header)
//! and 5.2.10 (FACS, which has its own shorter header).
//!
//! boardproof hashes whole tables; this module checks that a table is what it says it is
//! (signature, declared length equal to the bytes present, checksum) and blanks the few FACS
//! fields the operating system writes at run time, so that a clean reboot hashes the same.

use crate::error::{ErrorKind, ParseError};
use crate::reader::Reader;

/// The decoded common header of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableHeader {
    /// Four-character signature, escaped if not printable.
    pub signature: String,
    /// Length the header declares.
    pub length: u32,
    /// Revision (absent for FACS).
    pub revision: Option<u8>,
    /// OEM ID (absent for FACS).
    pub oem_id: Option<String>,
    /// OEM table ID (absent for FACS).
    pub oem_table_id: Option<String>,
    /// OEM revision (absent for FACS).
    pub oem_revision: Option<u32>,
    /// Creator ID (absent for FACS).
    pub creator_id: Option<String>,
    /// Creator revision (absent for FACS).
    pub creator_revision: Option<u32>,
    /// Whether all bytes sum to zero (FACS has no checksum: `None`).
    pub checksum_valid: Option<bool>,
}

fn text(bytes: &[u8]) -> String {
    let trimmed: &[u8] = match bytes.iter().rposition(|b| *b != 0 && *b != b' ') {
        Some(last) => bytes.get(..=last).unwrap_or(bytes),
        None => &[],
    };
    crate::smbios::table::escape_bytes(trimmed)
}

/// Parses the header of a whole table held in `bytes`.
///
/// The declared length must equal `bytes.len()`: the kernel exposes each table exactly, so a
/// mismatch means the table lies about itself.
pub fn parse_header(bytes: &[u8]) -> Result<TableHeader, ParseError> {
    let mut r = Reader::new(bytes, 0);
    let sig = r.take(4, "signature")?;
    let length = r.u32_le("length")?;
    if usize::try_from(length).ok() != Some(bytes.len()) {
        return Err(ParseError {
            offset: 4,
            field: "length",
            kind: ErrorKind::BadLength(length.into()),
        });
    }
    if sig == b"FACS" {
        return Ok(TableHeader {
            signature: "FACS".into(),
            length,
            revision: None,
            oem_id: None,
            oem_table_id: None,
            oem_revision: None,
            creator_id: None,
            creator_revision: None,
            checksum_valid: None,
        });
    }
    let revision = r.u8("revision")?;
    let _checksum = r.u8("checksum")?;
    let oem_id = text(r.take(6, "OEM ID")?);
    let oem_table_id = text(r.take(8, "OEM table ID")?);
    let oem_revision = r.u32_le("OEM revision")?;
    let creator_id = text(r.take(4, "creator ID")?);
    let creator_revision = r.u32_le("creator revision")?;
    let sum = bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    Ok(TableHeader {
        signature: crate::smbios::table::escape_bytes(sig),
        length,
        revision: Some(revision),
        oem_id: Some(oem_id),
        oem_table_id: Some(oem_table_id),
        oem_revision: Some(oem_revision),
        creator_id: Some(creator_id),
        creator_revision: Some(creator_revision),
        checksum_valid: Some(sum == 0),
    })
}

/// FACS fields written by the OS at run time (ACPI 6.5 table 5.14): firmware waking vector
/// (12..16), global lock (16..20), X firmware waking vector (24..32), OSPM flags (36..40).
const FACS_VOLATILE: [(usize, usize); 4] = [(12, 16), (16, 20), (24, 32), (36, 40)];

/// The bytes to hash as the table's identity: the table itself, except that in a FACS the
/// fields the OS writes at run time are zeroed.
pub fn identity_bytes(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !bytes.starts_with(b"FACS") {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut owned = bytes.to_vec();
    for (start, end) in FACS_VOLATILE {
        if let Some(field) = owned.get_mut(start..end) {
            field.fill(0);
        }
    }
    std::borrow::Cow::Owned(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(sig: &[u8; 4], len: usize) -> Vec<u8> {
        let mut t = vec![0u8; len];
        t[..4].copy_from_slice(sig);
        t[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        t[8] = 2; // revision
        t[10..16].copy_from_slice(b"BOCHS ");
        t[16..24].copy_from_slice(b"BXPC    ");
        t[24..28].copy_from_slice(&1u32.to_le_bytes());
        t[28..32].copy_from_slice(b"BXPC");
        let sum = t.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        t[9] = 0u8.wrapping_sub(sum);
        t
    }

    #[test]
    fn header_fields_and_checksum() {
        let t = table(b"APIC", 64);
        let h = parse_header(&t).unwrap();
        assert_eq!(h.signature, "APIC");
        assert_eq!(h.oem_id.as_deref(), Some("BOCHS"));
        assert_eq!(h.oem_table_id.as_deref(), Some("BXPC"));
        assert_eq!(h.checksum_valid, Some(true));
        let mut bad = t.clone();
        bad[40] ^= 0x10;
        assert_eq!(parse_header(&bad).unwrap().checksum_valid, Some(false));
    }

    #[test]
    fn length_must_match() {
        let mut t = table(b"SSDT", 40);
        t.pop();
        assert_eq!(parse_header(&t).unwrap_err().field, "length");
        assert_eq!(
            parse_header(&t[..6]).unwrap_err().kind,
            ErrorKind::Truncated
        );
    }

    #[test]
    fn facs_run_time_fields_do_not_change_identity() {
        let mut a = vec![0u8; 64];
        a[..4].copy_from_slice(b"FACS");
        a[4..8].copy_from_slice(&64u32.to_le_bytes());
        a[8..12].copy_from_slice(&0xdead_beefu32.to_le_bytes()); // hardware signature
        let mut b = a.clone();
        b[16] = 1; // global lock taken
        b[24] = 0x80; // waking vector
        assert_eq!(identity_bytes(&a), identity_bytes(&b));
        b[8] ^= 1; // hardware signature is identity
        assert_ne!(identity_bytes(&a), identity_bytes(&b));
        assert!(parse_header(&a).unwrap().checksum_valid.is_none());
    }
}
