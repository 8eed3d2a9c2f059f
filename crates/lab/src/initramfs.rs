//! The guest's initramfs: busybox, boardproof with the libraries it links, the kernel modules
//! the lab server's devices need, and an init that collects evidence and sends it out.
//!
//! The archive is built in Rust (newc cpio, entries sorted, owner root, mtime 0), so the same
//! inputs give the same bytes: the Linux EFI stub measures the initrd into PCR 9, and a
//! non-reproducible initramfs would turn every boot's event log into a "change".

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::assets::{run_tool, Assets};
use crate::Error;

/// Modules the guest loads, by name; their dependencies come from modules.dep. Loaded in every
/// boot (absent hardware leaves a driver idle), so the module list is the same in all scenarios.
pub const GUEST_MODULES: &[&str] = &[
    "i2c-i801",
    "i2c-dev",
    "ahci",
    "sd_mod",
    "nvme",
    "e1000e",
    "e1000",
    "xhci-pci",
    "usb-storage",
    "ftdi_sio",
    "crc32c_generic",
    "ext4",
    "qemu_fw_cfg",
];

/// Where the host's hwdata keeps pci.ids.
const PCI_IDS: [&str; 2] = ["/usr/share/hwdata/pci.ids", "/usr/share/misc/pci.ids"];

/// The serial port the guest sends its files over (the console is ttyS0).
pub const DATA_PORT: &str = "/dev/ttyS1";
/// The serial port of the attestation round (the host serves it as the verifier).
pub const ATTEST_PORT: &str = "/dev/ttyS2";

/// A change to one module file inside the initramfs (the modified-driver scenario): one byte
/// after `after` is changed and the vendor's signature is stripped, as an attacker must (the
/// kernel refuses a module whose signature no longer verifies, but loads an unsigned one with
/// a taint unless signatures are enforced).
#[derive(Debug, Clone)]
pub struct ModulePatch {
    /// Module name as in modules.dep (`i2c-dev`).
    pub module: String,
    /// The bytes searched in the file; the first byte after them is changed.
    pub after: Vec<u8>,
}

/// What went into an initramfs.
#[derive(Debug, Clone)]
pub struct Built {
    /// The archive.
    pub path: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Module files in load order, relative to lib/modules/RELEASE.
    pub modules: Vec<String>,
}

/// Flags for the guest's `boardproof collect`.
pub const COLLECT_FLAGS: &str = "--probe-i2c --option-roms";

fn init_script(collect_flags: &str) -> String {
    format!(
        r#"#!/bin/busybox sh
# boardproof lab guest init: load drivers, run the IMA-measured check from the data disk,
# collect evidence, send files over {port}, power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
log() {{ echo "boardproof-lab: $*"; }}
R=/lib/modules/$(uname -r)
while read -r m; do insmod "$R/$m" || log "insmod $m failed"; done < /etc/lab/modules
# Let USB, disk and NIC enumeration settle: the device lists must stay the same for 1 s.
last=""; same=0; n=0
while [ $same -lt 2 ] && [ $n -lt 30 ]; do
  now=$(ls /sys/bus/usb/devices /sys/block /sys/class/net /sys/bus/pci/devices 2>/dev/null | tr '\n' ' ')
  if [ "$now" = "$last" ]; then same=$((same+1)); else same=0; last="$now"; fi
  n=$((n+1)); sleep 0.5
done
# The tampered-log scenario: flip one bit of the event log as userspace sees it (what a
# rootkit hiding a measurement would do), at the byte offset the host passes through fw_cfg.
F=/sys/firmware/qemu_fw_cfg/by_name/opt/boardproof/flip-eventlog/raw
L=/sys/kernel/security/tpm0/binary_bios_measurements
if [ -f "$F" ] && [ -f "$L" ]; then
  off=$(cat "$F"); cat "$L" > /tmp/tampered.log
  b=$(dd if=/tmp/tampered.log bs=1 skip="$off" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 16)))" | dd of=/tmp/tampered.log bs=1 seek="$off" count=1 conv=notrunc 2>/dev/null
  mount --bind /tmp/tampered.log "$L" && log "event log tampered at byte $off (bind mount)"
fi
mkdir -p /mnt/data
for d in /dev/sd? /dev/nvme?n1; do
  [ -b "$d" ] && mount -t ext4 -o ro "$d" /mnt/data 2>/dev/null && break
done
if [ -x /mnt/data/bin/lab-check ]; then /mnt/data/bin/lab-check; else log "no data disk with bin/lab-check"; fi
# Attestation round with the host as verifier over {attest} (see the lab crate's attest.rs):
# the TPM's keys out, the challenge in, then collect answers it with a quote.
CH=""
A={attest}
if [ -c /dev/tpmrm0 ] && [ -c $A ] && stty -F $A raw -echo 2>/dev/null; then
  if /bin/boardproof attest keys --tpm /dev/tpmrm0 --out /tmp/keys.json > /tmp/attest.log 2>&1; then
    exec 3<>$A
    echo "BOARDPROOF-LAB KEYS $(base64 /tmp/keys.json | tr -d '\n')" >&3
    if read -t 60 -r t1 t2 data <&3 && [ "$t2" = CHALLENGE ]; then
      echo "$data" | base64 -d > /tmp/challenge.json && CH="--challenge /tmp/challenge.json --tpm /dev/tpmrm0"
    else
      log "no challenge from the host: $t2 $data"
    fi
    exec 3>&-
  else
    log "attest keys failed: $(tail -n 1 /tmp/attest.log)"
  fi
fi
/bin/boardproof collect {collect_flags} $CH --out /tmp/evidence.json > /tmp/collect.log 2>&1
rc=$?
log "collect exited $rc"
mkdir -p /tmp/out/acpi /tmp/out/smbios
cp /tmp/evidence.json /tmp/collect.log /tmp/attest.log /tmp/out/ 2>/dev/null
cat /sys/kernel/security/tpm0/binary_bios_measurements > /tmp/out/eventlog.bin 2>/dev/null || rm -f /tmp/out/eventlog.bin
cat /sys/kernel/security/ima/ascii_runtime_measurements > /tmp/out/ima.txt 2>/dev/null || rm -f /tmp/out/ima.txt
cat /sys/kernel/security/ima/binary_runtime_measurements > /tmp/out/ima.bin 2>/dev/null || rm -f /tmp/out/ima.bin
for f in DMI smbios_entry_point; do cat /sys/firmware/dmi/tables/$f > /tmp/out/smbios/$f 2>/dev/null; done
for t in /sys/firmware/acpi/tables/*; do [ -f "$t" ] && cat "$t" > /tmp/out/acpi/${{t##*/}}; done
if [ -d /sys/class/tpm/tpm0/pcr-sha256 ]; then
  for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23; do
    echo "$i $(cat /sys/class/tpm/tpm0/pcr-sha256/$i)"; done > /tmp/out/pcrs-sha256.txt
fi
S={port}
stty -F $S raw -echo 2>/dev/null
cd /tmp/out
for f in $(find . -type f | sort); do
  f=${{f#./}}
  {{ echo "BOARDPROOF-LAB FILE $f $(wc -c < "$f")"; base64 "$f"; echo "BOARDPROOF-LAB END $f $(sha256sum "$f" | cut -d' ' -f1)"; }} > $S
done
echo "BOARDPROOF-LAB DONE $rc" > $S
sync
poweroff -f
"#,
        port = DATA_PORT,
        attest = ATTEST_PORT
    )
}

/// Parses modules.dep into name → (path, dependency paths).
fn modules_dep(text: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let Some((path, deps)) = line.split_once(':') else {
            continue;
        };
        let name = module_name(path);
        let deps = deps.split_whitespace().map(str::to_owned).collect();
        map.insert(name, (path.to_owned(), deps));
    }
    map
}

/// `kernel/drivers/i2c/i2c-dev.ko` → `i2c_dev` (the kernel treats - and _ alike).
fn module_name(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.split(".ko").next().unwrap_or(base);
    base.replace('-', "_")
}

/// Module files in an order where every dependency comes before its users.
pub fn load_order(dep_text: &str, wanted: &[&str]) -> Result<Vec<String>, Error> {
    let map = modules_dep(dep_text);
    let by_path: BTreeMap<&str, &Vec<String>> =
        map.values().map(|(p, d)| (p.as_str(), d)).collect();
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for w in wanted {
        let (path, _) = map.get(&w.replace('-', "_")).ok_or_else(|| {
            Error::Invalid(format!(
                "kernel module {w} is not in this kernel's modules.dep"
            ))
        })?;
        visit(path, &by_path, &mut seen, &mut order, 0)?;
    }
    Ok(order)
}

fn visit(
    path: &str,
    by_path: &BTreeMap<&str, &Vec<String>>,
    seen: &mut BTreeSet<String>,
    order: &mut Vec<String>,
    depth: usize,
) -> Result<(), Error> {
    if depth > 64 {
        return Err(Error::Invalid(format!(
            "modules.dep: dependency loop at {path}"
        )));
    }
    if !seen.insert(path.to_owned()) {
        return Ok(());
    }
    if let Some(deps) = by_path.get(path) {
        // modules.dep lists deepest dependencies last; load them first.
        for d in deps.iter().rev() {
            visit(d, by_path, seen, order, depth.saturating_add(1))?;
        }
    }
    order.push(path.to_owned());
    Ok(())
}

/// Libraries `binary` loads (from ldd), as absolute paths; empty for a static binary.
pub fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, Error> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| Error::ToolFailed {
            tool: "ldd".into(),
            message: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // ldd exits 1 on a static binary ("not a dynamic executable").
        return Ok(Vec::new());
    }
    let mut libs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.push(PathBuf::from(p));
        }
    }
    Ok(libs)
}

struct Archive {
    entries: BTreeMap<String, Entry>,
}

enum Entry {
    Dir,
    File { data: Vec<u8>, mode: u32 },
    Symlink(String),
}

impl Archive {
    fn new() -> Self {
        Archive {
            entries: BTreeMap::new(),
        }
    }

    fn dirs_for(&mut self, path: &str) {
        let mut acc = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(part);
            self.entries.entry(acc.clone()).or_insert(Entry::Dir);
        }
    }

    fn file(&mut self, path: &str, data: Vec<u8>, mode: u32) {
        self.dirs_for(path);
        self.entries
            .insert(path.to_owned(), Entry::File { data, mode });
    }

    fn dir(&mut self, path: &str) {
        self.dirs_for(path);
        self.entries.insert(path.to_owned(), Entry::Dir);
    }

    fn symlink(&mut self, path: &str, target: &str) {
        self.dirs_for(path);
        self.entries
            .insert(path.to_owned(), Entry::Symlink(target.to_owned()));
    }

    fn write(self, out: &Path) -> Result<String, Error> {
        let mut buf: Vec<u8> = Vec::new();
        for (ino, (name, entry)) in self.entries.into_iter().enumerate() {
            let b = cpio::NewcBuilder::new(&name)
                .ino(u32::try_from(ino).unwrap_or(u32::MAX))
                .uid(0)
                .gid(0)
                .mtime(0)
                .nlink(1);
            let (b, data) = match entry {
                Entry::Dir => (
                    b.set_mode_file_type(cpio::newc::ModeFileType::Directory)
                        .mode(0o40755),
                    Vec::new(),
                ),
                Entry::File { data, mode } => (b.mode(0o100000 | mode), data),
                Entry::Symlink(t) => (b.mode(0o120777), t.into_bytes()),
            };
            let len = u32::try_from(data.len())
                .map_err(|_| Error::Invalid(format!("{name}: too large for a cpio entry")))?;
            let mut w = b.write(&mut buf, len);
            w.write_all(&data).map_err(Error::io(out))?;
            w.finish().map_err(Error::io(out))?;
        }
        cpio::newc::trailer(&mut buf).map_err(Error::io(out))?;
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&buf));
        std::fs::write(out, &buf).map_err(Error::io(out))?;
        Ok(sha)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(Error::io(path))
}

/// Builds the initramfs at `out`. `guest_binary` should be stripped (it is copied as is).
pub fn build(
    assets: &Assets,
    guest_binary: &Path,
    patch: Option<&ModulePatch>,
    out: &Path,
) -> Result<Built, Error> {
    let mdir = assets.kernel.modules_dir();
    let dep_path = mdir.join("modules.dep");
    let dep_text = std::fs::read_to_string(&dep_path).map_err(Error::io(&dep_path))?;
    let order = load_order(&dep_text, GUEST_MODULES)?;
    let mut a = Archive::new();
    for d in ["proc", "sys", "dev", "tmp", "mnt", "root", "etc/lab"] {
        a.dir(d);
    }
    a.file("init", init_script(COLLECT_FLAGS).into_bytes(), 0o755);
    a.file("bin/busybox", read(&assets.busybox)?, 0o755);
    a.symlink("bin/sh", "busybox");
    a.file("bin/boardproof", read(guest_binary)?, 0o755);
    // busybox-static needs none; a dynamic busybox (package `busybox`) gets its libraries too.
    let mut libs = shared_libraries(guest_binary)?;
    libs.extend(shared_libraries(&assets.busybox)?);
    libs.sort();
    libs.dedup();
    for lib in libs {
        let canonical = std::fs::canonicalize(&lib).map_err(Error::io(&lib))?;
        let rel = lib.to_string_lossy().trim_start_matches('/').to_owned();
        a.file(&rel, read(&canonical)?, 0o755);
    }
    let kroot = format!("lib/modules/{}", assets.kernel.release);
    let mut patched = false;
    for m in &order {
        let mut data = read(&mdir.join(m))?;
        if let Some(p) = patch.filter(|p| module_name(m) == p.module.replace('-', "_")) {
            strip_signature(&mut data).map_err(|e| Error::Invalid(format!("{m}: {e}")))?;
            patch_after(&mut data, &p.after).ok_or_else(|| {
                Error::Invalid(format!(
                    "{m}: {:?} not found, cannot patch",
                    String::from_utf8_lossy(&p.after)
                ))
            })?;
            patched = true;
        }
        a.file(&format!("{kroot}/{m}"), data, 0o644);
    }
    if let Some(p) = patch.filter(|_| !patched) {
        return Err(Error::Invalid(format!(
            "module {} is not loaded by the guest",
            p.module
        )));
    }
    for f in [
        "modules.dep",
        "modules.alias",
        "modules.builtin",
        "modules.order",
    ] {
        let path = mdir.join(f);
        if path.is_file() {
            a.file(&format!("{kroot}/{f}"), read(&path)?, 0o644);
        }
    }
    a.file(
        "etc/lab/modules",
        (order.join("\n") + "\n").into_bytes(),
        0o644,
    );
    // Names in the guest's reports (display only; identity never uses them).
    if let Some(ids) = PCI_IDS.iter().map(Path::new).find(|p| p.is_file()) {
        a.file("usr/share/hwdata/pci.ids", read(ids)?, 0o644);
    }
    let sha256 = a.write(out)?;
    Ok(Built {
        path: out.to_owned(),
        sha256,
        modules: order,
    })
}

/// Cuts the appended signature off a module file (no-op for an unsigned one).
fn strip_signature(data: &mut Vec<u8>) -> Result<(), String> {
    let signed_len = boardproof_formats::kmod_sig::parse_trailer(data)
        .map_err(|e| format!("signature trailer: {e}"))?
        .map(|s| s.signed_len);
    if let Some(len) = signed_len {
        data.truncate(len);
    }
    Ok(())
}

/// Flips the case of the first letter after `needle` (a harmless change to a text field, so
/// the patched module still loads and runs).
fn patch_after(data: &mut [u8], needle: &[u8]) -> Option<usize> {
    let pos = data.windows(needle.len()).position(|w| w == needle)?;
    let at = pos.checked_add(needle.len())?;
    let b = data.get_mut(at)?;
    if b.is_ascii_alphabetic() {
        *b ^= 0x20;
    } else {
        *b = b.wrapping_add(1);
    }
    Some(at)
}

/// Copies `binary` stripped of debug information to `out` (falls back to a plain copy when
/// binutils' strip is missing: the guest only gets slower to load).
pub fn stripped_copy(binary: &Path, out: &Path) -> Result<(), Error> {
    if crate::assets::which("strip").is_some() {
        run_tool(Command::new("strip").arg("-o").arg(out).arg(binary))?;
    } else {
        std::fs::copy(binary, out).map_err(Error::io(out))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_load_first() {
        let dep =
            "kernel/a/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n\
                   kernel/lib/crc16.ko:\nkernel/fs/mbcache.ko:\nkernel/fs/jbd2/jbd2.ko:\n\
                   kernel/i2c/i2c-dev.ko:\n";
        let order = load_order(dep, &["ext4", "i2c_dev"]).expect("order");
        assert_eq!(
            order,
            [
                "kernel/fs/jbd2/jbd2.ko",
                "kernel/fs/mbcache.ko",
                "kernel/lib/crc16.ko",
                "kernel/a/ext4.ko",
                "kernel/i2c/i2c-dev.ko"
            ]
        );
        assert!(load_order(dep, &["nosuch"]).is_err());
    }

    #[test]
    fn patch_changes_one_byte() {
        let mut d = b"xxdescription=I2C /dev".to_vec();
        let orig = d.clone();
        let at = patch_after(&mut d, b"description=").expect("found");
        assert_eq!(d.get(at), Some(&b'i'));
        assert_eq!(d.iter().zip(&orig).filter(|(a, b)| a != b).count(), 1);
        assert!(patch_after(&mut d, b"nothere").is_none());
    }
}
