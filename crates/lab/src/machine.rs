//! The lab server's hardware, as QEMU arguments.
//!
//! The golden server imitates a Supermicro X11DDW-L board in a SYS-1029P-WTR chassis: SMBIOS
//! types 0, 1, 2, 3 and 17 carry that vendor's strings with serials and asset tags; a SATA SSD
//! and an NVMe drive with serials; an Intel 82574L NIC (e1000e) with a fixed Supermicro MAC; an
//! xHCI USB controller; a TPM 2.0 on TIS. Scenarios edit one field of [`Machine`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where a disk sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskBus {
    /// A port of the chipset's AHCI controller.
    Sata,
    /// Its own NVMe controller.
    Nvme,
}

/// One disk.
#[derive(Debug, Clone)]
pub struct Disk {
    /// Bus.
    pub bus: DiskBus,
    /// Model string (SATA only; QEMU's NVMe model is fixed).
    pub model: Option<String>,
    /// Serial number.
    pub serial: String,
    /// Image copied for each boot.
    pub image: PathBuf,
}

/// Everything that differs between scenarios.
#[derive(Debug, Clone)]
pub struct Machine {
    /// `-smbios` arguments.
    pub smbios: Vec<String>,
    /// QEMU NIC model.
    pub nic_model: String,
    /// The NIC's MAC address.
    pub mac: String,
    /// The NIC's option ROM instead of QEMU's default (iPXE's `efi-<model>.rom`).
    pub nic_romfile: Option<PathBuf>,
    /// Disks in order.
    pub disks: Vec<Disk>,
    /// A TPM 2.0 is attached.
    pub tpm: bool,
    /// Extra `-device` values (and the `-chardev`/`-drive` they need, as whole arguments).
    pub extra_args: Vec<String>,
    /// Extra ACPI tables (`-acpitable file=`).
    pub acpi_tables: Vec<PathBuf>,
    /// OVMF code image.
    pub firmware_code: PathBuf,
    /// Guest memory.
    pub memory_mib: u32,
    /// Variable store image instead of Debian's empty one (a Secure Boot scenario).
    pub firmware_vars: Option<PathBuf>,
    /// Kernel image instead of the cached Debian kernel (a changed-kernel scenario).
    pub kernel: Option<PathBuf>,
    /// A provisioned TPM state folder, copied for each boot so every boot of the lab has the
    /// same TPM (EK, AK, certificates), as a real server keeps its TPM. `None`: a fresh TPM.
    pub tpm_state: Option<PathBuf>,
}

/// The golden server's SMBIOS strings. QEMU splits option values at commas, so none has one.
pub fn golden_smbios() -> Vec<String> {
    [
        "type=0,vendor=American Megatrends Inc.,version=3.4,date=04/27/2021,release=5.14",
        "type=1,manufacturer=Supermicro,product=SYS-1029P-WTR,version=0123456789,serial=S123456789X1,uuid=4c4c4544-0042-3510-8052-b4c04f445a32,sku=091715D9,family=SMC X11",
        "type=2,manufacturer=Supermicro,product=X11DDW-L,version=1.02,serial=OM19AS000123,asset=ASSET-0001,location=Default string",
        "type=3,manufacturer=Supermicro,version=0123456789,serial=C1170LI23AB0123,asset=ASSET-0001,sku=Default string",
        "type=17,loc_pfx=P1-DIMMA,bank=P0_Node0_Channel0_Dimm0,manufacturer=Samsung,serial=3A8F12C4,asset=DIMM-ASSET-0001,part=M393A2K43BB1-CTD,speed=2666",
    ]
    .map(str::to_owned)
    .to_vec()
}

impl Machine {
    /// The golden server with these disk images (data disk on SATA, blank one on NVMe).
    pub fn golden(firmware_code: &Path, data_disk: &Path, blank_disk: &Path) -> Machine {
        Machine {
            smbios: golden_smbios(),
            nic_model: "e1000e".into(),
            mac: "ac:1f:6b:12:34:56".into(),
            nic_romfile: None,
            disks: vec![
                Disk {
                    bus: DiskBus::Sata,
                    model: Some("SAMSUNG MZ7LH480HAHQ-00005".into()),
                    serial: "S45PNA0M123456".into(),
                    image: data_disk.to_owned(),
                },
                Disk {
                    bus: DiskBus::Nvme,
                    model: None,
                    serial: "PHLJ912345678".into(),
                    image: blank_disk.to_owned(),
                },
            ],
            tpm: true,
            extra_args: Vec::new(),
            acpi_tables: Vec::new(),
            firmware_code: firmware_code.to_owned(),
            memory_mib: 1024,
            firmware_vars: None,
            kernel: None,
            tpm_state: None,
        }
    }

    /// Replaces the `key=` field of the `-smbios type=N` entry.
    pub fn set_smbios(&mut self, smbios_type: u8, key: &str, value: &str) -> bool {
        let prefix = format!("type={smbios_type},");
        let Some(entry) = self.smbios.iter_mut().find(|e| e.starts_with(&prefix)) else {
            return false;
        };
        let mut found = false;
        let fields: Vec<String> = entry
            .split(',')
            .map(|f| match f.split_once('=') {
                Some((k, _)) if k == key => {
                    found = true;
                    format!("{k}={value}")
                }
                _ => f.to_owned(),
            })
            .collect();
        *entry = fields.join(",");
        found
    }
}

/// Per-boot paths.
#[derive(Debug, Clone)]
pub struct BootPaths {
    /// Copy of the OVMF variable store.
    pub vars: PathBuf,
    /// Disk image copies, in the order of [`Machine::disks`].
    pub disks: Vec<PathBuf>,
    /// swtpm's control socket (when the machine has a TPM).
    pub tpm_socket: PathBuf,
    /// Kernel image.
    pub kernel: PathBuf,
    /// Initramfs.
    pub initramfs: PathBuf,
    /// Console log (ttyS0).
    pub console: PathBuf,
    /// The guest's data port (ttyS1).
    pub data: PathBuf,
    /// The attestation port (ttyS2, a Unix socket the host serves as the verifier), when the
    /// machine has a TPM.
    pub attest: Option<PathBuf>,
}

/// The kernel command line.
pub const CMDLINE: &str = "console=ttyS0 ima_policy=tcb panic=-1 quiet";

fn drive_file(p: &Path) -> String {
    // QEMU splits at commas; double them in paths.
    p.to_string_lossy().replace(',', ",,")
}

impl Machine {
    /// The QEMU command line (without the program).
    pub fn qemu_args(&self, p: &BootPaths) -> Vec<OsString> {
        let mut a: Vec<String> = vec![
            "-machine".into(),
            "q35,accel=tcg".into(),
            "-cpu".into(),
            "qemu64".into(),
            "-smp".into(),
            "1".into(),
            "-m".into(),
            self.memory_mib.to_string(),
            "-nodefaults".into(),
            "-no-user-config".into(),
            "-display".into(),
            "none".into(),
            "-no-reboot".into(),
            "-drive".into(),
            format!(
                "if=pflash,format=raw,unit=0,readonly=on,file={}",
                drive_file(&self.firmware_code)
            ),
            "-drive".into(),
            format!("if=pflash,format=raw,unit=1,file={}", drive_file(&p.vars)),
        ];
        for s in &self.smbios {
            a.push("-smbios".into());
            a.push(s.clone());
        }
        for (i, (d, img)) in self.disks.iter().zip(&p.disks).enumerate() {
            a.push("-drive".into());
            a.push(format!(
                "if=none,id=disk{i},format=raw,file={}",
                drive_file(img)
            ));
            a.push("-device".into());
            a.push(match d.bus {
                DiskBus::Sata => format!(
                    "ide-hd,drive=disk{i},bus=ide.{i},serial={}{}",
                    d.serial,
                    d.model
                        .as_ref()
                        .map(|m| format!(",model={m}"))
                        .unwrap_or_default()
                ),
                DiskBus::Nvme => format!("nvme,drive=disk{i},serial={}", d.serial),
            });
        }
        a.extend([
            "-netdev".into(),
            "user,id=net0,restrict=on".into(),
            "-device".into(),
            format!(
                "{},netdev=net0,mac={}{}",
                self.nic_model,
                self.mac,
                self.nic_romfile
                    .as_ref()
                    .map(|r| format!(",romfile={}", drive_file(r)))
                    .unwrap_or_default()
            ),
            "-device".into(),
            "qemu-xhci,id=xhci".into(),
        ]);
        if self.tpm {
            a.extend([
                "-chardev".into(),
                format!("socket,id=chrtpm,path={}", drive_file(&p.tpm_socket)),
                "-tpmdev".into(),
                "emulator,id=tpm0,chardev=chrtpm".into(),
                "-device".into(),
                "tpm-tis,tpmdev=tpm0".into(),
            ]);
        }
        for t in &self.acpi_tables {
            a.push("-acpitable".into());
            a.push(format!("file={}", drive_file(t)));
        }
        a.extend(self.extra_args.iter().cloned());
        a.extend([
            "-kernel".into(),
            p.kernel.to_string_lossy().into_owned(),
            "-initrd".into(),
            p.initramfs.to_string_lossy().into_owned(),
            "-append".into(),
            CMDLINE.into(),
            "-serial".into(),
            format!("file:{}", p.console.to_string_lossy()),
            "-serial".into(),
            format!("file:{}", p.data.to_string_lossy()),
        ]);
        if let Some(sock) = &p.attest {
            a.extend([
                "-chardev".into(),
                format!(
                    "socket,id=attest,path={},server=on,wait=off",
                    drive_file(sock)
                ),
                // COM3's legacy IRQ is 4, shared with the console's COM1, and an edge-triggered
                // ISA IRQ cannot be shared: the guest would send but never receive. IRQ 5 is
                // free on q35, and the firmware's ACPI tables tell the kernel.
                "-device".into(),
                "isa-serial,chardev=attest,iobase=0x3e8,irq=5".into(),
            ]);
        }
        a.into_iter().map(OsString::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_smbios_replaces_one_field() {
        let mut m = Machine::golden(Path::new("/c"), Path::new("/d"), Path::new("/b"));
        assert!(m.set_smbios(2, "serial", "OM19AS999999"));
        assert!(m
            .smbios
            .iter()
            .any(|s| s.contains("X11DDW-L,version=1.02,serial=OM19AS999999,")));
        assert!(!m.set_smbios(2, "nosuch", "x"));
        assert!(!m.set_smbios(9, "serial", "x"));
        assert_eq!(m.smbios.len(), golden_smbios().len());
    }
}
