//! `boardproof corim show|export|verify`: reference values as CoRIM/CoMID.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_ledger::corim::{self, Corim};
use boardproof_ledger::keys;

use super::Kind;
use crate::output;
use crate::Outcome;

fn read(path: &Path, key: Option<&Path>) -> anyhow::Result<Corim> {
    let k = key.map(keys::load_public_key).transpose()?;
    let bytes = super::read(path, Kind::Corim)?;
    corim::parse(&bytes, k.as_ref()).with_context(|| path.display().to_string())
}

fn text(c: &Corim) -> String {
    let mut s = format!(
        "CoRIM {}\nsignature: {}\n",
        c.id.as_deref().unwrap_or("(a bare CoMID)"),
        match &c.signed {
            None => "none (unsigned)".to_owned(),
            Some(x) if x.verified => format!("{} verified with the given key", x.algorithm),
            Some(x) => format!("{} NOT checked (pass --key)", x.algorithm),
        }
    );
    for m in &c.comids {
        s.push_str(&format!("CoMID {}\n", m.tag_id));
        let mut t = output::table(&["environment", "measurement", "digests"]);
        for rt in &m.reference_values {
            let env = rt.environment();
            for ms in &rt.measurements {
                let mut ds: Vec<String> =
                    ms.digests.iter().map(|(a, h)| format!("{a}:{h}")).collect();
                for (i, rd) in &ms.registers {
                    ds.extend(rd.iter().map(|(a, h)| format!("register {i} {a}:{h}")));
                }
                t.add_row(vec![
                    env.clone(),
                    ms.key
                        .clone()
                        .or_else(|| ms.name.clone())
                        .unwrap_or_default(),
                    ds.join("\n"),
                ]);
            }
        }
        s.push_str(&t.to_string());
        s.push('\n');
        for (k, n) in &m.other_triples {
            s.push_str(&format!("({n} {k} triples, not used)\n"));
        }
    }
    s
}

pub fn show(path: &Path, key: Option<&Path>, json: bool) -> anyhow::Result<Outcome> {
    let c = read(path, key)?;
    if json {
        output::print(&output::json(&boardproof_ledger::documents::CorimShow {
            schema: boardproof_ledger::documents::CORIM_SCHEMA.into(),
            corim: c,
        })?)?;
    } else {
        output::print(&text(&c))?;
    }
    Ok(Outcome::Clean)
}

pub fn export(
    evidence: &Path,
    key: &Path,
    out: &Path,
    pcrs: &[u32],
    force: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let sk = keys::load_private_key(key)?;
    let ev = super::read_evidence(evidence)?;
    let host = boardproof_evidence::HostIdentity::of(&ev);
    let mut e = corim::Export {
        id: format!(
            "boardproof:{}:{}",
            host.store_key(),
            ev.volatile.collected_at
        ),
        vendor: host.manufacturer.clone(),
        model: host.product.clone(),
        ..corim::Export::default()
    };
    let mut left_out = Vec::new();
    for (alg, bank) in &ev.volatile.tpm_pcrs {
        if !corim::expressible(alg) {
            left_out.push(alg.as_str());
            continue;
        }
        for (i, v) in bank.iter().filter(|(i, _)| pcrs.contains(i)) {
            e.pcrs.entry(*i).or_default().push((alg.clone(), v.clone()));
        }
    }
    for img in &ev.inventory.firmware {
        for it in &img.items {
            e.named.push((
                boardproof_verify::reference_values::firmware_key(&img.label, &it.path),
                it.name.clone(),
                vec![("sha256".into(), it.sha256.clone())],
            ));
        }
    }
    if !left_out.is_empty() {
        eprintln!(
            "boardproof: note: {}: PCR bank {} not exported: CoRIM digests name their algorithm \
             from the IANA Named Information registry, which has no SHA-1",
            evidence.display(),
            left_out.join(", ")
        );
    }
    let encoded = corim::encode(&e).with_context(|| evidence.display().to_string())?;
    let signed = corim::sign(&encoded, &sk)?;
    super::write_atomic(out, &signed, force, Kind::Corim)?;
    let mut w = boardproof_evidence::Written::new("corim export")
        .file(out, "corim", &signed)
        .key(&sk.public().key_id(), sk.algorithm().as_str());
    w.notes.push(format!(
        "{} PCRs, {} firmware items",
        e.pcrs.len(),
        e.named.len()
    ));
    if !left_out.is_empty() {
        w.notes.push(format!(
            "PCR bank {} not exported (the IANA Named Information registry has no SHA-1)",
            left_out.join(", ")
        ));
    }
    output::written(
        &w,
        json,
        &format!(
            "CoRIM {} written to {} (COSE_Sign1, {} key {}): {} PCRs, {} firmware items\n",
            e.id,
            out.display(),
            sk.algorithm().as_str(),
            sk.public().key_id(),
            e.pcrs.len(),
            e.named.len()
        ),
    )?;
    if e.pcrs.is_empty() && e.named.is_empty() {
        eprintln!("boardproof: warning: the evidence has no PCR values and no firmware image: the CoRIM holds no reference values");
    }
    Ok(Outcome::Clean)
}

pub fn verify(evidence: &Path, path: &Path, key: &Path, json: bool) -> anyhow::Result<Outcome> {
    let c = read(path, Some(key))?;
    let ev = super::read_evidence(evidence)?;
    let report = boardproof_workflow::judge::corim(
        &c,
        &path.display().to_string(),
        &keys::load_public_key(key)?,
        &ev,
    );
    output::report(&report, json)
}

// The arguments of `boardproof corim show`.
#[derive(clap::Args, Debug)]
pub struct Show {
    /// CoRIM file.
    pub corim: PathBuf,
    /// Check the COSE_Sign1 signature with this public key.
    #[arg(long)]
    pub key: Option<PathBuf>,
}

impl Show {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { corim, key } = self;
        {
            show(&corim, key.as_deref(), json)
        }
    }
}

// The arguments of `boardproof corim export`.
#[derive(clap::Args, Debug)]
pub struct Export {
    /// Evidence file.
    pub evidence: PathBuf,
    /// Signing key (Ed25519: EdDSA; P-256: ES256).
    #[arg(long)]
    pub key: PathBuf,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    /// PCRs to include (boot-time ones by default).
    #[arg(long, value_delimiter = ',', default_value = "0,1,2,3,4,5,6,7")]
    pub pcrs: Vec<u32>,
    #[command(flatten)]
    pub force: super::Force,
}

impl Export {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            evidence,
            key,
            out,
            pcrs,
            force: super::Force { force },
        } = self;
        export(&evidence, &key, &out, &pcrs, force, json)
    }
}

// The arguments of `boardproof corim verify`.
#[derive(clap::Args, Debug)]
pub struct Verify {
    /// Evidence file.
    pub evidence: PathBuf,
    /// CoRIM file.
    #[arg(long)]
    pub corim: PathBuf,
    /// Public key of the CoRIM's signer.
    #[arg(long)]
    pub key: PathBuf,
}

impl Verify {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            evidence,
            corim,
            key,
        } = self;
        verify(&evidence, &corim, &key, json)
    }
}

// The `boardproof corim` commands.
#[derive(clap::Subcommand, Debug)]
pub enum CorimCommand {
    /// Decode a CoRIM (signed or not) or a bare CoMID: environments and measurements.
    Show(Show),
    /// Export evidence's PCR values and firmware item digests as a signed CoRIM.
    Export(Export),
    /// Compare evidence with a signed CoRIM's reference values (PCRs, firmware digests).
    /// Exit 0 all match, 1 findings, 2 unreadable or the signature does not verify.
    Verify(Verify),
}

impl CorimCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            CorimCommand::Show(a) => a.run(json),
            CorimCommand::Export(a) => a.run(json),
            CorimCommand::Verify(a) => a.run(json),
        }
    }
}
