//! Compares evidence with a reference (a signed manifest or a stored baseline) and reports
//! every difference as a [`Finding`] with a stable kind.
//!
//! A mismatch is data, not an error: this crate has no error type. Checking signatures belongs
//! to the ledger; this crate trusts the reference it is given.
//!
//! What is compared, and what deliberately is not, is listed in docs/verify.md; nothing outside
//! that list is dropped silently.
// Bytes read here come from the host, a file or a peer: a length or value that does not
// fit is an error, never silently cut by a cast.
#![deny(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]
#![warn(missing_docs)]

mod attestation;
mod churn;
mod components;
mod eventlog;
pub mod firmware;
mod ima;
mod option_rom;
mod platform;
pub mod platform_cert;
pub mod reference_values;

use std::collections::{BTreeMap, BTreeSet};

use boardproof_evidence::{
    Component, ComponentClass, Evidence, Finding, FindingKind, Reference, Report, Severity, Source,
    SourceStatus, Verdict, REPORT_SCHEMA,
};

pub use attestation::QuoteCheck;
pub use churn::{BadExpectedChange, ExpectedChange};
pub use components::match_components;

/// Everything verify found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Facts that are not findings.
    pub notes: Vec<String>,
    /// How many sources the evidence reports on (0: not a comparison by source).
    pub sources: u64,
    /// The evidence's sources that are not `ok`.
    pub unavailable: Vec<Source>,
}

/// Compares `ev` with `reference`. A quote in the evidence is not checked (a note says so):
/// use [`verify_with`].
pub fn verify(reference: &Reference, ev: &Evidence) -> Outcome {
    verify_with(reference, ev, None)
}

/// What the verifier brings beyond the reference.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Check the evidence's quote with these.
    pub quote: Option<QuoteCheck>,
    /// Judge IMA-measured files against this allowlist instead of the reference's list.
    pub ima_allowlist: Option<Vec<boardproof_formats::ima::Allowed>>,
    /// Measured-boot changes the verifier expects: reported as notes, not findings.
    pub expected_changes: Vec<ExpectedChange>,
    /// Sources that must be `ok` in the evidence: each one that is not is a
    /// `source-missing` finding, whatever the reference had.
    pub required: Vec<Source>,
}

/// Compares `ev` with `reference`, and checks its quote with `quote` when given.
pub fn verify_with(reference: &Reference, ev: &Evidence, quote: Option<&QuoteCheck>) -> Outcome {
    verify_opts(
        reference,
        ev,
        &Options {
            quote: quote.cloned(),
            ..Options::default()
        },
    )
}

/// Compares `ev` with `reference` with the verifier's `opts`.
pub fn verify_opts(reference: &Reference, ev: &Evidence, opts: &Options) -> Outcome {
    let mut out = Outcome::default();
    match opts.quote.as_ref() {
        Some(q) => attestation::check(ev, q, &mut out),
        None if ev.volatile.attestation.is_some() => out.notes.push(
            "the evidence carries a TPM quote that was not checked (give the challenge secret \
             and the EK CAs)"
                .into(),
        ),
        None => {}
    }
    // What a source did not see now is reported once, as source-missing; its items in the
    // reference are not also reported as removed, which would claim more than was seen.
    coverage(ev, &mut out);
    let unseen = sources(reference, ev, &mut out);
    required(&opts.required, &unseen, ev, &mut out);
    if unseen.is_empty() {
        components::compare(
            &reference.inventory.components,
            &ev.inventory.components,
            &mut out,
        );
    } else {
        let seen_only = |side: &[Component]| -> Vec<Component> {
            side.iter()
                .filter(|c| !unseen.contains(&class_source(c.class)))
                .cloned()
                .collect()
        };
        components::compare(
            &seen_only(&reference.inventory.components),
            &seen_only(&ev.inventory.components),
            &mut out,
        );
    }
    platform::compare(
        reference.inventory.smbios.as_ref(),
        ev.inventory.smbios.as_ref(),
        &mut out,
    );
    if !unseen.contains(&Source::KernelModules) {
        modules(reference, ev, &mut out);
    }
    if !unseen.contains(&Source::Acpi) {
        acpi(reference, ev, &mut out);
    }
    if !unseen.contains(&Source::OptionRoms) && !unseen.contains(&Source::Pci) {
        option_rom::compare(
            &reference.inventory.option_roms,
            &ev.inventory.option_roms,
            &reference.inventory.components,
            &ev.inventory.components,
            &mut out,
        );
    }
    if !unseen.contains(&Source::Firmware) {
        firmware::compare(
            &reference.inventory.firmware,
            &ev.inventory.firmware,
            &mut out,
        );
    }
    tpm(reference, ev, &mut out);
    // A property of the evidence alone: does its log replay to its TPM's PCRs?
    eventlog::pcrs_match_log(ev, &mut out);
    ima::pcr10_matches_list(ev, &mut out);
    if let (Some(allowed), Some(got)) = (&opts.ima_allowlist, &ev.inventory.ima) {
        ima::compare_allowlist(allowed, got, &mut out);
    } else if !unseen.contains(&Source::Ima) {
        if let (Some(want), Some(got)) = (&reference.inventory.ima, &ev.inventory.ima) {
            ima::compare(want, got, &mut out);
        }
    }
    if opts.ima_allowlist.is_some() && ev.inventory.ima.is_none() {
        out.notes.push(
            "an IMA allowlist was given but the evidence has no IMA list: nothing judged".into(),
        );
    }
    churn::apply(&opts.expected_changes, &mut out);
    sort(&mut out);
    out
}

/// Puts findings in report order: most severe first; the full order makes equal inputs give
/// byte-equal reports.
pub fn sort(out: &mut Outcome) {
    out.findings
        .sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.cmp(b)));
}

/// Wraps an outcome as the `--json` report.
pub fn report(outcome: Outcome, reference: String) -> Report {
    Report {
        schema: REPORT_SCHEMA.to_owned(),
        verdict: if outcome.findings.is_empty() {
            Verdict::Verified
        } else {
            Verdict::Findings
        },
        reference,
        findings: outcome.findings,
        notes: outcome.notes,
        sources: outcome.sources,
        unavailable: outcome.unavailable,
    }
}

/// Indexes `items` by `key` and by how many items with the same key came before, so that a
/// duplicated key (two SMBIOS structures with one handle, two tables with one name) is
/// compared copy by copy instead of one copy hiding the other.
pub(crate) fn by_occurrence<'a, T: 'a, K: Ord + Clone>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&'a T) -> K,
) -> BTreeMap<(K, usize), &'a T> {
    let mut seen: BTreeMap<K, usize> = BTreeMap::new();
    items
        .into_iter()
        .map(|t| {
            let k = key(t);
            let n = seen.entry(k.clone()).or_default();
            let idx = *n;
            *n += 1;
            ((k, idx), t)
        })
        .collect()
}

/// The collect source that records components of `class`.
fn class_source(class: ComponentClass) -> Source {
    match class {
        ComponentClass::Pci => Source::Pci,
        ComponentClass::Usb => Source::Usb,
        ComponentClass::I2c => Source::I2c,
        ComponentClass::Block => Source::Block,
        ComponentClass::Nic => Source::Net,
        ComponentClass::Cpu => Source::Cpu,
        ComponentClass::Dimm | ComponentClass::PowerSupply => Source::Smbios,
    }
}

/// How much of the server the evidence saw: its number of sources and those not `ok`.
fn coverage(ev: &Evidence, out: &mut Outcome) {
    out.sources = ev.sources.len() as u64;
    out.unavailable = ev
        .sources
        .iter()
        .filter(|s| s.status != SourceStatus::Ok)
        .map(|s| s.name)
        .collect();
}

/// How a source that is not `ok` stands in the evidence, for a finding's `observed`.
fn status_text(got: Option<&boardproof_evidence::SourceReport>) -> String {
    got.map_or_else(
        || "not collected".to_owned(),
        |g| {
            format!(
                "{}: {}",
                g.status.as_str(),
                g.reason.as_deref().unwrap_or("no reason given")
            )
        },
    )
}

/// Only the requirements: each source of `want` that is not `ok` in `ev` is a
/// `source-missing` finding. For evidence with nothing to compare against yet (a first scan).
pub fn requirements(want: &[Source], ev: &Evidence) -> Outcome {
    let mut out = Outcome::default();
    coverage(ev, &mut out);
    required(want, &BTreeSet::new(), ev, &mut out);
    sort(&mut out);
    out
}

/// A required source that is not `ok` in the evidence is a finding; one already reported
/// because the reference had it (`unseen`) is not reported twice, but is marked required:
/// whoever acts on findings (an acceptance does not waive a required source) must see it.
fn required(want: &[Source], unseen: &BTreeSet<Source>, ev: &Evidence, out: &mut Outcome) {
    let mut done = BTreeSet::new();
    for &s in want {
        if !done.insert(s) {
            continue;
        }
        if unseen.contains(&s) {
            for f in out.findings.iter_mut().filter(|f| {
                f.kind == FindingKind::SourceMissing
                    && f.locus.get("source").is_some_and(|v| v == s.as_str())
            }) {
                f.locus.insert("required".into(), "true".into());
                f.expected = Some("ok (required)".into());
            }
            continue;
        }
        let got = ev.source(s);
        if got.is_some_and(|g| g.status == SourceStatus::Ok) {
            continue;
        }
        let observed = status_text(got);
        out.findings.push(
            Finding::new(
                FindingKind::SourceMissing,
                Severity::Medium,
                format!("source {s}"),
                Some("ok (required)".into()),
                Some(observed.clone()),
                format!(
                    "source {s} is required but this evidence has no {s} data ({observed}): \
                     what it would show was not checked"
                ),
            )
            .at("source", s.as_str())
            .at("required", "true"),
        );
    }
}

/// Compares source states; returns the sources that were `ok` in the reference and are not
/// now (each one a `source-missing` finding).
fn sources(reference: &Reference, ev: &Evidence, out: &mut Outcome) -> BTreeSet<Source> {
    let mut unseen = BTreeSet::new();
    let observed = by_occurrence(&ev.sources, |s| s.name);
    for (key, want) in by_occurrence(&reference.sources, |s| s.name) {
        let got = observed.get(&key).copied();
        match (want.status, got) {
            (SourceStatus::Ok, Some(g)) if g.status == SourceStatus::Ok => {}
            (SourceStatus::Ok, got) => {
                let observed = status_text(got);
                unseen.insert(want.name);
                out.findings.push(
                    Finding::new(
                        FindingKind::SourceMissing,
                        Severity::Medium,
                        format!("source {}", want.name),
                        Some("ok".into()),
                        Some(observed.clone()),
                        format!(
                            "the reference has {} data but this evidence does not ({observed}); \
                         what it would show cannot be checked, so its items in the reference \
                         are not compared",
                            want.name
                        ),
                    )
                    .at("source", want.name.as_str()),
                );
            }
            (_, Some(g)) if g.status == SourceStatus::Ok => out.notes.push(format!(
                "source {} was {} in the reference and is ok now: its items are compared \
                 against an empty reference",
                want.name,
                want.status.as_str()
            )),
            (_, _) => out.notes.push(format!(
                "source {} unavailable in the reference and now: nothing compared",
                want.name
            )),
        }
    }
    unseen
}

fn modules(reference: &Reference, ev: &Evidence, out: &mut Outcome) {
    let expected = by_occurrence(&reference.inventory.kernel_modules, |m| m.name.as_str());
    let observed = by_occurrence(&ev.inventory.kernel_modules, |m| m.name.as_str());
    for (key, m) in &observed {
        let describe = |k: &boardproof_evidence::KernelModule| {
            let sig = serde_json::to_string(&k.signature).unwrap_or_default();
            format!(
                "sha256={} signature={sig}",
                k.sha256.as_deref().unwrap_or("none")
            )
        };
        match expected.get(key) {
            None => out.findings.push(
                Finding::new(
                    FindingKind::KernelModuleUnknown,
                    Severity::High,
                    format!("kernel module {}", m.name),
                    None,
                    Some(describe(m)),
                    format!(
                        "module {} is loaded but the reference does not know it ({})",
                        m.name,
                        m.file.as_deref().unwrap_or("no file found")
                    ),
                )
                .at("module", &m.name),
            ),
            Some(want) if want.sha256 != m.sha256 || want.signature != m.signature => {
                out.findings.push(
                    Finding::new(
                        FindingKind::KernelModuleChanged,
                        Severity::Critical,
                        format!("kernel module {}", m.name),
                        Some(describe(want)),
                        Some(describe(m)),
                        format!(
                            "the file of loaded module {} differs from the reference ({})",
                            m.name,
                            m.file.as_deref().unwrap_or("file not found now")
                        ),
                    )
                    .at("module", &m.name),
                )
            }
            Some(_) => {}
        }
    }
    let not_loaded: Vec<&str> = expected
        .keys()
        .filter(|k| !observed.contains_key(*k))
        .map(|k| k.0)
        .collect();
    if !not_loaded.is_empty() {
        out.notes.push(format!(
            "{} modules of the reference are not loaded now: {}",
            not_loaded.len(),
            not_loaded.join(", ")
        ));
    }
}

fn acpi(reference: &Reference, ev: &Evidence, out: &mut Outcome) {
    let want = by_occurrence(&reference.inventory.acpi_tables, |t| t.name.as_str());
    let got = by_occurrence(&ev.inventory.acpi_tables, |t| t.name.as_str());
    let label = |t: &boardproof_evidence::AcpiTable| {
        format!(
            "{} oem={} table={} rev={} sha256={}",
            t.signature,
            t.oem_id.as_deref().unwrap_or("-"),
            t.oem_table_id.as_deref().unwrap_or("-"),
            t.oem_revision.map_or("-".into(), |r| r.to_string()),
            t.sha256
        )
    };
    for (key, w) in &want {
        let name = key.0;
        match got.get(key) {
            None => out.findings.push(
                Finding::new(
                    FindingKind::AcpiTableRemoved,
                    Severity::Medium,
                    format!("ACPI table {name}"),
                    Some(label(w)),
                    None,
                    format!("ACPI table {name} of the reference is gone"),
                )
                .at("table", name)
                .at("oem_table_id", w.oem_table_id.as_deref().unwrap_or("-")),
            ),
            Some(g) if g.sha256 != w.sha256 => out.findings.push(
                Finding::new(
                    FindingKind::AcpiTableChanged,
                    Severity::Critical,
                    format!("ACPI table {name}"),
                    Some(label(w)),
                    Some(label(g)),
                    format!("ACPI table {name} changed: its bytes differ from the reference"),
                )
                .at("table", name)
                .at("oem_table_id", g.oem_table_id.as_deref().unwrap_or("-")),
            ),
            Some(_) => {}
        }
    }
    for (key, g) in &got {
        let name = key.0;
        if !want.contains_key(key) {
            out.findings.push(
                Finding::new(
                    FindingKind::AcpiTableAdded,
                    Severity::Critical,
                    format!("ACPI table {name}"),
                    None,
                    Some(label(g)),
                    format!("ACPI table {name} is not in the reference"),
                )
                .at("table", name)
                .at("oem_table_id", g.oem_table_id.as_deref().unwrap_or("-")),
            );
        }
    }
}

fn tpm(reference: &Reference, ev: &Evidence, out: &mut Outcome) {
    let (Some(want), Some(got)) = (&reference.inventory.tpm, &ev.inventory.tpm) else {
        if reference.inventory.tpm.is_none() && ev.inventory.tpm.is_some() {
            out.findings.push(
                Finding::new(
                    FindingKind::PlatformChanged,
                    Severity::Medium,
                    "TPM",
                    Some("no TPM".into()),
                    ev.inventory.tpm.as_ref().map(|t| t.device.clone()),
                    "a TPM is present that the reference does not have",
                )
                .at("source", "tpm"),
            );
        }
        // A TPM that went missing is reported by the tpm source check.
        return;
    };
    match (&want.event_log, &got.event_log) {
        // Both logs parsed: compare them event by event, so findings name the event.
        (Some(w), Some(g)) if !w.events.is_empty() && !g.events.is_empty() => {
            eventlog::compare(&w.events, &g.events, out)
        }
        (Some(w), Some(g)) if w.sha256 != g.sha256 => out.findings.push(
            Finding::new(
                FindingKind::EventlogEventChanged,
                Severity::Critical,
                "TPM event log (whole-log digest)",
                Some(format!("sha256={} size={}", w.sha256, w.size)),
                Some(format!("sha256={} size={}", g.sha256, g.size)),
                "the measured-boot event log differs from the reference; one side has no parsed \
             events (older evidence, or a log that did not parse), so only the whole log's \
             digest could be compared",
            )
            .at("source", "eventlog"),
        ),
        (Some(w), None) => out.findings.push(
            Finding::new(
                FindingKind::SourceMissing,
                Severity::Medium,
                "TPM event log",
                Some(format!("sha256={}", w.sha256)),
                None,
                "the reference has a measured-boot event log but none could be read now",
            )
            .at("source", "eventlog"),
        ),
        _ => {}
    }
}
