//! The main job: judge a server's evidence against its stored baseline (and a manifest),
//! and record the scan — a first scan records the baseline, an accepted one replaces it.
//!
//! [`ready`] checks the store against its log first (a baseline is only as good as the
//! store it is read from), so a caller can refuse an edited store before it collects.

use std::collections::BTreeSet;

use boardproof_evidence::{
    Evidence, HostIdentity, Manifest, Reference, Report, ScanAction, ScanResult, Source,
    SCAN_SCHEMA,
};
use boardproof_ledger::store::{Baseline, NewScan, ScanOutcome, Store};

use crate::{judge, Error, Outcome};

/// A store whose rows were checked against its transparency log.
pub struct Ready<'s> {
    store: &'s mut Store,
}

/// Checks every row of `store` against its log: an edited store is refused, naming the
/// rows, before anything is read from it or added to it.
pub fn ready(store: &mut Store) -> Result<Ready<'_>, Error> {
    check_store(store)?;
    Ok(Ready { store })
}

/// The check [`ready`] makes, for callers that only read.
pub fn check_store(store: &Store) -> Result<(), Error> {
    let check = store.check_rows()?;
    if check.ok() {
        return Ok(());
    }
    Err(Error::StoreEdited {
        path: store.path().to_owned(),
        problems: check.problems,
    })
}

/// What to scan.
#[derive(Debug)]
pub struct Request<'a> {
    /// The server's evidence.
    pub evidence: &'a Evidence,
    /// A manifest already opened and trusted, and the name the report calls it by.
    pub manifest: Option<(&'a Manifest, &'a str)>,
    /// Record this scan as the new baseline, for this reason (the differences were
    /// reviewed). Must not be blank.
    pub accept: Option<&'a str>,
    /// Sources that must be `ok`.
    pub require: &'a [Source],
    /// When (RFC 3339).
    pub now: &'a str,
}

/// What a scan concluded and recorded.
#[derive(Debug)]
pub struct Scanned {
    /// The result (`boardproof.scan/v1`).
    pub result: ScanResult,
    /// Why a new baseline was recorded, when one was.
    pub baseline_reason: Option<String>,
    /// The exit code's meaning.
    pub outcome: Outcome,
}

impl Ready<'_> {
    /// The store.
    pub fn store(&self) -> &Store {
        self.store
    }

    /// Judges `req.evidence` and records the scan (and a new baseline) in one transaction.
    pub fn scan(self, req: &Request<'_>) -> Result<Scanned, Error> {
        if req.accept.is_some_and(|r| r.trim().is_empty()) {
            return Err(Error::Invalid(
                "an acceptance needs a non-empty reason".into(),
            ));
        }
        let ev = req.evidence;
        let host_key = HostIdentity::of(ev).store_key();
        let baseline = self.store.baseline(&host_key)?;
        let mut warnings = Vec::new();
        if baseline.is_none() {
            let others = self.store.other_baseline_hosts(&host_key)?;
            if !others.is_empty() {
                warnings.push(format!(
                    "this store has no baseline for {host_key} but has baselines for {}: if \
                     that was this server, its identity (machine-id) changed and this scan was \
                     NOT compared with it; check with `boardproof history`",
                    others.join(", ")
                ));
            }
        }
        let reports = judge_all(ev, &host_key, baseline.as_ref(), req);
        let findings = distinct_findings(&reports);
        let (action, baseline_reason) = match (&baseline, req.accept) {
            (None, reason) => (
                ScanAction::BaselineRecorded,
                Some(reason.unwrap_or("first scan of this host").to_owned()),
            ),
            (Some(_), Some(reason)) => (ScanAction::Accepted, Some(reason.to_owned())),
            (Some(_), None) => (ScanAction::Compared, None),
        };
        let stored_outcome = match action {
            ScanAction::Compared if findings == 0 => ScanOutcome::Verified,
            ScanAction::Compared => ScanOutcome::Findings,
            ScanAction::BaselineRecorded => ScanOutcome::BaselineRecorded,
            ScanAction::Accepted => ScanOutcome::Accepted,
        };
        let [baseline_report, manifest_report, requirements_report] = reports;
        let report_json =
            serde_json::to_string(&(&baseline_report, &manifest_report, &requirements_report))?;
        let evidence_json = serde_json::to_string(ev)?;
        let compared_with = baseline
            .as_ref()
            .map_or("none".to_owned(), |b| format!("baseline #{}", b.id));
        let reference = Reference::from_evidence(ev);
        let (scan_id, new_baseline_id) = self.store.record(
            &NewScan {
                host_key: &host_key,
                scanned_at: req.now,
                outcome: stored_outcome,
                findings: findings as u64,
                compared_with: &compared_with,
                evidence: &evidence_json,
                report: Some(&report_json),
            },
            baseline_reason.as_deref().map(|r| (r, &reference)),
        )?;
        let result = ScanResult {
            schema: SCAN_SCHEMA.to_owned(),
            scan_id,
            host_key,
            action,
            baseline_id: baseline.as_ref().map(|b| b.id),
            new_baseline_id,
            baseline_report,
            manifest_report,
            requirements_report,
            sources: ev.sources.clone(),
            warnings,
        };
        let outcome = outcome_of(&result, findings);
        Ok(Scanned {
            result,
            baseline_reason,
            outcome,
        })
    }
}

/// The baseline, manifest and requirements reports, each where it applies.
fn judge_all(
    ev: &Evidence,
    host_key: &str,
    baseline: Option<&Baseline>,
    req: &Request<'_>,
) -> [Option<Report>; 3] {
    let opts = boardproof_verify::Options {
        required: req.require.to_vec(),
        ..Default::default()
    };
    let manifest_report = req
        .manifest
        .map(|(m, name)| judge::against_manifest(m, name, ev, &opts));
    // The requirements are judged with the baseline; a first scan (nothing to compare with)
    // and a scan with only a manifest still have them judged, in a report of their own.
    let requirements_report =
        (baseline.is_none() && manifest_report.is_none() && !req.require.is_empty())
            .then(|| judge::requirements(req.require, ev));
    let baseline_report = baseline.map(|b| judge::against_baseline(b, host_key, ev, &opts));
    [baseline_report, manifest_report, requirements_report]
}

/// One difference that both the baseline and the manifest report is one finding.
fn distinct_findings(reports: &[Option<Report>]) -> usize {
    reports
        .iter()
        .flatten()
        .flat_map(|r| &r.findings)
        .map(|f| (f.kind, &f.subject, &f.locus))
        .collect::<BTreeSet<_>>()
        .len()
}

fn outcome_of(result: &ScanResult, findings: usize) -> Outcome {
    // A required source that is missing is a finding even after an acceptance: accepting
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
    match result.action {
        // After an acceptance the new baseline stands; only a manifest can still disagree.
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
    }
}
