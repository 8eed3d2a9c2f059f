//! `boardproof show`.

use std::path::{Path, PathBuf};

use crate::output;
use crate::Outcome;

pub fn run(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let ev = super::read_evidence(path)?;
    if json {
        output::print(&output::json(&ev)?)?;
        return Ok(Outcome::Clean);
    }
    let mut s = format!(
        "host {} (kernel {}), collected {}\n",
        ev.host.hostname.as_deref().unwrap_or("?"),
        ev.host.kernel_release.as_deref().unwrap_or("?"),
        ev.volatile.collected_at
    );
    if let Some(sm) = &ev.inventory.smbios {
        if let Some(sys) = &sm.system {
            s.push_str(&format!(
                "system: {} {} serial {} uuid {}\n",
                sys.manufacturer.as_deref().unwrap_or("-"),
                sys.product.as_deref().unwrap_or("-"),
                sys.serial.as_deref().unwrap_or("-"),
                sys.uuid.as_deref().unwrap_or("-")
            ));
        }
        if let Some(b) = &sm.bios {
            s.push_str(&format!(
                "BIOS: {} {} ({})\n",
                b.vendor.as_deref().unwrap_or("-"),
                b.version.as_deref().unwrap_or("-"),
                b.release_date.as_deref().unwrap_or("-")
            ));
        }
    }
    let mut t = output::table(&["class", "location", "identity", "description"]);
    for c in &ev.inventory.components {
        t.add_row(vec![
            c.class.as_str().to_owned(),
            c.location.clone(),
            c.identity_text(),
            c.description.clone().unwrap_or_default(),
        ]);
    }
    s.push_str(&t.to_string());
    s.push('\n');
    if !ev.inventory.kernel_modules.is_empty() {
        let mut t = output::table(&["module", "sha256", "signature"]);
        for m in &ev.inventory.kernel_modules {
            let sig = match &m.signature {
                boardproof_evidence::ModuleSignature::Signed { signer, issuer, .. } => {
                    format!("signed by {}", signer.as_deref().unwrap_or(issuer))
                }
                other => serde_json::to_value(other)
                    .ok()
                    .and_then(|v| v.get("status").and_then(|x| x.as_str()).map(str::to_owned))
                    .unwrap_or_default(),
            };
            t.add_row(vec![
                m.name.clone(),
                m.sha256
                    .as_deref()
                    .map_or("-".into(), |h| h.chars().take(16).collect()),
                sig,
            ]);
        }
        s.push_str(&t.to_string());
        s.push('\n');
    }
    if !ev.inventory.acpi_tables.is_empty() {
        let mut t = output::table(&["ACPI table", "OEM", "table id", "length", "sha256"]);
        for a in &ev.inventory.acpi_tables {
            t.add_row(vec![
                a.name.clone(),
                a.oem_id.clone().unwrap_or_default(),
                a.oem_table_id.clone().unwrap_or_default(),
                a.length.to_string(),
                a.sha256.chars().take(16).collect(),
            ]);
        }
        s.push_str(&t.to_string());
        s.push('\n');
    }
    s.push_str(&output::sources_table(&ev.sources));
    output::print(&s)?;
    Ok(Outcome::Clean)
}

// The arguments of `boardproof show`.
#[derive(clap::Args, Debug)]
pub struct Show {
    /// Evidence JSON file.
    pub evidence: PathBuf,
}

impl Show {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { evidence } = self;
        run(&evidence, json)
    }
}
