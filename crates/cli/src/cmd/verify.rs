//! `boardproof verify`.

use std::path::Path;

use anyhow::Context;
use boardproof_evidence::{HostIdentity, Manifest};
use boardproof_ledger::{keys, manifest};

use crate::output;
use crate::Outcome;

/// Opens and checks a signed manifest, naming the file in any error.
pub fn open_manifest(path: &Path, pubkey: &Path) -> anyhow::Result<Manifest> {
    Ok(open_manifest_bytes(path, pubkey)?.0)
}

/// [`open_manifest`], also returning the file's bytes (what a verdict names by digest).
pub fn open_manifest_bytes(path: &Path, pubkey: &Path) -> anyhow::Result<(Manifest, Vec<u8>)> {
    let vk = keys::load_public_key(pubkey)?;
    let bytes = boardproof_collect::read_capped(path)?;
    let m = manifest::open(&bytes, &vk).with_context(|| format!("{}", path.display()))?;
    Ok((m, bytes))
}

/// What `verify` does with its verdict besides printing it.
pub struct Record {
    /// Store it and log it.
    pub record: bool,
    /// The store for `record`.
    pub store: Option<std::path::PathBuf>,
    /// Sign it with this key.
    pub sign_key: Option<std::path::PathBuf>,
    /// Write the signed verdict here.
    pub verdict_out: Option<std::path::PathBuf>,
    /// Who decides.
    pub decided_by: Option<String>,
    /// Replace `verdict_out`.
    pub force: bool,
}

/// Reads an IMA allowlist (`sha256sum` format), naming the file and byte offset of a bad line.
pub fn read_allowlist(path: &Path) -> anyhow::Result<Vec<boardproof_formats::ima::Allowed>> {
    let bytes = boardproof_collect::read_capped(path)?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: not UTF-8 text", path.display()))?;
    boardproof_formats::ima::parse_allowlist(text).with_context(|| format!("{}", path.display()))
}

/// Verifies evidence against a manifest and returns the report.
pub fn against_manifest(
    m: &Manifest,
    path: &Path,
    ev: &boardproof_evidence::Evidence,
    opts: &boardproof_verify::Options,
) -> boardproof_evidence::Report {
    let mut outcome = boardproof_verify::verify_opts(&m.reference, ev, opts);
    let here = HostIdentity::of(ev);
    // Hardware identity, not the machine-id: a factory manifest is made under another OS
    // install. A real difference also shows as platform-changed findings.
    if here.describe() != m.host.describe() {
        outcome.notes.insert(
            0,
            format!(
                "the manifest describes {}, the evidence comes from {}",
                m.host.describe(),
                here.describe()
            ),
        );
    }
    boardproof_verify::report(
        outcome,
        format!(
            "manifest {} (signed by {} key {}, {})",
            path.display(),
            m.created_by.name,
            m.created_by.key_id,
            m.created_at
        ),
    )
}

pub fn run(
    evidence: &Path,
    manifest_path: &Path,
    pubkey: &Path,
    rec: &Record,
    opts: &boardproof_verify::Options,
    json: bool,
) -> anyhow::Result<Outcome> {
    // Keys first: a bad signing key is refused before any work is done.
    let sign_key = rec
        .sign_key
        .as_deref()
        .map(keys::load_private_key)
        .transpose()?;
    let (m, manifest_bytes) = open_manifest_bytes(manifest_path, pubkey)?;
    let ev_bytes = boardproof_collect::read_capped(evidence)?;
    let ev = boardproof_evidence::Evidence::from_json(&ev_bytes)
        .with_context(|| format!("{}", evidence.display()))?;
    let report = against_manifest(&m, manifest_path, &ev, opts);
    if rec.record || rec.verdict_out.is_some() {
        let now = boardproof_collect::now_rfc3339();
        let statement = boardproof_ledger::verdict::build(
            &ev_bytes,
            &manifest_bytes,
            boardproof_ledger::verdict::VerdictPredicate {
                verdict: report.verdict,
                decided_at: now.clone(),
                decided_by: boardproof_evidence::Creator {
                    name: rec
                        .decided_by
                        .clone()
                        .unwrap_or_else(super::manifest::default_creator),
                    key_id: sign_key
                        .as_ref()
                        .map(|k| k.public().key_id())
                        .unwrap_or_default(),
                },
                host: HostIdentity::of(&ev),
                manifest_signed_by: m.created_by.key_id.clone(),
                report: report.clone(),
            },
        );
        let payload = boardproof_ledger::verdict::to_payload(&statement)?;
        let envelope = sign_key.as_ref().map(|k| {
            boardproof_ledger::dsse::Envelope::sign(
                boardproof_ledger::verdict::VERDICT_PAYLOAD_TYPE,
                &payload,
                k,
            )
            .to_canonical_bytes()
        });
        let mut store = rec
            .record
            .then(|| -> anyhow::Result<_> {
                Ok(boardproof_ledger::store::Store::open(&super::store_dir(
                    rec.store.clone(),
                )?)?)
            })
            .transpose()?;
        if let (Some(out), Some(env)) = (&rec.verdict_out, &envelope) {
            super::write_atomic(out, env, rec.force)?;
            eprintln!("boardproof: signed verdict written to {}", out.display());
        }
        if let Some(store) = store.as_mut() {
            let logged = store.record_verdict(&boardproof_ledger::store::NewVerdict {
                host_key: &HostIdentity::of(&ev).store_key(),
                decided_at: &now,
                verdict: match report.verdict {
                    boardproof_evidence::Verdict::Verified => "verified",
                    boardproof_evidence::Verdict::Findings => "findings",
                },
                findings: report.findings.len() as u64,
                statement: &payload,
                envelope: envelope.as_deref(),
            })?;
            eprintln!(
                "boardproof: verdict recorded in {} and logged as entry {}",
                store.path().display(),
                logged.index
            );
        }
    }
    if json {
        output::print(&output::json(&report)?)?;
    } else {
        output::print(&output::report_text(&report))?;
    }
    Ok(if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
