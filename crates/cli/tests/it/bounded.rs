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
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let evidence = testdata_evidence();
    std::fs::copy(&evidence, w.join("e.json")).unwrap();
    ok_run(&["keygen", "--out", &s(&w.join("k"))]);
    ok_run(&[
        "log",
        "init",
        "--store",
        &s(&w.join("store")),
        "--origin",
        "bounded.test/log",
    ]);
    ok_run(&[
        "manifest",
        "create",
        &s(&w.join("e.json")),
        "--key",
        &s(&w.join("k.key")),
        "--out",
        &s(&w.join("m.manifest")),
        "--store",
        &s(&w.join("store")),
    ]);
    ok_run(&[
        "corim",
        "export",
        &s(&w.join("e.json")),
        "--key",
        &s(&w.join("k.key")),
        "--out",
        &s(&w.join("c.corim")),
        "--pcrs",
        "0",
    ]);
    std::fs::create_dir(w.join("root")).unwrap();
    // The hostile inputs.
    std::fs::create_dir(w.join("adir")).unwrap();
    let st = std::process::Command::new("mkfifo")
        .arg(w.join("fifo"))
        .status()
        .unwrap();
    assert!(st.success(), "mkfifo");
    let big = std::fs::File::create(w.join("big")).unwrap();
    big.set_len(200 * 1024 * 1024).unwrap();
    Setup { _dir: dir, w }
}

/// The lab's golden evidence: a real boot's collect, with a SHA-1 bank as well.
fn testdata_evidence() -> PathBuf {
    crate::util::workspace().join("testdata/lab/golden/evidence.json")
}

/// Every file argument: the command line with `X` where the hostile file goes, and the kind
/// it is read as.
fn cases(s: &Setup) -> Vec<(Vec<String>, Kind)> {
    let cert = testdata()
        .join("platform-cert/goattest-Intel_nuc1.cer")
        .to_str()
        .unwrap()
        .to_owned();
    let (e, k, p, m, c, st, root) = (
        s.p("e.json"),
        s.p("k.key"),
        s.p("k.pub"),
        s.p("m.manifest"),
        s.p("c.corim"),
        s.p("store"),
        s.p("root"),
    );
    let out = s.p("out");
    let v = |a: &[&str]| a.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    vec![
        (v(&["show", "X"]), Kind::Evidence),
        (v(&["smbios", "decode", "X"]), Kind::Smbios),
        (
            v(&["manifest", "create", "X", "--key", &k, "--out", &out]),
            Kind::Evidence,
        ),
        (
            v(&["manifest", "create", &e, "--key", "X", "--out", &out]),
            Kind::Key,
        ),
        (
            v(&["manifest", "cosign", &m, "--key", "X", "--out", &out]),
            Kind::Key,
        ),
        (
            v(&["manifest", "show", "X", "--pubkey", &p]),
            Kind::Evidence,
        ),
        (v(&["manifest", "show", &m, "--pubkey", "X"]), Kind::Key),
        (v(&["corim", "show", "X"]), Kind::Corim),
        (v(&["corim", "show", &c, "--key", "X"]), Kind::Key),
        (
            v(&["corim", "export", "X", "--key", &k, "--out", &out]),
            Kind::Evidence,
        ),
        (
            v(&["corim", "export", &e, "--key", "X", "--out", &out]),
            Kind::Key,
        ),
        (
            v(&["corim", "verify", "X", "--corim", &c, "--key", &p]),
            Kind::Evidence,
        ),
        (
            v(&["corim", "verify", &e, "--corim", "X", "--key", &p]),
            Kind::Corim,
        ),
        (
            v(&["corim", "verify", &e, "--corim", &c, "--key", "X"]),
            Kind::Key,
        ),
        (v(&["platform-cert", "show", "X"]), Kind::Certificate),
        (
            v(&["platform-cert", "verify", &cert, "--ca", "X"]),
            Kind::Certificate,
        ),
        (
            v(&["platform-cert", "verify", "X", "--ca", &cert]),
            Kind::Certificate,
        ),
        (v(&["platform-cert", "components", "X"]), Kind::Evidence),
        (
            v(&[
                "platform-cert",
                "components",
                "--manifest",
                &m,
                "--pubkey",
                "X",
            ]),
            Kind::Key,
        ),
        (
            v(&["policy", "sign", "X", "--key", &k, "--out", &out]),
            Kind::Document,
        ),
        (v(&["policy", "show", "X"]), Kind::Evidence),
        (
            v(&["verify", "X", "--manifest", &m, "--pubkey", &p]),
            Kind::Evidence,
        ),
        (
            v(&["verify", &e, "--manifest", "X", "--pubkey", &p]),
            Kind::Evidence,
        ),
        (
            v(&["verify", &e, "--manifest", &m, "--pubkey", "X"]),
            Kind::Key,
        ),
        (
            v(&[
                "verify",
                &e,
                "--manifest",
                &m,
                "--policy",
                &m,
                "--vendor-key",
                "X",
            ]),
            Kind::Key,
        ),
        (
            v(&[
                "verify",
                &e,
                "--manifest",
                &m,
                "--pubkey",
                &p,
                "--challenge-secret",
                "X",
            ]),
            Kind::Document,
        ),
        (
            v(&[
                "verify",
                &e,
                "--manifest",
                &m,
                "--pubkey",
                &p,
                "--ek-ca",
                "X",
            ]),
            Kind::Certificate,
        ),
        (
            v(&[
                "verify",
                &e,
                "--manifest",
                &m,
                "--pubkey",
                &p,
                "--ima-allowlist",
                "X",
            ]),
            Kind::MeasurementList,
        ),
        (
            v(&[
                "verify",
                &e,
                "--manifest",
                &m,
                "--pubkey",
                &p,
                "--sign-key",
                "X",
                "--verdict-out",
                &out,
            ]),
            Kind::Key,
        ),
        (
            v(&[
                "scan",
                "--root",
                &root,
                "--store",
                &st,
                "--manifest",
                "X",
                "--pubkey",
                &p,
            ]),
            Kind::Evidence,
        ),
        (
            v(&[
                "scan",
                "--root",
                &root,
                "--store",
                &st,
                "--manifest",
                &m,
                "--pubkey",
                "X",
            ]),
            Kind::Key,
        ),
        (
            v(&["scan", "--root", &root, "--store", &st, "--firmware", "X"]),
            Kind::Firmware,
        ),
        (
            v(&["collect", "--root", &root, "--firmware", "X"]),
            Kind::Firmware,
        ),
        (
            v(&["collect", "--root", &root, "--challenge", "X"]),
            Kind::Document,
        ),
        (v(&["eventlog", "show", "X"]), Kind::EventLog),
        (v(&["eventlog", "replay", "X"]), Kind::EventLog),
        (
            v(&[
                "attest",
                "challenge",
                "X",
                "--out",
                &out,
                "--secret-out",
                &s.p("secret"),
            ]),
            Kind::Document,
        ),
        (v(&["firmware", "inspect", "X"]), Kind::Firmware),
        (v(&["firmware", "diff", "X", "X"]), Kind::Firmware),
        (
            v(&[
                "bundle",
                "create",
                "--evidence",
                "X",
                "--manifest",
                &m,
                "--verdict",
                &m,
                "--out",
                &out,
            ]),
            Kind::Evidence,
        ),
        (
            v(&[
                "bundle",
                "verify",
                "X",
                "--verdict-key",
                &p,
                "--log-key",
                "x+00000000+AQ==",
            ]),
            Kind::Bundle,
        ),
        (v(&["log", "append", "X", "--store", &st]), Kind::Evidence),
        (v(&["log", "prove", "X", "--store", &st]), Kind::Evidence),
        (
            v(&["log", "verify-proof", &m, "--verifier", "X"]),
            Kind::Proof,
        ),
        (v(&["log", "consistency", "X", "--store", &st]), Kind::Proof),
        (
            v(&["log", "audit", "--store", &st, "--checkpoint", "X"]),
            Kind::Proof,
        ),
        (
            v(&[
                "log",
                "init",
                "--store",
                &s.p("store2"),
                "--origin",
                "o.test/log",
                "--key",
                "X",
            ]),
            Kind::Key,
        ),
    ]
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
    let cases = cases(&s);
    let mut checked = 0;
    for (args, kind) in &cases {
        for h in &hostile {
            let argv: Vec<String> = args
                .iter()
                .map(|a| if a == "X" { h.clone() } else { a.clone() })
                .collect();
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
    assert_eq!(checked, cases.len() * hostile.len());
}
