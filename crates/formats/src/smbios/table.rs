//! The SMBIOS structure table: DMTF DSP0134 3.7.0, section 6.1 (structure header, formatted
//! area, string set).
//!
//! Walking is lazy and stops at the first malformed structure, which is reported with its
//! absolute offset; structures before it stay usable. This is also how dmidecode behaves
//! ("Invalid entry length … DMI table is broken! Stop."), so both tools see the same prefix.

use crate::error::{ErrorKind, ParseError};
use crate::reader::{le16_at, le32_at, le64_at};
use crate::smbios::entry_point::{EntryPoint, Version};

/// Upper bound on structures walked in one table; real tables hold a few hundred.
pub const MAX_STRUCTURES: usize = 16_384;

/// Structure type 127: end of table.
pub const TYPE_END_OF_TABLE: u8 = 127;

/// A structure table with the version that governs its decoding.
#[derive(Debug, Clone)]
pub struct Table<'a> {
    bytes: &'a [u8],
    base: usize,
    version: Version,
    count: Option<u16>,
}

impl<'a> Table<'a> {
    /// A table over `bytes`, whose first byte sits at absolute offset `base` of the input file.
    pub fn new(bytes: &'a [u8], base: usize, version: Version, count: Option<u16>) -> Self {
        Self {
            bytes,
            base,
            version,
            count,
        }
    }

    /// The SMBIOS version from the entry point.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The table bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Iterates over the structures, up to and including type 127.
    pub fn structures(&self) -> Structures<'a> {
        Structures {
            bytes: self.bytes,
            base: self.base,
            pos: 0,
            seen: 0,
            count: self.count,
            done: false,
        }
    }
}

/// Lazy iterator over a table's structures; yields at most one error, then ends.
#[derive(Debug, Clone)]
pub struct Structures<'a> {
    bytes: &'a [u8],
    base: usize,
    pos: usize,
    seen: usize,
    count: Option<u16>,
    done: bool,
}

impl<'a> Structures<'a> {
    fn fail(
        &mut self,
        at: usize,
        field: &'static str,
        kind: ErrorKind,
    ) -> Option<Result<Structure<'a>, ParseError>> {
        self.done = true;
        Some(Err(ParseError {
            offset: self.base.saturating_add(at),
            field,
            kind,
        }))
    }
}

impl<'a> Iterator for Structures<'a> {
    type Item = Result<Structure<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(n) = self.count {
            if self.seen >= usize::from(n) {
                self.done = true;
                return None;
            }
        }
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or(&[]);
        if rest.len() < 4 {
            self.done = true;
            // A 2.x table that declares more structures than it holds is broken; a 3.x table
            // simply ends at its maximum size.
            if self.count.is_some() || !rest.is_empty() {
                return self.fail(start, "structure header", ErrorKind::Truncated);
            }
            return None;
        }
        if self.seen >= MAX_STRUCTURES {
            return self.fail(start, "structure", ErrorKind::TooMany(self.seen as u64));
        }
        let kind = rest.first().copied().unwrap_or(0);
        let length = usize::from(rest.get(1).copied().unwrap_or(0));
        let handle = le16_at(rest, 2).unwrap_or(0);
        if length < 4 {
            return self.fail(
                start.saturating_add(1),
                "structure length",
                ErrorKind::BadLength(length as u64),
            );
        }
        let Some(formatted) = rest.get(..length) else {
            return self.fail(start, "structure formatted area", ErrorKind::Truncated);
        };
        // The string set ends with two NULs; a structure without strings has just the two.
        let tail = rest.get(length..).unwrap_or(&[]);
        let Some(end) = tail.windows(2).position(|w| w == [0, 0]) else {
            return self.fail(
                start.saturating_add(length),
                "structure string set",
                ErrorKind::Truncated,
            );
        };
        let strings = tail.get(..end).unwrap_or(&[]);
        let total = length.saturating_add(end).saturating_add(2);
        let raw = rest.get(..total).unwrap_or(rest);
        self.pos = start.saturating_add(total);
        self.seen = self.seen.saturating_add(1);
        if kind == TYPE_END_OF_TABLE {
            self.done = true;
        }
        Some(Ok(Structure {
            offset: self.base.saturating_add(start),
            kind,
            handle,
            formatted,
            strings,
            raw,
        }))
    }
}

/// One structure, borrowing the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure<'a> {
    /// Absolute offset of the header in the input.
    pub offset: usize,
    /// Structure type.
    pub kind: u8,
    /// Handle.
    pub handle: u16,
    /// The formatted area, header included.
    pub formatted: &'a [u8],
    /// The string set without its final double NUL.
    pub strings: &'a [u8],
    /// The whole structure: formatted area, strings and terminator.
    pub raw: &'a [u8],
}

/// What a string reference in a structure resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrRef {
    /// String number 0: the field is not set.
    None,
    /// The string, printable ASCII kept as is and every other byte escaped as `\xNN` so that
    /// identity comparisons see every byte.
    Text(String),
    /// The number points past the string set.
    BadIndex(u8),
}

impl StrRef {
    /// The text, or `None` for an unset field; a bad index becomes `<BAD INDEX>` as in dmidecode.
    pub fn into_option(self) -> Option<String> {
        match self {
            StrRef::None => None,
            StrRef::Text(s) => Some(s),
            StrRef::BadIndex(_) => Some("<BAD INDEX>".to_owned()),
        }
    }
}

/// Escapes non-printable bytes as `\xNN` (and a backslash as `\\`).
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7E => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

impl<'a> Structure<'a> {
    /// Byte at `off` of the formatted area, if the structure is long enough.
    pub fn byte(&self, off: usize) -> Option<u8> {
        self.formatted.get(off).copied()
    }

    /// Little-endian word at `off`.
    pub fn word(&self, off: usize) -> Option<u16> {
        le16_at(self.formatted, off)
    }

    /// Little-endian dword at `off`.
    pub fn dword(&self, off: usize) -> Option<u32> {
        le32_at(self.formatted, off)
    }

    /// Little-endian qword at `off`.
    pub fn qword(&self, off: usize) -> Option<u64> {
        le64_at(self.formatted, off)
    }

    /// Bytes `off..off+len` of the formatted area.
    pub fn bytes(&self, off: usize, len: usize) -> Option<&'a [u8]> {
        self.formatted.get(off..off.checked_add(len)?)
    }

    /// The strings of the string set, in order.
    pub fn string_set(&self) -> impl Iterator<Item = &'a [u8]> {
        let strings = self.strings;
        let mut parts = strings.split(|b| *b == 0);
        // An empty string set is encoded as a single NUL before the terminator.
        let empty = strings.is_empty();
        std::iter::from_fn(move || if empty { None } else { parts.next() })
    }

    /// Resolves the string whose number is stored in the byte at `off`.
    pub fn string_at(&self, off: usize) -> StrRef {
        match self.byte(off) {
            None | Some(0) => StrRef::None,
            Some(n) => self.string(n),
        }
    }

    /// Resolves string number `n` (1-based).
    pub fn string(&self, n: u8) -> StrRef {
        if n == 0 {
            return StrRef::None;
        }
        match self.string_set().nth(usize::from(n).saturating_sub(1)) {
            Some(s) => StrRef::Text(escape_bytes(s)),
            None => StrRef::BadIndex(n),
        }
    }
}

/// Where a structure table starts and how much of the input it may use, from an entry point.
///
/// In a `dmidecode --dump-bin` file the entry point's address is the table's file offset (32).
/// A 3.x entry point gives only a maximum size, so the table is cut at the end of the file.
pub fn locate_in_dump<'a>(file: &'a [u8], ep: &EntryPoint) -> Result<Table<'a>, ParseError> {
    let start = usize::try_from(ep.table_address).map_err(|_| ParseError {
        offset: 0,
        field: "table address",
        kind: ErrorKind::Invalid("table address does not fit this machine"),
    })?;
    if start < ep.length || start > file.len() {
        return Err(ParseError {
            offset: 0,
            field: "table address",
            kind: ErrorKind::Invalid("table address outside the file"),
        });
    }
    let len = usize::try_from(ep.table_length).unwrap_or(usize::MAX);
    let end = start.saturating_add(len);
    let bytes = match ep.structure_count {
        // 2.x: the length is exact, so a short file is truncated.
        Some(_) => file.get(start..end).ok_or(ParseError {
            offset: file.len(),
            field: "structure table",
            kind: ErrorKind::Truncated,
        })?,
        None => file.get(start..end.min(file.len())).unwrap_or(&[]),
    };
    Ok(Table::new(bytes, start, ep.version, ep.structure_count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u8, minor: u8) -> Version {
        Version {
            major,
            minor,
            docrev: 0,
        }
    }

    #[test]
    fn walks_strings_and_end_of_table() {
        let table: &[u8] = &[
            // type 1, length 8, handle 0x0100, manufacturer=1, product=2, version=0, serial=3
            1, 8, 0x00, 0x01, 1, 2, 0, 3, b'A', b'c', b'm', b'e', 0, b'X', 0, 0xFF, 0, 0,
            // type 127, no strings
            127, 4, 0xFE, 0xFF, 0, 0,
        ];
        let t = Table::new(table, 32, v(3, 0), None);
        let all: Vec<_> = t.structures().collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 2);
        let s = &all[0];
        assert_eq!((s.kind, s.handle, s.offset), (1, 0x0100, 32));
        assert_eq!(s.string_at(4), StrRef::Text("Acme".into()));
        assert_eq!(s.string_at(5), StrRef::Text("X".into()));
        assert_eq!(s.string_at(6), StrRef::None);
        assert_eq!(s.string_at(7), StrRef::Text("\\xff".into()));
        assert_eq!(s.string(9), StrRef::BadIndex(9));
        assert_eq!(all[1].kind, 127);
        assert_eq!(all[1].string(1), StrRef::BadIndex(1));
    }

    #[test]
    fn broken_length_stops_with_offset() {
        let table: &[u8] = &[0, 4, 0, 0, 0, 0, 9, 2, 0, 0];
        let t = Table::new(table, 32, v(3, 0), None);
        let items: Vec<_> = t.structures().collect();
        assert_eq!(items.len(), 2);
        let e = items[1].clone().unwrap_err();
        assert_eq!(e.offset, 32 + 6 + 1);
        assert_eq!(e.kind, ErrorKind::BadLength(2));
    }

    #[test]
    fn unterminated_string_set_is_truncated() {
        let table: &[u8] = &[1, 4, 0, 0, b'a', 0];
        let e = Table::new(table, 0, v(3, 0), None)
            .structures()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
        assert_eq!(e.field, "structure string set");
    }

    #[test]
    fn count_limits_2x_tables() {
        let table: &[u8] = &[0, 4, 0, 0, 0, 0, 1, 4, 1, 0, 0, 0];
        let n = Table::new(table, 0, v(2, 7), Some(1)).structures().count();
        assert_eq!(n, 1);
        // a 2.x table that promises more than it holds is an error
        let items: Vec<_> = Table::new(table, 0, v(2, 7), Some(3))
            .structures()
            .collect();
        assert!(items.last().unwrap().is_err());
    }
}
