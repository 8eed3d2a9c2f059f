//! `boardproof log …`, and the entries `manifest create` and `verify --record` append.

use std::path::{Path, PathBuf};

use crate::e2e::keys;
use crate::fixture::Machine;
use crate::util::{code, run, stderr, stdout};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)))
}

fn ok(args: &[&str]) -> std::process::Output {
    let o = run(args);
    assert_eq!(code(&o), 0, "{args:?}: {}{}", stdout(&o), stderr(&o));
    o
}

fn verifier_file(store: &Path, dir: &Path) -> PathBuf {
    let o = ok(&["log", "show", "--verifier", "--store", s(store)]);
    let p = dir.join(format!(
        "{}.vkey",
        store.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&p, o.stdout).unwrap();
    p
}

/// The factory's store logs the manifest; the customer's logs the verdict; each proof checks
/// offline with the verifier key alone, for exactly the file it was made for.
#[test]
fn manifest_and_verdict_are_logged_and_proven_offline() {
    let m = Machine::golden();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let ev = w.join("golden.json");
    m.collect(&ev);
    let factory = keys();
    let customer = keys();
    let (fstore, cstore) = (w.join("factory-store"), w.join("customer-store"));
    let man = w.join("server.manifest");
    let o = ok(&[
        "manifest",
        "create",
        s(&ev),
        "--key",
        factory.key(),
        "--out",
        s(&man),
        "--store",
        s(&fstore),
    ]);
    assert!(stdout(&o).contains("logged as entry 0"), "{}", stdout(&o));

    let verdict = w.join("verdict.dsse");
    let o = run(&[
        "verify",
        s(&ev),
        "--manifest",
        s(&man),
        "--pubkey",
        &factory.public,
        "--record",
        "--store",
        s(&cstore),
        "--sign-key",
        customer.key(),
        "--verdict-out",
        s(&verdict),
        "--decided-by",
        "acceptance team",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("logged as entry 0"), "{}", stderr(&o));
    // The verdict names the evidence and the manifest by digest.
    let env: serde_json::Value = serde_json::from_slice(&std::fs::read(&verdict).unwrap()).unwrap();
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    use base64::Engine;
    let stmt: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(env["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stmt["predicateType"], "https://boardproof.dev/verdict/v1");
    assert_eq!(stmt["predicate"]["verdict"], "verified");
    assert_eq!(stmt["predicate"]["decided_by"]["name"], "acceptance team");
    let sha = |p: &Path| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
    };
    assert_eq!(stmt["subject"][0]["name"], "evidence");
    assert_eq!(stmt["subject"][0]["digest"]["sha256"], sha(&ev));
    assert_eq!(stmt["subject"][1]["digest"]["sha256"], sha(&man));

    let fkey = verifier_file(&fstore, w);
    let ckey = verifier_file(&cstore, w);
    for (store, file, vkey, other) in [
        (&fstore, &man, &fkey, &ckey),
        (&cstore, &verdict, &ckey, &fkey),
    ] {
        let proof = w.join(format!(
            "{}.proof",
            file.file_name().unwrap().to_string_lossy()
        ));
        ok(&[
            "log",
            "prove",
            s(file),
            "--store",
            s(store),
            "--out",
            s(&proof),
        ]);
        // Offline: no --store anywhere.
        let o = ok(&[
            "log",
            "verify-proof",
            s(&proof),
            "--verifier",
            s(vkey),
            "--file",
            s(file),
        ]);
        assert!(stdout(&o).starts_with("PROVEN"), "{}", stdout(&o));
        // Another file, another log's key: not proven, exit 1.
        for (v, f) in [(vkey, &ev), (other, file)] {
            let o = run(&[
                "log",
                "verify-proof",
                s(&proof),
                "--verifier",
                s(v),
                "--file",
                s(f),
            ]);
            assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
            assert!(stdout(&o).starts_with("NOT PROVEN"), "{}", stdout(&o));
        }
        // Every single-byte change of the proof file is refused.
        let bytes = std::fs::read(&proof).unwrap();
        let bad = w.join("bad.proof");
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            std::fs::write(&bad, &b).unwrap();
            let o = run(&["log", "verify-proof", s(&bad), "--verifier", s(vkey)]);
            assert_ne!(code(&o), 0, "byte {i} changed and still proven");
        }
    }
    // A file never appended cannot be proven.
    let o = run(&["log", "prove", s(&ev), "--store", s(&fstore)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not in this log"), "{}", stderr(&o));
    // The verdict is stored beside its log entry.
    let v = json(&ok(&["log", "show", "--store", s(&cstore), "--json"]));
    assert_eq!(v["size"], 1);
    assert_eq!(v["entries"][0]["kind"], "verdict");
}

/// Checkpoints kept by a monitor stay consistent while the log grows; a log rewritten under
/// the same key is caught by `consistency` and by `audit --checkpoint`.
#[test]
fn consistency_and_audit_catch_a_rewritten_log() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let key = keys();
    let (a, b) = (w.join("a"), w.join("b"));
    for st in [&a, &b] {
        ok(&[
            "log",
            "init",
            "--store",
            s(st),
            "--origin",
            "test.example/log",
            "--key",
            key.key(),
        ]);
    }
    let files: Vec<PathBuf> = (0..5)
        .map(|i| {
            let p = w.join(format!("f{i}"));
            std::fs::write(&p, format!("record {i}\n")).unwrap();
            p
        })
        .collect();
    ok(&[
        "log",
        "append",
        s(&files[0]),
        s(&files[1]),
        "--store",
        s(&a),
    ]);
    let kept = w.join("kept-2.checkpoint");
    let shown = json(&ok(&["log", "show", "--store", s(&a), "--json"]));
    std::fs::write(&kept, shown["checkpoint"].as_str().unwrap()).unwrap();
    ok(&["log", "append", s(&files[2]), "--store", s(&a)]);
    ok(&[
        "log",
        "append",
        s(&files[3]),
        s(&files[4]),
        "--store",
        s(&a),
    ]);
    let proof = w.join("c.proof");
    let o = ok(&[
        "log",
        "consistency",
        s(&kept),
        "--store",
        s(&a),
        "--out",
        s(&proof),
    ]);
    assert!(
        stdout(&o).contains("extends the checkpoint of 2"),
        "{}",
        stdout(&o)
    );
    let vkey = verifier_file(&a, w);
    let o = ok(&["log", "verify-proof", s(&proof), "--verifier", s(&vkey)]);
    assert!(
        stdout(&o).contains("extends its checkpoint of size 2"),
        "{}",
        stdout(&o)
    );
    let v = json(&ok(&[
        "log",
        "audit",
        "--store",
        s(&a),
        "--checkpoint",
        s(&kept),
        "--json",
    ]));
    assert_eq!(v["sound"], true, "{v}");
    assert_eq!(v["leaves"], 5);
    // checkpoints at 0? no: one per append (2, 3, 5) plus the kept one.
    assert_eq!(v["checkpoints"], 4, "{v}");

    // Log b: same key, other history (entry 1 differs).
    ok(&[
        "log",
        "append",
        s(&files[0]),
        s(&files[2]),
        "--store",
        s(&b),
    ]);
    let forked = w.join("forked.checkpoint");
    let shown = json(&ok(&["log", "show", "--store", s(&b), "--json"]));
    std::fs::write(&forked, shown["checkpoint"].as_str().unwrap()).unwrap();
    let o = run(&["log", "consistency", s(&forked), "--store", s(&a)]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("INCONSISTENT"), "{}", stdout(&o));
    let o = run(&["log", "audit", "--store", s(&a), "--checkpoint", s(&forked)]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("forked"), "{}", stdout(&o));

    // One leaf edited in the store: the audit names it.
    let db = rusqlite::Connection::open(a.join("store.sqlite")).unwrap();
    db.execute(
        "UPDATE tlog_leaves SET data = CAST(REPLACE(CAST(data AS TEXT), '\"file\"', '\"File\"') AS BLOB) WHERE idx = 3",
        [],
    )
    .unwrap();
    drop(db);
    let v = json(&run(&["log", "audit", "--store", s(&a), "--json"]));
    assert_eq!(v["sound"], false, "{v}");
    let problems = v["problems"].to_string();
    assert!(problems.contains("entry 3"), "{problems}");
    // A second log key is refused: a log keeps the key it started with.
    let o = run(&["log", "init", "--store", s(&a), "--origin", "other"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already started"), "{}", stderr(&o));
}

#[test]
fn a_kill_during_append_leaves_the_log_as_it_was() {
    if !crate::util::require_failpoints() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let st = w.join("store");
    let f = w.join("f");
    std::fs::write(&f, "x").unwrap();
    ok(&["log", "append", s(&f), "--store", s(&st)]);
    let before = json(&ok(&["log", "show", "--store", s(&st), "--json"]));
    crate::util::kill_at_store_failpoint(&["log", "append", s(&f), s(&f), "--store", s(&st)]);
    let after = json(&ok(&["log", "show", "--store", s(&st), "--json"]));
    assert_eq!(after, before, "the killed append changed the log");
    let v = json(&ok(&["log", "audit", "--store", s(&st), "--json"]));
    assert_eq!(v["sound"], true, "{v}");
    // and the log goes on from there
    ok(&["log", "append", s(&f), "--store", s(&st)]);
    let v = json(&ok(&["log", "audit", "--store", s(&st), "--json"]));
    assert_eq!(
        (v["sound"].clone(), v["leaves"].clone()),
        (true.into(), 2.into()),
        "{v}"
    );
}

#[test]
fn bad_input_is_exit_2_with_the_file_named() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let junk = w.join("junk.proof");
    std::fs::write(&junk, b"{\"format\":").unwrap();
    let o = run(&[
        "log",
        "verify-proof",
        s(&junk),
        "--verifier",
        "x+00000000+AQ==",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("junk.proof"), "{}", stderr(&o));
    let o = run(&["log", "verify-proof", s(&junk), "--verifier", s(&junk)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not a verifier key"), "{}", stderr(&o));
    // A missing file appends nothing, even with good files beside it.
    let good = w.join("good");
    std::fs::write(&good, "g").unwrap();
    let st = w.join("store");
    let missing = w.join("missing");
    let append = ["log", "append", s(&good), s(&missing), "--store", s(&st)];
    let o = run(&append);
    assert_eq!(code(&o), 2);
    // Nothing was appended: the files are read before the store is even opened, so none was
    // created, and a reading command does not create one either.
    let o = run(&["log", "show", "--store", s(&st), "--json"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no boardproof store here"),
        "{}",
        stderr(&o)
    );
    assert!(!st.exists());
    // With a store that exists, the failed append leaves its log as it was.
    ok(&[
        "log",
        "init",
        "--store",
        s(&st),
        "--origin",
        "test.example/log",
    ]);
    let o = run(&append);
    assert_eq!(code(&o), 2);
    let v = json(&ok(&["log", "show", "--store", s(&st), "--json"]));
    assert_eq!(v["size"], 0);
}

/// A log that a write starts by itself is named after this host (read by the binary, not by
/// the store library): `boardproof.local/HOSTNAME`.
#[test]
fn an_implicit_log_is_named_after_the_host() {
    let work = tempfile::tempdir().unwrap();
    let st = work.path().join("store");
    let f = work.path().join("f");
    std::fs::write(&f, "x").unwrap();
    ok(&["log", "append", s(&f), "--store", s(&st)]);
    let v = json(&ok(&["log", "show", "--store", s(&st), "--json"]));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let want = boardproof_ledger::store::origin_for(&host);
    assert!(
        want.starts_with("boardproof.local/") && want.len() > 17,
        "{want}"
    );
    assert_eq!(v["origin"].as_str(), Some(want.as_str()), "{v}");
}
