//! `boardproof lab`: the virtual lab server and its detection matrix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use boardproof_lab::boot::BootOptions;
use boardproof_lab::matrix::{self, Lab, MatrixOptions, RowResult};
use boardproof_lab::scenario::{Scenario, CATALOGUE, GOLDEN};
use boardproof_lab::Progress;

use super::Kind;
use crate::output;
use crate::Outcome;

/// Options shared by `lab run` and `lab matrix`.
#[derive(Debug, Clone)]
pub struct Common {
    pub cache: Option<PathBuf>,
    pub guest_binary: Option<PathBuf>,
    pub timeout: u64,
    pub keep: Option<PathBuf>,
}

/// Shows each step on stderr: a spinner on a terminal, plain lines otherwise.
struct Steps {
    bar: indicatif::ProgressBar,
    tty: bool,
}

impl Steps {
    fn new() -> Steps {
        use std::io::IsTerminal;
        let tty = std::io::stderr().is_terminal();
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Steps { bar, tty }
    }

    fn line(&self, text: &str) {
        if self.tty {
            self.bar.println(text);
        } else {
            eprintln!("{text}");
        }
    }
}

impl boardproof_lab::Progress for Steps {
    fn step(&self, what: &str) {
        self.bar.set_message(what.to_owned());
        if !self.tty {
            eprintln!("lab: {what}");
        }
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn prepare(c: &Common, scenarios: &[&Scenario], steps: &Steps) -> anyhow::Result<Lab> {
    boardproof_lab::boot::install_interrupt_handler()?;
    let cache = match &c.cache {
        Some(c) => c.clone(),
        None => boardproof_lab::assets::default_cache_dir()
            .context("no cache folder: set XDG_CACHE_HOME or HOME, or pass --cache")?,
    };
    let binary = match &c.guest_binary {
        Some(b) => b.clone(),
        None => std::env::current_exe().context("cannot find this program's own file")?,
    };
    Ok(Lab::prepare(&cache, &binary, scenarios, steps)?)
}

fn boot_options(c: &Common) -> BootOptions {
    BootOptions {
        timeout: Duration::from_secs(c.timeout),
        keep: None,
    }
}

pub fn list(json: bool) -> anyhow::Result<Outcome> {
    if json {
        output::print(&output::json(&boardproof_lab::matrix::LabList::catalogue())?)?;
        return Ok(Outcome::Clean);
    }
    let rows: Vec<Vec<String>> = CATALOGUE
        .iter()
        .map(|s| {
            let expect: Vec<String> = s.expect.iter().map(|e| e.describe()).collect();
            vec![
                s.name.to_owned(),
                s.title.to_owned(),
                if expect.is_empty() {
                    "none".into()
                } else {
                    expect.join(", ")
                },
            ]
        })
        .collect();
    output::print(&output::listing(
        &["scenario", "change", "expected findings"],
        &rows,
    ))?;
    Ok(Outcome::Clean)
}

fn outcome_of(results: impl Iterator<Item = RowResult>) -> Outcome {
    let mut out = Outcome::Clean;
    for r in results {
        match r {
            RowResult::Pass => {}
            RowResult::Error => return Outcome::CouldNotVerify,
            _ => out = Outcome::Findings,
        }
    }
    out
}

/// Boots the golden server (reference) and then one scenario, and judges it.
pub fn run(name: &str, c: &Common, json: bool) -> anyhow::Result<Outcome> {
    let s = boardproof_lab::scenario::find(name)
        .with_context(|| format!("no scenario {name}; `boardproof lab list` shows them"))?;
    let steps = Steps::new();
    let lab = prepare(c, &[s], &steps)?;
    let opts = MatrixOptions {
        jobs: 1,
        boot: boot_options(c),
        golden_reboots: 0,
        keep: c.keep.clone(),
    };
    steps.step("booting the golden server (reference)");
    let (first, reference) = matrix::reference_boot(&lab, &opts)?;
    steps.line(&format!("golden boot: {:.1} s", first.seconds));
    steps.step(&format!("booting {name}"));
    let label = if s.name == GOLDEN.name {
        "golden#2"
    } else {
        s.name
    };
    let row = matrix::run_row(&lab, s, label, &reference, &opts);
    drop(steps);
    if json {
        output::print(&output::json(&row)?)?;
    } else {
        let mut t = output::table(&["kind", "severity", "subject"]);
        for o in &row.observed {
            t.add_row(vec![
                o.kind.as_str(),
                o.severity.as_str(),
                o.subject.as_str(),
            ]);
        }
        let mut text = format!("{} — {}\n", row.scenario, row.title);
        text.push_str(&format!(
            "expected: {}\n",
            if row.expected.is_empty() {
                "no findings".to_owned()
            } else {
                row.expected.join(", ")
            }
        ));
        if row.observed.is_empty() {
            text.push_str("observed: no findings\n");
        } else {
            text.push_str(&format!("observed:\n{t}\n"));
        }
        text.push_str(&format!("result: {}", row.result.as_str()));
        if !row.detail.is_empty() {
            text.push_str(&format!(" — {}", row.detail));
        }
        if let Some(b) = row.boot_seconds {
            text.push_str(&format!(" (boot {b:.1} s)"));
        }
        output::print(&text)?;
    }
    Ok(outcome_of(std::iter::once(row.result)))
}

/// Arguments of `lab matrix`.
pub struct MatrixArgs<'a> {
    pub only: &'a [String],
    pub jobs: Option<usize>,
    pub golden_reboots: usize,
    pub doc: Option<&'a Path>,
    pub json: bool,
}

/// Guest RAM plus QEMU's own, per parallel boot.
const BOOT_MEMORY_MIB: u64 = 1536;

fn default_jobs() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem_jobs = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(1, |kib| (kib / 1024 / BOOT_MEMORY_MIB).max(1));
    cpus.min(usize::try_from(mem_jobs).unwrap_or(1)).max(1)
}

pub fn run_matrix(a: &MatrixArgs, c: &Common) -> anyhow::Result<Outcome> {
    let scenarios = matrix::select(a.only)?;
    if a.golden_reboots == 0 && scenarios.iter().all(|s| s.name == GOLDEN.name) {
        anyhow::bail!(
            "nothing to judge: the reference boot alone is no row; name a scenario or keep \
             --golden-reboots at 1 or more (use `lab run golden --keep DIR` for one boot's files)"
        );
    }
    let steps = Steps::new();
    let lab = prepare(c, &scenarios, &steps)?;
    let jobs = a.jobs.unwrap_or_else(default_jobs).max(1);
    let opts = MatrixOptions {
        jobs,
        boot: boot_options(c),
        golden_reboots: a.golden_reboots,
        keep: c.keep.clone(),
    };
    steps.line(&format!(
        "lab: kernel {}, {} scenario(s), {} golden reboot(s), {jobs} at a time",
        lab.assets.kernel.package,
        scenarios.iter().filter(|s| s.name != GOLDEN.name).count(),
        a.golden_reboots
    ));
    let m = matrix::run(&lab, &scenarios, &opts, &|line: &str| {
        if line.starts_with('[') {
            steps.line(line);
        } else {
            steps.step(line);
        }
    })?;
    drop(steps);
    if let Some(doc) = a.doc {
        if let Some(parent) = doc.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("{}", parent.display()))?;
        }
        super::write_atomic(doc, matrix::markdown(&m).as_bytes(), true, Kind::Document)
            .with_context(|| format!("{}", doc.display()))?;
    }
    if a.json {
        output::print(&output::json(&m)?)?;
    } else {
        let mut t = output::table(&["scenario", "expected", "observed", "result"]);
        for r in &m.rows {
            let observed: Vec<String> = r.observed.iter().map(|o| o.kind.clone()).collect();
            t.add_row(vec![
                r.scenario.clone(),
                if r.expected.is_empty() {
                    "none".into()
                } else {
                    r.expected.join("\n")
                },
                if observed.is_empty() {
                    "none".into()
                } else {
                    observed.join("\n")
                },
                if r.detail.is_empty() {
                    r.result.as_str().to_owned()
                } else {
                    format!("{}: {}", r.result.as_str(), r.detail)
                },
            ]);
        }
        let passed = m
            .rows
            .iter()
            .filter(|r| r.result == RowResult::Pass)
            .count();
        let mut text = format!("{t}\n{passed} of {} rows pass", m.rows.len());
        if let Some(doc) = a.doc {
            text.push_str(&format!("; written to {}", doc.display()));
        }
        output::print(&text)?;
    }
    Ok(outcome_of(m.rows.iter().map(|r| r.result)))
}

// The arguments of `boardproof lab list`.
#[derive(clap::Args, Debug)]
pub struct List {}

impl List {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {} = self;
        list(json)
    }
}

// The arguments of `boardproof lab run`.
#[derive(clap::Args, Debug)]
pub struct Run {
    /// Scenario name (see `lab list`; `golden` is a clean reboot).
    pub scenario: String,
    #[command(flatten)]
    pub common: LabCommon,
}

impl Run {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { scenario, common } = self;
        run(&scenario, &common.into(), json)
    }
}

// The arguments of `boardproof lab matrix`.
#[derive(clap::Args, Debug)]
pub struct Matrix {
    /// Only these scenarios (default: all).
    pub scenarios: Vec<String>,
    /// Boots at once (default: CPUs, limited by free memory).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Golden reboots verified after the reference boot.
    #[arg(long, default_value_t = 2)]
    pub golden_reboots: usize,
    /// Write the coverage document here.
    #[arg(long, default_value = "docs/detection-coverage.md")]
    pub doc: PathBuf,
    /// Do not write the coverage document.
    #[arg(long, conflicts_with = "doc")]
    pub no_doc: bool,
    #[command(flatten)]
    pub common: LabCommon,
}

impl Matrix {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self {
            scenarios,
            jobs,
            golden_reboots,
            doc,
            no_doc,
            common,
        } = self;
        run_matrix(
            &MatrixArgs {
                only: &scenarios,
                jobs,
                golden_reboots,
                doc: (!no_doc).then_some(doc.as_path()),
                json,
            },
            &common.into(),
        )
    }
}

// The `boardproof lab` commands.
#[derive(clap::Subcommand, Debug)]
pub enum LabCommand {
    /// List the scenarios and the findings each must produce.
    List(List),
    /// Boot the golden server (reference), then SCENARIO, and judge its findings.
    Run(Run),
    /// Boot golden 1 + N times and every scenario; print and write the coverage table.
    ///
    /// Exit 0: every row passed. 1: a detection was missed, or a finding was unexpected or
    /// appeared in a golden reboot. 2: a boot failed, timed out or sent no evidence.
    Matrix(Matrix),
}

impl LabCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            LabCommand::List(a) => a.run(json),
            LabCommand::Run(a) => a.run(json),
            LabCommand::Matrix(a) => a.run(json),
        }
    }
}

// Options every lab command takes.
#[derive(clap::Args, Debug)]
pub struct LabCommon {
    /// Cache of kernel, firmware and CA (default: $XDG_CACHE_HOME/boardproof/lab).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// The boardproof binary run inside the guest (default: this program).
    #[arg(long)]
    pub guest_binary: Option<PathBuf>,
    /// Stop a boot after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Keep each boot's evidence, guest files, console and report in this folder.
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

impl From<LabCommon> for Common {
    fn from(c: LabCommon) -> Self {
        Common {
            cache: c.cache,
            guest_binary: c.guest_binary,
            timeout: c.timeout,
            keep: c.keep,
        }
    }
}
