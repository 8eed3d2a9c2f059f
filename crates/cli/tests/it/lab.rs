//! The lab's process handling, on real QEMU and swtpm: a boot that runs out of time and a run
//! interrupted with SIGINT both stop every child process and leave no temporary folder.
//! (The detections themselves are checked by `boardproof lab matrix`, which scripts/test.sh
//! runs after the tests.)

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{bp, code, require_tool, stderr};

/// Processes whose command line mentions `dir`.
fn processes_under(dir: &Path) -> Vec<String> {
    let out = Command::new("pgrep")
        .arg("-a")
        .arg("-f")
        .arg(dir.to_str().unwrap())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Nothing of the run is left: no process mentions its TMPDIR, and TMPDIR is empty.
fn assert_cleaned_up(tmp: &Path) {
    assert!(
        processes_under(tmp).is_empty(),
        "{:?}",
        processes_under(tmp)
    );
    assert!(leftovers(tmp).is_empty(), "{:?}", leftovers(tmp));
}

fn lab_tools_present() -> bool {
    [
        "qemu-system-x86_64",
        "swtpm",
        "swtpm_setup",
        "mke2fs",
        "pgrep",
    ]
    .iter()
    .all(|t| require_tool(t))
}

#[test]
fn a_boot_out_of_time_is_stopped_and_cleaned_up() {
    if !lab_tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = bp()
        .args(["lab", "run", "golden", "--timeout", "4"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("did not finish within 4 s"),
        "{}",
        stderr(&out)
    );
    assert_cleaned_up(tmp.path());
}

#[test]
fn sigint_stops_qemu_and_swtpm_and_removes_the_folders() {
    if !lab_tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut child = bp()
        .args(["lab", "run", "golden"])
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until QEMU runs (the first boot of a fresh cache also fetches the kernel).
    let t = Instant::now();
    while !processes_under(tmp.path())
        .iter()
        .any(|p| p.contains("qemu-system"))
    {
        assert!(t.elapsed() < Duration::from_secs(300), "QEMU never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "boardproof ended before QEMU started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let running = processes_under(tmp.path());
    assert!(running.iter().any(|p| p.contains("swtpm")), "{running:?}");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_cleaned_up(tmp.path());
}
