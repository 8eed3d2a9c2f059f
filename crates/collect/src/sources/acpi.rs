//! ACPI tables from sys/firmware/acpi/tables (and its `dynamic/` folder of tables loaded at run
//! time). The `data/` folder holds run-time data regions (error records), not tables: noted,
//! not hashed.

use std::path::Path;

use boardproof_evidence::{AcpiTable, Inventory};
use boardproof_formats::acpi;

use crate::fsutil::{list_dir, read_capped, sha256_hex, under};
use crate::{Error, SourceOutput};

pub fn collect(root: &Path, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    let dir = under(root, "sys/firmware/acpi/tables");
    if !dir.is_dir() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: no ACPI on this machine (or the kernel booted with acpi=off)",
            dir.display()
        )));
    }
    let mut out = SourceOutput::default();
    let mut names = Vec::new();
    for name in list_dir(&dir)? {
        let p = dir.join(&name);
        if p.is_dir() {
            if name == "dynamic" {
                for sub in list_dir(&p)? {
                    names.push(format!("dynamic/{sub}"));
                }
            } else {
                let n = list_dir(&p)?.len();
                if n > 0 {
                    out.notes.push(format!(
                        "{name}/: {n} run-time data regions (not tables); not hashed"
                    ));
                }
            }
        } else {
            names.push(name);
        }
    }
    for name in names {
        let path = dir.join(&name);
        let bytes = read_capped(&path)?;
        let header = acpi::parse_header(&bytes).map_err(|source| Error::Parse {
            path: path.clone(),
            source,
        })?;
        if header.checksum_valid == Some(false) {
            out.notes.push(format!("{name}: checksum does not add up"));
        }
        inv.acpi_tables.push(AcpiTable {
            name,
            signature: header.signature,
            oem_id: header.oem_id,
            oem_table_id: header.oem_table_id,
            oem_revision: header.oem_revision,
            length: header.length,
            checksum_valid: header.checksum_valid,
            sha256: sha256_hex(&acpi::identity_bytes(&bytes)),
        });
        out.items += 1;
    }
    Ok(out)
}
