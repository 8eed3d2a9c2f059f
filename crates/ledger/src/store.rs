//! The embedded store: one SQLite database holding every scan and the baselines.
//!
//! A baseline is never overwritten: accepting a new one marks the old one superseded in the
//! same transaction that inserts the new one, so history keeps every reference ever trusted and
//! a kill at any point leaves either the old state or the new one, never a mix.

use std::path::{Path, PathBuf};

use boardproof_evidence::Reference;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::Error;

/// File name of the database inside the store directory.
pub const DB_FILE: &str = "store.sqlite";

/// Environment variable naming a failpoint, for the crash-safety tests only: with
/// `store-before-commit`, a write pauses inside its transaction (after every row is written,
/// before COMMIT); with `output-written`, a command pauses after writing its output file and
/// before recording it (manifest create, verify --verdict-out). A test kills the process
/// there.
pub const FAILPOINT_ENV: &str = "BOARDPROOF_TEST_FAILPOINT";

/// Pauses at failpoint `name` when the crash-safety tests ask for it (see [`FAILPOINT_ENV`]):
/// says so on stderr and sleeps, so that the test can kill the process at exactly that point.
///
/// Only builds with the `failpoints` feature (the test suite's) have it; in any other build
/// this does nothing, so no environment variable can pause a release build mid-transaction.
pub fn failpoint(name: &str) {
    #[cfg(feature = "failpoints")]
    if std::env::var(FAILPOINT_ENV).as_deref() == Ok(name) {
        eprintln!("failpoint {name} reached");
        std::thread::sleep(std::time::Duration::from_secs(120));
    }
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scans(
    id INTEGER PRIMARY KEY,
    host_key TEXT NOT NULL,
    scanned_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('baseline-recorded', 'verified', 'findings', 'accepted')),
    findings INTEGER NOT NULL,
    compared_with TEXT NOT NULL,
    evidence TEXT NOT NULL,
    report TEXT,
    log_index INTEGER
);
CREATE TABLE IF NOT EXISTS baselines(
    id INTEGER PRIMARY KEY,
    host_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    reason TEXT NOT NULL,
    reference TEXT NOT NULL,
    superseded_by INTEGER REFERENCES baselines(id),
    log_index INTEGER
);
CREATE INDEX IF NOT EXISTS baselines_current ON baselines(host_key, superseded_by);
CREATE INDEX IF NOT EXISTS scans_host ON scans(host_key, id);
CREATE TABLE IF NOT EXISTS verdicts(
    id INTEGER PRIMARY KEY,
    host_key TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    findings INTEGER NOT NULL,
    statement BLOB NOT NULL,
    envelope BLOB,
    log_index INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_meta(
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Version 2 binds scan and baseline rows to the log (`log_index`). A version-1 store gains
/// the column; its old rows stay unbound, and every check says so.
const USER_VERSION: i64 = 2;

/// File name of the log's private key inside the store directory (PKCS#8 PEM, mode 0600).
pub const LOG_KEY_FILE: &str = "log.key";

/// The store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    dir: PathBuf,
    /// The origin a log started implicitly gets (see [`Store::set_default_origin`]).
    default_origin: Option<String>,
}

/// A verdict to record (see [`crate::verdict`]).
#[derive(Debug, Clone)]
pub struct NewVerdict<'a> {
    /// Which host.
    pub host_key: &'a str,
    /// When.
    pub decided_at: &'a str,
    /// `verified` or `findings`.
    pub verdict: &'a str,
    /// Number of findings.
    pub findings: u64,
    /// The statement's payload bytes (what is logged).
    pub statement: &'a [u8],
    /// The signed envelope, when signed.
    pub envelope: Option<&'a [u8]>,
}

/// Where an append landed.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Index of the (first) new entry.
    pub index: u64,
    /// The signed checkpoint of the log after the append.
    pub checkpoint: Vec<u8>,
    /// The log's verifier key.
    pub verifier: String,
}

/// The baseline a host is compared with.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Row id.
    pub id: i64,
    /// When it was recorded.
    pub created_at: String,
    /// The scan it was taken from.
    pub scan_id: i64,
    /// Why (first scan, or the operator's reason).
    pub reason: String,
    /// The reference.
    pub reference: Reference,
}

/// What came of a scan, as the store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScanOutcome {
    /// The first scan of a host, recorded as its baseline.
    BaselineRecorded,
    /// Compared, no finding.
    Verified,
    /// Compared, findings.
    Findings,
    /// Compared and accepted as the new baseline.
    Accepted,
}

impl ScanOutcome {
    const ALL: [ScanOutcome; 4] = [
        ScanOutcome::BaselineRecorded,
        ScanOutcome::Verified,
        ScanOutcome::Findings,
        ScanOutcome::Accepted,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanOutcome::BaselineRecorded => "baseline-recorded",
            ScanOutcome::Verified => "verified",
            ScanOutcome::Findings => "findings",
            ScanOutcome::Accepted => "accepted",
        }
    }

    /// The outcome stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A scan to record.
#[derive(Debug, Clone)]
pub struct NewScan<'a> {
    /// Which host.
    pub host_key: &'a str,
    /// When.
    pub scanned_at: &'a str,
    /// What came of it.
    pub outcome: ScanOutcome,
    /// Number of findings.
    pub findings: u64,
    /// What it was compared with.
    pub compared_with: &'a str,
    /// Evidence JSON.
    pub evidence: &'a str,
    /// Report JSON, when compared.
    pub report: Option<&'a str>,
}

/// One row of `history`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ScanRow {
    /// Scan id.
    pub id: i64,
    /// Host key.
    pub host_key: String,
    /// When.
    pub scanned_at: String,
    /// Outcome.
    pub outcome: ScanOutcome,
    /// Number of findings.
    pub findings: i64,
    /// What it was compared with.
    pub compared_with: String,
    /// Baseline recorded by this scan, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_id: Option<i64>,
    /// Reason given for that baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_reason: Option<String>,
}

impl Store {
    /// The default store directory: `$XDG_DATA_HOME/boardproof`, else
    /// `~/.local/share/boardproof`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
            return Some(PathBuf::from(x).join("boardproof"));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".local/share/boardproof"))
    }

    /// Opens (creating if needed, mode 0700) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        Self::open_with(dir, true)
    }

    /// Opens a store that must already exist: reading commands (history, log show, audit)
    /// never create one at a mistyped path, they say there is none.
    pub fn open_existing(dir: &Path) -> Result<Self, Error> {
        Self::open_with(dir, false)
    }

    fn open_with(dir: &Path, create: bool) -> Result<Self, Error> {
        use std::os::unix::fs::DirBuilderExt;
        if !create && !dir.join(DB_FILE).is_file() {
            return Err(Error::NoStore(dir.to_owned()));
        }
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| Error::Io {
                    path: dir.to_owned(),
                    source,
                })?;
        }
        let path = dir.join(DB_FILE);
        let db = |source| Error::Store {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        conn.execute_batch(crate::tlog::SCHEMA).map_err(db)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        if version < USER_VERSION {
            for table in ["scans", "baselines"] {
                let has: bool = conn
                    .query_row(
                        &format!(
                            "SELECT COUNT(*) > 0 FROM pragma_table_info('{table}') WHERE name = 'log_index'"
                        ),
                        [],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                if !has {
                    conn.execute_batch(&format!(
                        "ALTER TABLE {table} ADD COLUMN log_index INTEGER"
                    ))
                    .map_err(db)?;
                }
            }
            conn.pragma_update(None, "user_version", USER_VERSION)
                .map_err(db)?;
        }
        Ok(Store {
            conn,
            path,
            dir: dir.to_owned(),
            default_origin: None,
        })
    }

    /// The origin a log that was never started gets when a write starts it (default
    /// `boardproof.local/host`; [`origin_for`] makes one from a host name).
    pub fn set_default_origin(&mut self, origin: String) {
        self.default_origin = Some(origin);
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The transparency log's tables, for [`crate::tlog`]'s functions with a key of the
    /// caller's choosing (tests, benchmarks). Commands use the `log_*` methods, which sign with
    /// the store's own log key.
    pub fn log(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The log's tables, read-only: sizes, leaves, proofs, audit.
    pub fn log_conn(&self) -> &Connection {
        &self.conn
    }

    /// The log's verifier key, if the log has been started.
    pub fn log_verifier(&self) -> Result<Option<String>, Error> {
        self.meta("verifier")
    }

    fn meta(&self, name: &str) -> Result<Option<String>, Error> {
        self.conn
            .query_row(
                "SELECT value FROM tlog_meta WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.db())
    }

    /// Starts the log with `origin` and `key` (a new key when `None`), writing the key to
    /// [`LOG_KEY_FILE`]. Refused when the log was already started: a log keeps one key for
    /// its whole life, or its old checkpoints would no longer verify.
    pub fn log_init(
        &mut self,
        origin: &str,
        key: Option<ed25519_dalek::SigningKey>,
    ) -> Result<crate::tlog::LogKey, Error> {
        use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
        if let Some(v) = self.log_verifier()? {
            return Err(Error::LogRange(format!(
                "the log in {} was already started (verifier key {v}); a log keeps its key",
                self.dir.display()
            )));
        }
        let key_path = self.dir.join(LOG_KEY_FILE);
        // A key file without a started log is one an interrupted `log init` wrote and never
        // published: adopt it rather than refuse forever (or overwrite a key someone keeps).
        let (sk, write) = match (key, key_path.exists()) {
            (Some(_), true) => return Err(Error::Exists(key_path)),
            (Some(k), false) => (k, true),
            (None, true) => (crate::keys::load_signing_key(&key_path)?, false),
            (None, false) => (
                ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng),
                true,
            ),
        };
        let lk = crate::tlog::LogKey::new(origin, &sk)?;
        let pem = sk.to_pkcs8_pem(LineEnding::LF).map_err(|e| Error::Key {
            path: key_path.clone(),
            what: "cannot encode the log key",
            why: e.to_string(),
        })?;
        let path = self.path.clone();
        let db = store_error(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        // Checked again inside the write transaction: another process may have started the
        // log since the check above.
        let started: Option<String> = tx
            .query_row(
                "SELECT value FROM tlog_meta WHERE name = 'verifier'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        if let Some(v) = started {
            return Err(Error::LogRange(format!(
                "the log was already started (verifier key {v}); a log keeps its key"
            )));
        }
        if crate::tlog::size(&tx)? > 0 {
            return Err(Error::Corrupt {
                path: path.clone(),
                why: "the log has entries but no verifier key".into(),
            });
        }
        if write {
            crate::keys::write_new(&key_path, pem.as_bytes(), 0o600, false)?;
        }
        for (name, value) in [("origin", &lk.origin), ("verifier", &lk.verifier)] {
            tx.execute(
                "INSERT INTO tlog_meta(name, value) VALUES (?1, ?2)",
                params![name, value],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(lk)
    }

    /// The log's key: [`LOG_KEY_FILE`], checked against the verifier key the log started with.
    /// A store whose log was never started starts it now with a new key and the default
    /// origin ([`Store::set_default_origin`]).
    pub fn log_key(&mut self) -> Result<crate::tlog::LogKey, Error> {
        let verifier = match self.log_verifier()? {
            Some(v) => v,
            None => match self.log_init(
                &self
                    .default_origin
                    .clone()
                    .unwrap_or_else(|| origin_for("")),
                None,
            ) {
                Ok(k) => return Ok(k),
                // Another process started it meanwhile: use theirs (read once more, no loop).
                Err(Error::LogRange(_)) => self.log_verifier()?.ok_or_else(|| Error::Corrupt {
                    path: self.path.clone(),
                    why: "the log was started and has no verifier key".into(),
                })?,
                Err(e) => return Err(e),
            },
        };
        let origin = self.meta("origin")?.ok_or_else(|| Error::Corrupt {
            path: self.path.clone(),
            why: "the log's origin is missing".into(),
        })?;
        let key_path = self.dir.join(LOG_KEY_FILE);
        if !key_path.exists() {
            return Err(Error::LogRange(format!(
                "{}: the log's private key is missing; the log cannot be extended without it \
                 (its checkpoints verify with {verifier})",
                key_path.display()
            )));
        }
        let sk = crate::keys::load_signing_key(&key_path)?;
        let lk = crate::tlog::LogKey::new(&origin, &sk)?;
        if lk.verifier != verifier {
            return Err(Error::LogRange(format!(
                "{}: not the key this log was started with (its checkpoints verify with {verifier})",
                key_path.display()
            )));
        }
        Ok(lk)
    }

    /// Appends log entries in one transaction.
    pub fn log_append(&mut self, entries: &[crate::entry::Entry]) -> Result<Logged, Error> {
        self.logged(entries, |_, _| Ok(()))
    }

    /// Records a verdict and appends its log entry, in one transaction.
    pub fn record_verdict(&mut self, v: &NewVerdict<'_>) -> Result<Logged, Error> {
        let entry = crate::entry::Entry::new(crate::entry::EntryKind::Verdict, v.statement);
        self.logged(&[entry], |tx, index| {
            tx.execute(
                "INSERT INTO verdicts(host_key, decided_at, verdict, findings, statement, envelope, log_index)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    v.host_key,
                    v.decided_at,
                    v.verdict,
                    i64::try_from(v.findings).unwrap_or(i64::MAX),
                    v.statement,
                    v.envelope,
                    i64::try_from(index).unwrap_or(i64::MAX)
                ],
            )?;
            Ok(())
        })
    }

    /// Appends `entries` and writes `rows` (given the first new index) in one transaction with
    /// the store's log key: both are stored, or neither.
    fn logged(
        &mut self,
        entries: &[crate::entry::Entry],
        rows: impl FnOnce(&rusqlite::Transaction<'_>, u64) -> Result<(), rusqlite::Error>,
    ) -> Result<Logged, Error> {
        let key = self.log_key()?;
        let db = store_error(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let leaves: Vec<Vec<u8>> = entries.iter().map(|e| e.to_leaf()).collect();
        let (index, checkpoint) = crate::tlog::append_in(&tx, &key, &leaves, &now_utc())?;
        rows(&tx, index).map_err(db)?;
        failpoint("store-before-commit");
        tx.commit().map_err(db)?;
        Ok(Logged {
            index,
            checkpoint,
            verifier: key.verifier,
        })
    }

    /// An inclusion proof file of entry `n` in the checkpoint of size `t` (default: the
    /// latest), checked before it is handed out.
    pub fn log_proof(&self, n: u64, t: Option<u64>) -> Result<crate::proof::ProofFile, Error> {
        let verifier = self.log_verifier()?.ok_or_else(|| {
            Error::LogRange("the log in this store was never started: nothing to prove".into())
        })?;
        let t = match t {
            Some(t) => t,
            None => crate::tlog::size(&self.conn)?,
        };
        let checkpoint = self.log_checkpoint(t)?.ok_or_else(|| {
            Error::LogRange(format!(
                "no checkpoint of size {t} was published by this log"
            ))
        })?;
        let leaf = crate::tlog::leaf(&self.conn, n)?;
        let proof = crate::tlog::prove_inclusion(&self.conn, n, t)?;
        let file = crate::proof::ProofFile::inclusion(&verifier, &checkpoint, n, &leaf, &proof)?;
        file.check(&verifier).map_err(|e| {
            Error::LogProof(format!(
                "the store gave a proof that does not verify ({e}): run `log audit`"
            ))
        })?;
        Ok(file)
    }

    /// The index of the first entry whose leaf is `leaf`, if any.
    pub fn log_find(&self, leaf: &[u8]) -> Result<Option<u64>, Error> {
        let i: Option<i64> = self
            .conn
            .query_row(
                "SELECT idx FROM tlog_leaves WHERE data = ?1 ORDER BY idx LIMIT 1",
                params![leaf],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.db())?;
        Ok(i.and_then(|i| u64::try_from(i).ok()))
    }

    /// The stored checkpoint of size `n` (the log signs one after every append).
    pub fn log_checkpoint(&self, n: u64) -> Result<Option<Vec<u8>>, Error> {
        self.conn
            .query_row(
                "SELECT note FROM tlog_checkpoints WHERE size = ?1",
                params![i64::try_from(n).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.db())
    }

    /// Entries `from..to` with the time each was appended.
    pub fn log_entries(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>, String)>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT idx, data, appended_at FROM tlog_leaves
                 WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )
            .map_err(self.db())?;
        let rows = stmt
            .query_map(
                params![
                    i64::try_from(from).unwrap_or(i64::MAX),
                    i64::try_from(to).unwrap_or(i64::MAX)
                ],
                |r| {
                    Ok((
                        u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .map_err(self.db())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.db())
    }

    fn db(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        store_error(&self.path)
    }

    /// Host keys other than `host_key` that have a current baseline, in key order.
    pub fn other_baseline_hosts(&self, host_key: &str) -> Result<Vec<String>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT DISTINCT host_key FROM baselines
                 WHERE host_key != ?1 AND superseded_by IS NULL ORDER BY host_key",
            )
            .map_err(self.db())?;
        let rows = stmt
            .query_map(params![host_key], |r| r.get::<_, String>(0))
            .map_err(self.db())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.db())
    }

    /// The current baseline of `host_key`.
    pub fn baseline(&self, host_key: &str) -> Result<Option<Baseline>, Error> {
        let row = self
            .conn
            .query_row(
                "SELECT id, created_at, scan_id, reason, reference FROM baselines
                 WHERE host_key = ?1 AND superseded_by IS NULL ORDER BY id DESC LIMIT 1",
                params![host_key],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(self.db())?;
        let Some((id, created_at, scan_id, reason, json)) = row else {
            return Ok(None);
        };
        let reference: Reference = serde_json::from_str(&json).map_err(|e| Error::Corrupt {
            path: self.path.clone(),
            why: format!("baseline {id}: {e}"),
        })?;
        Ok(Some(Baseline {
            id,
            created_at,
            scan_id,
            reason,
            reference,
        }))
    }

    /// Records a scan and, when `new_baseline` is given, makes it the host's baseline; all in
    /// one transaction. Returns the scan id and the new baseline id.
    pub fn record(
        &mut self,
        scan: &NewScan<'_>,
        new_baseline: Option<(&str, &Reference)>,
    ) -> Result<(i64, Option<i64>), Error> {
        let key = self.log_key()?;
        let path = self.path.clone();
        let db = store_error(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let findings = i64::try_from(scan.findings).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO scans(host_key, scanned_at, outcome, findings, compared_with, evidence, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                scan.host_key,
                scan.scanned_at,
                scan.outcome.as_str(),
                findings,
                scan.compared_with,
                scan.evidence,
                scan.report
            ],
        )
        .map_err(db)?;
        let scan_id = tx.last_insert_rowid();
        let mut entries = vec![crate::rows::scan_entry(&crate::rows::ScanCols {
            id: scan_id,
            host_key: scan.host_key,
            scanned_at: scan.scanned_at,
            outcome: scan.outcome.as_str(),
            findings,
            compared_with: scan.compared_with,
            evidence: scan.evidence,
            report: scan.report,
        })];
        let mut baseline_id = None;
        if let Some((reason, reference)) = new_baseline {
            let json = serde_json::to_string(reference).map_err(|e| Error::Corrupt {
                path: path.clone(),
                why: e.to_string(),
            })?;
            tx.execute(
                "INSERT INTO baselines(host_key, created_at, scan_id, reason, reference)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![scan.host_key, scan.scanned_at, scan_id, reason, json],
            )
            .map_err(db)?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "UPDATE baselines SET superseded_by = ?1
                 WHERE host_key = ?2 AND superseded_by IS NULL AND id != ?1",
                params![id, scan.host_key],
            )
            .map_err(db)?;
            entries.push(crate::rows::baseline_entry(&crate::rows::BaselineCols {
                id,
                host_key: scan.host_key,
                created_at: scan.scanned_at,
                scan_id,
                reason,
                reference: &json,
            }));
            baseline_id = Some(id);
        }
        // The rows and their log entries are one transaction: both are stored, or neither.
        let leaves: Vec<Vec<u8>> = entries.iter().map(|e| e.to_leaf()).collect();
        let (first, _) = crate::tlog::append_in(&tx, &key, &leaves, &now_utc())?;
        let at = |k: u64| i64::try_from(first.saturating_add(k)).unwrap_or(i64::MAX);
        tx.execute(
            "UPDATE scans SET log_index = ?1 WHERE id = ?2",
            params![at(0), scan_id],
        )
        .map_err(db)?;
        if let Some(id) = baseline_id {
            tx.execute(
                "UPDATE baselines SET log_index = ?1 WHERE id = ?2",
                params![at(1), id],
            )
            .map_err(db)?;
        }
        failpoint("store-before-commit");
        tx.commit().map_err(db)?;
        Ok((scan_id, baseline_id))
    }

    /// Checks every scan, baseline and verdict row against the log: see [`crate::rows`].
    pub fn check_rows(&self) -> Result<crate::rows::RowCheck, Error> {
        let verifier = self.log_verifier()?;
        crate::rows::check(&self.conn, verifier.as_deref())
    }

    /// Scans, newest first.
    pub fn history(&self, host_key: Option<&str>, limit: u32) -> Result<Vec<ScanRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.host_key, s.scanned_at, s.outcome, s.findings, s.compared_with,
                        b.id, b.reason
                 FROM scans s LEFT JOIN baselines b ON b.scan_id = s.id
                 WHERE ?1 IS NULL OR s.host_key = ?1
                 ORDER BY s.id DESC LIMIT ?2",
            )
            .map_err(self.db())?;
        let rows = stmt
            .query_map(params![host_key, limit], |r| {
                Ok(ScanRow {
                    id: r.get(0)?,
                    host_key: r.get(1)?,
                    scanned_at: r.get(2)?,
                    outcome: {
                        let text: String = r.get(3)?;
                        ScanOutcome::parse(&text).ok_or_else(|| {
                            rusqlite::Error::FromSqlConversionFailure(
                                3,
                                rusqlite::types::Type::Text,
                                format!("scan outcome {text:?} is not one boardproof writes")
                                    .into(),
                            )
                        })?
                    },
                    findings: r.get(4)?,
                    compared_with: r.get(5)?,
                    baseline_id: r.get(6)?,
                    baseline_reason: r.get(7)?,
                })
            })
            .map_err(self.db())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.db())
    }
}

/// Maps a SQLite error to this store's error naming the database file.
fn store_error(path: &Path) -> impl Fn(rusqlite::Error) -> Error + Copy + '_ {
    move |source| Error::Store {
        path: path.to_owned(),
        source,
    }
}

/// The origin `boardproof.local/HOST` for a log named after host `host`, with any character
/// a note key name may not hold replaced. The caller says which host: this library reads
/// nothing of the machine it runs on.
pub fn origin_for(host: &str) -> String {
    let host: String = host
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '+' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "boardproof.local/{}",
        if host.is_empty() { "host" } else { &host }
    )
}

/// Now, RFC 3339 UTC (seconds).
fn now_utc() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan<'a>(host: &'a str, outcome: &str) -> NewScan<'a> {
        NewScan {
            host_key: host,
            scanned_at: "2026-01-01T00:00:00Z",
            outcome: ScanOutcome::parse(outcome).unwrap(),
            findings: 0,
            compared_with: "none",
            evidence: "{}",
            report: None,
        }
    }

    #[test]
    fn a_log_key_left_by_an_interrupted_init_is_adopted_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let sk = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        {
            use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
            let pem = sk.to_pkcs8_pem(LineEnding::LF).unwrap();
            std::fs::create_dir_all(dir.path()).unwrap();
            std::fs::write(dir.path().join(LOG_KEY_FILE), pem.as_bytes()).unwrap();
        }
        let mut s = Store::open(dir.path()).unwrap();
        let k = s.log_key().unwrap();
        let expect = crate::tlog::LogKey::new(&k.origin, &sk).unwrap();
        assert_eq!(k.verifier, expect.verifier);
        // Started now: a second init is refused, and the key stays.
        assert!(matches!(s.log_init("other", None), Err(Error::LogRange(_))));
        assert_eq!(s.log_key().unwrap().verifier, expect.verifier);
        // An explicit key never overwrites a key file.
        let dir2 = tempfile::tempdir().unwrap();
        std::fs::write(dir2.path().join(LOG_KEY_FILE), b"x").unwrap();
        let mut s2 = Store::open(dir2.path()).unwrap();
        assert!(matches!(s2.log_init("o", Some(sk)), Err(Error::Exists(_))));
    }

    #[test]
    fn baselines_supersede_per_host() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        assert!(s.baseline("a").unwrap().is_none());
        let r = Reference::default();
        let (_, b1) = s
            .record(&scan("a", "baseline-recorded"), Some(("first", &r)))
            .unwrap();
        let (_, b2) = s
            .record(&scan("b", "baseline-recorded"), Some(("first", &r)))
            .unwrap();
        s.record(&scan("a", "verified"), None).unwrap();
        assert_eq!(s.baseline("a").unwrap().unwrap().id, b1.unwrap());
        let (_, b3) = s
            .record(&scan("a", "accepted"), Some(("new disk", &r)))
            .unwrap();
        let cur = s.baseline("a").unwrap().unwrap();
        assert_eq!(cur.id, b3.unwrap());
        assert_eq!(cur.reason, "new disk");
        assert_eq!(s.baseline("b").unwrap().unwrap().id, b2.unwrap());
        let h = s.history(Some("a"), 10).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].outcome, ScanOutcome::Accepted);
        assert_eq!(s.history(None, 10).unwrap().len(), 4);
    }
}
