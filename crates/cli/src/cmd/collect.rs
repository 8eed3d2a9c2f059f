//! `boardproof collect`.

use std::path::{Path, PathBuf};

use super::Kind;
use crate::output;
use crate::Outcome;

pub fn run(
    root: &Path,
    out: Option<&Path>,
    json: bool,
    probe_i2c: bool,
    option_roms: bool,
    challenge: Option<(&Path, &Path)>,
    firmware: &[String],
) -> anyhow::Result<Outcome> {
    if !root.is_dir() {
        anyhow::bail!("{}: --root is not a directory", root.display());
    }
    // Images first: one that does not parse stops here, before anything is collected or
    // written, rather than leave evidence that silently lacks it.
    let images = super::firmware::read_specs(firmware)?;
    output::warn_if_not_root(root);
    // A challenge that cannot be answered stops here, with nothing written.
    let challenge = match challenge {
        Some((tpm, file)) => Some((
            tpm,
            super::attest::read_challenge(file)?,
            file.display().to_string(),
        )),
        None => None,
    };
    let ev = boardproof_workflow::collect::collect(
        boardproof_workflow::collect::Request {
            root,
            probe_i2c,
            option_roms,
            firmware: images,
            challenge: challenge.as_ref().map(|(tpm, c, name)| {
                boardproof_workflow::collect::Challenge {
                    tpm,
                    challenge: c,
                    name,
                }
            }),
        },
        &mut output::source_progress(),
    )?;
    let text = serde_json::to_string_pretty(&ev)? + "\n";
    if let Some(path) = out {
        super::write_atomic(path, text.as_bytes(), true, Kind::Evidence)?;
    }
    if json {
        output::print(&text)?;
        return Ok(Outcome::Clean);
    }
    let mut s = output::sources_table(&ev.sources);
    s.push('\n');
    s.push_str(&format!(
        "{} components, {} kernel modules, {} ACPI tables, {} firmware images\n",
        ev.inventory.components.len(),
        ev.inventory.kernel_modules.len(),
        ev.inventory.acpi_tables.len(),
        ev.inventory.firmware.len()
    ));
    match out {
        Some(p) => s.push_str(&format!("evidence written to {}\n", p.display())),
        None => s.push_str("evidence not saved: pass --out FILE or --json\n"),
    }
    output::print(&s)?;
    Ok(Outcome::Clean)
}

// The arguments of `boardproof collect`.
#[derive(clap::Args, Debug)]
pub struct Collect {
    /// Directory the sources read below.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Write the evidence to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Actively scan every I2C/SMBus adapter through /dev/i2c-N for chips no driver declared
    /// (i2cdetect's safety rules; never writes data). Opt-in: see docs/evidence.md for the
    /// risk on real hardware. Compare only with references collected the same way.
    #[arg(long)]
    pub probe_i2c: bool,
    /// Read every PCI device's option ROM (sys/bus/pci/devices/*/rom). Opt-in: the kernel
    /// turns on each device's ROM decoding while it reads; see docs/evidence.md.
    #[arg(long)]
    pub option_roms: bool,
    /// Answer a verifier's challenge (`attest challenge`): the evidence then carries a TPM
    /// quote over the challenge's secret: PCRs 0-9 (and 10 when IMA keeps a list), SHA-256.
    #[arg(long)]
    pub challenge: Option<PathBuf>,
    /// The TPM: the kernel's resource manager device, or a Unix socket speaking raw TPM
    /// commands (swtpm).
    #[arg(long, default_value = super::attest::DEFAULT_TPM)]
    pub tpm: PathBuf,
    /// Add a firmware image's module inventory to the evidence: `LABEL=PATH`, or `PATH`
    /// (labelled by its file name). Images are compared with the reference label by label.
    /// A flash dump (flashrom -r), an OVMF CODE or VARS file; repeat for several.
    #[arg(long, value_name = "[LABEL=]IMAGE")]
    pub firmware: Vec<String>,
}

impl Collect {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let a = self;
        run(
            &a.root,
            a.out.as_deref(),
            json,
            a.probe_i2c,
            a.option_roms,
            a.challenge.as_deref().map(|c| (a.tpm.as_path(), c)),
            &a.firmware,
        )
    }
}
