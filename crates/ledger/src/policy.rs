//! Trust policies: the vendor's signed statement of which contract manufacturers may certify
//! which products, with which keys, for how long, and which keys are revoked.
//!
//! A policy is a [`Policy`] payload in a DSSE envelope of type [`POLICY_PAYLOAD_TYPE`], signed
//! by the vendor's root key. The vendor writes a [`PolicyInput`] (JSON, keys as PEM files) and
//! `policy sign` embeds the keys and signs it; to revoke a key or change who may certify what,
//! the vendor signs a new policy (the newest `issued_at` a customer holds is the one to use).
//! [`crate::chain`] checks a manifest against a policy.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;
use crate::keys::{Algorithm, PrivateKey, PublicKey};
use crate::Error;

/// DSSE payload type of a trust policy.
pub const POLICY_PAYLOAD_TYPE: &str = "application/vnd.boardproof.policy+json";
/// The `schema` of a policy payload.
pub const POLICY_SCHEMA: &str = "boardproof.policy/v1";

/// Upper bounds on what one policy may list (a policy is input from whoever sent it).
pub const MAX_MANUFACTURERS: usize = 1024;
/// See [`MAX_MANUFACTURERS`].
pub const MAX_KEYS: usize = 4096;

/// The signed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// [`POLICY_SCHEMA`].
    pub schema: String,
    /// The vendor's name.
    pub vendor: String,
    /// Key id of the vendor key that signs the policy.
    pub vendor_key_id: String,
    /// When it was issued (RFC 3339). A newer policy replaces an older one.
    pub issued_at: String,
    /// Valid until (RFC 3339): after this, manifests are judged `manifest-expired`.
    pub valid_until: String,
    /// Whether a manifest must also carry the vendor's co-signature.
    #[serde(default)]
    pub require_vendor_cosign: bool,
    /// Who may certify what.
    pub manufacturers: Vec<Authorization>,
    /// Revoked keys.
    #[serde(default)]
    pub revoked: Vec<Revocation>,
    /// Sources every verification under this policy requires (`smbios`, `tpm`, …): one
    /// that is not `ok` in the evidence is a `source-missing` finding, so that thin evidence
    /// cannot pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_sources: Vec<boardproof_evidence::Source>,
}

/// One contract manufacturer's authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// The manufacturer's name.
    pub name: String,
    /// Its signing keys.
    pub keys: Vec<PolicyKey>,
    /// The products it may certify (any one matching is enough).
    pub products: Vec<ProductPattern>,
    /// Manifests made before this are not authorized (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// Manifests made after this are not authorized (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

/// A key in a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyKey {
    /// Key id ([`PublicKey::key_id`]); checked against the key when the policy is opened.
    pub key_id: String,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// SPKI PEM.
    pub public_key: String,
}

/// SMBIOS identity patterns (`*` any run of characters, `?` one character; exact otherwise).
/// A field left out matches anything; at least one must be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPattern {
    /// SMBIOS system manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// SMBIOS system product name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// SMBIOS baseboard product name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
}

/// A revoked key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// Key id.
    pub key_id: String,
    /// When (RFC 3339).
    pub revoked_at: String,
    /// Why, for people.
    pub reason: String,
}

/// What the vendor writes: like [`Policy`], with keys as PEM file paths (relative to the input
/// file) and without the fields `policy sign` fills in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// The vendor's name.
    pub vendor: String,
    /// Valid until (RFC 3339).
    pub valid_until: String,
    /// Whether a manifest must also carry the vendor's co-signature.
    #[serde(default)]
    pub require_vendor_cosign: bool,
    /// Who may certify what.
    pub manufacturers: Vec<AuthorizationInput>,
    /// Revoked keys.
    #[serde(default)]
    pub revoked: Vec<RevocationInput>,
    /// See [`Policy::require_sources`].
    #[serde(default)]
    pub require_sources: Vec<boardproof_evidence::Source>,
}

/// [`Authorization`] as written by the vendor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationInput {
    /// Name.
    pub name: String,
    /// Public key files (SPKI PEM).
    pub keys: Vec<String>,
    /// Products.
    pub products: Vec<ProductPattern>,
    /// Valid from.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Valid until.
    #[serde(default)]
    pub valid_until: Option<String>,
}

/// [`Revocation`] as written by the vendor: a key file or a key id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationInput {
    /// Public key file.
    #[serde(default)]
    pub key: Option<String>,
    /// Or its key id.
    #[serde(default)]
    pub key_id: Option<String>,
    /// When.
    pub revoked_at: String,
    /// Why.
    pub reason: String,
}

fn invalid(why: impl Into<String>) -> Error {
    Error::Envelope(format!("trust policy: {}", why.into()))
}

/// Parses an RFC 3339 time, naming the field in the error.
pub fn parse_time(field: &str, s: &str) -> Result<time::OffsetDateTime, Error> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| invalid(format!("{field} {s:?} is not an RFC 3339 time: {e}")))
}

impl ProductPattern {
    /// Whether the identity matches every pattern given.
    pub fn matches(
        &self,
        manufacturer: Option<&str>,
        product: Option<&str>,
        board: Option<&str>,
    ) -> bool {
        let one = |pat: &Option<String>, v: Option<&str>| match pat {
            None => true,
            Some(p) => v.is_some_and(|v| wildcard(p.as_bytes(), v.as_bytes())),
        };
        one(&self.manufacturer, manufacturer)
            && one(&self.product, product)
            && one(&self.board, board)
    }

    /// For people: `manufacturer=… product=… board=…`.
    pub fn describe(&self) -> String {
        [
            self.manufacturer
                .as_ref()
                .map(|v| format!("manufacturer={v}")),
            self.product.as_ref().map(|v| format!("product={v}")),
            self.board.as_ref().map(|v| format!("board={v}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// `*` and `?` wildcards, iteratively with one backtrack point (linear in practice, never
/// exponential). Written here: the only need is this, and glob crates match paths.
fn wildcard(p: &[u8], v: &[u8]) -> bool {
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < v.len() {
        match p.get(i) {
            Some(b'*') => {
                star = Some((i, j));
                i = i.saturating_add(1);
            }
            Some(&c) if c == b'?' || Some(&c) == v.get(j) => {
                i = i.saturating_add(1);
                j = j.saturating_add(1);
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si.saturating_add(1);
                    j = sj.saturating_add(1);
                    star = Some((si, j));
                }
                None => return false,
            },
        }
    }
    p.get(i..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

impl Policy {
    /// Checks what a signature cannot: schema, times parse, keys match their ids, no empty
    /// product pattern, bounded sizes.
    pub fn check(&self) -> Result<(), Error> {
        if self.schema != POLICY_SCHEMA {
            return Err(invalid(format!(
                "schema {:?}, expected {POLICY_SCHEMA:?}",
                self.schema
            )));
        }
        parse_time("issued_at", &self.issued_at)?;
        parse_time("valid_until", &self.valid_until)?;
        if self.manufacturers.len() > MAX_MANUFACTURERS {
            return Err(invalid(format!(
                "{} manufacturers (at most {MAX_MANUFACTURERS})",
                self.manufacturers.len()
            )));
        }
        let mut keys = 0usize;
        for a in &self.manufacturers {
            keys = keys.saturating_add(a.keys.len());
            for t in [&a.valid_from, &a.valid_until].into_iter().flatten() {
                parse_time(&format!("{}: validity", a.name), t)?;
            }
            if a.products.is_empty() {
                return Err(invalid(format!("{}: no products", a.name)));
            }
            if let Some(p) = a
                .products
                .iter()
                .find(|p| p.manufacturer.is_none() && p.product.is_none() && p.board.is_none())
            {
                return Err(invalid(format!(
                    "{}: a product pattern with no field ({}) would match every server",
                    a.name,
                    p.describe()
                )));
            }
            for k in &a.keys {
                let pk = PublicKey::from_pem(&k.public_key)
                    .map_err(|e| invalid(format!("{}: key {}: {e}", a.name, k.key_id)))?;
                if pk.key_id() != k.key_id || pk.algorithm() != k.algorithm {
                    return Err(invalid(format!(
                        "{}: key id {} / {} does not belong to its public key ({} {})",
                        a.name,
                        k.key_id,
                        k.algorithm.as_str(),
                        pk.key_id(),
                        pk.algorithm().as_str()
                    )));
                }
            }
        }
        if keys > MAX_KEYS || self.revoked.len() > MAX_KEYS {
            return Err(invalid(format!("more than {MAX_KEYS} keys")));
        }
        for r in &self.revoked {
            parse_time(&format!("revocation of {}", r.key_id), &r.revoked_at)?;
        }
        Ok(())
    }
}

fn read_key(base: &Path, file: &str) -> Result<PublicKey, Error> {
    crate::keys::load_public_key(&base.join(file))
}

/// Builds the policy from the vendor's input (keys read relative to `base`).
pub fn build(
    input: &PolicyInput,
    base: &Path,
    vendor_key: &PrivateKey,
    now: &str,
) -> Result<Policy, Error> {
    let mut manufacturers = Vec::with_capacity(input.manufacturers.len().min(MAX_MANUFACTURERS));
    for a in &input.manufacturers {
        let mut keys = Vec::with_capacity(a.keys.len().min(MAX_KEYS));
        for f in &a.keys {
            let pk = read_key(base, f)?;
            keys.push(PolicyKey {
                key_id: pk.key_id(),
                algorithm: pk.algorithm(),
                public_key: pk.to_pem()?,
            });
        }
        manufacturers.push(Authorization {
            name: a.name.clone(),
            keys,
            products: a.products.clone(),
            valid_from: a.valid_from.clone(),
            valid_until: a.valid_until.clone(),
        });
    }
    let mut revoked = Vec::with_capacity(input.revoked.len().min(MAX_KEYS));
    for r in &input.revoked {
        let key_id = match (&r.key, &r.key_id) {
            (Some(f), None) => read_key(base, f)?.key_id(),
            (None, Some(id)) => id.clone(),
            _ => {
                return Err(invalid(
                    "a revocation names exactly one of `key` or `key_id`",
                ))
            }
        };
        revoked.push(Revocation {
            key_id,
            revoked_at: r.revoked_at.clone(),
            reason: r.reason.clone(),
        });
    }
    let p = Policy {
        schema: POLICY_SCHEMA.into(),
        vendor: input.vendor.clone(),
        vendor_key_id: vendor_key.public().key_id(),
        issued_at: now.to_owned(),
        valid_until: input.valid_until.clone(),
        require_vendor_cosign: input.require_vendor_cosign,
        manufacturers,
        revoked,
        require_sources: input.require_sources.clone(),
    };
    p.check()?;
    Ok(p)
}

/// Signs a policy into canonical envelope bytes.
pub fn sign(p: &Policy, key: &PrivateKey) -> Result<Vec<u8>, Error> {
    let payload = serde_json::to_vec(p).map_err(|source| Error::Encode {
        what: "policy",
        source,
    })?;
    Ok(Envelope::sign(POLICY_PAYLOAD_TYPE, &payload, key).to_canonical_bytes())
}

/// Opens a policy file's bytes: canonical envelope, the vendor's signature, payload type,
/// schema and contents. The policy must name the key that signed it.
pub fn open(bytes: &[u8], vendor: &PublicKey) -> Result<Policy, Error> {
    let env = Envelope::from_canonical_bytes(bytes)?;
    let payload = env.verify(vendor, POLICY_PAYLOAD_TYPE)?;
    let p: Policy =
        serde_json::from_slice(&payload).map_err(|e| invalid(format!("payload: {e}")))?;
    if p.vendor_key_id != vendor.key_id() {
        return Err(invalid(format!(
            "signed by {} but names vendor key {}",
            vendor.key_id(),
            p.vendor_key_id
        )));
    }
    p.check()?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        for (p, v, m) in [
            ("X11*", "X11DPi-N", true),
            ("X11*", "X12DPi", false),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*DPi*", "X11DPi-NT", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("Super Micro", "Super Micro", true),
            ("Super Micro", "super micro", false),
        ] {
            assert_eq!(wildcard(p.as_bytes(), v.as_bytes()), m, "{p} vs {v}");
        }
        // No exponential blow-up.
        let v = "a".repeat(5000);
        assert!(!wildcard(
            format!("{}b", "*a".repeat(50)).as_bytes(),
            v.as_bytes()
        ));
    }
}
