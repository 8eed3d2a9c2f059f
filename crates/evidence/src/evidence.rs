//! One collection of evidence from one server.

use std::collections::BTreeMap;

use boardproof_formats::smbios::records;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The `schema` value of an evidence document this build writes and reads.
pub const EVIDENCE_SCHEMA: &str = "boardproof.evidence/v1";

/// Everything collected from one server in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Always [`EVIDENCE_SCHEMA`].
    pub schema: String,
    /// Which host this is (names only; not compared by verify).
    pub host: Host,
    /// Identity-bearing inventory: what verify compares.
    #[serde(flatten)]
    pub inventory: Inventory,
    /// How each source ended. A source that is not `ok` says why; it is never silently empty.
    pub sources: Vec<SourceReport>,
    /// Values that change on their own and are never compared.
    pub volatile: Volatile,
}

impl Evidence {
    /// Parses and checks the schema field.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let ev: Evidence = serde_json::from_slice(bytes).map_err(|source| Error::Json {
            what: "boardproof evidence document",
            source,
        })?;
        if ev.schema != EVIDENCE_SCHEMA {
            return Err(Error::Schema {
                found: ev.schema,
                expected: EVIDENCE_SCHEMA,
            });
        }
        Ok(ev)
    }

    /// The report for source `name`, if it ran.
    pub fn source(&self, name: crate::Source) -> Option<&SourceReport> {
        self.sources.iter().find(|s| s.name == name)
    }
}

/// How the host calls itself. Used to label and key stored scans, never as proof of identity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Kernel hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// systemd machine-id (etc/machine-id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
    /// Running kernel release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_release: Option<String>,
}

/// What verify compares: hardware and firmware identity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// The decoded SMBIOS table, when the firmware publishes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smbios: Option<Smbios>,
    /// Devices on every bus that enumerates, plus DIMMs and CPUs.
    #[serde(default)]
    pub components: Vec<Component>,
    /// Loaded kernel modules with the hash and signer of their files.
    #[serde(default)]
    pub kernel_modules: Vec<KernelModule>,
    /// ACPI tables as the kernel exposes them.
    #[serde(default)]
    pub acpi_tables: Vec<AcpiTable>,
    /// The TPM, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<Tpm>,
    /// The IMA runtime measurement list, when the kernel keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ima: Option<ImaList>,
    /// Firmware images given to collect (`--firmware`), read module by module.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firmware: Vec<FirmwareImage>,
    /// PCI option ROMs (`--option-roms`), one per device that exposes one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_roms: Vec<OptionRom>,
}

/// The expansion ROM of one PCI device: code the host firmware runs before the OS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionRom {
    /// The device's location, as its PCI component's (bridges by device.function).
    pub location: String,
    /// The device's `vendor:device` (from its config space, not the ROM).
    pub device: String,
    /// Bus address when read (not compared).
    pub address: String,
    /// Bytes read.
    pub size: u64,
    /// SHA-256 of every byte read.
    pub sha256: String,
    /// The images, in ROM order.
    pub images: Vec<OptionRomImage>,
    /// Bytes after the last image: their size, digest, and whether they are erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailing: Option<String>,
    /// Why the ROM could not be decoded (it is still hashed and compared whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One image of an option ROM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionRomImage {
    /// Offset in the ROM.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// `x86 PC-AT`, `EFI`, …
    pub code_type: String,
    /// PCIR `vendor:device`.
    pub pci_id: String,
    /// PCIR class code, hex.
    pub class_code: String,
    /// PCIR code revision.
    pub code_revision: u16,
    /// For EFI images: machine (`x64`), subsystem, and whether compressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efi: Option<String>,
    /// For EFI images: SHA-256 of the (decompressed) driver, or why it was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_sha256: Option<String>,
    /// SHA-256 of the image's bytes.
    pub sha256: String,
}

/// One firmware image (a flash dump, an OVMF CODE or VARS file, a capsule's payload) and every
/// item read from it, so that a change is named by module rather than by image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareImage {
    /// What the image is called in the reference and the evidence alike (`--firmware
    /// LABEL=PATH`; by default the file name): images are compared label by label.
    pub label: String,
    /// Where it was read from (not compared).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole image.
    pub sha256: String,
    /// Every volume, file, pad, free space and gap, in image order.
    pub items: Vec<FirmwareItem>,
}

/// One item of a firmware image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareItem {
    /// Where it sits, as a path of volume and file GUIDs (`fv:…/file:…`), an occurrence
    /// suffix `#N` telling apart items with the same GUID in one container. Items are
    /// compared by path, so a module that moves within its volume is still the same module.
    pub path: String,
    /// `volume`, `file`, `pad`, `free-space` or `gap`.
    pub kind: String,
    /// The volume's file system or the file's type (`DXE driver`, `PEIM`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// A file's name GUID; a volume's FvName (or its file system GUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// A file's UI name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Size as stored, headers included.
    pub size: u64,
    /// SHA-256 of what the item itself holds, with nested volumes left out (they are items of
    /// their own) and compressed sections taken decompressed: a changed DXE driver inside a
    /// compressed volume changes the driver's digest, not its container's. For a volume, the
    /// header; for pads, free space and gaps, the bytes.
    pub sha256: String,
    /// SHA-256 of the item's bytes as stored (a file's data, a volume's whole length).
    pub stored_sha256: String,
    /// For pads, free space and gaps: every byte is erased flash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

/// The IMA runtime measurement list: what the kernel measured (executed, mapped, read by
/// root, per policy) since boot, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImaList {
    /// Path below the collection root.
    pub path: String,
    /// The entries, in list order.
    pub entries: Vec<ImaMeasurement>,
}

/// One IMA measurement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImaMeasurement {
    /// PCR extended (10 by default).
    pub pcr: u32,
    /// Template (`ima-ng`, `ima-sig`).
    pub template: String,
    /// File digest as `algo:hex`, for templates that carry one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// File name as measured (`boot_aggregate` for the first entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The entry carries a file signature (ima-sig).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signed: bool,
    /// What the kernel extended PCR 10 with, per bank: `sha1` (from the list) and `sha256`
    /// (of the template data); all zeros in `sha1` marks a violation, extended as all ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub template_digests: BTreeMap<String, String>,
}

/// The SMBIOS table: every structure hashed, the identity-bearing types decoded.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Smbios {
    /// SMBIOS version claimed by the entry point ("3.5.0").
    pub version: String,
    /// `smbios2`, `smbios3` or `legacy-dmi`.
    pub entry_point: String,
    /// Every structure in table order.
    pub structures: Vec<SmbiosStructure>,
    /// Type 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios: Option<records::Bios>,
    /// Type 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<records::System>,
    /// Type 2.
    #[serde(default)]
    pub baseboards: Vec<Handled<records::Baseboard>>,
    /// Type 3.
    #[serde(default)]
    pub chassis: Vec<Handled<records::Chassis>>,
    /// Type 4.
    #[serde(default)]
    pub processors: Vec<Handled<records::Processor>>,
    /// Type 9.
    #[serde(default)]
    pub slots: Vec<Handled<records::Slot>>,
    /// Type 16.
    #[serde(default)]
    pub memory_arrays: Vec<Handled<records::MemoryArray>>,
    /// Type 17.
    #[serde(default)]
    pub memory_devices: Vec<Handled<records::MemoryDevice>>,
    /// Type 38.
    #[serde(default)]
    pub ipmi: Vec<Handled<records::Ipmi>>,
    /// Type 39.
    #[serde(default)]
    pub power_supplies: Vec<Handled<records::PowerSupply>>,
    /// Type 41.
    #[serde(default)]
    pub onboard_devices: Vec<Handled<records::OnboardDevice>>,
    /// Set when walking stopped at a malformed structure: what was decoded before it is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A decoded record with the handle of its structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Handled<T> {
    /// Structure handle.
    pub handle: u16,
    /// Decoded fields.
    #[serde(flatten)]
    pub record: T,
}

/// One SMBIOS structure, hashed whole (formatted area, strings and terminator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmbiosStructure {
    /// Structure type.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Handle.
    pub handle: u16,
    /// Length of the formatted area.
    pub length: u8,
    /// sha256 of the whole structure, lowercase hex.
    pub sha256: String,
}

/// Component classes. Identity keys per class are listed in docs/evidence.md.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentClass {
    /// A PCI / PCIe function.
    Pci,
    /// A USB device (hubs included).
    Usb,
    /// An I2C / SMBus client the kernel knows about.
    I2c,
    /// A physical block device.
    Block,
    /// A physical network interface.
    Nic,
    /// A CPU package.
    Cpu,
    /// A memory module (SMBIOS type 17, installed).
    Dimm,
    /// A power supply (SMBIOS type 39).
    PowerSupply,
}

impl ComponentClass {
    /// The stable name used in JSON and tables.
    pub fn as_str(&self) -> &'static str {
        match self {
            ComponentClass::Pci => "pci",
            ComponentClass::Usb => "usb",
            ComponentClass::I2c => "i2c",
            ComponentClass::Block => "block",
            ComponentClass::Nic => "nic",
            ComponentClass::Cpu => "cpu",
            ComponentClass::Dimm => "dimm",
            ComponentClass::PowerSupply => "power-supply",
        }
    }
}

/// One piece of hardware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Class.
    pub class: ComponentClass,
    /// Stable identity (IDs, serials). Compared exactly.
    pub identity: BTreeMap<String, String>,
    /// Where it sits, independent of enumeration order (e.g. the chain of PCI bridges by
    /// device.function, not bus numbers).
    pub location: String,
    /// A name for people (from pci.ids and the like); never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Facts shown to people but not compared (bus address, bound driver).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl Component {
    /// A short label for tables and messages: class, location and description.
    pub fn label(&self) -> String {
        match &self.description {
            Some(d) => format!("{} {} ({d})", self.class.as_str(), self.location),
            None => format!("{} {}", self.class.as_str(), self.location),
        }
    }

    /// The identity as one line, `key=value` pairs in key order.
    pub fn identity_text(&self) -> String {
        self.identity
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A loaded kernel module and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KernelModule {
    /// Name as in /proc/modules.
    pub name: String,
    /// Path of the module file below the collection root, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// sha256 of the file as stored (compressed files are hashed compressed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// What the file's signature trailer says.
    pub signature: ModuleSignature,
}

/// The signature state of a module file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ModuleSignature {
    /// A PKCS#7 signature names this signer.
    Signed {
        /// Issuer CN of the signing certificate (what modinfo calls `signer`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signer: Option<String>,
        /// Full issuer name.
        issuer: String,
        /// Certificate serial, hex (modinfo's `sig_key`).
        serial: String,
        /// Digest algorithm OID.
        digest_algorithm: String,
    },
    /// No signature trailer.
    Unsigned,
    /// The file could not be found or read; the module is still listed.
    FileMissing {
        /// Why.
        reason: String,
    },
    /// Compressed module; the signature inside was not inspected.
    NotInspected {
        /// Why.
        reason: String,
    },
    /// A trailer that does not parse.
    Malformed {
        /// The parse error.
        reason: String,
    },
}

/// One ACPI table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcpiTable {
    /// File name under sys/firmware/acpi/tables (e.g. `SSDT2`, `dynamic/SSDT3`).
    pub name: String,
    /// Signature from the header.
    pub signature: String,
    /// OEM ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oem_id: Option<String>,
    /// OEM table ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oem_table_id: Option<String>,
    /// OEM revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oem_revision: Option<u32>,
    /// Length in bytes.
    pub length: u32,
    /// Whether the checksum adds up (FACS has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_valid: Option<bool>,
    /// sha256 of the table (FACS: with its run-time fields zeroed).
    pub sha256: String,
}

/// The TPM as the kernel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tpm {
    /// Device name (`tpm0`).
    pub device: String,
    /// TPM major version (1 or 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_major: Option<String>,
    /// The measured-boot event log, when the kernel exposes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_log: Option<EventLogDigest>,
}

/// The measured-boot event log: its digest, and its events when it parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventLogDigest {
    /// Path below the collection root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256 of the bytes.
    pub sha256: String,
    /// Every event, in log order (empty for evidence from before event parsing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<MeasuredEvent>,
    /// The locality a StartupLocality event gives (PCR 0's starting value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_locality: Option<u8>,
}

/// One event of the measured-boot log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasuredEvent {
    /// Position in the log (0 is the first event).
    pub index: u32,
    /// PCR index.
    pub pcr: u32,
    /// Event type (`EV_EFI_PLATFORM_FIRMWARE_BLOB`; unknown types as their number).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Algorithm name → digest, lowercase hex.
    pub digests: BTreeMap<String, String>,
    /// The decoded event data for people (which blob, which image, which variable). Shown in
    /// findings; equality is judged on type and digests.
    pub description: String,
}

/// How a source ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SourceStatus {
    /// Read completely.
    Ok,
    /// Not present on this machine (with the reason).
    Unavailable,
    /// Present but could not be read or parsed (with the message).
    Error,
}

impl SourceStatus {
    /// The stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            SourceStatus::Ok => "ok",
            SourceStatus::Unavailable => "unavailable",
            SourceStatus::Error => "error",
        }
    }
}

/// The outcome of one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceReport {
    /// Which source.
    pub name: crate::Source,
    /// Outcome.
    pub status: SourceStatus,
    /// Why it is unavailable or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How many items it produced.
    pub items: u64,
    /// What it saw but did not record, and why (e.g. virtual interfaces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Values that change without any change to the server; never compared.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Volatile {
    /// When collection started (RFC 3339, UTC).
    pub collected_at: String,
    /// boardproof version that collected.
    pub collector: String,
    /// Root directory the sources read below.
    pub root: String,
    /// Seconds since boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<f64>,
    /// Kernel boot id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// Per-module run-time state from /proc/modules: `state refcount`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub module_state: BTreeMap<String, String>,
    /// SMBIOS type 1 wake-up type (changes with how the machine was powered on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake_up_type: Option<u8>,
    /// PCR values the kernel read from the TPM at collection (`sys/class/tpm/tpm0/pcr-<alg>/N`),
    /// algorithm → PCR → lowercase hex. Never compared with a reference (PCRs 10-15 change at
    /// run time); checked against the event log's replay. Not yet signed by the TPM: a quote
    /// is what proves them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tpm_pcrs: BTreeMap<String, BTreeMap<u32, String>>,
    /// A TPM quote over the verifier's challenge, when collect was given one. Volatile: the
    /// nonce, clock and counters differ every time; verify checks it instead of comparing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<crate::Attestation>,
}
