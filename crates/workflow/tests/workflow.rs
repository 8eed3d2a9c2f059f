//! The use cases on the lab's real golden evidence: judge against a signed manifest, scan
//! into a real SQLite store, refuse an edited store; and what a judge-only build links.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use boardproof_evidence::{Evidence, FindingKind, ScanAction, Verdict};
use boardproof_ledger::keys::{Algorithm, PrivateKey};
use boardproof_ledger::store::Store;
use boardproof_workflow::judge::{self, Input, Trust};
use boardproof_workflow::{scan, Error, Outcome};

fn golden() -> Evidence {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/lab/golden/evidence.json");
    Evidence::from_json(&std::fs::read(&p).unwrap()).unwrap()
}

/// The golden evidence with one PCI device less.
fn without_a_pci_device() -> (Evidence, String) {
    let mut ev = golden();
    let i = ev
        .inventory
        .components
        .iter()
        .position(|c| c.class == boardproof_evidence::ComponentClass::Pci)
        .unwrap();
    let gone = ev.inventory.components.remove(i);
    (ev, gone.location)
}

fn manifest_of(ev: &Evidence, key: &PrivateKey) -> Vec<u8> {
    let m = boardproof_ledger::manifest::build(ev, "test factory", key, "2026-12-01T00:00:00Z");
    boardproof_ledger::manifest::sign(&m, key).unwrap()
}

const NOW: &str = "2026-12-04T00:00:00Z";

#[test]
fn judges_against_a_manifest_under_its_key_only() {
    let ev = golden();
    let key = PrivateKey::generate(Algorithm::Ed25519);
    let bytes = manifest_of(&ev, &key);
    let input = Input {
        name: "m.dsse.json",
        bytes: &bytes,
    };
    let opts = Default::default();
    let j = judge::manifest(input, &Trust::Key(&key.public()), &ev, &opts, NOW).unwrap();
    assert_eq!(
        j.report.verdict,
        Verdict::Verified,
        "{:?}",
        j.report.findings
    );
    assert_eq!(j.signer, key.public().key_id());
    assert!(
        j.report.reference.contains("m.dsse.json"),
        "{}",
        j.report.reference
    );

    let (changed, location) = without_a_pci_device();
    let j = judge::manifest(input, &Trust::Key(&key.public()), &changed, &opts, NOW).unwrap();
    assert_eq!(j.report.verdict, Verdict::Findings);
    assert!(
        j.report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::ComponentRemoved && f.subject.contains(&location)),
        "{location}: {:?}",
        j.report.findings
    );
    assert_eq!(Outcome::of(&j.report), Outcome::Findings);

    // Another key: an error naming the manifest, never a report.
    let other = PrivateKey::generate(Algorithm::EcdsaP256);
    let e = judge::manifest(input, &Trust::Key(&other.public()), &ev, &opts, NOW).unwrap_err();
    assert!(matches!(e, Error::Document { .. }), "{e:?}");
    assert!(e.to_string().starts_with("m.dsse.json: "), "{e}");
}

#[test]
fn scans_into_a_store_and_refuses_it_once_edited() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let ev = golden();
    let req = |ev| scan::Request {
        evidence: ev,
        manifest: None,
        accept: None,
        require: &[],
        now: NOW,
    };

    let first = scan::ready(&mut store).unwrap().scan(&req(&ev)).unwrap();
    assert_eq!(first.result.action, ScanAction::BaselineRecorded);
    assert_eq!(first.outcome, Outcome::Clean);
    assert!(first.result.new_baseline_id.is_some());

    let again = scan::ready(&mut store).unwrap().scan(&req(&ev)).unwrap();
    assert_eq!(again.result.action, ScanAction::Compared);
    assert_eq!(again.outcome, Outcome::Clean);
    assert_eq!(again.result.baseline_id, first.result.new_baseline_id);

    let (changed, _) = without_a_pci_device();
    let found = scan::ready(&mut store)
        .unwrap()
        .scan(&req(&changed))
        .unwrap();
    assert_eq!(found.outcome, Outcome::Findings);
    assert!(!found.result.baseline_report.unwrap().findings.is_empty());

    let blank = scan::ready(&mut store).unwrap().scan(&scan::Request {
        accept: Some("  "),
        ..req(&changed)
    });
    assert!(matches!(blank, Err(Error::Invalid(_))), "{blank:?}");

    let accepted = scan::ready(&mut store)
        .unwrap()
        .scan(&scan::Request {
            accept: Some("RMA: NIC replaced"),
            ..req(&changed)
        })
        .unwrap();
    assert_eq!(accepted.result.action, ScanAction::Accepted);
    assert_eq!(accepted.outcome, Outcome::Clean);
    let after = scan::ready(&mut store)
        .unwrap()
        .scan(&req(&changed))
        .unwrap();
    assert_eq!(after.outcome, Outcome::Clean);

    // A required source that is missing stays a finding after an acceptance.
    let required = [boardproof_evidence::Source::Tpm];
    let mut no_tpm = changed.clone();
    for s in &mut no_tpm.sources {
        if s.name == boardproof_evidence::Source::Tpm {
            s.status = boardproof_evidence::SourceStatus::Unavailable;
        }
    }
    let still = scan::ready(&mut store)
        .unwrap()
        .scan(&scan::Request {
            accept: Some("no TPM today"),
            require: &required,
            ..req(&no_tpm)
        })
        .unwrap();
    assert_eq!(still.outcome, Outcome::Findings);

    // The found scan's outcome rewritten in the file: refused, naming the row.
    drop(store);
    let db =
        rusqlite::Connection::open(dir.path().join(boardproof_ledger::store::DB_FILE)).unwrap();
    let n = db
        .execute(
            "UPDATE scans SET outcome = 'verified', findings = 0 WHERE id = ?1",
            [found.result.scan_id],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(db);
    let mut store = Store::open(dir.path()).unwrap();
    let e = scan::ready(&mut store).err().unwrap();
    match &e {
        Error::StoreEdited { problems, .. } => assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("scan row {} ", found.result.scan_id))),
            "{problems:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().contains("nothing was compared or recorded"),
        "{e}"
    );
}

#[test]
fn outcomes_combine_to_the_worse() {
    use Outcome::*;
    assert_eq!(Clean.and(Clean), Clean);
    assert_eq!(Clean.and(Findings), Findings);
    assert_eq!(Findings.and(CouldNotVerify), CouldNotVerify);
    assert_eq!(CouldNotVerify.and(Clean), CouldNotVerify);
}

fn tree(features: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "boardproof-workflow",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--locked", "--offline"])
        .args(features)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A verifier that only judges (a service judging reports it was sent) builds the workflow
/// without its `collector` feature, and then links no collector at all.
#[test]
fn a_judge_only_build_links_no_collector() {
    let judge_only = tree(&["--no-default-features"]);
    assert!(judge_only.contains("boardproof-verify"), "{judge_only}");
    assert!(judge_only.contains("boardproof-ledger"), "{judge_only}");
    assert!(!judge_only.contains("boardproof-collect"), "{judge_only}");
    // The check can fail: with the feature, the collector is there.
    assert!(tree(&[]).contains("boardproof-collect"));
}
