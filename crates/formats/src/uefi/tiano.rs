//! EFI and Tiano decompression: the LZ77 + Huffman format of UEFI 2.10, section 19 ("Compression
//! Algorithm Specification") and its Tiano variant (EDK2 TianoCustomDecompress), which differ
//! only in the width of the position-set code count (4 bits for EFI, 5 for Tiano).
//!
//! Own code: no maintained crate decodes this format. It follows the bit-exact decoder that
//! firmware itself runs (EDK2 MdePkg BaseUefiDecompressLib), written over bounds-checked
//! tables: every table index is checked, a table whose code lengths do not describe a
//! complete prefix code is rejected, a back-reference before the start of the output is an
//! error, and the output never exceeds the size the header declares, which the caller caps
//! before anything is allocated. Arithmetic that the reference does in 16-bit unsigned
//! integers wraps here too, explicitly.
//!
//! Format: CompSize u32, OrigSize u32, then a bit stream (most significant bit first) of
//! blocks, each with its own Huffman tables.

use crate::error::ErrorKind;

const BITBUFSIZ: u32 = 32;
const MAXMATCH: u16 = 256;
const THRESHOLD: u16 = 3;
const CODE_BIT: u16 = 16;
/// Characters and lengths: 256 literals and MAXMATCH - THRESHOLD + 1 match lengths.
const NC: usize = 0xff + MAXMATCH as usize + 2 - THRESHOLD as usize;
const CBIT: u8 = 9;
const MAXPBIT: u8 = 5;
const TBIT: u8 = 5;
const MAXNP: usize = (1 << MAXPBIT) - 1;
const NT: usize = CODE_BIT as usize + 3;
const NPT: usize = if NT > MAXNP { NT } else { MAXNP };
/// Inner nodes of the Huffman trees live in `left`/`right` from index NC on.
const NODES: usize = 2 * NC - 1;

/// Which variant: the UEFI specification's (EFI) or EDK2's Tiano.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// UEFI compression: 4-bit position-set count.
    Efi,
    /// Tiano compression: 5-bit position-set count.
    Tiano,
}

/// Where a tree pointer points: a slot of a lookup table, or a child of an inner node.
#[derive(Clone, Copy)]
enum Slot {
    C(usize),
    Pt(usize),
    Left(usize),
    Right(usize),
}

struct Decoder<'a> {
    src: &'a [u8],
    in_pos: usize,
    comp_left: usize,
    bit_buf: u32,
    sub_bit_buf: u32,
    bit_count: u32,
    block_size: u16,
    left: [u16; NODES],
    right: [u16; NODES],
    c_len: [u8; NC],
    pt_len: [u8; NPT],
    c_table: [u16; 4096],
    pt_table: [u16; 256],
    p_bit: u8,
}

type R<T> = Result<T, ErrorKind>;

/// The low 16 bits. The reference decoder's 16-bit arithmetic wraps; so does this, said
/// explicitly instead of by a truncating cast.
fn low16(v: u32) -> u16 {
    u16::try_from(v & 0xffff).unwrap_or(0)
}

/// A table index or bit count (at most a few hundred) as u32.
fn small(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

const BAD: ErrorKind = ErrorKind::Invalid("corrupt EFI/Tiano compressed data (bad Huffman table)");

impl<'a> Decoder<'a> {
    fn fill_buf(&mut self, n: u32) {
        let mut n = n;
        self.bit_buf = self.bit_buf.checked_shl(n).unwrap_or(0);
        while n > self.bit_count {
            n = n.wrapping_sub(self.bit_count);
            self.bit_buf |= self.sub_bit_buf.checked_shl(n).unwrap_or(0);
            if self.comp_left > 0 {
                self.comp_left = self.comp_left.saturating_sub(1);
                self.sub_bit_buf = u32::from(self.src.get(self.in_pos).copied().unwrap_or(0));
                self.in_pos = self.in_pos.saturating_add(1);
            } else {
                // Past the end the reference reads zero bits.
                self.sub_bit_buf = 0;
            }
            self.bit_count = 8;
        }
        self.bit_count = self.bit_count.wrapping_sub(n);
        self.bit_buf |= self.sub_bit_buf.checked_shr(self.bit_count).unwrap_or(0);
    }

    fn get_bits(&mut self, n: u32) -> u32 {
        let out = self
            .bit_buf
            .checked_shr(BITBUFSIZ.wrapping_sub(n))
            .unwrap_or(0);
        self.fill_buf(n);
        out
    }

    fn peek(&self, n: u32) -> usize {
        self.bit_buf
            .checked_shr(BITBUFSIZ.wrapping_sub(n))
            .unwrap_or(0) as usize
    }

    fn slot(&mut self, s: Slot) -> R<&mut u16> {
        match s {
            Slot::C(i) => self.c_table.get_mut(i),
            Slot::Pt(i) => self.pt_table.get_mut(i),
            Slot::Left(i) => self.left.get_mut(i),
            Slot::Right(i) => self.right.get_mut(i),
        }
        .ok_or(BAD)
    }

    /// Builds the lookup table (`table_bits` wide) and trees for `lens`; `c` picks the
    /// character table, else the position/extra table.
    fn make_table(&mut self, n_char: usize, c: bool, table_bits: u32) -> R<()> {
        let lens: Vec<u8> = if c {
            self.c_len.get(..n_char).ok_or(BAD)?.to_vec()
        } else {
            self.pt_len.get(..n_char).ok_or(BAD)?.to_vec()
        };
        let mut count = [0u16; 17];
        for l in &lens {
            let slot = count.get_mut(usize::from(*l)).ok_or(BAD)?;
            *slot = slot.wrapping_add(1);
        }
        let mut start = [0u16; 18];
        for i in 1..=16usize {
            let add = u32::from(*count.get(i).ok_or(BAD)?) << 16usize.wrapping_sub(i);
            let next = low16(u32::from(*start.get(i).ok_or(BAD)?).wrapping_add(add));
            *start.get_mut(i.wrapping_add(1)).ok_or(BAD)? = next;
        }
        if start[17] != 0 {
            return Err(BAD);
        }
        let ju_bits = 16u32.wrapping_sub(table_bits);
        let mut weight = [0u16; 17];
        for i in 1..=16usize {
            if small(i) <= table_bits {
                let s = start.get_mut(i).ok_or(BAD)?;
                *s = s.checked_shr(ju_bits).unwrap_or(0);
                *weight.get_mut(i).ok_or(BAD)? = 1u16
                    .checked_shl(table_bits.wrapping_sub(small(i)))
                    .unwrap_or(0);
            } else {
                *weight.get_mut(i).ok_or(BAD)? =
                    1u16.checked_shl(16u32.wrapping_sub(small(i))).unwrap_or(0);
            }
        }
        let table_len = 1usize << table_bits;
        let first_free = usize::from(
            start
                .get((table_bits as usize).wrapping_add(1))
                .copied()
                .unwrap_or(0)
                .checked_shr(ju_bits)
                .unwrap_or(0),
        );
        if first_free != 0 {
            for i in first_free..table_len {
                *self.slot(if c { Slot::C(i) } else { Slot::Pt(i) })? = 0;
            }
        }
        let mut avail = n_char;
        let mask = 1u16
            .checked_shl(15u32.wrapping_sub(table_bits))
            .unwrap_or(0);
        for (ch, len) in lens.iter().enumerate() {
            let len = usize::from(*len);
            if len == 0 || len >= 17 {
                continue;
            }
            let st = *start.get(len).ok_or(BAD)?;
            let next_code = st.wrapping_add(*weight.get(len).ok_or(BAD)?);
            if small(len) <= table_bits {
                if st >= next_code || usize::from(next_code) > table_len {
                    return Err(BAD);
                }
                for i in usize::from(st)..usize::from(next_code) {
                    *self.slot(if c { Slot::C(i) } else { Slot::Pt(i) })? =
                        u16::try_from(ch).map_err(|_| BAD)?;
                }
            } else {
                let mut index3 = st;
                let t = usize::from(index3.checked_shr(ju_bits).unwrap_or(0));
                let mut p = if c { Slot::C(t) } else { Slot::Pt(t) };
                let mut n = small(len).wrapping_sub(table_bits);
                while n != 0 {
                    if *self.slot(p)? == 0 && avail < NODES {
                        *self.right.get_mut(avail).ok_or(BAD)? = 0;
                        *self.left.get_mut(avail).ok_or(BAD)? = 0;
                        *self.slot(p)? = u16::try_from(avail).map_err(|_| BAD)?;
                        avail = avail.wrapping_add(1);
                    }
                    let v = usize::from(*self.slot(p)?);
                    if v < NODES {
                        p = if index3 & mask != 0 {
                            Slot::Right(v)
                        } else {
                            Slot::Left(v)
                        };
                    }
                    index3 = index3.wrapping_shl(1);
                    n = n.wrapping_sub(1);
                }
                *self.slot(p)? = u16::try_from(ch).map_err(|_| BAD)?;
            }
            *start.get_mut(len).ok_or(BAD)? = next_code;
        }
        Ok(())
    }

    /// Walks the tree below a table entry until a character below `limit` is reached.
    fn walk(&self, mut v: u16, limit: usize, table_bits: u32) -> R<u16> {
        let mut mask = 1u32 << BITBUFSIZ.wrapping_sub(1).wrapping_sub(table_bits);
        let mut steps = 0u32;
        while usize::from(v) >= limit {
            v = if self.bit_buf & mask != 0 {
                *self.right.get(usize::from(v)).ok_or(BAD)?
            } else {
                *self.left.get(usize::from(v)).ok_or(BAD)?
            };
            mask >>= 1;
            steps = steps.wrapping_add(1);
            // A tree deeper than the 32-bit buffer is no prefix code the encoder wrote.
            if steps > 24 {
                return Err(BAD);
            }
        }
        Ok(v)
    }

    fn read_pt_len(&mut self, nn: usize, nbit: u8, special: Option<usize>) -> R<()> {
        let number = self.get_bits(u32::from(nbit)) as usize;
        if number == 0 {
            let ch = low16(self.get_bits(u32::from(nbit)));
            self.pt_table = [ch; 256];
            for l in self.pt_len.iter_mut().take(nn) {
                *l = 0;
            }
            return Ok(());
        }
        let mut i = 0usize;
        while i < number && i < NPT {
            let mut ch = small(self.peek(3));
            if ch == 7 {
                let mut mask = 1u32 << (BITBUFSIZ - 1 - 3);
                while mask & self.bit_buf != 0 {
                    mask >>= 1;
                    ch = ch.wrapping_add(1);
                }
            }
            self.fill_buf(if ch < 7 { 3 } else { ch.wrapping_sub(3) });
            *self.pt_len.get_mut(i).ok_or(BAD)? = u8::try_from(ch).map_err(|_| BAD)?;
            i = i.wrapping_add(1);
            if Some(i) == special {
                let zeros = self.get_bits(2);
                for _ in 0..zeros {
                    if i >= NPT {
                        break;
                    }
                    *self.pt_len.get_mut(i).ok_or(BAD)? = 0;
                    i = i.wrapping_add(1);
                }
            }
        }
        while i < nn && i < NPT {
            *self.pt_len.get_mut(i).ok_or(BAD)? = 0;
            i = i.wrapping_add(1);
        }
        self.make_table(nn, false, 8)
    }

    fn read_c_len(&mut self) -> R<()> {
        let number = self.get_bits(u32::from(CBIT)) as usize;
        if number == 0 {
            let ch = low16(self.get_bits(u32::from(CBIT)));
            self.c_len = [0; NC];
            self.c_table = [ch; 4096];
            return Ok(());
        }
        let mut i = 0usize;
        while i < number && i < NC {
            let first = *self.pt_table.get(self.peek(8)).ok_or(BAD)?;
            let ch = self.walk(first, NT, 8)?;
            let len = *self.pt_len.get(usize::from(ch)).ok_or(BAD)?;
            self.fill_buf(u32::from(len));
            if ch <= 2 {
                let zeros = match ch {
                    0 => 1,
                    1 => self.get_bits(4).wrapping_add(3),
                    _ => self.get_bits(u32::from(CBIT)).wrapping_add(20),
                };
                for _ in 0..zeros {
                    if i >= NC {
                        break;
                    }
                    *self.c_len.get_mut(i).ok_or(BAD)? = 0;
                    i = i.wrapping_add(1);
                }
            } else {
                *self.c_len.get_mut(i).ok_or(BAD)? =
                    u8::try_from(ch.wrapping_sub(2)).map_err(|_| BAD)?;
                i = i.wrapping_add(1);
            }
        }
        for l in self.c_len.iter_mut().skip(i) {
            *l = 0;
        }
        self.make_table(NC, true, 12)
    }

    fn decode_c(&mut self) -> R<u16> {
        if self.block_size == 0 {
            self.block_size = low16(self.get_bits(16));
            self.read_pt_len(NT, TBIT, Some(3))?;
            self.read_c_len()?;
            self.read_pt_len(MAXNP, self.p_bit, None)?;
        }
        self.block_size = self.block_size.wrapping_sub(1);
        let first = *self.c_table.get(self.peek(12)).ok_or(BAD)?;
        let ch = self.walk(first, NC, 12)?;
        let len = *self.c_len.get(usize::from(ch)).ok_or(BAD)?;
        self.fill_buf(u32::from(len));
        Ok(ch)
    }

    fn decode_p(&mut self) -> R<usize> {
        let first = *self.pt_table.get(self.peek(8)).ok_or(BAD)?;
        let v = self.walk(first, MAXNP, 8)?;
        let len = *self.pt_len.get(usize::from(v)).ok_or(BAD)?;
        self.fill_buf(u32::from(len));
        Ok(if v > 1 {
            let extra = self.get_bits(u32::from(v).wrapping_sub(1)) as usize;
            (1usize << v.wrapping_sub(1)).wrapping_add(extra)
        } else {
            usize::from(v)
        })
    }
}

/// The uncompressed size `data` declares.
pub fn declared_size(data: &[u8]) -> Option<usize> {
    crate::reader::le32_at(data, 4).and_then(|s| usize::try_from(s).ok())
}

/// Decompresses `data` (header included), producing at most `allowance` bytes.
pub fn decompress(data: &[u8], variant: Variant, allowance: usize) -> R<Vec<u8>> {
    let comp = crate::reader::le32_at(data, 0).ok_or(ErrorKind::Truncated)?;
    let orig = declared_size(data).ok_or(ErrorKind::Truncated)?;
    let comp = usize::try_from(comp).map_err(|_| ErrorKind::BadLength(comp.into()))?;
    let src = data
        .get(8..)
        .and_then(|s| s.get(..comp))
        .ok_or(ErrorKind::BadLength(comp as u64))?;
    if orig > allowance {
        return Err(ErrorKind::BadLength(orig as u64));
    }
    let mut d = Box::new(Decoder {
        src,
        in_pos: 0,
        comp_left: comp,
        bit_buf: 0,
        sub_bit_buf: 0,
        bit_count: 0,
        block_size: 0,
        left: [0; NODES],
        right: [0; NODES],
        c_len: [0; NC],
        pt_len: [0; NPT],
        c_table: [0; 4096],
        pt_table: [0; 256],
        p_bit: match variant {
            Variant::Efi => 4,
            Variant::Tiano => MAXPBIT,
        },
    });
    d.fill_buf(BITBUFSIZ);
    let mut out: Vec<u8> = Vec::with_capacity(orig);
    while out.len() < orig {
        let c = d.decode_c()?;
        if c < 256 {
            out.push(u8::try_from(c).map_err(|_| BAD)?);
            continue;
        }
        let len = usize::from(c.wrapping_sub(256 - THRESHOLD));
        let back = d.decode_p()?;
        let from = out
            .len()
            .checked_sub(back.wrapping_add(1))
            .ok_or(ErrorKind::Invalid(
                "EFI/Tiano match points before the start of the data",
            ))?;
        for k in 0..len {
            if out.len() >= orig {
                break;
            }
            let b = *out.get(from.wrapping_add(k)).ok_or(BAD)?;
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lies_are_errors() {
        // CompSize beyond the data.
        let mut d = vec![0u8; 16];
        d[0] = 200;
        assert!(matches!(
            decompress(&d, Variant::Efi, 1 << 20),
            Err(ErrorKind::BadLength(200))
        ));
        // OrigSize beyond the allowance: refused before any allocation.
        let mut d = vec![0u8; 16];
        d[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decompress(&d, Variant::Tiano, 1 << 20),
            Err(ErrorKind::BadLength(_))
        ));
        // Too short for a header.
        assert_eq!(
            decompress(&[1, 2, 3], Variant::Efi, 10).unwrap_err(),
            ErrorKind::Truncated
        );
        // Nothing to produce: empty output, whatever follows.
        assert_eq!(
            decompress(&[0; 8], Variant::Efi, 10).unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn arbitrary_streams_never_panic() {
        // Pseudo-random streams claiming 64 KiB of output: each ends with data or an error.
        let mut x = 0x1234_5678u32;
        for _ in 0..300 {
            let mut d = vec![0u8; 8];
            d[0..4].copy_from_slice(&600u32.to_le_bytes());
            d[4..8].copy_from_slice(&65_536u32.to_le_bytes());
            for _ in 0..600 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                d.push(x as u8);
            }
            for v in [Variant::Efi, Variant::Tiano] {
                if let Ok(out) = decompress(&d, v, 1 << 20) {
                    assert_eq!(out.len(), 65_536);
                }
            }
        }
    }
}
