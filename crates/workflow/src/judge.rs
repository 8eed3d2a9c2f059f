//! Judging evidence against a trust input: a signed manifest (under one key or under a
//! vendor's trust policy), a stored baseline, a TCG platform certificate, a CoRIM, or only
//! the sources a verifier requires. Each gives one sorted [`Report`].
//!
//! Inputs come as bytes with the name errors and reports call them by, and the time as an
//! argument: what was judged is exactly what the caller read, when the caller says.

use boardproof_attest::ekcert::Certificate;
use boardproof_evidence::{
    Evidence, Finding, FindingKind, HostIdentity, Manifest, Report, Severity, Source,
};
use boardproof_formats::platform_cert::PlatformCert;
use boardproof_ledger::corim::Corim;
use boardproof_ledger::keys::PublicKey;
use boardproof_ledger::store::Baseline;
use boardproof_verify::Options;

use crate::Error;

/// An input's bytes and the name it goes by in errors and reports (a path, or "in the
/// bundle").
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// What to call it.
    pub name: &'a str,
    /// Its bytes, as read.
    pub bytes: &'a [u8],
}

/// How a manifest is trusted.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// Signed by this key.
    Key(&'a PublicKey),
    /// Signed by a manufacturer the vendor's trust policy allows for this product and date.
    Policy {
        /// The signed policy.
        policy: Input<'a>,
        /// The vendor's root key, which signed the policy.
        vendor_key: &'a PublicKey,
    },
}

/// What [`manifest`] concluded.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The report.
    pub report: Report,
    /// Key id of the trusted signature on the manifest (empty when none was trusted).
    pub signer: String,
}

/// Opens the manifest under `trust` (a policy's validity judged at `now`, RFC 3339) and
/// compares the evidence with it.
pub fn manifest(
    manifest: Input<'_>,
    trust: &Trust<'_>,
    ev: &Evidence,
    opts: &Options,
    now: &str,
) -> Result<Judged, Error> {
    let named = |source| Error::Document {
        name: manifest.name.to_owned(),
        source,
    };
    match trust {
        Trust::Key(key) => {
            let m = boardproof_ledger::manifest::open(manifest.bytes, key).map_err(named)?;
            Ok(Judged {
                report: against_manifest(&m, manifest.name, ev, opts),
                signer: m.created_by.key_id,
            })
        }
        Trust::Policy { policy, vendor_key } => {
            let pol =
                boardproof_ledger::policy::open(policy.bytes, vendor_key).map_err(|source| {
                    Error::Document {
                        name: policy.name.to_owned(),
                        source,
                    }
                })?;
            let chain = boardproof_ledger::chain::check(&pol, vendor_key, manifest.bytes, now)
                .map_err(named)?;
            let mut opts = opts.clone();
            opts.required.extend(pol.require_sources.iter().copied());
            let mut outcome = match &chain.manifest {
                Some(m) => compare(m, ev, &opts),
                None => boardproof_verify::Outcome::default(),
            };
            outcome.findings.extend(chain.findings);
            outcome.notes.splice(0..0, chain.notes);
            boardproof_verify::sort(&mut outcome);
            let under = format!(
                "under the trust policy of {} issued {} ({})",
                pol.vendor, pol.issued_at, policy.name
            );
            let (reference, signer) = match (&chain.manifest, chain.signer) {
                (Some(m), Some((who, key))) => (
                    format!(
                        "manifest {} (signed by {who} key {key}, {}) {under}",
                        manifest.name, m.created_at
                    ),
                    key,
                ),
                _ => (
                    format!("manifest {} (no trusted signature) {under}", manifest.name),
                    String::new(),
                ),
            };
            Ok(Judged {
                report: boardproof_verify::report(outcome, reference),
                signer,
            })
        }
    }
}

/// Compares evidence with a manifest already opened (`name` is what the report calls it).
pub fn against_manifest(m: &Manifest, name: &str, ev: &Evidence, opts: &Options) -> Report {
    boardproof_verify::report(
        compare(m, ev, opts),
        format!(
            "manifest {name} (signed by {} key {}, {})",
            m.created_by.name, m.created_by.key_id, m.created_at
        ),
    )
}

/// The comparison with a trusted manifest, with a note when the hardware differs.
fn compare(m: &Manifest, ev: &Evidence, opts: &Options) -> boardproof_verify::Outcome {
    let mut outcome = boardproof_verify::verify_opts(&m.reference, ev, opts);
    let here = HostIdentity::of(ev);
    // Hardware identity, not the machine-id: a factory manifest is made under another OS
    // install. A real difference also shows as platform-changed findings.
    if here.describe() != m.host.describe() {
        outcome.notes.insert(
            0,
            format!(
                "the manifest describes {}, the evidence comes from {}",
                m.host.describe(),
                here.describe()
            ),
        );
    }
    outcome
}

/// Compares evidence with the stored baseline of `host_key`.
pub fn against_baseline(b: &Baseline, host_key: &str, ev: &Evidence, opts: &Options) -> Report {
    boardproof_verify::report(
        boardproof_verify::verify_opts(&b.reference, ev, opts),
        format!(
            "baseline #{} of {} (recorded {}: {})",
            b.id, host_key, b.created_at, b.reason
        ),
    )
}

/// Judges only that the `required` sources are in the evidence (a first scan has nothing
/// else to compare with).
pub fn requirements(required: &[Source], ev: &Evidence) -> Report {
    boardproof_verify::report(
        boardproof_verify::requirements(required, ev),
        "the required sources".into(),
    )
}

/// A certificate with the name it goes by.
#[derive(Debug, Clone)]
pub struct NamedCert {
    /// What to call it (its path).
    pub name: String,
    /// The certificate.
    pub cert: PlatformCert,
}

/// What [`platform_cert`] concluded.
#[derive(Debug, Clone)]
pub struct CertJudged {
    /// Subject of the CA that signed the base certificate, when its signature verified.
    pub signer: Option<String>,
    /// Subjects from that signer up the chain.
    pub chain: Vec<String>,
    /// Each certificate whose signature or validity failed, and why.
    pub failed: Vec<String>,
    /// `delta-invalid` findings: deltas out of order or not about the base.
    pub deltas: Vec<Finding>,
    /// The components after the deltas are applied.
    pub components: Vec<boardproof_formats::platform_cert::Component>,
    /// The comparison with evidence, when evidence was given (every finding above is in it).
    pub report: Option<Report>,
}

impl CertJudged {
    /// Nothing failed and nothing differed.
    pub fn clean(&self) -> bool {
        self.failed.is_empty()
            && self.deltas.is_empty()
            && self.report.as_ref().is_none_or(|r| r.findings.is_empty())
    }
}

/// Judges a base platform certificate and its deltas against the CA `anchors` at `now`
/// (seconds since the epoch) and, given evidence, compares its components with it.
pub fn platform_cert(
    base: &NamedCert,
    deltas: &[NamedCert],
    anchors: &[Certificate],
    now: u64,
    ev: Option<&Evidence>,
) -> CertJudged {
    let mut failed = Vec::new();
    let (signer, chain) = match boardproof_attest::platform_cert::verify(&base.cert, anchors, now) {
        Ok(v) => (Some(v.signer), v.path),
        Err(e) => {
            failed.push(format!("{}: {e}", base.name));
            (None, Vec::new())
        }
    };
    for d in deltas {
        if let Err(e) = boardproof_attest::platform_cert::verify(&d.cert, anchors, now) {
            failed.push(format!("{}: {e}", d.name));
        }
    }
    let named: Vec<(String, PlatformCert)> = deltas
        .iter()
        .map(|d| (d.name.clone(), d.cert.clone()))
        .collect();
    let order = boardproof_verify::platform_cert::check_deltas(&base.cert, &named);
    let certs: Vec<PlatformCert> = deltas.iter().map(|d| d.cert.clone()).collect();
    let components = boardproof_verify::platform_cert::apply_deltas(&base.cert, &certs);
    let report = ev.map(|ev| {
        let mut out = boardproof_verify::platform_cert::compare(&base.cert, &components, ev);
        out.findings.extend(order.iter().cloned());
        out.findings.extend(failed.iter().map(|f| {
            Finding::new(
                FindingKind::ManifestSignatureInvalid,
                Severity::Critical,
                "platform certificate",
                Some("signed by a given CA, within validity".into()),
                Some(f.clone()),
                format!("the platform certificate does not verify: {f}"),
            )
        }));
        boardproof_verify::sort(&mut out);
        boardproof_verify::report(
            out,
            format!(
                "platform certificate {} (serial {})",
                base.name, base.cert.serial
            ),
        )
    });
    CertJudged {
        signer,
        chain,
        failed,
        deltas: order,
        components,
        report,
    }
}

/// Compares evidence with the reference values of a CoRIM already opened with `key`.
pub fn corim(c: &Corim, name: &str, key: &PublicKey, ev: &Evidence) -> Report {
    let mut regs: std::collections::BTreeMap<String, Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    let mut named = Vec::new();
    for m in &c.comids {
        for rt in &m.reference_values {
            for ms in &rt.measurements {
                for (i, ds) in &ms.registers {
                    regs.entry(i.clone())
                        .or_default()
                        .extend(ds.iter().cloned());
                }
                if let (Some(k), false) = (&ms.key, ms.digests.is_empty()) {
                    named.push((k.clone(), ms.digests.clone()));
                }
            }
        }
    }
    boardproof_verify::report(
        boardproof_verify::reference_values::compare(&regs, &named, ev),
        format!(
            "CoRIM {} ({name}), signed by key {}",
            c.id.as_deref().unwrap_or("-"),
            key.key_id()
        ),
    )
}
