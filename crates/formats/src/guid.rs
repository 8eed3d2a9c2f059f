//! GUIDs as UEFI stores them (EFI_GUID: the first three fields little-endian) and UCS-2 text.

use std::fmt;

/// A 16-byte EFI_GUID in its on-disk byte order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The GUID at the start of `b`, when there are 16 bytes.
    pub fn from_slice(b: &[u8]) -> Option<Guid> {
        Some(Guid(b.get(..16)?.try_into().ok()?))
    }

    /// Parses registry format (`8C8CE578-8A3D-4F1C-9935-896185C32DD3`); used for constants and
    /// command-line arguments, never for input bytes.
    pub fn parse_text(s: &str) -> Option<Guid> {
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || s.len() != 36 {
            return None;
        }
        let raw = hex::decode(hex).ok()?;
        // Fields 1-3 are little-endian on disk.
        const ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
        let mut g = [0u8; 16];
        for (b, from) in g.iter_mut().zip(ORDER) {
            *b = *raw.get(from)?;
        }
        Some(Guid(g))
    }

    /// True for a GUID of all 0xFF or all zero bytes (erased flash, no name).
    pub fn is_blank(&self) -> bool {
        self.0.iter().all(|b| *b == 0xff) || self.0.iter().all(|b| *b == 0)
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&guid_text(&self.0))
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

/// A GUID in registry format (first three fields little-endian), upper case as EDK2 prints.
pub fn guid_text(b: &[u8]) -> String {
    let Some(g) = b.get(..16) else {
        return "(short GUID)".into();
    };
    let p = |r: std::ops::Range<usize>, rev: bool| -> String {
        let mut v: Vec<u8> = g.get(r).unwrap_or_default().to_vec();
        if rev {
            v.reverse();
        }
        v.iter().map(|x| format!("{x:02X}")).collect()
    };
    format!(
        "{}-{}-{}-{}-{}",
        p(0..4, true),
        p(4..6, true),
        p(6..8, true),
        p(8..10, false),
        p(10..16, false)
    )
}

/// UTF-16LE up to the first NUL, lossy (an unpaired surrogate becomes U+FFFD).
pub fn utf16z(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .take_while(|u| *u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let t = "8C8CE578-8A3D-4F1C-9935-896185C32DD3";
        let g = Guid::parse_text(t).unwrap();
        assert_eq!(g.0[..4], [0x78, 0xe5, 0x8c, 0x8c]);
        assert_eq!(g.to_string(), t);
        assert!(Guid::parse_text("8C8CE578-8A3D-4F1C-9935-896185C32DD").is_none());
        assert!(Guid::parse_text("8C8CE5788A3D4F1C9935896185C32DD3XXXX").is_none());
    }
}
