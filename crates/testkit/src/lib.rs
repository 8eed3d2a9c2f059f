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

/// The `openssl dgst` option for an X.509 signature algorithm (dotted OID): RSA PKCS#1 v1.5
/// with SHA-1/256/384/512 and ECDSA with SHA-256/384; None for another.
pub fn openssl_digest_option(alg: &str) -> Option<&'static str> {
    Some(match alg {
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => "-sha1",
        "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => "-sha256",
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => "-sha384",
        "1.2.840.113549.1.1.13" => "-sha512",
        _ => return None,
    })
}

/// OpenSSL's verdict on `signature` over `data` by the PEM public key in `pubkey`
/// (`openssl dgst DIGEST -verify`, the signature alone): true for "Verified OK", false for
/// "Verification failure" (exit 1).
///
/// # Panics
/// On any other outcome (a key OpenSSL could not load, a signature it could not even
/// check): a failed reference run is a failed test, never agreement.
pub fn openssl_signature_verdict(
    digest: &str,
    pubkey: &Path,
    signature: &Path,
    data: &Path,
) -> bool {
    let o = Command::new("openssl")
        .args(["dgst", digest, "-verify"])
        .arg(pubkey)
        .arg("-signature")
        .arg(signature)
        .arg(data)
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    let out = String::from_utf8_lossy(&o.stdout);
    if o.status.success() && out.contains("Verified OK") {
        return true;
    }
    assert!(
        o.status.code() == Some(1) && out.contains("Verification failure"),
        "openssl dgst -verify with {} gave no verdict: {out}{}",
        pubkey.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    false
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
