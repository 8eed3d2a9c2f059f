//! `boardproof collect`.

use std::path::Path;

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
