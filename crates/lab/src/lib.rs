//! The virtual lab server.
//!
//! boardproof promises detections; this crate shows each one on a really booted machine: a
//! QEMU q35 server with Debian's OVMF, a swtpm TPM 2.0 and a Debian kernel, whose initramfs
//! runs `boardproof collect` inside the guest and sends the evidence out over a second serial
//! port. Every scenario changes exactly one thing against the golden server; the matrix checks
//! that each gives the finding kinds it must, and that clean reboots give none.
//!
//! Everything the guest needs is built from Debian packages on first use and cached (see
//! [`assets`]); QEMU and swtpm run as child processes that are ended by their pid on timeout,
//! on error and on Ctrl-C.
#![warn(missing_docs)]

pub mod assets;
pub mod attest;
pub mod boot;
pub mod disk;
pub mod initramfs;
pub mod machine;
pub mod matrix;
pub mod ovmf;
pub mod scenario;
pub mod transfer;
pub mod vars;

use std::path::PathBuf;

/// Errors of the lab.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A tool the lab needs is not installed.
    #[error("{tool} not found ({why}); install the Debian packages: {packages}")]
    MissingTool {
        /// The program.
        tool: String,
        /// What it is needed for.
        why: String,
        /// Debian packages providing it.
        packages: String,
    },
    /// A tool ran and failed.
    #[error("{tool} failed: {message}")]
    ToolFailed {
        /// The command.
        tool: String,
        /// Its status and the end of its output.
        message: String,
    },
    /// The guest did not power off in time.
    #[error("the guest did not finish within {seconds} s (QEMU and swtpm were stopped); last console lines:\n{console}")]
    Timeout {
        /// The limit.
        seconds: u64,
        /// The end of the guest console.
        console: String,
    },
    /// The run was interrupted (Ctrl-C or a termination signal).
    #[error("interrupted: QEMU and swtpm were stopped, temporary folders removed")]
    Interrupted,
    /// The guest ran but its output is missing or damaged.
    #[error("guest output: {message}; last console lines:\n{console}")]
    GuestOutput {
        /// What is wrong.
        message: String,
        /// The end of the guest console.
        console: String,
    },
    /// An input (firmware image, kernel package, scenario name) is not what the lab expects.
    #[error("{0}")]
    Invalid(String),
    /// Signing or opening the lab's manifest failed.
    #[error(transparent)]
    Ledger(#[from] boardproof_ledger::Error),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// Progress of long steps, shown by the caller (a bar or log lines).
pub trait Progress: Sync {
    /// A step starts or advances (`what` is one short line).
    fn step(&self, what: &str);
}

/// Progress that shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn step(&self, _what: &str) {}
}
