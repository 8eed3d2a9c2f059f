//! Decoded event data for the common event types (PFP 10.4), for people and for findings
//! that must say *which* firmware blob, boot application or variable changed.

use super::{device_path_text, Event, EV_NO_ACTION};
use crate::reader::{le32_at as le32, le64_at as le64};

/// What an event's data says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventData {
    /// EV_NO_ACTION: its signature (`Spec ID Event03`, `StartupLocality`, …) and details.
    NoAction(String),
    /// UEFI_VARIABLE_DATA: vendor GUID, name, length of the value.
    Variable {
        /// Vendor GUID.
        guid: String,
        /// Variable name.
        name: String,
        /// Bytes of the value.
        data_len: u64,
    },
    /// UEFI_IMAGE_LOAD_EVENT: where the image was loaded and its device path as text.
    Image {
        /// Address in memory.
        location: u64,
        /// Length in memory.
        length: u64,
        /// Device path text.
        path: String,
    },
    /// UEFI_PLATFORM_FIRMWARE_BLOB(2): an optional description, base and length.
    Blob {
        /// Description (BLOB2 only).
        description: Option<String>,
        /// Base address.
        base: u64,
        /// Length.
        length: u64,
    },
    /// UEFI_GPT_DATA: disk GUID and number of partitions.
    Gpt {
        /// Disk GUID.
        disk_guid: String,
        /// Partitions listed.
        partitions: u64,
    },
    /// UEFI_HANDOFF_TABLE_POINTERS(2): description and vendor GUIDs of the tables.
    HandoffTables {
        /// Description (TABLES2 only).
        description: Option<String>,
        /// Table GUIDs.
        tables: Vec<String>,
    },
    /// EV_SEPARATOR: 0 normally, 0xFFFFFFFF for an error.
    Separator(u32),
    /// Text (EV_EFI_ACTION, EV_ACTION, EV_IPL, EV_POST_CODE, EV_S_CRTM_VERSION, EV_EVENT_TAG).
    Text(String),
    /// Anything else: length only.
    Bytes(usize),
}

use crate::guid::{guid_text, utf16z as utf16};

/// Printable ASCII/UTF-8 text without trailing NULs, or `None`.
fn text(b: &[u8]) -> Option<String> {
    let t = std::str::from_utf8(b).ok()?.trim_end_matches('\0');
    (!t.is_empty() && t.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'))
        .then(|| t.to_owned())
}

/// EV_S_CRTM_VERSION: a UCS-2 string (the PC Client profile), in practice also ASCII or a
/// bare GUID. Text only when the bytes are wholly that text and its terminator; anything else
/// (a string followed by other bytes) is shown as bytes, as tpm2_eventlog does, not as the
/// characters a wrong decoding makes of it.
fn crtm_version(d: &[u8]) -> Option<EventData> {
    if d.iter().all(|b| *b == 0) {
        return Some(EventData::Text(String::new()));
    }
    if let Some(t) = text(d) {
        return Some(EventData::Text(t));
    }
    if d.len() == 16 {
        return Some(EventData::Text(guid_text(d)));
    }
    let units: Vec<u16> = d
        .chunks(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect();
    let end = units.iter().position(|u| *u == 0).unwrap_or(units.len());
    let (chars, rest) = units.split_at(end);
    let printable = |u: &u16| (0x20..0x7f).contains(u);
    if !chars.is_empty() && chars.iter().all(printable) && rest.iter().all(|u| *u == 0) {
        return Some(EventData::Text(utf16(d)));
    }
    None
}

fn variable(d: &[u8]) -> Option<EventData> {
    let guid = guid_text(d.get(..16)?);
    let name_len = usize::try_from(le64(d, 16)?).ok()?;
    let data_len = le64(d, 24)?;
    let name_bytes = d.get(32..32usize.checked_add(name_len.checked_mul(2)?)?)?;
    Some(EventData::Variable {
        guid,
        name: utf16(name_bytes),
        data_len,
    })
}

fn image(d: &[u8]) -> Option<EventData> {
    let location = le64(d, 0)?;
    let length = le64(d, 8)?;
    let path_len = usize::try_from(le64(d, 24)?).ok()?;
    let path = d.get(32..32usize.checked_add(path_len)?)?;
    Some(EventData::Image {
        location,
        length,
        path: device_path_text(path),
    })
}

fn handoff(d: &[u8], with_description: bool) -> Option<EventData> {
    let (description, rest) = if with_description {
        let n = usize::from(*d.first()?);
        (
            Some(text(d.get(1..1usize.checked_add(n)?)?).unwrap_or_default()),
            d.get(1usize.checked_add(n)?..)?,
        )
    } else {
        (None, d)
    };
    let count = le64(rest, 0)?;
    // Each entry: GUID (16) + pointer (8).
    let mut tables = Vec::new();
    for i in 0..usize::try_from(count).ok()?.min(64) {
        let at = 8usize.checked_add(i.checked_mul(24)?)?;
        tables.push(guid_text(rest.get(at..at.checked_add(16)?)?));
    }
    Some(EventData::HandoffTables {
        description,
        tables,
    })
}

fn decode(e: &Event<'_>) -> Option<EventData> {
    let d = e.data;
    Some(match e.event_type {
        EV_NO_ACTION => {
            let sig = d
                .get(..16)
                .map(|s| String::from_utf8_lossy(s).trim_end_matches('\0').to_owned());
            match sig.as_deref() {
                Some("StartupLocality") => {
                    EventData::NoAction(format!("StartupLocality {}", d.get(16)?))
                }
                Some(s) if s.chars().all(|c| c.is_ascii_graphic() || c == ' ') => {
                    EventData::NoAction(s.to_owned())
                }
                _ => EventData::NoAction(format!("{} bytes", d.len())),
            }
        }
        0x4 => EventData::Separator(le32(d, 0)?),
        0x8 => crtm_version(d)?,
        0x1 if d.len() == 16 => EventData::Blob {
            description: None,
            base: le64(d, 0)?,
            length: le64(d, 8)?,
        },
        0x1 | 0x5 | 0xd | 0x8000_0007 | 0x8000_0010 => EventData::Text(text(d)?),
        0x6 => {
            // Linux's tagged event: id (4), size (4), then the description.
            let size = usize::try_from(le32(d, 4)?).ok()?;
            EventData::Text(text(d.get(8..8usize.checked_add(size)?)?)?)
        }
        0x8000_0001 | 0x8000_0002 | 0x8000_000c | 0x8000_00e0 => variable(d)?,
        0x8000_0003..=0x8000_0005 => image(d)?,
        0x8000_0006 => EventData::Gpt {
            disk_guid: guid_text(d.get(56..72)?),
            partitions: le64(d, 92)?,
        },
        0x8000_0008 => EventData::Blob {
            description: None,
            base: le64(d, 0)?,
            length: le64(d, 8)?,
        },
        0x8000_000a => {
            let n = usize::from(*d.first()?);
            let rest = 1usize.checked_add(n)?;
            EventData::Blob {
                description: Some(text(d.get(1..rest)?).unwrap_or_default()),
                base: le64(d, rest)?,
                length: le64(d, rest.checked_add(8)?)?,
            }
        }
        0x8000_0009 => handoff(d, false)?,
        0x8000_000b => handoff(d, true)?,
        _ => return None,
    })
}

/// Decodes an event's data; data that does not decode as its type says is `Bytes`.
pub fn describe(e: &Event<'_>) -> EventData {
    decode(e).unwrap_or(EventData::Bytes(e.data.len()))
}

impl std::fmt::Display for EventData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventData::NoAction(s) => write!(f, "{s}"),
            EventData::Variable {
                guid,
                name,
                data_len,
            } => {
                write!(f, "variable {name} ({guid}), {data_len} bytes")
            }
            EventData::Image {
                location,
                length,
                path,
            } => {
                write!(f, "image {path} at {location:#x}, {length} bytes")
            }
            EventData::Blob {
                description,
                base,
                length,
            } => match description {
                Some(d) => write!(f, "firmware blob {d} at {base:#x}, {length:#x} bytes"),
                None => write!(f, "firmware blob at {base:#x}, {length:#x} bytes"),
            },
            EventData::Gpt {
                disk_guid,
                partitions,
            } => {
                write!(f, "GPT of disk {disk_guid}, {partitions} partitions")
            }
            EventData::HandoffTables {
                description,
                tables,
            } => {
                if let Some(d) = description {
                    write!(f, "{d}: ")?;
                }
                write!(f, "tables {}", tables.join(", "))
            }
            EventData::Separator(0) => write!(f, "separator"),
            EventData::Separator(v) => write!(f, "separator {v:#010x} (error)"),
            EventData::Text(s) => write!(f, "{s:?}"),
            EventData::Bytes(n) => write!(f, "{n} bytes"),
        }
    }
}
