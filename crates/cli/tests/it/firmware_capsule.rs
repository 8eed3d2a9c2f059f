//! UEFI capsules built by EDK2's own GenerateCapsule (PyPI edk2-basetools), unsigned and signed
//! with EDK2's test certificates, around Debian's OVMF image: every header field boardproof
//! reads equals what `GenerateCapsule --dump-info` prints, the payload's modules are the
//! image's, and a patched module inside a capsule's payload is named by `firmware diff`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use boardproof_formats::uefi::capsule::{self, Body};

use crate::util::{code, require_path, require_python_module, run, stderr};

/// `python3 -m edk2basetools.Capsule.GenerateCapsule ARGS`, or None outside CI when missing.
fn generate(args: &[&str]) -> Option<String> {
    if !require_python_module("edk2basetools.Capsule.GenerateCapsule") {
        return None;
    }
    let o = Command::new("python3")
        .args(["-m", "edk2basetools.Capsule.GenerateCapsule"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    // --dump-info exits 1 on payloads without a dependency expression after printing all of
    // it ("invalid dependency expression"); encoding must succeed.
    if args.contains(&"-e") {
        assert!(
            o.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    Some(text)
}

/// EDK2's test signing certificates, shipped inside edk2-basetools.
fn certs() -> PathBuf {
    let o = Command::new("python3")
        .args([
            "-c",
            "import edk2basetools, os; print(os.path.join(os.path.dirname(edk2basetools.__file__), 'Pkcs7Sign'))",
        ])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(o.stdout).unwrap().trim())
}

/// `KEY = VALUE` lines of --dump-info, in order (keys repeat for each structure).
fn dump(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn field(d: &[(String, String)], key: &str) -> u64 {
    let v = &d
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("{key} not in --dump-info: {d:?}"))
        .1;
    u64::from_str_radix(v.split_whitespace().next().unwrap(), 16).unwrap()
}

fn text_field<'a>(d: &'a [(String, String)], key: &str) -> &'a str {
    &d.iter().find(|(k, _)| k == key).unwrap().1
}

fn ovmf() -> Option<PathBuf> {
    require_path("/usr/share/OVMF/OVMF_CODE_4M.fd", "Debian package ovmf")
}

const TYPE_ID: &str = "6d6e6b1a-6f3a-4c2e-9e2c-2d58c8f0a001";

fn encode(payload: &Path, out: &Path, signed: bool) -> Option<()> {
    let c = certs();
    let (signer, other, trusted) = (
        c.join("TestCert.pem"),
        c.join("TestSub.pub.pem"),
        c.join("TestRoot.pub.pem"),
    );
    let mut args = vec![
        "-e",
        "-o",
        out.to_str().unwrap(),
        "--guid",
        TYPE_ID,
        "--fw-version",
        "0x00010002",
        "--lsv",
        "0x00010000",
        "--capflag",
        "PersistAcrossReset",
        "--hardware-instance",
        "0x3",
    ];
    if signed {
        args.extend([
            "--monotonic-count",
            "0x2a",
            "--signer-private-cert",
            signer.to_str().unwrap(),
            "--other-public-cert",
            other.to_str().unwrap(),
            "--trusted-public-cert",
            trusted.to_str().unwrap(),
        ]);
    }
    args.push(payload.to_str().unwrap());
    generate(&args).map(|_| ())
}

#[test]
fn capsules_from_generatecapsule_read_as_it_dumps_them() {
    let Some(code4m) = ovmf() else { return };
    let work = tempfile::tempdir().unwrap();
    for signed in [false, true] {
        let cap = work
            .path()
            .join(if signed { "signed.cap" } else { "unsigned.cap" });
        if encode(&code4m, &cap, signed).is_none() {
            return;
        }
        let info = dump(&generate(&["--dump-info", cap.to_str().unwrap()]).unwrap());
        let bytes = std::fs::read(&cap).unwrap();
        assert!(capsule::is_capsule(&bytes));
        let c = capsule::parse_capsule(&bytes).unwrap();
        assert_eq!(
            c.guid.to_string(),
            text_field(&info, "EFI_CAPSULE_HEADER.CapsuleGuid")
        );
        assert_eq!(
            u64::from(c.header_size),
            field(&info, "EFI_CAPSULE_HEADER.HeaderSize")
        );
        assert_eq!(u64::from(c.flags), field(&info, "EFI_CAPSULE_HEADER.Flags"));
        assert_eq!(
            u64::from(c.image_size),
            field(&info, "EFI_CAPSULE_HEADER.CapsuleImageSize")
        );
        let Body::Fmp(fmp) = &c.body else {
            panic!("an FMP capsule")
        };
        assert_eq!(
            u64::from(fmp.version),
            field(&info, "EFI_FIRMWARE_MANAGEMENT_CAPSULE_HEADER.Version")
        );
        assert_eq!(
            fmp.drivers.len() as u64,
            field(
                &info,
                "EFI_FIRMWARE_MANAGEMENT_CAPSULE_HEADER.EmbeddedDriverCount"
            )
        );
        assert_eq!(fmp.payloads.len(), 1);
        let p = &fmp.payloads[0];
        let h = "EFI_FIRMWARE_MANAGEMENT_CAPSULE_IMAGE_HEADER";
        assert_eq!(
            u64::from(p.header_version),
            field(&info, &format!("{h}.Version"))
        );
        assert_eq!(
            p.image_type_id.to_string(),
            text_field(&info, &format!("{h}.UpdateImageTypeId"))
        );
        assert_eq!(
            u64::from(p.image_index),
            field(&info, &format!("{h}.UpdateImageIndex"))
        );
        assert_eq!(
            u64::from(p.image_size),
            field(&info, &format!("{h}.UpdateImageSize"))
        );
        assert_eq!(
            p.hardware_instance,
            field(&info, &format!("{h}.UpdateHardwareInstance"))
        );
        assert_eq!(
            p.capsule_support,
            field(&info, &format!("{h}.ImageCapsuleSupport"))
        );
        let a = "EFI_FIRMWARE_IMAGE_AUTHENTICATION";
        match p.auth {
            Some((count, cert_type, len)) => {
                assert!(signed);
                assert_eq!(count, field(&info, &format!("{a}.MonotonicCount")));
                assert_eq!(
                    u64::from(len),
                    field(&info, &format!("{a}.AuthInfo.Hdr.dwLength"))
                );
                assert_eq!(
                    cert_type.to_string(),
                    text_field(&info, &format!("{a}.AuthInfo.CertType"))
                );
            }
            None => assert!(!signed),
        }
        let (fw, lsv) = p.fmp_header.expect("EDK2's FMP payload header");
        assert_eq!(u64::from(fw), field(&info, "FMP_PAYLOAD_HEADER.FwVersion"));
        assert_eq!(
            u64::from(lsv),
            field(&info, "FMP_PAYLOAD_HEADER.LowestSupportedVersion")
        );
        // The last `sizeof (Payload)` is the firmware image inside.
        let sizes: Vec<u64> = info
            .iter()
            .filter(|(k, _)| k == "sizeof (Payload)")
            .map(|(_, v)| u64::from_str_radix(v, 16).unwrap())
            .collect();
        assert_eq!(p.data.1 as u64, *sizes.last().unwrap());
        // ... and it is the OVMF image, byte for byte, with the same modules.
        let original = std::fs::read(&code4m).unwrap();
        assert_eq!(&bytes[p.data.0..p.data.0 + p.data.1], &original[..]);
        // The modules read inside the capsule are the ones UEFIExtract lists in the image.
        let inner = p.image.as_ref().unwrap();
        let mut ours: Vec<String> = crate::firmware_diff::all_files(inner)
            .into_iter()
            .filter(|f| !f.is_pad())
            .map(|f| f.name.to_string().to_uppercase())
            .collect();
        ours.sort();
        ours.dedup();
        if crate::util::require_tool("UEFIExtract") {
            let theirs: Vec<String> = crate::firmware_uefiextract::uefiextract_file_guids(&code4m)
                .into_iter()
                .collect();
            assert_eq!(ours, theirs);
        }
        // Hostile: every truncation is an error, never a panic.
        for n in (0..bytes.len().min(8192)).chain([bytes.len() - 1]) {
            assert!(capsule::parse_capsule(&bytes[..n]).is_err(), "cut at {n}");
        }
    }
}

/// A module patched inside the capsule's payload is named by `firmware diff`, through the
/// capsule, its payload and the compressed volume; `collect --firmware` takes capsules too.
#[test]
fn a_patched_module_inside_a_capsule_is_named() {
    let Some(code4m) = ovmf() else { return };
    let work = tempfile::tempdir().unwrap();
    let mut patched = std::fs::read(&code4m).unwrap();
    boardproof_lab::ovmf::patch_dxe_module(&mut patched, "PcdDxe").unwrap();
    let patched_fd = work.path().join("patched.fd");
    std::fs::write(&patched_fd, &patched).unwrap();
    let (a, b) = (work.path().join("a.cap"), work.path().join("b.cap"));
    if encode(&code4m, &a, true).is_none() {
        return;
    }
    encode(&patched_fd, &b, true).unwrap();
    let o = run(&[
        "firmware",
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
            )
        })
        .collect();
    // The signature differs too (another payload signed): the payload's stored bytes differ,
    // but its module changed, so only the module is reported.
    assert_eq!(
        f,
        [(
            "firmware-module-changed".to_owned(),
            "firmware image: 80CF7257-87AB-47F9-A3FE-D50B76D89541 PcdDxe".to_owned()
        )],
        "{r:#}"
    );
    let o = run(&["firmware", "inspect", a.to_str().unwrap(), "--json"]);
    assert_eq!(code(&o), 0);
    let t: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["items"][0]["kind"], "capsule");
    assert_eq!(t["items"][0]["children"][0]["kind"], "payload");
    let kinds: BTreeMap<String, usize> = t["items"][0]["children"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .fold(BTreeMap::new(), |mut m, n| {
            *m.entry(n["kind"].as_str().unwrap().to_owned()).or_default() += 1;
            m
        });
    assert_eq!(kinds.get("volume"), Some(&2), "{kinds:?}");
}
