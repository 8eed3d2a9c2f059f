//! `boardproof verify`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_evidence::Manifest;
use boardproof_ledger::{keys, manifest};
use boardproof_workflow as workflow;

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

/// How the manifest is trusted: the key files as given on the command line.
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

/// The trust inputs read: keys and the policy's bytes, each within its cap.
pub struct TrustRead {
    key: boardproof_ledger::keys::PublicKey,
    policy: Option<(Vec<u8>, String)>,
}

impl TrustRead {
    /// Reads the files `trust` names.
    pub fn read(trust: &Trust<'_>) -> anyhow::Result<TrustRead> {
        Ok(match trust {
            Trust::Key(k) => TrustRead {
                key: keys::load_public_key(k)?,
                policy: None,
            },
            Trust::Policy { policy, vendor_key } => TrustRead {
                key: keys::load_public_key(vendor_key)?,
                policy: Some((
                    super::read(policy, Kind::Evidence)?,
                    policy.display().to_string(),
                )),
            },
        })
    }

    /// The same key with a policy held in memory (a bundle's).
    pub fn with_policy(
        key: boardproof_ledger::keys::PublicKey,
        policy: Option<(Vec<u8>, String)>,
    ) -> Self {
        TrustRead { key, policy }
    }

    /// As the workflow takes it.
    pub fn trust(&self) -> workflow::judge::Trust<'_> {
        match &self.policy {
            None => workflow::judge::Trust::Key(&self.key),
            Some((bytes, name)) => workflow::judge::Trust::Policy {
                policy: workflow::judge::Input { name, bytes },
                vendor_key: &self.key,
            },
        }
    }

    /// The policy's bytes, when judged under one.
    pub fn policy_bytes(&self) -> Option<&[u8]> {
        self.policy.as_ref().map(|(b, _)| b.as_slice())
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
    let trust = TrustRead::read(trust)?;
    let manifest_bytes = super::read(manifest_path, Kind::Evidence)?;
    let name = manifest_path.display().to_string();
    let judged = workflow::judge::manifest(
        workflow::judge::Input {
            name: &name,
            bytes: &manifest_bytes,
        },
        &trust.trust(),
        &ev,
        opts,
        &super::now(),
    )?;
    let report = judged.report;
    if rec.record || rec.verdict_out.is_some() {
        let decided_by = rec
            .decided_by
            .clone()
            .unwrap_or_else(super::manifest::default_creator);
        let made = workflow::record::verdict(&workflow::record::VerdictOf {
            evidence_bytes: &ev_bytes,
            evidence: &ev,
            manifest_bytes: &manifest_bytes,
            policy_bytes: trust.policy_bytes(),
            report: &report,
            manifest_signer: &judged.signer,
            decided_by: &decided_by,
            decided_at: &super::now(),
            sign_key: sign_key.as_ref(),
        })?;
        let mut store = rec
            .record
            .then(|| -> anyhow::Result<_> {
                super::open_store(&super::store_dir(rec.store.clone())?)
            })
            .transpose()?;
        if let (Some(out), Some(env)) = (&rec.verdict_out, &made.envelope) {
            super::write_atomic(out, env, rec.force, Kind::Evidence)?;
            eprintln!("boardproof: signed verdict written to {}", out.display());
        }
        if let Some(store) = store.as_mut() {
            let logged = workflow::record::store(store, &made)?;
            eprintln!(
                "boardproof: verdict recorded in {} and logged as entry {}",
                store.path().display(),
                logged.index
            );
        }
    }
    output::report(&report, json)
}

// The arguments of `boardproof verify`.
#[derive(clap::Args, Debug)]
pub struct Verify {
    /// Evidence JSON file.
    pub evidence: PathBuf,
    /// Manifest (DSSE envelope).
    #[arg(long)]
    pub manifest: PathBuf,
    /// Public key of the manifest's signer (PEM).
    #[arg(long, required_unless_present = "policy", conflicts_with = "policy")]
    pub pubkey: Option<PathBuf>,
    /// Trust the manifest under this vendor trust policy (`policy sign`) instead of one
    /// key: its signer must be a manufacturer the policy allows for this product and date.
    #[arg(long, requires = "vendor_key")]
    pub policy: Option<PathBuf>,
    /// The vendor's root public key, which signed --policy.
    #[arg(long, requires = "policy")]
    pub vendor_key: Option<PathBuf>,
    /// The secret `attest challenge` kept: the evidence's quote must be over it.
    #[arg(long)]
    pub challenge_secret: Option<PathBuf>,
    /// CA certificates (PEM or DER) the EK certificate must chain to; repeatable.
    #[arg(long)]
    pub ek_ca: Vec<PathBuf>,
    /// Judge IMA-measured files against this list (`sha256sum` format) instead of the
    /// manifest's IMA list.
    #[arg(long)]
    pub ima_allowlist: Option<PathBuf>,
    /// A measured-boot change you expect (`pcr=4,type=EV_EFI_BOOT_SERVICES_APPLICATION,
    /// text=grubx64.efi`; any subset, text last): matching eventlog-event-changed findings
    /// become notes naming the declaration. Repeatable. See docs/verify.md.
    #[arg(long)]
    pub expect_change: Vec<String>,
    /// Sources the evidence must have (`smbios,tpm,pci`…; repeatable): each one that is
    /// not `ok` is a `source-missing` finding, whatever the reference had.
    #[arg(long, value_delimiter = ',', value_name = "SOURCE")]
    pub require: Vec<boardproof_evidence::Source>,
    /// Store the verdict (an in-toto statement naming the evidence and the manifest by
    /// digest) and append it to the store's transparency log.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub store: super::StoreArg,
    /// Sign the verdict with this private key (the customer's or auditor's).
    #[arg(long)]
    pub sign_key: Option<PathBuf>,
    /// Write the signed verdict (DSSE envelope) here.
    #[arg(long, requires = "sign_key")]
    pub verdict_out: Option<PathBuf>,
    /// Who decides, in the verdict (default: user@hostname).
    #[arg(long)]
    pub decided_by: Option<String>,
    #[command(flatten)]
    pub force: super::Force,
}

impl Verify {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            evidence,
            manifest,
            pubkey,
            policy,
            vendor_key,
            challenge_secret,
            ek_ca,
            ima_allowlist,
            expect_change,
            require,
            record,
            store: super::StoreArg { store },
            sign_key,
            verdict_out,
            decided_by,
            force: super::Force { force },
        } = self;
        if store.is_some() && !record {
            anyhow::bail!("--store is where --record stores the verdict; give --record too");
        }
        run(
            &evidence,
            &manifest,
            &match (&pubkey, &policy, &vendor_key) {
                (Some(k), _, _) => Trust::Key(k),
                (None, Some(policy), Some(vendor_key)) => Trust::Policy { policy, vendor_key },
                _ => anyhow::bail!("give --pubkey, or --policy with --vendor-key"),
            },
            &Record {
                record,
                store,
                sign_key,
                verdict_out,
                decided_by,
                force,
            },
            &boardproof_verify::Options {
                quote: super::attest::quote_check(challenge_secret.as_deref(), &ek_ca)?,
                ima_allowlist: ima_allowlist.as_deref().map(read_allowlist).transpose()?,
                expected_changes: expect_change
                    .iter()
                    .map(|s| {
                        boardproof_verify::ExpectedChange::parse(s)
                            .map_err(|e| anyhow::anyhow!("--expect-change {e}"))
                    })
                    .collect::<anyhow::Result<_>>()?,
                required: require,
            },
            json,
        )
    }
}
