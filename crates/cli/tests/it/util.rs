//! Shared helpers: the binary, ../shared/testdata, and reference tools that must exist in CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// ../shared/testdata beside the workspace.
pub fn testdata() -> PathBuf {
    workspace().join("../shared/testdata")
}

/// Every file under testdata/`kind` whose name ends with `suffix`, sorted.
pub fn testdata_files(kind: &str, suffix: &str) -> Vec<PathBuf> {
    let dir = testdata().join(kind);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (is ../shared beside the workspace?)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no {suffix} files in {}", dir.display());
    v
}

pub use boardproof_testkit::{require_path, require_python_module, require_tool};

/// The boardproof binary. Its default store (`manifest create`, `verify --record` log there)
/// is under the build's temporary folder, never the user's own; tests that care pass --store.
pub fn bp() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_boardproof"));
    c.env(
        "XDG_DATA_HOME",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-data"),
    );
    c
}

/// Runs boardproof with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    bp().args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run boardproof")
}

/// Exit code of an output (-1 when killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Whether the binary under test has the test failpoints (built with `--features failpoints`,
/// as scripts/test.sh does; release builds never have them). Without them a crash test
/// cannot pause the process where it must: skip outside CI, fail under CI.
pub fn require_failpoints() -> bool {
    if cfg!(feature = "failpoints") {
        return true;
    }
    boardproof_testkit::skip(
        "boardproof was built without the failpoints feature (scripts/test.sh runs \
         cargo test --features boardproof/failpoints)",
    );
    false
}

/// Runs boardproof with `args` and the store's `store-before-commit` failpoint, waits until
/// the write is paused inside its transaction, kills it there and asserts it did not succeed.
pub fn kill_at_store_failpoint(args: &[&str]) {
    kill_at_failpoint(args, "store-before-commit");
}

/// Runs boardproof with `args` and failpoint `name` (boardproof_ledger::store::FAILPOINT_ENV),
/// waits until the process says it is paused there, kills it (SIGKILL) and asserts it did not
/// succeed. A watchdog bounds the wait: a child that hangs before the failpoint, or ends
/// without reaching it, fails the test within 60 s instead of hanging it.
pub fn kill_at_failpoint(args: &[&str], name: &str) {
    use std::io::Read;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    let mut child = bp()
        .args(args)
        .env(boardproof_ledger::store::FAILPOINT_ENV, name)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    // The reader thread blocks on the pipe; the test waits on the channel with a deadline.
    let (tx, rx) = mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        loop {
            match err.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    if tx
                        .send(Some(String::from_utf8_lossy(&buf[..n]).into_owned()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    let marker = format!("failpoint {name} reached");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    while !seen.contains(&marker) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Some(text)) => seen.push_str(&text),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("child ended before failpoint {name}: {seen}");
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("failpoint {name} not reached within 60 s: {seen}");
            }
        }
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
}

/// Runs boardproof with `args` and asserts exit 0, showing its output when not.
pub fn ok_run(args: &[&str]) -> Output {
    let o = run(args);
    assert_eq!(code(&o), 0, "{args:?}: {}{}", stdout(&o), stderr(&o));
    o
}
