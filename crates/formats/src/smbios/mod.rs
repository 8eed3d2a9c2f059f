//! SMBIOS (DMTF DSP0134 3.7.0): entry points, the structure table and typed records.
//!
//! Threat: an attacker who controls firmware controls this table. It is read as hostile input:
//! every length is checked against the bytes that are really there, walking stops at the first
//! malformed structure, and nothing is allocated from a length the table gives.

pub mod entry_point;
pub mod records;
pub mod table;

pub use entry_point::{parse_entry_point, EntryPoint, EntryPointKind, Version};
pub use records::{decode, Record};
pub use table::{Structure, Structures, Table, MAX_STRUCTURES};

use crate::error::{ErrorKind, ParseError};

/// Opens a `dmidecode --dump-bin` file: entry point at offset 0, table where it points (32).
pub fn from_dump(file: &[u8]) -> Result<(EntryPoint, Table<'_>), ParseError> {
    let ep = parse_entry_point(file)?;
    let table = table::locate_in_dump(file, &ep)?;
    Ok((ep, table))
}

/// Opens the kernel's sysfs pair `smbios_entry_point` + `DMI`: the table is the whole DMI file.
pub fn from_sysfs<'a>(
    entry_point: &[u8],
    dmi: &'a [u8],
) -> Result<(EntryPoint, Table<'a>), ParseError> {
    let ep = parse_entry_point(entry_point)?;
    if ep.structure_count.is_some() && dmi.len() < usize::try_from(ep.table_length).unwrap_or(0) {
        return Err(ParseError {
            offset: dmi.len(),
            field: "structure table",
            kind: ErrorKind::Truncated,
        });
    }
    Ok((
        ep.clone(),
        Table::new(dmi, 0, ep.version, ep.structure_count),
    ))
}
