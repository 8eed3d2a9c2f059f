//! The lab context (built files shared by all boots) and the detection matrix.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use boardproof_evidence::Evidence;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::assets::{self, Assets};
use crate::boot::{self, BootOptions, BootResult};
use crate::initramfs::{self, ModulePatch};
use crate::machine::Machine;
use crate::ovmf;
use crate::scenario::{Change, Scenario, Seen, CATALOGUE, GOLDEN};
use crate::{disk, Error, Progress};

/// The DXE module whose UI name the firmware scenario patches.
pub const PATCHED_MODULE: &str = "PciHostBridgeDxe";

/// Files built once per run and shared by every boot (read-only to them).
pub struct Lab {
    /// Cached assets.
    pub assets: Assets,
    dir: tempfile::TempDir,
    /// The golden initramfs.
    pub initramfs: initramfs::Built,
    /// The initramfs with one module byte changed.
    pub module_initramfs: Option<initramfs::Built>,
    /// ext4 data disk with the golden `bin/lab-check`.
    pub data_disk: PathBuf,
    /// The same with a changed `bin/lab-check`.
    pub ima_disk: PathBuf,
    /// Blank disk image.
    pub blank_disk: PathBuf,
    /// An SSDT with no code.
    pub ssdt: PathBuf,
    /// OVMF with one DXE module patched (cached), and what changed.
    pub patched_firmware: Option<(PathBuf, ovmf::Patch)>,
    /// The NIC's option ROM with one byte of its legacy image changed.
    pub patched_rom: Option<PathBuf>,
    /// Byte of the golden event log the tampered-log scenario flips (known after the
    /// reference boot).
    pub tamper_offset: std::sync::OnceLock<usize>,
    /// The server's TPM, provisioned once (EK and platform certificates from the lab CA) and
    /// copied for every boot: one server, one TPM.
    pub tpm_state: PathBuf,
    /// The variable store with a Secure Boot `db` (the Secure Boot scenario).
    pub db_vars: Option<PathBuf>,
    /// The kernel with bytes appended (the changed-kernel scenario).
    pub changed_kernel: Option<PathBuf>,
    /// The reference boot's quote, which the replayed-quote scenario sends again.
    pub reference_attestation: std::sync::OnceLock<boardproof_evidence::Attestation>,
}

/// What the changed-kernel scenario appends to the kernel image (4 KiB of it, repeated): data
/// after the last PE section, which the firmware's Authenticode-style image hash covers and
/// the kernel ignores.
const CHANGED_KERNEL_TAIL: &[u8] = b"boardproof lab: bytes appended to the kernel image. ";

fn sha256_file(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// A minimal ACPI table: a 36-byte SSDT header with no definition block, valid checksum.
pub fn empty_ssdt() -> Vec<u8> {
    let mut t = Vec::with_capacity(36);
    t.extend_from_slice(b"SSDT");
    t.extend_from_slice(&36u32.to_le_bytes());
    t.push(2); // revision
    t.push(0); // checksum, set below
    t.extend_from_slice(b"BPLAB "); // OEM ID
    t.extend_from_slice(b"IMPLANT "); // OEM table ID
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(b"BPLB");
    t.extend_from_slice(&1u32.to_le_bytes());
    let sum = t.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    if let Some(c) = t.get_mut(9) {
        *c = 0u8.wrapping_sub(sum);
    }
    t
}

impl Lab {
    /// Prepares assets and builds the run's files. `guest_binary` is the boardproof that runs
    /// inside the guest (normally this very program); `scenarios` decides which extra files
    /// are built.
    pub fn prepare(
        cache: &Path,
        guest_binary: &Path,
        scenarios: &[&Scenario],
        progress: &dyn Progress,
    ) -> Result<Lab, Error> {
        let assets = assets::prepare(cache, progress)?;
        let dir = tempfile::Builder::new()
            .prefix("boardproof-lab-run-")
            .tempdir()
            .map_err(Error::io(std::env::temp_dir()))?;
        let d = dir.path().to_owned();
        progress.step("building the initramfs");
        let bin = d.join("boardproof");
        initramfs::stripped_copy(guest_binary, &bin)?;
        let golden = initramfs::build(&assets, &bin, None, &d.join("initramfs.cpio"))?;
        let wants = |f: fn(&Change) -> bool| scenarios.iter().any(|s| f(&s.change));
        let module_initramfs = match scenarios.iter().find_map(|s| match s.change {
            Change::Module(m, after) => Some((m, after)),
            _ => None,
        }) {
            Some((module, after)) => Some(initramfs::build(
                &assets,
                &bin,
                Some(&ModulePatch {
                    module: module.to_owned(),
                    after: after.as_bytes().to_vec(),
                }),
                &d.join("initramfs-module.cpio"),
            )?),
            None => None,
        };
        progress.step("building the disks");
        let data_disk = d.join("data.img");
        disk::data_disk(&data_disk, "golden")?;
        let ima_disk = d.join("data-ima.img");
        if wants(|c| matches!(c, Change::ImaFile)) {
            disk::data_disk(&ima_disk, "changed")?;
        }
        let blank_disk = d.join("blank.img");
        disk::blank_disk(&blank_disk)?;
        let ssdt = d.join("ssdt.aml");
        std::fs::write(&ssdt, empty_ssdt()).map_err(Error::io(&ssdt))?;
        progress.step("provisioning the server's TPM");
        let tpm_state = d.join("tpm-state");
        crate::boot::provision_tpm(&assets, &tpm_state, &d.join("swtpm_setup.log"))?;
        let changed_kernel = if wants(|c| matches!(c, Change::KernelAppended)) {
            let k = d.join("vmlinuz-changed");
            let src = assets.kernel.vmlinuz();
            let mut bytes = std::fs::read(&src).map_err(Error::io(&src))?;
            bytes.extend(CHANGED_KERNEL_TAIL.iter().cycle().take(4096));
            std::fs::write(&k, bytes).map_err(Error::io(&k))?;
            Some(k)
        } else {
            None
        };
        let db_vars = if wants(|c| matches!(c, Change::SecureBootDb)) {
            let v = d.join("OVMF_VARS-db.fd");
            crate::vars::with_variable(
                &assets.ovmf_vars,
                Path::new(crate::assets::OVMF_VARS_MS),
                "db",
                &v,
            )?;
            Some(v)
        } else {
            None
        };
        let patched_firmware = if wants(|c| matches!(c, Change::FirmwareDxe)) {
            progress.step("patching one OVMF DXE module (LZMA recompression)");
            Some(patched_ovmf(&assets, PATCHED_MODULE)?)
        } else {
            None
        };
        let patched_rom = if wants(|c| matches!(c, Change::OptionRom)) {
            let p = d.join("efi-e1000e-patched.rom");
            patch_option_rom(Path::new(crate::assets::NIC_ROM), &p)?;
            Some(p)
        } else {
            None
        };
        Ok(Lab {
            assets,
            dir,
            initramfs: golden,
            module_initramfs,
            data_disk,
            ima_disk,
            blank_disk,
            ssdt,
            patched_firmware,
            patched_rom,
            tamper_offset: std::sync::OnceLock::new(),
            tpm_state,
            db_vars,
            changed_kernel,
            reference_attestation: std::sync::OnceLock::new(),
        })
    }

    /// The run's folder (removed when the lab is dropped).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The machine and initramfs of a scenario.
    pub fn machine_for(&self, s: &Scenario) -> Result<(Machine, PathBuf), Error> {
        let mut m = Machine::golden(&self.assets.ovmf_code, &self.data_disk, &self.blank_disk);
        m.tpm_state = Some(self.tpm_state.clone());
        s.apply_hardware(&mut m)?;
        let mut initrd = self.initramfs.path.clone();
        let missing = |what: &str| Error::Invalid(format!("{}: {what} was not built", s.name));
        match s.change {
            Change::UsbStorage(serial) => m.extra_args.extend([
                "-drive".to_owned(),
                format!(
                    "if=none,id=usbstick,format=raw,readonly=on,file={}",
                    self.blank_disk.display()
                ),
                "-device".to_owned(),
                format!("usb-storage,bus=xhci.0,drive=usbstick,serial={serial}"),
            ]),
            Change::AcpiTable => m.acpi_tables.push(self.ssdt.clone()),
            Change::Module(..) => {
                initrd = self
                    .module_initramfs
                    .as_ref()
                    .ok_or_else(|| missing("the modified initramfs"))?
                    .path
                    .clone()
            }
            Change::ImaFile => {
                if let Some(d) = m.disks.first_mut() {
                    d.image = self.ima_disk.clone();
                }
            }
            Change::TamperedLog => {
                let at = self.tamper_offset.get().ok_or_else(|| {
                    missing("the tamper offset (from the reference boot's event log)")
                })?;
                m.extra_args.extend([
                    "-fw_cfg".to_owned(),
                    format!("name=opt/boardproof/flip-eventlog,string={at}"),
                ]);
            }
            Change::SecureBootDb => {
                m.firmware_vars = Some(
                    self.db_vars
                        .clone()
                        .ok_or_else(|| missing("the variable store with db"))?,
                )
            }
            Change::KernelAppended => {
                m.kernel = Some(
                    self.changed_kernel
                        .clone()
                        .ok_or_else(|| missing("the changed kernel"))?,
                )
            }
            Change::OptionRom => {
                m.nic_romfile = Some(
                    self.patched_rom
                        .clone()
                        .ok_or_else(|| missing("the patched option ROM"))?,
                )
            }
            Change::FirmwareDxe => {
                m.firmware_code = self
                    .patched_firmware
                    .as_ref()
                    .ok_or_else(|| missing("the patched firmware"))?
                    .0
                    .clone()
            }
            _ => {}
        }
        Ok((m, initrd))
    }

    /// Boots a scenario.
    pub fn boot(&self, s: &Scenario, opts: &BootOptions) -> Result<BootResult, Error> {
        let (m, initrd) = self.machine_for(s)?;
        boot::boot(&m, &self.assets, &initrd, opts)
    }
}

impl Lab {
    /// Remembers, from the reference boot's event log, the byte the tampered-log scenario
    /// flips: inside the SHA-256 digest of event 3 (the DXE volume on OVMF).
    pub fn learn_reference(&self, reference: &BootResult) -> Result<(), Error> {
        let bytes = reference
            .output
            .files
            .get("eventlog.bin")
            .ok_or_else(|| Error::Invalid("the reference boot sent no event log".into()))?;
        let log = boardproof_formats::eventlog::parse(bytes)
            .map_err(|e| Error::Invalid(format!("reference event log: {e}")))?;
        let event = log
            .events
            .get(3)
            .ok_or_else(|| Error::Invalid("reference event log has fewer than 4 events".into()))?;
        // pcr (4), type (4), digest count (4), then (algorithm id (2), digest) per bank.
        let mut at = event.offset.saturating_add(12);
        for (alg, digest) in &event.digests {
            at = at.saturating_add(2);
            if *alg == boardproof_formats::tpm2::HashAlg::Sha256.id() {
                let _ = self.tamper_offset.set(at.saturating_add(7));
                return Ok(());
            }
            at = at.saturating_add(digest.len());
        }
        Err(Error::Invalid(
            "reference event log has no SHA-256 bank".into(),
        ))
    }
}

/// Writes `rom` to `out` with one byte of its first (legacy x86) image flipped, 1 KiB in:
/// code a UEFI machine never runs, so the machine boots and measures the same.
pub fn patch_option_rom(rom: &Path, out: &Path) -> Result<(), Error> {
    let mut bytes = std::fs::read(rom).map_err(Error::io(rom))?;
    let parsed = boardproof_formats::pci_rom::parse(&bytes)
        .map_err(|e| Error::Invalid(format!("{}: {e}", rom.display())))?;
    let first = parsed
        .images
        .first()
        .filter(|i| i.code_type == 0 && i.length > 0x400)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{}: first image is not a legacy x86 one",
                rom.display()
            ))
        })?;
    let at = first.offset.saturating_add(0x400);
    let b = bytes
        .get_mut(at)
        .ok_or_else(|| Error::Invalid("patch offset out of the ROM".into()))?;
    *b ^= 0x01;
    std::fs::write(out, &bytes).map_err(Error::io(out))
}

/// OVMF with one DXE module patched, cached by the original's digest (with a description of
/// the patch beside it; both are written only when complete).
pub fn patched_ovmf(assets: &Assets, module: &str) -> Result<(PathBuf, ovmf::Patch), Error> {
    let orig = sha256_file(&assets.ovmf_code)?;
    let _lock = assets::lock(&assets.cache)?;
    let dir = assets.cache.join("firmware");
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    let short = orig.get(..16).unwrap_or(&orig);
    let out = dir.join(format!("OVMF_CODE_4M-{short}-{module}.fd"));
    let info = out.with_extension("json");
    if out.is_file() && info.is_file() {
        let bytes = std::fs::read(&info).map_err(Error::io(&info))?;
        if let Ok(p) = serde_json::from_slice::<ovmf::Patch>(&bytes) {
            if p.module == module {
                return Ok((out, p));
            }
        }
    }
    let mut image = std::fs::read(&assets.ovmf_code).map_err(Error::io(&assets.ovmf_code))?;
    let patch = ovmf::patch_dxe_module(&mut image, module)?;
    let write = |path: &Path, bytes: &[u8]| -> Result<(), Error> {
        let tmp = path.with_extension(format!("partial-{}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(Error::io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(Error::io(path))
    };
    write(&out, &image)?;
    let json = serde_json::to_vec_pretty(&patch).map_err(|e| Error::Invalid(e.to_string()))?;
    write(&info, &json)?;
    Ok((out, patch))
}

/// Options of the matrix.
#[derive(Debug, Clone)]
pub struct MatrixOptions {
    /// Boots at once.
    pub jobs: usize,
    /// Per-boot options.
    pub boot: BootOptions,
    /// Golden reboots verified after the one that makes the manifest.
    pub golden_reboots: usize,
    /// Keep each boot's evidence, report and console here.
    pub keep: Option<PathBuf>,
}

/// A finding as the matrix shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Observed {
    /// Kind.
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// Subject.
    pub subject: String,
    /// Where exactly (the finding's `locus`), as the expectations match it.
    pub locus: std::collections::BTreeMap<String, String>,
}

/// How a row ended.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RowResult {
    /// Exactly the expected findings.
    Pass,
    /// An expected finding did not appear: a lost detection.
    Missed,
    /// A finding no expectation accounts for.
    Unexpected,
    /// An expectation met by more than one finding (reported twice, or more changed than
    /// promised), or a finding met by more than one expectation.
    Duplicate,
    /// A golden reboot gave findings.
    FalsePositive,
    /// The boot failed, timed out or sent no evidence: never a pass.
    Error,
}

impl RowResult {
    /// Stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            RowResult::Pass => "pass",
            RowResult::Missed => "MISSED",
            RowResult::Unexpected => "UNEXPECTED",
            RowResult::Duplicate => "DUPLICATE",
            RowResult::FalsePositive => "FALSE POSITIVE",
            RowResult::Error => "ERROR",
        }
    }
}

/// One row of the matrix.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Row {
    /// Scenario name (golden reboots are `golden#2`, `golden#3`, …).
    pub scenario: String,
    /// What changed.
    pub title: String,
    /// Expected findings as `kind (subject)`.
    pub expected: Vec<String>,
    /// Observed findings.
    pub observed: Vec<Observed>,
    /// Result.
    pub result: RowResult,
    /// Missed / unexpected findings, or the error.
    pub detail: String,
    /// Why these findings.
    pub why: String,
    /// Boot wall time.
    pub boot_seconds: Option<f64>,
}

/// The whole matrix.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Matrix {
    /// `boardproof.lab-matrix/v1`.
    pub schema: String,
    /// Kernel package and the sha256 of its .deb.
    pub kernel: String,
    /// sha256 of OVMF_CODE_4M.fd.
    pub ovmf_sha256: String,
    /// The firmware patch, when that scenario ran.
    pub firmware_patch: Option<String>,
    /// The boot that made the signed manifest.
    pub reference_boot_seconds: f64,
    /// Rows.
    pub rows: Vec<Row>,
}

impl Matrix {
    /// Every row passed.
    pub fn all_pass(&self) -> bool {
        self.rows.iter().all(|r| r.result == RowResult::Pass)
    }

    /// Some row could not run.
    pub fn any_error(&self) -> bool {
        self.rows.iter().any(|r| r.result == RowResult::Error)
    }
}

fn expected_text(s: &Scenario) -> Vec<String> {
    s.expect.iter().map(|x| x.describe()).collect()
}

/// The golden boot's signed manifest and the key that signed it: every row is judged as a
/// user's `verify --manifest --pubkey` judges, through the same workflow.
#[derive(Debug, Clone)]
pub struct Golden {
    /// The manifest file's bytes (DSSE).
    pub manifest: Vec<u8>,
    /// The signer's public key.
    pub key: boardproof_ledger::keys::PublicKey,
}

impl Golden {
    /// Judges `ev` against the golden manifest, its quote checked with `quote`.
    pub fn judge(
        &self,
        ev: &Evidence,
        quote: Option<boardproof_verify::QuoteCheck>,
    ) -> Result<boardproof_evidence::Report, Error> {
        boardproof_workflow::judge::manifest(
            boardproof_workflow::judge::Input {
                name: "golden-manifest.dsse.json",
                bytes: &self.manifest,
            },
            &boardproof_workflow::judge::Trust::Key(&self.key),
            ev,
            &boardproof_verify::Options {
                quote,
                ..Default::default()
            },
            &boardproof_collect::now_rfc3339(),
        )
        .map(|j| j.report)
        .map_err(|e| Error::Invalid(format!("the golden manifest: {e}")))
    }
}

/// Signs the golden evidence with a fresh key, as a user's `manifest create` would (kept as
/// `golden-manifest.dsse.json` with `keep`).
pub fn golden_manifest(ev: &Evidence, keep: Option<&Path>) -> Result<Golden, Error> {
    let key =
        boardproof_ledger::keys::PrivateKey::generate(boardproof_ledger::keys::Algorithm::Ed25519);
    let m = boardproof_ledger::manifest::build(
        ev,
        "boardproof lab (golden boot 1)",
        &key,
        &ev.volatile.collected_at,
    );
    let bytes = boardproof_ledger::manifest::sign(&m, &key)?;
    if let Some(k) = keep {
        let path = k.join("golden-manifest.dsse.json");
        std::fs::create_dir_all(k).map_err(Error::io(k))?;
        std::fs::write(&path, &bytes).map_err(Error::io(&path))?;
    }
    Ok(Golden {
        manifest: bytes,
        key: key.public(),
    })
}

/// Label of the flash dump in every boot's evidence.
pub const FLASH_LABEL: &str = "flash";

/// Adds the machine's flash to a boot's evidence: the OVMF CODE image QEMU ran as pflash,
/// read host-side, as an external SPI programmer clipped to a real board's flash chip would
/// read it (the guest cannot read its own flash; see docs/firmware.md). The variable store is
/// left out: the firmware writes it on every boot.
pub fn add_flash_dump(lab: &Lab, s: &Scenario, ev: &mut Evidence) -> Result<(), Error> {
    let (m, _) = lab.machine_for(s)?;
    let image = boardproof_collect::firmware::read(FLASH_LABEL, &m.firmware_code)
        .map_err(|e| Error::Invalid(format!("flash dump: {e}")))?;
    boardproof_collect::firmware::attach(
        ev,
        vec![image],
        Some("the pflash image QEMU ran, read host-side"),
    );
    Ok(())
}

/// The evidence a boot sent.
pub fn evidence_of(r: &BootResult) -> Result<Evidence, Error> {
    if r.output.collect_exit != 0 {
        return Err(Error::Invalid(format!(
            "boardproof collect exited {} in the guest: {}",
            r.output.collect_exit,
            r.output
                .files
                .get("collect.log")
                .map(|b| String::from_utf8_lossy(b)
                    .lines()
                    .last()
                    .unwrap_or("")
                    .to_owned())
                .unwrap_or_default()
        )));
    }
    let bytes = r
        .output
        .files
        .get("evidence.json")
        .ok_or_else(|| Error::Invalid("the guest sent no evidence.json".into()))?;
    Evidence::from_json(bytes).map_err(|e| Error::Invalid(format!("guest evidence.json: {e}")))
}

/// Writes a boot's guest files, console and (when given) report into `dir`.
pub fn keep_boot(
    dir: &Path,
    r: &BootResult,
    report: Option<&serde_json::Value>,
) -> Result<(), Error> {
    for (name, data) in &r.output.files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(&p, data).map_err(Error::io(&p))?;
    }
    let c = dir.join("console.log");
    std::fs::write(&c, &r.console).map_err(Error::io(&c))?;
    if let Some(rep) = report {
        let p = dir.join("report.json");
        let text = serde_json::to_vec_pretty(rep).map_err(|e| Error::Invalid(e.to_string()))?;
        std::fs::write(&p, text).map_err(Error::io(&p))?;
    }
    Ok(())
}

/// The verifier's inputs for a boot's quote: the secret of the challenge the host gave and
/// the lab CA. A machine with a TPM whose round did not complete is an error, not a pass: the
/// quote checks would otherwise be skipped without anyone noticing.
pub fn quote_check(
    lab: &Lab,
    s: &Scenario,
    r: &BootResult,
) -> Result<Option<boardproof_verify::QuoteCheck>, Error> {
    let (m, _) = lab.machine_for(s)?;
    quote_check_of(m.tpm, r, || crate::attest::lab_cas(&lab.assets))
}

/// [`quote_check`] for a machine that has a TPM or not, the CAs read only when needed.
pub fn quote_check_of(
    tpm: bool,
    r: &BootResult,
    ek_cas: impl FnOnce() -> Result<Vec<boardproof_attest::ekcert::Certificate>, Error>,
) -> Result<Option<boardproof_verify::QuoteCheck>, Error> {
    if !tpm {
        return Ok(None);
    }
    let Some(secret) = r.attest_secret.clone() else {
        return Err(Error::Invalid(format!(
            "the attestation round did not complete: {}",
            r.attest_note.as_deref().unwrap_or("no reason recorded")
        )));
    };
    Ok(Some(boardproof_verify::QuoteCheck {
        secret: Some(secret),
        ek_cas: ek_cas()?,
        now: boardproof_attest::ekcert::unix_now(),
    }))
}

/// Boots one scenario and judges it against `reference`.
pub fn run_row(
    lab: &Lab,
    s: &Scenario,
    label: &str,
    reference: &Golden,
    opts: &MatrixOptions,
) -> Row {
    // With --keep, a boot that fails still leaves its console, QEMU and swtpm logs.
    let boot_opts = BootOptions {
        keep: opts
            .keep
            .as_ref()
            .map(|k| k.join(label.replace('#', "-")).join("boot")),
        ..opts.boot.clone()
    };
    let booted = lab.boot(s, &boot_opts);
    let seconds = booted.as_ref().ok().map(|r| r.seconds);
    let gathered = booted.and_then(|r| {
        let mut ev = evidence_of(&r)?;
        add_flash_dump(lab, s, &mut ev)?;
        let check = quote_check(lab, s, &r)?;
        Ok((r, ev, check))
    });
    let (gathered, boot) = match gathered {
        Ok((r, ev, check)) => (Ok((ev, check)), Some(r)),
        Err(e) => (Err(e), None),
    };
    let (mut row, outcome) = judge_row(
        s,
        label,
        reference,
        seconds,
        gathered,
        lab.reference_attestation.get(),
    );
    if let (Some(k), Some(r)) = (&opts.keep, &boot) {
        let report = outcome
            .as_ref()
            .and_then(|o| serde_json::to_value(&o.findings).ok());
        if let Err(e) = keep_boot(&k.join(label.replace('#', "-")), r, report.as_ref()) {
            row.result = RowResult::Error;
            row.detail = e.to_string();
        }
    }
    row
}

/// Judges one boot of `s` from what the lab gathered for it — its evidence and quote check,
/// or why there are none (a failed or timed-out boot, no evidence, an attestation round that
/// did not complete: each an error row, never a pass) — against `reference`.
/// `reference_quote` is the reference boot's quote, which the replay scenario sends again.
/// Returns the row and, when verification ran, its outcome.
pub fn judge_row(
    s: &Scenario,
    label: &str,
    reference: &Golden,
    boot_seconds: Option<f64>,
    gathered: Result<(Evidence, Option<boardproof_verify::QuoteCheck>), Error>,
    reference_quote: Option<&boardproof_evidence::Attestation>,
) -> (Row, Option<boardproof_evidence::Report>) {
    let mut row = Row {
        scenario: label.to_owned(),
        title: s.title.to_owned(),
        expected: expected_text(s),
        observed: Vec::new(),
        result: RowResult::Error,
        detail: String::new(),
        why: s.why.to_owned(),
        boot_seconds,
    };
    let (mut ev, check) = match gathered {
        Ok(g) => g,
        Err(e) => {
            row.detail = e.to_string();
            return (row, None);
        }
    };
    if matches!(s.change, Change::ReplayedQuote) {
        // A man in the middle (or a compromised agent) answers the new challenge with the
        // quote the reference boot made.
        match reference_quote {
            Some(old) => ev.volatile.attestation = Some(old.clone()),
            None => {
                row.detail = "the reference boot's quote is not known".into();
                return (row, None);
            }
        }
    }
    let outcome = match reference.judge(&ev, check) {
        Ok(r) => r,
        Err(e) => {
            row.detail = e.to_string();
            return (row, None);
        }
    };
    row.observed = outcome
        .findings
        .iter()
        .map(|f| Observed {
            kind: f.kind.as_str().to_owned(),
            severity: f.severity.as_str().to_owned(),
            subject: f.subject.clone(),
            locus: f.locus.clone(),
        })
        .collect();
    let seen: Vec<Seen> = outcome.findings.iter().map(Seen::of).collect();
    let j = s.judge(&seen);
    row.result = if j.pass() {
        RowResult::Pass
    } else if s.expect.is_empty() {
        RowResult::FalsePositive
    } else if !j.missed.is_empty() {
        RowResult::Missed
    } else if !j.unexpected.is_empty() {
        RowResult::Unexpected
    } else {
        RowResult::Duplicate
    };
    let mut detail = Vec::new();
    for m in &j.missed {
        detail.push(format!("missed {}", m.describe()));
    }
    for u in &j.unexpected {
        detail.push(format!("unexpected {}", u.describe()));
    }
    for (x, claimed) in &j.duplicate {
        let what: Vec<String> = claimed.iter().map(Seen::describe).collect();
        detail.push(format!(
            "{} claims {} findings: {}",
            x.describe(),
            claimed.len(),
            what.join("; ")
        ));
    }
    for (f, by) in &j.ambiguous {
        let what: Vec<String> = by.iter().map(|x| x.describe()).collect();
        detail.push(format!(
            "{} is claimed by {} expectations: {}",
            f.describe(),
            by.len(),
            what.join("; ")
        ));
    }
    row.detail = detail.join("; ");
    (row, Some(outcome))
}

/// Boots the golden server once as the reference: keeps its files (with `opts.keep`), learns
/// what the tampered-log scenario needs from its log, and signs its evidence as the manifest.
pub fn reference_boot(lab: &Lab, opts: &MatrixOptions) -> Result<(BootResult, Golden), Error> {
    let first = lab.boot(
        &GOLDEN,
        &BootOptions {
            keep: opts.keep.as_ref().map(|k| k.join("golden-1").join("boot")),
            ..opts.boot.clone()
        },
    )?;
    let mut ev = evidence_of(&first)?;
    add_flash_dump(lab, &GOLDEN, &mut ev)?;
    if let Some(k) = &opts.keep {
        keep_boot(&k.join("golden-1"), &first, None)?;
    }
    lab.learn_reference(&first)?;
    // The reference's own quote must check out, or every row's quote findings mean nothing.
    let check = quote_check(lab, &GOLDEN, &first)?;
    let own = golden_manifest(&ev, None)?.judge(&ev, check)?;
    if let Some(f) = own.findings.first() {
        return Err(Error::Invalid(format!(
            "the reference boot does not verify against itself: {} {}: {}",
            f.kind.as_str(),
            f.subject,
            f.message
        )));
    }
    if let Some(a) = &ev.volatile.attestation {
        let _ = lab.reference_attestation.set(a.clone());
    }
    let reference = golden_manifest(&ev, opts.keep.as_deref())?;
    Ok((first, reference))
}

/// Runs the matrix: golden boot 1 makes the signed manifest; then the golden reboots and every
/// scenario in `scenarios` are verified against it, `opts.jobs` at a time.
pub fn run(
    lab: &Lab,
    scenarios: &[&Scenario],
    opts: &MatrixOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Matrix, Error> {
    progress("booting the golden server (reference)");
    let (first, reference) = reference_boot(lab, opts)?;
    let mut jobs: Vec<(String, &Scenario)> = Vec::new();
    for i in 0..opts.golden_reboots {
        jobs.push((format!("golden#{}", i.saturating_add(2)), &GOLDEN));
    }
    for s in scenarios.iter().filter(|s| s.name != GOLDEN.name) {
        jobs.push((s.name.to_owned(), s));
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; jobs.len()]);
    let total = jobs.len();
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((label, s)) = jobs.get(i) else { break };
                if boot::interrupted() {
                    break;
                }
                let row = run_row(lab, s, label, &reference, opts);
                let n = done.fetch_add(1, Ordering::SeqCst).saturating_add(1);
                progress(&format!(
                    "[{n}/{total}] {label}: {}{}",
                    row.result.as_str(),
                    row.boot_seconds
                        .map(|s| format!(" ({s:.1} s)"))
                        .unwrap_or_default()
                ));
                if let Ok(mut v) = rows.lock() {
                    if let Some(slot) = v.get_mut(i) {
                        *slot = Some(row);
                    }
                }
            });
        }
    });
    if boot::interrupted() {
        return Err(Error::Interrupted);
    }
    let rows: Vec<Row> = rows
        .into_inner()
        .map_err(|_| Error::Invalid("a matrix worker panicked".into()))?
        .into_iter()
        .zip(&jobs)
        .map(|(r, (label, s))| {
            r.unwrap_or_else(|| Row {
                scenario: label.clone(),
                title: s.title.to_owned(),
                expected: expected_text(s),
                observed: Vec::new(),
                result: RowResult::Error,
                detail: "not run".into(),
                why: s.why.to_owned(),
                boot_seconds: None,
            })
        })
        .collect();
    Ok(Matrix {
        schema: "boardproof.lab-matrix/v1".into(),
        kernel: format!(
            "{} ({}, sha256 {})",
            lab.assets.kernel.package, lab.assets.kernel.deb, lab.assets.kernel.deb_sha256
        ),
        ovmf_sha256: sha256_file(&lab.assets.ovmf_code)?,
        firmware_patch: lab.patched_firmware.as_ref().map(|(_, p)| {
            format!(
                "UI name {} of the DXE module (byte {} of the decompressed volume), LZMA section at {:#x}: {} bytes compressed, {} after recompression, zero-padded",
                p.module, p.byte_offset, p.section_offset, p.compressed.0, p.compressed.1
            )
        }),
        reference_boot_seconds: first.seconds,
        rows,
    })
}

/// `boardproof.lab-list/v1`.
pub const LAB_LIST_SCHEMA: &str = "boardproof.lab-list/v1";

/// The scenarios and the findings each must produce (`lab list --json`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LabList {
    /// [`LAB_LIST_SCHEMA`].
    pub schema: String,
    /// Every scenario, in matrix order.
    pub scenarios: Vec<ListedScenario>,
}

/// One scenario of [`LabList`].
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ListedScenario {
    /// Its name for `lab run`.
    pub name: String,
    /// One line for people.
    pub title: String,
    /// The findings it must produce, and no other.
    pub expect: Vec<ListedExpect>,
    /// Why exactly these findings.
    pub why: String,
}

/// One finding a scenario must produce.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ListedExpect {
    /// The finding kind.
    pub kind: String,
    /// `locus` fields (or `observed`) the finding must have, with these exact values.
    pub at: std::collections::BTreeMap<String, String>,
}

impl LabList {
    /// The catalogue.
    pub fn catalogue() -> LabList {
        LabList {
            schema: LAB_LIST_SCHEMA.into(),
            scenarios: CATALOGUE
                .iter()
                .map(|s| ListedScenario {
                    name: s.name.into(),
                    title: s.title.into(),
                    expect: s
                        .expect
                        .iter()
                        .map(|e| ListedExpect {
                            kind: e.kind.into(),
                            at: e
                                .at
                                .iter()
                                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                                .collect(),
                        })
                        .collect(),
                    why: s.why.into(),
                })
                .collect(),
        }
    }
}

/// JSON Schemas of `lab matrix --json` (a [`Matrix`]), `lab run --json` (one [`Row`]) and
/// `lab list --json` (a [`LabList`]).
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let to_value = |s: schemars::Schema| serde_json::to_value(s).unwrap_or_default();
    vec![
        (
            "lab-matrix-v1.json",
            to_value(schemars::schema_for!(Matrix)),
        ),
        ("lab-row-v1.json", to_value(schemars::schema_for!(Row))),
        ("lab-list-v1.json", to_value(schemars::schema_for!(LabList))),
    ]
}

/// All scenarios, or the named ones (unknown names are an error).
pub fn select(names: &[String]) -> Result<Vec<&'static Scenario>, Error> {
    if names.is_empty() {
        return Ok(CATALOGUE.iter().collect());
    }
    names
        .iter()
        .map(|n| {
            crate::scenario::find(n).ok_or_else(|| {
                Error::Invalid(format!("no scenario {n}; `boardproof lab list` shows them"))
            })
        })
        .collect()
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The coverage document (docs/detection-coverage.md).
pub fn markdown(m: &Matrix) -> String {
    let mut s = String::from(
        "# Detection coverage\n\n\
         Written by `boardproof lab matrix`; do not edit by hand. Every row is a real boot of \
         the virtual lab server (QEMU q35 under software emulation, Debian's OVMF, a swtpm \
         TPM 2.0, Debian's kernel, `boardproof collect --probe-i2c` inside the guest) with \
         exactly one change against the golden server. Golden boot 1 made the signed manifest; \
         every row was verified against it. A row passes only when the findings are exactly \
         the expected ones, each expectation (a kind and exact `locus` fields) claiming \
         exactly one finding: a missing one is a lost detection, an extra or a doubled one a \
         false positive, and a boot that fails or sends no evidence is an error, never a \
         pass.\n\n",
    );
    s.push_str(&format!("- Kernel: {}\n", m.kernel));
    s.push_str(&format!("- OVMF_CODE_4M.fd sha256: {}\n", m.ovmf_sha256));
    if let Some(p) = &m.firmware_patch {
        s.push_str(&format!("- Firmware patch: {p}\n"));
    }
    s.push_str(&format!(
        "- Reference boot: {:.1} s\n\n",
        m.reference_boot_seconds
    ));
    s.push_str("| Scenario | Change | Expected | Observed | Result | Boot |\n");
    s.push_str("|---|---|---|---|---|---|\n");
    for r in &m.rows {
        let observed = if r.observed.is_empty() {
            "none".to_owned()
        } else {
            r.observed
                .iter()
                .map(|o| format!("{} ({})", o.kind, o.subject))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let expected = if r.expected.is_empty() {
            "none".to_owned()
        } else {
            r.expected.join("<br>")
        };
        let result = if r.detail.is_empty() {
            r.result.as_str().to_owned()
        } else {
            format!("{}: {}", r.result.as_str(), r.detail)
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md_escape(&r.scenario),
            md_escape(&r.title),
            md_escape(&expected),
            md_escape(&observed),
            md_escape(&result),
            r.boot_seconds
                .map(|b| format!("{b:.1} s"))
                .unwrap_or_else(|| "-".into())
        ));
    }
    let passed = m
        .rows
        .iter()
        .filter(|r| r.result == RowResult::Pass)
        .count();
    s.push_str(&format!(
        "\n{passed} of {} rows pass.\n\n## Why these findings\n\n",
        m.rows.len()
    ));
    let mut seen = std::collections::BTreeSet::new();
    for r in &m.rows {
        let name = r
            .scenario
            .split('#')
            .next()
            .unwrap_or(&r.scenario)
            .to_owned();
        if seen.insert(name.clone()) {
            s.push_str(&format!("- **{name}**: {}\n", r.why));
        }
    }
    s.push_str(
        "\n## What this matrix does not show\n\n\
         Software sees identities, bytes and measurements. A passive tap on a bus, a chip that \
         answers on no address it is asked about, or a change that alters no identity, no \
         firmware byte and no measurement is invisible to it, here as on a real server. The \
         lab's devices are QEMU's models: a real board adds buses (BMC, PCIe switches, retimers) \
         that this server does not have.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    //! The row logic on real evidence (the golden boot's, testdata/lab/golden) changed in
    //! memory, so every outcome is shown without QEMU: a regression that turned an error or a
    //! miss into a pass fails here even while every real boot succeeds.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;

    use boardproof_evidence::{Component, ComponentClass};

    use super::*;
    use crate::scenario::find;

    fn golden() -> Evidence {
        let p =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/lab/golden/evidence.json");
        Evidence::from_json(&std::fs::read(&p).unwrap()).unwrap()
    }

    fn reference() -> Golden {
        golden_manifest(&golden(), None).unwrap()
    }

    fn pci(location: &str, vendor: &str, device: &str) -> Component {
        Component {
            class: ComponentClass::Pci,
            identity: BTreeMap::from([
                ("vendor".to_owned(), vendor.to_owned()),
                ("device".to_owned(), device.to_owned()),
                ("class".to_owned(), "00ff00".to_owned()),
            ]),
            location: location.to_owned(),
            description: None,
            attributes: BTreeMap::new(),
        }
    }

    /// The golden evidence as the edu device makes it: one more PCI device, another DSDT.
    fn with_edu() -> Evidence {
        let mut ev = golden();
        ev.inventory
            .components
            .push(pci("pci0000:00/04.0", "1234", "11e8"));
        let dsdt = ev
            .inventory
            .acpi_tables
            .iter_mut()
            .find(|t| t.name == "DSDT")
            .unwrap();
        dsdt.sha256 = "00".repeat(32);
        ev
    }

    fn judge(name: &str, label: &str, ev: Result<Evidence, Error>) -> Row {
        let s = find(name).unwrap();
        judge_row(
            s,
            label,
            &reference(),
            Some(1.0),
            ev.map(|e| (e, None)),
            None,
        )
        .0
    }

    fn boot(files: &[(&str, &[u8])], collect_exit: i32) -> BootResult {
        BootResult {
            output: crate::transfer::GuestOutput {
                files: files
                    .iter()
                    .map(|(n, b)| ((*n).to_owned(), b.to_vec()))
                    .collect(),
                collect_exit,
            },
            console: String::new(),
            seconds: 1.0,
            attest_secret: None,
            attest_note: Some("the guest never answered the challenge".into()),
        }
    }

    #[test]
    fn exactly_the_expected_findings_pass() {
        let r = judge("pci-edu", "pci-edu", Ok(with_edu()));
        assert_eq!(r.result, RowResult::Pass, "{}", r.detail);
        assert_eq!(r.observed.len(), 2);
        assert!(r.detail.is_empty());
        let g = judge("golden", "golden#2", Ok(golden()));
        assert_eq!(g.result, RowResult::Pass, "{}", g.detail);
    }

    #[test]
    fn a_lost_detection_is_missed() {
        let mut ev = with_edu();
        ev.inventory.components.pop();
        let r = judge("pci-edu", "pci-edu", Ok(ev));
        assert_eq!(r.result, RowResult::Missed);
        assert!(r.detail.contains("missed component-added"), "{}", r.detail);
        // Nothing found at all is a miss too, never a pass.
        let r = judge("pci-edu", "pci-edu", Ok(golden()));
        assert_eq!(r.result, RowResult::Missed);
    }

    #[test]
    fn another_device_in_its_place_is_missed_and_unexpected() {
        let mut ev = with_edu();
        ev.inventory.components.pop();
        ev.inventory
            .components
            .push(pci("pci0000:00/04.0", "1234", "11e9"));
        let r = judge("pci-edu", "pci-edu", Ok(ev));
        assert_eq!(r.result, RowResult::Missed);
        assert!(
            r.detail.contains("unexpected component-added"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn an_extra_finding_is_unexpected_or_a_false_positive() {
        let mut ev = with_edu();
        ev.inventory
            .components
            .push(pci("pci0000:00/05.0", "1b36", "0005"));
        let r = judge("pci-edu", "pci-edu", Ok(ev));
        assert_eq!(r.result, RowResult::Unexpected, "{}", r.detail);
        let mut ev = golden();
        ev.inventory
            .components
            .push(pci("pci0000:00/05.0", "1b36", "0005"));
        let r = judge("golden", "golden#2", Ok(ev));
        assert_eq!(r.result, RowResult::FalsePositive);
    }

    #[test]
    fn a_finding_reported_twice_is_a_duplicate() {
        let mut ev = with_edu();
        ev.inventory
            .components
            .push(pci("pci0000:00/04.0", "1234", "11e8"));
        let r = judge("pci-edu", "pci-edu", Ok(ev));
        assert_eq!(r.result, RowResult::Duplicate, "{}", r.detail);
        assert!(r.detail.contains("claims 2 findings"), "{}", r.detail);
    }

    #[test]
    fn a_boot_without_evidence_is_an_error() {
        let none = evidence_of(&boot(&[], 0));
        let r = judge("pci-edu", "pci-edu", none);
        assert_eq!(r.result, RowResult::Error);
        assert!(r.detail.contains("no evidence.json"), "{}", r.detail);
        let failed = evidence_of(&boot(&[("collect.log", b"error: boom\n")], 2));
        let r = judge("golden", "golden#2", failed);
        assert_eq!(r.result, RowResult::Error);
        assert!(r.detail.contains("exited 2") && r.detail.contains("boom"));
        let garbled = evidence_of(&boot(&[("evidence.json", b"{\"schema\":")], 0));
        assert_eq!(
            judge("golden", "golden#2", garbled).result,
            RowResult::Error
        );
    }

    #[test]
    fn an_attestation_round_that_did_not_complete_is_an_error() {
        let b = boot(&[], 0);
        let cas_read = std::cell::Cell::new(false);
        let e = quote_check_of(true, &b, || {
            cas_read.set(true);
            Ok(Vec::new())
        })
        .unwrap_err();
        assert!(e.to_string().contains("never answered"), "{e}");
        let r = judge("golden", "golden#2", Err(e));
        assert_eq!(r.result, RowResult::Error);
        // Without a TPM there is nothing to check, and no CA is read.
        assert!(quote_check_of(false, &b, || unreachable!())
            .unwrap()
            .is_none());
        assert!(!cas_read.get());
    }

    #[test]
    fn a_timeout_is_an_error_and_a_replay_without_the_old_quote_too() {
        let t = Error::Timeout {
            seconds: 300,
            console: "EFI stub: loaded initrd".into(),
        };
        let r = judge("golden", "golden#2", Err(t));
        assert_eq!(r.result, RowResult::Error);
        assert!(r.detail.contains("300 s"));
        let r = judge("quote-replayed", "quote-replayed", Ok(golden()));
        assert_eq!(r.result, RowResult::Error);
        assert!(r.detail.contains("not known"));
    }
}
