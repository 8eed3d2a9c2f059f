//! `boardproof log init|append|show|prove|verify-proof|consistency|audit`: the transparency log
//! in the store, and offline checks of its proofs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_ledger::documents::{self, LogAppend, LogShow, LogVerifyProof};
use boardproof_ledger::entry::Entry;
use boardproof_ledger::proof::{Proof, ProofFile};
use boardproof_ledger::store::Store;
use boardproof_ledger::{keys, tlog, Error as LedgerError};

use super::Kind;
use crate::output;
use crate::Outcome;

/// The store for a command that writes to the log (created when missing).
fn open(store: Option<PathBuf>) -> anyhow::Result<Store> {
    super::open_store(&super::store_dir(store)?)
}

/// The store for a command that only reads: a missing one is an error, never created.
fn open_existing(store: Option<PathBuf>) -> anyhow::Result<Store> {
    Ok(Store::open_existing(&super::store_dir(store)?)?)
}

/// A verifier key given on the command line: the key itself (`name+id+base64`) or a file
/// holding it on its first line (what `log show --verifier` prints).
pub fn read_verifier(arg: &str) -> anyhow::Result<String> {
    // `name+hex8+base64`; the base64 may itself hold `+`.
    fn looks_like(s: &str) -> bool {
        let mut parts = s.splitn(3, '+');
        let (name, id, key) = (parts.next(), parts.next(), parts.next());
        name.is_some_and(|n| !n.is_empty())
            && id.is_some_and(|i| i.len() == 8 && i.bytes().all(|b| b.is_ascii_hexdigit()))
            && key.is_some_and(|k| !k.is_empty())
    }
    let p = Path::new(arg);
    if looks_like(arg) && !p.exists() {
        return Ok(arg.to_owned());
    }
    let bytes = super::read(p, Kind::Proof)?;
    let text =
        std::str::from_utf8(&bytes).with_context(|| format!("{}: not UTF-8 text", p.display()))?;
    let line = text.lines().next().unwrap_or("").trim();
    if !looks_like(line) {
        anyhow::bail!(
            "{}: not a verifier key (expected one line `name+id+base64`)",
            p.display()
        );
    }
    Ok(line.to_owned())
}

pub fn init(
    store: Option<PathBuf>,
    origin: Option<String>,
    key: Option<&Path>,
    json: bool,
) -> anyhow::Result<Outcome> {
    let mut s = open(store)?;
    let sk = key.map(keys::load_signing_key).transpose()?;
    let lk = match origin {
        Some(o) => s.log_init(&o, sk)?,
        None if sk.is_none() => s.log_key()?,
        None => anyhow::bail!("--key needs --origin (the log's name)"),
    };
    let key_file = s.dir().join(boardproof_ledger::store::LOG_KEY_FILE);
    let len = std::fs::metadata(&key_file).map(|m| m.len()).unwrap_or(0);
    let mut w = boardproof_evidence::Written::new("log init")
        .secret_file(&key_file, "log private key", len)
        .key(&lk.verifier, "ed25519");
    w.notes.push(format!("log {}", lk.origin));
    output::written(
        &w,
        json,
        &format!(
            "log {}\nverifier key: {}\n(give the verifier key to whoever checks this log's proofs)\n",
            lk.origin, lk.verifier
        ),
    )?;
    Ok(Outcome::Clean)
}

pub fn append(store: Option<PathBuf>, files: &[PathBuf], json: bool) -> anyhow::Result<Outcome> {
    // Every file is read before anything is appended: a bad path appends nothing.
    let mut entries = Vec::with_capacity(files.len());
    for f in files {
        entries.push(Entry::for_file(&super::read(f, Kind::Evidence)?));
    }
    let mut s = open(store)?;
    let logged = s.log_append(&entries)?;
    let out = LogAppend {
        schema: documents::LOG_APPEND_SCHEMA.into(),
        entries: files
            .iter()
            .zip(entries)
            .enumerate()
            .map(|(i, (f, entry))| documents::Appended {
                file: f.display().to_string(),
                index: logged.index.saturating_add(i as u64),
                entry,
            })
            .collect(),
        size: logged.index.saturating_add(files.len() as u64),
        verifier: logged.verifier,
        checkpoint: String::from_utf8_lossy(&logged.checkpoint).into_owned(),
    };
    if json {
        output::print(&output::json(&out)?)?;
    } else {
        let mut t = output::table(&["entry", "kind", "sha256", "file"]);
        for a in &out.entries {
            t.add_row(vec![
                a.index.to_string(),
                a.entry.kind.as_str().to_owned(),
                a.entry.sha256.clone(),
                a.file.clone(),
            ]);
        }
        output::print(&format!(
            "{t}\nlog size now {}; checkpoint:\n{}",
            out.size, out.checkpoint
        ))?;
    }
    Ok(Outcome::Clean)
}

pub fn show(
    store: Option<PathBuf>,
    last: u64,
    verifier_only: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let s = open_existing(store)?;
    let verifier = s.log_verifier()?;
    if verifier_only {
        let Some(v) = verifier else {
            eprintln!("boardproof: the log in this store was never started (`log init`)");
            return Ok(Outcome::CouldNotVerify);
        };
        output::print(&v)?;
        return Ok(Outcome::Clean);
    }
    let size = tlog::size(s.log_conn())?;
    let root = hex::encode(tlog::root(s.log_conn(), size)?);
    let checkpoint = s
        .log_checkpoint(size)?
        .map(|c| String::from_utf8_lossy(&c).into_owned());
    let entries = s
        .log_entries(size.saturating_sub(last), size)?
        .into_iter()
        .map(|(index, leaf, appended_at)| {
            let entry = Entry::from_leaf(&leaf).ok();
            documents::ShownEntry {
                index,
                appended_at,
                leaf_hex: entry.is_none().then(|| hex::encode(&leaf)),
                entry,
            }
        })
        .collect();
    let out = LogShow {
        schema: documents::LOG_SHOW_SCHEMA.into(),
        origin: verifier
            .as_deref()
            .and_then(|v| v.split('+').next())
            .map(str::to_owned),
        verifier,
        size,
        root,
        checkpoint,
        entries,
    };
    if json {
        output::print(&output::json(&out)?)?;
        return Ok(Outcome::Clean);
    }
    let mut text = format!(
        "log {}\nverifier key: {}\nsize: {}\nroot: {}\n",
        out.origin.as_deref().unwrap_or("(not started)"),
        out.verifier.as_deref().unwrap_or("(none)"),
        out.size,
        out.root
    );
    let mut t = output::table(&["entry", "appended", "kind", "sha256"]);
    for e in &out.entries {
        let (kind, digest) = match &e.entry {
            Some(en) => (en.kind.as_str().to_owned(), en.sha256.clone()),
            None => (
                "(not a boardproof entry)".to_owned(),
                e.leaf_hex.clone().unwrap_or_default(),
            ),
        };
        t.add_row(vec![
            e.index.to_string(),
            e.appended_at.clone(),
            kind,
            digest,
        ]);
    }
    if !out.entries.is_empty() {
        text.push_str(&format!("last {} entries:\n{t}\n", out.entries.len()));
    }
    if let Some(c) = &out.checkpoint {
        text.push_str(&format!("latest checkpoint:\n{c}"));
    }
    output::print(&text)?;
    Ok(Outcome::Clean)
}

/// An entry given as an index or as a file (found by its entry).
fn resolve_entry(s: &Store, entry: &str) -> anyhow::Result<u64> {
    if let Ok(n) = entry.parse::<u64>() {
        if !Path::new(entry).exists() {
            return Ok(n);
        }
    }
    let p = Path::new(entry);
    let e = Entry::for_file(&super::read(p, Kind::Evidence)?);
    s.log_find(&e.to_leaf())?.with_context(|| {
        format!(
            "{}: not in this log (no {} entry with sha256 {})",
            p.display(),
            e.kind.as_str(),
            e.sha256
        )
    })
}

pub fn prove(
    store: Option<PathBuf>,
    entry: &str,
    size: Option<u64>,
    out: Option<&Path>,
    force: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let s = open_existing(store)?;
    if s.log_verifier()?.is_none() {
        anyhow::bail!("the log in this store was never started: nothing to prove");
    }
    let n = resolve_entry(&s, entry)?;
    let t = match size {
        Some(t) => t,
        None => tlog::size(s.log_conn())?,
    };
    let file = s.log_proof(n, Some(t))?;
    let bytes = file.to_bytes()?;
    write_or_print(&bytes, out, force)?;
    if let Some(o) = out {
        let text = format!(
            "inclusion proof of entry {n} in the checkpoint of {t} entries written to {}",
            o.display()
        );
        if json {
            let verifier = s.log_verifier()?.unwrap_or_default();
            let mut w = boardproof_evidence::Written::new("log prove")
                .file(o, "proof", &bytes)
                .logged(s.path(), n, &verifier);
            w.notes.push(format!("in the checkpoint of {t} entries"));
            output::print(&output::json(&w)?)?;
        } else {
            eprintln!("boardproof: {text}");
        }
    }
    Ok(Outcome::Clean)
}

fn write_or_print(bytes: &[u8], out: Option<&Path>, force: bool) -> anyhow::Result<()> {
    match out {
        Some(p) => super::write_atomic(p, bytes, force, Kind::Proof),
        None => output::print(&String::from_utf8_lossy(bytes)),
    }
}

/// Proof failures (integrity) are exit 1; unreadable input is exit 2.
fn is_integrity(e: &LedgerError) -> bool {
    matches!(e, LedgerError::LogProof(_) | LedgerError::LogSignature(_))
}

pub fn verify_proof(
    proof: &Path,
    verifier: &str,
    file: Option<&Path>,
    json: bool,
) -> anyhow::Result<Outcome> {
    let verifier = read_verifier(verifier)?;
    let bytes = super::read(proof, Kind::Proof)?;
    let pf = ProofFile::from_bytes(&bytes).with_context(|| proof.display().to_string())?;
    let file_entry = match file {
        Some(f) => Some(Entry::for_file(&super::read(f, Kind::Evidence)?)),
        None => None,
    };
    if file_entry.is_some() && !matches!(pf.proof, Proof::Inclusion { .. }) {
        anyhow::bail!(
            "--file goes with an inclusion proof; {} is a consistency proof",
            proof.display()
        );
    }
    let result = pf.check(&verifier).and_then(|c| {
        if let (Some(want), Some((_, got))) = (&file_entry, &c.entry) {
            if want != got {
                return Err(LedgerError::LogProof(format!(
                    "the proof is for {} entry {}, but the file gives {} entry {}",
                    got.kind.as_str(),
                    got.sha256,
                    want.kind.as_str(),
                    want.sha256
                )));
            }
        }
        Ok(c)
    });
    let (outcome, out) = match result {
        Ok(c) => (
            Outcome::Clean,
            LogVerifyProof {
                schema: documents::LOG_VERIFY_PROOF_SCHEMA.into(),
                proven: true,
                reason: None,
                checked: Some(c),
                file: file.map(|f| f.display().to_string()),
            },
        ),
        Err(e) if is_integrity(&e) => (
            Outcome::Findings,
            LogVerifyProof {
                schema: documents::LOG_VERIFY_PROOF_SCHEMA.into(),
                proven: false,
                reason: Some(e.to_string()),
                checked: None,
                file: file.map(|f| f.display().to_string()),
            },
        ),
        Err(e) => return Err(anyhow::Error::new(e).context(proof.display().to_string())),
    };
    if json {
        output::print(&output::json(&out)?)?;
        return Ok(outcome);
    }
    let text = match (&out.checked, &out.reason) {
        (Some(c), _) => match (&c.entry, c.old_size) {
            (Some((n, e)), _) => format!(
                "PROVEN: {} entry {} (sha256 {}){} is in log {} at size {} (root {}), signed by {verifier}\n",
                e.kind.as_str(),
                n,
                e.sha256,
                file.map(|f| format!(", which is {}", f.display()))
                    .unwrap_or_default(),
                c.origin,
                c.size,
                c.root
            ),
            (None, Some(old)) => format!(
                "PROVEN: log {} at size {} (root {}) extends its checkpoint of size {old}, both signed by {verifier}\n",
                c.origin, c.size, c.root
            ),
            (None, None) => String::new(),
        },
        (None, Some(r)) => format!("NOT PROVEN: {r}\n"),
        (None, None) => String::new(),
    };
    output::print(&text)?;
    Ok(outcome)
}

/// A checkpoint given as a size of this log (its stored checkpoint) or a file someone kept.
fn checkpoint_arg(s: &Store, arg: &str) -> anyhow::Result<Vec<u8>> {
    if let Ok(n) = arg.parse::<u64>() {
        if !Path::new(arg).exists() {
            return s
                .log_checkpoint(n)?
                .with_context(|| format!("no checkpoint of size {n} was published by this log"));
        }
    }
    super::read(Path::new(arg), Kind::Proof)
}

pub fn consistency(
    store: Option<PathBuf>,
    old: &str,
    new: Option<&str>,
    out: Option<&Path>,
    force: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let s = open_existing(store)?;
    let verifier = s
        .log_verifier()?
        .context("the log in this store was never started")?;
    let old_note = checkpoint_arg(&s, old)?;
    let new_note = match new {
        Some(n) => checkpoint_arg(&s, n)?,
        None => {
            let t = tlog::size(s.log_conn())?;
            s.log_checkpoint(t)?
                .with_context(|| format!("no checkpoint of size {t} was published"))?
        }
    };
    let size_of = |note: &[u8], which: &str| -> anyhow::Result<u64> {
        match tlog::open_checkpoint(note, &verifier) {
            Ok((_, n, _)) => Ok(n),
            Err(e) => Err(anyhow::Error::new(e).context(format!("{which} checkpoint"))),
        }
    };
    let (m, t) = (size_of(&old_note, "old")?, size_of(&new_note, "new")?);
    let proof = if m == 0 || m == t {
        Vec::new()
    } else {
        tlog::prove_consistency(s.log_conn(), m, t)?
    };
    let file = ProofFile::consistency(&verifier, &old_note, &new_note, &proof)?;
    let checked = file.check(&verifier);
    if let Some(o) = out {
        if checked.is_ok() {
            super::write_atomic(o, &file.to_bytes()?, force, Kind::Proof)?;
        }
    }
    let (outcome, reason) = match &checked {
        Ok(_) => (Outcome::Clean, None),
        Err(e) if is_integrity(e) => (Outcome::Findings, Some(e.to_string())),
        Err(e) => anyhow::bail!("{e}"),
    };
    if json {
        output::print(&output::json(&documents::LogConsistency {
            schema: documents::LOG_CONSISTENCY_SCHEMA.into(),
            consistent: reason.is_none(),
            old_size: m,
            new_size: t,
            proof: reason.is_none().then(|| file.clone()),
            reason,
        })?)?;
    } else if let Some(r) = reason {
        output::print(&format!(
            "INCONSISTENT: the log's checkpoint of {t} entries does not extend the checkpoint of {m}: {r}\n"
        ))?;
    } else {
        output::print(&format!(
            "consistent: the checkpoint of {t} entries extends the checkpoint of {m}{}\n",
            out.map(|o| format!("; proof written to {}", o.display()))
                .unwrap_or_default()
        ))?;
    }
    Ok(outcome)
}

pub fn audit(store: Option<PathBuf>, kept: &[PathBuf], json: bool) -> anyhow::Result<Outcome> {
    let s = open_existing(store)?;
    let Some(verifier) = s.log_verifier()? else {
        if tlog::size(s.log_conn())? > 0 {
            anyhow::bail!("the log holds entries but no verifier key: the store was edited");
        }
        if let Some(k) = kept.first() {
            anyhow::bail!(
                "{}: the log in this store was never started, so no kept checkpoint can be checked",
                k.display()
            );
        }
        let rows = s.check_rows()?;
        if !rows.ok() {
            anyhow::bail!("{}: {}", s.path().display(), rows.problems.join("; "));
        }
        output::print("the log in this store was never started: nothing to audit\n")?;
        return Ok(Outcome::Clean);
    };
    let mut a = tlog::audit(s.log_conn(), &verifier)?;
    // The store's scan, baseline and verdict rows, each against the entry it is bound to
    // (the log's own problems are already in `a`).
    let rows = s.check_rows()?;
    a.problems.extend(
        rows.problems
            .iter()
            .filter(|p| !p.starts_with("the log itself: "))
            .cloned(),
    );
    // Checkpoints a monitor or customer kept: each must be one this log's entries give.
    for k in kept {
        let note = super::read(k, Kind::Proof)?;
        match tlog::open_checkpoint(&note, &verifier) {
            Ok((_, n, _)) if n > a.leaves => a.problems.push(format!(
                "{}: a checkpoint of {n} entries, but the log holds {}",
                k.display(),
                a.leaves
            )),
            Ok((_, n, root)) => match tlog::root(s.log_conn(), n) {
                Ok(r) if r == root => a.checkpoints = a.checkpoints.saturating_add(1),
                Ok(_) => a.problems.push(format!(
                    "{}: the checkpoint of {n} entries does not match the log's entries (the log was rewritten, or forked)",
                    k.display()
                )),
                Err(e) => a.problems.push(format!("{}: {e}", k.display())),
            },
            // Not a checkpoint this log signed: nothing to compare it with.
            Err(e) => anyhow::bail!(
                "{}: not a checkpoint of this log ({}): {e}",
                k.display(),
                verifier
            ),
        }
    }
    let outcome = if a.problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    };
    if json {
        output::print(&output::json(&documents::LogAudit {
            schema: documents::LOG_AUDIT_SCHEMA.into(),
            verifier: verifier.clone(),
            leaves: a.leaves,
            checkpoints: a.checkpoints,
            rows: rows.rows,
            sound: a.problems.is_empty(),
            problems: a.problems.clone(),
        })?)?;
        return Ok(outcome);
    }
    let mut text = format!(
        "replayed {} entries and checked {} checkpoints against them (verifier key {verifier}); checked {} store rows against their entries\n",
        a.leaves, a.checkpoints, rows.rows
    );
    if a.problems.is_empty() {
        text.push_str("sound: every checkpoint this log published matches its entries, and every scan, baseline and verdict row its entry\n");
    } else {
        text.push_str(&format!("{} PROBLEMS:\n", a.problems.len()));
        for p in &a.problems {
            text.push_str(&format!("  - {p}\n"));
        }
    }
    output::print(&text)?;
    Ok(outcome)
}

// The arguments of `boardproof log init`.
#[derive(clap::Args, Debug)]
pub struct Init {
    #[command(flatten)]
    pub store: super::StoreArg,
    /// The log's name, on every checkpoint (e.g. `factory.example.com/boardproof`).
    #[arg(long)]
    pub origin: Option<String>,
    /// Use this Ed25519 private key (PKCS#8 PEM) instead of a new one.
    #[arg(long, requires = "origin")]
    pub key: Option<PathBuf>,
}

impl Init {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            store: super::StoreArg { store },
            origin,
            key,
        } = self;
        init(store, origin, key.as_deref(), json)
    }
}

// The arguments of `boardproof log append`.
#[derive(clap::Args, Debug)]
pub struct Append {
    /// Files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub store: super::StoreArg,
}

impl Append {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            files,
            store: super::StoreArg { store },
        } = self;
        append(store, &files, json)
    }
}

// The arguments of `boardproof log show`.
#[derive(clap::Args, Debug)]
pub struct Show {
    #[command(flatten)]
    pub store: super::StoreArg,
    /// How many of the last entries to list.
    #[arg(long, default_value_t = 20)]
    pub last: u64,
    /// Print only the verifier key (to hand to auditors).
    #[arg(long)]
    pub verifier: bool,
}

impl Show {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            store: super::StoreArg { store },
            last,
            verifier,
        } = self;
        show(store, last, verifier, json)
    }
}

// The arguments of `boardproof log prove`.
#[derive(clap::Args, Debug)]
pub struct Prove {
    /// Entry index, or a file.
    pub entry: String,
    /// Prove in the checkpoint of this size instead of the latest.
    #[arg(long)]
    pub size: Option<u64>,
    #[command(flatten)]
    pub store: super::StoreArg,
    /// Write the proof here (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub force: super::Force,
}

impl Prove {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            entry,
            size,
            store: super::StoreArg { store },
            out,
            force: super::Force { force },
        } = self;
        if json && out.is_none() {
            anyhow::bail!(
                "--json describes the file --out writes; without --out the document itself is printed (it is JSON)"
            );
        }
        prove(store, &entry, size, out.as_deref(), force, json)
    }
}

// The arguments of `boardproof log verify-proof`.
#[derive(clap::Args, Debug)]
pub struct VerifyProof {
    /// Proof file (`log prove` or `log consistency --out`).
    pub proof: PathBuf,
    /// The log's verifier key, or a file holding it (`log show --verifier`).
    #[arg(long)]
    pub verifier: String,
    /// For an inclusion proof: the file that must be the proven entry.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

impl VerifyProof {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            proof,
            verifier,
            file,
        } = self;
        verify_proof(&proof, &verifier, file.as_deref(), json)
    }
}

// The arguments of `boardproof log consistency`.
#[derive(clap::Args, Debug)]
pub struct Consistency {
    /// Older checkpoint: a size or a file.
    pub old: String,
    /// Newer checkpoint: a size or a file (default: the latest).
    pub new: Option<String>,
    #[command(flatten)]
    pub store: super::StoreArg,
    /// Write the proof file here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub force: super::Force,
}

impl Consistency {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            old,
            new,
            store: super::StoreArg { store },
            out,
            force: super::Force { force },
        } = self;
        consistency(store, &old, new.as_deref(), out.as_deref(), force, json)
    }
}

// The arguments of `boardproof log audit`.
#[derive(clap::Args, Debug)]
pub struct Audit {
    #[command(flatten)]
    pub store: super::StoreArg,
    /// A checkpoint a monitor or customer kept; repeatable.
    #[arg(long)]
    pub checkpoint: Vec<PathBuf>,
}

impl Audit {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            store: super::StoreArg { store },
            checkpoint,
        } = self;
        audit(store, &checkpoint, json)
    }
}

// The `boardproof log` commands.
#[derive(clap::Subcommand, Debug)]
pub enum LogCommand {
    /// Start the store's log: its name (origin) and Ed25519 key. Without this, the first
    /// append starts it as `boardproof.local/HOSTNAME` with a new key.
    Init(Init),
    /// Append files: a signed file (DSSE: manifest, policy, verdict) by the SHA-256 of its
    /// payload, anything else by the SHA-256 of its bytes. All or none are appended.
    Append(Append),
    /// Size, root, verifier key, latest checkpoint and the last entries.
    Show(Show),
    /// Write the inclusion proof of ENTRY (an index, or a file that was appended) in the
    /// latest checkpoint (or the one of --size).
    Prove(Prove),
    /// Offline, no store: check a proof file with the log's verifier key. Exit 0 proven,
    /// 1 not proven, 2 unreadable.
    VerifyProof(VerifyProof),
    /// Prove that the log's checkpoint NEW (default: latest) extends OLD. Each is a size of
    /// this log or a checkpoint file someone kept. Exit 1 when it does not.
    Consistency(Consistency),
    /// Replay every entry, recompute every stored hash and check every checkpoint the log
    /// published (and each --checkpoint kept elsewhere). Exit 1 on any problem.
    Audit(Audit),
}

impl LogCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            LogCommand::Init(a) => a.run(json),
            LogCommand::Append(a) => a.run(json),
            LogCommand::Show(a) => a.run(json),
            LogCommand::Prove(a) => a.run(json),
            LogCommand::VerifyProof(a) => a.run(json),
            LogCommand::Consistency(a) => a.run(json),
            LogCommand::Audit(a) => a.run(json),
        }
    }
}
