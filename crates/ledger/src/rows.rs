//! The store's rows as log entries: what of a scan, baseline or verdict row is bound to the
//! transparency log, and the check that every row still is what was logged.
//!
//! Each scan and baseline row is appended to the log, in the transaction that writes it, as an
//! entry of kind `scan` or `baseline` over one canonical JSON form of the row (its id, every
//! column, the evidence, report and reference by SHA-256). A verdict row is bound by its
//! statement, which is the logged payload, and its columns must say what the statement says.
//! Whoever edits the SQLite file (an outcome set to verified, a baseline's event digest
//! rewritten, a row deleted, an older baseline made current again) leaves a row that no log
//! entry matches, or an entry that no row matches; the log itself is replayed and its signed
//! checkpoints checked first, so an entry edited to match is found too. What this cannot
//! catch: someone holding the log's private key (`log.key` beside the database) can rewrite
//! rows, entries and checkpoints together. Against that, keep checkpoints elsewhere
//! (`log show --verifier`, `log audit --checkpoint`), where the store's writer cannot reach.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::entry::{Entry, EntryKind};
use crate::Error;

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A scan row as logged.
#[derive(Serialize)]
struct ScanLeaf<'a> {
    table: &'static str,
    id: i64,
    host_key: &'a str,
    scanned_at: &'a str,
    outcome: &'a str,
    findings: i64,
    compared_with: &'a str,
    evidence_sha256: String,
    report_sha256: Option<String>,
}

/// A baseline row as logged. `superseded_by` is not in it (it changes when a later baseline
/// is accepted); the check derives it instead: the current baseline of a host is its latest.
#[derive(Serialize)]
struct BaselineLeaf<'a> {
    table: &'static str,
    id: i64,
    host_key: &'a str,
    created_at: &'a str,
    scan_id: i64,
    reason: &'a str,
    reference_sha256: String,
}

/// The scan row's columns.
pub(crate) struct ScanCols<'a> {
    pub id: i64,
    pub host_key: &'a str,
    pub scanned_at: &'a str,
    pub outcome: &'a str,
    pub findings: i64,
    pub compared_with: &'a str,
    pub evidence: &'a str,
    pub report: Option<&'a str>,
}

/// The baseline row's columns.
pub(crate) struct BaselineCols<'a> {
    pub id: i64,
    pub host_key: &'a str,
    pub created_at: &'a str,
    pub scan_id: i64,
    pub reason: &'a str,
    pub reference: &'a str,
}

/// The log entry of a scan row.
pub(crate) fn scan_entry(c: &ScanCols<'_>) -> Entry {
    let leaf = ScanLeaf {
        table: "scans",
        id: c.id,
        host_key: c.host_key,
        scanned_at: c.scanned_at,
        outcome: c.outcome,
        findings: c.findings,
        compared_with: c.compared_with,
        evidence_sha256: sha256_hex(c.evidence.as_bytes()),
        report_sha256: c.report.map(|r| sha256_hex(r.as_bytes())),
    };
    // Strings, integers and options: serde_json cannot fail on them.
    Entry::new(
        EntryKind::Scan,
        &serde_json::to_vec(&leaf).unwrap_or_default(),
    )
}

/// The log entry of a baseline row.
pub(crate) fn baseline_entry(c: &BaselineCols<'_>) -> Entry {
    let leaf = BaselineLeaf {
        table: "baselines",
        id: c.id,
        host_key: c.host_key,
        created_at: c.created_at,
        scan_id: c.scan_id,
        reason: c.reason,
        reference_sha256: sha256_hex(c.reference.as_bytes()),
    };
    Entry::new(
        EntryKind::Baseline,
        &serde_json::to_vec(&leaf).unwrap_or_default(),
    )
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RowCheck {
    /// Scan, baseline and verdict rows checked.
    pub rows: u64,
    /// Log entries replayed.
    pub entries: u64,
    /// Each row or entry that does not match, one sentence naming it; empty when every row
    /// is what was logged.
    pub problems: Vec<String>,
}

impl RowCheck {
    /// Whether every row matched.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks every scan, baseline and verdict row against the log (see the module docs).
pub(crate) fn check(conn: &Connection, verifier: Option<&str>) -> Result<RowCheck, Error> {
    let mut out = RowCheck::default();
    let mut leaves: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    match verifier {
        Some(v) => {
            let audit = crate::tlog::audit(conn, v)?;
            out.entries = audit.leaves;
            out.problems.extend(
                audit
                    .problems
                    .into_iter()
                    .map(|p| format!("the log itself: {p}")),
            );
            let mut stmt = conn.prepare("SELECT idx, data FROM tlog_leaves ORDER BY idx")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
            for row in rows {
                let (i, d) = row?;
                leaves.insert(u64::try_from(i).unwrap_or(u64::MAX), d);
            }
        }
        None => {
            let n: i64 = conn.query_row(
                "SELECT (SELECT COUNT(*) FROM scans) + (SELECT COUNT(*) FROM baselines)
                        + (SELECT COUNT(*) FROM verdicts)",
                [],
                |r| r.get(0),
            )?;
            if n > 0 {
                out.problems.push(format!(
                    "{n} rows are stored but the log was never started: no row can be checked"
                ));
            }
            return Ok(out);
        }
    }
    // The origin new checkpoints are signed with is the verifier key's name.
    let origin: Option<String> = conn
        .query_row(
            "SELECT value FROM tlog_meta WHERE name = 'origin'",
            [],
            |r| r.get(0),
        )
        .ok();
    if let Some(v) = verifier {
        let name = v.split('+').next().unwrap_or("");
        if origin.as_deref() != Some(name) {
            out.problems.push(format!(
                "the log's origin is {origin:?} but its verifier key is named {name:?}"
            ));
        }
    }
    // Which entry each row claims, so that an entry no row claims is found too.
    let mut claimed: BTreeMap<u64, String> = BTreeMap::new();
    let mut bind = |out: &mut RowCheck, what: String, index: Option<i64>, want: &Entry| {
        out.rows = out.rows.saturating_add(1);
        let Some(i) = index.and_then(|i| u64::try_from(i).ok()) else {
            out.problems.push(format!(
                "{what} is bound to no log entry (recorded before rows were logged, or its \
                 log_index was cleared): it cannot be trusted"
            ));
            return;
        };
        if let Some(other) = claimed.insert(i, what.clone()) {
            out.problems
                .push(format!("{what} and {other} both claim log entry {i}"));
        }
        match leaves.get(&i).map(|l| Entry::from_leaf(l)) {
            Some(Ok(e)) if e == *want => {}
            Some(Ok(e)) => out.problems.push(format!(
                "{what} does not match log entry {i} ({} {}): it was edited after it was recorded",
                e.kind.as_str(),
                e.sha256
            )),
            Some(Err(e)) => out
                .problems
                .push(format!("{what}: log entry {i} is not an entry: {e}")),
            None => out.problems.push(format!(
                "{what} claims log entry {i}, which the log does not hold"
            )),
        }
    };
    {
        let mut stmt = conn.prepare(
            "SELECT id, host_key, scanned_at, outcome, findings, compared_with, evidence, report,
                    log_index FROM scans ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let host: String = r.get(1)?;
            let at: String = r.get(2)?;
            let outcome: String = r.get(3)?;
            let findings: i64 = r.get(4)?;
            let with: String = r.get(5)?;
            let ev: String = r.get(6)?;
            let report: Option<String> = r.get(7)?;
            let idx: Option<i64> = r.get(8)?;
            let want = scan_entry(&ScanCols {
                id,
                host_key: &host,
                scanned_at: &at,
                outcome: &outcome,
                findings,
                compared_with: &with,
                evidence: &ev,
                report: report.as_deref(),
            });
            bind(&mut out, format!("scan row {id}"), idx, &want);
        }
    }
    // Baselines: bound like scans, and `superseded_by` as it must be: per host, the latest
    // baseline is current and each earlier one is superseded by a later one.
    let mut latest: BTreeMap<String, i64> = BTreeMap::new();
    let mut baselines = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT id, host_key, created_at, scan_id, reason, reference, superseded_by,
                    log_index FROM baselines ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let host: String = r.get(1)?;
            let at: String = r.get(2)?;
            let scan_id: i64 = r.get(3)?;
            let reason: String = r.get(4)?;
            let reference: String = r.get(5)?;
            let sup: Option<i64> = r.get(6)?;
            let idx: Option<i64> = r.get(7)?;
            let want = baseline_entry(&BaselineCols {
                id,
                host_key: &host,
                created_at: &at,
                scan_id,
                reason: &reason,
                reference: &reference,
            });
            bind(&mut out, format!("baseline row {id}"), idx, &want);
            latest.insert(host.clone(), id);
            baselines.push((id, host, sup));
        }
    }
    for (id, host, sup) in &baselines {
        let current = latest.get(host) == Some(id);
        match (current, sup) {
            (true, None) => {}
            (true, Some(s)) => out.problems.push(format!(
                "baseline row {id} is {host}'s latest but is marked superseded by {s}"
            )),
            (false, None) => out.problems.push(format!(
                "baseline row {id} is marked current for {host} but a later baseline was \
                 accepted: an older baseline was made current again"
            )),
            (false, Some(s)) if s <= id => out.problems.push(format!(
                "baseline row {id} is marked superseded by {s}, which is not later"
            )),
            (false, Some(_)) => {}
        }
    }
    {
        let mut stmt = conn.prepare(
            "SELECT id, host_key, decided_at, verdict, findings, statement, log_index, envelope
             FROM verdicts ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let host: String = r.get(1)?;
            let at: String = r.get(2)?;
            let verdict: String = r.get(3)?;
            let findings: i64 = r.get(4)?;
            let statement: Vec<u8> = r.get(5)?;
            let idx: Option<i64> = r.get(6)?;
            let envelope: Option<Vec<u8>> = r.get(7)?;
            // The signed envelope kept beside the statement must carry that statement.
            if let Some(env) = &envelope {
                use base64::Engine;
                let carried = crate::dsse::Envelope::from_canonical_bytes(env)
                    .ok()
                    .and_then(|e| {
                        base64::engine::general_purpose::STANDARD
                            .decode(&e.payload)
                            .ok()
                    });
                if carried.as_deref() != Some(statement.as_slice()) {
                    out.problems.push(format!(
                        "verdict row {id}: its signed envelope does not carry its statement"
                    ));
                }
            }
            let what = format!("verdict row {id}");
            bind(
                &mut out,
                what.clone(),
                idx,
                &Entry::new(EntryKind::Verdict, &statement),
            );
            // The columns are read by `history` and the service: they must say what the
            // logged statement says.
            match crate::verdict::from_payload(&statement) {
                Ok(s) => {
                    let p = &s.predicate;
                    let said = (
                        p.host.store_key(),
                        p.decided_at.as_str(),
                        p.verdict_str(),
                        i64::try_from(p.report.findings.len()).unwrap_or(i64::MAX),
                    );
                    if said != (host.clone(), at.as_str(), verdict.as_str(), findings) {
                        out.problems.push(format!(
                            "{what}: its columns ({host}, {at}, {verdict}, {findings} findings) \
                             are not what its statement says ({}, {}, {}, {} findings)",
                            said.0, said.1, said.2, said.3
                        ));
                    }
                }
                Err(e) => out
                    .problems
                    .push(format!("{what}: its statement does not read: {e}")),
            }
        }
    }
    for (i, leaf) in &leaves {
        let Ok(e) = Entry::from_leaf(leaf) else {
            continue;
        };
        if matches!(e.kind, EntryKind::Scan | EntryKind::Baseline) && !claimed.contains_key(i) {
            out.problems.push(format!(
                "log entry {i} records a {} row that is no longer in the store: it was deleted",
                e.kind.as_str()
            ));
        }
    }
    Ok(out)
}
