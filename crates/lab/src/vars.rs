//! The UEFI variable store of an OVMF `VARS` image, for the Secure Boot scenario: copy one
//! authenticated variable (the `db` signature database) from Debian's Microsoft-enrolled store
//! into the empty one the golden server boots with.
//!
//! The store is read by `formats::uefi::nvram` (EDK2's VariableFormat.h: each variable a header,
//! its UTF-16 name and its data, 4-byte aligned; unused space 0xff); a variable is copied whole,
//! header included, into the empty store's unused space. Only the PK decides whether Secure Boot is enforced, so a `db` without a PK leaves the
//! firmware in setup mode (nothing enforced) while it still measures `db` into PCR 7.

use std::path::Path;

use boardproof_formats::uefi::{self, nvram::Store, TopItem};

use crate::Error;

/// The variable store of a VARS image, read by `formats::uefi` (its first NVRAM volume).
fn store(d: &[u8]) -> Option<Store> {
    uefi::parse_image(d)
        .ok()?
        .items
        .into_iter()
        .find_map(|i| match i {
            TopItem::Volume(v) => v.variables.map(|s| *s),
            _ => None,
        })
}

/// One live variable's bytes (header, name and data) named `name` in `d`.
pub fn find(d: &[u8], name: &str) -> Option<Vec<u8>> {
    let var = store(d)?
        .variables
        .into_iter()
        .find(|v| v.is_live() && v.name == name)?;
    d.get(var.offset..var.offset.checked_add(var.size)?)
        .map(<[u8]>::to_vec)
}

/// Writes `out`: `empty` with the live variable `name` of `enrolled` as its only variable.
pub fn with_variable(empty: &Path, enrolled: &Path, name: &str, out: &Path) -> Result<(), Error> {
    let mut d = std::fs::read(empty).map_err(Error::io(empty))?;
    let src = std::fs::read(enrolled).map_err(Error::io(enrolled))?;
    let var = find(&src, name).ok_or_else(|| {
        Error::Invalid(format!("{}: no live variable {name}", enrolled.display()))
    })?;
    let free = store(&d)
        .ok_or_else(|| Error::Invalid(format!("{}: no variable store", empty.display())))?
        .free;
    let start = free.offset;
    let slot = d
        .get_mut(start..start.saturating_add(var.len()))
        .filter(|s| var.len() <= free.size && s.iter().all(|b| *b == 0xff))
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
        let (Some(empty), Some(ms)) = (
            boardproof_testkit::require_path(crate::assets::OVMF_VARS, "Debian package ovmf"),
            boardproof_testkit::require_path(crate::assets::OVMF_VARS_MS, "Debian package ovmf"),
        ) else {
            return;
        };
        let (empty, ms) = (empty.as_path(), ms.as_path());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("vars.fd");
        with_variable(empty, ms, "db", &out).unwrap();
        let a = std::fs::read(empty).unwrap();
        let b = std::fs::read(&out).unwrap();
        assert_eq!(a.len(), b.len());
        let db = find(&b, "db").unwrap();
        assert_eq!(db, find(&std::fs::read(ms).unwrap(), "db").unwrap());
        let start = store(&a).unwrap().free.offset;
        let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        assert!(changed.iter().all(|&i| i >= start && i < start + db.len()));
        assert!(find(&b, "PK").is_none());
    }
}
