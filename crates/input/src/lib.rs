//! Reading the files a user names, bounded by what each kind of file can reasonably hold.
//!
//! Every file argument of boardproof (a key, a certificate, evidence, a firmware image…) and
//! every file the collector reads below a root goes through [`read`]. The cap is enforced while
//! reading, so `/dev/zero` or a 200 MB random file given as a key costs a few KiB of reading,
//! not gigabytes; a FIFO or socket is refused before it can block (it is opened without
//! blocking and its type checked on the open handle, so a swap between a check and the open
//! cannot make it hang); a directory is refused by name. The memory a refused input takes stays
//! below its cap plus one read buffer.
// Bytes read here come from the host, a file or a peer: a length or value that does not
// fit is an error, never silently cut by a cast.
#![deny(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What a file is expected to be, which sets how much of it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A PEM key (PKCS#8 or SPKI; an RSA 4096 key is about 3 KiB).
    Key,
    /// Certificates (PEM or DER; a CA bundle of a few hundred certificates fits).
    Certificate,
    /// A log proof, checkpoint or verifier key.
    Proof,
    /// A small JSON document: attestation keys, challenge, secret, policy input.
    Document,
    /// Evidence, a manifest, a policy or a verdict (JSON or DSSE; a server with several
    /// firmware inventories is a few MiB).
    Evidence,
    /// A bundle: evidence, manifest, policy, verdict and proofs together.
    Bundle,
    /// A TCG event log (real servers: up to a few hundred KiB).
    EventLog,
    /// An IMA measurement list or an allowlist (long-running hosts: tens of MiB).
    MeasurementList,
    /// An SMBIOS table or entry point.
    Smbios,
    /// A firmware image: a flash dump, an OVMF file, a capsule, an option ROM.
    Firmware,
    /// A CoRIM.
    Corim,
    /// Anything the collector reads below its root (sysfs, procfs, module files).
    HostFile,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

impl Kind {
    /// The most bytes read for this kind.
    pub const fn cap(self) -> u64 {
        match self {
            Kind::Key => 64 * KIB,
            Kind::Certificate => 4 * MIB,
            Kind::Proof => 256 * KIB,
            Kind::Document => 4 * MIB,
            Kind::Evidence => 64 * MIB,
            Kind::Bundle => 192 * MIB,
            Kind::EventLog => 16 * MIB,
            Kind::MeasurementList => 128 * MIB,
            Kind::Smbios => 16 * MIB,
            Kind::Firmware => 128 * MIB,
            Kind::Corim => 4 * MIB,
            Kind::HostFile => 256 * MIB,
        }
    }

    /// What the kind is called in an error.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Key => "a key",
            Kind::Certificate => "a certificate file",
            Kind::Proof => "a proof or checkpoint",
            Kind::Document => "this document",
            Kind::Evidence => "evidence or a signed document",
            Kind::Bundle => "a bundle",
            Kind::EventLog => "an event log",
            Kind::MeasurementList => "a measurement list",
            Kind::Smbios => "an SMBIOS table",
            Kind::Firmware => "a firmware image",
            Kind::Corim => "a CoRIM",
            Kind::HostFile => "a host file",
        }
    }
}

/// Why a file was not read.
///
/// Each message is one line that starts with the path. The OS error's text is part of the
/// message, not a chained `source`, so printing the chain does not repeat it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The OS refused it (missing, permission, I/O error).
    #[error("{}: {os}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        os: std::io::Error,
    },
    /// A directory, FIFO, socket: something that has no contents to read as a file.
    #[error("{}: {what}, not a file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// More bytes than the kind allows.
    #[error(
        "{}: more than {} bytes, the most boardproof reads as {}; refused",
        path.display(),
        kind.cap(),
        kind.name()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What it was read as.
        kind: Kind,
    },
    /// A document boardproof was about to write that it would refuse to read back.
    #[error(
        "{}: would be {len} bytes, more than the {} bytes boardproof reads back as {}; not written",
        path.display(),
        kind.cap(),
        kind.name()
    )]
    WouldBeTooLarge {
        /// The file not written.
        path: PathBuf,
        /// Its size.
        len: u64,
        /// What it is read back as.
        kind: Kind,
    },
}

/// Refuses, before anything is written, a document of `len` bytes that [`read`] would refuse
/// as `kind`: a manifest signed over evidence near the evidence cap is a third larger (its
/// payload is base64) and would be a reference nobody can verify against.
pub fn check_writable(path: &Path, len: usize, kind: Kind) -> Result<(), Error> {
    let len = u64::try_from(len).unwrap_or(u64::MAX);
    if len > kind.cap() {
        return Err(Error::WouldBeTooLarge {
            path: path.to_owned(),
            len,
            kind,
        });
    }
    Ok(())
}

/// Reads all of `path` as `kind`: at most `kind.cap()` bytes, a FIFO, socket or directory
/// refused without blocking.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, Error> {
    read_max(path, kind, kind.cap())
}

/// [`read`] as UTF-8 text.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, Error> {
    let bytes = read(path, kind)?;
    String::from_utf8(bytes).map_err(|e| Error::Io {
        path: path.to_owned(),
        os: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()),
        ),
    })
}

fn read_max(path: &Path, kind: Kind, cap: u64) -> Result<Vec<u8>, Error> {
    let io = |os| Error::Io {
        path: path.to_owned(),
        os,
    };
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It has
    // no effect on regular files; the type is then checked on the handle itself.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        Some("a directory")
    } else if ft.is_fifo() {
        Some("a FIFO (pipe)")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        None
    };
    if let Some(what) = what {
        return Err(Error::NotAFile {
            path: path.to_owned(),
            what,
        });
    }
    let too_large = || Error::TooLarge {
        path: path.to_owned(),
        kind,
    };
    // A regular file says its size: refuse it before reading a byte. Devices and sysfs files
    // report 0 or 4096, so the reading below is what enforces the cap for them.
    if ft.is_file() && meta.len() > cap {
        return Err(too_large());
    }
    let hint = if ft.is_file() { meta.len() } else { 0 };
    let mut buf = Vec::with_capacity(usize::try_from(hint.min(cap)).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    #[test]
    fn reads_a_file_up_to_its_cap() {
        let d = tmp();
        let p = d.path().join("k");
        std::fs::write(&p, vec![b'a'; 1000]).expect("write");
        assert_eq!(read_max(&p, Kind::Key, 1000).expect("read").len(), 1000);
        let e = read_max(&p, Kind::Key, 999).expect_err("over the cap");
        assert!(matches!(e, Error::TooLarge { .. }), "{e}");
        assert!(e.to_string().starts_with(&p.display().to_string()));
    }

    #[test]
    fn dev_zero_stops_at_the_cap() {
        let e = read(Path::new("/dev/zero"), Kind::Key).expect_err("endless");
        assert!(matches!(e, Error::TooLarge { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "/dev/zero: more than 65536 bytes, the most boardproof reads as a key; refused"
        );
    }

    #[test]
    fn a_directory_is_refused_by_name() {
        let d = tmp();
        let e = read(d.path(), Kind::Evidence).expect_err("dir");
        assert_eq!(
            e.to_string(),
            format!("{}: a directory, not a file", d.path().display())
        );
    }

    #[test]
    fn a_fifo_without_writer_is_refused_without_blocking() {
        let d = tmp();
        let p = d.path().join("fifo");
        let st = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .expect("mkfifo runs");
        assert!(st.success());
        let e = read(&p, Kind::Key).expect_err("fifo");
        assert!(matches!(e, Error::NotAFile { .. }), "{e}");
    }

    #[test]
    fn a_missing_file_names_it_once() {
        let e = read(Path::new("/nonexistent/x"), Kind::Key).expect_err("missing");
        assert_eq!(
            e.to_string(),
            "/nonexistent/x: No such file or directory (os error 2)"
        );
        assert!(std::error::Error::source(&e).is_none());
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_with_its_offset() {
        let d = tmp();
        let p = d.path().join("t");
        std::fs::write(&p, b"ab\xffc").expect("write");
        let e = read_text(&p, Kind::Key).expect_err("not utf-8");
        assert!(e.to_string().ends_with("not UTF-8 text (at byte 2)"), "{e}");
    }
}
