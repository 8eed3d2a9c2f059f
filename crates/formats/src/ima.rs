//! The Linux IMA runtime measurement list, binary form
//! (`/sys/kernel/security/ima/binary_runtime_measurements`).
//!
//! The binary list is read rather than the ASCII one because the ASCII form prints file
//! names unescaped: a name containing spaces, or ending in something that looks like a
//! signature, cannot be split reliably. Each binary entry is: PCR (u32), template digest
//! (SHA-1, 20 bytes, in this file), template name (u32 length + bytes), template data (u32
//! length + fields, each a u32 length + bytes). Integers are in the host's byte order unless
//! the kernel runs with `ima_canonical_fmt`; boardproof reads x86 hosts, so little-endian.
//!
//! Templates decoded: `ima-ng`, `ima-sig`, `ima-buf` (d-ng digest, n-ng name, then a
//! signature or buffer field). Other templates are kept with their raw fields undecoded.

use crate::error::{ErrorKind, ParseError};
use crate::reader::Reader;

/// At most this many entries (a busy server measures tens of thousands of files).
pub const MAX_ENTRIES: usize = 1 << 20;
/// Template names are short (`ima-ng`); the kernel allows 15 characters.
pub const MAX_TEMPLATE_NAME: usize = 255;
/// At most this much template data per entry (a path of up to 4096 bytes, a signature).
pub const MAX_TEMPLATE_DATA: usize = 64 << 10;
/// Digest size of the template hash in `binary_runtime_measurements`.
pub const TEMPLATE_DIGEST_LEN: usize = 20;

/// One measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Offset of the entry in the list.
    pub offset: usize,
    /// PCR it was extended into (10 by default).
    pub pcr: u32,
    /// SHA-1 over the template data.
    pub template_digest: [u8; TEMPLATE_DIGEST_LEN],
    /// Template name.
    pub template: String,
    /// File digest algorithm (`sha256`) and bytes, for d-ng templates.
    pub file_digest: Option<(String, Vec<u8>)>,
    /// File name (n-ng), without its terminating NUL; lossy UTF-8.
    pub name: Option<String>,
    /// The third field of ima-sig (signature) or ima-buf (buffer), when not empty.
    pub extra: Option<Vec<u8>>,
    /// The template data as measured: each field as (u32 length, bytes). Its SHA-1 is the
    /// template digest above; the kernel extends other PCR banks with its digest in that
    /// bank's algorithm.
    pub template_data: Vec<u8>,
}

impl Entry {
    /// A violation (a file measured while open for writing, or the reverse): the kernel logs
    /// an all-zero template digest and extends all ones instead.
    pub fn is_violation(&self) -> bool {
        self.template_digest.iter().all(|b| *b == 0)
    }
}

impl Entry {
    /// `algo:hex` of the file digest, as the ASCII list prints it.
    pub fn digest_text(&self) -> Option<String> {
        self.file_digest
            .as_ref()
            .map(|(a, d)| format!("{a}:{}", hex::encode(d)))
    }
}

fn field<'a>(r: &mut Reader<'a>, name: &'static str) -> Result<&'a [u8], ParseError> {
    let len = r.u32_le(name)?;
    let len =
        usize::try_from(len).map_err(|_| r.err(name, ErrorKind::BadLength(u64::from(len))))?;
    if len > r.remaining() {
        return Err(r.err(name, ErrorKind::BadLength(len as u64)));
    }
    r.take(len, name)
}

/// d-ng: `algo` `:` NUL digest (the old `ima` form has no algorithm and is 20 bytes of SHA-1).
fn digest_ng(bytes: &[u8], at: usize) -> Result<(String, Vec<u8>), ParseError> {
    let Some(colon) = bytes.iter().position(|b| *b == b':') else {
        return Err(ParseError {
            offset: at,
            field: "d-ng digest",
            kind: ErrorKind::Invalid("no algorithm prefix"),
        });
    };
    let algo = bytes.get(..colon).unwrap_or_default();
    // "algo:" is followed by a NUL, then the digest.
    let digest = bytes.get(colon.saturating_add(2)..).unwrap_or_default();
    if bytes.get(colon.saturating_add(1)) != Some(&0)
        || algo.is_empty()
        || !algo.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        || digest.is_empty()
    {
        return Err(ParseError {
            offset: at,
            field: "d-ng digest",
            kind: ErrorKind::Invalid("malformed algo:digest"),
        });
    }
    Ok((String::from_utf8_lossy(algo).into_owned(), digest.to_vec()))
}

/// Parses a binary measurement list.
pub fn parse(data: &[u8]) -> Result<Vec<Entry>, ParseError> {
    let mut r = Reader::new(data, 0);
    let mut out = Vec::new();
    while !r.is_empty() {
        if out.len() >= MAX_ENTRIES {
            return Err(r.err("entry", ErrorKind::TooMany(out.len() as u64)));
        }
        let offset = r.offset();
        let pcr = r.u32_le("pcr")?;
        let template_digest = r.array::<TEMPLATE_DIGEST_LEN>("template digest")?;
        let name_len = r.u32_le("template name length")?;
        let name_len = usize::try_from(name_len).unwrap_or(usize::MAX);
        if name_len == 0 || name_len > MAX_TEMPLATE_NAME {
            return Err(r.err(
                "template name length",
                ErrorKind::BadLength(name_len as u64),
            ));
        }
        let template = String::from_utf8_lossy(r.take(name_len, "template name")?).into_owned();
        let data_len = r.u32_le("template data length")?;
        let data_len = usize::try_from(data_len).unwrap_or(usize::MAX);
        if data_len > MAX_TEMPLATE_DATA || data_len > r.remaining() {
            return Err(r.err(
                "template data length",
                ErrorKind::BadLength(data_len as u64),
            ));
        }
        let mut d = r.sub(data_len, "template data")?;
        let template_data = d.rest().to_vec();
        let mut entry = Entry {
            offset,
            pcr,
            template_digest,
            template,
            file_digest: None,
            name: None,
            extra: None,
            template_data,
        };
        if matches!(entry.template.as_str(), "ima-ng" | "ima-sig" | "ima-buf") {
            let at = d.offset();
            let dg = field(&mut d, "d-ng field")?;
            entry.file_digest = Some(digest_ng(dg, at)?);
            let n = field(&mut d, "n-ng field")?;
            let n = n.strip_suffix(&[0]).unwrap_or(n);
            entry.name = Some(String::from_utf8_lossy(n).into_owned());
            if entry.template != "ima-ng" {
                let x = field(&mut d, "third field")?;
                if !x.is_empty() {
                    entry.extra = Some(x.to_vec());
                }
            }
            d.expect_empty("template data")?;
        }
        out.push(entry);
    }
    Ok(out)
}

/// One line of the ASCII list (`ascii_runtime_measurements`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsciiEntry {
    /// Byte offset of the line.
    pub offset: usize,
    /// PCR.
    pub pcr: u32,
    /// Template digest (SHA-1 in the default list; other lengths in per-bank lists).
    pub template_digest: Vec<u8>,
    /// Template name.
    pub template: String,
    /// File digest algorithm and bytes (`ima` template: SHA-1 without a prefix).
    pub file_digest: (String, Vec<u8>),
    /// File name.
    pub name: String,
    /// ima-sig's signature, when the line ends with one.
    pub extra: Option<Vec<u8>>,
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    (s.len().is_multiple_of(2) && !s.is_empty())
        .then(|| hex::decode(s).ok())
        .flatten()
}

/// Parses the ASCII list. The kernel prints names unescaped, so a name may contain spaces:
/// for ima-ng it is everything after the digest; for ima-sig a last word that is even-length
/// hex beginning with `03` (an IMA signature's header, `EVM_IMA_XATTR_DIGSIG`) is taken as the
/// signature — a name ending in such a word cannot be told apart, which is why boardproof
/// collects the binary list. A list that does not end with a newline was cut inside its last
/// line and is refused. Errors give the line's byte offset.
pub fn parse_ascii(text: &str) -> Result<Vec<AsciiEntry>, ParseError> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let at = offset;
        offset = offset.saturating_add(line.len());
        let terminated = line.ends_with('\n');
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            continue;
        }
        if out.len() >= MAX_ENTRIES {
            return Err(ParseError {
                offset: at,
                field: "entry",
                kind: ErrorKind::TooMany(out.len() as u64),
            });
        }
        let bad = |field: &'static str, why: &'static str| ParseError {
            offset: at,
            field,
            kind: ErrorKind::Invalid(why),
        };
        let mut parts = line.splitn(5, ' ');
        let pcr = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| bad("pcr", "not a number"))?;
        let template_digest = parts
            .next()
            .and_then(hex_bytes)
            .ok_or_else(|| bad("template digest", "not hex"))?;
        let template = parts
            .next()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("template name", "missing"))?
            .to_owned();
        let digest = parts.next().ok_or_else(|| bad("file digest", "missing"))?;
        let mut name = parts
            .next()
            .ok_or_else(|| bad("file name", "missing"))?
            .to_owned();
        let file_digest = match digest.split_once(':') {
            Some((algo, hexd)) if !algo.is_empty() => (
                algo.to_owned(),
                hex_bytes(hexd).ok_or_else(|| bad("file digest", "not hex"))?,
            ),
            None if template == "ima" => (
                "sha1".to_owned(),
                hex_bytes(digest).ok_or_else(|| bad("file digest", "not hex"))?,
            ),
            _ => return Err(bad("file digest", "no algorithm prefix")),
        };
        let mut extra = None;
        if template == "ima-sig" {
            // An empty signature field still prints its separating space.
            if let Some(head) = name.strip_suffix(' ') {
                name = head.to_owned();
            } else if let Some((head, last)) = name.rsplit_once(' ') {
                if last.starts_with("03") {
                    if let Some(sig) = hex_bytes(last) {
                        extra = Some(sig);
                        name = head.to_owned();
                    }
                }
            }
        }
        // The kernel ends every line with a newline: a last line without one was cut short,
        // and its name (or signature) may be cut with it.
        if !terminated {
            return Err(bad(
                "line end",
                "the list ends inside this line (cut short)",
            ));
        }
        if name.is_empty() {
            return Err(bad("file name", "empty"));
        }
        out.push(AsciiEntry {
            offset: at,
            pcr,
            template_digest,
            template,
            file_digest,
            name,
            extra,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn entry(pcr: u32, template: &str, fields: &[&[u8]]) -> Vec<u8> {
        let mut data = Vec::new();
        for f in fields {
            data.extend_from_slice(&(f.len() as u32).to_le_bytes());
            data.extend_from_slice(f);
        }
        let mut e = pcr.to_le_bytes().to_vec();
        e.extend_from_slice(&[0xab; 20]);
        e.extend_from_slice(&(template.len() as u32).to_le_bytes());
        e.extend_from_slice(template.as_bytes());
        e.extend_from_slice(&(data.len() as u32).to_le_bytes());
        e.extend_from_slice(&data);
        e
    }

    fn d_ng(algo: &str, digest: &[u8]) -> Vec<u8> {
        let mut v = algo.as_bytes().to_vec();
        v.extend_from_slice(b":\0");
        v.extend_from_slice(digest);
        v
    }

    fn sample() -> Vec<u8> {
        let mut list = entry(
            10,
            "ima-sig",
            &[&d_ng("sha256", &[1; 32]), b"boot_aggregate\0", b""],
        );
        list.extend(entry(
            10,
            "ima-ng",
            &[&d_ng("sha1", &[2; 20]), b"/mnt/a file\0"],
        ));
        list.extend(entry(11, "other", &[b"x"]));
        list
    }

    #[test]
    fn decodes_templates() {
        let e = parse(&sample()).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].name.as_deref(), Some("boot_aggregate"));
        assert_eq!(
            e[0].digest_text().unwrap(),
            format!("sha256:{}", "01".repeat(32))
        );
        assert_eq!(e[0].extra, None);
        assert_eq!(e[1].name.as_deref(), Some("/mnt/a file"), "spaces survive");
        assert_eq!(e[1].file_digest.as_ref().unwrap().0, "sha1");
        assert_eq!(e[2].template, "other");
        assert_eq!(e[2].name, None);
        assert_eq!(e[2].pcr, 11);
        assert!(parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_or_a_value() {
        let list = sample();
        for cut in 1..list.len() {
            let err = parse(&list[..cut]);
            // A cut at an entry boundary is a shorter valid list.
            if let Ok(e) = &err {
                assert!(e.len() < 3, "cut {cut}");
            }
        }
        for i in 0..list.len() {
            for bit in 0..8 {
                let mut m = list.clone();
                m[i] ^= 1 << bit;
                let _ = parse(&m);
            }
        }
    }

    #[test]
    fn hostile_lengths_are_refused_with_offsets() {
        let mut list = entry(10, "ima-ng", &[&d_ng("sha256", &[1; 32]), b"/x\0"]);
        // Template data length claims more than is there.
        list[34..38].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = parse(&list).unwrap_err();
        assert_eq!(err.field, "template data length");
        assert_eq!(err.offset, 38);
        let bad_digest = entry(10, "ima-ng", &[b"sha256-no-colon", b"/x\0"]);
        assert_eq!(parse(&bad_digest).unwrap_err().field, "d-ng digest");
        let zero_name = entry(10, "", &[]);
        assert_eq!(parse(&zero_name).unwrap_err().field, "template name length");
    }
}

/// One line of an IMA allowlist: a file the verifier accepts, with one accepted digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// `algo:hex`, as IMA's list writes file digests (`sha256:…`).
    pub digest: String,
    /// Absolute path as IMA records it.
    pub path: String,
}

/// Parses an allowlist in the format `sha256sum` (or sha1sum, sha384sum, sha512sum) prints:
/// `HEX  PATH` or `HEX *PATH`, one per line; the algorithm follows from the digest's length.
/// Blank lines and lines starting with `#` are skipped. A path may hold spaces. A file may be
/// listed several times with different digests (several accepted versions). Errors give the
/// line's byte offset.
pub fn parse_allowlist(text: &str) -> Result<Vec<Allowed>, ParseError> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for raw in text.split_inclusive('\n') {
        let at = offset;
        offset = offset.saturating_add(raw.len());
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &'static str| ParseError {
            offset: at,
            field: "allowlist line",
            kind: ErrorKind::Invalid(why),
        };
        let (hex_part, rest) = line
            .split_once(' ')
            .ok_or_else(|| bad("expected `HEX  PATH`"))?;
        let path = rest
            .strip_prefix(' ')
            .or_else(|| rest.strip_prefix('*'))
            .ok_or_else(|| bad("expected two spaces (or ` *`) between digest and path"))?;
        let algo = match hex_part.len() {
            40 => "sha1",
            64 => "sha256",
            96 => "sha384",
            128 => "sha512",
            _ => return Err(bad("digest is not 40, 64, 96 or 128 hex digits")),
        };
        if !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("digest is not hexadecimal"));
        }
        if !path.starts_with('/') {
            return Err(bad("path is not absolute (IMA records absolute paths)"));
        }
        out.push(Allowed {
            digest: format!("{algo}:{}", hex_part.to_ascii_lowercase()),
            path: path.to_owned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod allowlist_tests {
    use super::*;

    #[test]
    fn sha256sum_output_parses_with_spaces_in_names_and_comments() {
        let d = "ab".repeat(32);
        let text = format!(
            "# accepted\n\n{d}  /usr/bin/a b\n{} */bin/x\r\n",
            "CD".repeat(20)
        );
        let list = parse_allowlist(&text).unwrap();
        assert_eq!(
            list,
            vec![
                Allowed {
                    digest: format!("sha256:{d}"),
                    path: "/usr/bin/a b".into()
                },
                Allowed {
                    digest: format!("sha1:{}", "cd".repeat(20)),
                    path: "/bin/x".into()
                },
            ]
        );
    }

    #[test]
    fn bad_lines_name_their_offset() {
        let d = "ab".repeat(32);
        for (text, at) in [
            (format!("{d}  /ok\nzz /x\n"), 70),
            (format!("{d} /no-two-spaces\n"), 0),
            (format!("{}  /odd\n", "a".repeat(63)), 0),
            (format!("{}  /nothex\n", "g".repeat(64)), 0),
            (format!("{d}  relative\n"), 0),
        ] {
            let e = parse_allowlist(&text).unwrap_err();
            assert_eq!(e.offset, at, "{text:?}: {e}");
        }
    }
}
