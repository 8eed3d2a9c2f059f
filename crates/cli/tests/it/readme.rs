//! The README's examples, run as written: every `sh` block under "The flow", in order, in one
//! folder, each command with `boardproof` being the binary under test, on this host. Every
//! command must exit 0 (the flow is a clean one: the same host, minutes apart). The main-job
//! command of "Two commands" (`cargo run --release -- scan`) is run by scripts/test.sh.

use std::path::Path;
use std::process::Command;

use crate::util::workspace;

/// The commands of every `sh` block of `section` (up to the next `## `), with continuation
/// lines joined and comments kept (bash drops them).
fn commands(readme: &str, section: &str) -> Vec<String> {
    let start = readme
        .find(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("README has no section {section:?}"));
    let body = &readme[start + 1..];
    let end = body[3..].find("\n## ").map_or(body.len(), |e| e + 3);
    let body = &body[..end];
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in body.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        let line = line.trim_end();
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let cmd = std::mem::take(&mut pending);
        if !cmd.trim().is_empty() && !cmd.trim_start().starts_with('#') {
            out.push(cmd);
        }
    }
    out
}

/// The policy the README's `policy sign` reads: the vendor allows `cm.pub` for any product
/// of this host's manufacturer pattern `*` (the format of docs/chain-of-custody.md).
const POLICY: &str = r#"{
  "vendor": "README Vendor",
  "valid_until": "2099-12-31T00:00:00Z",
  "require_vendor_cosign": false,
  "manufacturers": [
    {"name": "README CM", "keys": ["cm.pub"], "products": [{"manufacturer": "*"}],
     "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2099-12-31T00:00:00Z"}
  ]
}
"#;

#[test]
fn every_example_in_the_readme_runs_as_written() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let cmds = commands(&readme, "The flow");
    // The flow and the chain of custody: an empty list would prove nothing.
    assert!(cmds.len() >= 17, "{} commands found: {cmds:?}", cmds.len());
    assert!(cmds.iter().any(|c| c.contains("bundle verify")), "{cmds:?}");

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_boardproof"), bin.join("boardproof")).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("policy.json"), POLICY).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for cmd in &cmds {
        let expected = expected_exit(cmd, &work);
        let o = Command::new("bash")
            .args(["-euo", "pipefail", "-c", cmd])
            .current_dir(&work)
            .env("PATH", &path)
            .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(expected),
            "README: `{cmd}`\nstdout:\n{out}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        if expected == 1 && cmd.contains("bundle verify") {
            assert!(
                out.contains("every part checks with the given public keys"),
                "{out}"
            );
            assert!(out.contains("FINDINGS (1 findings)"), "{out}");
        } else if expected == 1 {
            // The one finding a host without SMBIOS gives under a policy, and nothing else.
            assert!(out.contains("FINDINGS: 1 "), "{out}");
            assert!(out.contains("signer-not-authorized"), "{out}");
            assert!(out.contains("holds no SMBIOS identity"), "{out}");
        }
    }
    // The flow did what it says: a bundle that verifies, a history with the scans.
    for f in [
        "golden.json",
        "now.json",
        "board.bundle",
        "board.verdict",
        "manifest.proof",
    ] {
        assert!(Path::new(&work.join(f)).is_file(), "{f} was not written");
    }
}

/// 0 for every command, but two: on a host whose firmware gives no SMBIOS table (a container,
/// some VMs) a manifest names no product, so no policy can allow its signer: `verify` under
/// the policy rightly finds `signer-not-authorized` (exit 1), and `bundle verify` of that
/// verdict says it carries findings (exit 1).
fn expected_exit(cmd: &str, work: &Path) -> i32 {
    let under_policy = cmd.contains("verify now.json") && cmd.contains("--policy");
    if !under_policy && !cmd.contains("bundle verify") {
        return 0;
    }
    let golden: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("golden.json")).unwrap()).unwrap();
    let smbios_ok = golden["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "smbios" && s["status"] == "ok");
    if smbios_ok {
        0
    } else {
        1
    }
}

#[test]
fn the_extractor_joins_continuations_and_skips_comments() {
    let text = "intro\n## The flow\n\n```sh\n# a comment\na \\\n    b\nc # kept\n```\n\
                ```json\n{}\n```\n## Next\n```sh\nnot this\n```\n";
    assert_eq!(commands(text, "The flow"), ["a     b", "c # kept"]);
}
