//! `boardproof smbios decode`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_evidence::documents::{SmbiosDecode, SMBIOS_SCHEMA};
use boardproof_evidence::Smbios;
use boardproof_formats::smbios;

use super::Kind;
use crate::output;
use crate::Outcome;

/// Decodes a dump file, a sysfs DMI table beside its `smbios_entry_point`, or their folder.
pub fn decode_path(path: &Path) -> anyhow::Result<Smbios> {
    let (ep_path, table_path): (Option<PathBuf>, PathBuf) = if path.is_dir() {
        (Some(path.join("smbios_entry_point")), path.join("DMI"))
    } else {
        (None, path.to_owned())
    };
    let table_bytes = super::read(&table_path, Kind::Smbios)?;
    let name = table_path.display().to_string();
    let anchored = [b"_SM_".as_slice(), b"_SM3_", b"_DMI_"]
        .iter()
        .any(|a| table_bytes.starts_with(a));
    let ep_path = match ep_path {
        Some(p) => p,
        None if anchored => {
            let (ep, table) = smbios::from_dump(&table_bytes).with_context(|| name.clone())?;
            return Ok(boardproof_collect::smbios::inventory(&ep, &table));
        }
        None => {
            let sibling = path.with_file_name("smbios_entry_point");
            if !sibling.exists() {
                anyhow::bail!(
                    "{name}: no SMBIOS entry point at offset 0x0, and no smbios_entry_point \
                     beside it (expected a `dmidecode --dump-bin` file or the sysfs DMI table)"
                );
            }
            sibling
        }
    };
    let ep_bytes = super::read(&ep_path, Kind::Smbios)?;
    let (ep, table) = smbios::from_sysfs(&ep_bytes, &table_bytes)
        .with_context(|| ep_path.display().to_string())?;
    Ok(boardproof_collect::smbios::inventory(&ep, &table))
}

fn type_name(t: u8) -> &'static str {
    match t {
        0 => "BIOS Information",
        1 => "System Information",
        2 => "Base Board Information",
        3 => "Chassis Information",
        4 => "Processor Information",
        7 => "Cache Information",
        8 => "Port Connector Information",
        9 => "System Slot Information",
        11 => "OEM Strings",
        12 => "System Configuration Options",
        13 => "BIOS Language Information",
        16 => "Physical Memory Array",
        17 => "Memory Device",
        19 => "Memory Array Mapped Address",
        20 => "Memory Device Mapped Address",
        32 => "System Boot Information",
        38 => "IPMI Device Information",
        39 => "System Power Supply",
        41 => "Onboard Device",
        127 => "End Of Table",
        128..=255 => "OEM-specific",
        _ => "",
    }
}

pub fn decode(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let sm = decode_path(path)?;
    let error = sm.error.clone();
    let decoded = sm.structures.len();
    if json {
        let doc = SmbiosDecode {
            schema: SMBIOS_SCHEMA.into(),
            smbios: sm,
        };
        output::print(&output::json(&doc)?)?;
    } else {
        let mut s = format!(
            "SMBIOS {} ({} entry point), {} structures\n",
            sm.version,
            sm.entry_point,
            sm.structures.len()
        );
        let rows: Vec<Vec<String>> = sm
            .structures
            .iter()
            .map(|st| {
                vec![
                    format!("{:#06X}", st.handle),
                    st.kind.to_string(),
                    type_name(st.kind).to_owned(),
                    st.length.to_string(),
                    st.sha256.chars().take(16).collect(),
                ]
            })
            .collect();
        s.push_str(&output::listing(
            &["handle", "type", "name", "length", "sha256"],
            &rows,
        ));
        s.push('\n');
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut add = |record: String, value: serde_json::Value| {
            if let serde_json::Value::Object(m) = value {
                for (k, v) in m {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    rows.push(vec![record.clone(), k, v]);
                }
            }
        };
        if let Some(b) = &sm.bios {
            add("BIOS".into(), serde_json::to_value(b)?);
        }
        if let Some(b) = &sm.system {
            add("System".into(), serde_json::to_value(b)?);
        }
        for b in &sm.baseboards {
            add(
                format!("Baseboard {:#06X}", b.handle),
                serde_json::to_value(&b.record)?,
            );
        }
        for b in &sm.chassis {
            add(
                format!("Chassis {:#06X}", b.handle),
                serde_json::to_value(&b.record)?,
            );
        }
        for b in &sm.processors {
            add(
                format!("Processor {:#06X}", b.handle),
                serde_json::to_value(&b.record)?,
            );
        }
        for b in &sm.memory_devices {
            add(
                format!("Memory {:#06X}", b.handle),
                serde_json::to_value(&b.record)?,
            );
        }
        s.push_str(&output::listing(&["record", "field", "value"], &rows));
        output::print(&s)?;
    }
    if let Some(e) = error {
        eprintln!(
            "boardproof: error: {}: {e} ({decoded} structures decoded before it)",
            path.display(),
        );
        return Ok(Outcome::CouldNotVerify);
    }
    Ok(Outcome::Clean)
}

// The arguments of `boardproof smbios decode`.
#[derive(clap::Args, Debug)]
pub struct Decode {
    /// File or folder.
    pub file: PathBuf,
}

impl Decode {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { file } = self;
        decode(&file, json)
    }
}

// The `boardproof smbios` commands.
#[derive(clap::Subcommand, Debug)]
pub enum SmbiosCommand {
    /// Decode a `dmidecode --dump-bin` file, or the sysfs DMI table (or its folder).
    Decode(Decode),
}

impl SmbiosCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            SmbiosCommand::Decode(a) => a.run(json),
        }
    }
}
