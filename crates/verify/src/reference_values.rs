//! Evidence against plain reference values (as a CoRIM carries them): PCR values per bank, and
//! digests of named firmware modules (`firmware:LABEL:PATH`, as boardproof exports them).

use std::collections::BTreeMap;

use boardproof_evidence::{Evidence, Finding, FindingKind, Severity};

use crate::Outcome;

/// `(algorithm, lowercase hex)`.
pub type Digest = (String, String);

/// The measurement key boardproof gives a firmware item: `firmware:LABEL:PATH`.
pub fn firmware_key(label: &str, path: &str) -> String {
    format!("firmware:{label}:{path}")
}

/// Compares `pcrs` (index → digests) with the PCR values in the evidence and `named` (key →
/// digests) with its firmware items. Keys boardproof does not know are reported in a note.
pub fn compare(
    pcrs: &BTreeMap<String, Vec<Digest>>,
    named: &[(String, Vec<Digest>)],
    ev: &Evidence,
) -> Outcome {
    let mut out = Outcome::default();
    let have_pcrs = !ev.volatile.tpm_pcrs.is_empty();
    if !pcrs.is_empty() && !have_pcrs {
        out.findings.push(Finding {
            kind: FindingKind::SourceMissing,
            severity: Severity::Medium,
            subject: "PCR values".into(),
            expected: Some(format!("{} PCRs", pcrs.len())),
            observed: None,
            message: "the reference values give PCRs, but the evidence holds no PCR values read from a TPM".into(),
            locus: BTreeMap::from([("source".to_owned(), "pcrs".to_owned())]),
        });
    }
    for (idx, ds) in pcrs.iter().filter(|_| have_pcrs) {
        let Ok(i) = idx.parse::<u32>() else {
            out.notes.push(format!(
                "integrity register {idx:?} is not a PCR number: not compared"
            ));
            continue;
        };
        for (alg, want) in ds {
            let seen = ev.volatile.tpm_pcrs.get(alg).and_then(|b| b.get(&i));
            match seen {
                Some(v) if v.eq_ignore_ascii_case(want) => {}
                Some(v) => out.findings.push(Finding {
                    kind: FindingKind::PcrMismatch,
                    severity: Severity::Critical,
                    subject: format!("PCR {i} ({alg})"),
                    expected: Some(want.clone()),
                    observed: Some(v.clone()),
                    message: format!("PCR {i} in the {alg} bank is not the reference value"),
                    locus: BTreeMap::from([
                        ("pcr".to_owned(), i.to_string()),
                        ("bank".to_owned(), alg.clone()),
                    ]),
                }),
                None => out.notes.push(format!(
                    "PCR {i} of the {alg} bank was not read: not compared"
                )),
            }
        }
    }
    let mut items: BTreeMap<String, &boardproof_evidence::FirmwareItem> = BTreeMap::new();
    for img in &ev.inventory.firmware {
        for it in &img.items {
            items.insert(firmware_key(&img.label, &it.path), it);
        }
    }
    for (key, ds) in named {
        if !key.starts_with("firmware:") {
            out.notes.push(format!(
                "measurement {key:?} is not one boardproof collects: not compared"
            ));
            continue;
        }
        let Some(it) = items.get(key) else {
            out.findings.push(Finding {
                kind: FindingKind::FirmwareModuleRemoved,
                severity: Severity::Critical,
                subject: key.clone(),
                expected: ds.first().map(|d| d.1.clone()),
                observed: None,
                message: format!(
                    "the reference values list {key}, which the evidence's firmware does not have"
                ),
                locus: BTreeMap::from([("reference_value".to_owned(), key.clone())]),
            });
            continue;
        };
        if let Some((_, want)) = ds.iter().find(|(a, _)| a == "sha256") {
            if !it.sha256.eq_ignore_ascii_case(want) {
                out.findings.push(Finding {
                    kind: FindingKind::FirmwareModuleChanged,
                    severity: Severity::Critical,
                    subject: key.clone(),
                    expected: Some(want.clone()),
                    observed: Some(it.sha256.clone()),
                    message: format!(
                        "{} {} differs from its reference value",
                        it.kind,
                        it.name.as_deref().or(it.guid.as_deref()).unwrap_or(key)
                    ),
                    locus: BTreeMap::from([("reference_value".to_owned(), key.clone())]),
                });
            }
        } else {
            out.notes
                .push(format!("{key}: no sha256 reference digest: not compared"));
        }
    }
    crate::sort(&mut out);
    out
}
