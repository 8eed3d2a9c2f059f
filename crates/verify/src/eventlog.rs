//! Measured boot: the events of this boot's log against the reference's, per PCR, so that a
//! finding names the PCR, the event, its type and what it measured (which firmware volume,
//! which boot application, which Secure Boot variable) instead of "the log differs".
//!
//! Events of one PCR are aligned by a longest common subsequence over (type, digests): an
//! inserted event does not turn every later one into a change. Between two aligned events,
//! unmatched events of both sides are paired in order as changed; the rest are added or
//! removed. EV_NO_ACTION events are informational (never extended) and are not compared.

use std::collections::BTreeSet;

use boardproof_evidence::{Finding, FindingKind, MeasuredEvent, Severity};

use crate::Outcome;

fn same(a: &MeasuredEvent, b: &MeasuredEvent) -> bool {
    a.event_type == b.event_type && a.digests == b.digests
}

/// The digest people are shown: SHA-256 when there is one.
fn digest(e: &MeasuredEvent) -> String {
    e.digests
        .get("sha256")
        .map(|d| format!("sha256={d}"))
        .or_else(|| e.digests.iter().next().map(|(a, d)| format!("{a}={d}")))
        .unwrap_or_else(|| "no digest".into())
}

fn subject(e: &MeasuredEvent) -> String {
    format!(
        "PCR {} event {} {}: {}",
        e.pcr, e.index, e.event_type, e.description
    )
}

/// `locus` of a finding about event `e`: which PCR, which event, and whether it changed, was
/// added or was removed (then `event` is the reference's index).
fn at(
    f: boardproof_evidence::Finding,
    e: &MeasuredEvent,
    change: &str,
) -> boardproof_evidence::Finding {
    f.at("pcr", e.pcr)
        .at("event", e.index)
        .at("event_type", &e.event_type)
        .at("change", change)
}

fn shown(e: &MeasuredEvent) -> String {
    format!("{} ({}, event {})", digest(e), e.description, e.index)
}

/// Index pairs of a longest common subsequence of `a` and `b`.
fn lcs(a: &[&MeasuredEvent], b: &[&MeasuredEvent]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    // table[i][j]: LCS length of a[i..] and b[j..]; logs hold tens of events per PCR.
    let mut table = vec![vec![0u32; m.saturating_add(1)]; n.saturating_add(1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let v = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if same(x, y) => table
                    .get(i.saturating_add(1))
                    .and_then(|r| r.get(j.saturating_add(1)))
                    .map_or(1, |v| v.saturating_add(1)),
                _ => {
                    let down = table
                        .get(i.saturating_add(1))
                        .and_then(|r| r.get(j))
                        .copied();
                    let right = table
                        .get(i)
                        .and_then(|r| r.get(j.saturating_add(1)))
                        .copied();
                    down.unwrap_or(0).max(right.unwrap_or(0))
                }
            };
            if let Some(cell) = table.get_mut(i).and_then(|r| r.get_mut(j)) {
                *cell = v;
            }
        }
    }
    let at = |i: usize, j: usize| table.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < n && j < m {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if same(x, y) => {
                pairs.push((i, j));
                i = i.saturating_add(1);
                j = j.saturating_add(1);
            }
            _ if at(i.saturating_add(1), j) >= at(i, j.saturating_add(1)) => {
                i = i.saturating_add(1)
            }
            _ => j = j.saturating_add(1),
        }
    }
    pairs
}

fn report_gap(want: &[&MeasuredEvent], got: &[&MeasuredEvent], out: &mut Outcome) {
    let paired = want.len().min(got.len());
    for (w, g) in want.iter().zip(got) {
        let what = if w.event_type == g.event_type {
            "measured something else"
        } else {
            "is another kind of event"
        };
        out.findings.push(
            at(
                Finding::new(
                    FindingKind::EventlogEventChanged,
                    Severity::Critical,
                    subject(g),
                    Some(format!("{} {}", w.event_type, shown(w))),
                    Some(format!("{} {}", g.event_type, shown(g))),
                    format!(
                        "PCR {} event {} {what} than the reference's event {} ({})",
                        g.pcr, g.index, w.index, w.description
                    ),
                ),
                g,
                "changed",
            )
            .at("reference_event", w.index),
        );
    }
    for g in got.iter().skip(paired) {
        out.findings.push(at(
            Finding::new(
                FindingKind::EventlogEventChanged,
                Severity::Critical,
                subject(g),
                None,
                Some(shown(g)),
                format!(
                    "PCR {} has an event the reference does not: {}",
                    g.pcr, g.description
                ),
            ),
            g,
            "added",
        ));
    }
    for w in want.iter().skip(paired) {
        out.findings.push(at(
            Finding::new(
                FindingKind::EventlogEventChanged,
                Severity::Critical,
                subject(w),
                Some(shown(w)),
                None,
                format!(
                    "PCR {} lacks the reference's event {} ({})",
                    w.pcr, w.index, w.description
                ),
            ),
            w,
            "removed",
        ));
    }
}

/// Compares two logs event by event.
pub(crate) fn compare(want: &[MeasuredEvent], got: &[MeasuredEvent], out: &mut Outcome) {
    const NO_ACTION: &str = "EV_NO_ACTION";
    fn of(log: &[MeasuredEvent], pcr: u32) -> Vec<&MeasuredEvent> {
        log.iter()
            .filter(|e| e.pcr == pcr && e.event_type != NO_ACTION)
            .collect()
    }
    let pcrs: BTreeSet<u32> = want.iter().chain(got).map(|e| e.pcr).collect();
    for pcr in pcrs {
        let (a, b) = (of(want, pcr), of(got, pcr));
        let pairs = lcs(&a, &b);
        let (mut i, mut j) = (0usize, 0usize);
        for (pi, pj) in pairs.into_iter().chain(std::iter::once((a.len(), b.len()))) {
            report_gap(
                a.get(i..pi).unwrap_or_default(),
                b.get(j..pj).unwrap_or_default(),
                out,
            );
            i = pi.saturating_add(1);
            j = pj.saturating_add(1);
        }
    }
}

/// Replays the evidence's own log and compares it with the PCR values read from the TPM at
/// collection: a log that does not replay to the TPM's PCRs was altered (an event missing,
/// added or changed) or the TPM was extended outside the log. Checked: PCRs 0-7 always (the
/// firmware's; an unlogged extend shows as a value the log cannot reach) and every PCR below
/// 10 that the log extends. PCR 10 is IMA's, PCRs 11 and above are extended by the running
/// OS without this log.
/// Replays the boot PCRs (0-9) of bank `alg` (`id`, values of `size` bytes) from the log's
/// events; PCRs 0-7 always appear (they start at their initial value), 8 and 9 when extended.
/// `None` when an event lacks a digest of the bank or the algorithm cannot be computed.
pub(crate) fn replay_boot_pcrs(
    log: &boardproof_evidence::EventLogDigest,
    alg: &str,
    id: u16,
    size: usize,
) -> Option<std::collections::BTreeMap<u32, Vec<u8>>> {
    use boardproof_formats::eventlog::{extend, initial_value};
    const NO_ACTION: &str = "EV_NO_ACTION";
    let mut replayed: std::collections::BTreeMap<u32, Vec<u8>> = (0..8)
        .map(|p| (p, initial_value(p, size, log.startup_locality)))
        .collect();
    for e in log
        .events
        .iter()
        .filter(|e| e.event_type != NO_ACTION && e.pcr < 10)
    {
        let digest = e.digests.get(alg).and_then(|d| hex::decode(d).ok())?;
        let value = replayed
            .remove(&e.pcr)
            .unwrap_or_else(|| initial_value(e.pcr, size, log.startup_locality));
        replayed.insert(e.pcr, extend(id, &value, &digest)?);
    }
    Some(replayed)
}

pub(crate) fn pcrs_match_log(ev: &boardproof_evidence::Evidence, out: &mut Outcome) {
    use boardproof_formats::eventlog::algorithm_id;
    let Some(log) = ev.inventory.tpm.as_ref().and_then(|t| t.event_log.as_ref()) else {
        return;
    };
    if log.events.is_empty() {
        return;
    }
    for (alg, read) in &ev.volatile.tpm_pcrs {
        let Some(id) = algorithm_id(alg) else {
            out.notes.push(format!(
                "TPM bank {alg}: unknown algorithm, not checked against the log"
            ));
            continue;
        };
        let size = read.values().next().map_or(0, |v| v.len() / 2);
        let Some(replayed) = replay_boot_pcrs(log, alg, id, size) else {
            out.notes.push(format!(
                "TPM bank {alg}: the event log has no {alg} digest for every event (or boardproof \
                 cannot compute {alg}), so it was not checked against the TPM's PCRs"
            ));
            continue;
        };
        for (pcr, value) in &replayed {
            let Some(tpm_value) = read.get(pcr) else {
                continue;
            };
            let log_value = hex::encode(value);
            if &log_value != tpm_value {
                out.findings.push(
                    Finding::new(
                        FindingKind::PcrMismatch,
                        Severity::Critical,
                        format!("PCR {pcr} ({alg})"),
                        Some(format!("{log_value} (the event log replayed)")),
                        Some(format!("{tpm_value} (read from the TPM)")),
                        format!(
                            "the event log does not replay to the value the TPM reports for PCR \
                         {pcr}: an event was altered, added or removed in the log, or the TPM \
                         was extended outside it"
                        ),
                    )
                    .at("check", "eventlog-replay")
                    .at("pcr", pcr)
                    .at("bank", alg),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ev(index: u32, pcr: u32, t: &str, d: &str, desc: &str) -> MeasuredEvent {
        MeasuredEvent {
            index,
            pcr,
            event_type: t.into(),
            digests: BTreeMap::from([("sha256".to_owned(), d.to_owned())]),
            description: desc.into(),
        }
    }

    fn golden() -> Vec<MeasuredEvent> {
        vec![
            ev(0, 0, "EV_NO_ACTION", "00", "Spec ID Event03"),
            ev(1, 0, "EV_S_CRTM_VERSION", "aa", "\"\""),
            ev(
                2,
                0,
                "EV_EFI_PLATFORM_FIRMWARE_BLOB",
                "bb",
                "firmware blob at 0x820000",
            ),
            ev(
                3,
                0,
                "EV_EFI_PLATFORM_FIRMWARE_BLOB",
                "cc",
                "firmware blob at 0x900000",
            ),
            ev(
                4,
                2,
                "EV_EFI_BOOT_SERVICES_DRIVER",
                "dd",
                "image Pci(0x2,0x0)",
            ),
            ev(5, 0, "EV_SEPARATOR", "ee", "separator"),
            ev(6, 2, "EV_SEPARATOR", "ee", "separator"),
        ]
    }

    fn run(got: &[MeasuredEvent]) -> Vec<(String, Option<String>, Option<String>)> {
        let mut out = Outcome::default();
        compare(&golden(), got, &mut out);
        out.findings
            .into_iter()
            .map(|f| (f.subject, f.expected, f.observed))
            .collect()
    }

    #[test]
    fn identical_logs_give_nothing() {
        assert!(run(&golden()).is_empty());
        // Another position in the log for the same per-PCR sequence is not a change.
        let mut g = golden();
        g.swap(4, 5);
        assert!(run(&g).is_empty());
    }

    #[test]
    fn one_changed_blob_is_one_finding_naming_it() {
        let mut g = golden();
        g[3].digests.insert("sha256".into(), "c0".into());
        let f = run(&g);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].0,
            "PCR 0 event 3 EV_EFI_PLATFORM_FIRMWARE_BLOB: firmware blob at 0x900000"
        );
        assert!(f[0].1.as_deref().unwrap().contains("sha256=cc"));
        assert!(f[0].2.as_deref().unwrap().contains("sha256=c0"));
    }

    #[test]
    fn an_inserted_event_is_one_finding_not_a_cascade() {
        let mut g = golden();
        g.insert(
            5,
            ev(
                5,
                2,
                "EV_EFI_BOOT_SERVICES_DRIVER",
                "99",
                "image Pci(0x4,0x0)",
            ),
        );
        for (i, e) in g.iter_mut().enumerate() {
            e.index = i as u32;
        }
        let f = run(&g);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0]
            .0
            .starts_with("PCR 2 event 5 EV_EFI_BOOT_SERVICES_DRIVER"));
        assert_eq!(f[0].1, None);
        // And a removed one.
        let mut g = golden();
        g.remove(4);
        let f = run(&g);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].2, None);
    }

    #[test]
    fn no_action_events_are_not_compared() {
        let mut g = golden();
        g[0].digests.insert("sha256".into(), "ff".into());
        g.push(ev(7, 0, "EV_NO_ACTION", "00", "StartupLocality 3"));
        assert!(run(&g).is_empty());
    }
}
