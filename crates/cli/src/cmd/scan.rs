//! `boardproof scan` (the main job) and `boardproof history`.

use std::path::PathBuf;

use boardproof_evidence::ScanAction;
use boardproof_ledger::store::Store;
use boardproof_workflow as workflow;

use super::store_dir;

use crate::output;
use crate::Outcome;

fn scan(o: Scan, json: bool) -> anyhow::Result<Outcome> {
    let accept = o.accept.then(|| o.reason.clone().unwrap_or_default());
    if !o.root.is_dir() {
        anyhow::bail!("{}: --root is not a directory", o.root.display());
    }
    if let Some(reason) = &accept {
        if reason.trim().is_empty() {
            anyhow::bail!("--accept needs a non-empty --reason");
        }
    }
    // Check everything that can fail before collecting, so a bad manifest costs nothing.
    let manifest = match o.manifest.as_ref().zip(o.pubkey.as_ref()) {
        Some((m, k)) => Some((super::verify::open_manifest(m, k)?, m.display().to_string())),
        None => None,
    };
    let firmware = super::firmware::read_specs(&o.firmware)?;
    let dir = store_dir(o.store.store.clone())?;
    let mut store = super::open_store(&dir)?;
    // A baseline is only as good as the store it is read from: every row is checked against
    // the log before one is trusted, and before anything is collected.
    let ready = workflow::scan::ready(&mut store)?;

    output::warn_if_not_root(&o.root);
    let ev = workflow::collect::collect(
        workflow::collect::Request {
            root: &o.root,
            probe_i2c: o.probe_i2c,
            option_roms: o.option_roms,
            firmware,
            challenge: None,
        },
        &mut output::source_progress(),
    )?;
    let scanned = ready.scan(&workflow::scan::Request {
        evidence: &ev,
        manifest: manifest.as_ref().map(|(m, name)| (m, name.as_str())),
        accept: accept.as_deref(),
        require: &o.require,
        now: &super::now(),
    })?;
    let result = &scanned.result;
    for w in &result.warnings {
        eprintln!("boardproof: warning: {w}");
    }
    if json {
        output::print(&output::json(result)?)?;
        return Ok(scanned.outcome);
    }
    let host_key = &result.host_key;
    let scan_id = result.scan_id;
    let new_baseline = result
        .new_baseline_id
        .map_or("?".to_owned(), |b| b.to_string());
    let mut s = output::sources_table(&ev.sources);
    s.push('\n');
    if result.action == ScanAction::BaselineRecorded {
        s.push_str(&format!(
            "No baseline for {host_key} yet: recorded scan #{scan_id} as baseline #{new_baseline} \
             (store {}). Later scans are compared with it.\n",
            store.path().display()
        ));
    }
    for r in [
        &result.baseline_report,
        &result.manifest_report,
        &result.requirements_report,
    ]
    .into_iter()
    .flatten()
    {
        s.push_str(&output::report_text(r));
    }
    if result.action == ScanAction::Accepted {
        s.push_str(&format!(
            "ACCEPTED: scan #{scan_id} recorded as baseline #{new_baseline} of {host_key} (reason: {}); \
             the findings above were reviewed and will not be reported again.\n",
            scanned.baseline_reason.as_deref().unwrap_or("")
        ));
    } else {
        s.push_str(&format!(
            "scan #{scan_id} stored in {}\n",
            store.path().display()
        ));
    }
    output::print(&s)?;
    Ok(scanned.outcome)
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
        output::print(&output::json(&boardproof_ledger::documents::History {
            schema: boardproof_ledger::documents::HISTORY_SCHEMA.into(),
            store: store.path().display().to_string(),
            scans: rows,
            rows_checked: check.rows,
            problems: check.problems.clone(),
        })?)?;
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

// The arguments of `boardproof scan`.
#[derive(clap::Args, Debug)]
pub struct Scan {
    #[command(flatten)]
    pub store: super::StoreArg,
    /// Directory the sources read below.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Actively scan every I2C/SMBus adapter through /dev/i2c-N for chips no driver declared
    /// (i2cdetect's safety rules; never writes data). Opt-in: see docs/evidence.md for the
    /// risk on real hardware. Compare only with references collected the same way.
    #[arg(long)]
    pub probe_i2c: bool,
    /// Read every PCI device's option ROM (sys/bus/pci/devices/*/rom). Opt-in: the kernel
    /// turns on each device's ROM decoding while it reads; see docs/evidence.md.
    #[arg(long)]
    pub option_roms: bool,
    /// Also verify against this signed manifest.
    #[arg(long, requires = "pubkey")]
    pub manifest: Option<PathBuf>,
    /// Public key of the manifest's signer.
    #[arg(long, requires = "manifest")]
    pub pubkey: Option<PathBuf>,
    /// Record this scan as the new baseline (after review).
    #[arg(long, requires = "reason")]
    pub accept: bool,
    /// Why the new baseline is accepted (kept in history); only with --accept.
    #[arg(long, requires = "accept")]
    pub reason: Option<String>,
    /// Add a firmware image's module inventory (`LABEL=PATH` or `PATH`), as collect does.
    #[arg(long, value_name = "[LABEL=]IMAGE")]
    pub firmware: Vec<String>,
    /// Sources this scan must have (`smbios,tpm,pci`…; repeatable): each one that is not
    /// `ok` is a `source-missing` finding, on the first scan too.
    #[arg(long, value_delimiter = ',', value_name = "SOURCE")]
    pub require: Vec<boardproof_evidence::Source>,
}

impl Scan {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        scan(self, json)
    }
}

// The arguments of `boardproof history`.
#[derive(clap::Args, Debug)]
pub struct History {
    #[command(flatten)]
    pub store: super::StoreArg,
    /// Only this host key.
    #[arg(long)]
    pub host: Option<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

impl History {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            store: super::StoreArg { store },
            host,
            limit,
        } = self;
        history(store, host.as_deref(), limit, json)
    }
}
