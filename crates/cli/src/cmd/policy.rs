//! `boardproof policy sign|show`: the vendor's trust policy.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_ledger::{keys, policy};

use super::Kind;
use crate::output;
use crate::Outcome;

pub fn sign(
    input: &Path,
    key: &Path,
    out: &Path,
    store: Option<PathBuf>,
    force: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let sk = keys::load_private_key(key)?;
    let bytes = super::read(input, Kind::Document)?;
    let name = input.display().to_string();
    let parsed: policy::PolicyInput =
        serde_json::from_slice(&bytes).with_context(|| format!("{name}: not a policy input"))?;
    let base = input.parent().unwrap_or(Path::new("."));
    let p = policy::build(&parsed, base, &sk, &boardproof_collect::now_rfc3339())
        .with_context(|| name.clone())?;
    let signed = policy::sign(&p, &sk)?;
    let mut store = super::open_store(&super::store_dir(store)?)?;
    super::write_atomic(out, &signed, force, Kind::Evidence)?;
    let logged = store
        .log_append(&[boardproof_ledger::entry::Entry::for_file(&signed)])
        .with_context(|| {
            format!(
                "policy written to {} but NOT logged; append it with `boardproof log append {}`",
                out.display(),
                out.display()
            )
        })?;
    let w = boardproof_evidence::Written::new("policy sign")
        .file(out, "policy", &signed)
        .key(&p.vendor_key_id, sk.algorithm().as_str())
        .logged(store.path(), logged.index, &logged.verifier);
    output::written(&w, json, &format!(
        "trust policy of {} written to {}\nsigned by vendor key {} ({}); valid until {}\n{} manufacturers, {} revoked keys\nlogged as entry {} of {}\n",
        p.vendor,
        out.display(),
        p.vendor_key_id,
        sk.algorithm().as_str(),
        p.valid_until,
        p.manufacturers.len(),
        p.revoked.len(),
        logged.index,
        store.path().display()
    ))?;
    Ok(Outcome::Clean)
}

pub fn show(path: &Path, vendor_key: Option<&Path>, json: bool) -> anyhow::Result<Outcome> {
    let bytes = super::read(path, Kind::Evidence)?;
    let name = path.display().to_string();
    let (p, checked) = match vendor_key {
        Some(k) => (
            policy::open(&bytes, &keys::load_public_key(k)?).with_context(|| name.clone())?,
            true,
        ),
        None => {
            let env = boardproof_ledger::dsse::Envelope::from_canonical_bytes(&bytes)
                .with_context(|| name.clone())?;
            let p: policy::Policy = serde_json::from_slice(&env.payload_bytes()?)
                .with_context(|| format!("{name}: payload is not a policy"))?;
            (p, false)
        }
    };
    if json {
        output::print(&output::json(&p)?)?;
    } else {
        let mut s = format!(
            "trust policy of {}\nsignature: {}\nissued {}, valid until {}; vendor key {}{}\n",
            p.vendor,
            if checked {
                "verified with the given vendor key"
            } else {
                "NOT checked (pass --vendor-key to check it)"
            },
            p.issued_at,
            p.valid_until,
            p.vendor_key_id,
            if p.require_vendor_cosign {
                "; manifests must be co-signed by the vendor"
            } else {
                ""
            }
        );
        let mut t = output::table(&["manufacturer", "products", "valid", "keys"]);
        for a in &p.manufacturers {
            t.add_row(vec![
                a.name.clone(),
                a.products
                    .iter()
                    .map(|x| x.describe())
                    .collect::<Vec<_>>()
                    .join("\n"),
                format!(
                    "{} .. {}",
                    a.valid_from.as_deref().unwrap_or("*"),
                    a.valid_until.as_deref().unwrap_or("*")
                ),
                a.keys
                    .iter()
                    .map(|k| format!("{} {}", k.algorithm.as_str(), k.key_id))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]);
        }
        s.push_str(&t.to_string());
        s.push('\n');
        for r in &p.revoked {
            s.push_str(&format!(
                "revoked: key {} at {}: {}\n",
                r.key_id, r.revoked_at, r.reason
            ));
        }
        output::print(&s)?;
    }
    if !checked {
        eprintln!("boardproof: warning: {name}: signature not checked (no --vendor-key)");
    }
    Ok(Outcome::Clean)
}

// The arguments of `boardproof policy sign`.
#[derive(clap::Args, Debug)]
pub struct Sign {
    /// The policy input (JSON).
    pub input: PathBuf,
    /// The vendor's private key.
    #[arg(long)]
    pub key: PathBuf,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub store: super::StoreArg,
    #[command(flatten)]
    pub force: super::Force,
}

impl Sign {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            input,
            key,
            out,
            store: super::StoreArg { store },
            force: super::Force { force },
        } = self;
        sign(&input, &key, &out, store, force, json)
    }
}

// The arguments of `boardproof policy show`.
#[derive(clap::Args, Debug)]
pub struct Show {
    /// Policy file.
    pub policy: PathBuf,
    /// The vendor's public key.
    #[arg(long)]
    pub vendor_key: Option<PathBuf>,
}

impl Show {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { policy, vendor_key } = self;
        show(&policy, vendor_key.as_deref(), json)
    }
}

// The `boardproof policy` commands.
#[derive(clap::Subcommand, Debug)]
pub enum PolicyCommand {
    /// Sign a policy written as JSON (see docs/chain-of-custody.md) with the vendor's root
    /// key; the keys it names (PEM files, relative to it) are embedded. The policy is
    /// appended to the store's log.
    Sign(Sign),
    /// Show a policy; checks its signature when --vendor-key is given.
    Show(Show),
}

impl PolicyCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            PolicyCommand::Sign(a) => a.run(json),
            PolicyCommand::Show(a) => a.run(json),
        }
    }
}
