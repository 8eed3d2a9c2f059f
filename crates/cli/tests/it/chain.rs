//! The chain of custody end to end: the vendor's trust policy → a contract manufacturer's
//! manifest → the customer's signed verdict, and each way the chain can break.

use std::path::{Path, PathBuf};

use crate::fixture::{Machine, Pci};
use crate::util::{code, run, stderr, stdout, testdata};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Party {
    key: PathBuf,
    public: PathBuf,
}

fn party(dir: &Path, name: &str, alg: &str) -> Party {
    let prefix = dir.join(name);
    let o = run(&["keygen", "--out", s(&prefix), "--algorithm", alg]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    Party {
        key: dir.join(format!("{name}.key")),
        public: dir.join(format!("{name}.pub")),
    }
}

fn kinds(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {v}"))
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect()
}

struct World {
    _dir: tempfile::TempDir,
    w: PathBuf,
    m: Machine,
    ev: PathBuf,
    vendor: Party,
    store: PathBuf,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().to_owned();
        let m = Machine::golden();
        m.smbios_from_dump(&testdata().join("smbios/siderolabs-SuperMicro-Quad-Opteron.dump"));
        let ev = w.join("golden.json");
        m.collect(&ev);
        let vendor = party(&w, "vendor", "ed25519");
        World {
            store: w.join("factory-store"),
            _dir: dir,
            w,
            m,
            ev,
            vendor,
        }
    }

    fn policy(&self, name: &str, body: serde_json::Value) -> PathBuf {
        let input = self.w.join(format!("{name}.json"));
        std::fs::write(&input, serde_json::to_vec_pretty(&body).unwrap()).unwrap();
        let out = self.w.join(format!("{name}.policy"));
        let o = run(&[
            "policy",
            "sign",
            s(&input),
            "--key",
            s(&self.vendor.key),
            "--out",
            s(&out),
            "--store",
            s(&self.store),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        out
    }

    fn manifest(&self, by: &Party, name: &str) -> PathBuf {
        let out = self.w.join(format!("{name}.manifest"));
        let o = run(&[
            "manifest",
            "create",
            s(&self.ev),
            "--key",
            s(&by.key),
            "--out",
            s(&out),
            "--creator",
            name,
            "--store",
            s(&self.store),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        out
    }

    fn verify(
        &self,
        ev: &Path,
        man: &Path,
        policy: &Path,
        extra: &[&str],
    ) -> (i32, serde_json::Value) {
        let mut args = vec![
            "verify",
            s(ev),
            "--manifest",
            s(man),
            "--policy",
            s(policy),
            "--vendor-key",
            s(&self.vendor.public),
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        let v = if o.stdout.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&o.stdout).unwrap()
        };
        if code(&o) == 2 {
            return (2, serde_json::Value::String(stderr(&o)));
        }
        (code(&o), v)
    }
}

#[test]
fn three_party_chain_verifies_and_every_break_is_found() {
    let wd = World::new();
    let w = &wd.w;
    let cm_a = party(w, "cm-a", "ecdsa-p256");
    let cm_b = party(w, "cm-b", "ed25519"); // not in the policy
    let cm_c = party(w, "cm-c", "ed25519"); // revoked
    let cm_d = party(w, "cm-d", "ecdsa-p256"); // other products only
    let cm_e = party(w, "cm-e", "ed25519"); // authorization ended in 2021
    let customer = party(w, "customer", "ecdsa-p256");
    let manufacturers = serde_json::json!([
        {"name": "CM A", "keys": ["cm-a.pub"],
         "products": [{"manufacturer": "Supermicro", "product": "H8QG*"}],
         "valid_from": "2020-01-01T00:00:00Z"},
        {"name": "CM C", "keys": ["cm-c.pub"], "products": [{"manufacturer": "Supermicro"}]},
        {"name": "CM D", "keys": ["cm-d.pub"], "products": [{"product": "X11*"}]},
        {"name": "CM E", "keys": ["cm-e.pub"], "products": [{"manufacturer": "Supermicro"}],
         "valid_until": "2021-01-01T00:00:00Z"}
    ]);
    let revoked = serde_json::json!([
        {"key": "cm-c.pub", "revoked_at": "2026-06-01T00:00:00Z", "reason": "key leaked"}
    ]);
    let policy = wd.policy(
        "current",
        serde_json::json!({"vendor": "Supermicro", "valid_until": "2099-01-01T00:00:00Z",
                           "manufacturers": manufacturers, "revoked": revoked}),
    );
    let o = run(&[
        "policy",
        "show",
        s(&policy),
        "--vendor-key",
        s(&wd.vendor.public),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("CM A") && stdout(&o).contains("key leaked"),
        "{}",
        stdout(&o)
    );

    // The good chain: CM A's manifest, the customer's signed verdict.
    let man_a = wd.manifest(&cm_a, "cm-a");
    let verdict = w.join("verdict.dsse");
    let (c, r) = wd.verify(
        &wd.ev,
        &man_a,
        &policy,
        &[
            "--record",
            "--store",
            s(&w.join("customer-store")),
            "--sign-key",
            s(&customer.key),
            "--verdict-out",
            s(&verdict),
        ],
    );
    assert_eq!(c, 0, "{r}");
    assert_eq!(r["verdict"], "verified");
    assert!(
        r["reference"]
            .as_str()
            .unwrap()
            .contains("signed by CM A key"),
        "{r}"
    );
    let env: serde_json::Value = serde_json::from_slice(&std::fs::read(&verdict).unwrap()).unwrap();
    use base64::Engine;
    let stmt: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(env["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = stmt["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["evidence", "manifest", "policy"]);
    // The factory's log holds the policy and the manifests it made.
    let log: serde_json::Value =
        serde_json::from_slice(&run(&["log", "show", "--store", s(&wd.store), "--json"]).stdout)
            .unwrap();
    assert_eq!(log["entries"][0]["kind"], "policy", "{log}");
    assert_eq!(log["entries"][1]["kind"], "manifest", "{log}");

    // The bundle: the customer's proof comes from its store, the factory's from a proof file.
    let man_proof = w.join("manifest.proof");
    let o = run(&[
        "log",
        "prove",
        s(&man_a),
        "--store",
        s(&wd.store),
        "--out",
        s(&man_proof),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let bundle = w.join("server.bundle");
    let o = run(&[
        "bundle",
        "create",
        "--evidence",
        s(&wd.ev),
        "--manifest",
        s(&man_a),
        "--policy",
        s(&policy),
        "--verdict",
        s(&verdict),
        "--proof",
        s(&man_proof),
        "--store",
        s(&w.join("customer-store")),
        "--out",
        s(&bundle),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    check_bundle_elsewhere(
        w,
        &bundle,
        &wd.vendor.public,
        &customer.public,
        &[&wd.store, &w.join("customer-store")],
    );

    // A device added: the comparison runs under the chain as without it.
    wd.m.pci(&Pci {
        path: &["pci0000:00", "0000:00:1c.0", "0000:01:00.1"],
        vendor: 0x1234,
        device: 0x11e8,
        class: 0x00ff00,
        subsystem: (0x1af4, 0x1100),
        revision: 0x10,
    });
    let implant = w.join("implant.json");
    wd.m.collect(&implant);
    let (c, r) = wd.verify(&implant, &man_a, &policy, &[]);
    assert_eq!(
        (c, kinds(&r)),
        (1, vec!["component-added".to_owned()]),
        "{r}"
    );

    // Each break of the chain, alone.
    for (who, name, kind) in [
        (&cm_b, "cm-b", "signer-not-authorized"),
        (&cm_c, "cm-c", "key-revoked"),
        (&cm_d, "cm-d", "signer-not-authorized"),
        (&cm_e, "cm-e", "manifest-expired"),
    ] {
        let man = wd.manifest(who, name);
        let (c, r) = wd.verify(&wd.ev, &man, &policy, &[]);
        assert_eq!((c, kinds(&r)), (1, vec![kind.to_owned()]), "{name}: {r}");
        let f = &r["findings"][0];
        assert!(!f["message"].as_str().unwrap().is_empty());
    }
    // CM B's manifest is not compared at all: nobody the policy trusts signed it.
    let man_b = w.join("cm-b.manifest");
    let (_, r) = wd.verify(&implant, &man_b, &policy, &[]);
    assert_eq!(kinds(&r), ["signer-not-authorized"], "{r}");
    assert!(
        r["notes"][0].as_str().unwrap().contains("not compared"),
        "{r}"
    );

    // An expired policy.
    let old = wd.policy(
        "expired",
        serde_json::json!({"vendor": "Supermicro", "valid_until": "2021-01-01T00:00:00Z",
                           "manufacturers": [{"name": "CM A", "keys": ["cm-a.pub"],
                                              "products": [{"manufacturer": "Supermicro"}]}]}),
    );
    let (c, r) = wd.verify(&wd.ev, &man_a, &old, &[]);
    assert_eq!(
        (c, kinds(&r)),
        (1, vec!["manifest-expired".to_owned()]),
        "{r}"
    );

    // A manifest changed after CM A signed it (kept in canonical form, signature kept).
    let mut env =
        boardproof_ledger::dsse::Envelope::from_canonical_bytes(&std::fs::read(&man_a).unwrap())
            .unwrap();
    let b64 = &base64::engine::general_purpose::STANDARD;
    let mut payload: serde_json::Value =
        serde_json::from_slice(&b64.decode(&env.payload).unwrap()).unwrap();
    payload["created_by"]["name"] = "someone else".into();
    env.payload = b64.encode(serde_json::to_vec(&payload).unwrap());
    let forged = w.join("forged.manifest");
    std::fs::write(&forged, env.to_canonical_bytes()).unwrap();
    let (c, r) = wd.verify(&wd.ev, &forged, &policy, &[]);
    assert_eq!(
        (c, kinds(&r)),
        (1, vec!["manifest-signature-invalid".to_owned()]),
        "{r}"
    );

    // A policy not signed by the vendor's key cannot be used at all: exit 2, file named.
    let o = run(&[
        "verify",
        s(&wd.ev),
        "--manifest",
        s(&man_a),
        "--policy",
        s(&policy),
        "--vendor-key",
        s(&cm_a.public),
    ]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("current.policy"), "{}", stderr(&o));
}

/// Copies the bundle and the public keys (nothing else) to a fresh folder and checks it there
/// with no store; then edits bytes of it and checks each edit is caught.
fn check_bundle_elsewhere(w: &Path, bundle: &Path, vendor: &Path, customer: &Path, logs: &[&Path]) {
    let clean = tempfile::tempdir().unwrap();
    let c = clean.path();
    std::fs::copy(bundle, c.join("b.bundle")).unwrap();
    std::fs::copy(vendor, c.join("vendor.pub")).unwrap();
    std::fs::copy(customer, c.join("customer.pub")).unwrap();
    let mut args: Vec<String> = vec![
        "bundle".into(),
        "verify".into(),
        "b.bundle".into(),
        "--vendor-key".into(),
        "vendor.pub".into(),
        "--verdict-key".into(),
        "customer.pub".into(),
    ];
    for (i, st) in logs.iter().enumerate() {
        let o = run(&["log", "show", "--verifier", "--store", s(st)]);
        let f = format!("log{i}.vkey");
        std::fs::write(c.join(&f), o.stdout).unwrap();
        args.extend(["--log-key".into(), f]);
    }
    let data = tempfile::tempdir().unwrap();
    let go = |args: &[String]| {
        crate::util::bp()
            .args(args)
            .current_dir(c)
            .env("XDG_DATA_HOME", data.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let mut json_args = args.clone();
    json_args.push("--json".into());
    let o = go(&json_args);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let checks: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "verdict signature",
            "verdict subjects",
            "manifest trust",
            "re-verification",
            "log proof 1",
            "log proof 2"
        ],
        "{v}"
    );
    assert!(
        std::fs::read_dir(data.path()).unwrap().next().is_none(),
        "bundle verify wrote a store"
    );
    // Without the factory's log key, its proof is not accepted.
    let o = go(&args[..args.len() - 2]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    // Edited bytes: every byte outside the long base64 parts, and a spread through them.
    let bytes = std::fs::read(bundle).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let long: Vec<(usize, usize)> = [
        "\"evidence\":\"",
        "\"manifest\":\"",
        "\"policy\":\"",
        "\"verdict\":\"",
    ]
    .iter()
    .map(|k| {
        let a = text.find(k).unwrap() + k.len();
        (a, a + text[a..].find('"').unwrap())
    })
    .collect();
    let mut positions: Vec<usize> = (0..bytes.len())
        .filter(|i| !long.iter().any(|(a, b)| i >= a && i < b))
        .collect();
    for (a, b) in &long {
        positions.extend((*a..*b).step_by(((b - a) / 40).max(1)));
        positions.push(b - 1);
    }
    let bad = c.join("b.bundle");
    for &i in &positions {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        std::fs::write(&bad, &b).unwrap();
        let o = go(&args);
        assert_ne!(
            code(&o),
            0,
            "byte {i} ({:?}) of the bundle changed and it still verified: …{}…",
            text.as_bytes()[i] as char,
            &text[i.saturating_sub(80)..(i + 20).min(text.len())]
        );
    }
    let _ = w;
}

#[test]
fn vendor_cosign_is_required_where_the_policy_says_so() {
    let wd = World::new();
    let w = &wd.w;
    let cm_a = party(w, "cm-a", "ed25519");
    let policy = wd.policy(
        "cosign",
        serde_json::json!({"vendor": "Supermicro", "valid_until": "2099-01-01T00:00:00Z",
                           "require_vendor_cosign": true,
                           "manufacturers": [{"name": "CM A", "keys": ["cm-a.pub"],
                                              "products": [{"board": "H8QG6"}]}]}),
    );
    let man = wd.manifest(&cm_a, "cm-a");
    let (c, r) = wd.verify(&wd.ev, &man, &policy, &[]);
    assert_eq!(
        (c, kinds(&r)),
        (1, vec!["signer-not-authorized".to_owned()]),
        "{r}"
    );
    assert!(r["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("co-signature"));
    let cosigned = w.join("cosigned.manifest");
    let o = run(&[
        "manifest",
        "cosign",
        s(&man),
        "--key",
        s(&wd.vendor.key),
        "--out",
        s(&cosigned),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (c, r) = wd.verify(&wd.ev, &cosigned, &policy, &[]);
    assert_eq!(c, 0, "{r}");
    // Co-signing changes the file, not the logged payload: the factory's entry proves it.
    let o = run(&["log", "prove", s(&cosigned), "--store", s(&wd.store)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Signing twice with one key is refused.
    let o = run(&[
        "manifest",
        "cosign",
        s(&cosigned),
        "--key",
        s(&wd.vendor.key),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already signed"), "{}", stderr(&o));
}

#[test]
fn bad_policies_are_refused_with_the_file_named() {
    let wd = World::new();
    let w = &wd.w;
    party(w, "cm-a", "ed25519");
    for (name, body, why) in [
        (
            "empty-pattern",
            serde_json::json!({"vendor": "V", "valid_until": "2099-01-01T00:00:00Z",
                "manufacturers": [{"name": "A", "keys": ["cm-a.pub"], "products": [{}]}]}),
            "would match every server",
        ),
        (
            "bad-time",
            serde_json::json!({"vendor": "V", "valid_until": "next year",
                "manufacturers": [{"name": "A", "keys": ["cm-a.pub"], "products": [{"product": "X"}]}]}),
            "RFC 3339",
        ),
        (
            "missing-key",
            serde_json::json!({"vendor": "V", "valid_until": "2099-01-01T00:00:00Z",
                "manufacturers": [{"name": "A", "keys": ["nope.pub"], "products": [{"product": "X"}]}]}),
            "nope.pub",
        ),
    ] {
        let input = w.join(format!("{name}.json"));
        std::fs::write(&input, serde_json::to_vec(&body).unwrap()).unwrap();
        let o = run(&[
            "policy",
            "sign",
            s(&input),
            "--key",
            s(&wd.vendor.key),
            "--out",
            s(&w.join("x.policy")),
            "--store",
            s(&wd.store),
        ]);
        assert_eq!(code(&o), 2, "{name}");
        let e = stderr(&o);
        assert!(e.contains(why) && e.lines().count() == 1, "{name}: {e}");
        assert!(!w.join("x.policy").exists(), "{name} left a file");
    }
}

/// A policy's `require_sources` makes thin evidence a finding: the golden fixture has no TPM
/// and no IMA, so a policy requiring them gives one `source-missing` each; requiring what the
/// evidence has gives none. `--require` on the command line adds to the policy's.
#[test]
fn policy_required_sources_are_findings_when_unavailable() {
    let wd = World::new();
    let cm_a = party(&wd.w, "cm-a", "ed25519");
    let body = |req: serde_json::Value| {
        serde_json::json!({"vendor": "Supermicro", "valid_until": "2099-01-01T00:00:00Z",
                           "require_sources": req,
                           "manufacturers": [{"name": "CM A", "keys": ["cm-a.pub"],
                                              "products": [{"board": "H8QG6"}]}]})
    };
    let man = wd.manifest(&cm_a, "cm-a");
    let strict = wd.policy("strict", body(serde_json::json!(["smbios", "tpm", "ima"])));
    let (c, r) = wd.verify(&wd.ev, &man, &strict, &[]);
    let missing: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "source-missing")
        .map(|f| f["locus"]["source"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        (c, missing),
        (1, vec!["ima".to_owned(), "tpm".to_owned()]),
        "{r}"
    );
    assert!(r["unavailable"].as_array().unwrap().len() >= 2, "{r}");

    let lax = wd.policy("lax", body(serde_json::json!(["smbios", "pci"])));
    let (c, r) = wd.verify(&wd.ev, &man, &lax, &[]);
    assert_eq!(c, 0, "{r}");
    let (c, r) = wd.verify(&wd.ev, &man, &lax, &["--require", "tpm"]);
    assert_eq!(
        (c, kinds(&r)),
        (1, vec!["source-missing".to_owned()]),
        "{r}"
    );

    // A policy naming no source is refused at signing, with the name.
    let input = wd.w.join("typo.json");
    std::fs::write(
        &input,
        serde_json::to_vec(&body(serde_json::json!(["tpm2"]))).unwrap(),
    )
    .unwrap();
    let out = wd.w.join("typo.policy");
    let o = run(&[
        "policy",
        "sign",
        s(&input),
        "--key",
        s(&wd.vendor.key),
        "--out",
        s(&out),
    ]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("tpm2"), "{}", stderr(&o));
}
