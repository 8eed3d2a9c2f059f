//! One rule, for every test in the workspace, about what a test does when something it
//! compares against is missing: a reference tool, a Debian package's file, a Python module,
//! ../shared/testdata.
//!
//! Outside CI the test says why it skips (`SKIP: …` on stderr and one line in the skip log)
//! and returns early; under CI (`CI=true` or `CI=1`) it fails, since a check that silently did
//! not run is a check that cannot fail. `scripts/test.sh` points `BOARDPROOF_SKIP_LOG` at a
//! file, lists what was skipped at the end, and fails under CI if the file is not empty (a
//! second net for a skip that bypassed the panic).
//!
//! The helpers also refuse an empty input set: a sweep over zero files proves nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable naming the file skip notices are appended to.
pub const SKIP_LOG_ENV: &str = "BOARDPROOF_SKIP_LOG";

/// True under CI, where a missing tool or file fails the test instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips the calling test for `why`, or (under CI) fails it. Returns normally only outside
/// CI; the caller then returns.
///
/// # Panics
/// Under CI, always.
pub fn skip(why: &str) {
    if in_ci() {
        panic!("{why}: under CI this fails instead of skipping (.ci/run must install it)");
    }
    let line = format!("SKIP: {why}");
    eprintln!("{line}");
    if let Some(log) = std::env::var_os(SKIP_LOG_ENV) {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// Whether `tool` is on PATH. When it is not: skip outside CI (false), fail under CI.
pub fn require_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        skip(&format!(
            "reference tool {tool} is not installed (scripts/install-test-deps.sh installs it)"
        ));
    }
    found
}

/// `path` when it exists. When it does not: skip outside CI (None), fail under CI. `from`
/// says what provides it (`Debian package ovmf`).
pub fn require_path(path: impl AsRef<Path>, from: &str) -> Option<PathBuf> {
    let p = path.as_ref();
    if p.exists() {
        return Some(p.to_path_buf());
    }
    skip(&format!("{} is missing ({from})", p.display()));
    None
}

/// Whether `python3` can import `module`. When it cannot: skip outside CI, fail under CI.
pub fn require_python_module(module: &str) -> bool {
    let ok = Command::new("python3")
        .arg("-c")
        .arg(format!("import {module}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(&format!(
            "python3 module {module} is not installed (scripts/install-test-deps.sh installs it)"
        ));
    }
    ok
}

/// Fails unless `items` holds something: a test whose input set is empty checks nothing.
///
/// # Panics
/// When `items` is empty, naming `what`.
pub fn nonempty<T>(items: Vec<T>, what: &str) -> Vec<T> {
    assert!(
        !items.is_empty(),
        "no {what}: a test over nothing proves nothing"
    );
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_values() {
        // Read-only: the variable as this run has it decides, and both spellings count.
        let v = std::env::var("CI").ok();
        assert_eq!(in_ci(), matches!(v.as_deref(), Some("true") | Some("1")));
    }

    #[test]
    #[should_panic(expected = "no inputs")]
    fn an_empty_set_fails() {
        let _ = nonempty(Vec::<u8>::new(), "inputs");
    }

    #[test]
    fn present_things_are_found() {
        assert!(require_tool("sh"));
        assert_eq!(require_path("/", "the root"), Some(PathBuf::from("/")));
    }
}
