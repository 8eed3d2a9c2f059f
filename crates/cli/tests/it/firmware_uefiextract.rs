//! Firmware images checked against UEFIExtract (package uefitool-cli), run live on every image
//! of Debian's `ovmf` package and every image under ../shared/testdata/uefi: the same volumes,
//! files (GUID, type, size) and sections (type, size), in the same order and nesting.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{code, in_ci, require_tool, run, stderr, stdout, testdata_files};

/// One item of a tree, as both tools can say it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    depth: usize,
    /// Volume, File or Section.
    kind: String,
    subtype: String,
    size: usize,
    /// A file's name GUID (none for pad files), a volume's name.
    guid: Option<String>,
}

/// UEFIExtract's report: `Type | Subtype | Base | Size | CRC32 | Name`, depth as leading '-'.
/// Rows inside a volume boardproof does not read as FFS (an NVRAM store) are left out, and so
/// are free space and padding, which UEFIExtract lists as their own rows.
fn uefiextract(image: &Path) -> (i32, Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("image.bin");
    std::fs::copy(image, &copy).unwrap();
    let out = Command::new("UEFIExtract")
        .arg(&copy)
        .arg("report")
        .output()
        .unwrap();
    let report =
        std::fs::read_to_string(dir.path().join("image.bin.report.txt")).unwrap_or_default();
    let mut rows = Vec::new();
    let mut skip_below: Option<usize> = None;
    for line in report.lines().skip(1) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [kind, subtype, _base, size, _crc, name, rest @ ..] = cols.as_slice() else {
            continue;
        };
        let depth = name.chars().take_while(|c| *c == '-').count();
        if let Some(d) = skip_below {
            if depth > d {
                continue;
            }
            skip_below = None;
        }
        if !matches!(*kind, "Volume" | "File" | "Section") {
            continue;
        }
        let name = name.trim_start_matches('-').trim();
        if *kind == "Volume" && !subtype.starts_with("FFSv") {
            skip_below = Some(depth);
        }
        let guid = match *kind {
            "Volume" | "File" if name.len() >= 36 && name.as_bytes().get(8) == Some(&b'-') => {
                Some(name[..36].to_owned())
            }
            _ => None,
        };
        let _ = rest;
        rows.push(Row {
            depth,
            kind: (*kind).to_owned(),
            subtype: (*subtype).to_owned(),
            size: usize::from_str_radix(size, 16).unwrap(),
            guid,
        });
    }
    (out.status.code().unwrap_or(-1), rows)
}

fn ours(nodes: &[Value], depth: usize, out: &mut Vec<Row>) {
    for n in nodes {
        let kind = match n["kind"].as_str().unwrap() {
            "volume" => "Volume",
            "file" => "File",
            "section" => "Section",
            _ => continue,
        };
        let guid = match kind {
            // UEFIExtract names a volume by its FvName when it has one.
            "Volume" => n["name"].as_str().or(n["guid"].as_str()).map(str::to_owned),
            "File" => n["guid"].as_str().map(str::to_owned),
            _ => None,
        };
        out.push(Row {
            depth,
            kind: kind.into(),
            subtype: n["subtype"].as_str().unwrap().to_owned(),
            size: n["size"].as_u64().unwrap() as usize,
            guid,
        });
        // UEFIExtract lists nothing inside a volume it does not read as FFS either.
        if let Some(children) = n["children"].as_array() {
            ours(children, depth + 1, out);
        }
    }
}

fn images() -> Vec<PathBuf> {
    let mut v = testdata_files("uefi", "");
    let ovmf = Path::new("/usr/share/OVMF");
    match std::fs::read_dir(ovmf) {
        Ok(d) => {
            let mut fds: Vec<PathBuf> = d
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "fd"))
                .collect();
            fds.sort();
            assert!(!fds.is_empty(), "no .fd in {}", ovmf.display());
            v.extend(fds);
        }
        Err(e) if in_ci() => panic!("{}: {e}: .ci/run must install ovmf", ovmf.display()),
        Err(e) => eprintln!("SKIP OVMF images: {}: {e}", ovmf.display()),
    }
    v
}

#[test]
fn trees_equal_uefiextract() {
    if !require_tool("UEFIExtract") {
        return;
    }
    let mut compared = 0;
    let mut files = 0;
    for image in images() {
        let (rc, theirs) = uefiextract(&image);
        assert_eq!(rc, 0, "UEFIExtract failed on {}", image.display());
        let o = run(&["firmware", "inspect", "--json", image.to_str().unwrap()]);
        if theirs.is_empty() {
            // Not a firmware image to UEFIExtract either (a Boot Guard manifest, a bare FFS
            // file, a lone volume header): boardproof must refuse it, naming the file.
            assert_eq!(code(&o), 2, "{}: {}", image.display(), stdout(&o));
            assert!(
                stderr(&o).contains(image.to_str().unwrap()),
                "{}",
                stderr(&o)
            );
            continue;
        }
        assert_eq!(code(&o), 0, "{}: {}", image.display(), stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let mut mine = Vec::new();
        ours(v["items"].as_array().unwrap(), 1, &mut mine);
        for (i, (a, b)) in mine.iter().zip(&theirs).enumerate() {
            assert_eq!(
                a,
                b,
                "{}: row {i} differs (boardproof, UEFIExtract)",
                image.display()
            );
        }
        assert_eq!(mine.len(), theirs.len(), "{}: row count", image.display());
        compared += 1;
        files += mine.iter().filter(|r| r.kind == "File").count();
    }
    assert!(compared >= 5, "only {compared} images compared");
    eprintln!("{compared} images, {files} files equal UEFIExtract's");
}
