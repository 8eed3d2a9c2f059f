//! kill -9 at every point where a command pairs an output file with a store or log entry:
//! after the file is written and before its entry (`output-written`), and inside the store's
//! transaction (`store-before-commit`). Afterwards the file, if there, is whole and opens;
//! the log holds exactly what it held before and audits sound; and the command can be run
//! again (with `--force` for the file it left) or the file appended by hand, after which
//! file, store and log agree.

use std::path::Path;

use serde_json::Value;

use crate::util::{code, kill_at_failpoint, run, stderr, workspace};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> Value {
    let o = run(args);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
}

fn log_state(store: &Path) -> (Value, Value) {
    let show = ok(&["log", "show", "--store", s(store), "--json"]);
    let audit = ok(&["log", "audit", "--store", s(store), "--json"]);
    assert_eq!(audit["sound"], true, "{audit}");
    (show["size"].clone(), show["root"].clone())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The log's entries' digests.
fn logged(store: &Path) -> Vec<String> {
    let show = ok(&[
        "log",
        "show",
        "--store",
        s(store),
        "--last",
        "1000",
        "--json",
    ]);
    show["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sha256"].as_str().unwrap().to_owned())
        .collect()
}

struct Setup {
    _dir: tempfile::TempDir,
    work: std::path::PathBuf,
    store: std::path::PathBuf,
    key: String,
    public: String,
    evidence: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().to_path_buf();
    let store = work.join("store");
    let prefix = work.join("factory");
    ok(&["keygen", "--out", s(&prefix)]);
    let evidence = workspace().join("testdata/lab/golden/evidence.json");
    // One entry before the crash, so "unchanged" is a non-empty log.
    let first = work.join("first.manifest");
    let key = format!("{}.key", prefix.display());
    ok(&[
        "manifest",
        "create",
        s(&evidence),
        "--key",
        &key,
        "--out",
        s(&first),
        "--store",
        s(&store),
    ]);
    Setup {
        _dir: dir,
        work,
        store,
        key,
        public: format!("{}.pub", prefix.display()),
        evidence: s(&evidence).to_owned(),
    }
}

/// A signed file's log entry digest: its DSSE payload's (transparency-log.md).
fn entry_of(path: &Path) -> String {
    use base64::Engine;
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(v["payload"].as_str().unwrap())
        .unwrap();
    sha256_hex(&payload)
}

/// `manifest create` and `policy sign`: each writes its signed file, then logs it.
#[test]
fn signed_files_killed_between_file_and_log_entry() {
    if !crate::util::require_failpoints() {
        return;
    }
    for command in ["manifest", "policy"] {
        for point in ["output-written", "store-before-commit"] {
            let t = setup();
            let what = format!("{command} at {point}");
            let before = log_state(&t.store);
            let out = t.work.join(format!("server.{command}"));
            let policy_input = t.work.join("policy.json");
            std::fs::write(
                &policy_input,
                serde_json::to_vec(&serde_json::json!({
                    "vendor": "V", "valid_until": "2099-01-01T00:00:00Z",
                    "manufacturers": [{"name": "A", "keys": ["factory.pub"], "products": [{"product": "X"}]}]
                }))
                .unwrap(),
            )
            .unwrap();
            let mut args: Vec<&str> = match command {
                "manifest" => vec!["manifest", "create", &t.evidence],
                _ => vec!["policy", "sign", s(&policy_input)],
            };
            args.extend(["--key", &t.key, "--out", s(&out), "--store", s(&t.store)]);
            kill_at_failpoint(&args, point);
            // The file is whole (written atomically) and opens; the log is as it was.
            let opened = match command {
                "manifest" => run(&[
                    "verify",
                    &t.evidence,
                    "--manifest",
                    s(&out),
                    "--pubkey",
                    &t.public,
                ]),
                _ => run(&["policy", "show", s(&out), "--vendor-key", &t.public]),
            };
            assert_eq!(code(&opened), 0, "{what}: {}", stderr(&opened));
            assert_eq!(log_state(&t.store), before, "{what}: the log changed");
            assert!(!logged(&t.store).contains(&entry_of(&out)), "{what}");
            // Running it again does not overwrite the file silently...
            let again = run(&args);
            assert_eq!(code(&again), 2, "{what}");
            assert!(
                stderr(&again).contains(&format!("server.{command}")),
                "{}",
                stderr(&again)
            );
            assert_eq!(
                log_state(&t.store),
                before,
                "{what}: a refused run changed the log"
            );
            // ...the file left behind can be logged by hand, and then file and log agree...
            ok(&["log", "append", s(&out), "--store", s(&t.store)]);
            assert!(logged(&t.store).contains(&entry_of(&out)), "{what}");
            ok(&["log", "prove", s(&out), "--store", s(&t.store)]);
            // ...or the command run again with --force makes and logs a new one.
            let mut forced = args.clone();
            forced.push("--force");
            ok(&forced);
            assert!(logged(&t.store).contains(&entry_of(&out)), "{what}");
            let (size, _) = log_state(&t.store);
            assert_eq!(size, before.0.as_u64().unwrap() + 2, "{what}");
        }
    }
}

#[test]
fn verify_record_killed_between_verdict_file_and_store_entry() {
    if !crate::util::require_failpoints() {
        return;
    }
    for point in ["output-written", "store-before-commit"] {
        let t = setup();
        let manifest = t.work.join("first.manifest");
        let before = log_state(&t.store);
        let verdict = t.work.join("server.verdict");
        let args = [
            "verify",
            t.evidence.as_str(),
            "--manifest",
            s(&manifest),
            "--pubkey",
            &t.public,
            "--record",
            "--store",
            s(&t.store),
            "--sign-key",
            &t.key,
            "--verdict-out",
            s(&verdict),
        ];
        kill_at_failpoint(&args, point);
        // The verdict file is a whole signed envelope; nothing of it reached store or log.
        let env: Value = serde_json::from_slice(&std::fs::read(&verdict).unwrap())
            .unwrap_or_else(|e| panic!("{point}: the verdict file is not whole: {e}"));
        assert!(env["signatures"].as_array().is_some_and(|a| !a.is_empty()));
        assert_eq!(log_state(&t.store), before, "{point}: the log changed");
        // Run again with --force: recorded once, and the log grows by exactly that verdict.
        let mut forced = args.to_vec();
        forced.push("--force");
        let o = run(&forced);
        assert_eq!(code(&o), 0, "{point}: {}", stderr(&o));
        let (size, _) = log_state(&t.store);
        assert_eq!(size, before.0.as_u64().unwrap() + 1, "{point}");
        let logged = logged(&t.store);
        let v: Value = serde_json::from_slice(&std::fs::read(&verdict).unwrap()).unwrap();
        use base64::Engine;
        let payload = base64::engine::general_purpose::STANDARD
            .decode(v["payload"].as_str().unwrap())
            .unwrap();
        assert_eq!(logged.last().unwrap(), &sha256_hex(&payload), "{point}");
    }
}
