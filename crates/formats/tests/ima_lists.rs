//! IMA lists from ../shared/testdata/ima and the lab: the binary list decodes to exactly what
//! the kernel printed as the ASCII list of the same capture; every ASCII list parses; cut or
//! damaged lists give errors, never panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;

use boardproof_formats::ima;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared(name: &str) -> PathBuf {
    root().join("../shared/testdata/ima").join(name)
}

/// The binary and ASCII lists of one capture agree entry by entry.
fn agree(binary: &PathBuf, ascii: &PathBuf) -> usize {
    let bin = ima::parse(&std::fs::read(binary).unwrap()).unwrap();
    let asc = ima::parse_ascii(&std::fs::read_to_string(ascii).unwrap()).unwrap();
    assert_eq!(bin.len(), asc.len(), "{}", binary.display());
    for (b, a) in bin.iter().zip(&asc) {
        assert_eq!(b.pcr, a.pcr);
        assert_eq!(b.template_digest.as_slice(), a.template_digest.as_slice());
        assert_eq!(b.template, a.template);
        assert_eq!(b.file_digest.as_ref(), Some(&a.file_digest), "{}", a.name);
        assert_eq!(b.name.as_deref(), Some(a.name.as_str()));
        assert_eq!(b.extra, a.extra, "{}", a.name);
    }
    bin.len()
}

#[test]
fn binary_and_ascii_captures_agree() {
    assert_eq!(
        agree(
            &shared("embrave-binary_runtime_measurements"),
            &shared("embrave-ascii_runtime_measurements")
        ),
        922
    );
    let lab = root().join("testdata/lab/golden");
    assert_eq!(agree(&lab.join("ima.bin"), &lab.join("ima.txt")), 2);
}

#[test]
fn every_ascii_list_parses() {
    let dir = root().join("../shared/testdata/ima");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("binary") {
            continue;
        }
        let list = ima::parse_ascii(&std::fs::read_to_string(&p).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!list.is_empty(), "{name}");
        assert_eq!(list[0].name, "boot_aggregate", "{name}");
        n += list.len();
    }
    assert!(n > 1700, "{n}");
    // An algorithm boardproof does not know is kept by name, not refused.
    let unknown =
        ima::parse_ascii(&std::fs::read_to_string(shared("keylime-ima-log-unknown.txt")).unwrap())
            .unwrap();
    assert_eq!(unknown[1].file_digest.0, "unknown");
    assert_eq!(unknown[1].name, "/data");
}

#[test]
fn damaged_lists_are_errors_with_offsets() {
    // A list cut anywhere is an error naming an offset inside the cut, or exactly the entries
    // before the cut (a cut at a line end): never an entry that is not in the whole list.
    let text = std::fs::read_to_string(shared("rustkeylime-ascii_runtime_measurements")).unwrap();
    let whole = ima::parse_ascii(&text).unwrap();
    let (mut refused, mut prefixes) = (0, 0);
    // Every cut in the first 4 KiB (every field of several lines), then every 7th byte.
    for cut in (0..text.len()).filter(|c| *c < 4096 || c % 7 == 0) {
        if !text.is_char_boundary(cut) {
            continue;
        }
        match ima::parse_ascii(&text[..cut]) {
            Ok(got) => {
                assert_eq!(got[..], whole[..got.len()], "cut at {cut}");
                let ends_line = cut == 0 || text.as_bytes()[cut - 1] == b'\n';
                let whole_lines = text[..cut].lines().filter(|l| !l.trim().is_empty()).count();
                assert!(
                    ends_line || got.len() == whole_lines,
                    "cut at {cut} inside a line parsed as {} entries",
                    got.len()
                );
                prefixes += 1;
            }
            Err(e) => {
                assert!(e.offset <= cut, "cut at {cut}: error at {}", e.offset);
                refused += 1;
            }
        }
    }
    assert!(
        refused > 100 && prefixes > 10,
        "{refused} refused, {prefixes} prefixes"
    );
    let bad = "10 zz ima-ng sha1:00 /x\n";
    let err = ima::parse_ascii(&format!(
        "10 {} ima-ng sha1:{} /ok\n{bad}",
        "0".repeat(40),
        "0".repeat(40)
    ))
    .unwrap_err();
    assert_eq!(err.field, "template digest");
    assert_eq!(err.offset, 3 + 40 + 8 + 5 + 40 + 5);
    assert_eq!(
        ima::parse_ascii("10 00 ima-ng nocolon /x")
            .unwrap_err()
            .field,
        "file digest"
    );
    assert_eq!(
        ima::parse_ascii("x 00 ima-ng sha1:00 /x")
            .unwrap_err()
            .field,
        "pcr"
    );
    // ima-sig: a trailing signature word is split off, a name with spaces is kept whole.
    let sig = ima::parse_ascii(
        "10 00 ima-sig sha256:00 /a b 030204aabb\n10 00 ima-sig sha256:00 /a b c\n10 00 ima-sig sha256:00 /d \n",
    )
    .unwrap();
    assert_eq!(
        (sig[0].name.as_str(), sig[0].extra.as_deref()),
        ("/a b", Some(&[3u8, 2, 4, 0xaa, 0xbb][..]))
    );
    assert_eq!(
        (sig[1].name.as_str(), sig[1].extra.as_deref()),
        ("/a b c", None)
    );
    assert_eq!(
        (sig[2].name.as_str(), sig[2].extra.as_deref()),
        ("/d", None)
    );
    // The binary list: every cut is an error inside the cut or a prefix of the entries.
    let bin = std::fs::read(shared("embrave-binary_runtime_measurements")).unwrap();
    let whole = ima::parse(&bin).unwrap();
    let mut refused = 0;
    for cut in (0..bin.len()).filter(|c| *c < 4096 || c % 7 == 0) {
        match ima::parse(&bin[..cut]) {
            Ok(got) => assert_eq!(got[..], whole[..got.len()], "cut at {cut}"),
            Err(e) => {
                assert!(e.offset <= cut, "cut at {cut}: error at {}", e.offset);
                refused += 1;
            }
        }
    }
    assert!(refused > 4096, "{refused} cuts refused");
}
