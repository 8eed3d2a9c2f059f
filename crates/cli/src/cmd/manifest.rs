//! `boardproof keygen` and `boardproof manifest create|show`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_ledger::{keys, manifest};

use super::Kind;
use crate::output;
use crate::Outcome;

pub fn keygen(
    prefix: &Path,
    alg: keys::Algorithm,
    force: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let (private, public, id) = keys::generate(prefix, alg, force)?;
    let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let w = boardproof_evidence::Written::new("keygen")
        .secret_file(&private, "private key", len(&private))
        .file(&public, "public key", &std::fs::read(&public)?)
        .key(&id, alg.as_str());
    output::written(
        &w,
        json,
        &format!(
            "private key: {} (mode 0600; keep it offline)\npublic key:  {}\nkey id:      {id}\nalgorithm:   {}\n",
            private.display(),
            public.display(),
            alg.as_str()
        ),
    )?;
    Ok(Outcome::Clean)
}

pub fn default_creator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    format!("{user}@{host}")
}

pub fn create(
    evidence: &Path,
    key: &Path,
    out: &Path,
    creator: Option<String>,
    force: bool,
    store: Option<std::path::PathBuf>,
    json: bool,
) -> anyhow::Result<Outcome> {
    let ev = super::read_evidence(evidence)?;
    let sk = keys::load_private_key(key)?;
    let m = manifest::build(
        &ev,
        &creator.unwrap_or_else(default_creator),
        &sk,
        &boardproof_collect::now_rfc3339(),
    );
    let bytes = manifest::sign(&m, &sk)?;
    // The store is opened before the manifest is written, so a store that cannot be opened
    // leaves no unlogged manifest behind.
    let mut store = super::open_store(&super::store_dir(store)?)?;
    super::write_atomic(out, &bytes, force, Kind::Evidence)?;
    let logged = store
        .log_append(&[boardproof_ledger::entry::Entry::for_file(&bytes)])
        .with_context(|| {
            format!(
                "manifest written to {} but NOT logged; append it with `boardproof log append {}`",
                out.display(),
                out.display()
            )
        })?;
    let mut w = boardproof_evidence::Written::new("manifest create")
        .file(out, "manifest", &bytes)
        .key(&m.created_by.key_id, sk.algorithm().as_str())
        .logged(store.path(), logged.index, &logged.verifier);
    w.notes.push(format!(
        "{} components, {} kernel modules, {} ACPI tables",
        m.reference.inventory.components.len(),
        m.reference.inventory.kernel_modules.len(),
        m.reference.inventory.acpi_tables.len()
    ));
    let mut s = format!(
        "manifest written to {}\nhost: {}\nsigned by key {}\nlogged as entry {} of {} (`boardproof log prove {}`)\n",
        out.display(),
        m.host.describe(),
        m.created_by.key_id,
        logged.index,
        store.path().display(),
        out.display()
    );
    s.push_str(&format!(
        "{} components, {} kernel modules, {} ACPI tables\n",
        m.reference.inventory.components.len(),
        m.reference.inventory.kernel_modules.len(),
        m.reference.inventory.acpi_tables.len()
    ));
    for src in ev
        .sources
        .iter()
        .filter(|s| s.status != boardproof_evidence::SourceStatus::Ok)
    {
        let note = format!(
            "source {} was {} ({}); the manifest records that",
            src.name,
            src.status.as_str(),
            src.reason.as_deref().unwrap_or("no reason")
        );
        s.push_str(&format!("note: {note}\n"));
        w.notes.push(note);
    }
    output::written(&w, json, &s)?;
    Ok(Outcome::Clean)
}

pub fn cosign(path: &Path, key: &Path, out: Option<&Path>, json: bool) -> anyhow::Result<Outcome> {
    let sk = keys::load_private_key(key)?;
    let bytes = super::read(path, Kind::Evidence)?;
    let name = path.display().to_string();
    let mut env = boardproof_ledger::dsse::Envelope::from_canonical_bytes(&bytes)
        .with_context(|| name.clone())?;
    if env.payload_type != manifest::MANIFEST_PAYLOAD_TYPE {
        anyhow::bail!(
            "{name}: not a boardproof manifest (payload type {})",
            env.payload_type
        );
    }
    manifest::open_unverified(&bytes).with_context(|| name.clone())?;
    env.cosign(&sk).with_context(|| name.clone())?;
    let target = out.unwrap_or(path);
    // In place is a replacement by design; a separate --out must not overwrite silently.
    let signed = env.to_canonical_bytes();
    super::write_atomic(target, &signed, out.is_none(), Kind::Evidence)?;
    let mut w = boardproof_evidence::Written::new("manifest cosign")
        .file(target, "manifest", &signed)
        .key(&sk.public().key_id(), sk.algorithm().as_str());
    w.notes.push(format!(
        "{} signatures; the payload, and so its log entry, is unchanged",
        env.signatures.len()
    ));
    output::written(
        &w,
        json,
        &format!(
            "co-signed with key {} ({}): {} signatures on {}\n",
            sk.public().key_id(),
            sk.algorithm().as_str(),
            env.signatures.len(),
            target.display()
        ),
    )?;
    Ok(Outcome::Clean)
}

pub fn show(path: &Path, pubkey: Option<&Path>, json: bool) -> anyhow::Result<Outcome> {
    let bytes = super::read(path, Kind::Evidence)?;
    let name = path.display().to_string();
    let (m, checked) = match pubkey {
        Some(p) => {
            let vk = keys::load_public_key(p)?;
            (
                manifest::open(&bytes, &vk).with_context(|| name.clone())?,
                true,
            )
        }
        None => (
            manifest::open_unverified(&bytes).with_context(|| name.clone())?,
            false,
        ),
    };
    if json {
        output::print(&output::json(&m)?)?;
    } else {
        let mut s = format!(
            "manifest {}\nsignature: {}\ncreated {} by {} (key {})\nhost: {}\n",
            path.display(),
            if checked {
                "verified with the given public key"
            } else {
                "NOT checked (pass --pubkey to check it)"
            },
            m.created_at,
            m.created_by.name,
            m.created_by.key_id,
            m.host.describe()
        );
        let mut t = output::table(&["class", "location", "identity"]);
        for c in &m.reference.inventory.components {
            t.add_row(vec![
                c.class.as_str().to_owned(),
                c.location.clone(),
                c.identity_text(),
            ]);
        }
        s.push_str(&t.to_string());
        s.push_str(&format!(
            "\n{} kernel modules, {} ACPI tables, SMBIOS: {}\n",
            m.reference.inventory.kernel_modules.len(),
            m.reference.inventory.acpi_tables.len(),
            m.reference
                .inventory
                .smbios
                .as_ref()
                .map_or("none".to_owned(), |sm| format!(
                    "{} structures",
                    sm.structures.len()
                ))
        ));
        output::print(&s)?;
    }
    if !checked {
        eprintln!("boardproof: warning: {name}: signature not checked (no --pubkey)");
    }
    Ok(Outcome::Clean)
}

// The arguments of `boardproof keygen`.
#[derive(clap::Args, Debug)]
pub struct Keygen {
    /// Path prefix of the two files.
    #[arg(long)]
    pub out: PathBuf,
    /// `ed25519` or `ecdsa-p256`.
    #[arg(long, default_value = "ed25519", value_parser = parse_algorithm)]
    pub algorithm: boardproof_ledger::keys::Algorithm,
    #[command(flatten)]
    pub force: super::Force,
}

impl Keygen {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            out,
            algorithm,
            force: super::Force { force },
        } = self;
        keygen(&out, algorithm, force, json)
    }
}

// The arguments of `boardproof manifest create`.
#[derive(clap::Args, Debug)]
pub struct Create {
    /// Evidence JSON file.
    pub evidence: PathBuf,
    /// Private key (PKCS#8 PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    /// Who makes it (default: user@hostname).
    #[arg(long)]
    pub creator: Option<String>,
    #[command(flatten)]
    pub force: super::Force,
    #[command(flatten)]
    pub store: super::StoreArg,
}

impl Create {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            evidence,
            key,
            out,
            creator,
            force: super::Force { force },
            store: super::StoreArg { store },
        } = self;
        create(&evidence, &key, &out, creator, force, store, json)
    }
}

// The arguments of `boardproof manifest cosign`.
#[derive(clap::Args, Debug)]
pub struct Cosign {
    /// Manifest file.
    pub manifest: PathBuf,
    /// The co-signer's private key.
    #[arg(long)]
    pub key: PathBuf,
    /// Write here instead of replacing the manifest.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl Cosign {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { manifest, key, out } = self;
        cosign(&manifest, &key, out.as_deref(), json)
    }
}

// The arguments of `boardproof manifest show`.
#[derive(clap::Args, Debug)]
pub struct Show {
    /// Manifest file.
    pub manifest: PathBuf,
    /// Public key to check the signature with.
    #[arg(long)]
    pub pubkey: Option<PathBuf>,
}

impl Show {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { manifest, pubkey } = self;
        show(&manifest, pubkey.as_deref(), json)
    }
}

// The `boardproof manifest` commands.
#[derive(clap::Subcommand, Debug)]
pub enum ManifestCommand {
    /// Sign the identity fields of an evidence file as a manifest.
    Create(Create),
    /// Add a co-signature (e.g. the vendor's) to a manifest, in place or to --out. The payload
    /// is unchanged, so its log entry stays the same.
    Cosign(Cosign),
    /// Show a manifest; checks its signature when --pubkey is given.
    Show(Show),
}

impl ManifestCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            ManifestCommand::Create(a) => a.run(json),
            ManifestCommand::Cosign(a) => a.run(json),
            ManifestCommand::Show(a) => a.run(json),
        }
    }
}

fn parse_algorithm(s: &str) -> Result<boardproof_ledger::keys::Algorithm, String> {
    use boardproof_ledger::keys::Algorithm;
    [Algorithm::Ed25519, Algorithm::EcdsaP256]
        .into_iter()
        .find(|a| a.as_str() == s)
        .ok_or_else(|| format!("{s:?}: expected ed25519 or ecdsa-p256"))
}
