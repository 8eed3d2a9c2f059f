//! One boot of the lab server: swtpm and QEMU as child processes, ended by their pid on
//! timeout, on error and on Ctrl-C; the per-boot folder (variable store, disk copies, TPM
//! state, serial output) is removed afterwards.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::assets::{require, run_tool, Assets};
use crate::machine::{BootPaths, Machine};
use crate::transfer::{self, GuestOutput};
use crate::Error;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static HANDLER: OnceLock<Result<(), String>> = OnceLock::new();

/// Installs a Ctrl-C / SIGTERM / SIGHUP handler that makes running boots stop their processes
/// and clean up, instead of the process dying with QEMU left behind.
pub fn install_interrupt_handler() -> Result<(), Error> {
    HANDLER
        .get_or_init(|| {
            ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst))
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| Error::Invalid(format!("cannot install the Ctrl-C handler: {e}")))
}

/// Whether an interrupt arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// A child process that is killed (SIGKILL to its pid) and reaped when dropped.
struct Guard {
    child: Child,
}

impl Guard {
    fn spawn(cmd: &mut Command) -> Result<Guard, Error> {
        let child = cmd.spawn().map_err(|e| Error::ToolFailed {
            tool: format!("{cmd:?}"),
            message: e.to_string(),
        })?;
        Ok(Guard { child })
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// What one boot produced.
#[derive(Debug, Clone)]
pub struct BootResult {
    /// Files the guest sent.
    pub output: GuestOutput,
    /// The guest console (ttyS0).
    pub console: String,
    /// Wall time from starting swtpm to QEMU's exit.
    pub seconds: f64,
    /// The secret of the challenge the host (as verifier) gave the guest over the attestation
    /// port; `None` when the machine has no TPM or the round did not complete (see
    /// `attest_note`).
    pub attest_secret: Option<boardproof_evidence::AttestationSecret>,
    /// Why the attestation round did not complete.
    pub attest_note: Option<String>,
}

/// Options of a boot.
#[derive(Debug, Clone)]
pub struct BootOptions {
    /// Stop the guest after this long.
    pub timeout: Duration,
    /// Copy the boot's logs (console, data port, QEMU, swtpm) here before its folder is
    /// removed, also when the boot fails (for diagnosis).
    pub keep: Option<PathBuf>,
}

impl Default for BootOptions {
    fn default() -> Self {
        BootOptions {
            timeout: Duration::from_secs(120),
            keep: None,
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let v: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if v.is_empty() {
        return "(nothing on the console)".to_owned();
    }
    v.get(v.len().saturating_sub(lines)..)
        .unwrap_or_default()
        .join("\n")
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Boots `machine` with `initramfs` and returns what the guest sent.
pub fn boot(
    machine: &Machine,
    assets: &Assets,
    initramfs: &Path,
    opts: &BootOptions,
) -> Result<BootResult, Error> {
    let tmp = tempfile::Builder::new()
        .prefix("boardproof-lab-")
        .tempdir()
        .map_err(Error::io(std::env::temp_dir()))?;
    let dir = std::fs::canonicalize(tmp.path()).map_err(Error::io(tmp.path()))?;
    let result = boot_in(machine, assets, initramfs, opts, &dir);
    if let Some(keep) = &opts.keep {
        let _ = std::fs::create_dir_all(keep);
        for f in [
            "console.log",
            "data.out",
            "qemu.log",
            "swtpm.log",
            "swtpm_setup.log",
        ] {
            let _ = std::fs::copy(dir.join(f), keep.join(f));
        }
    }
    drop(tmp);
    result
}

fn boot_in(
    machine: &Machine,
    assets: &Assets,
    initramfs: &Path,
    opts: &BootOptions,
    dir: &Path,
) -> Result<BootResult, Error> {
    if interrupted() {
        return Err(Error::Interrupted);
    }
    let qemu = require(
        "qemu-system-x86_64",
        "runs the lab server",
        "qemu-system-x86",
    )?;
    let vars = dir.join("OVMF_VARS.fd");
    let vars_from = machine.firmware_vars.as_ref().unwrap_or(&assets.ovmf_vars);
    std::fs::copy(vars_from, &vars).map_err(Error::io(&vars))?;
    let mut disks = Vec::new();
    for (i, d) in machine.disks.iter().enumerate() {
        let copy = dir.join(format!("disk{i}.img"));
        std::fs::copy(&d.image, &copy).map_err(Error::io(&copy))?;
        disks.push(copy);
    }
    let paths = BootPaths {
        vars,
        disks,
        tpm_socket: dir.join("swtpm.sock"),
        kernel: machine
            .kernel
            .clone()
            .unwrap_or_else(|| assets.kernel.vmlinuz()),
        initramfs: initramfs.to_owned(),
        console: dir.join("console.log"),
        data: dir.join("data.out"),
        attest: machine.tpm.then(|| dir.join("attest.sock")),
    };
    let start = Instant::now();
    let _swtpm = if machine.tpm {
        Some(start_swtpm(
            assets,
            dir,
            &paths.tpm_socket,
            machine.tpm_state.as_deref(),
        )?)
    } else {
        None
    };
    let qemu_log = dir.join("qemu.log");
    let log = std::fs::File::create(&qemu_log).map_err(Error::io(&qemu_log))?;
    let log2 = log.try_clone().map_err(Error::io(&qemu_log))?;
    let mut q = Guard::spawn(
        Command::new(qemu)
            .args(machine.qemu_args(&paths))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2),
    )?;
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let server = match &paths.attest {
        Some(sock) => Some(crate::attest::serve(
            sock.clone(),
            crate::attest::lab_cas(assets)?,
            stop.clone(),
        )),
        None => None,
    };
    let status = loop {
        if let Some(st) = q.child.try_wait().map_err(|e| Error::ToolFailed {
            tool: "qemu-system-x86_64".into(),
            message: e.to_string(),
        })? {
            break st;
        }
        if interrupted() {
            return Err(Error::Interrupted);
        }
        if start.elapsed() > opts.timeout {
            return Err(Error::Timeout {
                seconds: opts.timeout.as_secs(),
                console: tail(&read_lossy(&paths.console), 15),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let seconds = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    let (attest_secret, attest_note) = match server.map(|h| h.join()) {
        None => (None, None),
        Some(Ok(Ok(secret))) => (Some(secret), None),
        Some(Ok(Err(why))) => (None, Some(why)),
        Some(Err(_)) => (None, Some("the attestation server panicked".into())),
    };
    let console = read_lossy(&paths.console);
    if !status.success() {
        return Err(Error::ToolFailed {
            tool: "qemu-system-x86_64".into(),
            message: format!("{status}: {}", tail(&read_lossy(&qemu_log), 5)),
        });
    }
    let data = std::fs::read(&paths.data).map_err(Error::io(&paths.data))?;
    let output = transfer::parse(&data).map_err(|message| Error::GuestOutput {
        message,
        console: tail(&console, 15),
    })?;
    Ok(BootResult {
        output,
        console,
        seconds,
        attest_secret,
        attest_note,
    })
}

/// Provisions a TPM state in `state` (EK and platform certificates from the lab CA), as a
/// TPM vendor and the board maker would. The folder must be an absolute path: swtpm fails on a
/// relative one.
pub fn provision_tpm(assets: &Assets, state: &Path, log: &Path) -> Result<(), Error> {
    let setup = require("swtpm_setup", "provisions the TPM", "swtpm-tools")?;
    std::fs::create_dir_all(state).map_err(Error::io(state))?;
    run_tool(
        Command::new(setup)
            .arg("--tpm2")
            .arg("--tpmstate")
            .arg(state)
            .args(["--create-ek-cert", "--create-platform-cert", "--overwrite"])
            .args(["--pcr-banks", "sha1,sha256"])
            .arg("--config")
            .arg(&assets.swtpm_setup_conf)
            .arg("--logfile")
            .arg(log),
    )
    .map(|_| ())
}

/// Starts swtpm on a control socket with a copy of `provisioned` (or a freshly provisioned
/// state).
fn start_swtpm(
    assets: &Assets,
    dir: &Path,
    socket: &Path,
    provisioned: Option<&Path>,
) -> Result<Guard, Error> {
    let swtpm = require("swtpm", "the lab server's TPM 2.0", "swtpm")?;
    let state = dir.join("tpm");
    match provisioned {
        Some(src) => {
            std::fs::create_dir_all(&state).map_err(Error::io(&state))?;
            for entry in std::fs::read_dir(src).map_err(Error::io(src))? {
                let entry = entry.map_err(Error::io(src))?;
                if entry
                    .file_type()
                    .map_err(Error::io(entry.path()))?
                    .is_file()
                {
                    let to = state.join(entry.file_name());
                    std::fs::copy(entry.path(), &to).map_err(Error::io(&to))?;
                }
            }
        }
        None => provision_tpm(assets, &state, &dir.join("swtpm_setup.log"))?,
    }
    let guard = Guard::spawn(
        Command::new(swtpm)
            .arg("socket")
            .arg("--tpm2")
            .arg("--tpmstate")
            .arg(format!("dir={}", state.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}", socket.display()))
            .arg("--log")
            .arg(format!("file={},level=1", dir.join("swtpm.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )?;
    let t = Instant::now();
    while !socket.exists() {
        if t.elapsed() > Duration::from_secs(10) {
            return Err(Error::ToolFailed {
                tool: "swtpm".into(),
                message: format!("{} did not appear within 10 s", socket.display()),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(guard)
}
