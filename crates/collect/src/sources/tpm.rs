//! TPM presence (sys/class/tpm) and the digest of the measured-boot event log
//! (sys/kernel/security/tpm0/binary_bios_measurements).

use std::path::Path;

use std::collections::BTreeMap;

use boardproof_evidence::{EventLogDigest, Inventory, MeasuredEvent, SourceStatus, Tpm, Volatile};
use boardproof_formats::eventlog::{self, algorithm_name, event_type_name, Event};

use crate::fsutil::{attr, list_dir, read_capped, sha256_hex, under};
use crate::{Error, SourceOutput};

pub fn collect(
    root: &Path,
    inv: &mut Inventory,
    vol: &mut Volatile,
) -> Result<SourceOutput, Error> {
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
    vol.tpm_pcrs = read_pcrs(&class.join(&device));
    let rel = format!("sys/kernel/security/{device}/binary_bios_measurements");
    let log_path = under(root, &rel);
    let event_log = if log_path.exists() {
        let bytes = read_capped(&log_path)?;
        let (events, startup_locality) = match eventlog::parse(&bytes) {
            Ok(log) => (
                log.events.iter().map(measured).collect(),
                log.startup_locality(),
            ),
            Err(e) => {
                // A log that does not parse cannot be compared event by event; its digest is
                // kept and the source says why it is not `ok`.
                out.status = Some(SourceStatus::Error);
                out.reason = Some(format!("{}: {e}", log_path.display()));
                (Vec::new(), None)
            }
        };
        Some(EventLogDigest {
            path: rel,
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            events,
            startup_locality,
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

fn measured(e: &Event) -> MeasuredEvent {
    MeasuredEvent {
        index: u32::try_from(e.index).unwrap_or(u32::MAX),
        pcr: e.pcr,
        event_type: event_type_name(e.event_type),
        digests: e
            .digests
            .iter()
            .map(|(a, d)| (algorithm_name(*a), hex::encode(d)))
            .collect(),
        description: eventlog::describe(e).to_string(),
    }
}

/// PCR values from `pcr-<alg>/N` (Linux 5.12+), algorithm → PCR → lowercase hex.
fn read_pcrs(device: &Path) -> BTreeMap<String, BTreeMap<u32, String>> {
    let mut banks = BTreeMap::new();
    for name in list_dir(device).unwrap_or_default() {
        let Some(alg) = name.strip_prefix("pcr-") else {
            continue;
        };
        let dir = device.join(&name);
        let values: BTreeMap<u32, String> = (0..eventlog::PCR_COUNT)
            .filter_map(|i| Some((i, attr(&dir.join(i.to_string()))?.to_lowercase())))
            .collect();
        if !values.is_empty() {
            banks.insert(alg.to_owned(), values);
        }
    }
    banks
}
