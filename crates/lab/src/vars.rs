//! The UEFI variable store of an OVMF `VARS` image, for the Secure Boot scenario: copy one
//! authenticated variable (the `db` signature database) from Debian's Microsoft-enrolled store
//! into the empty one the golden server boots with.
//!
//! Layout (EDK2 MdeModulePkg VariableFormat.h): a firmware volume header (its length at byte
//! 0x30), then VARIABLE_STORE_HEADER (signature GUID, u32 size, format 0x5a, state 0xfe, 6
//! reserved bytes), then variables, each an AUTHENTICATED_VARIABLE_HEADER of 60 bytes
//! (StartId 0x55aa, State, Attributes, MonotonicCount, TimeStamp, PubKeyIndex, NameSize,
//! DataSize, VendorGuid), the UTF-16 name and the data, aligned to 4 bytes; unused space is
//! 0xff. Only the PK decides whether Secure Boot is enforced, so a `db` without a PK leaves the
//! firmware in setup mode (nothing enforced) while it still measures `db` into PCR 7.

use std::path::Path;

use crate::Error;

const STORE_HEADER: usize = 28;
const VAR_HEADER: usize = 60;
const START_ID: u16 = 0x55aa;
/// VAR_ADDED: a live variable (deleted and in-transition ones have other states).
const VAR_ADDED: u8 = 0x3f;

fn le16(d: &[u8], at: usize) -> Option<u16> {
    boardproof_formats::reader::le16_at(d, at)
}
fn le32(d: &[u8], at: usize) -> Option<usize> {
    boardproof_formats::reader::le32_at(d, at).and_then(|v| usize::try_from(v).ok())
}

/// (start of the variables, end of the store) of a VARS image.
fn store(d: &[u8]) -> Option<(usize, usize)> {
    let fv_len = usize::from(le16(d, 0x30)?);
    let size = le32(d, fv_len.checked_add(16)?)?;
    let end = fv_len.checked_add(size)?;
    (end <= d.len()).then_some((fv_len.checked_add(STORE_HEADER)?, end))
}

/// One live variable's bytes (header, name, data) named `name` in `d`.
pub fn find(d: &[u8], name: &str) -> Option<Vec<u8>> {
    let (mut at, end) = store(d)?;
    let want: Vec<u8> = name
        .encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect();
    while at.checked_add(VAR_HEADER)? <= end && le16(d, at)? == START_ID {
        let name_size = le32(d, at + 36)?;
        let data_size = le32(d, at + 40)?;
        let len = VAR_HEADER.checked_add(name_size)?.checked_add(data_size)?;
        let var = d.get(at..at.checked_add(len)?)?;
        if var.get(2) == Some(&VAR_ADDED) && var.get(VAR_HEADER..VAR_HEADER + name_size)? == want {
            return Some(var.to_vec());
        }
        at = at.checked_add(len)?.checked_add(3)? & !3;
    }
    None
}

/// Writes `out`: `empty` with the live variable `name` of `enrolled` as its only variable.
pub fn with_variable(empty: &Path, enrolled: &Path, name: &str, out: &Path) -> Result<(), Error> {
    let mut d = std::fs::read(empty).map_err(Error::io(empty))?;
    let src = std::fs::read(enrolled).map_err(Error::io(enrolled))?;
    let var = find(&src, name).ok_or_else(|| {
        Error::Invalid(format!("{}: no live variable {name}", enrolled.display()))
    })?;
    let (start, end) = store(&d)
        .ok_or_else(|| Error::Invalid(format!("{}: no variable store", empty.display())))?;
    let slot = d
        .get_mut(start..start.saturating_add(var.len()))
        .filter(|s| start + var.len() <= end && s.iter().all(|b| *b == 0xff))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{}: the variable store is not empty",
                empty.display()
            ))
        })?;
    slot.copy_from_slice(&var);
    std::fs::write(out, &d).map_err(Error::io(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On Debian's images: the `db` of the Microsoft-enrolled store lands as the first and only
    /// variable of the empty one, and nothing else in the image changes.
    #[test]
    fn db_copied_into_the_empty_store() {
        let empty = Path::new(crate::assets::OVMF_VARS);
        let ms = Path::new(crate::assets::OVMF_VARS_MS);
        if !empty.exists() || !ms.exists() {
            assert!(
                std::env::var("CI").is_err(),
                "ovmf is not installed under CI"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("vars.fd");
        with_variable(empty, ms, "db", &out).unwrap();
        let a = std::fs::read(empty).unwrap();
        let b = std::fs::read(&out).unwrap();
        assert_eq!(a.len(), b.len());
        let db = find(&b, "db").unwrap();
        assert_eq!(db, find(&std::fs::read(ms).unwrap(), "db").unwrap());
        let (start, _) = store(&a).unwrap();
        let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        assert!(changed.iter().all(|&i| i >= start && i < start + db.len()));
        assert!(find(&b, "PK").is_none());
    }
}
