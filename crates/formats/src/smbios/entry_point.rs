//! SMBIOS entry points: DMTF DSP0134 3.7.0, section 5.2 (2.1 32-bit and 3.0 64-bit entry points)
//! and the legacy `_DMI_` anchor that predates them.
//!
//! The entry point tells where the structure table lives and how long it is. It is checked
//! (anchor, declared length, checksum) before anything it says is believed.

use crate::error::{ErrorKind, ParseError};
use crate::reader::Reader;

/// Which entry point format a table was published with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryPointKind {
    /// `_SM_` (SMBIOS 2.1 – 2.8), 32-bit table address, exact table length and structure count.
    Smbios2,
    /// `_SM3_` (SMBIOS 3.0+), 64-bit table address, table *maximum* size, no structure count.
    Smbios3,
    /// A bare `_DMI_` anchor (DMI 2.0 era).
    LegacyDmi,
}

/// The SMBIOS version an entry point claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Document revision (3.x only; 0 otherwise).
    pub docrev: u8,
}

impl Version {
    /// True when this version is at least `major.minor`.
    pub fn at_least(&self, major: u8, minor: u8) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.docrev)
    }
}

/// A checked entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    /// The format.
    pub kind: EntryPointKind,
    /// The claimed SMBIOS version.
    pub version: Version,
    /// Physical address of the table (in a `dmidecode --dump-bin` file: its file offset).
    pub table_address: u64,
    /// Exact table length (2.x, legacy) or maximum table size (3.x).
    pub table_length: u32,
    /// Number of structures (2.x, legacy); 3.x tables end at type 127 or the length.
    pub structure_count: Option<u16>,
    /// Length of the entry point structure itself.
    pub length: usize,
}

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b)) == 0
}

/// Parses an entry point at the start of `bytes`.
pub fn parse_entry_point(bytes: &[u8]) -> Result<EntryPoint, ParseError> {
    let mut r = Reader::new(bytes, 0);
    if bytes.starts_with(b"_SM3_") {
        r.skip(5, "anchor")?;
        let _checksum = r.u8("checksum")?;
        let len = r.u8("entry point length")?;
        if len < 0x18 {
            return Err(ParseError {
                offset: 6,
                field: "entry point length",
                kind: ErrorKind::BadLength(len.into()),
            });
        }
        let major = r.u8("major version")?;
        let minor = r.u8("minor version")?;
        let docrev = r.u8("docrev")?;
        let _revision = r.u8("entry point revision")?;
        r.skip(1, "reserved")?;
        let table_length = r.u32_le("table maximum size")?;
        let table_address = r.u64_le("table address")?;
        let whole = bytes.get(..usize::from(len)).ok_or(ParseError {
            offset: bytes.len(),
            field: "entry point",
            kind: ErrorKind::Truncated,
        })?;
        if !checksum_ok(whole) {
            return Err(ParseError {
                offset: 5,
                field: "entry point checksum",
                kind: ErrorKind::BadChecksum,
            });
        }
        return Ok(EntryPoint {
            kind: EntryPointKind::Smbios3,
            version: Version {
                major,
                minor,
                docrev,
            },
            table_address,
            table_length,
            structure_count: None,
            length: usize::from(len),
        });
    }
    if bytes.starts_with(b"_SM_") {
        r.skip(4, "anchor")?;
        let _checksum = r.u8("checksum")?;
        let len = r.u8("entry point length")?;
        // 0x1E is a known firmware bug (SMBIOS 2.1 claimed 0x1E instead of 0x1F); dmidecode
        // accepts it too.
        if len < 0x1E {
            return Err(ParseError {
                offset: 5,
                field: "entry point length",
                kind: ErrorKind::BadLength(len.into()),
            });
        }
        let major = r.u8("major version")?;
        let minor = r.u8("minor version")?;
        let whole = bytes.get(..usize::from(len)).ok_or(ParseError {
            offset: bytes.len(),
            field: "entry point",
            kind: ErrorKind::Truncated,
        })?;
        if !checksum_ok(whole) {
            return Err(ParseError {
                offset: 4,
                field: "entry point checksum",
                kind: ErrorKind::BadChecksum,
            });
        }
        let mut ep = parse_dmi_anchor(bytes, 0x10)?;
        ep.kind = EntryPointKind::Smbios2;
        ep.version = Version {
            major,
            minor,
            docrev: 0,
        };
        ep.length = usize::from(len);
        return Ok(ep);
    }
    if bytes.starts_with(b"_DMI_") {
        return parse_dmi_anchor(bytes, 0);
    }
    Err(ParseError {
        offset: 0,
        field: "entry point anchor",
        kind: ErrorKind::BadMagic,
    })
}

/// The 15-byte `_DMI_` intermediate entry point, at `at`.
fn parse_dmi_anchor(bytes: &[u8], at: usize) -> Result<EntryPoint, ParseError> {
    let body = bytes.get(at..).unwrap_or(&[]);
    let mut r = Reader::new(body, at);
    let anchor = r.take(5, "intermediate anchor")?;
    if anchor != b"_DMI_" {
        return Err(ParseError {
            offset: at,
            field: "intermediate anchor",
            kind: ErrorKind::BadMagic,
        });
    }
    let _checksum = r.u8("intermediate checksum")?;
    let table_length = r.u16_le("table length")?;
    let table_address = r.u32_le("table address")?;
    let count = r.u16_le("number of structures")?;
    let bcd = r.u8("BCD revision")?;
    let whole = body.get(..15).ok_or(ParseError {
        offset: at,
        field: "intermediate entry point",
        kind: ErrorKind::Truncated,
    })?;
    if !checksum_ok(whole) {
        return Err(ParseError {
            offset: at.saturating_add(5),
            field: "intermediate checksum",
            kind: ErrorKind::BadChecksum,
        });
    }
    Ok(EntryPoint {
        kind: EntryPointKind::LegacyDmi,
        version: Version {
            major: bcd >> 4,
            minor: bcd & 0x0F,
            docrev: 0,
        },
        table_address: table_address.into(),
        table_length: table_length.into(),
        structure_count: Some(count),
        length: 15,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix_checksum(ep: &mut [u8], at: usize, len: usize) {
        ep[at] = 0;
        let sum = ep[..len].iter().fold(0u8, |a, b| a.wrapping_add(*b));
        ep[at] = 0u8.wrapping_sub(sum);
    }

    #[test]
    fn smbios3_entry_point() {
        let mut ep = vec![0u8; 24];
        ep[..5].copy_from_slice(b"_SM3_");
        ep[6] = 24; // length
        ep[7] = 3; // major
        ep[8] = 5; // minor
        ep[9] = 0; // docrev
        ep[10] = 1; // revision
        ep[12..16].copy_from_slice(&0x16b1u32.to_le_bytes()); // max size
        ep[16..24].copy_from_slice(&32u64.to_le_bytes()); // address
        fix_checksum(&mut ep, 5, 24);
        let p = parse_entry_point(&ep).unwrap();
        assert_eq!(p.kind, EntryPointKind::Smbios3);
        assert_eq!(p.version.to_string(), "3.5.0");
        assert_eq!(p.table_length, 0x16b1);
        assert_eq!(p.table_address, 32);
        assert_eq!(p.structure_count, None);
        // any single changed byte must break the checksum
        ep[12] ^= 1;
        assert_eq!(
            parse_entry_point(&ep).unwrap_err().kind,
            ErrorKind::BadChecksum
        );
    }

    #[test]
    fn smbios2_entry_point_with_intermediate() {
        let mut ep = vec![0u8; 31];
        ep[..4].copy_from_slice(b"_SM_");
        ep[5] = 0x1F;
        ep[6] = 2;
        ep[7] = 7;
        ep[0x10..0x15].copy_from_slice(b"_DMI_");
        ep[0x16..0x18].copy_from_slice(&2736u16.to_le_bytes()); // table length
        ep[0x18..0x1C].copy_from_slice(&32u32.to_le_bytes()); // address
        ep[0x1C..0x1E].copy_from_slice(&69u16.to_le_bytes()); // count
        ep[0x1E] = 0x27;
        fix_checksum(&mut ep[0x10..], 5, 15);
        fix_checksum(&mut ep, 4, 31);
        let p = parse_entry_point(&ep).unwrap();
        assert_eq!(p.kind, EntryPointKind::Smbios2);
        assert_eq!((p.version.major, p.version.minor), (2, 7));
        assert_eq!(p.structure_count, Some(69));
        assert_eq!(p.table_length, 2736);
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(
            parse_entry_point(b"hello").unwrap_err().kind,
            ErrorKind::BadMagic
        );
        assert_eq!(
            parse_entry_point(b"_SM3_").unwrap_err().kind,
            ErrorKind::Truncated
        );
    }
}
