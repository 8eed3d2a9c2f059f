//! The golden lab server's files (testdata/lab/golden, from a real boot: see its README) as
//! fixtures: the host's collector, run on the raw files the guest sent, must reproduce what the
//! guest's collector recorded; the SMBIOS table must carry exactly the strings the lab set with
//! `-smbios`; the binary IMA list must decode to what the kernel itself printed as ASCII.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{code, run, stdout, workspace};

fn golden() -> PathBuf {
    workspace().join("testdata/lab/golden")
}

fn evidence() -> Value {
    serde_json::from_slice(&std::fs::read(golden().join("evidence.json")).unwrap()).unwrap()
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

/// A root holding the guest's raw files where the collector looks for them.
fn snapshot_root() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let g = golden();
    for f in ["DMI", "smbios_entry_point"] {
        copy(
            &g.join("smbios").join(f),
            &r.join("sys/firmware/dmi/tables").join(f),
        );
    }
    for e in std::fs::read_dir(g.join("acpi")).unwrap() {
        let e = e.unwrap();
        copy(
            &e.path(),
            &r.join("sys/firmware/acpi/tables").join(e.file_name()),
        );
    }
    copy(
        &g.join("eventlog.bin"),
        &r.join("sys/kernel/security/tpm0/binary_bios_measurements"),
    );
    std::fs::create_dir_all(r.join("sys/class/tpm/tpm0")).unwrap();
    std::fs::write(r.join("sys/class/tpm/tpm0/tpm_version_major"), "2\n").unwrap();
    copy(
        &g.join("ima.bin"),
        &r.join("sys/kernel/security/ima/binary_runtime_measurements"),
    );
    // The PCR values the guest's kernel read from its TPM.
    let pcrs = std::fs::read_to_string(g.join("pcrs-sha256.txt")).unwrap();
    let bank = r.join("sys/class/tpm/tpm0/pcr-sha256");
    std::fs::create_dir_all(&bank).unwrap();
    for line in pcrs.lines() {
        let (i, v) = line.split_once(' ').unwrap();
        std::fs::write(bank.join(i), format!("{v}\n")).unwrap();
    }
    tmp
}

fn collect_json(root: &Path, out: &Path) {
    let o = run(&[
        "collect",
        "--root",
        root.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", crate::util::stderr(&o));
}

/// Collects the untouched snapshot, signs it as the reference and checks it verifies clean
/// (its log replays to its PCRs, its IMA list to PCR 10); then lets `tamper` edit the
/// snapshot, collects again and returns the (kind, subject) of every finding, sorted.
fn findings_after(tamper: impl FnOnce(&Path)) -> Vec<(String, String)> {
    let root = snapshot_root();
    let work = tempfile::tempdir().unwrap();
    let clean = work.path().join("clean.json");
    collect_json(root.path(), &clean);
    let keys = crate::e2e::keys();
    let manifest = crate::e2e::manifest_for(&clean, &keys);
    let (rc, report) = crate::e2e::verify_json(&clean, &manifest, &keys);
    assert_eq!(rc, 0, "the untouched files verify clean: {report}");
    let ev: Value = serde_json::from_slice(&std::fs::read(&clean).unwrap()).unwrap();
    assert_eq!(
        ev["volatile"]["tpm_pcrs"]["sha256"]
            .as_object()
            .unwrap()
            .len(),
        24
    );
    tamper(root.path());
    let tampered = work.path().join("tampered.json");
    collect_json(root.path(), &tampered);
    let (rc, report) = crate::e2e::verify_json(&tampered, &manifest, &keys);
    assert_eq!(rc, 1, "{report}");
    let mut found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// One bit flipped in one digest of the log (as a rootkit hiding a measurement would have to):
/// the log no longer replays to the TPM's PCR 0, and the event is named.
#[test]
fn a_flipped_bit_in_the_log_is_a_pcr_mismatch_and_a_changed_event() {
    let found = findings_after(|root| {
        let log = root.join("sys/kernel/security/tpm0/binary_bios_measurements");
        let mut bytes = std::fs::read(&log).unwrap();
        // Event 3 (the DXE volume): pcr, type, digest count, sha1 (alg + 20 bytes), then the
        // sha256 algorithm id and digest; one bit inside that digest.
        let event3 = boardproof_formats::eventlog::parse(&bytes).unwrap().events[3].offset;
        bytes[event3 + 4 + 4 + 4 + 2 + 20 + 2 + 7] ^= 0x10;
        std::fs::write(&log, &bytes).unwrap();
    });
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found.contains(&("pcr-mismatch".into(), "PCR 0 (sha256)".into())),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(k, s)| k == "eventlog-event-changed"
            && s.starts_with("PCR 0 event 3 EV_EFI_PLATFORM_FIRMWARE_BLOB")),
        "{found:?}"
    );
}

/// The IMA list edited to show another digest for the program that ran (a rootkit hiding a
/// changed binary): the list no longer replays to the TPM's PCR 10, and the file is named.
#[test]
fn an_altered_ima_entry_is_a_pcr10_mismatch() {
    let found = findings_after(|root| {
        let list = root.join("sys/kernel/security/ima/binary_runtime_measurements");
        let mut bytes = std::fs::read(&list).unwrap();
        let entries = boardproof_formats::ima::parse(&bytes).unwrap();
        let lab_check = entries
            .iter()
            .find(|e| e.name.as_deref() == Some("/mnt/data/bin/lab-check"))
            .unwrap();
        let (_, digest) = lab_check.file_digest.clone().unwrap();
        let at = bytes
            .windows(digest.len())
            .position(|w| w == digest.as_slice())
            .unwrap();
        bytes[at] ^= 0x01;
        std::fs::write(&list, &bytes).unwrap();
    });
    assert_eq!(
        found,
        [
            (
                "ima-file-changed".to_owned(),
                "IMA-measured file /mnt/data/bin/lab-check".to_owned()
            ),
            ("pcr-mismatch".to_owned(), "PCR 10 (sha256)".to_owned()),
        ],
    );
}

#[test]
fn host_collector_on_the_guest_files_reproduces_the_guest_evidence() {
    let root = snapshot_root();
    let out = run(&["collect", "--root", root.path().to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 0);
    let here: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let guest = evidence();
    for key in ["smbios", "acpi_tables", "ima"] {
        assert_eq!(here[key], guest[key], "{key} differs");
        assert!(!guest[key].is_null(), "{key} missing in the fixture");
    }
    // The whole event log entry: digest and every parsed event.
    assert_eq!(here["tpm"]["event_log"], guest["tpm"]["event_log"]);
    assert!(
        guest["tpm"]["event_log"]["events"]
            .as_array()
            .unwrap()
            .len()
            > 20
    );
    // The DIMM comes from SMBIOS, so it is reproduced too.
    let dimms = |ev: &Value| -> Vec<Value> {
        ev["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["class"] == "dimm")
            .cloned()
            .collect()
    };
    assert_eq!(dimms(&here), dimms(&guest));
    assert_eq!(dimms(&guest).len(), 1);
}

#[test]
fn smbios_carries_the_strings_the_lab_set() {
    let out = run(&[
        "smbios",
        "decode",
        golden().join("smbios").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", crate::util::stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let system = &v["system"];
    assert_eq!(system["manufacturer"], "Supermicro");
    assert_eq!(system["product"], "SYS-1029P-WTR");
    assert_eq!(system["serial"], "S123456789X1");
    // Printed as dmidecode does: upper case.
    assert_eq!(system["uuid"], "4C4C4544-0042-3510-8052-B4C04F445A32");
    assert_eq!(v["baseboards"][0]["product"], "X11DDW-L");
    assert_eq!(v["baseboards"][0]["serial"], "OM19AS000123");
    assert_eq!(v["baseboards"][0]["asset_tag"], "ASSET-0001");
    assert_eq!(v["chassis"][0]["serial"], "C1170LI23AB0123");
    assert_eq!(v["bios"]["vendor"], "American Megatrends Inc.");
    assert_eq!(v["bios"]["version"], "3.4");
    assert_eq!(v["memory_devices"][0]["serial"], "3A8F12C4");
    assert_eq!(v["memory_devices"][0]["part_number"], "M393A2K43BB1-CTD");
}

/// The fixture against what the lab builds today (its golden machine definition, read from
/// the lab crate) and through today's evidence model: a fixture left stale by a change to
/// the lab or to the model fails here.
#[test]
fn golden_evidence_holds_what_the_lab_built() {
    let bytes = std::fs::read(golden().join("evidence.json")).unwrap();
    let typed = boardproof_evidence::Evidence::from_json(&bytes).unwrap_or_else(|e| {
        panic!("the fixture no longer reads as evidence: {e} (refresh it: testdata/lab/README.md)")
    });
    let m = boardproof_lab::machine::Machine::golden(
        Path::new("code.fd"),
        Path::new("d"),
        Path::new("b"),
    );
    let nic = typed
        .inventory
        .components
        .iter()
        .find(|c| c.class == boardproof_evidence::ComponentClass::Nic)
        .expect("a NIC");
    assert_eq!(nic.identity.get("permanent_mac"), Some(&m.mac));
    for d in &m.disks {
        assert!(
            typed.inventory.components.iter().any(|c| {
                c.class == boardproof_evidence::ComponentClass::Block
                    && c.identity.get("serial") == Some(&d.serial)
            }),
            "disk serial {} of the lab's golden machine is not in the fixture",
            d.serial
        );
    }
    // Every -smbios string the lab sets is in the fixture's decoded SMBIOS.
    let sm = serde_json::to_string(&typed.inventory.smbios).unwrap();
    for arg in boardproof_lab::machine::golden_smbios() {
        for kv in arg.split(',').skip(1) {
            let (k, v) = kv.split_once('=').unwrap();
            if ["date", "release", "uuid", "loc_pfx", "speed"].contains(&k) {
                continue;
            }
            assert!(sm.contains(v), "{arg}: {k}={v} not in the fixture's SMBIOS");
        }
    }
    // And the fixture verifies against itself with today's verifier: no finding.
    let golden = boardproof_lab::matrix::golden_manifest(&typed, None).unwrap();
    let report = golden.judge(&typed, None).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let ev = evidence();
    for s in ev["sources"].as_array().unwrap() {
        assert_eq!(s["status"], "ok", "source {s}");
    }
    let comps = ev["components"].as_array().unwrap();
    let with =
        |class: &str| -> Vec<&Value> { comps.iter().filter(|c| c["class"] == class).collect() };
    // The eight SPD EEPROMs of q35's SMBus are seen only by the probe.
    let i2c = with("i2c");
    assert_eq!(i2c.len(), 8, "{i2c:?}");
    for (n, c) in i2c.iter().enumerate() {
        assert_eq!(c["identity"]["address"], format!("0x{:02x}", 0x50 + n));
        assert_eq!(c["identity"]["detected_by"], "probe (read-byte)");
        assert!(c["identity"]["contents_sha256"].is_string());
    }
    let serials: Vec<&Value> = with("block")
        .iter()
        .map(|c| &c["identity"]["serial"])
        .collect();
    assert!(
        serials.contains(&&Value::from("S45PNA0M123456")),
        "SATA serial from VPD page 0x80: {serials:?}"
    );
    assert!(
        serials.contains(&&Value::from("PHLJ912345678")),
        "{serials:?}"
    );
    let nic = with("nic");
    assert_eq!(nic[0]["identity"]["permanent_mac"], "ac:1f:6b:12:34:56");
    let ima = ev["ima"]["entries"].as_array().unwrap();
    assert!(
        ima.iter().any(|e| e["name"] == "/mnt/data/bin/lab-check"),
        "{ima:?}"
    );
}

#[test]
fn binary_ima_list_decodes_to_the_kernels_ascii_list() {
    let bin = std::fs::read(golden().join("ima.bin")).unwrap();
    let entries = boardproof_formats::ima::parse(&bin).unwrap();
    let ascii = std::fs::read_to_string(golden().join("ima.txt")).unwrap();
    let lines: Vec<&str> = ascii.lines().collect();
    assert_eq!(entries.len(), lines.len());
    assert!(entries.len() >= 2);
    for (e, line) in entries.iter().zip(&lines) {
        // "PCR template-hash template file-digest name [signature]"
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f[0], e.pcr.to_string(), "{line}");
        assert_eq!(f[1], hex::encode(e.template_digest), "{line}");
        assert_eq!(f[2], e.template, "{line}");
        assert_eq!(Some(f[3].to_owned()), e.digest_text(), "{line}");
        assert_eq!(Some(f[4]), e.name.as_deref(), "{line}");
        // The kernel prints an empty signature field as nothing.
        assert_eq!(
            f.get(5).copied().filter(|s| !s.is_empty()),
            e.extra.as_ref().map(hex::encode).as_deref(),
            "{line}"
        );
    }
}

/// `verify --ima-allowlist`: the lab's real IMA list judged against an allowlist in
/// sha256sum format instead of the manifest's list. All files listed: verified; a file left
/// out: ima-file-unknown; a file with another digest: ima-file-changed; a malformed line: exit 2
/// naming the file and the line's offset.
#[test]
fn ima_allowlist_judges_every_measured_file() {
    let work = tempfile::tempdir().unwrap();
    let ev_path = work.path().join("evidence.json");
    std::fs::copy(golden().join("evidence.json"), &ev_path).unwrap();
    let keys = crate::e2e::keys();
    let manifest = crate::e2e::manifest_for(&ev_path, &keys);
    let files: Vec<(String, String)> = evidence()["ima"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let name = e["name"].as_str()?;
            let digest = e["digest"].as_str()?.strip_prefix("sha256:")?;
            (name != "boot_aggregate").then(|| (digest.to_owned(), name.to_owned()))
        })
        .collect();
    assert!(
        files.iter().any(|(_, n)| n == "/mnt/data/bin/lab-check"),
        "{files:?}"
    );
    let verify = |lines: &[String]| {
        let list = work.path().join("allow.txt");
        std::fs::write(&list, lines.join("\n") + "\n").unwrap();
        let o = crate::util::run(&[
            "verify",
            ev_path.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--pubkey",
            &keys.public,
            "--ima-allowlist",
            list.to_str().unwrap(),
            "--json",
        ]);
        let found: Vec<(String, String)> = serde_json::from_slice::<Value>(&o.stdout)
            .map(|r| {
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
            })
            .unwrap_or_default();
        (crate::util::code(&o), found, crate::util::stderr(&o))
    };
    let all: Vec<String> = files.iter().map(|(d, n)| format!("{d}  {n}")).collect();
    assert_eq!(verify(&all).0, 0);
    let without: Vec<String> = all
        .iter()
        .filter(|l| !l.ends_with("  /mnt/data/bin/lab-check"))
        .cloned()
        .collect();
    let (rc, found, _) = verify(&without);
    assert_eq!(rc, 1);
    assert_eq!(
        found,
        vec![(
            "ima-file-unknown".to_owned(),
            "IMA-measured file /mnt/data/bin/lab-check".to_owned()
        )]
    );
    let mut changed = without.clone();
    changed.push(format!("{}  /mnt/data/bin/lab-check", "00".repeat(32)));
    let (rc, found, _) = verify(&changed);
    assert_eq!(rc, 1);
    assert_eq!(
        found,
        vec![(
            "ima-file-changed".to_owned(),
            "IMA-measured file /mnt/data/bin/lab-check".to_owned()
        )]
    );
    let mut bad = all.clone();
    bad.insert(1, "not a digest line".into());
    let (rc, _, err) = verify(&bad);
    assert_eq!(rc, 2);
    let first_len = all[0].len() + 1;
    assert!(
        err.contains("allow.txt") && err.contains(&format!("offset {first_len:#x}")),
        "{err}"
    );
}

/// `verify --expect-change`: a changed PCR 4 event declared as expected becomes a note naming
/// the declaration; the pcr-mismatch the same edit causes (the log no longer replays to the
/// TPM's PCR 4) cannot be declared away; a malformed declaration is exit 2.
#[test]
fn declared_boot_changes_are_notes_and_pcr_mismatch_stays() {
    let work = tempfile::tempdir().unwrap();
    let clean = work.path().join("clean.json");
    std::fs::copy(golden().join("evidence.json"), &clean).unwrap();
    let keys = crate::e2e::keys();
    let manifest = crate::e2e::manifest_for(&clean, &keys);
    let mut ev = evidence();
    let events = ev["tpm"]["event_log"]["events"].as_array_mut().unwrap();
    let e = events
        .iter_mut()
        .find(|e| e["pcr"] == 4 && e["type"] == "EV_EFI_BOOT_SERVICES_APPLICATION")
        .unwrap();
    e["digests"]["sha256"] = "11".repeat(32).into();
    let edited = work.path().join("edited.json");
    std::fs::write(&edited, ev.to_string()).unwrap();
    let verify = |extra: &[&str]| {
        let mut a = vec![
            "verify",
            edited.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--pubkey",
            &keys.public,
            "--json",
        ];
        a.extend_from_slice(extra);
        let o = crate::util::run(&a);
        let r: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        (crate::util::code(&o), r, crate::util::stderr(&o))
    };
    let (rc, r, _) = verify(&[]);
    assert_eq!(rc, 1);
    let kinds = |r: &Value| -> Vec<String> {
        let mut k: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    };
    assert_eq!(kinds(&r), ["eventlog-event-changed", "pcr-mismatch"]);
    let (rc, r, _) = verify(&[
        "--expect-change",
        "pcr=4,type=EV_EFI_BOOT_SERVICES_APPLICATION",
    ]);
    assert_eq!(rc, 1);
    assert_eq!(kinds(&r), ["pcr-mismatch"]);
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("expected change (declared pcr=4,type=EV_EFI_BOOT_SERVICES_APPLICATION)"),
        "{notes}"
    );
    let (rc, _, err) = verify(&["--expect-change", "pcr=four"]);
    assert_eq!(rc, 2);
    assert!(err.contains("pcr=four"), "{err}");
}
