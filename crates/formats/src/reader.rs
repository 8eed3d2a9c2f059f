//! A bounds-checked cursor over untrusted bytes.
//!
//! Every read either returns the bytes asked for or a [`ParseError`] naming the field and the
//! absolute offset at which the input ran out, so that a truncated or hostile file can never
//! make a parser index out of bounds.

use crate::error::{ErrorKind, ParseError};

/// A cursor over a byte slice that knows the absolute offset of its first byte.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`, whose first byte sits at absolute offset `base` of the input.
    pub fn new(data: &'a [u8], base: usize) -> Self {
        Self { data, pos: 0, base }
    }

    /// Absolute offset of the next byte to be read.
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.err(field, ErrorKind::Truncated))?;
        let out = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| self.err(field, ErrorKind::Truncated))?;
        self.pos = end;
        Ok(out)
    }

    /// Takes `n` bytes as a sub-reader that keeps absolute offsets.
    pub fn sub(&mut self, n: usize, field: &'static str) -> Result<Reader<'a>, ParseError> {
        let base = self.offset();
        let bytes = self.take(n, field)?;
        Ok(Reader::new(bytes, base))
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, field: &'static str) -> Result<(), ParseError> {
        self.take(n, field).map(|_| ())
    }

    /// Reads one byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, ParseError> {
        let b = self.take(1, field)?;
        b.first()
            .copied()
            .ok_or_else(|| self.err(field, ErrorKind::Truncated))
    }

    /// Reads a little-endian u16.
    pub fn u16_le(&mut self, field: &'static str) -> Result<u16, ParseError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// Reads a little-endian 24-bit value (UEFI file and section sizes).
    pub fn u24_le(&mut self, field: &'static str) -> Result<u32, ParseError> {
        let [a, b, c] = self.array(field)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    /// Reads a little-endian u32.
    pub fn u32_le(&mut self, field: &'static str) -> Result<u32, ParseError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// Reads a big-endian u16 (TPM structures are big-endian).
    pub fn u16_be(&mut self, field: &'static str) -> Result<u16, ParseError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian u64.
    pub fn u64_be(&mut self, field: &'static str) -> Result<u64, ParseError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian u32.
    pub fn u32_be(&mut self, field: &'static str) -> Result<u32, ParseError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Reads a little-endian u64.
    pub fn u64_le(&mut self, field: &'static str) -> Result<u64, ParseError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ParseError> {
        let bytes = self.take(N, field)?;
        <[u8; N]>::try_from(bytes).map_err(|_| self.err(field, ErrorKind::Truncated))
    }

    /// Fails unless every byte has been read.
    pub fn expect_empty(&self, field: &'static str) -> Result<(), ParseError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(field, ErrorKind::TrailingData))
        }
    }

    /// An error at the current offset.
    pub fn err(&self, field: &'static str, kind: ErrorKind) -> ParseError {
        ParseError {
            offset: self.offset(),
            field,
            kind,
        }
    }
}

/// Reads a little-endian u16 at `offset` of `data`, or `None` when it does not fit.
pub fn le16_at(data: &[u8], offset: usize) -> Option<u16> {
    let bytes = data.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_le_bytes(bytes.try_into().ok()?))
}

/// Reads a little-endian u32 at `offset` of `data`, or `None` when it does not fit.
pub fn le32_at(data: &[u8], offset: usize) -> Option<u32> {
    let bytes = data.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Reads a little-endian u64 at `offset` of `data`, or `None` when it does not fit.
pub fn le64_at(data: &[u8], offset: usize) -> Option<u64> {
    let bytes = data.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_past_end_names_field_and_offset() {
        let mut r = Reader::new(&[1, 2, 3], 100);
        assert_eq!(r.u16_le("a"), Ok(0x0201));
        let e = r.u16_le("b").unwrap_err();
        assert_eq!(e.offset, 102);
        assert_eq!(e.field, "b");
        assert_eq!(e.kind, ErrorKind::Truncated);
    }

    #[test]
    fn huge_take_does_not_overflow() {
        let mut r = Reader::new(&[0; 4], 0);
        r.skip(2, "x").unwrap();
        assert!(r.take(usize::MAX, "y").is_err());
        assert_eq!(r.remaining(), 2);
    }

    #[test]
    fn sub_keeps_absolute_offsets() {
        let mut r = Reader::new(&[0, 0, 0, 0, 0], 10);
        r.skip(1, "x").unwrap();
        let mut s = r.sub(2, "s").unwrap();
        assert_eq!(s.offset(), 11);
        s.u16_le("v").unwrap();
        assert_eq!(s.u8("w").unwrap_err().offset, 13);
        assert_eq!(r.offset(), 13);
    }
}
