//! Findings: how evidence differs from its reference. Kinds are stable strings.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The stable kind of a finding (`kind` in JSON). Scripts may match on these strings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FindingKind {
    /// A component present now that the reference does not have.
    ComponentAdded,
    /// A component of the reference that is gone.
    ComponentRemoved,
    /// Same place, different identity (a swapped part).
    ComponentChanged,
    /// SMBIOS identity (BIOS, system, board, chassis strings; any structure) changed.
    PlatformChanged,
    /// Firmware image changed.
    FirmwareChanged,
    /// A firmware module was added.
    FirmwareModuleAdded,
    /// A firmware module was removed.
    FirmwareModuleRemoved,
    /// A firmware module changed.
    FirmwareModuleChanged,
    /// A PCI device's option ROM changed, appeared or vanished (the device itself the same).
    OptionRomChanged,
    /// An ACPI table appeared.
    AcpiTableAdded,
    /// An ACPI table disappeared.
    AcpiTableRemoved,
    /// An ACPI table's bytes changed.
    AcpiTableChanged,
    /// A loaded module's file (hash or signer) differs from the reference.
    KernelModuleChanged,
    /// A loaded module the reference does not know.
    KernelModuleUnknown,
    /// A measured-boot event changed.
    EventlogEventChanged,
    /// The event log does not replay to the quoted / read PCRs.
    PcrMismatch,
    /// A TPM quote does not verify.
    QuoteInvalid,
    /// A TPM quote is not fresh.
    QuoteStale,
    /// A file measured by IMA changed.
    ImaFileChanged,
    /// A file measured by IMA is not known.
    ImaFileUnknown,
    /// The BMC and the host disagree.
    BmcInventoryMismatch,
    /// A manifest's signature does not verify.
    ManifestSignatureInvalid,
    /// A manifest signed by a key the trust policy does not allow to certify this product
    /// (or not co-signed by the vendor where the policy requires it).
    SignerNotAuthorized,
    /// A manifest made outside its signer's authorization period, or a trust policy past its
    /// validity.
    ManifestExpired,
    /// A manifest signed by a key the trust policy revoked.
    KeyRevoked,
    /// A source the reference has is missing from the evidence.
    SourceMissing,
    /// A delta (a delta platform certificate) that cannot amend the base it is given with:
    /// another base, another platform, or validity out of order.
    DeltaInvalid,
}

impl Finding {
    /// A finding with no `locus` yet: the one constructor, so that every crate builds
    /// findings the same way ([`Finding::at`] adds the pinpoint).
    pub fn new(
        kind: FindingKind,
        severity: Severity,
        subject: impl Into<String>,
        expected: Option<String>,
        observed: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            severity,
            subject: subject.into(),
            expected,
            observed,
            message: message.into(),
            locus: BTreeMap::new(),
        }
    }
}

impl FindingKind {
    /// The stable string.
    pub fn as_str(&self) -> &'static str {
        match self {
            FindingKind::ComponentAdded => "component-added",
            FindingKind::ComponentRemoved => "component-removed",
            FindingKind::ComponentChanged => "component-changed",
            FindingKind::PlatformChanged => "platform-changed",
            FindingKind::FirmwareChanged => "firmware-changed",
            FindingKind::FirmwareModuleAdded => "firmware-module-added",
            FindingKind::FirmwareModuleRemoved => "firmware-module-removed",
            FindingKind::FirmwareModuleChanged => "firmware-module-changed",
            FindingKind::OptionRomChanged => "option-rom-changed",
            FindingKind::AcpiTableAdded => "acpi-table-added",
            FindingKind::AcpiTableRemoved => "acpi-table-removed",
            FindingKind::AcpiTableChanged => "acpi-table-changed",
            FindingKind::KernelModuleChanged => "kernel-module-changed",
            FindingKind::KernelModuleUnknown => "kernel-module-unknown",
            FindingKind::EventlogEventChanged => "eventlog-event-changed",
            FindingKind::PcrMismatch => "pcr-mismatch",
            FindingKind::QuoteInvalid => "quote-invalid",
            FindingKind::QuoteStale => "quote-stale",
            FindingKind::ImaFileChanged => "ima-file-changed",
            FindingKind::ImaFileUnknown => "ima-file-unknown",
            FindingKind::BmcInventoryMismatch => "bmc-inventory-mismatch",
            FindingKind::ManifestSignatureInvalid => "manifest-signature-invalid",
            FindingKind::SignerNotAuthorized => "signer-not-authorized",
            FindingKind::ManifestExpired => "manifest-expired",
            FindingKind::KeyRevoked => "key-revoked",
            FindingKind::SourceMissing => "source-missing",
            FindingKind::DeltaInvalid => "delta-invalid",
        }
    }
}

/// How much a finding matters. Every finding, whatever its severity, makes verify exit 1.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Code or a device that can act on the system changed (a bus device, firmware, a module).
    Critical,
    /// An identity changed (a serial, a swapped part).
    High,
    /// Something that could hide a change went missing (a source, a table).
    Medium,
    /// Descriptive identity changed (strings, versions).
    Low,
}

impl Severity {
    /// The stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// One difference between evidence and reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Stable kind.
    pub kind: FindingKind,
    /// Severity.
    pub severity: Severity,
    /// What it is about (a component, a table, a module).
    pub subject: String,
    /// What the reference says (absent for an addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the evidence says (absent for a removal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// One sentence for people.
    pub message: String,
    /// Where exactly, as stable fields scripts and tests can match without parsing `subject`:
    /// `class` and `location` of a component (with its identity keys), `pcr`, `event` and
    /// `event_type` of a boot event, `image`, `guid` and `name` of a firmware module, `table`
    /// of an ACPI table, `type`, `handle` and `field` of an SMBIOS record, `source`, `module`,
    /// `path`… Which keys each kind carries is listed in docs/verify.md.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub locus: BTreeMap<String, String>,
}

impl Finding {
    /// The finding with one more `locus` field.
    #[must_use]
    pub fn at(mut self, key: &str, value: impl ToString) -> Self {
        self.locus.insert(key.to_owned(), value.to_string());
        self
    }

    /// The finding with `fields` added to its `locus`.
    #[must_use]
    pub fn at_all<'a>(
        mut self,
        fields: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Self {
        for (k, v) in fields {
            self.locus.insert(k.clone(), v.clone());
        }
        self
    }
}

/// The result of one verification, as printed by `--json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Always `boardproof.report/v1`.
    pub schema: String,
    /// `verified` (no findings) or `findings`.
    pub verdict: Verdict,
    /// What the evidence was compared with (`manifest …`, `baseline …`).
    pub reference: String,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
    /// Facts worth knowing that are not findings (e.g. a component found at a new location
    /// with the same identity, or a reference source that was not available either time).
    #[serde(default)]
    pub notes: Vec<String>,
    /// How many sources the evidence reports on (0 when the comparison does not go by
    /// source, as a platform certificate's does).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sources: u64,
    /// The evidence's sources that are not `ok`: nothing they would show was compared. A
    /// verdict is only as wide as what was seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<crate::Source>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The `schema` of a report.
pub const REPORT_SCHEMA: &str = "boardproof.report/v1";

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing differs from the reference in what was compared.
    Verified,
    /// At least one finding.
    Findings,
}

/// The `schema` of `scan --json` output.
pub const SCAN_SCHEMA: &str = "boardproof.scan/v1";

/// What a `scan` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScanAction {
    /// The host had no baseline: this scan was recorded as its first.
    BaselineRecorded,
    /// Compared with the host's baseline (and a manifest, when given).
    Compared,
    /// Compared, then recorded as the new baseline (`--accept`).
    Accepted,
}

/// What `scan` did, as printed by `scan --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanResult {
    /// Always [`SCAN_SCHEMA`].
    pub schema: String,
    /// Id of the stored scan.
    pub scan_id: i64,
    /// The key the host is stored under.
    pub host_key: String,
    /// What the scan did.
    pub action: ScanAction,
    /// The baseline compared with (absent on the first scan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_id: Option<i64>,
    /// The baseline recorded by this scan, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_baseline_id: Option<i64>,
    /// Comparison with the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_report: Option<Report>,
    /// Comparison with the signed manifest, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_report: Option<Report>,
    /// The required sources (`--require`) judged on their own, when nothing else judged
    /// them (a first scan without a manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements_report: Option<Report>,
    /// How each source ended on this scan.
    pub sources: Vec<crate::SourceReport>,
    /// Things the operator must look at that are not findings (e.g. a first scan in a store
    /// that already holds baselines of other host keys: did this host's identity change?).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
