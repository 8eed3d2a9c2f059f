//! `boardproof verify`.

use std::path::Path;

use anyhow::Context;
use boardproof_evidence::{HostIdentity, Manifest};
use boardproof_ledger::{keys, manifest};

use crate::output;
use crate::Outcome;

/// Opens and checks a signed manifest, naming the file in any error.
pub fn open_manifest(path: &Path, pubkey: &Path) -> anyhow::Result<Manifest> {
    let vk = keys::load_verifying_key(pubkey)?;
    let bytes = boardproof_collect::read_capped(path)?;
    manifest::open(&bytes, &vk).with_context(|| format!("{}", path.display()))
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
    opts: &boardproof_verify::Options,
    json: bool,
) -> anyhow::Result<Outcome> {
    let m = open_manifest(manifest_path, pubkey)?;
    let ev = super::read_evidence(evidence)?;
    let report = against_manifest(&m, manifest_path, &ev, opts);
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
