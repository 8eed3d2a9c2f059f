//! Every command that writes something says what it wrote with `--json`: one
//! `boardproof.written/v1` document (schemas/written-v1.json) naming each file with its size
//! and digest, the key, and the log entry where one was appended.

use std::path::Path;

use boardproof_evidence::Written;
use sha2::{Digest, Sha256};

use crate::fixture::Machine;
use crate::util::{code, run, stderr, stdout};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `args` (which end in `--json`), parses the document as the type the schema is made
/// from (unknown fields refused), and checks every file it names is on disk as it says.
fn written(args: &[&str], command: &str) -> Written {
    let o = run(args);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    let w: Written = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", stdout(&o)));
    assert_eq!(w.schema, "boardproof.written/v1");
    assert_eq!(w.command, command);
    assert!(!w.files.is_empty(), "{command}: names no file");
    for f in &w.files {
        let bytes = std::fs::read(&f.path).unwrap();
        assert_eq!(f.bytes, bytes.len() as u64, "{command}: {}", f.path);
        match &f.sha256 {
            Some(h) => assert_eq!(*h, hex::encode(Sha256::digest(&bytes)), "{}", f.path),
            None => assert!(
                f.what.contains("private key") || f.what.contains("secret"),
                "{command}: only a secret has no digest ({})",
                f.what
            ),
        }
    }
    w
}

#[test]
fn every_writing_command_prints_what_it_wrote() {
    let m = Machine::golden();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let ev = w.join("ev.json");
    m.collect(&ev);
    let st = w.join("store");
    let k = w.join("k");

    let kg = written(&["keygen", "--out", s(&k), "--json"], "keygen");
    assert_eq!(kg.files.len(), 2);
    assert_eq!(kg.algorithm.as_deref(), Some("ed25519"));
    let key_id = kg.key_id.clone().unwrap();
    let (key, public) = (w.join("k.key"), w.join("k.pub"));

    let li = written(
        &[
            "log",
            "init",
            "--store",
            s(&st),
            "--origin",
            "test.example/log",
            "--json",
        ],
        "log init",
    );
    assert_eq!(
        li.files[0].sha256, None,
        "no digest of the log's private key"
    );
    assert!(
        li.key_id
            .as_deref()
            .unwrap()
            .starts_with("test.example/log+"),
        "{li:?}"
    );

    let man = w.join("m.manifest");
    let mc = written(
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
            "--json",
        ],
        "manifest create",
    );
    assert_eq!(mc.key_id.as_deref(), Some(key_id.as_str()));
    let logged = mc.logged.clone().expect("the manifest is logged");
    assert_eq!(logged.index, 0);
    assert!(logged.verifier.contains('+'), "{}", logged.verifier);

    let k2 = w.join("k2");
    written(&["keygen", "--out", s(&k2), "--json"], "keygen");
    let cosigned = w.join("co.manifest");
    let co = written(
        &[
            "manifest",
            "cosign",
            s(&man),
            "--key",
            s(&w.join("k2.key")),
            "--out",
            s(&cosigned),
            "--json",
        ],
        "manifest cosign",
    );
    assert_eq!(co.files[0].path, s(&cosigned));

    let input = w.join("policy.json");
    std::fs::write(
        &input,
        r#"{"vendor": "V", "valid_until": "2099-01-01T00:00:00Z",
            "manufacturers": [{"name": "CM", "keys": ["k.pub"], "products": [{"board": "X"}]}]}"#,
    )
    .unwrap();
    let pol = w.join("v.policy");
    let ps = written(
        &[
            "policy",
            "sign",
            s(&input),
            "--key",
            s(&key),
            "--out",
            s(&pol),
            "--store",
            s(&st),
            "--json",
        ],
        "policy sign",
    );
    assert_eq!(ps.logged.as_ref().map(|l| l.index), Some(1));

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
    let proof = w.join("v.proof");
    let lp = written(
        &[
            "log",
            "prove",
            s(&verdict),
            "--store",
            s(&st),
            "--out",
            s(&proof),
            "--json",
        ],
        "log prove",
    );
    assert_eq!(lp.logged.as_ref().map(|l| l.index), Some(2));

    let bundle = w.join("b.bundle");
    written(
        &[
            "bundle",
            "create",
            "--evidence",
            s(&ev),
            "--manifest",
            s(&man),
            "--verdict",
            s(&verdict),
            "--proof",
            s(&proof),
            "--out",
            s(&bundle),
            "--json",
        ],
        "bundle create",
    );
    let corim = w.join("c.corim");
    written(
        &[
            "corim",
            "export",
            s(&ev),
            "--key",
            s(&key),
            "--out",
            s(&corim),
            "--json",
        ],
        "corim export",
    );
    let list = w.join("components.json");
    written(
        &[
            "platform-cert",
            "components",
            s(&ev),
            "--out",
            s(&list),
            "--json",
        ],
        "platform-cert components",
    );

    // Where the document itself goes to stdout, --json has nothing to describe: a usage error.
    for args in [
        vec!["platform-cert", "components", s(&ev), "--json"],
        vec!["log", "prove", "0", "--store", s(&st), "--json"],
    ] {
        let o = run(&args);
        assert_eq!(code(&o), 2, "{args:?}");
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}
