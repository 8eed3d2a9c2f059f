//! What the lab server is built from, fetched from Debian packages on first use and cached.
//!
//! The cache (default `$XDG_CACHE_HOME/boardproof/lab`, else `~/.cache/boardproof/lab`) holds
//! the extracted kernel package and the swtpm certificate authority. Each cache entry is built
//! in a temporary folder and renamed into place when complete, so an interrupted build never
//! leaves a half-made entry that a later run would trust.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Progress};

/// Debian's OVMF build with a 4 MiB flash (CODE read-only, VARS copied per boot).
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
/// iPXE's option ROM for the golden NIC (e1000e), which QEMU loads by default.
pub const NIC_ROM: &str = "/usr/lib/ipxe/qemu/efi-e1000e.rom";
/// The variable store template.
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// Debian's variable store with the Microsoft Secure Boot keys enrolled (PK, KEK, db, dbx).
pub const OVMF_VARS_MS: &str = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
/// busybox-static's binary.
pub const BUSYBOX: &str = "/bin/busybox";
/// The environment variable that pins the kernel package (default: what linux-image-amd64
/// depends on).
pub const KERNEL_ENV: &str = "BOARDPROOF_LAB_KERNEL";

/// Debian packages the lab needs, for error messages and the README.
pub const PACKAGES: &str =
    "qemu-system-x86 ovmf swtpm swtpm-tools busybox-static e2fsprogs kmod binutils";

/// The extracted kernel package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kernel {
    /// Debian package name, e.g. `linux-image-6.1.0-56-amd64`.
    pub package: String,
    /// The .deb file name (carries the package version).
    pub deb: String,
    /// sha256 of the .deb as downloaded.
    pub deb_sha256: String,
    /// `uname -r` of the guest.
    pub release: String,
    /// The extracted tree (boot/, lib/modules/).
    #[serde(skip)]
    pub root: PathBuf,
}

impl Kernel {
    /// The kernel image.
    pub fn vmlinuz(&self) -> PathBuf {
        self.root
            .join("boot")
            .join(format!("vmlinuz-{}", self.release))
    }

    /// lib/modules/RELEASE of the extracted tree.
    pub fn modules_dir(&self) -> PathBuf {
        self.root.join("lib/modules").join(&self.release)
    }
}

/// Everything a boot needs.
#[derive(Debug, Clone)]
pub struct Assets {
    /// The cache folder.
    pub cache: PathBuf,
    /// The guest kernel.
    pub kernel: Kernel,
    /// OVMF code (read-only).
    pub ovmf_code: PathBuf,
    /// OVMF variable store template.
    pub ovmf_vars: PathBuf,
    /// Static busybox.
    pub busybox: PathBuf,
    /// swtpm_setup configuration pointing at the lab's own certificate authority.
    pub swtpm_setup_conf: PathBuf,
    /// The lab CA's folder (issuer of the EK and platform certificates).
    pub swtpm_ca_dir: PathBuf,
}

/// Where the lab caches what it builds.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("boardproof").join("lab"))
}

/// Finds `program` on PATH (and in the sbin folders, which a non-root PATH may lack).
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// `program`'s path, or an error naming what it is for and which packages provide it.
pub fn require(program: &str, why: &str, packages: &str) -> Result<PathBuf, Error> {
    which(program).ok_or_else(|| Error::MissingTool {
        tool: program.to_owned(),
        why: why.to_owned(),
        packages: packages.to_owned(),
    })
}

/// Checks that every program and file a boot needs is installed, naming the first one missing.
pub fn check_host() -> Result<(), Error> {
    require(
        "qemu-system-x86_64",
        "runs the lab server",
        "qemu-system-x86",
    )?;
    require("swtpm", "the lab server's TPM 2.0", "swtpm")?;
    require(
        "swtpm_setup",
        "provisions the TPM with EK and platform certificates",
        "swtpm-tools",
    )?;
    require(
        "swtpm_localca",
        "issues the TPM's certificates",
        "swtpm-tools",
    )?;
    require("mke2fs", "builds the data disk IMA measures", "e2fsprogs")?;
    require("depmod", "orders the guest's kernel modules", "kmod")?;
    require("dpkg-deb", "unpacks the kernel package", "dpkg")?;
    require(
        "ldd",
        "finds the libraries of the guest's boardproof",
        "libc-bin",
    )?;
    for (file, package) in [
        (OVMF_CODE, "ovmf"),
        (OVMF_VARS, "ovmf"),
        (BUSYBOX, "busybox-static"),
        (NIC_ROM, "ipxe-qemu"),
    ] {
        if !Path::new(file).is_file() {
            return Err(Error::MissingTool {
                tool: file.to_owned(),
                why: "part of the lab server".to_owned(),
                packages: package.to_owned(),
            });
        }
    }
    Ok(())
}

/// Runs a command and returns its stdout, or an error with its status and stderr.
pub fn run_tool(cmd: &mut Command) -> Result<String, Error> {
    let tool = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| Error::ToolFailed {
        tool: tool.clone(),
        message: e.to_string(),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(Error::ToolFailed {
            tool,
            message: format!(
                "{}: {}",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Prepares (or finds in the cache) everything a boot needs.
pub fn prepare(cache: &Path, progress: &dyn Progress) -> Result<Assets, Error> {
    check_host()?;
    std::fs::create_dir_all(cache).map_err(Error::io(cache))?;
    // Two runs at once (parallel tests, two users) must not build the same entry together.
    let _lock = lock(cache)?;
    let kernel = kernel(cache, progress)?;
    let (swtpm_setup_conf, swtpm_ca_dir) = swtpm_ca(cache)?;
    Ok(Assets {
        cache: cache.to_owned(),
        kernel,
        ovmf_code: PathBuf::from(OVMF_CODE),
        ovmf_vars: PathBuf::from(OVMF_VARS),
        busybox: PathBuf::from(BUSYBOX),
        swtpm_setup_conf,
        swtpm_ca_dir,
    })
}

/// An exclusive lock on the cache, held until the returned file is dropped.
pub fn lock(cache: &Path) -> Result<std::fs::File, Error> {
    let path = cache.join(".lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io(&path))?;
    f.lock().map_err(Error::io(&path))?;
    Ok(f)
}

/// The kernel package to use: `$BOARDPROOF_LAB_KERNEL`, else the one linux-image-amd64 pulls in.
fn kernel_package() -> Result<String, Error> {
    if let Some(p) = std::env::var(KERNEL_ENV).ok().filter(|v| !v.is_empty()) {
        return Ok(p);
    }
    let apt = require("apt-cache", "finds Debian's current kernel package", "apt")?;
    let out = run_tool(Command::new(apt).args(["depends", "linux-image-amd64"]))?;
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends:"))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-") && p.ends_with("-amd64"))
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "apt-cache depends linux-image-amd64 names no linux-image-*-amd64 package; \
                 set {KERNEL_ENV}=linux-image-<version>-amd64"
            ))
        })
}

/// The guest kernel package, downloaded (`apt-get download`) and unpacked into `cache` on
/// first use. Tests read its signed modules as real-world input.
pub fn kernel(cache: &Path, progress: &dyn Progress) -> Result<Kernel, Error> {
    let package = kernel_package()?;
    if package.contains('/') || package.starts_with('.') {
        return Err(Error::Invalid(format!(
            "{KERNEL_ENV}: not a package name: {package}"
        )));
    }
    let dir = cache.join("kernel").join(&package);
    let ready = dir.join("ready.json");
    if ready.is_file() {
        let bytes = std::fs::read(&ready).map_err(Error::io(&ready))?;
        let mut k: Kernel = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Invalid(format!("{}: {e}; remove that folder", ready.display())))?;
        k.root = dir.join("tree");
        if k.vmlinuz().is_file() && k.modules_dir().join("modules.dep").is_file() {
            return Ok(k);
        }
    }
    progress.step(&format!("downloading {package} (apt-get download)"));
    let parent = cache.join("kernel");
    std::fs::create_dir_all(&parent).map_err(Error::io(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(&parent)
        .map_err(Error::io(&parent))?;
    let apt = require("apt-get", "downloads the kernel package", "apt")?;
    run_tool(
        Command::new(apt)
            .args(["download", &package])
            .current_dir(tmp.path()),
    )?;
    let deb = std::fs::read_dir(tmp.path())
        .map_err(Error::io(tmp.path()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".deb"))
        .ok_or_else(|| Error::Invalid(format!("apt-get download {package} produced no .deb")))?;
    let deb_path = tmp.path().join(&deb);
    let bytes = std::fs::read(&deb_path).map_err(Error::io(&deb_path))?;
    let deb_sha256 = hex::encode(Sha256::digest(&bytes));
    drop(bytes);
    progress.step(&format!("unpacking {deb}"));
    let tree = tmp.path().join("tree");
    run_tool(Command::new("dpkg-deb").arg("-x").arg(&deb_path).arg(&tree))?;
    std::fs::remove_file(&deb_path).map_err(Error::io(&deb_path))?;
    let boot = tree.join("boot");
    let release = std::fs::read_dir(&boot)
        .map_err(Error::io(&boot))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix("vmlinuz-")
                .map(str::to_owned)
        })
        .next()
        .ok_or_else(|| Error::Invalid(format!("{package}: no boot/vmlinuz-* inside")))?;
    progress.step(&format!("indexing the modules of {release} (depmod)"));
    run_tool(
        Command::new(require(
            "depmod",
            "orders the guest's kernel modules",
            "kmod",
        )?)
        .arg("-b")
        .arg(&tree)
        .arg(&release),
    )?;
    let mut k = Kernel {
        package: package.clone(),
        deb,
        deb_sha256,
        release,
        root: PathBuf::new(),
    };
    let json = serde_json::to_vec_pretty(&k).map_err(|e| Error::Invalid(e.to_string()))?;
    let tmp_ready = tmp.path().join("ready.json");
    std::fs::write(&tmp_ready, json).map_err(Error::io(&tmp_ready))?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(Error::io(&dir))?;
    }
    let tmp_path = tmp.keep();
    std::fs::rename(&tmp_path, &dir).map_err(Error::io(&dir))?;
    k.root = dir.join("tree");
    Ok(k)
}

/// A swtpm_setup configuration whose certificate authority lives in the cache, so that every
/// boot's EK and platform certificates chain to one lab CA and no system folder is written.
pub fn swtpm_ca(cache: &Path) -> Result<(PathBuf, PathBuf), Error> {
    let dir = cache.join("swtpm");
    let ca = dir.join("localca");
    std::fs::create_dir_all(&ca).map_err(Error::io(&ca))?;
    let localca = require(
        "swtpm_localca",
        "issues the TPM's certificates",
        "swtpm-tools",
    )?;
    let ca_conf = dir.join("swtpm-localca.conf");
    let ca_opts = dir.join("swtpm-localca.options");
    let setup_conf = dir.join("swtpm_setup.conf");
    let files = [
        (
            &ca_conf,
            format!(
                "statedir = {ca}\nsigningkey = {ca}/signkey.pem\nissuercert = {ca}/issuercert.pem\ncertserial = {ca}/certserial\n",
                ca = ca.display()
            ),
        ),
        (
            &ca_opts,
            "--platform-manufacturer Supermicro\n--platform-version 1.0\n--platform-model X11DDW-L\n"
                .to_owned(),
        ),
        (
            &setup_conf,
            format!(
                "create_certs_tool = {}\ncreate_certs_tool_config = {}\ncreate_certs_tool_options = {}\n",
                localca.display(),
                ca_conf.display(),
                ca_opts.display()
            ),
        ),
    ];
    for (path, text) in files {
        let same = std::fs::read_to_string(path)
            .map(|t| t == text)
            .unwrap_or(false);
        if !same {
            std::fs::write(path, text).map_err(Error::io(path))?;
        }
    }
    Ok((setup_conf, ca))
}
