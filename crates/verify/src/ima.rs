//! IMA: the files measured in this boot against the files measured in the reference's.
//!
//! IMA's list records what ran (or was read, per policy), in the order it happened, so order
//! and count differ between boots of a healthy server; what must not differ is the digest of
//! a file the reference also measured. A file measured now under a name the reference never
//! measured is reported as unknown: the reference cannot vouch for it. A file the reference
//! measured and this boot did not is not a finding (it simply did not run).
//!
//! The `boot_aggregate` entry folds PCRs 0-9 together; it changes with any boot measurement
//! and is compared through the event log instead, so one firmware change is not reported twice.

use std::collections::{BTreeMap, BTreeSet};

use boardproof_evidence::{Finding, FindingKind, ImaList, Severity};
use boardproof_formats::ima::Allowed;

use crate::Outcome;

const BOOT_AGGREGATE: &str = "boot_aggregate";

fn files(list: &ImaList) -> impl Iterator<Item = (&str, &str)> {
    list.entries.iter().filter_map(|e| {
        let name = e.name.as_deref()?;
        let digest = e.digest.as_deref()?;
        (name != BOOT_AGGREGATE).then_some((name, digest))
    })
}

pub(crate) fn compare(reference: &ImaList, now: &ImaList, out: &mut Outcome) {
    let mut want: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, digest) in files(reference) {
        want.entry(name).or_default().insert(digest);
    }
    judge(&want, now, "the reference", out);
}

/// Compares the measured files with an allowlist instead of the reference's list: every file
/// measured must be listed, with one of its listed digests.
pub(crate) fn compare_allowlist(allowed: &[Allowed], now: &ImaList, out: &mut Outcome) {
    let mut want: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in allowed {
        want.entry(a.path.as_str())
            .or_default()
            .insert(a.digest.as_str());
    }
    judge(&want, now, "the allowlist", out);
}

fn judge(want: &BTreeMap<&str, BTreeSet<&str>>, now: &ImaList, against: &str, out: &mut Outcome) {
    let mut seen = BTreeSet::new();
    for (name, digest) in files(now) {
        if !seen.insert((name, digest)) {
            continue;
        }
        match want.get(name) {
            Some(digests) if digests.contains(digest) => {}
            Some(digests) => out.findings.push(
                Finding::new(
                    FindingKind::ImaFileChanged,
                    Severity::Critical,
                    format!("IMA-measured file {name}"),
                    Some(digests.iter().copied().collect::<Vec<_>>().join(", ")),
                    Some(digest.to_owned()),
                    format!(
                        "{name} was measured with a digest {against} does not have: its contents \
                     changed"
                    ),
                )
                .at("path", name),
            ),
            None => out.findings.push(
                Finding::new(
                    FindingKind::ImaFileUnknown,
                    Severity::High,
                    format!("IMA-measured file {name}"),
                    None,
                    Some(digest.to_owned()),
                    format!("{name} was measured in this boot but {against} does not list it"),
                )
                .at("path", name),
            ),
        }
    }
}

/// Replays the evidence's IMA list against the PCR 10 its TPM reported, per bank. The list
/// is read after the PCRs, so it may hold entries measured in between: PCR 10 must equal the
/// replay of some prefix of the list. No prefix matching means an entry was removed or
/// altered (a rootkit hiding what ran), or PCR 10 was extended outside IMA.
pub(crate) fn pcr10_matches_list(ev: &boardproof_evidence::Evidence, out: &mut Outcome) {
    use boardproof_formats::eventlog::algorithm_id;
    let Some(list) = &ev.inventory.ima else {
        return;
    };
    for (alg, read) in &ev.volatile.tpm_pcrs {
        let (Some(pcr10), Some(id)) = (read.get(&10), algorithm_id(alg)) else {
            continue;
        };
        let Some(values) = pcr10_values(list, alg, id, pcr10.len() / 2) else {
            out.notes.push(format!(
                "IMA list not checked against PCR 10 ({alg}): entries lack {alg} template digests"
            ));
            continue;
        };
        if !values.iter().any(|v| hex::encode(v) == *pcr10) {
            let last = values.last().map(hex::encode).unwrap_or_default();
            out.findings.push(
                Finding::new(
                    FindingKind::PcrMismatch,
                    Severity::Critical,
                    format!("PCR 10 ({alg})"),
                    Some(format!("{last} (the IMA list replayed)")),
                    Some(format!("{pcr10} (read from the TPM)")),
                    "the IMA measurement list does not replay to the PCR 10 the TPM reports: an \
                 entry was removed or altered, or PCR 10 was extended outside IMA",
                )
                .at("check", "ima-replay")
                .at("pcr", 10)
                .at("bank", alg),
            );
        }
    }
}

/// Every value PCR 10 of bank `alg` (`id`, `size` bytes) takes while the list is replayed:
/// its start value, then one per entry. The list is read after the PCR (or quote), so the PCR
/// must equal one of them. `None` when an entry lacks a digest of the bank.
pub(crate) fn pcr10_values(
    list: &ImaList,
    alg: &str,
    id: u16,
    size: usize,
) -> Option<Vec<Vec<u8>>> {
    use boardproof_formats::eventlog::extend;
    let mut value = vec![0u8; size];
    let mut out = vec![value.clone()];
    for e in &list.entries {
        let violation = e
            .template_digests
            .get("sha1")
            .is_some_and(|d| d.bytes().all(|c| c == b'0'));
        let digest = if violation {
            vec![0xff; size]
        } else {
            hex::decode(e.template_digests.get(alg)?).ok()?
        };
        value = extend(id, &value, &digest)?;
        out.push(value.clone());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use boardproof_evidence::ImaMeasurement;

    fn list(entries: &[(&str, &str)]) -> ImaList {
        ImaList {
            path: "x".into(),
            entries: entries
                .iter()
                .map(|(n, d)| ImaMeasurement {
                    pcr: 10,
                    template: "ima-ng".into(),
                    digest: Some((*d).into()),
                    name: Some((*n).into()),
                    signed: false,
                    template_digests: Default::default(),
                })
                .collect(),
        }
    }

    fn kinds(out: &Outcome) -> Vec<(&str, &str)> {
        out.findings
            .iter()
            .map(|f| (f.kind.as_str(), f.subject.as_str()))
            .collect()
    }

    #[test]
    fn changed_unknown_and_what_is_not_a_finding() {
        let reference = list(&[
            ("boot_aggregate", "sha256:aa"),
            ("/bin/a", "sha256:01"),
            ("/bin/b", "sha256:02"),
        ]);
        // Same files in another order, b not run, boot_aggregate different: clean.
        let mut out = Outcome::default();
        compare(
            &reference,
            &list(&[("/bin/a", "sha256:01"), ("boot_aggregate", "sha256:bb")]),
            &mut out,
        );
        assert!(out.findings.is_empty());
        let mut out = Outcome::default();
        compare(
            &reference,
            &list(&[
                ("/bin/a", "sha256:09"),
                ("/bin/a", "sha256:09"),
                ("/bin/new", "sha256:03"),
            ]),
            &mut out,
        );
        assert_eq!(
            kinds(&out),
            [
                ("ima-file-changed", "IMA-measured file /bin/a"),
                ("ima-file-unknown", "IMA-measured file /bin/new")
            ]
        );
    }
}
