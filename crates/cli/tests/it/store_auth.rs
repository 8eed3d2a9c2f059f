//! The store cannot be edited unnoticed: every scan, baseline and verdict row is bound to the
//! transparency log, and `history`, `scan` and `log audit` check the rows against it.

use std::path::Path;

use rusqlite::Connection;

use crate::e2e::keys;
use crate::fixture::{Machine, SMBUS};
use crate::util::{code, run, stderr, stdout};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A store with a baseline, a clean scan, a scan with a finding, an accepted baseline and a
/// recorded verdict: every kind of row.
fn populated(m: &Machine, w: &Path) -> std::path::PathBuf {
    let store = w.join("store");
    let scan = |extra: &[&str]| {
        let mut a = vec![
            "scan",
            "--store",
            s(&store),
            "--root",
            m.root().to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    assert_eq!(code(&scan(&[])), 0);
    assert_eq!(code(&scan(&[])), 0);
    m.pci(&SMBUS);
    assert_eq!(code(&scan(&[])), 1);
    assert_eq!(
        code(&scan(&[
            "--accept",
            "--reason",
            "SMBus added by the vendor"
        ])),
        0
    );
    // A verdict row too.
    let ev = w.join("ev.json");
    m.collect(&ev);
    let k = keys();
    let man = w.join("m.manifest");
    let o = run(&[
        "manifest",
        "create",
        s(&ev),
        "--key",
        k.key(),
        "--out",
        s(&man),
        "--store",
        s(&store),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(&[
        "verify",
        s(&ev),
        "--manifest",
        s(&man),
        "--pubkey",
        &k.public,
        "--record",
        "--store",
        s(&store),
        "--sign-key",
        k.key(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    store
}

/// (history, log audit, scan) exit codes and their output.
fn judged(m: &Machine, store: &Path) -> [(i32, String); 3] {
    let h = run(&["history", "--store", s(store)]);
    let a = run(&["log", "audit", "--store", s(store)]);
    let sc = run(&[
        "scan",
        "--store",
        s(store),
        "--root",
        m.root().to_str().unwrap(),
    ]);
    [
        (code(&h), stdout(&h) + &stderr(&h)),
        (code(&a), stdout(&a) + &stderr(&a)),
        (code(&sc), stderr(&sc)),
    ]
}

/// Each edit a writer of the file could make to hide or fake a result is caught by all three
/// commands, which name the row: history and log audit exit 1, scan refuses (exit 2) and
/// records nothing.
#[test]
fn an_edited_row_is_caught_by_history_scan_and_log_audit() {
    let m = Machine::golden();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let store = populated(&m, w);
    let clean = judged(&m, &store);
    assert_eq!(clean[0].0, 0, "{}", clean[0].1);
    assert!(clean[0].1.contains("store rows checked"), "{}", clean[0].1);
    assert_eq!(clean[1].0, 0, "{}", clean[1].1);
    let edits: [(&str, &str, &str); 7] = [
        (
            "outcome",
            "UPDATE scans SET outcome = 'verified', findings = 0 WHERE id = 3",
            "scan row 3",
        ),
        (
            "evidence",
            "UPDATE scans SET evidence = replace(evidence, '\"pci\"', '\"pci\" ') WHERE id = 1",
            "scan row 1",
        ),
        (
            "baseline reference",
            "UPDATE baselines SET reference = replace(reference, '8086', '8087') WHERE id = 2",
            "baseline row 2",
        ),
        (
            "older baseline made current",
            "UPDATE baselines SET superseded_by = NULL WHERE id = 1",
            "baseline row 1",
        ),
        (
            "latest baseline deleted",
            "UPDATE baselines SET superseded_by = NULL WHERE id = 1; DELETE FROM baselines WHERE id = 2",
            "was deleted",
        ),
        (
            "verdict column",
            "UPDATE verdicts SET verdict = 'findings', findings = 2",
            "verdict row 1",
        ),
        (
            "row unbound",
            "UPDATE scans SET log_index = NULL WHERE id = 4",
            "scan row 4",
        ),
    ];
    for (what, sql, named) in edits {
        let copy = w.join(format!("edited-{}", what.replace(' ', "-")));
        copy_store(&store, &copy);
        let c = Connection::open(copy.join("store.sqlite")).unwrap();
        c.execute_batch(sql).unwrap();
        drop(c);
        let scans_before = scans(&copy);
        let [(hc, ho), (ac, ao), (sc, so)] = judged(&m, &copy);
        assert_eq!(hc, 1, "{what}: history\n{ho}");
        assert!(ho.contains(named), "{what}: history names {named:?}\n{ho}");
        assert_eq!(ac, 1, "{what}: log audit\n{ao}");
        assert!(
            ao.contains(named),
            "{what}: log audit names {named:?}\n{ao}"
        );
        assert_eq!(sc, 2, "{what}: scan\n{so}");
        assert!(so.contains(named), "{what}: scan names {named:?}\n{so}");
        assert_eq!(so.lines().count(), 1, "{so}");
        assert_eq!(
            scans(&copy),
            scans_before,
            "{what}: scan recorded into an edited store"
        );
    }
}

fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn scans(store: &Path) -> i64 {
    Connection::open(store.join("store.sqlite"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM scans", [], |r| r.get(0))
        .unwrap()
}

/// Every stored value the store vouches for, table by table. Left out, as
/// docs/transparency-log.md says: the log's `appended_at` (a local note no leaf covers) and
/// the signatures inside a verdict's kept envelope (the store holds no verdict key; whoever
/// uses the envelope checks them with it, `bundle verify --verdict-key`): of the envelope,
/// its payload type and payload are compared.
fn content(db: &Path) -> Option<Vec<String>> {
    let c = Connection::open(db).ok()?;
    let mut out = Vec::new();
    for (table, cols) in [
        ("scans", "id, host_key, scanned_at, outcome, findings, compared_with, evidence, report, log_index"),
        ("baselines", "id, host_key, created_at, scan_id, reason, reference, superseded_by, log_index"),
        ("verdicts", "id, host_key, decided_at, verdict, findings, statement, log_index, envelope"),
        ("tlog_leaves", "idx, data"),
        ("tlog_hashes", "idx, hash"),
        ("tlog_checkpoints", "size, note"),
        ("tlog_meta", "name, value"),
    ] {
        let mut st = c
            .prepare(&format!("SELECT {cols} FROM {table} ORDER BY 1"))
            .ok()?;
        let n = st.column_count();
        let mut rows = st.query([]).ok()?;
        while let Some(r) = rows.next().ok()? {
            let mut line = table.to_owned();
            for i in 0..n {
                use rusqlite::types::ValueRef;
                match r.get_ref(i).ok()? {
                    ValueRef::Text(t) => {
                        line.push_str(&format!(" {:?}", String::from_utf8_lossy(t)))
                    }
                    ValueRef::Blob(b) if table == "verdicts" && i + 1 == n => {
                        let v: serde_json::Value = match serde_json::from_slice(b) {
                            Ok(v) => v,
                            Err(_) => serde_json::Value::String(hex::encode(b)),
                        };
                        line.push_str(&format!(
                            " envelope {} {}",
                            v["payloadType"], v["payload"]
                        ));
                    }
                    ValueRef::Blob(b) => line.push_str(&format!(" x'{}'", hex::encode(b))),
                    v => line.push_str(&format!(" {v:?}")),
                }
            }
            out.push(line);
        }
    }
    Some(out)
}

/// Random single-byte flips of the database file (a fixed sequence): a flip either leaves
/// every stored value as it was, or makes the file unreadable (exit 2), or is caught (exit 1).
/// None may change a value and pass: before rows were bound, 187 of 250 did.
#[test]
fn random_byte_flips_never_change_a_value_unnoticed() {
    let m = Machine::golden();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let store = populated(&m, w);
    let db = store.join("store.sqlite");
    // One file, no WAL beside it: what a copy of the store holds.
    let c = Connection::open(&db).unwrap();
    c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(c);
    let bytes = std::fs::read(&db).unwrap();
    let before = content(&db).unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut unchanged, mut unreadable, mut caught) = (0, 0, 0);
    const FLIPS: usize = 250;
    for i in 0..FLIPS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = (x % bytes.len() as u64) as usize;
        let bit = 1u8 << ((x >> 32) % 8);
        let dir = w.join(format!("flip{i}"));
        copy_store(&store, &dir);
        let mut b = bytes.clone();
        b[at] ^= bit;
        std::fs::write(dir.join("store.sqlite"), &b).unwrap();
        let after = content(&dir.join("store.sqlite"));
        let o = run(&["log", "audit", "--store", s(&dir)]);
        match (after.as_ref() == Some(&before), code(&o)) {
            (true, _) => unchanged += 1,
            (false, 2) => unreadable += 1,
            (false, 1) => caught += 1,
            (false, c) => {
                let after = after.unwrap_or_default();
                let changed: Vec<String> = after
                    .iter()
                    .filter(|l| !before.contains(l))
                    .map(|l| {
                        let old = before
                            .iter()
                            .find(|b| b.split(' ').take(2).eq(l.split(' ').take(2)))
                            .cloned()
                            .unwrap_or_default();
                        let at = l
                            .chars()
                            .zip(old.chars())
                            .position(|(a, b)| a != b)
                            .unwrap_or(0);
                        format!(
                            "{}: …{}… was …{}…",
                            l.chars().take(20).collect::<String>(),
                            l.chars()
                                .skip(at.saturating_sub(60))
                                .take(120)
                                .collect::<String>(),
                            old.chars()
                                .skip(at.saturating_sub(60))
                                .take(120)
                                .collect::<String>()
                        )
                    })
                    .collect();
                panic!(
                    "flip of bit {bit:#x} at byte {at} changed stored values ({changed:?}) and log audit exited {c}:\n{}",
                    stdout(&o)
                )
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!(
        "{FLIPS} flips: {unchanged} changed no value, {unreadable} unreadable, {caught} caught"
    );
    assert!(
        caught > 20,
        "{caught} caught: the flips must reach stored values"
    );
}
