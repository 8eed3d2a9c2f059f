//! `boardproof bundle create|verify`: the verdict and everything behind it in one file, checked
//! elsewhere with public keys only.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_evidence::Evidence;
use boardproof_ledger::bundle::{Bundle, Parts};
use boardproof_ledger::documents::BundleCheck;
use boardproof_ledger::dsse::Envelope;
use boardproof_ledger::entry::Entry;
use boardproof_ledger::proof::{Proof, ProofFile};
use boardproof_ledger::store::Store;
use boardproof_ledger::{keys, verdict};

use super::verify::TrustRead;
use super::Kind;
use crate::output;
use crate::Outcome;

pub struct CreateArgs<'a> {
    pub evidence: &'a Path,
    pub manifest: &'a Path,
    pub policy: Option<&'a Path>,
    pub verdict: &'a Path,
    pub proofs: &'a [PathBuf],
    pub store: Option<PathBuf>,
    pub out: &'a Path,
    pub force: bool,
    pub json: bool,
}

/// The proofs of whichever of `files` the store's log holds, in its latest checkpoint.
fn proofs_from_store(store: &Store, files: &[&[u8]]) -> anyhow::Result<Vec<ProofFile>> {
    if store.log_verifier()?.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for f in files {
        if let Some(n) = store.log_find(&Entry::for_file(f).to_leaf())? {
            out.push(store.log_proof(n, None)?);
        }
    }
    Ok(out)
}

pub fn create(a: &CreateArgs<'_>) -> anyhow::Result<Outcome> {
    let read = |p: &Path| -> anyhow::Result<Vec<u8>> { super::read(p, Kind::Evidence) };
    let evidence = read(a.evidence)?;
    let manifest = read(a.manifest)?;
    let policy = a.policy.map(read).transpose()?;
    let verdict_bytes = read(a.verdict)?;
    // Only a signed verdict about exactly these files is bundled.
    let env = Envelope::from_canonical_bytes(&verdict_bytes)
        .with_context(|| a.verdict.display().to_string())?;
    if env.signatures.is_empty() {
        anyhow::bail!("{}: the verdict is not signed", a.verdict.display());
    }
    let stmt = verdict::from_payload(&env.payload_bytes()?)
        .with_context(|| a.verdict.display().to_string())?;
    check_subjects(&stmt, &evidence, &manifest, policy.as_deref())
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.verdict.display()))?;
    let mut proofs = Vec::new();
    for p in a.proofs {
        let pf = ProofFile::from_bytes(&read(p)?).with_context(|| p.display().to_string())?;
        proofs.push(pf);
    }
    if let Some(dir) = &a.store {
        let store = super::open_store(dir)?;
        let mut files: Vec<&[u8]> = vec![&verdict_bytes, &manifest];
        if let Some(p) = &policy {
            files.push(p);
        }
        for pf in proofs_from_store(&store, &files)? {
            if !proofs.contains(&pf) {
                proofs.push(pf);
            }
        }
    }
    let leaf = Entry::for_file(&verdict_bytes).to_leaf();
    let verdict_proven = proofs
        .iter()
        .any(|p| matches!(&p.proof, Proof::Inclusion { leaf: l, .. } if l.as_bytes() == leaf));
    if !verdict_proven {
        anyhow::bail!(
            "no inclusion proof of the verdict: give --proof (from `log prove {}`) or --store with the log that recorded it",
            a.verdict.display()
        );
    }
    let bundle = Bundle::new(&Parts {
        evidence,
        manifest,
        policy,
        verdict: verdict_bytes,
        proofs,
    });
    let bytes = bundle.to_bytes()?;
    super::write_atomic(a.out, &bytes, a.force, Kind::Bundle)?;
    let mut w = boardproof_evidence::Written::new("bundle create").file(a.out, "bundle", &bytes);
    w.notes.push(format!(
        "verdict {}, {} inclusion proofs{}",
        stmt.predicate.verdict_str(),
        bundle.proofs.len(),
        if bundle.policy.is_some() {
            ", trust policy"
        } else {
            ""
        }
    ));
    output::written(
        &w,
        a.json,
        &format!(
        "bundle written to {}: evidence, manifest{}, signed verdict ({}), {} inclusion proof(s)\n",
        a.out.display(),
        if bundle.policy.is_some() {
            ", trust policy"
        } else {
            ""
        },
        stmt.predicate.verdict_str(),
        bundle.proofs.len()
    ),
    )?;
    Ok(Outcome::Clean)
}

fn check_subjects(
    stmt: &verdict::VerdictStatement,
    evidence: &[u8],
    manifest: &[u8],
    policy: Option<&[u8]>,
) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    let mut want = vec![
        (verdict::SUBJECT_EVIDENCE, Some(evidence)),
        (verdict::SUBJECT_MANIFEST, Some(manifest)),
    ];
    want.push((verdict::SUBJECT_POLICY, policy));
    for (name, bytes) in want {
        let claimed = stmt.subject_sha256(name);
        let actual = bytes.map(|b| hex::encode(Sha256::digest(b)));
        if claimed != actual.as_deref() {
            return Err(match (claimed, actual) {
                (Some(c), Some(a)) => {
                    format!("the verdict is about {name} sha256 {c}, but the {name} here is {a}")
                }
                (Some(c), None) => {
                    format!("the verdict names a {name} (sha256 {c}) that is not here")
                }
                (None, Some(_)) => format!("the verdict names no {name}, but one is here"),
                (None, None) => continue,
            });
        }
    }
    Ok(())
}

pub struct VerifyArgs<'a> {
    pub bundle: &'a Path,
    pub pubkey: Option<&'a Path>,
    pub vendor_key: Option<&'a Path>,
    pub verdict_key: &'a Path,
    pub log_keys: &'a [String],
    pub json: bool,
}

pub fn verify(a: &VerifyArgs<'_>) -> anyhow::Result<Outcome> {
    let name = a.bundle.display().to_string();
    let bytes = super::read(a.bundle, Kind::Bundle)?;
    let parts = Bundle::open(&bytes).with_context(|| name.clone())?;
    let verdict_key = keys::load_public_key(a.verdict_key)?;
    let log_keys: Vec<String> = a
        .log_keys
        .iter()
        .map(|k| super::log::read_verifier(k))
        .collect::<anyhow::Result<_>>()?;
    let mut checks: Vec<BundleCheck> = Vec::new();
    let mut add = |check: &str, ok: bool, detail: String| {
        checks.push(BundleCheck {
            check: check.to_owned(),
            ok,
            detail,
        })
    };

    // 1. The verdict: signed by the given key, about exactly the bundled files.
    let env = Envelope::from_canonical_bytes(&parts.verdict)
        .with_context(|| format!("{name}: verdict"))?;
    let stmt = match env.verify(&verdict_key, verdict::VERDICT_PAYLOAD_TYPE) {
        Ok(payload) => {
            add(
                "verdict signature",
                true,
                format!("signed by key {}", verdict_key.key_id()),
            );
            Some(verdict::from_payload(&payload).with_context(|| format!("{name}: verdict"))?)
        }
        Err(e) => {
            add("verdict signature", false, e.to_string());
            None
        }
    };
    if let Some(stmt) = &stmt {
        match check_subjects(
            stmt,
            &parts.evidence,
            &parts.manifest,
            parts.policy.as_deref(),
        ) {
            Ok(()) => add(
                "verdict subjects",
                true,
                "the evidence, manifest and policy here are the ones the verdict names".into(),
            ),
            Err(e) => add("verdict subjects", false, e),
        }
    }

    // 2. Re-verification: the manifest under the given trust, the evidence against it, as of
    //    the verdict's time.
    let ev = Evidence::from_json(&parts.evidence).with_context(|| format!("{name}: evidence"))?;
    let trust = match (a.pubkey, a.vendor_key, &parts.policy) {
        (Some(k), None, None) => TrustRead::with_policy(keys::load_public_key(k)?, None),
        (None, Some(v), Some(p)) => TrustRead::with_policy(
            keys::load_public_key(v)?,
            Some((p.clone(), "in the bundle".to_owned())),
        ),
        (None, Some(_), None) => {
            anyhow::bail!("{name}: holds no trust policy; check it with --pubkey")
        }
        (Some(_), None, Some(_)) => anyhow::bail!(
            "{name}: the verdict was judged under a trust policy; check it with --vendor-key"
        ),
        _ => anyhow::bail!("give --pubkey or --vendor-key"),
    };
    let now = stmt
        .as_ref()
        .map(|s| s.predicate.decided_at.clone())
        .unwrap_or_else(super::now);
    let judged = boardproof_workflow::judge::manifest(
        boardproof_workflow::judge::Input {
            name: "in the bundle",
            bytes: &parts.manifest,
        },
        &trust.trust(),
        &ev,
        &Default::default(),
        &now,
    );
    match judged {
        Ok(j) => {
            add(
                "manifest trust",
                !j.signer.is_empty(),
                j.report.reference.clone(),
            );
            if let Some(stmt) = &stmt {
                let key = |f: &boardproof_evidence::Finding| {
                    (
                        f.kind,
                        f.subject.clone(),
                        f.expected.clone(),
                        f.observed.clone(),
                    )
                };
                let mut now_f: Vec<_> = j.report.findings.iter().map(key).collect();
                let mut then_f: Vec<_> = stmt.predicate.report.findings.iter().map(key).collect();
                now_f.sort();
                then_f.sort();
                let same = now_f == then_f && j.report.verdict == stmt.predicate.verdict;
                add(
                    "re-verification",
                    same,
                    if same {
                        format!(
                            "{} with {} finding(s), as the verdict says",
                            stmt.predicate.verdict_str(),
                            now_f.len()
                        )
                    } else {
                        format!(
                            "the bundled evidence and manifest give {} finding(s) ({}), the verdict says {} with {} (options such as --expect-change or --ima-allowlist used for the verdict are not in the bundle)",
                            now_f.len(),
                            j.report
                                .findings
                                .iter()
                                .map(|f| f.kind.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            stmt.predicate.verdict_str(),
                            then_f.len()
                        )
                    },
                );
            }
        }
        Err(e) => add("manifest trust", false, format!("{e:#}")),
    }

    // 3. The log: every proof checks with one of the given log keys, for a bundled file; the
    //    verdict must be among them.
    let labelled: Vec<(&str, Entry)> = [
        Some(("verdict", &parts.verdict)),
        Some(("manifest", &parts.manifest)),
        parts.policy.as_ref().map(|p| ("policy", p)),
    ]
    .into_iter()
    .flatten()
    .map(|(n, b)| (n, Entry::for_file(b)))
    .collect();
    let mut verdict_logged = false;
    for (i, p) in parts.proofs.iter().enumerate() {
        let label = format!("log proof {}", i.saturating_add(1));
        let Some(k) = log_keys.iter().find(|k| **k == p.verifier) else {
            add(
                &label,
                false,
                format!(
                    "made by the log with verifier key {}, which is not among --log-key",
                    p.verifier
                ),
            );
            continue;
        };
        match p.check(k) {
            Ok(c) => match c.entry.and_then(|(n, e)| {
                labelled
                    .iter()
                    .find(|(_, l)| *l == e)
                    .map(|(what, _)| (n, *what))
            }) {
                Some((n, what)) => {
                    verdict_logged |= what == "verdict";
                    add(
                        &label,
                        true,
                        format!(
                            "the {what} is entry {n} of log {} (checkpoint of {} entries)",
                            c.origin, c.size
                        ),
                    );
                }
                None => add(
                    &label,
                    false,
                    "proves an entry that is none of the bundled files".into(),
                ),
            },
            Err(e) => add(&label, false, e.to_string()),
        }
    }
    if !verdict_logged {
        add(
            "verdict logged",
            false,
            "no proof in the bundle shows the verdict in a log whose key was given".into(),
        );
    }

    let all_ok = checks.iter().all(|c| c.ok);
    let carried = stmt
        .as_ref()
        .map(|s| (s.predicate.verdict_str(), s.predicate.report.findings.len()));
    if a.json {
        output::print(&output::json(
            &boardproof_ledger::documents::BundleVerify {
                schema: boardproof_ledger::documents::BUNDLE_VERIFY_SCHEMA.into(),
                bundle: name.clone(),
                verified: all_ok,
                verdict: carried.map(|c| c.0.to_owned()),
                findings: carried.map(|c| c.1 as u64),
                checks,
            },
        )?)?;
    } else {
        let mut t = output::table(&["check", "result", "detail"]);
        for c in &checks {
            t.add_row(vec![
                c.check.clone(),
                if c.ok { "ok" } else { "FAILED" }.to_owned(),
                c.detail.clone(),
            ]);
        }
        output::print(&format!(
            "{t}\n{}\n",
            match (all_ok, carried) {
                (true, Some(("verified", _))) => "bundle verified: every part checks with the given public keys; the verdict it carries: verified".to_owned(),
                (true, Some((v, n))) => format!("bundle verified: every part checks with the given public keys; the verdict it carries: {} ({n} findings)", v.to_uppercase()),
                _ => "bundle NOT verified".to_owned(),
            }
        ))?;
    }
    // 0 only for an authentic bundle whose verdict is `verified`: an authentic record of
    // findings is still findings.
    Ok(match (all_ok, carried) {
        (true, Some(("verified", _))) => Outcome::Clean,
        _ => Outcome::Findings,
    })
}

// The arguments of `boardproof bundle create`.
#[derive(clap::Args, Debug)]
pub struct Create {
    /// The evidence the verdict names.
    #[arg(long)]
    pub evidence: PathBuf,
    /// The manifest the verdict names.
    #[arg(long)]
    pub manifest: PathBuf,
    /// The trust policy, when the verdict was judged under one.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// The signed verdict.
    #[arg(long)]
    pub verdict: PathBuf,
    /// Inclusion proof files (`log prove`); repeatable.
    #[arg(long)]
    pub proof: Vec<PathBuf>,
    #[command(flatten)]
    pub store: super::StoreArg,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub force: super::Force,
}

impl Create {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            evidence,
            manifest,
            policy,
            verdict,
            proof,
            store: super::StoreArg { store },
            out,
            force: super::Force { force },
        } = self;
        create(&CreateArgs {
            evidence: &evidence,
            manifest: &manifest,
            policy: policy.as_deref(),
            verdict: &verdict,
            proofs: &proof,
            store,
            out: &out,
            force,
            json,
        })
    }
}

// The arguments of `boardproof bundle verify`.
#[derive(clap::Args, Debug)]
pub struct Verify {
    /// Bundle file.
    pub bundle: PathBuf,
    /// The manifest signer's public key (bundles without a policy).
    #[arg(long, conflicts_with = "vendor_key")]
    pub pubkey: Option<PathBuf>,
    /// The vendor's root public key (bundles with a policy).
    #[arg(long)]
    pub vendor_key: Option<PathBuf>,
    /// The public key of whoever signed the verdict.
    #[arg(long)]
    pub verdict_key: PathBuf,
    /// Verifier keys of the logs whose proofs are in the bundle (key or file); repeatable.
    #[arg(long, required = true)]
    pub log_key: Vec<String>,
}

impl Verify {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            bundle,
            pubkey,
            vendor_key,
            verdict_key,
            log_key,
        } = self;
        verify(&VerifyArgs {
            bundle: &bundle,
            pubkey: pubkey.as_deref(),
            vendor_key: vendor_key.as_deref(),
            verdict_key: &verdict_key,
            log_keys: &log_key,
            json,
        })
    }
}

// The `boardproof bundle` commands.
#[derive(clap::Subcommand, Debug)]
pub enum BundleCommand {
    /// Put a signed verdict (`verify --sign-key --verdict-out`) and everything it names into
    /// one file, with inclusion proofs of the verdict (required) and of the manifest and policy.
    Create(Create),
    /// Re-check a bundle with public keys only: the verdict's signature and subjects, the
    /// manifest's trust, the evidence against it (as of the verdict's time), every log proof.
    /// Exit 0 verified, 1 a check failed, 2 unreadable.
    Verify(Verify),
}

impl BundleCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            BundleCommand::Create(a) => a.run(json),
            BundleCommand::Verify(a) => a.run(json),
        }
    }
}
