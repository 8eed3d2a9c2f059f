//! The documents `platform-cert show` and `platform-cert verify` print with `--json`.

use boardproof_formats::platform_cert::PlatformCert;
use schemars::JsonSchema;
use serde::Serialize;

use crate::Report;

/// `boardproof.platform-cert/v1`.
pub const PLATFORM_CERT_SCHEMA: &str = "boardproof.platform-cert/v1";
/// `boardproof.platform-cert-verify/v1`.
pub const PLATFORM_CERT_VERIFY_SCHEMA: &str = "boardproof.platform-cert-verify/v1";

/// A platform certificate decoded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlatformCertShow {
    /// [`PLATFORM_CERT_SCHEMA`].
    pub schema: String,
    /// The certificate.
    #[serde(flatten)]
    pub certificate: PlatformCert,
}

/// What `platform-cert verify` concluded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlatformCertVerify {
    /// [`PLATFORM_CERT_VERIFY_SCHEMA`].
    pub schema: String,
    /// The base certificate's file.
    pub certificate: String,
    /// `valid`, or each failure.
    pub signature: String,
    /// Subject of the CA that signed the base certificate.
    pub signed_by: Option<String>,
    /// Subjects from that signer up the chain.
    pub chain: Vec<String>,
    /// Components after the deltas.
    pub components: usize,
    /// Why a delta cannot amend the base (also findings of `report` when there is one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deltas: Vec<String>,
    /// The comparison with evidence, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}
