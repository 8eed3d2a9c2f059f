//! `boardproof collect`.

use std::path::Path;

use boardproof_collect::{collect, Options};

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
    let mut opts = Options::new(root);
    opts.probe_i2c = probe_i2c;
    opts.option_roms = option_roms;
    // The quote first: the event log and IMA list read afterwards hold at least what it
    // covers. A challenge that cannot be answered stops here, with nothing written.
    let attestation = match challenge {
        Some((tpm, file)) => Some(super::attest::answer(
            tpm,
            file,
            root.join("sys/kernel/security/ima/binary_runtime_measurements")
                .exists(),
        )?),
        None => None,
    };
    let mut ev = collect(&opts, &mut output::source_progress());
    ev.volatile.attestation = attestation;
    boardproof_collect::firmware::attach(&mut ev, images, None);
    let text = serde_json::to_string_pretty(&ev)? + "\n";
    if let Some(path) = out {
        super::write_atomic(path, text.as_bytes(), true)?;
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
