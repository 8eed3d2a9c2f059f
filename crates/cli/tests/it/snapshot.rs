//! scripts/snapshot-host.sh: a snapshot of this host collects to the same inventory as the host.

use crate::util::{code, run, stderr, workspace};

#[test]
fn snapshot_of_this_host_collects_like_the_host() {
    let work = tempfile::tempdir().unwrap();
    let snap = work.path().join("snap");
    let o = std::process::Command::new("bash")
        .arg(workspace().join("scripts/snapshot-host.sh"))
        .arg(&snap)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let collect = |root: Option<&std::path::Path>, out: &std::path::Path| {
        let mut args = vec!["collect", "--out", out.to_str().unwrap()];
        if let Some(r) = root {
            args.extend(["--root", r.to_str().unwrap()]);
        }
        let o = run(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(out).unwrap()).unwrap()
    };
    let host = collect(None, &work.path().join("host.json"));
    let copy = collect(Some(&snap), &work.path().join("snap.json"));
    for key in ["components", "acpi_tables", "smbios"] {
        assert_eq!(
            host[key], copy[key],
            "{key} differs between host and snapshot"
        );
    }
    let status = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["name"].to_string(), s["status"].to_string()))
            .collect()
    };
    assert_eq!(status(&host), status(&copy));
    // A snapshot never lands on top of something else.
    let again = std::process::Command::new("bash")
        .arg(workspace().join("scripts/snapshot-host.sh"))
        .arg(&snap)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}
