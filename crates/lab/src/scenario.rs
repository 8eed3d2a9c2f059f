//! The scenario catalogue: each scenario changes exactly one thing against the golden server
//! and names the findings it must produce — and, by exclusion, every finding it must not.

use crate::machine::Machine;

/// One finding a scenario must produce: its kind, and texts that must all appear in its
/// subject, expected or observed value (case-insensitive; none for any finding of the kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// Finding kind (`component-added`).
    pub kind: &'static str,
    /// Texts the finding must show (`vendor=1234`, `device=11e8`).
    pub shows: &'static [&'static str],
}

const fn e(kind: &'static str, shows: &'static [&'static str]) -> Expect {
    Expect { kind, shows }
}

impl Expect {
    /// `kind (a, b)` for tables.
    pub fn describe(&self) -> String {
        if self.shows.is_empty() {
            self.kind.to_owned()
        } else {
            format!("{} ({})", self.kind, self.shows.join(", "))
        }
    }

    fn matches(&self, f: &Seen) -> bool {
        let text = f.text.to_lowercase();
        self.kind == f.kind && self.shows.iter().all(|n| text.contains(&n.to_lowercase()))
    }
}

/// A finding as the judge sees it: its kind, and its subject, expected and observed values
/// as one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Kind.
    pub kind: String,
    /// Subject, expected and observed, joined.
    pub text: String,
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
    /// One byte of the NIC option ROM's legacy x86 image (which a UEFI machine never runs).
    OptionRom,
    /// One bit of the event log flipped as the guest's userspace reads it (inside the SHA-256
    /// digest of the DXE volume's event), the TPM untouched.
    TamperedLog,
    /// Bytes appended to the kernel image the firmware loads.
    KernelAppended,
    /// A Secure Boot signature database (`db`) in the variable store.
    SecureBootDb,
    /// The reference boot's quote sent again in answer to a new challenge.
    ReplayedQuote,
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

/// QEMU describes the devices present on the root bus in the DSDT it generates, so adding a
/// PCI device changes that table too. A real board's DSDT is fixed in its firmware.
const DSDT_NOTE: &str = "QEMU generates the DSDT from the devices present (a Device() per \
    populated root-bus slot), so the firmware's DSDT changes too; on a real board the DSDT is \
    fixed firmware";

/// The catalogue, in matrix order.
pub const CATALOGUE: &[Scenario] = &[
    GOLDEN,
    Scenario {
        name: "pci-edu",
        title: "extra PCI device (QEMU edu, 1234:11e8)",
        change: Change::Args(&["-device", "edu"]),
        expect: &[
            e("component-added", &["pci", "vendor=1234", "device=11e8"]),
            e("acpi-table-changed", &["DSDT"]),
        ],
        why: DSDT_NOTE,
    },
    Scenario {
        name: "pci-testdev",
        title: "extra PCI device (pci-testdev, 1b36:0005)",
        change: Change::Args(&["-device", "pci-testdev"]),
        expect: &[
            e("component-added", &["pci", "vendor=1b36", "device=0005"]),
            e("acpi-table-changed", &["DSDT"]),
        ],
        why: DSDT_NOTE,
    },
    Scenario {
        name: "usb-serial",
        title: "extra USB device (FTDI serial adapter)",
        change: Change::Args(&[
            // A backend that is open: QEMU attaches a usb-serial only once its chardev is.
            "-chardev",
            "ringbuf,id=usbser0",
            "-device",
            "usb-serial,bus=xhci.0,chardev=usbser0",
        ]),
        expect: &[e(
            "component-added",
            &["usb", "vendor=0403", "product=6001"],
        )],
        why: "a new device behind the xHCI root hub; nothing else changes",
    },
    Scenario {
        name: "usb-storage",
        title: "extra USB device (mass storage with a serial)",
        change: Change::UsbStorage("BPLAB-USB-0001"),
        expect: &[
            e(
                "component-added",
                &["usb", "vendor=46f4", "serial=BPLAB-USB-0001"],
            ),
            e("component-added", &["block", "QEMU HARDDISK"]),
        ],
        why: "the stick is a USB device and, through usb-storage, a disk: two additions",
    },
    Scenario {
        name: "smbus-i2c-ddc",
        title: "extra chip on the SMBus (i2c-ddc at 0x5a)",
        change: Change::Args(&["-device", "i2c-ddc,address=0x5a"]),
        expect: &[e("component-added", &["i2c", "address=0x5a", "probe"])],
        why: "Linux does not enumerate it (no driver declares it); only the --probe-i2c scan \
              of the ICH9 SMBus sees an address answer that did not before",
    },
    Scenario {
        name: "nic-model-swapped",
        title: "NIC model swapped (82574L → 82540EM), same MAC",
        change: Change::NicModel("e1000"),
        expect: &[
            e("component-changed", &["pci", "device=10d3", "device=100e"]),
            e(
                "component-changed",
                &["nic", "8086:100e", "permanent_mac=ac:1f:6b:12:34:56"],
            ),
            e(
                "eventlog-event-changed",
                &["PCR 2", "EV_EFI_BOOT_SERVICES_DRIVER", "Pci(0x2,0x0)"],
            ),
        ],
        why: "same slot and MAC, other PCI identity; the firmware loads the new card's option \
              ROM from Pci(0x2,0x0) and measures it into PCR 2: that one event changes",
    },
    Scenario {
        name: "disk-serial",
        title: "NVMe drive swapped (serial changed)",
        change: Change::DiskSerial(1, "PHLJ987654321"),
        expect: &[e(
            "component-changed",
            &["block", "nvme0n1", "serial=PHLJ987654321"],
        )],
        why: "same controller and namespace, another serial",
    },
    Scenario {
        name: "board-serial",
        title: "baseboard serial number changed (SMBIOS type 2)",
        change: Change::Smbios(2, "serial", "OM19AS999999"),
        expect: &[e(
            "platform-changed",
            &["Baseboard", "serial", "OM19AS999999"],
        )],
        why: "an SMBIOS identity string; OVMF does not measure SMBIOS, so only the table shows it",
    },
    Scenario {
        name: "bios-version",
        title: "BIOS version string changed (SMBIOS type 0)",
        change: Change::Smbios(0, "version", "3.5"),
        expect: &[e("platform-changed", &["BIOS", "version", "3.5"])],
        why: "an SMBIOS identity string (the firmware code itself is unchanged)",
    },
    Scenario {
        name: "acpi-table-added",
        title: "extra ACPI table (an SSDT)",
        change: Change::AcpiTable,
        expect: &[e("acpi-table-added", &["SSDT", "IMPLANT"])],
        why: "firmware handed the OS one more table",
    },
    Scenario {
        name: "kernel-module-modified",
        title: "a kernel module (i2c-dev.ko) changed in the initramfs, its signature stripped",
        change: Change::Module("i2c-dev", "description="),
        expect: &[
            e("kernel-module-changed", &["i2c_dev"]),
            e(
                "eventlog-event-changed",
                &["PCR 9", "EV_EVENT_TAG", "Linux initrd"],
            ),
            e(
                "eventlog-event-changed",
                &["PCR 4", "EV_EFI_BOOT_SERVICES_APPLICATION", "kernel"],
            ),
        ],
        why: "the loaded module's file hash and signature differ; the kernel's EFI stub \
              measures the initramfs into PCR 9 (Linux initrd), and QEMU writes the initrd's \
              size into the kernel's setup header, so the kernel image the firmware measures \
              into PCR 4 changes too (a QEMU direct-boot artifact)",
    },
    Scenario {
        name: "ima-file-changed",
        title: "a program measured by IMA changed (on the ext4 data disk)",
        change: Change::ImaFile,
        expect: &[e("ima-file-changed", &["/mnt/data/bin/lab-check"])],
        why: "IMA measured the program when it was executed; its digest differs",
    },
    Scenario {
        name: "tpm-removed",
        title: "TPM removed",
        change: Change::NoTpm,
        expect: &[
            e("source-missing", &["tpm"]),
            e("acpi-table-removed", &["TPM2"]),
            e("acpi-table-changed", &["DSDT"]),
            e("acpi-table-changed", &["FACP"]),
        ],
        why: "the reference has a TPM and nothing measured can be compared without it; the \
              firmware no longer publishes the TPM2 table nor the TPM device in the DSDT, and \
              the FADT (FACP) points at the DSDT, which moved",
    },
    Scenario {
        name: "ovmf-dxe-patched",
        title: "one byte patched inside one OVMF DXE module",
        change: Change::FirmwareDxe,
        expect: &[
            e(
                "eventlog-event-changed",
                &["PCR 0", "EV_EFI_PLATFORM_FIRMWARE_BLOB", "0x900000"],
            ),
            e(
                "firmware-module-changed",
                &["128FB770-5E79-4176-9E51-9BB268A17DD1", "PciHostBridgeDxe"],
            ),
        ],
        why: "the firmware measures its DXE volume (the blob at 0x900000, 12 MiB) into PCR 0: \
              exactly that event changes; the flash dump in the evidence names the module \
              itself (its UI name changed), not the compressed volume that carries it",
    },
    Scenario {
        name: "option-rom-patched",
        title: "one byte patched in the NIC's option ROM (its legacy x86 image)",
        change: Change::OptionRom,
        expect: &[e(
            "option-rom-changed",
            &["option ROM of pci", "(8086:10d3)", "x86 PC-AT) changed"],
        )],
        why: "the NIC (same device, same identity) carries a ROM whose legacy image differs; \
              OVMF runs only the ROM's EFI driver, which is unchanged, so nothing is measured \
              differently: only reading the ROM itself shows it",
    },
    Scenario {
        name: "eventlog-tampered",
        title: "one bit flipped in the event log userspace reads (TPM untouched)",
        change: Change::TamperedLog,
        expect: &[
            e("pcr-mismatch", &["PCR 0 (sha256)"]),
            e("pcr-mismatch", &["quoted PCRs sha256"]),
            e(
                "eventlog-event-changed",
                &["PCR 0 event 3", "EV_EFI_PLATFORM_FIRMWARE_BLOB"],
            ),
        ],
        why: "the guest bind-mounts a copy of the log with one bit flipped inside the SHA-256 \
              digest of event 3 (the DXE volume), as a rootkit hiding a measurement would: that \
              event differs from the reference, and the log no longer replays to the SHA-256 \
              PCR 0 the TPM reports (the SHA-1 bank, untouched, still does), nor to the \
              PCR digest the TPM signed in its quote",
    },
    Scenario {
        name: "kernel-changed",
        title: "the kernel image changed (4 KiB appended)",
        change: Change::KernelAppended,
        expect: &[e(
            "eventlog-event-changed",
            &["PCR 4", "EV_EFI_BOOT_SERVICES_APPLICATION", "kernel"],
        )],
        why: "the firmware hashes the whole image it loads (data after the last section \
              included) and measures it into PCR 4 as a boot application: that event changes; \
              the quote still matches the log, which is honest",
    },
    Scenario {
        name: "secureboot-db-changed",
        title: "Secure Boot variable changed (db: Microsoft's certificates enrolled)",
        change: Change::SecureBootDb,
        expect: &[e(
            "eventlog-event-changed",
            &["PCR 7", "EV_EFI_VARIABLE_DRIVER_CONFIG", "db"],
        )],
        why: "the firmware measures each Secure Boot variable into PCR 7; the store now holds \
              the db of Debian's Microsoft-enrolled image (and no PK, so nothing is enforced \
              and the same kernel boots): exactly the db event changes",
    },
    Scenario {
        name: "quote-replayed",
        title: "the reference boot's quote sent again for a new challenge",
        change: Change::ReplayedQuote,
        expect: &[e("quote-stale", &["TPM quote"])],
        why: "the old quote is genuine (same TPM, valid signature, PCRs that match the log) but \
              its qualifying data is the old challenge's secret: only freshness fails",
    },
];

/// The scenario of this name.
pub fn find(name: &str) -> Option<&'static Scenario> {
    CATALOGUE.iter().find(|s| s.name == name)
}

impl Scenario {
    /// Whether `findings` (kind, subject) are exactly what this scenario expects: every
    /// expectation met, and every finding accounted for by some expectation.
    pub fn judge(&self, findings: &[Seen]) -> Judgement {
        let missed: Vec<Expect> = self
            .expect
            .iter()
            .filter(|x| !findings.iter().any(|f| x.matches(f)))
            .copied()
            .collect();
        let unexpected: Vec<Seen> = findings
            .iter()
            .filter(|f| !self.expect.iter().any(|x| x.matches(f)))
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
            | Change::FirmwareDxe
            | Change::OptionRom
            | Change::TamperedLog
            | Change::KernelAppended
            | Change::SecureBootDb
            | Change::ReplayedQuote => {}
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
    pub unexpected: Vec<Seen>,
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

    fn f(k: &str, s: &str) -> Seen {
        Seen {
            kind: k.to_owned(),
            text: s.to_owned(),
        }
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
        let usb = f("component-added", "usb x vendor=46f4 serial=bplab-usb-0001");
        let disk = f("component-added", "block sdb model=QEMU HARDDISK");
        assert!(s.judge(&[usb.clone(), disk.clone()]).pass());
        let only_one = s.judge(std::slice::from_ref(&usb));
        assert_eq!(only_one.missed.len(), 1);
        // Every text must show: a USB device without the serial is not the stick.
        assert!(!s
            .judge(&[f("component-added", "usb vendor=46f4"), disk.clone()])
            .pass());
        let extra = s.judge(&[usb, disk, f("platform-changed", "bios")]);
        assert_eq!(extra.unexpected, [f("platform-changed", "bios")]);
        assert!(!GOLDEN.judge(&[f("component-added", "x")]).pass());
        assert!(GOLDEN.judge(&[]).pass());
    }
}
