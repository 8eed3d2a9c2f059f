//! collect → manifest create → verify, on fake machines and on this host.

use crate::fixture::{Machine, Pci};
use crate::util::{code, run, stderr, stdout, testdata};

pub(crate) struct Keys {
    _dir: tempfile::TempDir,
    key: String,
    pub(crate) public: String,
    prefix: std::path::PathBuf,
}

impl Keys {
    /// Keys made elsewhere (e.g. by OpenSSL).
    pub(crate) fn from_files(key: &std::path::Path, public: &std::path::Path) -> Keys {
        Keys {
            _dir: tempfile::tempdir().unwrap(),
            key: key.display().to_string(),
            public: public.display().to_string(),
            prefix: key.with_extension(""),
        }
    }

    /// The private key file.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }
}

pub(crate) fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("factory");
    let o = run(&["keygen", "--out", prefix.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    Keys {
        key: format!("{}.key", prefix.display()),
        public: format!("{}.pub", prefix.display()),
        prefix,
        _dir: dir,
    }
}

pub(crate) fn manifest_for(ev: &std::path::Path, k: &Keys) -> std::path::PathBuf {
    let m = ev.with_extension("manifest");
    let o = run(&[
        "manifest",
        "create",
        ev.to_str().unwrap(),
        "--key",
        &k.key,
        "--out",
        m.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    m
}

pub(crate) fn verify_json(
    ev: &std::path::Path,
    m: &std::path::Path,
    k: &Keys,
) -> (i32, serde_json::Value) {
    let o = run(&[
        "verify",
        ev.to_str().unwrap(),
        "--manifest",
        m.to_str().unwrap(),
        "--pubkey",
        &k.public,
        "--json",
    ]);
    let v = if o.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&o.stdout).unwrap()
    };
    (code(&o), v)
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// A golden machine (optionally with an SMBIOS table), its evidence and a manifest of it.
struct Signed {
    m: Machine,
    work: tempfile::TempDir,
    ev: std::path::PathBuf,
    k: Keys,
    man: std::path::PathBuf,
}

fn signed_golden(smbios_dump: Option<&str>) -> Signed {
    let m = Machine::golden();
    if let Some(d) = smbios_dump {
        m.smbios_from_dump(&testdata().join("smbios").join(d));
    }
    let work = tempfile::tempdir().unwrap();
    let ev = work.path().join("golden.json");
    m.collect(&ev);
    let k = keys();
    let man = manifest_for(&ev, &k);
    Signed {
        m,
        work,
        ev,
        k,
        man,
    }
}

#[test]
fn golden_verifies_and_an_added_device_is_found() {
    let m = Machine::golden();
    m.smbios_from_dump(&testdata().join("smbios/siderolabs-SuperMicro-Quad-Opteron.dump"));
    let work = tempfile::tempdir().unwrap();
    let ev = work.path().join("golden.json");
    let golden = m.collect(&ev);
    assert_eq!(
        golden["sources"][0]["status"], "ok",
        "smbios from the fixture"
    );
    let k = keys();
    let man = manifest_for(&ev, &k);

    let (c, r) = verify_json(&ev, &man, &k);
    assert_eq!(c, 0, "{r}");
    assert_eq!(r["verdict"], "verified");

    // Re-collecting the unchanged machine (new timestamps, new volatile data) is still clean.
    let ev2 = work.path().join("again.json");
    m.collect(&ev2);
    let (c, r) = verify_json(&ev2, &man, &k);
    assert_eq!(c, 0, "{r}");

    // One PCI device added behind the first root port.
    m.pci(&Pci {
        path: &["pci0000:00", "0000:00:1c.0", "0000:01:00.1"],
        vendor: 0x1234,
        device: 0x11e8,
        class: 0x00ff00,
        subsystem: (0x1af4, 0x1100),
        revision: 0x10,
    });
    let ev3 = work.path().join("implant.json");
    m.collect(&ev3);
    let (c, r) = verify_json(&ev3, &man, &k);
    assert_eq!(c, 1, "{r}");
    assert_eq!(kinds(&r), vec!["component-added"]);
    let f = &r["findings"][0];
    assert_eq!(f["severity"], "critical");
    assert!(
        f["subject"]
            .as_str()
            .unwrap()
            .contains("pci0000:00/1c.0/00.1"),
        "{f}"
    );
    assert!(
        f["observed"].as_str().unwrap().contains("vendor=1234"),
        "{f}"
    );

    // The human report names it too.
    let o = run(&[
        "verify",
        ev3.to_str().unwrap(),
        "--manifest",
        man.to_str().unwrap(),
        "--pubkey",
        &k.public,
    ]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("component-added"), "{}", stdout(&o));

    // Take the implant out again and remove the NVMe drive's function instead.
    m.remove_pci(&["pci0000:00", "0000:00:1c.0", "0000:01:00.1"]);
    m.remove_pci(&["pci0000:00", "0000:00:1d.0", "0000:02:00.0"]);
    let _ = std::fs::remove_file(m.root().join("sys/block/nvme0n1"));
    let ev4 = work.path().join("removed.json");
    m.collect(&ev4);
    let (c, r) = verify_json(&ev4, &man, &k);
    assert_eq!(c, 1, "{r}");
    let mut got = kinds(&r);
    got.sort();
    assert_eq!(got, vec!["component-removed", "component-removed"], "{r}");
}

#[test]
fn an_added_bridge_that_renumbers_buses_is_one_finding() {
    let Signed {
        m: _golden,
        work,
        ev,
        k,
        man,
    } = signed_golden(None);

    // A bridge at 00:1b.0 takes bus 01: every device behind 1c.0 and 1d.0 moves one bus up.
    let rebuilt = Machine::golden_on_buses(2, 3);
    rebuilt.pci(&Pci {
        path: &["pci0000:00", "0000:00:1b.0"],
        vendor: 0x8086,
        device: 0xa19a,
        class: 0x060400,
        subsystem: (0x15d9, 0x095d),
        revision: 0xf0,
    });
    let golden_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ev).unwrap()).unwrap();

    let ev2 = work.path().join("bridge.json");
    let shifted = rebuilt.collect(&ev2);
    // The bus numbers really changed in the evidence.
    let addrs = |v: &serde_json::Value| -> Vec<String> {
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["attributes"]["address"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(addrs(&golden_json).contains(&"0000:01:00.0".to_owned()));
    assert!(addrs(&shifted).contains(&"0000:02:00.0".to_owned()));
    assert!(addrs(&shifted).contains(&"0000:03:00.0".to_owned()));

    let (c, r) = verify_json(&ev2, &man, &k);
    assert_eq!(c, 1, "{r}");
    assert_eq!(kinds(&r), vec!["component-added"], "{r}");
    assert!(
        r["findings"][0]["subject"]
            .as_str()
            .unwrap()
            .contains("pci0000:00/1b.0"),
        "{r}"
    );
}

#[test]
fn no_single_changed_byte_of_a_manifest_verifies() {
    let Signed {
        m: _m,
        work,
        ev,
        k,
        man,
    } = signed_golden(None);
    let (c, _) = verify_json(&ev, &man, &k);
    assert_eq!(c, 0);
    let bytes = std::fs::read(&man).unwrap();
    let vk = boardproof_ledger_key(&k);
    // Every byte, three different flips each, in process (the library the CLI uses).
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x04, 0x40] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            assert!(
                boardproof_ledger::manifest::open(&b, &vk).is_err(),
                "byte {i} ^ {flip:#x} still verified"
            );
        }
    }
    // And a sample through the binary: exit 2 with one line naming the file.
    let bad = work.path().join("bad.manifest");
    for i in (0..bytes.len()).step_by(bytes.len() / 7) {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        std::fs::write(&bad, &b).unwrap();
        let (c, _) = verify_json(&ev, &bad, &k);
        assert_eq!(c, 2, "byte {i}");
    }
    let o = run(&[
        "verify",
        ev.to_str().unwrap(),
        "--manifest",
        bad.to_str().unwrap(),
        "--pubkey",
        &k.public,
    ]);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bad.manifest"), "{err}");
    // Truncated.
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(verify_json(&ev, &bad, &k).0, 2);
}

fn boardproof_ledger_key(k: &Keys) -> boardproof_ledger::keys::PublicKey {
    boardproof_ledger::keys::load_public_key(std::path::Path::new(&k.public)).unwrap()
}

#[test]
fn wrong_key_and_unreadable_evidence_exit_2() {
    let m = Machine::golden();
    let work = tempfile::tempdir().unwrap();
    let ev = work.path().join("golden.json");
    m.collect(&ev);
    let k = keys();
    let other = keys();
    let man = manifest_for(&ev, &k);
    let (c, _) = verify_json(&ev, &man, &other);
    assert_eq!(c, 2);
    let broken = work.path().join("broken.json");
    std::fs::write(&broken, b"{\"schema\":\"boardproof.evidence/v1\",").unwrap();
    let o = run(&[
        "verify",
        broken.to_str().unwrap(),
        "--manifest",
        man.to_str().unwrap(),
        "--pubkey",
        &k.public,
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("broken.json"), "{}", stderr(&o));
    // A private key given as public key.
    let o = run(&[
        "verify",
        ev.to_str().unwrap(),
        "--manifest",
        man.to_str().unwrap(),
        "--pubkey",
        &k.key,
    ]);
    assert_eq!(code(&o), 2);
    // keygen never overwrites without --force.
    let o = run(&["keygen", "--out", k.prefix.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
}

#[test]
fn swapped_disk_and_changed_bios_are_named() {
    let Signed {
        m,
        work,
        ev: _,
        k,
        man,
    } = signed_golden(Some("siderolabs-Dell-PowerEdge-R630-Dual-Xeon.dump"));
    m.file(
        "sys/devices/pci0000:00/0000:00:1d.0/0000:02:00.0/nvme/nvme0/serial",
        "S4EWNX0R999999\n",
    );
    m.smbios_from_dump(&testdata().join("smbios/siderolabs-SuperMicro-Quad-Opteron.dump"));
    let ev2 = work.path().join("changed.json");
    m.collect(&ev2);
    let (c, r) = verify_json(&ev2, &man, &k);
    assert_eq!(c, 1);
    let ks = kinds(&r);
    assert!(ks.contains(&"component-changed".to_owned()), "{r}");
    assert!(ks.contains(&"platform-changed".to_owned()), "{r}");
    let disk = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["kind"] == "component-changed" && f["subject"].as_str().unwrap().starts_with("block")
        })
        .expect("disk finding");
    assert!(disk["expected"]
        .as_str()
        .unwrap()
        .contains("S4EWNX0R123456"));
    assert!(disk["observed"]
        .as_str()
        .unwrap()
        .contains("S4EWNX0R999999"));
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["subject"] == "BIOS (type 0): vendor"),
        "{r}"
    );
}

#[test]
fn changed_module_and_acpi_table_and_missing_source() {
    let Signed {
        m,
        work,
        ev: _,
        k,
        man,
    } = signed_golden(None);
    m.file(
        "lib/modules/6.1.0-test-amd64/kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko",
        b"\x7fELF fake e1000e module body + implant",
    );
    m.file(
        "sys/firmware/acpi/tables/SSDT1",
        crate::fixture::acpi_table(b"SSDT", 80, 7),
    );
    std::fs::remove_dir_all(m.root().join("proc/cpuinfo")).ok();
    std::fs::remove_file(m.root().join("proc/cpuinfo")).ok();
    let ev2 = work.path().join("changed.json");
    m.collect(&ev2);
    let (c, r) = verify_json(&ev2, &man, &k);
    assert_eq!(c, 1);
    let mut ks = kinds(&r);
    ks.sort();
    // The CPU source is gone: one source-missing, and its CPU is not claimed "removed".
    assert_eq!(
        ks,
        vec![
            "acpi-table-added",
            "kernel-module-changed",
            "source-missing"
        ],
        "{r}"
    );
}

#[test]
fn a_source_that_panics_loses_only_itself() {
    if !crate::util::require_failpoints() {
        return;
    }
    let Signed {
        m,
        work,
        ev: _,
        k,
        man,
    } = signed_golden(None);
    let out = work.path().join("panic.json");
    let o = crate::util::bp()
        .args([
            "collect",
            "--root",
            &m.root_str(),
            "--out",
            out.to_str().unwrap(),
        ])
        .env("BOARDPROOF_TEST_FAILPOINT", "collect-panic:pci")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    for s in ev["sources"].as_array().unwrap() {
        match s["name"].as_str().unwrap() {
            "pci" => {
                assert_eq!(s["status"], "error", "{s}");
                assert!(
                    s["reason"].as_str().unwrap().contains("internal error"),
                    "{s}"
                );
            }
            "block" | "net" | "cpu" | "acpi" | "kernel-modules" => {
                assert_eq!(s["status"], "ok", "{s}")
            }
            _ => {}
        }
    }
    let classes: Vec<&str> = ev["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap())
        .collect();
    assert!(
        !classes.contains(&"pci"),
        "nothing half-written: {classes:?}"
    );
    assert!(
        classes.contains(&"nic") && classes.contains(&"block"),
        "{classes:?}"
    );
    let (c, r) = verify_json(&out, &man, &k);
    assert_eq!(c, 1, "{r}");
    assert_eq!(kinds(&r), vec!["source-missing"], "{r}");
}

#[test]
fn this_host_collect_manifest_verify() {
    let work = tempfile::tempdir().unwrap();
    let ev = work.path().join("host.json");
    let o = run(&["collect", "--out", ev.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let k = keys();
    let man = manifest_for(&ev, &k);
    let (c, r) = verify_json(&ev, &man, &k);
    assert_eq!(c, 0, "{r}");
    // A second collection of the same host is clean as well.
    let ev2 = work.path().join("host2.json");
    assert_eq!(code(&run(&["collect", "--out", ev2.to_str().unwrap()])), 0);
    let (c, r) = verify_json(&ev2, &man, &k);
    assert_eq!(c, 0, "{r}");

    // The same evidence with one PCI device added: a copy of the host's first PCI function
    // placed behind a new port.
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&ev).unwrap()).unwrap();
    let comps = doc["components"].as_array_mut().unwrap();
    let mut extra = comps
        .iter()
        .find(|c| c["class"] == "pci")
        .expect("this host has PCI devices")
        .clone();
    extra["location"] = serde_json::json!("pci0000:00/1f.7");
    extra["identity"]["device"] = serde_json::json!("11e8");
    comps.push(extra);
    let ev3 = work.path().join("host-plus-one.json");
    std::fs::write(&ev3, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (c, r) = verify_json(&ev3, &man, &k);
    assert_eq!(c, 1, "{r}");
    assert_eq!(kinds(&r), vec!["component-added"], "{r}");
    assert!(r["findings"][0]["subject"]
        .as_str()
        .unwrap()
        .contains("1f.7"));
}
