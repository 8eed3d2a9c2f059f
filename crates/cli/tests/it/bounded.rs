//! Bounded reads: every file argument of every command, given `/dev/zero`, a FIFO nobody
//! writes, a directory or a 200 MB file, exits 2 at once with one line naming that file, and
//! the process's peak memory stays within the cap of the argument's kind plus a small constant.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use boardproof_input::Kind;

use crate::util::{bp, code, ok_run, require_tool, stderr, testdata};

/// Extra memory a refused read may take beyond its cap: the binary itself, its allocator and
/// one read buffer.
const SLACK_KIB: u64 = 48 * 1024;

struct Setup {
    _dir: tempfile::TempDir,
    w: PathBuf,
}

impl Setup {
    fn p(&self, name: &str) -> String {
        self.w.join(name).to_str().unwrap().to_owned()
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().to_owned();
    let s = Setup { _dir: dir, w };
    // The lab's golden evidence: a real boot's collect, with a SHA-1 bank as well.
    let golden = crate::util::workspace().join("testdata/lab/golden/evidence.json");
    std::fs::copy(golden, s.w.join("e.json")).unwrap();
    for made in [
        "keygen --out $k",
        "log init --store $store --origin bounded.test/log",
        "manifest create $e.json --key $k.key --out $m.manifest --store $store",
        "corim export $e.json --key $k.key --out $c.corim --pcrs 0",
    ] {
        let args = argv(&s, made, "");
        ok_run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    std::fs::create_dir(s.w.join("root")).unwrap();
    // The hostile inputs.
    std::fs::create_dir(s.w.join("adir")).unwrap();
    let st = std::process::Command::new("mkfifo")
        .arg(s.w.join("fifo"))
        .status()
        .unwrap();
    assert!(st.success(), "mkfifo");
    let big = std::fs::File::create(s.w.join("big")).unwrap();
    big.set_len(200 * 1024 * 1024).unwrap();
    s
}

/// Every file argument: the command line with `X` where the hostile file goes, the other
/// arguments as `$name` of a setup file, and the kind the hostile file is read as.
const CASES: &[(&str, Kind)] = &[
    ("show X", Kind::Evidence),
    ("smbios decode X", Kind::Smbios),
    ("manifest create X --key $k.key --out $out", Kind::Evidence),
    ("manifest create $e.json --key X --out $out", Kind::Key),
    ("manifest cosign $m.manifest --key X --out $out", Kind::Key),
    ("manifest show X --pubkey $k.pub", Kind::Evidence),
    ("manifest show $m.manifest --pubkey X", Kind::Key),
    ("corim show X", Kind::Corim),
    ("corim show $c.corim --key X", Kind::Key),
    ("corim export X --key $k.key --out $out", Kind::Evidence),
    ("corim export $e.json --key X --out $out", Kind::Key),
    (
        "corim verify X --corim $c.corim --key $k.pub",
        Kind::Evidence,
    ),
    ("corim verify $e.json --corim X --key $k.pub", Kind::Corim),
    ("corim verify $e.json --corim $c.corim --key X", Kind::Key),
    ("platform-cert show X", Kind::Certificate),
    ("platform-cert verify $cert --ca X", Kind::Certificate),
    ("platform-cert verify X --ca $cert", Kind::Certificate),
    ("platform-cert components X", Kind::Evidence),
    (
        "platform-cert components --manifest $m.manifest --pubkey X",
        Kind::Key,
    ),
    ("policy sign X --key $k.key --out $out", Kind::Document),
    ("policy show X", Kind::Evidence),
    (
        "verify X --manifest $m.manifest --pubkey $k.pub",
        Kind::Evidence,
    ),
    (
        "verify $e.json --manifest X --pubkey $k.pub",
        Kind::Evidence,
    ),
    (
        "verify $e.json --manifest $m.manifest --pubkey X",
        Kind::Key,
    ),
    (
        "verify $e.json --manifest $m.manifest --policy $m.manifest --vendor-key X",
        Kind::Key,
    ),
    (
        "verify $e.json --manifest $m.manifest --pubkey $k.pub --challenge-secret X",
        Kind::Document,
    ),
    (
        "verify $e.json --manifest $m.manifest --pubkey $k.pub --ek-ca X",
        Kind::Certificate,
    ),
    (
        "verify $e.json --manifest $m.manifest --pubkey $k.pub --ima-allowlist X",
        Kind::MeasurementList,
    ),
    (
        "verify $e.json --manifest $m.manifest --pubkey $k.pub --sign-key X --verdict-out $out",
        Kind::Key,
    ),
    (
        "scan --root $root --store $store --manifest X --pubkey $k.pub",
        Kind::Evidence,
    ),
    (
        "scan --root $root --store $store --manifest $m.manifest --pubkey X",
        Kind::Key,
    ),
    (
        "scan --root $root --store $store --firmware X",
        Kind::Firmware,
    ),
    ("collect --root $root --firmware X", Kind::Firmware),
    ("collect --root $root --challenge X", Kind::Document),
    ("eventlog show X", Kind::EventLog),
    ("eventlog replay X", Kind::EventLog),
    (
        "attest challenge X --out $out --secret-out $secret",
        Kind::Document,
    ),
    ("firmware inspect X", Kind::Firmware),
    ("firmware diff X X", Kind::Firmware),
    (
        "bundle create --evidence X --manifest $m.manifest --verdict $m.manifest --out $out",
        Kind::Evidence,
    ),
    (
        "bundle verify X --verdict-key $k.pub --log-key x+00000000+AQ==",
        Kind::Bundle,
    ),
    ("log append X --store $store", Kind::Evidence),
    ("log prove X --store $store", Kind::Evidence),
    ("log verify-proof $m.manifest --verifier X", Kind::Proof),
    ("log consistency X --store $store", Kind::Proof),
    ("log audit --store $store --checkpoint X", Kind::Proof),
    (
        "log init --store $store2 --origin o.test/log --key X",
        Kind::Key,
    ),
];

/// A case's command line: `X` replaced by the hostile file, `$cert` by a real platform
/// certificate, any other `$name` by that file in the setup folder.
fn argv(s: &Setup, template: &str, hostile: &str) -> Vec<String> {
    let cert = testdata().join("platform-cert/goattest-Intel_nuc1.cer");
    template
        .split_whitespace()
        .map(|a| match a {
            "X" => hostile.to_owned(),
            "$cert" => cert.to_str().unwrap().to_owned(),
            _ => match a.strip_prefix('$') {
                Some(name) => s.p(name),
                None => a.to_owned(),
            },
        })
        .collect()
}

/// Runs boardproof under GNU time; returns exit code, stderr and peak RSS in KiB. A run that
/// takes longer than 20 s is killed and fails the test (a FIFO that blocks, an endless read).
fn measured(args: &[String], dir: &Path) -> (i32, String, u64) {
    let rss_file = dir.join("rss");
    let mut child = std::process::Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(bp().get_program())
        .args(args)
        .envs(bp().get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: still running after 20 s (a read that does not end)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let o = child.wait_with_output().unwrap();
    let rss = std::fs::read_to_string(&rss_file).unwrap();
    // GNU time writes "Command exited with non-zero status N" before the figure.
    let kib: u64 = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("GNU time wrote {rss:?}"));
    (code(&o), stderr(&o), kib)
}

#[test]
fn every_file_argument_is_read_within_its_cap() {
    if !require_tool("/usr/bin/time") {
        return;
    }
    let s = setup();
    let hostile = ["/dev/zero".to_owned(), s.p("fifo"), s.p("adir"), s.p("big")];
    let mut checked = 0;
    for (template, kind) in CASES {
        for h in &hostile {
            let argv = argv(&s, template, h);
            let (rc, err, kib) = measured(&argv, &s.w);
            let lines: Vec<&str> = err.lines().collect();
            assert_eq!(rc, 2, "{argv:?}: exit {rc}: {err}");
            assert_eq!(lines.len(), 1, "{argv:?}: one line expected: {err}");
            assert!(
                lines[0].starts_with("boardproof: error: ") && lines[0].contains(h.as_str()),
                "{argv:?}: the error must name {h}: {err}"
            );
            let limit = kind.cap() / 1024 + SLACK_KIB;
            assert!(
                kib <= limit,
                "{argv:?}: peak {kib} KiB, more than the {kind:?} cap plus {SLACK_KIB} KiB"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, CASES.len() * hostile.len());
}

/// Evidence near its cap signs into a manifest a third larger (the payload is base64): more
/// than boardproof reads back as a signed document. It must be refused before anything is
/// written or logged, not written as a reference nobody can verify against.
#[test]
fn a_manifest_too_large_to_read_back_is_not_written() {
    let s = setup();
    let golden = crate::util::workspace().join("testdata/lab/golden/evidence.json");
    let mut ev: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden).unwrap()).unwrap();
    let first = ev["components"][0].clone();
    let comps = ev["components"].as_array_mut().unwrap();
    // About 52 MiB of evidence: under the evidence cap, a manifest over it.
    for n in 0..160_000u32 {
        let mut c = first.clone();
        c["location"] = format!("pci0000:{:02x}/{:04x}.0", n >> 16, n & 0xffff).into();
        c["identity"]["subsystem_device"] = format!("{n:08x}").into();
        comps.push(c);
    }
    let big = s.w.join("big.json");
    std::fs::write(&big, serde_json::to_vec(&ev).unwrap()).unwrap();
    let len = std::fs::metadata(&big).unwrap().len();
    assert!(
        len < Kind::Evidence.cap() && len * 4 / 3 > Kind::Evidence.cap(),
        "{len} bytes"
    );
    let size = |s: &Setup| {
        let o = ok_run(&["log", "show", "--store", &s.p("store"), "--json"]);
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["size"].clone()
    };
    let before = size(&s);
    let args = argv(
        &s,
        "manifest create $big.json --key $k.key --out $big.manifest --store $store",
        "",
    );
    let o = bp().args(&args).output().unwrap();
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("big.manifest") && err.contains("not written"),
        "{err}"
    );
    assert!(!s.w.join("big.manifest").exists());
    assert_eq!(size(&s), before, "nothing logged");
    // The same evidence is still accepted where it is read as evidence.
    let o = bp().args(["show", big.to_str().unwrap()]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}
