//! Every JSON document a command prints names its `schema`, and is valid against the JSON
//! Schema checked in for it (schemas/NAME-v1.json for `boardproof.NAME/v1`), validated by an
//! independent validator (the `jsonschema` crate), on the real outputs of one session.

use std::path::Path;

use crate::fixture::Machine;
use crate::util::{code, run, stderr, testdata, workspace};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `args` with `--json`, expecting exit `want`, and validates the document against the
/// schema its `schema` field names; returns the document.
fn document(args: &[&str], want: i32) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let o = run(&all);
    assert_eq!(code(&o), want, "{all:?}: {}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{all:?}: not JSON: {e}"));
    let name = doc["schema"]
        .as_str()
        .unwrap_or_else(|| panic!("{all:?}: no schema field"));
    let file = name
        .strip_prefix("boardproof.")
        .and_then(|n| n.strip_suffix("/v1"))
        .unwrap_or_else(|| panic!("{all:?}: schema {name:?} is not boardproof.NAME/v1"));
    let path = workspace().join("schemas").join(format!("{file}-v1.json"));
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{all:?}: {}: {e}", path.display())),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{}: not a JSON Schema: {e}", path.display()));
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{all:?} does not match {}: {errors:?}",
        path.display()
    );
    doc
}

#[test]
fn every_json_document_names_its_schema_and_matches_it() {
    let m = Machine::golden();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let ev = w.join("ev.json");
    m.collect(&ev);
    let st = w.join("store");
    let key = w.join("k.key");
    let public = w.join("k.pub");
    assert_eq!(code(&run(&["keygen", "--out", s(&w.join("k"))])), 0);

    document(&["show", s(&ev)], 0);
    let man = w.join("m.manifest");
    document(
        &[
            "manifest",
            "create",
            s(&ev),
            "--key",
            s(&key),
            "--out",
            s(&man),
            "--store",
            s(&st),
        ],
        0,
    );
    document(&["manifest", "show", s(&man), "--pubkey", s(&public)], 0);
    document(
        &[
            "verify",
            s(&ev),
            "--manifest",
            s(&man),
            "--pubkey",
            s(&public),
        ],
        0,
    );

    // Scans and their history.
    let root = m.root_str();
    for _ in 0..2 {
        document(&["scan", "--root", &root, "--store", s(&st)], 0);
    }
    let h = document(&["history", "--store", s(&st)], 0);
    assert_eq!(h["scans"].as_array().unwrap().len(), 2, "{h}");

    // The log.
    let other = w.join("other.txt");
    std::fs::write(&other, b"appended by hand\n").unwrap();
    let a = document(&["log", "append", s(&other), "--store", s(&st)], 0);
    let size = a["size"].as_u64().unwrap();
    let show = document(&["log", "show", "--store", s(&st)], 0);
    assert_eq!(show["size"].as_u64(), Some(size));
    assert!(!show["entries"].as_array().unwrap().is_empty());
    let audit = document(&["log", "audit", "--store", s(&st)], 0);
    assert_eq!(audit["sound"], true, "{audit}");
    let proof = w.join("m.proof");
    assert_eq!(
        code(&run(&[
            "log",
            "prove",
            s(&man),
            "--store",
            s(&st),
            "--out",
            s(&proof)
        ])),
        0
    );
    let vkey = w.join("log.vkey");
    let o = run(&["log", "show", "--verifier", "--store", s(&st)]);
    std::fs::write(&vkey, &o.stdout).unwrap();
    let p = document(
        &[
            "log",
            "verify-proof",
            s(&proof),
            "--verifier",
            s(&vkey),
            "--file",
            s(&man),
        ],
        0,
    );
    assert_eq!(p["proven"], true);
    document(&["log", "consistency", "1", "--store", s(&st)], 0);

    // A bundle, checked with public keys only.
    let verdict = w.join("v.dsse");
    let o = run(&[
        "verify",
        s(&ev),
        "--manifest",
        s(&man),
        "--pubkey",
        s(&public),
        "--record",
        "--store",
        s(&st),
        "--sign-key",
        s(&key),
        "--verdict-out",
        s(&verdict),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let bundle = w.join("b.bundle");
    let o = run(&[
        "bundle",
        "create",
        "--evidence",
        s(&ev),
        "--manifest",
        s(&man),
        "--verdict",
        s(&verdict),
        "--store",
        s(&st),
        "--out",
        s(&bundle),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let b = document(
        &[
            "bundle",
            "verify",
            s(&bundle),
            "--pubkey",
            s(&public),
            "--verdict-key",
            s(&public),
            "--log-key",
            s(&vkey),
        ],
        0,
    );
    assert_eq!(b["verified"], true, "{b}");

    // CoRIM and platform certificates.
    let corim = w.join("c.corim");
    assert_eq!(
        code(&run(&[
            "corim",
            "export",
            s(&ev),
            "--key",
            s(&key),
            "--out",
            s(&corim)
        ])),
        0
    );
    let c = document(&["corim", "show", s(&corim), "--key", s(&public)], 0);
    assert!(!c["comids"].as_array().unwrap().is_empty(), "{c}");
    document(
        &[
            "corim",
            "verify",
            s(&ev),
            "--corim",
            s(&corim),
            "--key",
            s(&public),
        ],
        0,
    );
    let d = testdata().join("platform-cert");
    let base = d.join("hirs-laptop_base_platform_cert_addMem.crt");
    document(&["platform-cert", "show", s(&base)], 0);
    let v = document(
        &[
            "platform-cert",
            "verify",
            s(&base),
            "--ca",
            s(&d.join("hirs-ci-ca.crt")),
            "--delta",
            s(&d.join("hirs-laptop_deltaPlatCert_addMem.crt")),
            "--at",
            "2026-01-01T00:00:00Z",
        ],
        0,
    );
    assert_eq!(v["signature"], "valid");

    // A trust policy.
    let input = w.join("policy.json");
    std::fs::write(
        &input,
        r#"{"vendor": "V", "valid_until": "2099-01-01T00:00:00Z",
            "manufacturers": [{"name": "CM", "keys": ["k.pub"], "products": [{"board": "X"}]}]}"#,
    )
    .unwrap();
    let pol = w.join("v.policy");
    assert_eq!(
        code(&run(&[
            "policy",
            "sign",
            s(&input),
            "--key",
            s(&key),
            "--out",
            s(&pol),
            "--store",
            s(&st)
        ])),
        0
    );
    document(&["policy", "show", s(&pol), "--vendor-key", s(&public)], 0);

    // The commands that show one file as it is.
    let log = workspace().join("testdata/lab/golden/eventlog.bin");
    let shown = document(&["eventlog", "show", s(&log)], 0);
    assert!(shown["events"].as_array().is_some_and(|e| e.len() > 10));
    let replayed = document(&["eventlog", "replay", s(&log)], 0);
    assert!(replayed["banks"]["sha256"]["0"].is_string());
    let sm = document(
        &[
            "smbios",
            "decode",
            s(&testdata().join("smbios/jcreekmore-dell-precision-3620.dump")),
        ],
        0,
    );
    assert!(sm["structures"].as_array().is_some_and(|st| !st.is_empty()));
    let list = document(&["lab", "list"], 0);
    assert_eq!(
        list["scenarios"].as_array().map(Vec::len),
        Some(boardproof_lab::scenario::CATALOGUE.len())
    );

    // The validator can fail: a history without its scans is refused.
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(workspace().join("schemas/history-v1.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(!v.is_valid(&serde_json::json!({"schema": "boardproof.history/v1"})));
    assert!(v.is_valid(&h));
}
