//! `boardproof platform-cert show|verify`: TCG Platform Certificates as references.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_formats::component_class::{self, tcg};
use boardproof_formats::platform_cert::{self, PlatformCert};

use super::Kind;
use crate::output;
use crate::Outcome;

/// Reads and parses a platform certificate (PEM or DER), naming the file in any error.
pub fn read(path: &Path) -> anyhow::Result<PlatformCert> {
    let bytes = super::read(path, Kind::Certificate)?;
    let der =
        platform_cert::decode_pem_or_der(&bytes).with_context(|| path.display().to_string())?;
    platform_cert::parse(&der).with_context(|| path.display().to_string())
}

fn table(c: &PlatformCert, components: &[platform_cert::Component]) -> String {
    let mut s = format!(
        "{} platform certificate (component list v{}), serial {}\nissuer: {}\nholder: {}\nvalid: {} .. {}\nplatform: {} {} version {} serial {}\n",
        if c.is_delta() { "delta" } else { "base" },
        c.config_version.map_or("?".to_owned(), |v| v.to_string()),
        c.serial,
        c.issuer,
        c.holder.as_ref().map_or("(none)".to_owned(), |(i, s)| format!(
            "{} {s} of {i}",
            if c.is_delta() {
                "base platform certificate"
            } else {
                "EK certificate"
            }
        )),
        c.not_before,
        c.not_after,
        c.manufacturer.as_deref().unwrap_or("?"),
        c.model.as_deref().unwrap_or("?"),
        c.version.as_deref().unwrap_or("?"),
        c.platform_serial.as_deref().unwrap_or("?"),
    );
    let mut t = output::table(&[
        "class",
        "manufacturer",
        "model",
        "serial",
        "revision",
        "address",
        "status",
    ]);
    for x in components {
        t.add_row(vec![
            x.class
                .as_ref()
                .map_or(String::new(), |k| match k.category_name() {
                    Some(n) => format!("{} {n}", k.value),
                    None => k.value.clone(),
                }),
            x.manufacturer.clone(),
            x.model.clone(),
            x.serial.clone().unwrap_or_default(),
            x.revision.clone().unwrap_or_default(),
            x.addresses
                .iter()
                .map(|a| a.value.clone())
                .collect::<Vec<_>>()
                .join(" "),
            x.status
                .map_or(String::new(), |s| format!("{s:?}").to_lowercase()),
        ]);
    }
    s.push_str(&t.to_string());
    s.push('\n');
    s
}

pub fn show(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let c = read(path)?;
    if json {
        output::print(&output::json(&boardproof_evidence::PlatformCertShow {
            schema: boardproof_evidence::PLATFORM_CERT_SCHEMA.into(),
            certificate: c,
        })?)?;
    } else {
        output::print(&table(&c, &c.components))?;
    }
    Ok(Outcome::Clean)
}

pub struct VerifyArgs<'a> {
    pub cert: &'a Path,
    pub cas: &'a [PathBuf],
    pub deltas: &'a [PathBuf],
    pub evidence: Option<&'a Path>,
    pub at: Option<&'a str>,
    pub json: bool,
}

pub fn verify(a: &VerifyArgs<'_>) -> anyhow::Result<Outcome> {
    if a.cas.is_empty() {
        anyhow::bail!(
            "give the issuing CA with --ca (a platform certificate is only as good as its signer)"
        );
    }
    let base = read(a.cert)?;
    if base.is_delta() {
        anyhow::bail!(
            "{}: a delta certificate; give the base certificate, and this one with --delta",
            a.cert.display()
        );
    }
    let mut anchors = Vec::new();
    for p in a.cas {
        let bytes = super::read(p, Kind::Certificate)?;
        anchors.extend(
            boardproof_attest::ekcert::read_certificates(&bytes)
                .with_context(|| p.display().to_string())?,
        );
    }
    let now = match a.at {
        Some(t) => u64::try_from(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .with_context(|| format!("--at {t:?}: not an RFC 3339 time"))?
                .unix_timestamp(),
        )
        .context("--at before 1970")?,
        None => boardproof_attest::ekcert::unix_now(),
    };
    let mut deltas = Vec::new();
    for d in a.deltas {
        let c = read(d)?;
        if !c.is_delta() {
            anyhow::bail!("{}: not a delta certificate", d.display());
        }
        deltas.push(boardproof_workflow::judge::NamedCert {
            name: d.display().to_string(),
            cert: c,
        });
    }
    let ev = a.evidence.map(super::read_evidence).transpose()?;
    let base = boardproof_workflow::judge::NamedCert {
        name: a.cert.display().to_string(),
        cert: base,
    };
    let judged =
        boardproof_workflow::judge::platform_cert(&base, &deltas, &anchors, now, ev.as_ref());
    let clean = judged.clean();
    let boardproof_workflow::judge::CertJudged {
        signer,
        chain: path,
        failed,
        deltas: order,
        components,
        report,
    } = judged;
    let base = base.cert;
    let sig_ok = failed.is_empty();
    if a.json {
        output::print(&output::json(&boardproof_evidence::PlatformCertVerify {
            schema: boardproof_evidence::PLATFORM_CERT_VERIFY_SCHEMA.into(),
            certificate: a.cert.display().to_string(),
            signature: if sig_ok {
                "valid".into()
            } else {
                failed.join("; ")
            },
            signed_by: signer,
            chain: path,
            components: components.len(),
            deltas: order.iter().map(|f| f.message.clone()).collect(),
            report,
        })?)?;
    } else {
        let mut s = table(&base, &components);
        if sig_ok {
            s.push_str(&format!(
                "signature: valid, signed by {} (chain: {}){}\n",
                signer.as_deref().unwrap_or("?"),
                path.join(", issued by "),
                if deltas.is_empty() {
                    String::new()
                } else {
                    format!(" ({} delta certificates too)", deltas.len())
                }
            ));
        } else {
            for f in &failed {
                s.push_str(&format!("signature: NOT VALID: {f}\n"));
            }
        }
        match &report {
            Some(r) => s.push_str(&output::report_text(r)),
            None => {
                for f in &order {
                    s.push_str(&format!("delta: NOT VALID: {}\n", f.message));
                }
            }
        }
        output::print(&s)?;
    }
    Ok(if clean {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn entry(
    class: u32,
    mfr: Option<&str>,
    model: Option<&str>,
    serial: Option<&str>,
    rev: Option<&str>,
) -> Option<serde_json::Value> {
    let clean = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (mfr, model) = (clean(mfr)?, clean(model)?);
    let mut o = serde_json::json!({
        "COMPONENTCLASS": {"COMPONENTCLASSREGISTRY": component_class::OID_TCG, "COMPONENTCLASSVALUE": component_class::hex(class)},
        "MANUFACTURER": mfr,
        "MODEL": model,
    });
    if let Some(s) = clean(serial) {
        o["SERIAL"] = s.into();
    }
    if let Some(r) = clean(rev) {
        o["REVISION"] = r.into();
    }
    Some(o)
}

/// The inventory as a paccor component list (the JSON paccor signs into a platform
/// certificate): SMBIOS system, baseboards, chassis, processors and DIMMs, disks by model and
/// serial, NICs by MAC. Items without a manufacturer and model cannot be listed and are
/// counted in the returned number.
pub fn component_list(inv: &boardproof_evidence::Inventory) -> (serde_json::Value, usize) {
    let mut comps = Vec::new();
    let mut skipped = 0usize;
    let mut push = |v: Option<serde_json::Value>| match v {
        Some(v) => comps.push(v),
        None => skipped = skipped.saturating_add(1),
    };
    let sys = inv.smbios.as_ref().and_then(|s| s.system.as_ref());
    if let Some(s) = &inv.smbios {
        // The system BIOS (SMBIOS type 0) by vendor and version, as paccor lists it.
        if let Some(b) = &s.bios {
            push(entry(
                tcg::SYSTEM_BIOS,
                b.vendor.as_deref(),
                b.version.as_deref(),
                None,
                None,
            ));
        }
        for b in &s.baseboards {
            let r = &b.record;
            push(entry(
                tcg::MOTHERBOARD,
                r.manufacturer.as_deref(),
                r.product.as_deref(),
                r.serial.as_deref(),
                r.version.as_deref(),
            ));
        }
        for c in &s.chassis {
            let r = &c.record;
            let class = tcg::CHASSIS_BASE | u32::from(r.chassis_type.unwrap_or(2) & 0x7f);
            let model = r.chassis_type.map(|t| t.to_string());
            push(entry(
                class,
                r.manufacturer.as_deref(),
                r.version.as_deref().or(model.as_deref()),
                r.serial.as_deref(),
                None,
            ));
        }
        for p in s
            .processors
            .iter()
            .filter(|p| p.record.populated != Some(false))
        {
            let r = &p.record;
            push(entry(
                tcg::CPU,
                r.manufacturer.as_deref(),
                r.version.as_deref(),
                r.serial.as_deref(),
                None,
            ));
        }
        for m in s
            .memory_devices
            .iter()
            .filter(|m| m.record.size_mib.unwrap_or(0) > 0)
        {
            let r = &m.record;
            push(entry(
                tcg::DRAM,
                r.manufacturer.as_deref(),
                r.part_number.as_deref(),
                r.serial.as_deref(),
                None,
            ));
        }
    }
    for c in &inv.components {
        let id = |k: &str| c.identity.get(k).map(String::as_str);
        match c.class {
            boardproof_evidence::ComponentClass::Block => push(entry(
                tcg::STORAGE_DRIVE,
                id("vendor").or(Some("unknown")),
                id("model"),
                id("serial"),
                None,
            )),
            boardproof_evidence::ComponentClass::Nic => {
                if let Some(mac) = id("permanent_mac") {
                    let mut e = entry(
                        tcg::ETHERNET,
                        Some(c.description.as_deref().unwrap_or("unknown")),
                        Some(id("pci_id").unwrap_or("NIC")),
                        None,
                        None,
                    );
                    if let Some(e) = e.as_mut() {
                        e["ADDRESSES"] = serde_json::json!([{"ETHERNETMAC": mac}]);
                    }
                    push(e);
                }
            }
            _ => {}
        }
    }
    let platform = serde_json::json!({
        "PLATFORMMANUFACTURERSTR": sys.and_then(|s| s.manufacturer.clone()).unwrap_or_default(),
        "PLATFORMMODEL": sys.and_then(|s| s.product.clone()).unwrap_or_default(),
        "PLATFORMVERSION": sys.and_then(|s| s.version.clone()).unwrap_or_default(),
        "PLATFORMSERIAL": sys.and_then(|s| s.serial.clone()).unwrap_or_default(),
    });
    (
        serde_json::json!({"PLATFORM": platform, "COMPONENTS": comps}),
        skipped,
    )
}

pub fn components(
    evidence: Option<&Path>,
    manifest: Option<(&Path, &Path)>,
    out: Option<&Path>,
    force: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let inv = match (evidence, manifest) {
        (Some(e), None) => super::read_evidence(e)?.inventory,
        (None, Some((m, k))) => super::verify::open_manifest(m, k)?.reference.inventory,
        _ => anyhow::bail!("give an evidence file, or --manifest with --pubkey"),
    };
    let (list, skipped) = component_list(&inv);
    let text = serde_json::to_string_pretty(&list)? + "\n";
    let summary = format!(
        "{} components listed{}",
        list["COMPONENTS"].as_array().map_or(0, Vec::len),
        if skipped > 0 {
            format!("; {skipped} without a manufacturer and model left out")
        } else {
            String::new()
        }
    );
    match out {
        Some(p) => {
            super::write_atomic(p, text.as_bytes(), force, Kind::Document)?;
            let mut w = boardproof_evidence::Written::new("platform-cert components").file(
                p,
                "component list",
                text.as_bytes(),
            );
            w.notes.push(summary.clone());
            if json {
                output::print(&output::json(&w)?)?;
                return Ok(Outcome::Clean);
            }
        }
        None => output::print(&text)?,
    }
    eprintln!("boardproof: {summary}");
    Ok(Outcome::Clean)
}

// The arguments of `boardproof platform-cert show`.
#[derive(clap::Args, Debug)]
pub struct Show {
    /// Certificate file.
    pub cert: PathBuf,
}

impl Show {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { cert } = self;
        {
            show(&cert, json)
        }
    }
}

// The arguments of `boardproof platform-cert verify`.
#[derive(clap::Args, Debug)]
pub struct Verify {
    /// Base platform certificate.
    pub cert: PathBuf,
    /// CA certificates (PEM or DER), each a trust anchor; repeatable.
    #[arg(long, required = true)]
    pub ca: Vec<PathBuf>,
    /// Delta certificates, applied in order; repeatable.
    #[arg(long)]
    pub delta: Vec<PathBuf>,
    /// Evidence to compare the listed components with.
    #[arg(long)]
    pub evidence: Option<PathBuf>,
    /// Check validity at this time (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<String>,
}

impl Verify {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            cert,
            ca,
            delta,
            evidence,
            at,
        } = self;
        verify(&VerifyArgs {
            cert: &cert,
            cas: &ca,
            deltas: &delta,
            evidence: evidence.as_deref(),
            at: at.as_deref(),
            json,
        })
    }
}

// The arguments of `boardproof platform-cert components`.
#[derive(clap::Args, Debug)]
pub struct Components {
    /// Evidence file.
    pub evidence: Option<PathBuf>,
    /// A signed manifest instead of evidence.
    #[arg(long, requires = "pubkey", conflicts_with = "evidence")]
    pub manifest: Option<PathBuf>,
    /// The manifest signer's public key.
    #[arg(long, requires = "manifest")]
    pub pubkey: Option<PathBuf>,
    /// Write here (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub force: super::Force,
}

impl Components {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            evidence,
            manifest,
            pubkey,
            out,
            force: super::Force { force },
        } = self;
        if json && out.is_none() {
            anyhow::bail!(
                "--json describes the file --out writes; without --out the document itself is printed (it is JSON)"
            );
        }
        components(
            evidence.as_deref(),
            manifest.as_deref().zip(pubkey.as_deref()),
            out.as_deref(),
            force,
            json,
        )
    }
}

// The `boardproof platform-cert` commands.
#[derive(clap::Subcommand, Debug)]
pub enum PlatformCertCommand {
    /// Decode a platform certificate (PEM or DER): platform, holder, issuer, components.
    Show(Show),
    /// Check a base certificate's signature (and each delta's) against the issuing CA, and
    /// with --evidence compare its platform and components with the evidence. Exit 0 valid and
    /// matching, 1 not, 2 unreadable.
    Verify(Verify),
    /// Write an inventory (evidence, or a signed manifest's reference) as a paccor component
    /// list, the JSON a platform certificate is made from.
    Components(Components),
}

impl PlatformCertCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            PlatformCertCommand::Show(a) => a.run(json),
            PlatformCertCommand::Verify(a) => a.run(json),
            PlatformCertCommand::Components(a) => a.run(json),
        }
    }
}
