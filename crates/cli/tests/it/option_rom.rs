//! PCI option ROMs: Debian's real iPXE and SeaBIOS VGA ROMs parse into the images their
//! packages say they hold (checked against facts outside the parser: the NIC IDs each iPXE
//! ROM is built for, the PE header inside the EFI driver); `collect --option-roms` reads a
//! device's `rom` file and verify reports a changed ROM by device.

use std::path::{Path, PathBuf};

use boardproof_formats::pci_rom;
use serde_json::Value;

use crate::e2e::{keys, manifest_for, verify_json};
use crate::fixture::Machine;
use crate::util::{code, require_path, run, stderr};
use boardproof_testkit::nonempty;

/// The files of Debian's folder `dir` whose names start with `prefix`, or None (a skip
/// outside CI, a failure under it) when the package is not installed. A package that is
/// installed but holds no such file fails: the sweep would check nothing.
fn files(dir: &str, prefix: &str) -> Option<Vec<PathBuf>> {
    let d = require_path(dir, "Debian packages ipxe-qemu and seabios")?;
    let mut v: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    v.sort();
    Some(nonempty(v, &format!("{prefix}* files in {dir}")))
}

/// The PCI IDs iPXE builds each QEMU ROM for (ipxe's src/config and QEMU's device models).
fn ipxe_ids(name: &str) -> Option<(u16, u16)> {
    let model = name.trim_end_matches(".rom").split_once('-')?.1;
    Some(match model {
        "e1000" => (0x8086, 0x100e),
        "e1000e" => (0x8086, 0x10d3),
        "eepro100" => (0x8086, 0x1229),
        "pcnet" => (0x1022, 0x2000),
        "rtl8139" => (0x10ec, 0x8139),
        // virtio-net-pci, modern (virtio 1.0) ID.
        "virtio" => (0x1af4, 0x1041),
        "vmxnet3" => (0x15ad, 0x07b0),
        _ => return None,
    })
}

/// The Machine field of the PE header of `pe`.
fn pe_machine(pe: &[u8]) -> u16 {
    let lfanew = u32::from_le_bytes(pe[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(&pe[lfanew..lfanew + 4], b"PE\0\0");
    u16::from_le_bytes(pe[lfanew + 4..lfanew + 6].try_into().unwrap())
}

#[test]
fn debians_ipxe_and_vga_roms_parse_into_their_images() {
    let (Some(efi), Some(pxe), Some(vga)) = (
        files("/usr/lib/ipxe/qemu", "efi-"),
        files("/usr/lib/ipxe/qemu", "pxe-"),
        files("/usr/share/seabios", "vgabios-"),
    ) else {
        return;
    };
    for p in &efi {
        let bytes = std::fs::read(p).unwrap();
        let rom = pci_rom::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let kinds: Vec<u8> = rom.images.iter().map(|i| i.code_type).collect();
        assert_eq!(kinds, [0, 3], "{name}: a legacy image, then an EFI one");
        assert!(rom.images[1].last, "{name}");
        // iPXE's ne2k_pci ROM carries no real IDs (0000:0000 and fff3:0000): not checked.
        if let Some((v, d)) = ipxe_ids(&name) {
            for i in &rom.images {
                assert_eq!(
                    (i.vendor, i.device),
                    (v, d),
                    "{name} image at {:#x}",
                    i.offset
                );
                assert_eq!(i.class_code >> 16, 0x02, "{name}: a network controller");
            }
        }
        assert_eq!(rom.images[0].checksum_ok, Some(true), "{name}");
        let e = rom.images[1].efi.as_ref().unwrap();
        assert_eq!(e.machine, 0x8664, "{name}");
        assert_eq!(e.subsystem, 11, "{name}: a boot service driver");
        let (size, digest) = e
            .driver
            .clone()
            .unwrap_or_else(|why| panic!("{name}: {why}"));
        // The driver, read by hand here, is a PE image for the machine the ROM header names.
        let img = &bytes[rom.images[1].offset..rom.images[1].offset + rom.images[1].length];
        let start = u16::from_le_bytes(img[0x16..0x18].try_into().unwrap()) as usize;
        let pe = if e.compressed {
            boardproof_formats::uefi::tiano::decompress(
                &img[start..],
                boardproof_formats::uefi::tiano::Variant::Efi,
                16 << 20,
            )
            .unwrap()
        } else {
            img[start..].to_vec()
        };
        assert_eq!(pe.len(), size);
        assert_eq!(boardproof_formats::uefi::sha256_of(&pe), digest);
        assert_eq!(pe_machine(&pe), 0x8664, "{name}");
        let end = rom.images[1].offset + rom.images[1].length;
        assert!(end <= bytes.len());
        assert_eq!(rom.trailing.is_some(), end < bytes.len(), "{name}");
    }
    for p in &pxe {
        let bytes = std::fs::read(p).unwrap();
        let rom = pci_rom::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(rom.images.len(), 1, "{name}");
        assert_eq!(rom.images[0].code_type, 0, "{name}");
        if let Some((v, d)) = ipxe_ids(&name) {
            assert_eq!(
                (rom.images[0].vendor, rom.images[0].device),
                (v, d),
                "{name}"
            );
        }
    }
    let mut vga_seen = 0;
    for p in &vga {
        let bytes = std::fs::read(p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        // vgabios-isavga (ISA) and vgabios-ramfb (no PCI device) have no PCI data structure:
        // refused, naming the field.
        match pci_rom::parse(&bytes) {
            Ok(rom) => {
                assert_eq!(rom.images[0].code_type, 0, "{name}");
                assert_eq!(
                    rom.images[0].class_code >> 16,
                    0x03,
                    "{name}: a display controller"
                );
                vga_seen += 1;
            }
            Err(e) => {
                assert!(
                    name.contains("isavga") || name.contains("ramfb"),
                    "{name}: {e}"
                );
                assert!(e.to_string().contains("PCIR"), "{name}: {e}");
            }
        }
    }
    assert!(vga_seen >= 5, "{vga_seen} SeaBIOS VGA ROMs parsed");
}

/// Every cut of a real ROM that ends inside its images is an error, and every cut after
/// them parses to the same images; every bit flip either errors or gives images inside the
/// buffer; each parse takes well under a second.
#[test]
fn every_truncation_and_bit_flip_of_a_real_rom_is_handled() {
    let Some(efi) = files("/usr/lib/ipxe/qemu", "efi-e1000e") else {
        return;
    };
    let bytes = std::fs::read(&efi[0]).unwrap();
    let whole = pci_rom::parse(&bytes).unwrap();
    let end = whole
        .images
        .iter()
        .map(|i| i.offset + i.length)
        .max()
        .unwrap();
    let timed = |b: &[u8]| {
        let t = std::time::Instant::now();
        let r = pci_rom::parse(b);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "slow parse"
        );
        r
    };
    let mut errors = 0;
    for n in (0..bytes.len()).step_by(509).chain([end - 1, end]) {
        match timed(&bytes[..n]) {
            Err(_) => {
                assert!(n < end, "cut at {n} (images end at {end}) refused");
                errors += 1;
            }
            Ok(rom) => {
                assert!(
                    n >= end,
                    "cut at {n}, inside the images (end {end}), parsed"
                );
                assert_eq!(rom.images.len(), whole.images.len());
            }
        }
    }
    assert!(errors > 10, "{errors} cuts refused");
    let mut b = bytes.clone();
    for at in (0..b.len()).step_by(97) {
        b[at] ^= 0x10;
        if let Ok(rom) = timed(&b) {
            assert!(rom.images.iter().all(|i| i.offset + i.length <= b.len()));
        }
        b[at] ^= 0x10;
    }
}

/// A fixture server whose NIC exposes Debian's e1000e ROM: collected, signed, then the ROM's
/// legacy image patched: one option-rom-changed naming the device and the image.
#[test]
fn a_patched_option_rom_is_found_by_device_and_image() {
    let Some(efi) = files("/usr/lib/ipxe/qemu", "efi-e1000e") else {
        return;
    };
    let rom = std::fs::read(&efi[0]).unwrap();
    let m = Machine::golden();
    let nic = "sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/rom";
    m.file(nic, &rom);
    let work = tempfile::tempdir().unwrap();
    let collect = |out: &Path, flag: bool| -> Value {
        let mut args = vec!["collect", "--root", m.root().to_str().unwrap()];
        if flag {
            args.push("--option-roms");
        }
        args.extend(["--out", out.to_str().unwrap()]);
        let o = run(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
    };
    let golden = work.path().join("golden.json");
    let ev = collect(&golden, true);
    let roms = ev["option_roms"].as_array().unwrap();
    assert_eq!(roms.len(), 1, "{ev:#}");
    assert_eq!(roms[0]["device"], "8086:1533");
    assert_eq!(roms[0]["images"][1]["code_type"], "EFI");
    let k = keys();
    let man = manifest_for(&golden, &k);
    assert_eq!(verify_json(&golden, &man, &k).0, 0);

    let target = patch_legacy_byte(&rom);
    m.file(nic, &target);
    let now = work.path().join("now.json");
    collect(&now, true);
    let (c, r) = verify_json(&now, &man, &k);
    assert_eq!(c, 1);
    let f = r["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["kind"], "option-rom-changed");
    assert!(
        f[0]["subject"].as_str().unwrap().contains("(8086:1533)"),
        "{r:#}"
    );
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("image 1 (x86 PC-AT) changed"), "{msg}");
    assert!(!msg.contains("image 2"), "{msg}");

    // Without --option-roms the reference's ROMs cannot be checked: source-missing.
    let without = work.path().join("without.json");
    collect(&without, false);
    let (c, r) = verify_json(&without, &man, &k);
    assert_eq!(c, 1);
    let kinds: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["source-missing"], "{r:#}");
}

fn patch_legacy_byte(rom: &[u8]) -> Vec<u8> {
    let mut b = rom.to_vec();
    b[0x400] ^= 0x01;
    b
}
