//! Firmware images checked against UEFIExtract (package uefitool-cli), run live on every image
//! of Debian's `ovmf` package and every image under ../shared/testdata/uefi: the same volumes,
//! files (GUID, type, size) and sections (type, size), in the same order and nesting. Also an
//! Intel flash image built here around Debian's OVMF (descriptor, GbE, PDR, a padding, ME,
//! BIOS): the same regions at the same offsets, and the same tree inside the BIOS region.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use boardproof_testkit::nonempty;

use crate::util::{code, require_path, require_tool, run, stderr, stdout, testdata_files};

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
    /// A flash region's offset.
    base: Option<usize>,
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
        if !matches!(*kind, "Volume" | "File" | "Section" | "Region") {
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
            base: (*kind == "Region").then(|| usize::from_str_radix(_base, 16).unwrap()),
        });
    }
    (out.status.code().unwrap_or(-1), rows)
}

/// The name GUIDs of every file (module) UEFIExtract finds in `image`, nested volumes
/// included, pad files left out: the reference module set of other tests.
pub(crate) fn uefiextract_file_guids(image: &Path) -> std::collections::BTreeSet<String> {
    let (rc, rows) = uefiextract(image);
    assert_eq!(rc, 0, "UEFIExtract failed on {}", image.display());
    let set: std::collections::BTreeSet<String> = rows
        .into_iter()
        .filter(|r| r.kind == "File")
        .filter_map(|r| r.guid)
        .map(|g| g.to_uppercase())
        .collect();
    assert!(
        !set.is_empty(),
        "UEFIExtract found no file in {}",
        image.display()
    );
    set
}

fn ours(nodes: &[Value], depth: usize, out: &mut Vec<Row>) {
    for n in nodes {
        let kind = match n["kind"].as_str().unwrap() {
            "volume" => "Volume",
            "file" => "File",
            "section" => "Section",
            "region" => "Region",
            _ => continue,
        };
        let guid = match kind {
            // UEFIExtract names a volume by its FvName when it has one.
            "Volume" => n["name"].as_str().or(n["guid"].as_str()).map(str::to_owned),
            "File" => n["guid"].as_str().map(str::to_owned),
            _ => None,
        };
        let subtype = n["subtype"].as_str().unwrap();
        out.push(Row {
            depth,
            kind: kind.into(),
            subtype: subtype.trim_end_matches(" region").to_owned(),
            size: n["size"].as_u64().unwrap() as usize,
            guid,
            base: (kind == "Region").then(|| n["offset"].as_u64().unwrap() as usize),
        });
        // UEFIExtract lists nothing inside a volume it does not read as FFS either.
        if let Some(children) = n["children"].as_array() {
            ours(children, depth + 1, out);
        }
    }
}

/// An Intel flash image (descriptor v2) with Debian's OVMF as its BIOS region: GbE and PDR
/// regions of pseudo-random bytes, 4 KiB of padding holding data, an erased ME region
/// (UEFIExtract refuses ME regions that are not real ME firmware or erased).
fn intel_image(dir: &Path, ovmf: &Path) -> PathBuf {
    let code = std::fs::read(ovmf).unwrap();
    let size = 0x80_0000usize;
    let mut img = vec![0xffu8; size];
    img[0x10..0x14].copy_from_slice(&0x0ff0_a55au32.to_le_bytes());
    // FLMAP0: component section at 0x30, region section at 0x40; FLMAP1: masters at 0x60.
    img[0x14..0x20].copy_from_slice(&[0x03, 0x00, 0x04, 0x02, 0x06, 0x02, 0x10, 0x00, 0, 0, 0, 0]);
    // FLCOMP: 17 MHz read clock (6 << 17): a version 2 descriptor.
    img[0x30..0x34].copy_from_slice(&[0x05, 0x00, 6 << 1, 0x00]);
    let bios = (size - code.len()) >> 12;
    let mut regs = [(0x7fffu16, 0u16); 16];
    regs[0] = (0, 0);
    regs[1] = (bios as u16, ((size >> 12) - 1) as u16);
    regs[2] = (0x6, (bios - 1) as u16);
    regs[3] = (0x1, 0x2);
    regs[4] = (0x3, 0x4);
    for (i, (b, l)) in regs.iter().enumerate() {
        img[0x40 + 4 * i..0x42 + 4 * i].copy_from_slice(&b.to_le_bytes());
        img[0x42 + 4 * i..0x44 + 4 * i].copy_from_slice(&l.to_le_bytes());
    }
    img[0x60..0x6c].fill(0);
    img[0xefc..0xf00].fill(0);
    let mut x = 0x2545_f491u32;
    for b in &mut img[0x1000..0x5000] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    for (i, b) in img[0x5100..0x5200].iter_mut().enumerate() {
        *b = i as u8;
    }
    img[bios << 12..].copy_from_slice(&code);
    let p = dir.join("intel-flash.bin");
    std::fs::write(&p, img).unwrap();
    p
}

/// The test data's images and Debian's OVMF images (a skip outside CI, a failure under it,
/// when the ovmf package is missing).
fn images() -> Vec<PathBuf> {
    let mut v = testdata_files("uefi", "");
    if let Some(ovmf) = require_path("/usr/share/OVMF", "Debian package ovmf") {
        let mut fds: Vec<PathBuf> = std::fs::read_dir(&ovmf)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "fd"))
            .collect();
        fds.sort();
        v.extend(nonempty(fds, &format!(".fd files in {}", ovmf.display())));
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
    let dir = tempfile::tempdir().unwrap();
    let mut all = images();
    let ovmf = require_path("/usr/share/OVMF/OVMF_CODE_4M.fd", "Debian package ovmf");
    if let Some(ovmf) = &ovmf {
        all.push(intel_image(dir.path(), ovmf));
    }
    let mut regions = 0;
    for image in all {
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
        regions += mine.iter().filter(|r| r.kind == "Region").count();
    }
    assert!(compared >= 5, "only {compared} images compared");
    if ovmf.is_some() {
        assert_eq!(regions, 5, "the Intel image's regions");
    }
    eprintln!("{compared} images, {files} files equal UEFIExtract's");
}

/// The variables of every NVRAM volume in Debian's OVMF images (the VARS files, empty and with
/// Microsoft's keys enrolled) are UEFIExtract's VSS entries: same offsets, sizes, states, vendor
/// GUIDs and names.
#[test]
fn nvram_variables_equal_uefiextract() {
    if !require_tool("UEFIExtract") {
        return;
    }
    let mut stores = 0;
    let mut vars = 0;
    for image in images() {
        let bytes = std::fs::read(&image).unwrap();
        // An image boardproof refuses must be one in which UEFIExtract finds no variable
        // either: compared like any other, with no variables on our side.
        let items = boardproof_formats::uefi::parse_image(&bytes)
            .map(|p| p.items)
            .unwrap_or_default();
        let mut mine = Vec::new();
        for item in &items {
            if let boardproof_formats::uefi::TopItem::Volume(v) = item {
                if let Some(store) = &v.variables {
                    stores += 1;
                    for var in &store.variables {
                        mine.push((
                            var.offset,
                            var.size,
                            var.is_live(),
                            var.is_live()
                                .then(|| format!("{} | {}", var.vendor, var.name)),
                        ));
                    }
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("image.bin");
        std::fs::copy(&image, &copy).unwrap();
        let out = Command::new("UEFIExtract")
            .arg(&copy)
            .arg("report")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "UEFIExtract failed on {}",
            image.display()
        );
        let report = std::fs::read_to_string(dir.path().join("image.bin.report.txt")).unwrap();
        let theirs: Vec<(usize, usize, bool, Option<String>)> = report
            .lines()
            .filter(|l| l.starts_with(" VSS entry"))
            .map(|l| {
                let c: Vec<&str> = l.split('|').map(str::trim).collect();
                let live = c[1] == "Auth" || c[1] == "Standard";
                let name = c[5].trim_start_matches('-').trim();
                (
                    usize::from_str_radix(c[2], 16).unwrap(),
                    usize::from_str_radix(c[3], 16).unwrap(),
                    live,
                    live.then(|| format!("{name} | {}", c[6])),
                )
            })
            .collect();
        assert_eq!(mine, theirs, "{}", image.display());
        vars += mine.len();
    }
    assert!(stores >= 4, "only {stores} variable stores compared");
    eprintln!("{stores} stores, {vars} variables equal UEFIExtract's");
}
