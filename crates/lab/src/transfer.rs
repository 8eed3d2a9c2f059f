//! The guest sends its files over a serial port as base64 between marker lines:
//!
//! ```text
//! BOARDPROOF-LAB FILE evidence.json 48211
//! <base64 lines>
//! BOARDPROOF-LAB END evidence.json <sha256>
//! ...
//! BOARDPROOF-LAB DONE <exit code of boardproof collect>
//! ```
//!
//! A serial line can lose or garble bytes and a guest can die half way, so every file carries
//! its size and digest and the stream must end with DONE: anything else is an error, never a
//! partial result.

use std::collections::BTreeMap;

use base64::Engine;
use sha2::{Digest, Sha256};

/// Starts every marker line.
const MARKER: &str = "BOARDPROOF-LAB ";

/// At most this much guest output is read (the golden guest sends about 200 KiB).
pub const MAX_OUTPUT: usize = 64 << 20;

/// Files the guest sent, by name.
#[derive(Debug, Clone, Default)]
pub struct GuestOutput {
    /// Name → content.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Exit code of `boardproof collect` inside the guest.
    pub collect_exit: i32,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
        && name.bytes().all(|b| b.is_ascii_graphic())
}

/// Parses the data port's bytes. Errors name the line.
pub fn parse(bytes: &[u8]) -> Result<GuestOutput, String> {
    if bytes.len() > MAX_OUTPUT {
        return Err(format!("more than {MAX_OUTPUT} bytes of output"));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not text at byte {} (the serial line garbled it)",
            e.valid_up_to()
        )
    })?;
    // The firmware writes its console (escape sequences) to every serial port before the
    // kernel starts; the stream proper begins at the first marker.
    let start = text
        .find(MARKER)
        .ok_or_else(|| "no output from the guest's init (no marker line)".to_owned())?;
    let skipped_lines = text.get(..start).map_or(0, |t| t.matches('\n').count());
    let text = text.get(start..).unwrap_or_default();
    let mut out = GuestOutput::default();
    let mut current: Option<(String, usize, String)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let lineno = n.saturating_add(1).saturating_add(skipped_lines);
        if let Some(rest) = line.strip_prefix(MARKER) {
            let parts: Vec<&str> = rest.split(' ').collect();
            match (parts.as_slice(), current.take()) {
                (["FILE", name, size], None) => {
                    if !valid_name(name) {
                        return Err(format!("line {lineno}: bad file name {name:?}"));
                    }
                    let size: usize = size
                        .parse()
                        .map_err(|_| format!("line {lineno}: bad size {size:?}"))?;
                    current = Some(((*name).to_owned(), size, String::new()));
                }
                (["END", name, sha], Some((cur, size, b64))) => {
                    if *name != cur {
                        return Err(format!("line {lineno}: END {name} inside FILE {cur}"));
                    }
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(b64.as_bytes())
                        .map_err(|e| format!("{cur}: base64: {e}"))?;
                    if data.len() != size {
                        return Err(format!(
                            "{cur}: {} bytes arrived, {size} were sent",
                            data.len()
                        ));
                    }
                    let got = hex::encode(Sha256::digest(&data));
                    if got != *sha {
                        return Err(format!(
                            "{cur}: sha256 {got} differs from the guest's {sha}"
                        ));
                    }
                    out.files.insert(cur, data);
                }
                (["DONE", rc], None) => {
                    out.collect_exit = rc
                        .parse()
                        .map_err(|_| format!("line {lineno}: bad exit code {rc:?}"))?;
                    return Ok(out);
                }
                (_, cur) => {
                    return Err(format!(
                        "line {lineno}: unexpected marker {line:?}{}",
                        cur.map(|c| format!(" inside FILE {}", c.0))
                            .unwrap_or_default()
                    ))
                }
            }
        } else if let Some((_, _, b64)) = current.as_mut() {
            b64.push_str(line.trim());
        } else if !line.trim().is_empty() {
            return Err(format!("line {lineno}: text outside a file: {line:?}"));
        }
    }
    Err(match current {
        Some((name, _, _)) => {
            format!("output ends inside {name} (the guest stopped while sending)")
        }
        None => "output ends without DONE (the guest stopped before it finished)".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, data: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        format!(
            "BOARDPROOF-LAB FILE {name} {}\n{b64}\nBOARDPROOF-LAB END {name} {}\n",
            data.len(),
            hex::encode(Sha256::digest(data))
        )
    }

    #[test]
    fn round_trip() {
        let s =
            frame("a/b.bin", &[0, 1, 2, 255]) + &frame("e.json", b"{}") + "BOARDPROOF-LAB DONE 0\n";
        let out = parse(s.as_bytes()).expect("parses");
        assert_eq!(
            out.files.get("a/b.bin").map(Vec::as_slice),
            Some(&[0u8, 1, 2, 255][..])
        );
        assert_eq!(out.files.len(), 2);
        assert_eq!(out.collect_exit, 0);
    }

    #[test]
    fn firmware_noise_before_the_first_marker_is_skipped() {
        let s = format!(
            "\u{1b}[2J\u{1b}[01;01H{}BOARDPROOF-LAB DONE 3\n",
            frame("e.json", b"{}")
        );
        let out = parse(s.as_bytes()).expect("parses");
        assert_eq!(out.collect_exit, 3);
        assert_eq!(out.files.len(), 1);
    }

    #[test]
    fn damage_is_an_error() {
        let good = frame("e.json", b"{\"a\":1}") + "BOARDPROOF-LAB DONE 0\n";
        // Every truncation is an error (no DONE, or a short file).
        for cut in 0..good.len().saturating_sub(1) {
            assert!(
                parse(good.as_bytes().get(..cut).unwrap_or_default()).is_err(),
                "cut {cut}"
            );
        }
        let flipped = good.replacen("eyJh", "eyJi", 1);
        assert!(parse(flipped.as_bytes()).unwrap_err().contains("sha256"));
        let bad_name = frame("../x", b"1") + "BOARDPROOF-LAB DONE 0\n";
        assert!(parse(bad_name.as_bytes()).is_err());
        assert!(
            parse(b"BOARDPROOF-LAB DONE 0\nnoise\n").is_ok(),
            "text after DONE is not read"
        );
        let mid = frame("e.json", b"1") + "noise\n" + &frame("f", b"2") + "BOARDPROOF-LAB DONE 0\n";
        assert!(
            parse(mid.as_bytes()).is_err(),
            "noise between files is an error"
        );
        assert!(parse(b"firmware noise only\n").is_err());
    }
}
