//! Disk images of the lab server.
//!
//! IMA's `tcb` policy does not measure files on the initramfs (ramfs/tmpfs are excluded by
//! filesystem magic), so the program whose measurement the IMA scenario changes lives on a
//! real ext4 filesystem, made with `mke2fs -d` from a folder and mounted read-only by the guest.

use std::path::Path;
use std::process::Command;

use crate::assets::{require, run_tool};
use crate::Error;

/// Size of each disk image.
pub const DISK_MIB: u64 = 16;

/// The program the guest runs from the data disk; IMA measures it when it is executed.
pub fn lab_check_script(variant: &str) -> String {
    format!("#!/bin/sh\necho \"boardproof-lab: data disk check ({variant}) ran\"\n")
}

/// Makes an ext4 image at `out` holding `bin/lab-check` (the `variant` text goes into it, so a
/// different variant is a different measured file). Fixed UUID, hash seed and time, so the
/// same variant gives the same image.
pub fn data_disk(out: &Path, variant: &str) -> Result<(), Error> {
    let mke2fs = require("mke2fs", "builds the data disk IMA measures", "e2fsprogs")?;
    let tmp = tempfile::tempdir().map_err(Error::io(std::env::temp_dir()))?;
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).map_err(Error::io(&bin))?;
    let script = bin.join("lab-check");
    std::fs::write(&script, lab_check_script(variant)).map_err(Error::io(&script))?;
    set_mode(&script, 0o755)?;
    if out.exists() {
        std::fs::remove_file(out).map_err(Error::io(out))?;
    }
    run_tool(
        Command::new(mke2fs)
            .env("E2FSPROGS_FAKE_TIME", "1600000000")
            .args(["-q", "-F", "-t", "ext4", "-L", "bplab-data"])
            .args(["-U", "6c1c2a80-7d1e-4a54-9b38-3b0a4f1d2e01"])
            .args([
                "-E",
                "hash_seed=6c1c2a80-7d1e-4a54-9b38-3b0a4f1d2e02,root_owner=0:0",
            ])
            .arg("-d")
            .arg(tmp.path())
            .arg(out)
            .arg(format!("{DISK_MIB}M")),
    )?;
    Ok(())
}

/// A zero-filled image (sparse).
pub fn blank_disk(out: &Path) -> Result<(), Error> {
    let f = std::fs::File::create(out).map_err(Error::io(out))?;
    f.set_len(DISK_MIB << 20).map_err(Error::io(out))?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(Error::io(path))
}
