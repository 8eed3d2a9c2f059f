//! The scenario catalogue: each scenario changes exactly one thing against the golden server
//! and names the findings it must produce — and, by exclusion, every finding it must not.

use crate::machine::Machine;

use std::collections::BTreeMap;

/// One finding a scenario must produce: its kind, and fields of its `locus` that must each be
/// exactly equal (the key `observed` stands for the finding's observed value). An expectation
/// claims exactly one finding, and every finding must be claimed by exactly one expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// Finding kind (`component-added`).
    pub kind: &'static str,
    /// `locus` fields the finding must have, with these exact values (`("vendor", "1234")`).
    pub at: &'static [(&'static str, &'static str)],
}

const fn e(kind: &'static str, at: &'static [(&'static str, &'static str)]) -> Expect {
    Expect { kind, at }
}

/// The key of an expectation field that matches the finding's observed value, not its locus.
pub const OBSERVED: &str = "observed";

impl Expect {
    /// `kind (a=1, b=2)` for tables.
    pub fn describe(&self) -> String {
        let fields: Vec<String> = self.at.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} ({})", self.kind, fields.join(", "))
    }

    fn matches(&self, f: &Seen) -> bool {
        self.kind == f.kind
            && self.at.iter().all(|(k, v)| {
                if *k == OBSERVED {
                    f.observed.as_deref() == Some(*v)
                } else {
                    f.locus.get(*k).map(String::as_str) == Some(*v)
                }
            })
    }

    /// Whether no finding can match both `self` and `other`: another kind, or one field both
    /// name with different values.
    pub fn disjoint(&self, other: &Expect) -> bool {
        self.kind != other.kind
            || self
                .at
                .iter()
                .any(|(k, v)| other.at.iter().any(|(k2, v2)| k == k2 && v != v2))
    }
}

/// A finding as the judge sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Kind.
    pub kind: String,
    /// Its `locus`.
    pub locus: BTreeMap<String, String>,
    /// Its observed value.
    pub observed: Option<String>,
    /// Its subject, for people.
    pub subject: String,
}

impl Seen {
    /// The judge's view of a finding.
    pub fn of(f: &boardproof_evidence::Finding) -> Seen {
        Seen {
            kind: f.kind.as_str().to_owned(),
            locus: f.locus.clone(),
            observed: f.observed.clone(),
            subject: f.subject.clone(),
        }
    }

    /// `kind subject {k=v, …}` for details.
    pub fn describe(&self) -> String {
        let fields: Vec<String> = self.locus.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} {} {{{}}}", self.kind, self.subject, fields.join(", "))
    }
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
            e(
                "component-added",
                &[
                    ("component", "pci"),
                    ("location", "pci0000:00/04.0"),
                    ("vendor", "1234"),
                    ("device", "11e8"),
                ],
            ),
            e("acpi-table-changed", &[("table", "DSDT")]),
        ],
        why: DSDT_NOTE,
    },
    Scenario {
        name: "pci-testdev",
        title: "extra PCI device (pci-testdev, 1b36:0005)",
        change: Change::Args(&["-device", "pci-testdev"]),
        expect: &[
            e(
                "component-added",
                &[
                    ("component", "pci"),
                    ("location", "pci0000:00/04.0"),
                    ("vendor", "1b36"),
                    ("device", "0005"),
                ],
            ),
            e("acpi-table-changed", &[("table", "DSDT")]),
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
            &[
                ("component", "usb"),
                ("location", "pci0000:00/03.0/usb480/1"),
                ("vendor", "0403"),
                ("product", "6001"),
            ],
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
                &[
                    ("component", "usb"),
                    ("location", "pci0000:00/03.0/usb5000/1"),
                    ("vendor", "46f4"),
                    ("serial", "BPLAB-USB-0001"),
                ],
            ),
            e(
                "component-added",
                &[
                    ("component", "block"),
                    ("location", "pci0000:00/03.0/sdb"),
                    ("model", "QEMU HARDDISK"),
                ],
            ),
        ],
        why: "the stick is a USB device and, through usb-storage, a disk: two additions",
    },
    Scenario {
        name: "smbus-i2c-ddc",
        title: "extra chip on the SMBus (i2c-ddc at 0x5a)",
        change: Change::Args(&["-device", "i2c-ddc,address=0x5a"]),
        expect: &[e(
            "component-added",
            &[
                ("component", "i2c"),
                ("location", "pci0000:00/1f.3/SMBus I801 adapter@0x5a"),
                ("address", "0x5a"),
                ("detected_by", "probe (read-byte)"),
            ],
        )],
        why: "Linux does not enumerate it (no driver declares it); only the --probe-i2c scan \
              of the ICH9 SMBus sees an address answer that did not before",
    },
    Scenario {
        name: "nic-model-swapped",
        title: "NIC model swapped (82574L → 82540EM), same MAC",
        change: Change::NicModel("e1000"),
        expect: &[
            e(
                "component-changed",
                &[
                    ("component", "pci"),
                    ("location", "pci0000:00/02.0"),
                    ("vendor", "8086"),
                    ("device", "100e"),
                    (
                        "changed",
                        "device,revision,serial_number,subsystem_device,subsystem_vendor",
                    ),
                ],
            ),
            e(
                "component-changed",
                &[
                    ("component", "nic"),
                    ("location", "pci0000:00/02.0/port0"),
                    ("pci_id", "8086:100e"),
                    ("permanent_mac", "ac:1f:6b:12:34:56"),
                    ("changed", "pci_id"),
                ],
            ),
            e(
                "eventlog-event-changed",
                &[
                    ("pcr", "2"),
                    ("event", "10"),
                    ("event_type", "EV_EFI_BOOT_SERVICES_DRIVER"),
                    ("change", "changed"),
                ],
            ),
        ],
        why: "same slot and MAC, other PCI identity (device, revision and subsystem differ, and \
              the 82540EM has no PCIe device serial number); the firmware loads the new card's option \
              ROM from Pci(0x2,0x0) and measures it into PCR 2: that one event changes",
    },
    Scenario {
        name: "disk-serial",
        title: "NVMe drive swapped (serial changed)",
        change: Change::DiskSerial(1, "PHLJ987654321"),
        expect: &[e(
            "component-changed",
            &[
                ("component", "block"),
                ("location", "pci0000:00/01.0/nvme0n1"),
                ("serial", "PHLJ987654321"),
                ("changed", "serial,wwn"),
            ],
        )],
        why: "same controller and namespace, another serial; QEMU's NVMe derives the \
              namespace's WWN from the serial, so that differs too",
    },
    Scenario {
        name: "board-serial",
        title: "baseboard serial number changed (SMBIOS type 2)",
        change: Change::Smbios(2, "serial", "OM19AS999999"),
        expect: &[e(
            "platform-changed",
            &[
                ("smbios_type", "2"),
                ("handle", "0x0200"),
                ("field", "serial"),
                (OBSERVED, "OM19AS999999"),
            ],
        )],
        why: "an SMBIOS identity string; OVMF does not measure SMBIOS, so only the table shows it",
    },
    Scenario {
        name: "bios-version",
        title: "BIOS version string changed (SMBIOS type 0)",
        change: Change::Smbios(0, "version", "3.5"),
        expect: &[e(
            "platform-changed",
            &[
                ("smbios_type", "0"),
                ("field", "version"),
                (OBSERVED, "3.5"),
            ],
        )],
        why: "an SMBIOS identity string (the firmware code itself is unchanged)",
    },
    Scenario {
        name: "acpi-table-added",
        title: "extra ACPI table (an SSDT)",
        change: Change::AcpiTable,
        expect: &[e(
            "acpi-table-added",
            &[("table", "SSDT"), ("oem_table_id", "IMPLANT")],
        )],
        why: "firmware handed the OS one more table",
    },
    Scenario {
        name: "kernel-module-modified",
        title: "a kernel module (i2c-dev.ko) changed in the initramfs, its signature stripped",
        change: Change::Module("i2c-dev", "description="),
        expect: &[
            e("kernel-module-changed", &[("module", "i2c_dev")]),
            e(
                "eventlog-event-changed",
                &[
                    ("pcr", "9"),
                    ("event", "23"),
                    ("event_type", "EV_EVENT_TAG"),
                    ("change", "changed"),
                ],
            ),
            e(
                "eventlog-event-changed",
                &[
                    ("pcr", "4"),
                    ("event", "11"),
                    ("event_type", "EV_EFI_BOOT_SERVICES_APPLICATION"),
                    ("change", "changed"),
                ],
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
        expect: &[e(
            "ima-file-changed",
            &[("path", "/mnt/data/bin/lab-check")],
        )],
        why: "IMA measured the program when it was executed; its digest differs",
    },
    Scenario {
        name: "tpm-removed",
        title: "TPM removed",
        change: Change::NoTpm,
        expect: &[
            e("source-missing", &[("source", "tpm")]),
            e("acpi-table-removed", &[("table", "TPM2")]),
            e("acpi-table-changed", &[("table", "DSDT")]),
            e("acpi-table-changed", &[("table", "FACP")]),
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
                &[
                    ("pcr", "0"),
                    ("event", "3"),
                    ("event_type", "EV_EFI_PLATFORM_FIRMWARE_BLOB"),
                    ("change", "changed"),
                ],
            ),
            e(
                "firmware-module-changed",
                &[
                    ("image", "flash"),
                    ("guid", "128FB770-5E79-4176-9E51-9BB268A17DD1"),
                    ("name", "PciHostBridgeDxe"),
                ],
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
            &[
                ("location", "pci0000:00/02.0"),
                ("device", "8086:10d3"),
                ("change", "changed"),
                ("images_changed", "1"),
            ],
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
            e(
                "pcr-mismatch",
                &[
                    ("check", "eventlog-replay"),
                    ("pcr", "0"),
                    ("bank", "sha256"),
                ],
            ),
            e(
                "pcr-mismatch",
                &[
                    ("check", "pcr-digest"),
                    ("pcrs", "sha256 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"),
                ],
            ),
            e(
                "eventlog-event-changed",
                &[
                    ("pcr", "0"),
                    ("event", "3"),
                    ("event_type", "EV_EFI_PLATFORM_FIRMWARE_BLOB"),
                    ("change", "changed"),
                ],
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
            &[
                ("pcr", "4"),
                ("event", "11"),
                ("event_type", "EV_EFI_BOOT_SERVICES_APPLICATION"),
                ("change", "changed"),
            ],
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
            &[
                ("pcr", "7"),
                ("event", "7"),
                ("event_type", "EV_EFI_VARIABLE_DRIVER_CONFIG"),
                ("change", "changed"),
            ],
        )],
        why: "the firmware measures each Secure Boot variable into PCR 7; the store now holds \
              the db of Debian's Microsoft-enrolled image (and no PK, so nothing is enforced \
              and the same kernel boots): exactly the db event changes",
    },
    Scenario {
        name: "quote-replayed",
        title: "the reference boot's quote sent again for a new challenge",
        change: Change::ReplayedQuote,
        expect: &[e(
            "quote-stale",
            &[("check", "freshness"), ("quote", "other-qualifying-data")],
        )],
        why: "the old quote is genuine (same TPM, valid signature, PCRs that match the log) but \
              its qualifying data is the old challenge's secret: only freshness fails",
    },
];

/// The scenario of this name.
pub fn find(name: &str) -> Option<&'static Scenario> {
    CATALOGUE.iter().find(|s| s.name == name)
}

impl Scenario {
    /// Whether `findings` are exactly what this scenario expects: every expectation claims
    /// exactly one finding, and every finding is claimed by exactly one expectation.
    pub fn judge(&self, findings: &[Seen]) -> Judgement {
        let mut j = Judgement::default();
        for x in self.expect {
            let claimed: Vec<Seen> = findings.iter().filter(|f| x.matches(f)).cloned().collect();
            match claimed.len() {
                0 => j.missed.push(*x),
                1 => {}
                _ => j.duplicate.push((*x, claimed)),
            }
        }
        for f in findings {
            let by: Vec<Expect> = self
                .expect
                .iter()
                .filter(|x| x.matches(f))
                .copied()
                .collect();
            match by.len() {
                0 => j.unexpected.push(f.clone()),
                1 => {}
                _ => j.ambiguous.push((f.clone(), by)),
            }
        }
        j
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Expected findings that did not appear.
    pub missed: Vec<Expect>,
    /// Findings no expectation accounts for.
    pub unexpected: Vec<Seen>,
    /// Expectations that more than one finding meets (a finding reported twice, or more
    /// changed than the scenario promises).
    pub duplicate: Vec<(Expect, Vec<Seen>)>,
    /// Findings more than one expectation meets (the catalogue is not exact).
    pub ambiguous: Vec<(Seen, Vec<Expect>)>,
}

impl Judgement {
    /// Everything as expected.
    pub fn pass(&self) -> bool {
        self.missed.is_empty()
            && self.unexpected.is_empty()
            && self.duplicate.is_empty()
            && self.ambiguous.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding that meets `x` exactly and has nothing else.
    fn meeting(x: &Expect) -> Seen {
        let mut locus = BTreeMap::new();
        let mut observed = None;
        for (k, v) in x.at {
            if *k == OBSERVED {
                observed = Some((*v).to_owned());
            } else {
                locus.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        Seen {
            kind: x.kind.to_owned(),
            locus,
            observed,
            subject: "s".into(),
        }
    }

    fn with(mut f: Seen, k: &str, v: &str) -> Seen {
        f.locus.insert(k.to_owned(), v.to_owned());
        f
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
    fn every_expectation_is_exact_and_no_two_can_claim_one_finding() {
        for s in CATALOGUE {
            for (i, x) in s.expect.iter().enumerate() {
                assert!(!x.at.is_empty(), "{}: {} names no field", s.name, x.kind);
                let mut keys: Vec<&str> = x.at.iter().map(|(k, _)| *k).collect();
                keys.sort_unstable();
                keys.dedup();
                assert_eq!(keys.len(), x.at.len(), "{}: a field named twice", s.name);
                for y in s.expect.iter().skip(i.saturating_add(1)) {
                    assert!(
                        x.disjoint(y),
                        "{}: {} and {} could claim the same finding",
                        s.name,
                        x.describe(),
                        y.describe()
                    );
                }
            }
            // The findings made from the expectations pass: each is claimed once.
            let all: Vec<Seen> = s.expect.iter().map(meeting).collect();
            assert!(s.judge(&all).pass(), "{}", s.name);
        }
    }

    #[test]
    fn every_single_expectation_broken_fails_its_row() {
        // Drop, duplicate, or change one value of any one expectation's finding: the row
        // must fail, whatever the scenario.
        for s in CATALOGUE.iter().filter(|s| !s.expect.is_empty()) {
            let all: Vec<Seen> = s.expect.iter().map(meeting).collect();
            for i in 0..all.len() {
                let mut dropped = all.clone();
                dropped.remove(i);
                let j = s.judge(&dropped);
                assert_eq!(j.missed.len(), 1, "{} without finding {i}", s.name);
                assert!(!j.pass());

                let mut twice = all.clone();
                twice.push(all[i].clone());
                let j = s.judge(&twice);
                assert_eq!(j.duplicate.len(), 1, "{} with finding {i} twice", s.name);
                assert!(!j.pass());

                for (k, _) in s.expect[i].at {
                    let mut changed = all.clone();
                    let f = &mut changed[i];
                    if *k == OBSERVED {
                        f.observed = Some("something else".into());
                    } else {
                        f.locus.insert((*k).to_owned(), "something else".into());
                    }
                    let j = s.judge(&changed);
                    assert!(!j.pass(), "{}: {k} changed still passes", s.name);
                    assert_eq!(j.missed.len(), 1);
                    assert_eq!(j.unexpected.len(), 1);
                }

                let mut other_kind = all.clone();
                other_kind[i].kind = "component-removed".into();
                assert!(!s.judge(&other_kind).pass());
            }
            // One more finding like the first but at another place: unexpected where the
            // expectation names the location, a second claim on it where it does not.
            let mut extra = all.clone();
            extra.push(with(meeting(&s.expect[0]), "location", "elsewhere"));
            assert!(
                !s.judge(&extra).pass(),
                "{}: an extra finding passes",
                s.name
            );
        }
    }

    #[test]
    fn event_indices_and_values_match_exactly_not_as_substrings() {
        let s = find("eventlog-tampered").expect("exists");
        let all: Vec<Seen> = s.expect.iter().map(meeting).collect();
        assert!(s.judge(&all).pass());
        // Event 30 of PCR 0 is not event 3 (the old substring match took it).
        let mut thirty = all.clone();
        thirty[2] = with(thirty[2].clone(), "event", "30");
        let j = s.judge(&thirty);
        assert_eq!(j.missed.len(), 1);
        assert_eq!(j.unexpected.len(), 1);
        // A value elsewhere (observed) holding the expected text is not the field.
        let k = find("kernel-changed").expect("exists");
        let mut a = meeting(&k.expect[0]);
        a.locus.remove("event");
        a.observed = Some("event=11 kernel".into());
        assert!(!k.judge(&[a]).pass());
        // Two changed PCR 4 events: the kernel scenario promises exactly one.
        let one = meeting(&k.expect[0]);
        let other = with(one.clone(), "event", "12");
        let j = k.judge(&[one.clone(), other]);
        assert!(!j.pass());
        assert_eq!(j.unexpected.len(), 1);
        let j = k.judge(&[one.clone(), one]);
        assert_eq!(j.duplicate.len(), 1);
    }

    #[test]
    fn golden_passes_only_with_no_finding() {
        assert!(GOLDEN.judge(&[]).pass());
        let any = Seen {
            kind: "component-added".into(),
            locus: BTreeMap::new(),
            observed: None,
            subject: "x".into(),
        };
        let j = GOLDEN.judge(&[any]);
        assert_eq!(j.unexpected.len(), 1);
        assert!(!j.pass());
    }

    #[test]
    fn overlapping_expectations_make_an_ambiguous_finding() {
        const S: Scenario = Scenario {
            name: "t",
            title: "t",
            change: Change::None,
            expect: &[
                e("acpi-table-changed", &[("table", "DSDT")]),
                e("acpi-table-changed", &[("oem_table_id", "BXPC")]),
            ],
            why: "",
        };
        assert!(!S.expect[0].disjoint(&S.expect[1]));
        let f = with(meeting(&S.expect[0]), "oem_table_id", "BXPC");
        let j = S.judge(&[f]);
        assert_eq!(j.ambiguous.len(), 1);
        assert!(!j.pass());
    }
}
