//! One module per command.

pub mod attest;
pub mod bundle;
pub mod collect;
pub mod corim;
pub mod eventlog;
pub mod firmware;
pub mod lab;
pub mod log;
pub mod manifest;
pub mod platform_cert;
pub mod policy;
pub mod scan;
pub mod show;
pub mod smbios;
pub mod verify;

use std::path::Path;

use anyhow::Context;
use boardproof_evidence::Evidence;
pub use boardproof_input::Kind;

/// The store directory: `--store`, else the default one.
pub fn store_dir(given: Option<std::path::PathBuf>) -> anyhow::Result<std::path::PathBuf> {
    given
        .or_else(boardproof_ledger::store::Store::default_dir)
        .context("no store directory: set --store, XDG_DATA_HOME or HOME")
}

/// Reads a file argument as `kind`, within the cap of its kind (boardproof_input).
pub fn read(path: &Path, kind: Kind) -> anyhow::Result<Vec<u8>> {
    Ok(boardproof_input::read(path, kind)?)
}

/// Reads and parses an evidence file, naming it in any error.
pub fn read_evidence(path: &Path) -> anyhow::Result<Evidence> {
    let bytes = read(path, Kind::Evidence)?;
    Evidence::from_json(&bytes).with_context(|| format!("{}", path.display()))
}

/// Writes a file atomically (beside it, then renamed over), so a crash never leaves half of it.
/// `read_as` is what boardproof reads the file back as (`Document` for files only people or
/// other tools read): a file it would refuse to read is not written at all.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool, read_as: Kind) -> anyhow::Result<()> {
    boardproof_input::check_writable(path, bytes.len(), read_as)?;
    boardproof_ledger::keys::write_new(path, bytes, 0o644, force)?;
    boardproof_ledger::store::failpoint("output-written");
    Ok(())
}

/// Now, RFC 3339 in UTC: the CLI is where the clock is read.
pub fn now() -> String {
    boardproof_collect::now_rfc3339()
}

/// Opens (or creates) the store in `dir`. A log started implicitly by a write is named after
/// this host, `boardproof.local/HOSTNAME`: the host name is read here, at the binary's edge.
pub fn open_store(dir: &Path) -> anyhow::Result<boardproof_ledger::store::Store> {
    let mut s = boardproof_ledger::store::Store::open(dir)?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    s.set_default_origin(boardproof_ledger::store::origin_for(&host));
    Ok(s)
}

/// `--store DIR`, declared once for every command that reads or writes a store.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct StoreArg {
    /// Store directory (default: $XDG_DATA_HOME/boardproof, else ~/.local/share/boardproof).
    #[arg(long, value_name = "DIR")]
    pub store: Option<std::path::PathBuf>,
}

/// `--force`, declared once for every command that writes files.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct Force {
    /// Replace output files that already exist.
    #[arg(long)]
    pub force: bool,
}
