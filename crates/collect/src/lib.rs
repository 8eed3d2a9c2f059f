//! Collects evidence from one host.
//!
//! Every source reads below a root directory (`/` on a live host), so a snapshot of a machine's
//! sysfs and procfs files is a test fixture (see `scripts/snapshot-host.sh`). Each source ends
//! `ok`, `unavailable` (with the reason) or `error` (with the message): a missing source is
//! never silently empty, and one failing source never loses the others.
//!
//! What this cannot see: devices on buses Linux does not enumerate (I2C/SMBus chips no driver
//! declared), and anything that changes no identity, no firmware byte and no measurement, such
//! as a passive tap on a bus.
// Bytes read here come from the host, a file or a peer: a length or value that does not
// fit is an error, never silently cut by a cast.
#![deny(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]
#![warn(missing_docs)]

pub mod firmware;
mod fsutil;
pub mod smbios;
mod sources;
pub mod tpm2;

use std::path::{Path, PathBuf};

use boardproof_evidence::{
    Evidence, Host, Inventory, Source, SourceReport, SourceStatus, Volatile, EVIDENCE_SCHEMA,
};
use boardproof_formats::pci_ids::PciIds;

pub use fsutil::{read_capped, MAX_FILE};

/// The evidence record of an option ROM's bytes read from a file (`firmware inspect`), with no
/// device: `location` and `address` say where it came from.
pub fn option_rom_record(bytes: &[u8], from: &str) -> boardproof_evidence::OptionRom {
    sources::option_rom::describe(from.to_owned(), "-".into(), from.to_owned(), bytes)
}

/// Errors of this crate. Only [`collect`]'s callers that read single files see them; inside a
/// collection each error ends its own source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file could not be read: missing, not a file, or over the cap for its kind.
    #[error(transparent)]
    Input(#[from] boardproof_input::Error),
    /// A file did not parse.
    #[error("{path}: {source}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// Where and why.
        source: boardproof_formats::ParseError,
    },
    /// The source is not present on this machine.
    #[error("{0}")]
    Unavailable(String),
    /// A bug in boardproof stopped this source (it panicked); the other sources are kept.
    #[error("internal error (a bug in boardproof, please report it): {0}")]
    Internal(String),
}

/// What to collect and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory the sources read below.
    pub root: PathBuf,
    /// Names for PCI devices (display only). `None`: no names.
    pub pci_ids: Option<PciIds>,
    /// Actively probe every I2C/SMBus adapter through /dev/i2c-N for chips no driver declared
    /// (see `sources::i2c::probe` for the safety rules and the risk on real hardware).
    pub probe_i2c: bool,
    /// Read every PCI device's option ROM (`sources::option_rom` says what that touches).
    pub option_roms: bool,
}

impl Options {
    /// Reads below `root`, with names from the first hwdata pci.ids found on this machine.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Options {
            root: root.into(),
            pci_ids: load_pci_ids(),
            probe_i2c: false,
            option_roms: false,
        }
    }
}

/// Where pciutils / hwdata install pci.ids on Debian, Fedora and Arch.
pub const PCI_IDS_PATHS: [&str; 3] = [
    "/usr/share/hwdata/pci.ids",
    "/usr/share/misc/pci.ids",
    "/usr/share/pci.ids",
];

/// Loads the system's pci.ids, if any (it names devices for people; identity never uses it).
pub fn load_pci_ids() -> Option<PciIds> {
    PCI_IDS_PATHS.iter().find_map(|p| {
        let bytes = read_capped(Path::new(p)).ok()?;
        // Valid UTF-8 is the normal case and is checked far faster than a lossy copy is made.
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Some(PciIds::from_text(text))
    })
}

/// The names of the sources, in the order they run.
pub const SOURCES: [&str; 12] = {
    let mut names = [""; 12];
    let mut i = 0;
    while i < Source::COLLECTED.len() {
        names[i] = Source::COLLECTED[i].as_str();
        i += 1;
    }
    names
};

/// Collects evidence. `progress(name, index, total)` is called before each source, and once
/// more with `index == total` at the end.
pub fn collect(opts: &Options, progress: &mut dyn FnMut(&str, usize, usize)) -> Evidence {
    let started = now_rfc3339();
    let root = opts.root.as_path();
    let mut inventory = Inventory::default();
    let mut volatile = Volatile {
        collected_at: started,
        collector: format!("boardproof {}", env!("CARGO_PKG_VERSION")),
        root: root.display().to_string(),
        ..Volatile::default()
    };
    let mut reports = Vec::new();
    let total = Source::COLLECTED.len();
    for (i, source) in Source::COLLECTED.into_iter().enumerate() {
        let name = source.as_str();
        progress(name, i, total);
        // Each source fills its own inventory, merged only when it returns: a source that
        // fails (or, being a bug, panics) leaves nothing half-written and loses no other.
        let mut part = Inventory::default();
        let mut vol = volatile.clone();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(feature = "failpoints")]
            if std::env::var(FAILPOINT_ENV).is_ok_and(|v| v == format!("collect-panic:{name}")) {
                panic!("failpoint collect-panic:{name}");
            }
            run_source(source, root, opts, &mut part, &mut vol)
        }));
        let out = match run {
            Ok(out) => {
                if out.is_ok() {
                    merge(&mut inventory, part);
                    volatile = vol;
                }
                out
            }
            Err(panic) => Err(Error::Internal(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "unknown panic".to_owned()),
            )),
        };
        reports.push(match out {
            Ok(o) => SourceReport {
                name: source,
                status: o.status.unwrap_or(SourceStatus::Ok),
                reason: o.reason,
                items: o.items,
                notes: o.notes,
            },
            Err(Error::Unavailable(reason)) => SourceReport {
                name: source,
                status: SourceStatus::Unavailable,
                reason: Some(reason),
                items: 0,
                notes: Vec::new(),
            },
            Err(e) => SourceReport {
                name: source,
                status: SourceStatus::Error,
                reason: Some(e.to_string()),
                items: 0,
                notes: Vec::new(),
            },
        });
    }
    progress("done", total, total);
    inventory.components.sort_by(|a, b| {
        (a.class, &a.location, &a.identity).cmp(&(b.class, &b.location, &b.identity))
    });
    let host = Host {
        hostname: fsutil::read_trimmed(root, "proc/sys/kernel/hostname"),
        machine_id: fsutil::read_trimmed(root, "etc/machine-id"),
        kernel_release: fsutil::read_trimmed(root, "proc/sys/kernel/osrelease"),
    };
    volatile.uptime_seconds = fsutil::read_trimmed(root, "proc/uptime")
        .and_then(|u| u.split_whitespace().next().and_then(|s| s.parse().ok()));
    volatile.boot_id = fsutil::read_trimmed(root, "proc/sys/kernel/random/boot_id");
    Evidence {
        schema: EVIDENCE_SCHEMA.to_owned(),
        host,
        inventory,
        sources: reports,
        volatile,
    }
}

/// Environment variable naming a failpoint, for tests only: `collect-panic:<source>` makes
/// that source panic, to show that the others are kept. Only builds with the `failpoints`
/// feature (the test suite's) read it; release builds have no failpoint.
#[cfg(feature = "failpoints")]
pub const FAILPOINT_ENV: &str = "BOARDPROOF_TEST_FAILPOINT";

fn run_source(
    source: Source,
    root: &Path,
    opts: &Options,
    inv: &mut Inventory,
    volatile: &mut Volatile,
) -> Result<SourceOutput, Error> {
    match source {
        Source::Smbios => sources::smbios(root, inv, volatile),
        Source::Pci => sources::pci::collect(root, opts.pci_ids.as_ref(), inv),
        Source::OptionRoms => sources::option_rom::collect(root, opts.option_roms, inv),
        Source::Usb => sources::usb::collect(root, inv),
        Source::I2c => sources::i2c::collect(root, inv, opts.probe_i2c),
        Source::Block => sources::block::collect(root, inv),
        Source::Net => sources::net::collect(root, inv),
        Source::Cpu => sources::cpu::collect(root, inv),
        Source::KernelModules => sources::modules::collect(root, inv, volatile),
        Source::Acpi => sources::acpi::collect(root, inv),
        Source::Tpm => sources::tpm::collect(root, inv, volatile),
        Source::Ima => sources::ima::collect(root, inv),
        // Images are given to the collector, not found on the host: see `firmware::attach`.
        Source::Firmware => Err(Error::Unavailable(
            "firmware images are given, not collected".into(),
        )),
    }
}

/// Adds what one source found to the inventory.
fn merge(into: &mut Inventory, part: Inventory) {
    let Inventory {
        smbios,
        components,
        kernel_modules,
        acpi_tables,
        tpm,
        ima,
        firmware,
        option_roms,
    } = part;
    if ima.is_some() {
        into.ima = ima;
    }
    if smbios.is_some() {
        into.smbios = smbios;
    }
    if tpm.is_some() {
        into.tpm = tpm;
    }
    into.components.extend(components);
    into.kernel_modules.extend(kernel_modules);
    into.acpi_tables.extend(acpi_tables);
    into.firmware.extend(firmware);
    into.option_roms.extend(option_roms);
}

/// The current time, RFC 3339 in UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// What one source produced, besides what it put into the inventory.
#[derive(Debug, Default)]
pub(crate) struct SourceOutput {
    pub items: u64,
    pub notes: Vec<String>,
    /// Overrides `ok` (e.g. a partial SMBIOS table is `error` but keeps what it decoded).
    pub status: Option<SourceStatus>,
    pub reason: Option<String>,
}
