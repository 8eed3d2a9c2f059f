//! The scenario catalogue: each scenario changes exactly one thing against the golden server
//! and names the findings it must produce — and, by exclusion, every finding it must not.

use crate::machine::Machine;

/// One finding a scenario must produce: its kind, and a text its subject must contain
/// (case-insensitive; empty for any subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// Finding kind (`component-added`).
    pub kind: &'static str,
    /// Part of the subject (`1234:11e8`).
    pub subject: &'static str,
}

const fn e(kind: &'static str, subject: &'static str) -> Expect {
    Expect { kind, subject }
}

/// What a scenario changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing: the golden server booted again.
    None,
    /// Extra QEMU arguments (a device on a bus).
    Args(&'static [&'static str]),
    /// A USB stick: a read-only blank image on usb-storage with this serial.
    UsbStorage(&'static str),
    /// Another NIC model with the same MAC address.
    NicModel(&'static str),
    /// A disk's serial number (index into the golden disks).
    DiskSerial(usize, &'static str),
    /// One SMBIOS string: (type, QEMU field, value).
    Smbios(u8, &'static str, &'static str),
    /// An extra ACPI table (an SSDT with no code).
    AcpiTable,
    /// One byte of a kernel module file inside the initramfs: (module, the byte after this).
    Module(&'static str, &'static str),
    /// The IMA-measured program on the data disk changed.
    ImaFile,
    /// No TPM.
    NoTpm,
    /// One byte inside one DXE module of OVMF (its UI name), volume recompressed.
    FirmwareDxe,
}

/// One scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Stable name for `lab run`.
    pub name: &'static str,
    /// One line for people.
    pub title: &'static str,
    /// The change.
    pub change: Change,
    /// Findings it must produce; any other finding fails it.
    pub expect: &'static [Expect],
    /// Why exactly these findings (for the coverage document).
    pub why: &'static str,
}

/// The golden server rebooted (the matrix runs it several times).
pub const GOLDEN: Scenario = Scenario {
    name: "golden",
    title: "golden server rebooted",
    change: Change::None,
    expect: &[],
    why: "nothing changed: any finding is a false positive",
};

/// The catalogue, in matrix order.
pub const CATALOGUE: &[Scenario] = &[
    GOLDEN,
    Scenario {
        name: "pci-edu",
        title: "extra PCI device (QEMU edu, 1234:11e8)",
        change: Change::Args(&["-device", "edu"]),
        expect: &[e("component-added", "1234:11e8")],
        why: "a new function on the root bus; no option ROM, so no boot measurement changes",
    },
    Scenario {
        name: "pci-testdev",
        title: "extra PCI device (pci-testdev, 1b36:0005)",
        change: Change::Args(&["-device", "pci-testdev"]),
        expect: &[e("component-added", "1b36:0005")],
        why: "a new function on the root bus",
    },
    Scenario {
        name: "usb-serial",
        title: "extra USB device (FTDI serial adapter)",
        change: Change::Args(&[
            "-chardev",
            "null,id=usbser0",
            "-device",
            "usb-serial,bus=xhci.0,chardev=usbser0",
        ]),
        expect: &[e("component-added", "0403:6001")],
        why: "a new device behind the xHCI root hub",
    },
    Scenario {
        name: "usb-storage",
        title: "extra USB device (mass storage with a serial)",
        change: Change::UsbStorage("BPLAB-USB-0001"),
        expect: &[
            e("component-added", "46f4:0001"),
            e("component-added", "BPLAB-USB-0001"),
        ],
        why: "the stick is a USB device and, through usb-storage, a disk: two additions",
    },
    Scenario {
        name: "smbus-i2c-ddc",
        title: "extra chip on the SMBus (i2c-ddc at 0x5a)",
        change: Change::Args(&["-device", "i2c-ddc,address=0x5a"]),
        expect: &[e("component-added", "0x5a")],
        why: "Linux does not enumerate it (no driver declares it); only the --probe-i2c scan \
              of the ICH9 SMBus sees an address answer that did not before",
    },
    Scenario {
        name: "nic-model-swapped",
        title: "NIC model swapped (82574L → 82540EM), same MAC",
        change: Change::NicModel("e1000"),
        expect: &[
            e("component-changed", "02.0"),
            e("component-changed", "nic"),
        ],
        why: "same slot, other PCI identity; the NIC keeps its MAC but its PCI id changes",
    },
    Scenario {
        name: "disk-serial",
        title: "NVMe drive swapped (serial changed)",
        change: Change::DiskSerial(1, "PHLJ987654321"),
        expect: &[e("component-changed", "nvme")],
        why: "same controller and namespace, another serial",
    },
    Scenario {
        name: "board-serial",
        title: "baseboard serial number changed (SMBIOS type 2)",
        change: Change::Smbios(2, "serial", "OM19AS999999"),
        expect: &[e("platform-changed", "")],
        why: "an SMBIOS identity string",
    },
    Scenario {
        name: "bios-version",
        title: "BIOS version string changed (SMBIOS type 0)",
        change: Change::Smbios(0, "version", "3.5"),
        expect: &[e("platform-changed", "")],
        why: "an SMBIOS identity string",
    },
    Scenario {
        name: "acpi-table-added",
        title: "extra ACPI table (an SSDT)",
        change: Change::AcpiTable,
        expect: &[e("acpi-table-added", "SSDT")],
        why: "firmware handed the OS one more table",
    },
    Scenario {
        name: "kernel-module-modified",
        title: "one byte of a kernel module (i2c-dev.ko) changed in the initramfs",
        change: Change::Module("i2c-dev", "description="),
        expect: &[e("kernel-module-changed", "i2c_dev")],
        why: "the loaded module's file hash differs",
    },
    Scenario {
        name: "ima-file-changed",
        title: "a program measured by IMA changed (on the ext4 data disk)",
        change: Change::ImaFile,
        expect: &[e("ima-file-changed", "lab-check")],
        why: "IMA measured the program when it was executed; its digest differs",
    },
    Scenario {
        name: "tpm-removed",
        title: "TPM removed",
        change: Change::NoTpm,
        expect: &[e("source-missing", "tpm")],
        why: "the reference has a TPM; without it nothing measured can be compared",
    },
    Scenario {
        name: "ovmf-dxe-patched",
        title: "one byte patched inside one OVMF DXE module",
        change: Change::FirmwareDxe,
        expect: &[e("eventlog-event-changed", "")],
        why: "the firmware measures its DXE volume into PCR 0; one byte changes that event",
    },
];

/// The scenario of this name.
pub fn find(name: &str) -> Option<&'static Scenario> {
    CATALOGUE.iter().find(|s| s.name == name)
}

impl Scenario {
    /// Whether `findings` (kind, subject) are exactly what this scenario expects: every
    /// expectation met, and every finding accounted for by some expectation.
    pub fn judge(&self, findings: &[(String, String)]) -> Judgement {
        let matches = |x: &Expect, kind: &str, subject: &str| {
            x.kind == kind && subject.to_lowercase().contains(&x.subject.to_lowercase())
        };
        let missed: Vec<Expect> = self
            .expect
            .iter()
            .filter(|x| !findings.iter().any(|(k, s)| matches(x, k, s)))
            .copied()
            .collect();
        let unexpected: Vec<(String, String)> = findings
            .iter()
            .filter(|(k, s)| !self.expect.iter().any(|x| matches(x, k, s)))
            .cloned()
            .collect();
        Judgement { missed, unexpected }
    }

    /// Applies the change to a machine (changes that need built files are applied by the
    /// matrix, which owns them).
    pub fn apply_hardware(&self, m: &mut Machine) -> Result<(), crate::Error> {
        match self.change {
            Change::Args(args) => m.extra_args.extend(args.iter().map(|s| (*s).to_owned())),
            Change::NicModel(model) => m.nic_model = model.to_owned(),
            Change::DiskSerial(i, serial) => {
                let d = m
                    .disks
                    .get_mut(i)
                    .ok_or_else(|| crate::Error::Invalid(format!("{}: no disk {i}", self.name)))?;
                d.serial = serial.to_owned();
            }
            Change::Smbios(t, k, v) => {
                if !m.set_smbios(t, k, v) {
                    return Err(crate::Error::Invalid(format!(
                        "{}: golden SMBIOS type {t} has no field {k}",
                        self.name
                    )));
                }
            }
            Change::NoTpm => m.tpm = false,
            Change::None
            | Change::UsbStorage(_)
            | Change::AcpiTable
            | Change::Module(..)
            | Change::ImaFile
            | Change::FirmwareDxe => {}
        }
        Ok(())
    }
}

/// How observed findings compare with a scenario's expectations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// Expected findings that did not appear.
    pub missed: Vec<Expect>,
    /// Findings no expectation accounts for.
    pub unexpected: Vec<(String, String)>,
}

impl Judgement {
    /// Everything as expected.
    pub fn pass(&self) -> bool {
        self.missed.is_empty() && self.unexpected.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(k: &str, s: &str) -> (String, String) {
        (k.to_owned(), s.to_owned())
    }

    #[test]
    fn names_are_unique_and_golden_expects_nothing() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
        assert!(GOLDEN.expect.is_empty());
        assert!(CATALOGUE
            .iter()
            .filter(|s| s.name != "golden")
            .all(|s| !s.expect.is_empty()));
    }

    #[test]
    fn judge_needs_exactly_the_expected() {
        let s = find("usb-storage").expect("exists");
        assert!(s
            .judge(&[
                f("component-added", "usb 46f4:0001 at x"),
                f("component-added", "block bplab-usb-0001")
            ])
            .pass());
        let only_one = s.judge(&[f("component-added", "usb 46f4:0001")]);
        assert_eq!(only_one.missed.len(), 1);
        let extra = s.judge(&[
            f("component-added", "usb 46f4:0001"),
            f("component-added", "BPLAB-USB-0001"),
            f("platform-changed", "bios"),
        ]);
        assert_eq!(extra.unexpected, [f("platform-changed", "bios")]);
        assert!(!GOLDEN.judge(&[f("component-added", "x")]).pass());
        assert!(GOLDEN.judge(&[]).pass());
    }
}
