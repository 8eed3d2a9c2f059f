//! File reading below a root, with a size cap: sysfs and procfs are trusted to be small, but a
//! snapshot folder or a hostile file system is not.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Error;

/// Largest file any source reads (module files are the largest real ones, a few MiB).
pub const MAX_FILE: u64 = boardproof_input::Kind::HostFile.cap();

/// Reads a whole file below the root, refusing more than [`MAX_FILE`] bytes, a FIFO or a
/// directory (boardproof's one bounded reader).
pub fn read_capped(path: &Path) -> Result<Vec<u8>, Error> {
    Ok(boardproof_input::read(
        path,
        boardproof_input::Kind::HostFile,
    )?)
}

/// `root/rel`, with `rel` taken as relative even when it starts with `/`.
pub fn under(root: &Path, rel: &str) -> PathBuf {
    root.join(rel.trim_start_matches('/'))
}

/// A small text attribute, trimmed; `None` when absent, unreadable or empty.
pub fn read_trimmed(root: &Path, rel: &str) -> Option<String> {
    attr(&under(root, rel))
}

/// A small text attribute at an absolute path, trimmed; `None` when absent or empty.
pub fn attr(path: &Path) -> Option<String> {
    let bytes = read_capped(path).ok()?;
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// sha256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Sorted entry names of a directory.
pub fn list_dir(path: &Path) -> Result<Vec<String>, Error> {
    let rd = std::fs::read_dir(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// The name a symlink points at (last component), e.g. the bound driver.
pub fn link_name(path: &Path) -> Option<String> {
    let target = std::fs::read_link(path).ok()?;
    Some(target.file_name()?.to_string_lossy().into_owned())
}

/// The device path components below `sys/devices` that `path` resolves to.
pub fn device_path(root: &Path, path: &Path) -> Option<Vec<String>> {
    let real = std::fs::canonicalize(path).ok()?;
    let devices = std::fs::canonicalize(under(root, "sys/devices")).ok()?;
    let rel = real.strip_prefix(&devices).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect(),
    )
}

/// Parses a sysfs hex attribute like `0x8086`.
pub fn hex_attr(path: &Path) -> Option<u32> {
    let t = attr(path)?;
    u32::from_str_radix(t.trim_start_matches("0x"), 16).ok()
}
