//! The UEFI variable store inside an NVRAM volume (EFI_SYSTEM_NV_DATA_FV_GUID): an OVMF `VARS`
//! file, or the NVRAM volume of a flash dump. Layout of EDK2's MdeModulePkg
//! (Include/Guid/VariableFormat.h): after the volume header, VARIABLE_STORE_HEADER (signature
//! GUID, size, format 0x5a, state 0xfe), then variables, each a VARIABLE_HEADER (32 bytes) or an
//! AUTHENTICATED_VARIABLE_HEADER (60 bytes: monotonic count, timestamp and public key index
//! added), its UTF-16 name and its data, the next header 4-byte aligned.
//!
//! Secure Boot's keys and databases (PK, KEK, db, dbx) and the boot order live here: a changed
//! `db` lets other code boot. Each variable is listed with its state; deleted and superseded
//! copies stay in flash until the store is reclaimed, and are listed as such.

use super::{sha256, Region};
use crate::error::{ErrorKind, ParseError};
use crate::guid::{utf16z, Guid};
use crate::reader::{le16_at, le32_at, le64_at};

/// gEfiVariableGuid: a store of VARIABLE_HEADERs.
pub const VARIABLE_STORE: Guid = Guid([
    0x16, 0x36, 0xcf, 0xdd, 0x75, 0x32, 0x64, 0x41, 0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d,
]);
/// gEfiAuthenticatedVariableGuid: a store of AUTHENTICATED_VARIABLE_HEADERs.
pub const AUTH_VARIABLE_STORE: Guid = Guid([
    0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43, 0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92,
]);

const START_ID: u16 = 0x55aa;
/// Most variables one store may hold.
pub const MAX_VARIABLES: usize = 65_536;

/// A variable store.
#[derive(Debug, Clone)]
pub struct Store {
    /// Authenticated headers.
    pub authenticated: bool,
    /// Offset of the store header in the input.
    pub offset: usize,
    /// Size the store header declares.
    pub size: usize,
    /// The variables, in store order, live or not.
    pub variables: Vec<Variable>,
    /// What follows the last variable inside the store (erased, or not).
    pub free: Region,
}

/// One variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Offset of its header in the input.
    pub offset: usize,
    /// Header, name and data: its length as stored, before alignment.
    pub size: usize,
    /// State byte (0x3f added; 0x3e added, deletion in progress; others deleted or invalid).
    pub state: u8,
    /// Attributes (non-volatile 1, boot service 2, runtime 4, time-based authenticated 0x20…).
    pub attributes: u32,
    /// The vendor GUID (with the name, the variable's identity).
    pub vendor: Guid,
    /// The name.
    pub name: String,
    /// Data length.
    pub data_size: usize,
    /// SHA-256 of the data.
    pub data_sha256: [u8; 32],
    /// SHA-256 of header, name and data as stored.
    pub sha256: [u8; 32],
    /// MonotonicCount and TimeStamp (authenticated headers): they change on every write.
    pub written: Option<(u64, [u8; 16])>,
}

impl Variable {
    /// Whether firmware reads it: VAR_ADDED, or added with its deletion not completed.
    pub fn is_live(&self) -> bool {
        self.state == 0x3f || self.state == 0x3e
    }
}

/// Reads the variable store of an NVRAM volume `fv` (starting at `base` of the input) whose
/// header is `header_length` bytes. `None`: the volume holds no variable store this reads.
pub(crate) fn parse(
    fv: &[u8],
    base: usize,
    header_length: usize,
) -> Result<Option<Store>, ParseError> {
    let at = |rel: usize| base.saturating_add(rel);
    let Some(sig) = fv
        .get(header_length..header_length.saturating_add(16))
        .and_then(Guid::from_slice)
    else {
        return Ok(None);
    };
    let authenticated = match sig {
        AUTH_VARIABLE_STORE => true,
        VARIABLE_STORE => false,
        _ => return Ok(None),
    };
    let h = header_length;
    let size = le32_at(fv, h.saturating_add(16)).ok_or_else(|| {
        ParseError::at(
            at(h.saturating_add(16)),
            "variable store Size",
            ErrorKind::Truncated,
        )
    })?;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let end = h
        .checked_add(size)
        .filter(|e| size >= 28 && *e <= fv.len())
        .ok_or_else(|| {
            ParseError::at(
                at(h.saturating_add(16)),
                "variable store Size",
                ErrorKind::BadLength(size as u64),
            )
        })?;
    let header_len: usize = if authenticated { 60 } else { 32 };
    let mut pos = h.saturating_add(28);
    let mut variables = Vec::new();
    while pos.saturating_add(header_len) <= end && le16_at(fv, pos) == Some(START_ID) {
        if variables.len() >= MAX_VARIABLES {
            return Err(ParseError::at(
                at(pos),
                "variable",
                ErrorKind::TooMany(variables.len() as u64),
            ));
        }
        let state = *fv.get(pos.saturating_add(2)).unwrap_or(&0);
        let attributes = le32_at(fv, pos.saturating_add(4)).unwrap_or(0);
        let (sizes_at, guid_at, written) = if authenticated {
            let count = le64_at(fv, pos.saturating_add(8)).unwrap_or(0);
            let mut ts = [0u8; 16];
            if let Some(t) = fv.get(pos.saturating_add(16)..pos.saturating_add(32)) {
                ts.copy_from_slice(t);
            }
            (
                pos.saturating_add(36),
                pos.saturating_add(44),
                Some((count, ts)),
            )
        } else {
            (pos.saturating_add(8), pos.saturating_add(16), None)
        };
        let name_size = le32_at(fv, sizes_at)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| ParseError::at(at(sizes_at), "NameSize", ErrorKind::Truncated))?;
        let data_size = le32_at(fv, sizes_at.saturating_add(4))
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| {
                ParseError::at(
                    at(sizes_at.saturating_add(4)),
                    "DataSize",
                    ErrorKind::Truncated,
                )
            })?;
        let vendor = fv
            .get(guid_at..guid_at.saturating_add(16))
            .and_then(Guid::from_slice)
            .ok_or_else(|| ParseError::at(at(guid_at), "VendorGuid", ErrorKind::Truncated))?;
        let name_at = pos.saturating_add(header_len);
        let var_end = name_at
            .checked_add(name_size)
            .and_then(|e| e.checked_add(data_size))
            .filter(|e| *e <= end)
            .ok_or_else(|| {
                ParseError::at(
                    at(sizes_at),
                    "variable (runs past its store)",
                    ErrorKind::BadLength((name_size as u64).saturating_add(data_size as u64)),
                )
            })?;
        let name_bytes = fv
            .get(name_at..name_at.saturating_add(name_size))
            .unwrap_or_default();
        let data = fv
            .get(name_at.saturating_add(name_size)..var_end)
            .unwrap_or_default();
        variables.push(Variable {
            offset: at(pos),
            size: var_end.saturating_sub(pos),
            state,
            attributes,
            vendor,
            name: utf16z(name_bytes),
            data_size,
            data_sha256: sha256(data),
            sha256: sha256(fv.get(pos..var_end).unwrap_or_default()),
            written,
        });
        // HEADER_ALIGN: the next header starts 4-byte aligned.
        pos = var_end.saturating_add(3) & !3;
    }
    let free_from = pos.min(end);
    let free_bytes = fv.get(free_from..end).unwrap_or_default();
    Ok(Some(Store {
        authenticated,
        offset: at(h),
        size,
        variables,
        free: Region {
            offset: at(free_from),
            size: free_bytes.len(),
            empty: super::all_erased(free_bytes, 0xff),
            sha256: sha256(free_bytes),
        },
    }))
}
