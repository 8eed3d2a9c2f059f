//! The documents of the commands that show one file as it is, without judging it
//! (`eventlog show|replay`, `smbios decode` with `--json`). Each has a `schema` field and a JSON
//! Schema in `schemas/` ([`crate::schemas`]), like every other document.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Smbios;

/// `boardproof.eventlog/v1`.
pub const EVENTLOG_SCHEMA: &str = "boardproof.eventlog/v1";
/// `boardproof.eventlog-replay/v1`.
pub const EVENTLOG_REPLAY_SCHEMA: &str = "boardproof.eventlog-replay/v1";
/// `boardproof.smbios/v1`.
pub const SMBIOS_SCHEMA: &str = "boardproof.smbios/v1";

/// A TCG event log, event by event (`eventlog show`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EventLogShow {
    /// [`EVENTLOG_SCHEMA`].
    pub schema: String,
    /// `sha1` (TCG 1.2 format) or `crypto-agile`.
    pub format: String,
    /// Algorithm name → digest size in bytes, as the log's Spec ID event declares them.
    pub algorithms: BTreeMap<String, u16>,
    /// The locality of TPM2_Startup, when the log has a StartupLocality event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_locality: Option<u8>,
    /// The events, in log order.
    pub events: Vec<EventLogEvent>,
}

/// One event of [`EventLogShow`].
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EventLogEvent {
    /// Its position in the log, from 0 (the Spec ID event of a crypto-agile log is 0).
    pub index: usize,
    /// Its byte offset in the file.
    pub offset: usize,
    /// The PCR it extends.
    pub pcr: u32,
    /// The event type's name (`EV_EFI_BOOT_SERVICES_APPLICATION`), or its number in hex.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event type's number.
    pub type_value: u32,
    /// Algorithm name → digest, hex.
    pub digests: BTreeMap<String, String>,
    /// Bytes of event data.
    pub data_size: usize,
    /// The event data, decoded as far as its type is known (a device path, a variable name).
    pub description: String,
}

/// The PCR values an event log replays to (`eventlog replay`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EventLogReplay {
    /// [`EVENTLOG_REPLAY_SCHEMA`].
    pub schema: String,
    /// The locality of TPM2_Startup, when the log has a StartupLocality event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_locality: Option<u8>,
    /// Algorithm name → PCR index → value (hex), for every PCR an event extended.
    pub banks: BTreeMap<String, BTreeMap<u32, String>>,
    /// Algorithm name → why that bank could not be replayed (an event without its digest).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
}

/// An SMBIOS table decoded as the evidence's `smbios` section holds it (`smbios decode`). Not
/// read back: [`Smbios`] refuses unknown fields, `schema` among them, when flattened.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SmbiosDecode {
    /// [`SMBIOS_SCHEMA`].
    pub schema: String,
    /// The table.
    #[serde(flatten)]
    pub smbios: Smbios,
}
