//! `boardproof scan` (the main job) and `boardproof history`.

use std::path::PathBuf;

use boardproof_collect::{collect, now_rfc3339, Options};
use boardproof_evidence::{HostIdentity, Reference, ScanAction, ScanResult, SCAN_SCHEMA};
use boardproof_ledger::store::{NewScan, ScanOutcome, Store};

use crate::output;
use crate::Outcome;

pub struct ScanOptions {
    pub store: Option<PathBuf>,
    pub root: PathBuf,
    /// Probe I2C/SMBus adapters actively.
    pub probe_i2c: bool,
    /// Read PCI option ROMs.
    pub option_roms: bool,
    pub manifest: Option<(PathBuf, PathBuf)>,
    pub accept: Option<String>,
    /// `--firmware [LABEL=]IMAGE` arguments.
    pub firmware: Vec<String>,
    /// Sources that must be `ok`.
    pub require: Vec<boardproof_evidence::Source>,
    pub json: bool,
}

use super::store_dir;

pub fn run(o: ScanOptions) -> anyhow::Result<Outcome> {
    if !o.root.is_dir() {
        anyhow::bail!("{}: --root is not a directory", o.root.display());
    }
    if let Some(reason) = &o.accept {
        if reason.trim().is_empty() {
            anyhow::bail!("--accept needs a non-empty --reason");
        }
    }
    // Check everything that can fail before collecting, so a bad manifest costs nothing.
    let manifest = match &o.manifest {
        Some((m, k)) => Some((super::verify::open_manifest(m, k)?, m.clone())),
        None => None,
    };
    let images = super::firmware::read_specs(&o.firmware)?;
    let dir = store_dir(o.store)?;
    let mut store = super::open_store(&dir)?;
    // A baseline is only as good as the store it is read from: every row is checked against
    // the log before one is trusted.
    super::check_store(&store)?;

    output::warn_if_not_root(&o.root);
    let mut opts = Options::new(&o.root);
    opts.probe_i2c = o.probe_i2c;
    opts.option_roms = o.option_roms;
    let mut ev = collect(&opts, &mut output::source_progress());
    boardproof_collect::firmware::attach(&mut ev, images, None);
    let host_key = HostIdentity::of(&ev).store_key();
    let evidence_json = serde_json::to_string(&ev)?;
    let reference = Reference::from_evidence(&ev);
    let baseline = store.baseline(&host_key)?;
    let mut warnings = Vec::new();
    if baseline.is_none() {
        let others = store.other_baseline_hosts(&host_key)?;
        if !others.is_empty() {
            warnings.push(format!(
                "this store has no baseline for {host_key} but has baselines for {}: if that \
                 was this server, its identity (machine-id) changed and this scan was NOT \
                 compared with it; check with `boardproof history`",
                others.join(", ")
            ));
        }
    }

    let opts = boardproof_verify::Options {
        required: o.require.clone(),
        ..Default::default()
    };
    let manifest_report = manifest
        .as_ref()
        .map(|(m, path)| super::verify::against_manifest(m, path, &ev, &opts));
    // The requirements are judged with the baseline; a first scan (nothing to compare with)
    // and a scan with only a manifest still have them judged, in a report of their own.
    let requirements_report =
        (baseline.is_none() && manifest_report.is_none() && !o.require.is_empty()).then(|| {
            boardproof_verify::report(
                boardproof_verify::requirements(&o.require, &ev),
                "the required sources".into(),
            )
        });
    let baseline_report = baseline.as_ref().map(|b| {
        boardproof_verify::report(
            boardproof_verify::verify_opts(&b.reference, &ev, &opts),
            format!(
                "baseline #{} of {} (recorded {}: {})",
                b.id, host_key, b.created_at, b.reason
            ),
        )
    });
    // One difference that both the baseline and the manifest report is one finding.
    let findings = [&baseline_report, &manifest_report, &requirements_report]
        .into_iter()
        .flatten()
        .flat_map(|r| &r.findings)
        .map(|f| (f.kind, &f.subject, &f.locus))
        .collect::<std::collections::BTreeSet<_>>()
        .len();

    let (action, new_baseline): (ScanAction, Option<String>) = match (&baseline, &o.accept) {
        (None, reason) => (
            ScanAction::BaselineRecorded,
            Some(
                reason
                    .clone()
                    .unwrap_or_else(|| "first scan of this host".into()),
            ),
        ),
        (Some(_), Some(reason)) => (ScanAction::Accepted, Some(reason.clone())),
        (Some(_), None) => (ScanAction::Compared, None),
    };
    let outcome_label = match action {
        ScanAction::Compared if findings == 0 => ScanOutcome::Verified,
        ScanAction::Compared => ScanOutcome::Findings,
        ScanAction::BaselineRecorded => ScanOutcome::BaselineRecorded,
        ScanAction::Accepted => ScanOutcome::Accepted,
    };
    let report_json =
        serde_json::to_string(&(&baseline_report, &manifest_report, &requirements_report))?;
    let scanned_at = now_rfc3339();
    let compared_with = baseline
        .as_ref()
        .map_or("none".to_owned(), |b| format!("baseline #{}", b.id));
    let (scan_id, new_baseline_id) = store.record(
        &NewScan {
            host_key: &host_key,
            scanned_at: &scanned_at,
            outcome: outcome_label,
            findings: findings as u64,
            compared_with: &compared_with,
            evidence: &evidence_json,
            report: Some(&report_json),
        },
        new_baseline.as_deref().map(|r| (r, &reference)),
    )?;

    let result = ScanResult {
        schema: SCAN_SCHEMA.to_owned(),
        scan_id,
        host_key: host_key.clone(),
        action,
        baseline_id: baseline.as_ref().map(|b| b.id),
        new_baseline_id,
        baseline_report,
        manifest_report,
        requirements_report,
        sources: ev.sources.clone(),
        warnings,
    };
    for w in &result.warnings {
        eprintln!("boardproof: warning: {w}");
    }
    if o.json {
        output::print(&output::json(&result)?)?;
    } else {
        let mut s = output::sources_table(&ev.sources);
        s.push('\n');
        match action {
            ScanAction::BaselineRecorded => s.push_str(&format!(
                "No baseline for {host_key} yet: recorded scan #{scan_id} as baseline #{} \
                 (store {}). Later scans are compared with it.\n",
                new_baseline_id.map_or("?".to_owned(), |b| b.to_string()),
                store.path().display()
            )),
            _ => {
                if let Some(r) = &result.baseline_report {
                    s.push_str(&output::report_text(r));
                }
            }
        }
        if let Some(r) = &result.manifest_report {
            s.push_str(&output::report_text(r));
        }
        if let Some(r) = &result.requirements_report {
            s.push_str(&output::report_text(r));
        }
        if action == ScanAction::Accepted {
            s.push_str(&format!(
                "ACCEPTED: scan #{scan_id} recorded as baseline #{} of {host_key} (reason: {}); \
                 the findings above were reviewed and will not be reported again.\n",
                new_baseline_id.map_or("?".to_owned(), |b| b.to_string()),
                new_baseline.as_deref().unwrap_or("")
            ));
        } else {
            s.push_str(&format!(
                "scan #{scan_id} stored in {}\n",
                store.path().display()
            ));
        }
        output::print(&s)?;
    }
    // A required source that is missing is a finding even after --accept: accepting
    // reviews differences, it does not make unseen sources seen.
    let required_missing = [
        &result.baseline_report,
        &result.manifest_report,
        &result.requirements_report,
    ]
    .into_iter()
    .flatten()
    .flat_map(|r| &r.findings)
    .any(|f| f.locus.get("required").is_some_and(|v| v == "true"));
    Ok(match action {
        // After --accept the new baseline stands; only a manifest can still disagree.
        ScanAction::Accepted | ScanAction::BaselineRecorded => {
            if required_missing
                || result
                    .manifest_report
                    .as_ref()
                    .is_some_and(|r| !r.findings.is_empty())
            {
                Outcome::Findings
            } else {
                Outcome::Clean
            }
        }
        _ if findings > 0 => Outcome::Findings,
        _ => Outcome::Clean,
    })
}

pub fn history(
    store: Option<PathBuf>,
    host: Option<&str>,
    limit: u32,
    json: bool,
) -> anyhow::Result<Outcome> {
    let store = Store::open_existing(&store_dir(store)?)?;
    let rows = store.history(host, limit)?;
    let check = store.check_rows()?;
    let outcome = if check.ok() {
        Outcome::Clean
    } else {
        Outcome::Findings
    };
    // The rows shown are only history if the store is what was logged: any row that is not
    // is named, and the exit code says so.
    let problems = || {
        let mut s = format!(
            "STORE EDITED: {} rows or log entries do not match (see `boardproof log audit`):\n",
            check.problems.len()
        );
        for p in &check.problems {
            s.push_str(&format!("  - {p}\n"));
        }
        s
    };
    if json {
        output::print(&output::json(&rows)?)?;
        if !check.ok() {
            eprint!("{}", problems());
        }
        return Ok(outcome);
    }
    let mut t = output::table(&[
        "scan",
        "when",
        "host",
        "outcome",
        "findings",
        "compared with",
        "baseline recorded",
    ]);
    for r in &rows {
        t.add_row(vec![
            r.id.to_string(),
            r.scanned_at.clone(),
            r.host_key.clone(),
            r.outcome.as_str().to_owned(),
            r.findings.to_string(),
            r.compared_with.clone(),
            r.baseline_id.map_or(String::new(), |b| {
                format!(
                    "baseline #{b}: {}",
                    r.baseline_reason.as_deref().unwrap_or("")
                )
            }),
        ]);
    }
    let mut text = t.to_string();
    text.push('\n');
    if check.ok() {
        text.push_str(&format!(
            "{} store rows checked against the transparency log: each is what was recorded\n",
            check.rows
        ));
    } else {
        text.push_str(&problems());
    }
    output::print(&text)?;
    Ok(outcome)
}
