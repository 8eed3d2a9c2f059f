//! Recording a verdict: an in-toto statement naming the evidence, the manifest (and the
//! policy) by digest, optionally signed, stored and appended to the store's log.

use boardproof_evidence::{Creator, Evidence, HostIdentity, Report, Verdict as V};
use boardproof_ledger::keys::PrivateKey;
use boardproof_ledger::store::{Logged, NewVerdict, Store};
use boardproof_ledger::verdict::{self, Subject, VerdictPredicate};

use crate::Error;

/// What a verdict is about and who decides it.
#[derive(Debug)]
pub struct VerdictOf<'a> {
    /// The evidence file's bytes, as judged.
    pub evidence_bytes: &'a [u8],
    /// The evidence they hold.
    pub evidence: &'a Evidence,
    /// The manifest file's bytes.
    pub manifest_bytes: &'a [u8],
    /// The trust policy's bytes, when judged under one.
    pub policy_bytes: Option<&'a [u8]>,
    /// The report.
    pub report: &'a Report,
    /// Key id of the trusted signature on the manifest.
    pub manifest_signer: &'a str,
    /// Who decides (a name).
    pub decided_by: &'a str,
    /// When (RFC 3339).
    pub decided_at: &'a str,
    /// Signs the verdict, when given.
    pub sign_key: Option<&'a PrivateKey>,
}

/// A verdict made: the statement, and its DSSE envelope when signed.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The statement's canonical JSON.
    pub payload: Vec<u8>,
    /// The signed envelope's canonical bytes.
    pub envelope: Option<Vec<u8>>,
    /// The host it is about.
    pub host_key: String,
    /// When it was decided.
    pub decided_at: String,
    /// Verified or findings.
    pub verdict: V,
    /// How many findings.
    pub findings: u64,
}

/// Builds (and signs) the verdict of `v`.
pub fn verdict(v: &VerdictOf<'_>) -> Result<Verdict, Error> {
    let host = HostIdentity::of(v.evidence);
    let host_key = host.store_key();
    let mut statement = verdict::build(
        v.evidence_bytes,
        v.manifest_bytes,
        VerdictPredicate {
            verdict: v.report.verdict,
            decided_at: v.decided_at.to_owned(),
            decided_by: Creator {
                name: v.decided_by.to_owned(),
                key_id: v.sign_key.map(|k| k.public().key_id()).unwrap_or_default(),
            },
            host,
            manifest_signed_by: v.manifest_signer.to_owned(),
            report: v.report.clone(),
        },
    );
    if let Some(p) = v.policy_bytes {
        statement
            .subject
            .push(Subject::sha256(verdict::SUBJECT_POLICY, p));
    }
    let payload = verdict::to_payload(&statement)?;
    let envelope = v.sign_key.map(|k| {
        boardproof_ledger::dsse::Envelope::sign(verdict::VERDICT_PAYLOAD_TYPE, &payload, k)
            .to_canonical_bytes()
    });
    Ok(Verdict {
        payload,
        envelope,
        host_key,
        decided_at: v.decided_at.to_owned(),
        verdict: v.report.verdict,
        findings: v.report.findings.len() as u64,
    })
}

/// Stores `v` and appends it to the store's log, in one transaction.
pub fn store(store: &mut Store, v: &Verdict) -> Result<Logged, Error> {
    Ok(store.record_verdict(&NewVerdict {
        host_key: &v.host_key,
        decided_at: &v.decided_at,
        verdict: match v.verdict {
            V::Verified => "verified",
            V::Findings => "findings",
        },
        findings: v.findings,
        statement: &v.payload,
        envelope: v.envelope.as_deref(),
    })?)
}
