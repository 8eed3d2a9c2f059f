//! `boardproof verify`.

use std::path::Path;

use anyhow::Context;
use boardproof_evidence::{HostIdentity, Manifest};
use boardproof_ledger::{keys, manifest};

use super::Kind;
use crate::output;
use crate::Outcome;

/// Opens and checks a signed manifest, naming the file in any error.
pub fn open_manifest(path: &Path, pubkey: &Path) -> anyhow::Result<Manifest> {
    Ok(open_manifest_bytes(path, pubkey)?.0)
}

/// [`open_manifest`], also returning the file's bytes (what a verdict names by digest).
pub fn open_manifest_bytes(path: &Path, pubkey: &Path) -> anyhow::Result<(Manifest, Vec<u8>)> {
    let vk = keys::load_public_key(pubkey)?;
    let bytes = super::read(path, Kind::Evidence)?;
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
    let bytes = super::read(path, Kind::MeasurementList)?;
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
    let outcome = compare(m, ev, opts);
    boardproof_verify::report(outcome, describe(m, path))
}

fn describe(m: &Manifest, path: &Path) -> String {
    format!(
        "manifest {} (signed by {} key {}, {})",
        path.display(),
        m.created_by.name,
        m.created_by.key_id,
        m.created_at
    )
}

/// The comparison of evidence with a trusted manifest, with a note when the hardware differs.
fn compare(
    m: &Manifest,
    ev: &boardproof_evidence::Evidence,
    opts: &boardproof_verify::Options,
) -> boardproof_verify::Outcome {
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
    outcome
}

/// How the manifest is trusted.
pub enum Trust<'a> {
    /// Signed by this public key.
    Key(&'a Path),
    /// Under the vendor's trust policy, opened with the vendor's root key.
    Policy {
        /// The signed policy.
        policy: &'a Path,
        /// The vendor's public key.
        vendor_key: &'a Path,
    },
}

/// What [`judge`] concluded, and the inputs a verdict names by digest.
pub struct Judged {
    /// The report.
    pub report: boardproof_evidence::Report,
    /// The manifest file's bytes.
    pub manifest_bytes: Vec<u8>,
    /// Key id of the trusted signature on the manifest (empty when none was trusted).
    pub signer: String,
    /// The policy file's bytes, when judged under one.
    pub policy_bytes: Option<Vec<u8>>,
}

/// Where [`judge`] reads the manifest and policy from: files, or bytes already in hand (a
/// bundle), each with the name errors and the report use.
pub enum Source<'a> {
    /// A file.
    File(&'a Path),
    /// Bytes, and what to call them.
    Bytes(&'a [u8], &'a str),
}

impl Source<'_> {
    fn read(&self) -> anyhow::Result<Vec<u8>> {
        match self {
            Source::File(p) => super::read(p, Kind::Evidence),
            Source::Bytes(b, _) => Ok(b.to_vec()),
        }
    }
    fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Bytes(_, n) => (*n).to_owned(),
        }
    }
}

/// Opens the manifest under `trust` (the policy's validity judged at `now`) and compares the
/// evidence.
pub fn judge(
    manifest: &Source<'_>,
    trust: &Trust<'_>,
    policy_source: Option<&Source<'_>>,
    ev: &boardproof_evidence::Evidence,
    opts: &boardproof_verify::Options,
    now: &str,
) -> anyhow::Result<Judged> {
    let manifest_path = Path::new(&manifest.name()).to_owned();
    let manifest_path = manifest_path.as_path();
    match trust {
        Trust::Key(pubkey) => {
            let vk = keys::load_public_key(pubkey)?;
            let bytes = manifest.read()?;
            let m = manifest::open(&bytes, &vk).with_context(|| manifest.name())?;
            let signer = m.created_by.key_id.clone();
            Ok(Judged {
                report: against_manifest(&m, manifest_path, ev, opts),
                manifest_bytes: bytes,
                signer,
                policy_bytes: None,
            })
        }
        Trust::Policy { policy, vendor_key } => {
            let vendor = keys::load_public_key(vendor_key)?;
            let file = Source::File(policy);
            let policy_source = policy_source.unwrap_or(&file);
            let policy_bytes = policy_source.read()?;
            let pol = boardproof_ledger::policy::open(&policy_bytes, &vendor)
                .with_context(|| policy_source.name())?;
            let bytes = manifest.read()?;
            let chain = boardproof_ledger::chain::check(&pol, &vendor, &bytes, now)
                .with_context(|| manifest.name())?;
            let mut opts = opts.clone();
            opts.required.extend(pol.require_sources.iter().copied());
            let mut outcome = match &chain.manifest {
                Some(m) => compare(m, ev, &opts),
                None => boardproof_verify::Outcome::default(),
            };
            outcome.findings.extend(chain.findings);
            outcome.notes.splice(0..0, chain.notes);
            boardproof_verify::sort(&mut outcome);
            let (reference, signer) = match (&chain.manifest, &chain.signer) {
                (Some(m), Some((who, key))) => (
                    format!(
                        "manifest {} (signed by {who} key {key}, {}) under the trust policy of {} issued {} ({})",
                        manifest_path.display(),
                        m.created_at,
                        pol.vendor,
                        pol.issued_at,
                        policy_source.name()
                    ),
                    key.clone(),
                ),
                _ => (
                    format!(
                        "manifest {} (no trusted signature) under the trust policy of {} issued {} ({})",
                        manifest_path.display(),
                        pol.vendor,
                        pol.issued_at,
                        policy_source.name()
                    ),
                    String::new(),
                ),
            };
            Ok(Judged {
                report: boardproof_verify::report(outcome, reference),
                manifest_bytes: bytes,
                signer,
                policy_bytes: Some(policy_bytes),
            })
        }
    }
}

pub fn run(
    evidence: &Path,
    manifest_path: &Path,
    trust: &Trust<'_>,
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
    let ev_bytes = super::read(evidence, Kind::Evidence)?;
    let ev = boardproof_evidence::Evidence::from_json(&ev_bytes)
        .with_context(|| format!("{}", evidence.display()))?;
    let Judged {
        report,
        manifest_bytes,
        signer: manifest_signer,
        policy_bytes,
    } = judge(
        &Source::File(manifest_path),
        trust,
        None,
        &ev,
        opts,
        &boardproof_collect::now_rfc3339(),
    )?;
    if rec.record || rec.verdict_out.is_some() {
        let now = boardproof_collect::now_rfc3339();
        let mut statement = boardproof_ledger::verdict::build(
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
                manifest_signed_by: manifest_signer,
                report: report.clone(),
            },
        );
        if let Some(p) = &policy_bytes {
            statement
                .subject
                .push(boardproof_ledger::verdict::Subject::sha256(
                    boardproof_ledger::verdict::SUBJECT_POLICY,
                    p,
                ));
        }
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
                super::open_store(&super::store_dir(rec.store.clone())?)
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
    output::report(&report, json)
}
