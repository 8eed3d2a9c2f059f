//! `scan` on its embedded store: baseline, comparison, accept, history, crash safety.

use crate::fixture::{Machine, SMBUS};
use crate::util::{bp, code, run, stderr, stdout, testdata};

fn scan(store: &str, root: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["scan", "--store", store, "--root", root, "--json"];
    args.extend_from_slice(extra);
    let o = run(&args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (code(&o), v, stderr(&o))
}

#[test]
fn first_scan_records_baseline_then_compares() {
    let m = Machine::golden();
    let store = tempfile::tempdir().unwrap();
    let s = store.path().to_str().unwrap();
    let (c, v, e) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(v["action"], "baseline-recorded");
    let (c, v, e) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(v["action"], "compared");
    assert_eq!(v["baseline_report"]["verdict"], "verified");

    m.pci(&SMBUS);
    let (c, v, _) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 1);
    assert_eq!(
        v["baseline_report"]["findings"][0]["kind"],
        "component-added"
    );
    // Still reported until accepted.
    let (c, _, _) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 1);
    // --accept needs a reason.
    let o = run(&["scan", "--store", s, "--root", &m.root_str(), "--accept"]);
    assert_eq!(code(&o), 2);
    // A reason without --accept would be silently ignored: refused instead.
    let o = run(&[
        "scan",
        "--store",
        s,
        "--root",
        &m.root_str(),
        "--reason",
        "x",
    ]);
    assert_eq!(code(&o), 2);
    // So is a manifest without the key to check it.
    let o = run(&[
        "scan",
        "--store",
        s,
        "--root",
        &m.root_str(),
        "--manifest",
        "m",
    ]);
    assert_eq!(code(&o), 2);
    let (c, v, _) = scan(
        s,
        &m.root_str(),
        &["--accept", "--reason", "SMBus controller enabled in BIOS"],
    );
    assert_eq!(c, 0);
    assert_eq!(v["action"], "accepted");
    let (c, _, _) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 0);

    let o = run(&["history", "--store", s, "--json"]);
    assert_eq!(code(&o), 0);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let outcomes: Vec<&str> = doc["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        vec![
            "verified",
            "accepted",
            "findings",
            "findings",
            "verified",
            "baseline-recorded"
        ]
    );
    let text = stdout(&run(&["history", "--store", s]));
    assert!(text.contains("SMBus controller enabled in BIOS"), "{text}");
}

#[test]
fn a_swapped_mainboard_is_findings_not_a_new_host() {
    let m = Machine::golden();
    m.smbios_from_dump(&testdata().join("smbios/siderolabs-SuperMicro-Quad-Opteron.dump"));
    let store = tempfile::tempdir().unwrap();
    let s = store.path().to_str().unwrap();
    let (c, v, e) = scan(s, &m.root_str(), &[]);
    assert_eq!(
        (c, &v["action"]),
        (0, &serde_json::json!("baseline-recorded")),
        "{e}"
    );

    // Another board (other SMBIOS UUID and serials) under the same installed system.
    m.smbios_from_dump(&testdata().join("smbios/siderolabs-Dell-PowerEdge-R630-Dual-Xeon.dump"));
    let (c, v, e) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 1, "{e}");
    assert_eq!(v["action"], "compared");
    let subjects: Vec<String> = v["baseline_report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["subject"].as_str().unwrap().to_owned())
        .collect();
    assert!(subjects.iter().any(|s| s.contains("uuid")), "{subjects:?}");

    // A new machine-id: recorded as a new host, but never silently.
    m.file("etc/machine-id", "fedcba9876543210fedcba9876543210\n");
    let (c, v, e) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(v["action"], "baseline-recorded");
    let w = v["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("machine-id:0123456789abcdef0123456789abcdef"),
        "{w}"
    );
    assert!(e.contains("warning:") && e.contains("NOT compared"), "{e}");
}

#[test]
fn scan_of_this_host_twice_is_clean() {
    let store = tempfile::tempdir().unwrap();
    let s = store.path().to_str().unwrap();
    let (c, v, e) = scan(s, "/", &[]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(v["action"], "baseline-recorded");
    let (c, v, e) = scan(s, "/", &[]);
    assert_eq!(c, 0, "{e} {v}");
    assert_eq!(v["baseline_report"]["verdict"], "verified");
    // SMBIOS and TPM are reported as exactly what this machine has: unavailable with a reason
    // where it has none (the Firecracker VMs this runs on), ok where it has them.
    let status = |name: &str| {
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no {name} source in {v}"))
            .clone()
    };
    let has_smbios = std::path::Path::new("/sys/firmware/dmi/tables/DMI").exists();
    let has_tpm = std::fs::read_dir("/sys/class/tpm").is_ok_and(|d| {
        d.filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("tpm"))
    });
    for (name, present) in [("smbios", has_smbios), ("tpm", has_tpm)] {
        let st = status(name);
        if present {
            assert_eq!(st["status"], "ok", "{st}");
        } else {
            assert_eq!(st["status"], "unavailable", "{st}");
            assert!(st["reason"].as_str().is_some_and(|r| !r.is_empty()), "{st}");
        }
    }
    // The default store location is used when --store is not given.
    let data = tempfile::tempdir().unwrap();
    let o = bp()
        .args(["scan", "--json"])
        .env("XDG_DATA_HOME", data.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(data.path().join("boardproof/store.sqlite").exists());
}

#[test]
fn a_kill_during_accept_leaves_the_previous_baseline() {
    if !crate::util::require_failpoints() {
        return;
    }
    let m = Machine::golden();
    let store = tempfile::tempdir().unwrap();
    let s = store.path().to_str().unwrap();
    assert_eq!(scan(s, &m.root_str(), &[]).0, 0);
    m.pci(&SMBUS);
    // Pause inside the write transaction, then kill -9.
    crate::util::kill_at_store_failpoint(&[
        "scan",
        "--store",
        s,
        "--root",
        &m.root_str(),
        "--accept",
        "--reason",
        "x",
    ]);
    // The old baseline still stands: the added device is still a finding.
    let (c, v, e) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 1, "{e}");
    assert_eq!(
        v["baseline_report"]["findings"][0]["kind"],
        "component-added"
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&run(&["history", "--store", s, "--json"]).stdout).unwrap();
    let rows = &doc["scans"];
    assert_eq!(
        rows.as_array().unwrap().len(),
        2,
        "the killed scan left no row: {rows}"
    );
}

/// What was compared is said, and can be required. The fixture has no TPM, IMA, USB or CPU
/// source: the headline of a clean comparison says how many sources were unavailable and
/// which; `--require tpm` makes the missing TPM a finding on the first scan, on a compared
/// scan, and after `--accept` too (accepting reviews differences, it does not make the TPM
/// seen); requiring what is there gives none.
#[test]
fn required_sources_are_findings_and_the_headline_says_what_was_unseen() {
    let m = Machine::golden();
    let store = tempfile::tempdir().unwrap();
    let s = store.path().to_str().unwrap();
    let (c, v, e) = scan(s, &m.root_str(), &["--require", "tpm"]);
    assert_eq!(c, 1, "{e}");
    assert_eq!(v["action"], "baseline-recorded");
    let f = &v["requirements_report"]["findings"];
    assert_eq!(f.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(f[0]["kind"], "source-missing");
    assert_eq!(f[0]["locus"]["source"], "tpm");
    assert_eq!(f[0]["locus"]["required"], "true");

    let o = run(&["scan", "--store", s, "--root", &m.root_str()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let head = text
        .lines()
        .find(|l| l.starts_with("VERIFIED"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(head.starts_with("VERIFIED — "), "{head}");
    assert!(
        head.contains(" sources unavailable: ") && head.contains("tpm"),
        "{head}"
    );
    let (c, v, _) = scan(s, &m.root_str(), &[]);
    assert_eq!(c, 0);
    let unavailable = v["baseline_report"]["unavailable"].as_array().unwrap();
    assert!(unavailable.iter().any(|x| x == "tpm"), "{v}");
    assert_eq!(
        v["baseline_report"]["sources"].as_u64(),
        Some(v["sources"].as_array().unwrap().len() as u64)
    );

    let (c, v, _) = scan(s, &m.root_str(), &["--require", "tpm,pci"]);
    assert_eq!(c, 1);
    let kinds: Vec<&str> = v["baseline_report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["locus"]["source"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tpm"], "{v}");
    let (c, _, _) = scan(
        s,
        &m.root_str(),
        &["--require", "tpm", "--accept", "--reason", "x"],
    );
    assert_eq!(c, 1, "--accept must not waive a required source");
    let (c, _, e) = scan(s, &m.root_str(), &["--require", "pci,block"]);
    assert_eq!(c, 0, "{e}");
    let o = run(&[
        "scan",
        "--store",
        s,
        "--root",
        &m.root_str(),
        "--require",
        "tmp",
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}
