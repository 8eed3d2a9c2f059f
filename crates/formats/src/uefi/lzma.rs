//! EDK2's LZMA section data (LzmaCustomDecompress, MdeModulePkg/Library/LzmaCustomDecompressLib):
//! the 13-byte header of the `.lzma` "alone" format (properties byte, dictionary size, the
//! uncompressed size) followed by an LZMA1 stream.
//!
//! Decoded with liblzma (xz-utils, the well-fuzzed reference decoder) rather than by hand. The
//! size the header declares is checked against the caller's allowance before anything is
//! allocated, the output buffer never grows past it, the dictionary is bounded by liblzma's
//! memory limit, and the stream must produce exactly the declared size.

use crate::error::ErrorKind;

/// liblzma's memory limit for the decoder (dictionary and state): EDK2 images use 4-8 MiB
/// dictionaries; anything that needs more than this is refused, not allocated.
const MEMLIMIT: u64 = 128 << 20;

/// Decompresses `data`, producing at most `allowance` bytes.
pub(crate) fn decompress(data: &[u8], allowance: usize) -> Result<Vec<u8>, ErrorKind> {
    let size = data
        .get(5..13)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_le_bytes)
        .ok_or(ErrorKind::Truncated)?;
    // u64::MAX means "unknown, ends with a marker": EDK2 always writes the real size.
    let size = usize::try_from(size)
        .ok()
        .filter(|s| *s <= allowance)
        .ok_or(ErrorKind::BadLength(size))?;
    let mut stream = liblzma::stream::Stream::new_lzma_decoder(MEMLIMIT)
        .map_err(|_| ErrorKind::Invalid("LZMA decoder could not start"))?;
    let mut out = Vec::with_capacity(size);
    let status = stream
        .process_vec(data, &mut out, liblzma::stream::Action::Finish)
        .map_err(|e| match e {
            liblzma::stream::Error::MemLimit => {
                ErrorKind::Invalid("LZMA dictionary larger than allowed")
            }
            liblzma::stream::Error::Format | liblzma::stream::Error::Options => {
                ErrorKind::Invalid("not an LZMA stream (bad header)")
            }
            _ => ErrorKind::Invalid("corrupt LZMA data"),
        })?;
    if out.len() != size || status != liblzma::stream::Status::StreamEnd {
        return Err(ErrorKind::Invalid(
            "LZMA data does not decode to the size its header declares",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(plain: &[u8]) -> Vec<u8> {
        let opts = liblzma::stream::LzmaOptions::new_preset(6).unwrap();
        let mut s = liblzma::stream::Stream::new_lzma_encoder(&opts).unwrap();
        let mut out = Vec::with_capacity(plain.len() + 1024);
        s.process_vec(plain, &mut out, liblzma::stream::Action::Finish)
            .unwrap();
        // The alone encoder writes "size unknown"; EDK2 writes the real size.
        out[5..13].copy_from_slice(&(plain.len() as u64).to_le_bytes());
        out
    }

    #[test]
    fn round_trip_and_caps() {
        let plain: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let c = compress(&plain);
        assert_eq!(decompress(&c, 1 << 20).unwrap(), plain);
        // The declared size is over the allowance: refused before decoding.
        assert_eq!(
            decompress(&c, 99_999).unwrap_err(),
            ErrorKind::BadLength(100_000)
        );
        // A header that lies about the size (smaller or larger) is an error.
        let mut lie = c.clone();
        lie[5..13].copy_from_slice(&50_000u64.to_le_bytes());
        assert!(decompress(&lie, 1 << 20).is_err());
        let mut lie = c.clone();
        lie[5..13].copy_from_slice(&200_000u64.to_le_bytes());
        assert!(decompress(&lie, 1 << 20).is_err());
        // Every truncation is an error.
        for n in [0, 5, 12, 13, c.len() / 2, c.len() - 1] {
            assert!(decompress(&c[..n], 1 << 20).is_err(), "cut at {n}");
        }
    }
}
