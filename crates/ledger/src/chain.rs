//! The chain of custody: vendor trust policy → contract manufacturer's manifest.
//!
//! Given a policy opened with the vendor's root key (so its contents are the vendor's), a
//! manifest is trusted only if one of its signatures verifies with a key the policy names for a
//! manufacturer allowed to certify the manifest's product at the time the manifest was made,
//! the key is not revoked, the policy is still valid, and — where the policy says so — the
//! vendor co-signed. Each way this fails is a finding with a stable kind; none is an error,
//! because each is a fact about what was presented, not a failure to read it.

use boardproof_evidence::{Finding, FindingKind, Manifest, Severity};

use crate::dsse::Envelope;
use crate::keys::PublicKey;
use crate::manifest::MANIFEST_PAYLOAD_TYPE;
use crate::policy::{parse_time, Authorization, Policy};
use crate::Error;

/// What checking a manifest against a policy found.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    /// The manifest, when a signature on it verified with a key the policy names (even if
    /// that key is not authorized for it: its comparison is still informative, and the
    /// findings below make the verdict fail).
    pub manifest: Option<Manifest>,
    /// The manufacturer and key id whose signature verified.
    pub signer: Option<(String, String)>,
    /// Chain findings.
    pub findings: Vec<Finding>,
    /// Facts for people.
    pub notes: Vec<String>,
}

/// Checks `manifest_bytes` (a manifest file) against `policy`, already opened with `vendor`,
/// at time `now` (RFC 3339). Errors only for input that cannot be read as a manifest at all.
pub fn check(
    policy: &Policy,
    vendor: &PublicKey,
    manifest_bytes: &[u8],
    now: &str,
) -> Result<ChainCheck, Error> {
    let env = Envelope::from_canonical_bytes(manifest_bytes)?;
    if env.payload_type != MANIFEST_PAYLOAD_TYPE {
        return Err(Error::PayloadType {
            found: env.payload_type.clone(),
            expected: MANIFEST_PAYLOAD_TYPE,
        });
    }
    // Read before any signature is trusted, only to learn which product it claims; nothing
    // from it is used unless a signature below verifies.
    let claimed = Manifest::from_json(&env.payload_bytes()?)?;
    let mut out = ChainCheck {
        manifest: None,
        signer: None,
        findings: Vec::new(),
        notes: Vec::new(),
    };
    let subject = format!("manifest of {}", claimed.host.describe());
    let now_t = parse_time("now", now)?;
    if parse_time("valid_until", &policy.valid_until)? < now_t {
        out.findings.push(Finding::new(
            FindingKind::ManifestExpired,
            Severity::High,
            format!("trust policy of {}", policy.vendor),
            Some(format!("valid until {}", policy.valid_until)),
            Some(format!("checked at {now}")),
            format!(
                "the trust policy of {} issued {} expired at {}: ask the vendor for a current one",
                policy.vendor, policy.issued_at, policy.valid_until
            ),
        ));
    }

    let keyids: Vec<&str> = env.signatures.iter().map(|s| s.keyid.as_str()).collect();
    for r in policy
        .revoked
        .iter()
        .filter(|r| keyids.contains(&r.key_id.as_str()))
    {
        out.findings.push(Finding::new(
            FindingKind::KeyRevoked,
            Severity::Critical,
            subject.clone(),
            None,
            Some(format!("signed by key {}", r.key_id)),
            format!(
                "signed by key {}, which {} revoked at {}: {}",
                r.key_id, policy.vendor, r.revoked_at, r.reason
            ),
        ));
    }

    // Every key of the policy that has a signature on the manifest, and whether it verifies.
    let mut verified: Option<(&Authorization, PublicKey)> = None;
    let mut named_any = false;
    for a in &policy.manufacturers {
        for k in a
            .keys
            .iter()
            .filter(|k| keyids.contains(&k.key_id.as_str()))
        {
            named_any = true;
            let pk = PublicKey::from_pem(&k.public_key)?;
            if env.signed_by(&pk)? {
                if verified.is_none() {
                    verified = Some((a, pk));
                }
            } else {
                out.findings.push(Finding::new(
                    FindingKind::ManifestSignatureInvalid,
                    Severity::Critical,
                    subject.clone(),
                    Some(format!("a valid signature by {} key {}", a.name, k.key_id)),
                    Some("a signature that does not verify".into()),
                    format!(
                        "the signature by {} key {} does not verify: the manifest was changed \
                         after it was signed, or the signature is forged",
                        a.name, k.key_id
                    ),
                ));
            }
        }
    }
    let Some((auth, pk)) = verified else {
        if !named_any {
            out.findings.push(Finding::new(
                FindingKind::SignerNotAuthorized,
                Severity::Critical,
                subject,
                Some(format!(
                    "a signature by a manufacturer the trust policy of {} names",
                    policy.vendor
                )),
                Some(format!("signed by key {}", keyids.join(", key "))),
                format!(
                    "no key that signed this manifest is in the trust policy of {} (issued {})",
                    policy.vendor, policy.issued_at
                ),
            ));
        }
        out.notes.insert(
            0,
            "the evidence was not compared: no signature on the manifest verifies with a key the \
             trust policy names"
                .into(),
        );
        return Ok(out);
    };
    let key_id = pk.key_id();
    let manifest = claimed;

    let board = manifest
        .reference
        .inventory
        .smbios
        .as_ref()
        .and_then(|s| s.baseboards.first())
        .and_then(|b| b.record.product.clone());
    let (mfr, product) = (
        manifest.host.manufacturer.as_deref(),
        manifest.host.product.as_deref(),
    );
    let identity = format!(
        "manufacturer={} product={} board={}",
        mfr.unwrap_or("(none)"),
        product.unwrap_or("(none)"),
        board.as_deref().unwrap_or("(none)")
    );
    if !auth
        .products
        .iter()
        .any(|p| p.matches(mfr, product, board.as_deref()))
    {
        out.findings.push(Finding::new(
            FindingKind::SignerNotAuthorized,
            Severity::Critical,
            subject.clone(),
            Some(
                auth.products
                    .iter()
                    .map(|p| p.describe())
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
            Some(identity.clone()),
            format!(
                "{} (key {key_id}) signed a manifest for {identity}, which the trust policy of {} \
                 does not allow it to certify{}",
                auth.name,
                policy.vendor,
                if mfr.is_none() && product.is_none() && board.is_none() {
                    " (the manifest holds no SMBIOS identity, so no product pattern can match it)"
                } else {
                    ""
                }
            ),
        ));
    }
    let made = parse_time("manifest created_at", &manifest.created_at)?;
    let from = auth
        .valid_from
        .as_deref()
        .map(|t| parse_time("valid_from", t))
        .transpose()?;
    let until = auth
        .valid_until
        .as_deref()
        .map(|t| parse_time("valid_until", t))
        .transpose()?;
    if from.is_some_and(|f| made < f) || until.is_some_and(|u| made > u) {
        out.findings.push(Finding::new(
            FindingKind::ManifestExpired,
            Severity::High,
            subject.clone(),
            Some(format!(
                "made between {} and {}",
                auth.valid_from.as_deref().unwrap_or("(any time)"),
                auth.valid_until.as_deref().unwrap_or("(any time)")
            )),
            Some(format!("made {}", manifest.created_at)),
            format!(
                "{} was authorized to certify from {} to {}, but the manifest says it was made {}",
                auth.name,
                auth.valid_from.as_deref().unwrap_or("(any time)"),
                auth.valid_until.as_deref().unwrap_or("(any time)"),
                manifest.created_at
            ),
        ));
    }
    if policy.require_vendor_cosign && !env.signed_by(vendor)? {
        out.findings.push(Finding::new(
            FindingKind::SignerNotAuthorized,
            Severity::Critical,
            subject.clone(),
            Some(format!(
                "co-signed by {} key {}",
                policy.vendor,
                vendor.key_id()
            )),
            Some("no valid vendor signature".into()),
            format!(
                "the trust policy of {} requires the vendor's co-signature on every manifest; \
                 this one has none that verifies",
                policy.vendor
            ),
        ));
    }
    if manifest.created_by.key_id != key_id {
        out.notes.push(format!(
            "the manifest says it was made with key {}, but the authorized signature is by key {key_id}",
            manifest.created_by.key_id
        ));
    }
    out.notes.push(format!(
        "manifest signed by {} (key {key_id}, {}) under the trust policy of {} issued {}",
        auth.name,
        pk.algorithm().as_str(),
        policy.vendor,
        policy.issued_at
    ));
    out.signer = Some((auth.name.clone(), key_id));
    out.manifest = Some(manifest);
    Ok(out)
}
