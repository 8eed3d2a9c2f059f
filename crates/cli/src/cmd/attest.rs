//! `boardproof attest keys|challenge`, and the quote `collect --challenge` adds.
//!
//! The round, with the verifier on another machine:
//! 1. server: `boardproof attest keys --out keys.json`
//! 2. verifier: `boardproof attest challenge keys.json --ek-ca CA.pem --out challenge.json
//!    --secret-out secret.json` (secret.json stays with the verifier)
//! 3. server: `boardproof collect --challenge challenge.json --out evidence.json`
//! 4. verifier: `boardproof verify evidence.json --challenge-secret secret.json --ek-ca CA.pem ...`

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use boardproof_attest::{ekcert, round};
use boardproof_collect::tpm2;
use boardproof_evidence::{
    AttestationChallenge, AttestationKeys, AttestationSecret, ATTEST_CHALLENGE_SCHEMA,
    ATTEST_KEYS_SCHEMA, ATTEST_SECRET_SCHEMA,
};

use super::Kind;
use crate::output;
use crate::Outcome;

/// The TPM device the kernel's resource manager offers.
pub const DEFAULT_TPM: &str = "/dev/tpmrm0";

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let bytes = super::read(path, Kind::Document)?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a valid {what}", path.display()))
}

fn check_schema(path: &Path, found: &str, want: &str) -> anyhow::Result<()> {
    if found != want {
        bail!("{}: schema {found:?}, expected {want:?}", path.display());
    }
    Ok(())
}

/// Reads a CA set: every certificate in every file.
pub fn read_cas(files: &[PathBuf]) -> anyhow::Result<Vec<ekcert::Certificate>> {
    let mut out = Vec::new();
    for f in files {
        let bytes = super::read(f, Kind::Certificate)?;
        out.extend(ekcert::read_certificates(&bytes).with_context(|| format!("{}", f.display()))?);
    }
    Ok(out)
}

fn to_json<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// `attest keys`: the EK, its certificate and the AK of this TPM.
pub fn keys(
    tpm_path: &Path,
    out: Option<&Path>,
    force: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let mut tpm = tpm2::open(tpm_path).with_context(|| format!("TPM {}", tpm_path.display()))?;
    let k = tpm
        .keys()
        .with_context(|| format!("TPM {}", tpm_path.display()))?;
    let _ = tpm.flush(k.ak.handle);
    let _ = tpm.flush(k.ek.handle);
    let doc = AttestationKeys {
        schema: ATTEST_KEYS_SCHEMA.into(),
        ek_public: hex::encode(&k.ek.public),
        ek_certificate: k.ek_certificate.as_ref().map(hex::encode),
        ak_public: hex::encode(&k.ak.public),
    };
    let text = to_json(&doc)?;
    match out {
        Some(p) => {
            super::write_atomic(p, text.as_bytes(), force, Kind::Document)?;
            let mut w = boardproof_evidence::Written::new("attest keys").file(
                p,
                "attestation keys",
                text.as_bytes(),
            );
            if k.ek_certificate.is_none() {
                w.notes
                    .push("this TPM holds no EK certificate in NV".into());
            }
            if json {
                output::print(&output::json(&w)?)?;
            } else {
                for n in &w.notes {
                    eprintln!("boardproof: note: {n}");
                }
                eprintln!("keys written to {}", p.display());
            }
        }
        None => output::print(&text)?,
    }
    Ok(Outcome::Clean)
}

/// `attest challenge`: checks the reported EK (and its certificate, given CAs) and AK, and
/// writes a challenge for the server and the secret the verifier keeps.
pub fn challenge(
    keys_path: &Path,
    ek_ca: &[PathBuf],
    out: &Path,
    secret_out: &Path,
    force: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let k: AttestationKeys = read_json(keys_path, "attestation keys document")?;
    if ek_ca.is_empty() {
        eprintln!(
            "boardproof: note: no --ek-ca: the EK is not checked against a TPM vendor now (verify \
             can check it later with --ek-ca)"
        );
    }
    let cas = read_cas(ek_ca)?;
    let (challenge, kept) = match round::challenge(&k, &cas, ekcert::unix_now()) {
        Ok(v) => v,
        Err(round::Refused::Untrusted(why)) => {
            eprintln!("boardproof: {}: refused: {why}", keys_path.display());
            return Ok(Outcome::Findings);
        }
        Err(e @ round::Refused::Input(_)) => bail!("{}: {e}", keys_path.display()),
    };
    // The secret first, readable by its owner only: a challenge without its secret is useless,
    // a secret without its challenge harmless.
    let secret = to_json(&kept)?;
    let sent = to_json(&challenge)?;
    // Both sizes are checked before either file is written (write_atomic checks `out` again).
    boardproof_input::check_writable(secret_out, secret.len(), Kind::Document)?;
    boardproof_input::check_writable(out, sent.len(), Kind::Document)?;
    boardproof_ledger::keys::write_new(secret_out, secret.as_bytes(), 0o600, force)?;
    super::write_atomic(out, sent.as_bytes(), force, Kind::Document)?;
    if json {
        let w = boardproof_evidence::Written::new("attest challenge")
            .secret_file(secret_out, "challenge secret", secret.len() as u64)
            .file(out, "challenge", sent.as_bytes());
        output::print(&output::json(&w)?)?;
    } else {
        eprintln!(
            "challenge written to {} (send it to the server); secret kept in {}",
            out.display(),
            secret_out.display()
        );
    }
    Ok(Outcome::Clean)
}

/// Reads a challenge file (`attest challenge`) for `collect --challenge`.
pub fn read_challenge(path: &Path) -> anyhow::Result<AttestationChallenge> {
    let c: AttestationChallenge = read_json(path, "attestation challenge")?;
    check_schema(path, &c.schema, ATTEST_CHALLENGE_SCHEMA)?;
    Ok(c)
}

/// The verifier's inputs for the quote in an evidence file.
pub fn quote_check(
    secret: Option<&Path>,
    ek_ca: &[PathBuf],
) -> anyhow::Result<Option<boardproof_verify::QuoteCheck>> {
    if secret.is_none() && ek_ca.is_empty() {
        return Ok(None);
    }
    let secret = match secret {
        Some(p) => {
            let s: AttestationSecret = read_json(p, "attestation secret")?;
            check_schema(p, &s.schema, ATTEST_SECRET_SCHEMA)?;
            Some(s)
        }
        None => None,
    };
    Ok(Some(boardproof_verify::QuoteCheck {
        secret,
        ek_cas: read_cas(ek_ca)?,
        now: ekcert::unix_now(),
    }))
}

// The arguments of `boardproof attest keys`.
#[derive(clap::Args, Debug)]
pub struct Keys {
    /// The TPM device or swtpm socket.
    #[arg(long, default_value = DEFAULT_TPM)]
    pub tpm: PathBuf,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub force: super::Force,
}

impl Keys {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            tpm,
            out,
            force: super::Force { force },
        } = self;
        if json && out.is_none() {
            anyhow::bail!(
                "--json describes the file --out writes; without --out the document itself is printed (it is JSON)"
            );
        }
        keys(&tpm, out.as_deref(), force, json)
    }
}

// The arguments of `boardproof attest challenge`.
#[derive(clap::Args, Debug)]
pub struct Challenge {
    /// The server's `attest keys` output.
    pub keys: PathBuf,
    /// CA certificates the EK certificate must chain to; repeatable.
    #[arg(long)]
    pub ek_ca: Vec<PathBuf>,
    /// The challenge to send to the server.
    #[arg(long)]
    pub out: PathBuf,
    /// The secret to keep (mode 0600) for `verify --challenge-secret`.
    #[arg(long)]
    pub secret_out: PathBuf,
    #[command(flatten)]
    pub force: super::Force,
}

impl Challenge {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            keys,
            ek_ca,
            out,
            secret_out,
            force: super::Force { force },
        } = self;
        challenge(&keys, &ek_ca, &out, &secret_out, force, json)
    }
}

// The `boardproof attest` commands.
#[derive(clap::Subcommand, Debug)]
pub enum AttestCommand {
    /// On the server: this TPM's EK (with its certificate from NV) and AK, as JSON.
    Keys(Keys),
    /// On the verifier: check the keys and encrypt a fresh secret to the EK for the AK.
    Challenge(Challenge),
}

impl AttestCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            AttestCommand::Keys(a) => a.run(json),
            AttestCommand::Challenge(a) => a.run(json),
        }
    }
}
