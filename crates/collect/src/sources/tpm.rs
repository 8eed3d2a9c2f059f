//! TPM presence (sys/class/tpm) and the digest of the measured-boot event log
//! (sys/kernel/security/tpm0/binary_bios_measurements).

use std::path::Path;

use boardproof_evidence::{EventLogDigest, Inventory, Tpm};

use crate::fsutil::{attr, list_dir, read_capped, sha256_hex, under};
use crate::{Error, SourceOutput};

pub fn collect(root: &Path, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    let class = under(root, "sys/class/tpm");
    let devices: Vec<String> = if class.is_dir() {
        list_dir(&class)?
            .into_iter()
            .filter(|n| n.starts_with("tpm") && !n.starts_with("tpmrm"))
            .collect()
    } else {
        Vec::new()
    };
    let Some(device) = devices.first().cloned() else {
        return Err(Error::Unavailable(format!(
            "no TPM: {} lists no tpm device",
            class.display()
        )));
    };
    let mut out = SourceOutput {
        items: 1,
        ..SourceOutput::default()
    };
    if devices.len() > 1 {
        out.notes.push(format!(
            "several TPM devices ({}); recorded {device}",
            devices.join(", ")
        ));
    }
    let version_major = attr(&class.join(&device).join("tpm_version_major"));
    let rel = format!("sys/kernel/security/{device}/binary_bios_measurements");
    let log_path = under(root, &rel);
    let event_log = if log_path.exists() {
        let bytes = read_capped(&log_path)?;
        Some(EventLogDigest {
            path: rel,
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        })
    } else {
        out.notes.push(format!(
            "{} missing: securityfs not mounted, or the firmware passed no event log",
            log_path.display()
        ));
        None
    };
    inv.tpm = Some(Tpm {
        device,
        version_major,
        event_log,
    });
    Ok(out)
}
