//! `boardproof firmware inspect --json`: the tree of one firmware image, capsule or option ROM
//! listing, as scripts read it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `schema` value of `firmware inspect --json` for an image or capsule.
pub const FIRMWARE_INSPECT_SCHEMA: &str = "boardproof.firmware-inspect/v1";

/// The whole tree of one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareTree {
    /// Always [`FIRMWARE_INSPECT_SCHEMA`].
    pub schema: String,
    /// The file read.
    pub image: String,
    /// Its size in bytes.
    pub size: usize,
    /// SHA-256 of the whole file.
    pub sha256: String,
    /// Top-level items: flash regions, volumes and gaps, or one capsule.
    pub items: Vec<TreeNode>,
}

/// One item of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TreeNode {
    /// `region`, `volume`, `file`, `section`, `variable`, `free-space`, `gap`, `capsule`,
    /// `payload` or `driver`.
    pub kind: String,
    /// What kind of region, volume, file or section (UEFIExtract's words where it has them).
    pub subtype: String,
    /// Absolute offset in the input; absent inside decompressed data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    /// Size in bytes, headers included (a variable's: its data).
    pub size: usize,
    /// A file's name GUID, a volume's file system GUID, a GUID-defined section's GUID, a
    /// variable's vendor GUID, a capsule's or payload's GUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// A file's UI name; a volume's FvName; a UI section's text; a variable's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// SHA-256 of the body (a file's data, a section's data, a volume's bytes).
    pub sha256: String,
    /// What deserves a second look: bad checksums, a deleted file or variable, non-empty free
    /// space, data that was not decoded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Items inside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TreeNode>,
}
