//! CoRIM/CoMID: Veraison's test cases decoded like Python's cbor2 reads them; boardproof's
//! own export round-trips, verifies evidence, and refuses edits.

use std::path::Path;
use std::process::Command;

use crate::util::{code, require_python_module, run, stderr, stdout, testdata_files};

/// The reference walk, independent of boardproof: cbor2 decodes, this script navigates
/// CoRIM → CoMID → reference triples → measurements and prints (key, digests, registers).
const WALK: &str = r#"
import sys, json, cbor2
def unwrap(v):
    while isinstance(v, cbor2.CBORTag): v = v.value
    return v
def oid(b):
    out, n = [], 0
    for x in b:
        n = (n << 7) | (x & 0x7f)
        if not x & 0x80: out.append(n); n = 0
    first = [0, out[0]] if out[0] < 40 else ([1, out[0] - 40] if out[0] < 80 else [2, out[0] - 80])
    return 'oid:' + '.'.join(str(x) for x in first + out[1:])
def key(v):
    if isinstance(v, cbor2.CBORTag) and v.tag == 111: return oid(v.value)
    v = unwrap(v)
    if isinstance(v, bytes): return v.hex() if len(v) != 16 else '-'.join([v[:4].hex(), v[4:6].hex(), v[6:8].hex(), v[8:10].hex(), v[10:].hex()])
    return None if v is None else str(v)
def digests(ds): return [[{1:'sha256',7:'sha384',8:'sha512'}.get(a, a if isinstance(a, str) else 'alg-%d' % a), bytes(h).hex()] for a, h in ds]
def env(e):
    e = unwrap(e); c = unwrap(e.get(0, {}))
    f = {'class_id': c.get(0), 'vendor': c.get(1), 'model': c.get(2), 'layer': c.get(3),
         'index': c.get(4), 'instance': e.get(1), 'group': e.get(2)}
    return {k: key(v) for k, v in f.items() if v is not None}
def comid(m):
    m = unwrap(m)
    out = []
    for t in unwrap(m[4]).get(0, []):
        for ms in t[1]:
            ms = unwrap(ms); vals = unwrap(ms[1])
            out.append({'env': env(t[0]), 'key': key(ms.get(0)), 'digests': digests(vals.get(2, [])),
                        'registers': {str(k): digests(v) for k, v in unwrap(vals.get(14, {})).items()}})
    return out
data = open(sys.argv[1], 'rb').read()
v = cbor2.loads(data)
if isinstance(v, cbor2.CBORTag) and v.tag == 18:
    v = cbor2.loads(v.value[2])
v = unwrap(v)
if 4 in v: ms = comid(v)
else: ms = [x for t in v[1] if isinstance(t, cbor2.CBORTag) and t.tag == 506 for x in comid(cbor2.loads(t.value))]
print(json.dumps(ms))
"#;

/// cbor2's reading of `f`; a failed run of python3 fails the test (never agreement).
fn cbor2_walk(f: &Path) -> serde_json::Value {
    let o = Command::new("python3")
        .arg("-c")
        .arg(WALK)
        .arg(f)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        o.status.success(),
        "{}: cbor2 walk failed: {}",
        f.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn veraison_test_cases_decode_like_cbor2() {
    if !require_python_module("cbor2") {
        return;
    }
    let files = testdata_files("corim", ".cbor");
    assert_eq!(files.len(), 24);
    let mut measurements = 0;
    let mut distinct_rows = 0;
    for f in &files {
        let o = run(&["corim", "show", f.to_str().unwrap(), "--json"]);
        assert_eq!(code(&o), 0, "{}: {}", f.display(), stderr(&o));
        let ours: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let theirs = cbor2_walk(f);
        let flat: Vec<serde_json::Value> = ours["comids"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["reference_values"].as_array().unwrap().clone())
            .flat_map(|r| {
                let mut env = r.as_object().unwrap().clone();
                env.remove("measurements");
                r["measurements"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(move |m| (env.clone(), m.clone()))
                    .collect::<Vec<_>>()
            })
            .map(|(env, m)| {
                serde_json::json!({
                    "env": env,
                    "key": m["key"],
                    "digests": m.get("digests").cloned().unwrap_or(serde_json::json!([])),
                    "registers": m.get("registers").cloned().unwrap_or(serde_json::json!({})),
                })
            })
            .collect();
        assert_eq!(
            serde_json::Value::Array(flat.clone()),
            theirs,
            "{}",
            f.display()
        );
        measurements += flat.len();
        // The text table: environments that differ in any field (class id, layer, index,
        // instance…) never print as the same row text.
        let o = run(&["corim", "show", f.to_str().unwrap()]);
        let text = stdout(&o);
        let mut envs: Vec<String> = theirs
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["env"].to_string())
            .collect();
        envs.sort();
        envs.dedup();
        // First column of each table row (columns are padded apart by at least 3 spaces;
        // a digest's continuation lines start blank).
        let mut shown: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("| "))
            .filter(|l| !l.starts_with(' ') && !l.starts_with("environment "))
            .filter_map(|l| l.split("   ").next())
            .map(str::trim)
            .collect();
        shown.sort();
        shown.dedup();
        assert_eq!(
            shown.len(),
            envs.len(),
            "{}: {shown:?} for {envs:?}",
            f.display()
        );
        distinct_rows += envs.len();
    }
    assert!(distinct_rows >= 26, "{distinct_rows} distinct environments");
    assert!(distinct_rows >= 20, "{distinct_rows}");
    assert!(measurements >= 40, "{measurements}");
}

#[test]
fn export_round_trips_verifies_and_refuses_edits() {
    let m = crate::fixture::Machine::golden();
    let pcr = |i: u32| format!("{:064x}", u64::from(i) + 0x1000);
    for i in 0..24 {
        m.file(
            &format!("sys/class/tpm/tpm0/pcr-sha256/{i}"),
            format!("{}\n", pcr(i)),
        );
    }
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let ev = d.join("ev.json");
    m.collect(&ev);
    for alg in ["ed25519", "ecdsa-p256"] {
        let prefix = d.join(alg);
        assert_eq!(
            code(&run(&[
                "keygen",
                "--out",
                prefix.to_str().unwrap(),
                "--algorithm",
                alg
            ])),
            0
        );
        let (key, public) = (d.join(format!("{alg}.key")), d.join(format!("{alg}.pub")));
        let corim = d.join(format!("{alg}.corim"));
        let o = run(&[
            "corim",
            "export",
            ev.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--out",
            corim.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stdout(&o).contains("8 PCRs"), "{}", stdout(&o));
        // Read back with the key: the same eight PCR values.
        let o = run(&[
            "corim",
            "show",
            corim.to_str().unwrap(),
            "--key",
            public.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["signed"]["verified"], true);
        let regs = &v["comids"][0]["reference_values"][0]["measurements"][0]["registers"];
        for i in 0..8 {
            assert_eq!(
                regs[i.to_string()][0],
                serde_json::json!(["sha256", pcr(i)]),
                "{v}"
            );
        }
        assert!(regs.get("8").is_none());
        if require_python_module("cbor2") {
            assert_eq!(cbor2_walk(&corim)[0]["registers"], *regs);
        }
        let verify = |e: &Path| {
            let o = run(&[
                "corim",
                "verify",
                e.to_str().unwrap(),
                "--corim",
                corim.to_str().unwrap(),
                "--key",
                public.to_str().unwrap(),
                "--json",
            ]);
            let v: serde_json::Value =
                serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
            (code(&o), v)
        };
        let (c, r) = verify(&ev);
        assert_eq!(c, 0, "{r}");
        // PCR 4 changed: exactly one pcr-mismatch.
        let m2 = crate::fixture::Machine::golden();
        for i in 0..24 {
            let val = if i == 4 {
                format!("{:064x}", 0xbadu64)
            } else {
                pcr(i)
            };
            m2.file(
                &format!("sys/class/tpm/tpm0/pcr-sha256/{i}"),
                format!("{val}\n"),
            );
        }
        let ev2 = d.join("ev2.json");
        m2.collect(&ev2);
        let (c, r) = verify(&ev2);
        assert_eq!(c, 1, "{r}");
        let kinds: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["pcr-mismatch"], "{r}");
        assert_eq!(r["findings"][0]["subject"], "PCR 4 (sha256)");
        // Any single changed byte of the file: refused (exit 2) or, if it still decodes, its
        // signature fails. Never accepted.
        let bytes = std::fs::read(&corim).unwrap();
        let bad = d.join("bad.corim");
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            std::fs::write(&bad, &b).unwrap();
            let o = run(&[
                "corim",
                "show",
                bad.to_str().unwrap(),
                "--key",
                public.to_str().unwrap(),
            ]);
            assert_eq!(
                code(&o),
                2,
                "byte {i} changed and still verified: {}",
                stdout(&o)
            );
        }
        // The other algorithm's key does not verify it.
        let other = if alg == "ed25519" {
            "ecdsa-p256"
        } else {
            "ed25519"
        };
        let other_pub = d.join(format!("{other}.pub"));
        if other_pub.exists() {
            let o = run(&[
                "corim",
                "show",
                corim.to_str().unwrap(),
                "--key",
                other_pub.to_str().unwrap(),
            ]);
            assert_eq!(code(&o), 2, "{}", stdout(&o));
        }
    }
}
