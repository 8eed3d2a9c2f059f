//! A fake machine: a folder shaped like the sysfs / procfs files collect reads, with real
//! symlinks, so that `collect --root` runs on it exactly as on a host.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

pub struct Machine {
    pub dir: TempDir,
}

/// A PCI function to place.
pub struct Pci<'a> {
    /// Path below sys/devices, e.g. ["pci0000:00", "0000:00:1c.0", "0000:01:00.0"].
    pub path: &'a [&'a str],
    pub vendor: u16,
    pub device: u16,
    pub class: u32,
    pub subsystem: (u16, u16),
    pub revision: u8,
}

/// An SMBus controller at 00:1f.3: a typical "enabled in setup" addition.
pub const SMBUS: Pci<'static> = Pci {
    path: &["pci0000:00", "0000:00:1f.3"],
    vendor: 0x8086,
    device: 0xa1a3,
    class: 0x0c0500,
    subsystem: (0x15d9, 0x095d),
    revision: 0x09,
};

impl Machine {
    pub fn new() -> Self {
        let m = Machine {
            dir: tempfile::tempdir().unwrap(),
        };
        m.file("proc/sys/kernel/hostname", "golden\n");
        m.file("proc/sys/kernel/osrelease", "6.1.0-test-amd64\n");
        m.file("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        m.file(
            "proc/cpuinfo",
            "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\
             model name\t: Intel(R) Xeon(R) Gold 6130\nstepping\t: 4\nmicrocode\t: 0x2006e05\n\
             physical id\t: 0\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n\
             model\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6130\nstepping\t: 4\n\
             microcode\t: 0x2006e05\nphysical id\t: 0\n\n",
        );
        std::fs::create_dir_all(m.root().join("sys/bus/pci/devices")).unwrap();
        std::fs::create_dir_all(m.root().join("sys/devices")).unwrap();
        m
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn root_str(&self) -> String {
        self.root().to_string_lossy().into_owned()
    }

    pub fn file(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }

    /// Places a PCI function and its sys/bus/pci/devices link.
    pub fn pci(&self, d: &Pci<'_>) -> PathBuf {
        let rel = format!("sys/devices/{}", d.path.join("/"));
        let dir = self.root().join(&rel);
        std::fs::create_dir_all(&dir).unwrap();
        let w = |name: &str, v: String| std::fs::write(dir.join(name), v + "\n").unwrap();
        w("vendor", format!("0x{:04x}", d.vendor));
        w("device", format!("0x{:04x}", d.device));
        w("class", format!("0x{:06x}", d.class));
        w("subsystem_vendor", format!("0x{:04x}", d.subsystem.0));
        w("subsystem_device", format!("0x{:04x}", d.subsystem.1));
        w("revision", format!("0x{:02x}", d.revision));
        std::fs::write(dir.join("config"), vec![0u8; 256]).unwrap();
        let addr = d.path.last().unwrap();
        let depth = 3; // sys/bus/pci/devices -> ../../../devices/...
        let target = format!("{}{rel}", "../".repeat(depth)).replacen("sys/", "", 1);
        let link = self.root().join("sys/bus/pci/devices").join(addr);
        let _ = std::fs::remove_file(&link);
        symlink(target, &link).unwrap();
        dir
    }

    /// Removes a PCI function's link and folder.
    pub fn remove_pci(&self, path: &[&str]) {
        let addr = path.last().unwrap();
        std::fs::remove_file(self.root().join("sys/bus/pci/devices").join(addr)).unwrap();
        std::fs::remove_dir_all(self.root().join("sys/devices").join(path.join("/"))).unwrap();
    }

    /// Places a USB device (or root hub when `port` is None) under the xHCI controller at
    /// 00:14.0, with its sys/bus/usb/devices link and one interface link (which collect skips).
    pub fn usb(&self, port: Option<&str>, attrs: &[(&str, &str)]) {
        let hub = "sys/devices/pci0000:00/0000:00:14.0/usb1";
        let (rel, name) = match port {
            None => (hub.to_owned(), "usb1".to_owned()),
            Some(p) => (format!("{hub}/1-{p}"), format!("1-{p}")),
        };
        for (k, v) in attrs {
            self.file(&format!("{rel}/{k}"), format!("{v}\n"));
        }
        let links = self.root().join("sys/bus/usb/devices");
        std::fs::create_dir_all(&links).unwrap();
        let target = format!("../../../{}", rel.trim_start_matches("sys/"));
        symlink(&target, links.join(&name)).unwrap();
        if port.is_some() {
            std::fs::create_dir_all(self.root().join(&rel).join(format!("{name}:1.0"))).unwrap();
            symlink(
                format!("{target}/{name}:1.0"),
                links.join(format!("{name}:1.0")),
            )
            .unwrap();
        }
    }

    /// Places an I2C client `0-00AA` named `name` on adapter i2c-0 (the SMBus controller at
    /// 00:1f.4), creating the adapter on first use.
    pub fn i2c_client(&self, addr: u8, name: &str) {
        let adapter = "sys/devices/pci0000:00/0000:00:1f.4/i2c-0";
        let links = self.root().join("sys/bus/i2c/devices");
        if !links.join("i2c-0").exists() {
            self.file(&format!("{adapter}/name"), "SMBus I801 adapter at efa0\n");
            std::fs::create_dir_all(&links).unwrap();
            symlink(
                "../../../devices/pci0000:00/0000:00:1f.4/i2c-0",
                links.join("i2c-0"),
            )
            .unwrap();
        }
        let client = format!("0-{addr:04x}");
        self.file(&format!("{adapter}/{client}/name"), format!("{name}\n"));
        symlink(
            format!("../../../devices/pci0000:00/0000:00:1f.4/i2c-0/{client}"),
            links.join(&client),
        )
        .unwrap();
    }

    /// Installs an SMBIOS table from a `dmidecode --dump-bin` file the way sysfs shows it.
    pub fn smbios_from_dump(&self, dump: &Path) {
        let bytes = std::fs::read(dump).unwrap();
        let ep_len = if bytes.starts_with(b"_SM3_") { 24 } else { 31 };
        self.file(
            "sys/firmware/dmi/tables/smbios_entry_point",
            &bytes[..ep_len],
        );
        self.file("sys/firmware/dmi/tables/DMI", &bytes[32..]);
    }

    /// A server: two root ports with a NIC and an NVMe drive behind them, an ACPI table,
    /// a block device and a loaded module.
    pub fn golden() -> Self {
        Self::golden_on_buses(1, 2)
    }

    /// The golden server with the NIC on bus `nic_bus` and the NVMe drive on `nvme_bus`, as
    /// firmware numbers them when a bridge is added in front.
    pub fn golden_on_buses(nic_bus: u8, nvme_bus: u8) -> Self {
        let m = Machine::new();
        let nic_fn = format!("0000:{nic_bus:02x}:00.0");
        let nvme_fn = format!("0000:{nvme_bus:02x}:00.0");
        m.pci(&Pci {
            path: &["pci0000:00", "0000:00:00.0"],
            vendor: 0x8086,
            device: 0x2020,
            class: 0x060000,
            subsystem: (0x15d9, 0x095d),
            revision: 0x04,
        });
        m.pci(&Pci {
            path: &["pci0000:00", "0000:00:1c.0"],
            vendor: 0x8086,
            device: 0xa190,
            class: 0x060400,
            subsystem: (0x15d9, 0x095d),
            revision: 0xf0,
        });
        m.pci(&Pci {
            path: &["pci0000:00", "0000:00:1c.0", &nic_fn],
            vendor: 0x8086,
            device: 0x1533,
            class: 0x020000,
            subsystem: (0x15d9, 0x1533),
            revision: 0x03,
        });
        m.pci(&Pci {
            path: &["pci0000:00", "0000:00:1d.0"],
            vendor: 0x8086,
            device: 0xa198,
            class: 0x060400,
            subsystem: (0x15d9, 0x095d),
            revision: 0xf0,
        });
        m.pci(&Pci {
            path: &["pci0000:00", "0000:00:1d.0", &nvme_fn],
            vendor: 0x144d,
            device: 0xa808,
            class: 0x010802,
            subsystem: (0x144d, 0xa801),
            revision: 0x00,
        });
        // NIC on the first function behind 1c.0.
        let nic = format!("sys/devices/pci0000:00/0000:00:1c.0/{nic_fn}/net/eno1");
        m.file(&format!("{nic}/address"), "ac:1f:6b:00:00:01\n");
        m.file(&format!("{nic}/addr_assign_type"), "0\n");
        std::fs::create_dir_all(m.root().join("sys/class/net")).unwrap();
        symlink(
            format!("../../{}", nic.trim_start_matches("sys/")),
            m.root().join("sys/class/net/eno1"),
        )
        .unwrap();
        symlink(
            format!("../../../{nic_fn}"),
            m.root().join(&nic).join("device"),
        )
        .unwrap();
        // NVMe namespace.
        let ctrl = format!("sys/devices/pci0000:00/0000:00:1d.0/{nvme_fn}/nvme/nvme0");
        let blk = format!("{ctrl}/nvme0n1");
        m.file(&format!("{blk}/size"), "1953525168\n");
        m.file(&format!("{blk}/wwid"), "eui.0025385b71b12345\n");
        m.file(&format!("{ctrl}/model"), "Samsung SSD 970 EVO Plus 1TB\n");
        m.file(&format!("{ctrl}/serial"), "S4EWNX0R123456\n");
        symlink("..", m.root().join(&blk).join("device")).unwrap();
        std::fs::create_dir_all(m.root().join("sys/block")).unwrap();
        symlink(
            format!("../{}", blk.trim_start_matches("sys/")),
            m.root().join("sys/block/nvme0n1"),
        )
        .unwrap();
        // ACPI.
        m.file("sys/firmware/acpi/tables/APIC", acpi_table(b"APIC", 64, 1));
        // A module.
        m.file(
            "proc/modules",
            "e1000e 290816 0 - Live 0x0000000000000000\n",
        );
        m.file(
            "lib/modules/6.1.0-test-amd64/kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko",
            b"\x7fELF fake e1000e module body",
        );
        m
    }

    /// Collects evidence from this machine into `out`, returning the JSON.
    pub fn collect(&self, out: &Path) -> serde_json::Value {
        let o = crate::util::run(&[
            "collect",
            "--root",
            &self.root_str(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(crate::util::code(&o), 0, "{}", crate::util::stderr(&o));
        serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
    }
}

/// A valid ACPI table with a correct checksum.
pub fn acpi_table(sig: &[u8; 4], len: usize, oem_rev: u32) -> Vec<u8> {
    let mut t = vec![0u8; len];
    t[..4].copy_from_slice(sig);
    t[4..8].copy_from_slice(&(len as u32).to_le_bytes());
    t[8] = 1;
    t[10..16].copy_from_slice(b"SUPERM");
    t[16..24].copy_from_slice(b"SMCI--MB");
    t[24..28].copy_from_slice(&oem_rev.to_le_bytes());
    let sum = t.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    t[9] = 0u8.wrapping_sub(sum);
    t
}
