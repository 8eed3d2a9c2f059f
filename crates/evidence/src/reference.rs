//! References: the identity-only part of evidence, as signed into a manifest or kept as a
//! baseline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Error, Evidence, Host, Inventory, SourceReport, SourceStatus};

/// The `schema` value of a manifest payload.
pub const MANIFEST_SCHEMA: &str = "boardproof.manifest/v1";

/// What a server is expected to be: evidence without the volatile part.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// The compared inventory.
    #[serde(flatten)]
    pub inventory: Inventory,
    /// Which sources were available when the reference was made (status only).
    pub sources: Vec<SourceState>,
}

/// A source's name and status in a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceState {
    /// Which source.
    pub name: crate::Source,
    /// Status when the reference was made.
    pub status: SourceStatus,
}

impl Reference {
    /// Keeps the identity fields of `ev`.
    pub fn from_evidence(ev: &Evidence) -> Self {
        Reference {
            inventory: ev.inventory.clone(),
            sources: ev
                .sources
                .iter()
                .map(|s: &SourceReport| SourceState {
                    name: s.name,
                    status: s.status,
                })
                .collect(),
        }
    }
}

/// Who the manifest names as the host it describes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostIdentity {
    /// SMBIOS system manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// SMBIOS system product name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// SMBIOS system serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// SMBIOS system UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Host names at the time, for people.
    #[serde(default)]
    pub host: Host,
}

impl HostIdentity {
    /// The identity of the host `ev` was collected on.
    pub fn of(ev: &Evidence) -> Self {
        let sys = ev.inventory.smbios.as_ref().and_then(|s| s.system.as_ref());
        HostIdentity {
            manufacturer: sys.and_then(|s| s.manufacturer.clone()),
            product: sys.and_then(|s| s.product.clone()),
            serial: sys.and_then(|s| s.serial.clone()),
            uuid: sys.and_then(|s| s.uuid.clone()),
            host: ev.host.clone(),
        }
    }

    /// The hardware as people name it: "Dell Inc. PowerEdge R630 serial X uuid Y", or the
    /// store key when the firmware gives no SMBIOS identity.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            self.manufacturer.clone(),
            self.product.clone(),
            self.serial.as_ref().map(|s| format!("serial {s}")),
            self.uuid.as_ref().map(|u| format!("uuid {u}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            self.store_key()
        } else {
            parts.join(" ")
        }
    }

    /// A key that names this host in a store: the machine-id, else the SMBIOS UUID, else the
    /// hostname. It labels stored scans; it proves nothing.
    ///
    /// The machine-id comes first on purpose: it belongs to the installed system, not to the
    /// hardware being checked. Keyed by the SMBIOS UUID, a swapped mainboard would look like
    /// a new host and get a fresh baseline instead of findings.
    pub fn store_key(&self) -> String {
        if let Some(m) = &self.host.machine_id {
            return format!("machine-id:{m}");
        }
        if let Some(u) = &self.uuid {
            return format!("smbios-uuid:{u}");
        }
        format!(
            "hostname:{}",
            self.host.hostname.as_deref().unwrap_or("unknown")
        )
    }
}

/// Who made a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Creator {
    /// Free text given with `--creator` (defaults to user@host).
    pub name: String,
    /// Key id of the signing key (sha256 of the raw public key, hex).
    pub key_id: String,
}

/// The signed payload of a manifest (inside a DSSE envelope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// Who made it.
    pub created_by: Creator,
    /// Which host it describes.
    pub host: HostIdentity,
    /// When the evidence it was made from was collected.
    pub evidence_collected_at: String,
    /// The expected identity.
    pub reference: Reference,
}

impl Manifest {
    /// Parses a payload and checks its schema field.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|source| Error::Json {
            what: "boardproof manifest payload",
            source,
        })?;
        if m.schema != MANIFEST_SCHEMA {
            return Err(Error::Schema {
                found: m.schema,
                expected: MANIFEST_SCHEMA,
            });
        }
        Ok(m)
    }
}
