//! `firmware diff` and `collect --firmware` on Debian's real OVMF images: a byte patched inside
//! a module of the LZMA-compressed DXE volume is named by that module alone; Debian's own two
//! builds differ by the modules UEFIExtract lists; data written into free space is found.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use boardproof_formats::uefi::{self, Content, File, Inner, Location, Section, TopItem, Volume};
use serde_json::Value;

use crate::e2e::{keys, manifest_for, verify_json};
use crate::fixture::Machine;
use crate::util::{code, require_path, run, stderr, stdout};

/// Debian's OVMF image `name`; when the ovmf package is missing, None outside CI (a skip)
/// and a failure under it.
fn ovmf(name: &str) -> Option<PathBuf> {
    require_path(
        Path::new("/usr/share/OVMF").join(name),
        "Debian package ovmf",
    )
}

fn diff_json(a: &Path, b: &Path) -> (i32, Value) {
    let o = run(&[
        "firmware",
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--json",
    ]);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    (code(&o), serde_json::from_slice(&o.stdout).unwrap())
}

fn findings(r: &Value) -> Vec<(String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every file of every volume, depth first, with the volumes it sits in.
fn files<'a>(v: &'a Volume, out: &mut Vec<&'a File>) {
    for f in &v.files {
        out.push(f);
        fn sections<'a>(s: &'a [Section], out: &mut Vec<&'a File>) {
            for s in s {
                match &s.content {
                    Content::Volume(v) => files(v, out),
                    Content::Compressed {
                        inner: Inner::Sections(i),
                        ..
                    }
                    | Content::Guided {
                        inner: Inner::Sections(i),
                        ..
                    } => sections(i, out),
                    _ => {}
                }
            }
        }
        sections(f.sections.as_deref().unwrap_or_default(), out);
    }
}

pub(crate) fn all_files(image: &uefi::Image) -> Vec<&File> {
    let mut out = Vec::new();
    for i in &image.items {
        if let TopItem::Volume(v) = i {
            files(v, &mut out);
        }
    }
    out
}

#[test]
fn an_image_equals_itself() {
    let Some(code4m) = ovmf("OVMF_CODE_4M.fd") else {
        return;
    };
    let (c, r) = diff_json(&code4m, &code4m);
    assert_eq!(c, 0, "{r}");
    assert_eq!(r["verdict"], "verified");
    let o = run(&[
        "firmware",
        "diff",
        code4m.to_str().unwrap(),
        code4m.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("VERIFIED"), "{}", stdout(&o));
    // `firmware inspect` and `firmware diff` count the same files and pad files (inspect
    // once counted pads as files: 141 against 128).
    let counts = |text: &str| -> (u64, u64) {
        let (files, rest) = text
            .split_once(" files and ")
            .unwrap_or_else(|| panic!("{text}"));
        let files = files.rsplit(' ').next().unwrap().parse().unwrap();
        let pads = rest.split(' ').next().unwrap().parse().unwrap();
        (files, pads)
    };
    let d = counts(stdout(&o).lines().next().unwrap());
    let i = run(&["firmware", "inspect", code4m.to_str().unwrap()]);
    assert_eq!(code(&i), 0, "{}", stderr(&i));
    assert_eq!(counts(stdout(&i).lines().next().unwrap()), d);
    assert!(d.0 > 100 && d.1 > 0, "{d:?}");
}

/// One byte of PcdDxe's code (a PE32 section inside the LZMA-compressed DXE volume) flipped and
/// the volume recompressed: exactly one finding, naming PcdDxe, and neither the file that
/// carries the compressed volume nor the volumes around it.
#[test]
fn a_code_byte_patched_inside_a_compressed_module_is_pinpointed() {
    let Some(code4m) = ovmf("OVMF_CODE_4M.fd") else {
        return;
    };
    let bytes = std::fs::read(&code4m).unwrap();
    let image = uefi::parse_image(&bytes).unwrap();
    let module = all_files(&image)
        .into_iter()
        .find(|f| f.ui_name() == Some("PcdDxe"))
        .expect("PcdDxe in OVMF_CODE_4M.fd");
    let pe32 = module
        .sections
        .as_deref()
        .unwrap()
        .iter()
        .find(|s| s.section_type == 0x10)
        .expect("PcdDxe has a PE32 section");
    let Location::Decompressed(at) = pe32.location else {
        panic!(
            "PcdDxe is expected inside the compressed volume: {:?}",
            pe32.location
        );
    };
    // Well inside the PE image, past its headers: a code byte.
    let target = at + pe32.header_size + 0x400;
    assert!(target < at + pe32.size);
    let mut patched = bytes.clone();
    let (old, new) = boardproof_lab::ovmf::patch_decompressed(&mut patched, target, 0x01).unwrap();
    assert!(new <= old);
    let work = tempfile::tempdir().unwrap();
    let b = work.path().join("patched.fd");
    std::fs::write(&b, &patched).unwrap();
    assert_ne!(bytes, patched);

    let (c, r) = diff_json(&code4m, &b);
    assert_eq!(c, 1, "{r}");
    let guid = module.name.to_string();
    assert_eq!(
        findings(&r),
        vec![(
            "firmware-module-changed".to_owned(),
            format!("firmware image: {guid} PcdDxe")
        )],
        "{r:#}"
    );
    let message = r["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("DXE driver PcdDxe"), "{message}");
    // Text output names it too, and exits 1.
    let o = run(&[
        "firmware",
        "diff",
        code4m.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains(&guid), "{}", stdout(&o));
}

/// The lab's patch (one letter of a module's UI name, recompressed): the finding says the UI
/// name changed, and names the module by GUID.
#[test]
fn a_renamed_module_is_named_by_guid_and_both_names() {
    let Some(code4m) = ovmf("OVMF_CODE_4M.fd") else {
        return;
    };
    let mut patched = std::fs::read(&code4m).unwrap();
    boardproof_lab::ovmf::patch_dxe_module(&mut patched, "PcdDxe").unwrap();
    let work = tempfile::tempdir().unwrap();
    let b = work.path().join("renamed.fd");
    std::fs::write(&b, &patched).unwrap();
    let (c, r) = diff_json(&code4m, &b);
    assert_eq!(c, 1, "{r}");
    let f = r["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["kind"], "firmware-module-changed");
    let message = f[0]["message"].as_str().unwrap();
    assert!(
        message.contains("UI name PcdDxe is now pcdDxe"),
        "{message}"
    );
}

/// Debian builds OVMF with and without Secure Boot and SMM: the modules one has and the other
/// lacks are exactly the added and removed findings, against the module sets UEFIExtract
/// lists for the two images.
#[test]
fn debians_two_builds_differ_by_their_module_sets() {
    if !crate::util::require_tool("UEFIExtract") {
        return;
    }
    let (Some(a), Some(b)) = (ovmf("OVMF_CODE_4M.fd"), ovmf("OVMF_CODE_4M.secboot.fd")) else {
        return;
    };
    let guids = |p: &Path| crate::firmware_uefiextract::uefiextract_file_guids(p);
    let (ga, gb) = (guids(&a), guids(&b));
    let (c, r) = diff_json(&a, &b);
    assert_eq!(c, 1);
    let by_kind = |kind: &str| -> BTreeSet<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == kind)
            .map(|f| f["locus"]["guid"].as_str().unwrap().to_uppercase())
            .collect()
    };
    let added = by_kind("firmware-module-added");
    let removed = by_kind("firmware-module-removed");
    assert_eq!(added, gb.difference(&ga).cloned().collect(), "{r:#}");
    assert_eq!(removed, ga.difference(&gb).cloned().collect(), "{r:#}");
    assert!(
        added.contains("33FB3535-F15E-4C17-B303-5EB94595ECB6"),
        "SmmLockBox"
    );
    assert!(
        removed.contains("CBD2E4D5-7068-4FF5-B462-9822B4AD8D60"),
        "VariableRuntimeDxe"
    );
    // Modules both have but built differently are changed, each named once.
    let changed = by_kind("firmware-module-changed");
    assert!(changed.is_subset(&ga.intersection(&gb).cloned().collect()));
    assert!(!changed.is_empty());
}

/// Bytes written into the erased free space of the SEC volume: a firmware-changed finding on
/// that free space, and no module is blamed.
#[test]
fn data_hidden_in_free_space_is_found() {
    let Some(code4m) = ovmf("OVMF_CODE_4M.fd") else {
        return;
    };
    let bytes = std::fs::read(&code4m).unwrap();
    let image = uefi::parse_image(&bytes).unwrap();
    let (at, size) = image
        .items
        .iter()
        .filter_map(|i| match i {
            TopItem::Volume(v) => v.free_space.as_ref(),
            TopItem::Gap(_) | TopItem::Region(_) => None,
        })
        .filter(|f| f.region.empty && f.region.size >= 64)
        .find_map(|f| Some((f.location.image_offset()?, f.region.size)))
        .expect("an erased free space in an uncompressed volume");
    let mut patched = bytes.clone();
    patched[at + size / 2..at + size / 2 + 16].copy_from_slice(b"not erased flash");
    let work = tempfile::tempdir().unwrap();
    let b = work.path().join("hidden.fd");
    std::fs::write(&b, &patched).unwrap();
    let (c, r) = diff_json(&code4m, &b);
    assert_eq!(c, 1);
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0].0, "firmware-changed");
    assert!(f[0].1.ends_with("/free-space"), "{r:#}");
}

#[test]
fn diff_of_a_file_that_is_no_image_exits_2_naming_it() {
    let Some(code4m) = ovmf("OVMF_CODE_4M.fd") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let junk = work.path().join("junk.bin");
    std::fs::write(&junk, vec![0x5a; 4096]).unwrap();
    let o = run(&[
        "firmware",
        "diff",
        code4m.to_str().unwrap(),
        junk.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("junk.bin"), "{}", stderr(&o));
    let o = run(&[
        "firmware",
        "diff",
        code4m.to_str().unwrap(),
        "/nonexistent/x.fd",
    ]);
    assert_eq!(code(&o), 2);
}

/// collect --firmware puts the module list in the evidence, a manifest signs it, and verify
/// names the patched module; evidence collected without the image is source-missing, not
/// "verified".
#[test]
fn a_manifest_signs_the_module_list_and_verify_names_the_patched_module() {
    let Some(code4m) = ovmf("OVMF_CODE_4M.fd") else {
        return;
    };
    let m = Machine::golden();
    let work = tempfile::tempdir().unwrap();
    let collect = |firmware: Option<&Path>, out: &Path| {
        let mut args = vec!["collect", "--root", m.root().to_str().unwrap()];
        let spec;
        if let Some(f) = firmware {
            spec = format!("flash={}", f.display());
            args.extend(["--firmware", spec.as_str()]);
        }
        args.extend(["--out", out.to_str().unwrap()]);
        let o = run(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    };
    let golden = work.path().join("golden.json");
    collect(Some(&code4m), &golden);
    let ev: Value = serde_json::from_slice(&std::fs::read(&golden).unwrap()).unwrap();
    assert_eq!(ev["firmware"][0]["label"], "flash");
    assert!(ev["firmware"][0]["items"].as_array().unwrap().len() > 100);
    let k = keys();
    let man = manifest_for(&golden, &k);
    let (c, r) = verify_json(&golden, &man, &k);
    assert_eq!(c, 0, "{r}");

    let mut patched = std::fs::read(&code4m).unwrap();
    boardproof_lab::ovmf::patch_dxe_module(&mut patched, "PcdDxe").unwrap();
    let flashed = work.path().join("flashed.fd");
    std::fs::write(&flashed, &patched).unwrap();
    let now = work.path().join("now.json");
    collect(Some(&flashed), &now);
    let (c, r) = verify_json(&now, &man, &k);
    assert_eq!(c, 1);
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0].0, "firmware-module-changed");
    assert!(f[0].1.contains("PcdDxe"), "{r:#}");

    let without = work.path().join("without.json");
    collect(None, &without);
    let (c, r) = verify_json(&without, &man, &k);
    assert_eq!(c, 1);
    assert_eq!(
        findings(&r),
        vec![("source-missing".to_owned(), "source firmware".to_owned())],
        "{r:#}"
    );

    // A bad image stops collect with exit 2 and writes nothing.
    let junk = work.path().join("junk.fd");
    std::fs::write(&junk, b"no volume here").unwrap();
    let out = work.path().join("never.json");
    let o = run(&[
        "collect",
        "--root",
        m.root().to_str().unwrap(),
        "--firmware",
        junk.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("junk.fd"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// An offset inside decompressed data counts from the start of that data, at every depth: each
/// file of OVMF's compressed PEI and DXE volumes has its name GUID there.
#[test]
fn decompressed_offsets_count_from_the_decompressed_data() {
    let Some(code4m) = ovmf("OVMF_CODE_4M.fd") else {
        return;
    };
    let bytes = std::fs::read(&code4m).unwrap();
    let plain = boardproof_lab::ovmf::decompressed_volume(&bytes).unwrap();
    let image = uefi::parse_image(&bytes).unwrap();
    let mut checked = 0;
    for f in all_files(&image) {
        if let Location::Decompressed(at) = f.location {
            assert_eq!(&plain[at..at + 16], &f.name.0, "file at {at:#x}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

/// An OVMF VARS file with Secure Boot's `db` written into it (as the lab's Secure Boot scenario
/// does): one finding naming the variable, by name and vendor GUID.
#[test]
fn a_variable_added_to_a_vars_file_is_named() {
    let (Some(empty), Some(ms)) = (ovmf("OVMF_VARS_4M.fd"), ovmf("OVMF_VARS_4M.ms.fd")) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let with_db = work.path().join("vars-db.fd");
    boardproof_lab::vars::with_variable(&empty, &ms, "db", &with_db).unwrap();
    let (c, r) = diff_json(&empty, &with_db);
    assert_eq!(c, 1);
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0].0, "firmware-changed");
    assert!(
        f[0].1
            .ends_with("/var:D719B2CB-3D3A-4596-A3BC-DAD00E67656F:db"),
        "{r:#}"
    );
    let message = r["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("UEFI variable db (D719B2CB"),
        "{message}"
    );
    // The enrolled store against the empty one: every live variable of it is named.
    let (c, r) = diff_json(&empty, &ms);
    assert_eq!(c, 1);
    let names: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["subject"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    for v in ["PK", "KEK", "db", "dbx"] {
        assert!(names.iter().any(|n| n == v), "{v} not named: {names:?}");
    }
}

/// `firmware inspect --json` documents read back into their typed models (unknown fields are
/// refused), so schemas/firmware-inspect-v1.json and option-rom-v1.json describe them.
#[test]
fn inspect_json_fits_its_schema_types() {
    let (Some(code4m), Some(vars)) = (ovmf("OVMF_CODE_4M.fd"), ovmf("OVMF_VARS_4M.ms.fd")) else {
        return;
    };
    for image in [&code4m, &vars] {
        let o = run(&["firmware", "inspect", "--json", image.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let t: boardproof_evidence::FirmwareTree = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(t.schema, boardproof_evidence::FIRMWARE_INSPECT_SCHEMA);
        assert!(!t.items.is_empty());
    }
    if let Some(rom) = require_path(
        "/usr/lib/ipxe/qemu/efi-e1000e.rom",
        "Debian package ipxe-qemu",
    ) {
        let o = run(&["firmware", "inspect", "--json", rom.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let r: boardproof_evidence::OptionRom = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r.images.len(), 2);
    }
}
