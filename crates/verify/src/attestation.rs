//! The quote in the evidence: made by a key of a genuine TPM, fresh, and over the PCRs the
//! event log replays to. Each failed step is a finding; each step that could not be taken for
//! lack of input (no CA set, no challenge secret, no event log) is a note, never a silent pass.

use boardproof_attest::{ekcert, quote};
use boardproof_evidence::{Attestation, AttestationSecret, Evidence, FindingKind, Severity};
use boardproof_formats::eventlog::algorithm_name;
use boardproof_formats::tpm2::Public;
use sha2::{Digest, Sha256};

use crate::{finding, Outcome};

/// What the verifier brings to check a quote.
#[derive(Debug, Clone, Default)]
pub struct QuoteCheck {
    /// The secret of the challenge the agent answered (freshness and AK-to-EK binding).
    pub secret: Option<AttestationSecret>,
    /// CAs an EK certificate must chain to (the TPM vendors', or the lab's swtpm CA).
    pub ek_cas: Vec<ekcert::Certificate>,
    /// Now, seconds since the epoch (certificate validity).
    pub now: u64,
}

fn invalid(subject: &str, why: String) -> boardproof_evidence::Finding {
    finding(
        FindingKind::QuoteInvalid,
        Severity::Critical,
        subject,
        None,
        None,
        why,
    )
}

/// Checks `ev`'s quote with `check`.
pub(crate) fn check(ev: &Evidence, check: &QuoteCheck, out: &mut Outcome) {
    let Some(a) = &ev.volatile.attestation else {
        if check.secret.is_some() {
            out.findings.push(finding(
                FindingKind::QuoteStale,
                Severity::Critical,
                "TPM quote",
                Some("a quote over the challenge".into()),
                Some("no quote in the evidence".into()),
                "a challenge was issued but the evidence carries no quote: freshness and the \
                 TPM's identity cannot be shown",
            ));
        }
        return;
    };
    let Some(bytes) = decode(a, out) else { return };
    let ak = match quote::attestation_key(&bytes.ak) {
        Ok(k) => k,
        Err(e) => {
            return out
                .findings
                .push(invalid("TPM attestation key", e.to_string()))
        }
    };
    let attest = match quote::verify(&ak, &bytes.quote, &bytes.signature) {
        Ok(q) => q,
        Err(e) => return out.findings.push(invalid("TPM quote", e.to_string())),
    };
    let ek = match Public::parse_2b(&bytes.ek) {
        Ok(k) => k,
        Err(e) => {
            return out.findings.push(invalid(
                "TPM endorsement key",
                format!("EK public area: {e}"),
            ))
        }
    };
    // The EK is the TPM's identity: its certificate says a TPM vendor made it.
    if check.ek_cas.is_empty() {
        out.notes.push(
            "EK certificate not checked (no --ek-ca given): the quote is not shown to come from \
             a genuine TPM"
                .into(),
        );
    } else {
        match bytes.ek_cert.as_deref() {
            None => out.findings.push(invalid(
                "TPM endorsement key",
                "the TPM reported no EK certificate, so its EK cannot be tied to a TPM vendor"
                    .into(),
            )),
            Some(der) => match ekcert::verify(der, &ek, &check.ek_cas, check.now) {
                Ok(v) => out
                    .notes
                    .push(format!("EK certificate chains: {}", v.path.join(" <- "))),
                Err(e) => out
                    .findings
                    .push(invalid("TPM endorsement key", e.to_string())),
            },
        }
    }
    match &check.secret {
        None => out.notes.push(
            "quote freshness and the AK's binding to the EK not checked (no \
             --challenge-secret given): an old quote would pass"
                .into(),
        ),
        Some(s) => {
            let ak_name = ak.name().map(hex::encode).unwrap_or_default();
            let ek_sha = hex::encode(Sha256::digest(&bytes.ek));
            if s.ak_name != ak_name || s.ek_public_sha256 != ek_sha {
                out.findings.push(invalid(
                    "TPM attestation key",
                    "the quote's AK or EK is not the pair the challenge was made for".into(),
                ));
            } else if hex::encode(&attest.extra_data) != s.secret {
                out.findings.push(finding(
                    FindingKind::QuoteStale,
                    Severity::Critical,
                    "TPM quote",
                    Some("the challenge's secret as qualifying data".into()),
                    Some(format!("{} (other data)", hex::encode(&attest.extra_data))),
                    "the quote was not made over this challenge: an old quote replayed, or an \
                     answer to another verifier",
                ));
            }
        }
    }
    pcr_digest(ev, &attest, out);
}

struct Bytes {
    ek: Vec<u8>,
    ek_cert: Option<Vec<u8>>,
    ak: Vec<u8>,
    quote: Vec<u8>,
    signature: Vec<u8>,
}

fn decode(a: &Attestation, out: &mut Outcome) -> Option<Bytes> {
    let field = |name: &str, v: &str| {
        hex::decode(v).map_err(|e| invalid("TPM quote", format!("{name} is not hex: {e}")))
    };
    let run = || -> Result<Bytes, boardproof_evidence::Finding> {
        Ok(Bytes {
            ek: field("ek_public", &a.ek_public)?,
            ek_cert: a
                .ek_certificate
                .as_deref()
                .map(|c| field("ek_certificate", c))
                .transpose()?,
            ak: field("ak_public", &a.ak_public)?,
            quote: field("quote", &a.quote)?,
            signature: field("signature", &a.signature)?,
        })
    };
    match run() {
        Ok(b) => Some(b),
        Err(f) => {
            out.findings.push(f);
            None
        }
    }
}

/// The quoted PCR digest must equal the digest of what the event log replays to.
fn pcr_digest(ev: &Evidence, attest: &boardproof_formats::tpm2::Attest, out: &mut Outcome) {
    let Some(log) = ev.inventory.tpm.as_ref().and_then(|t| t.event_log.as_ref()) else {
        out.notes
            .push("quoted PCRs not checked against an event log: the evidence has none".into());
        return;
    };
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut shown = Vec::new();
    for sel in &attest.selection {
        let alg = algorithm_name(sel.alg);
        let size = boardproof_formats::eventlog::hash(sel.alg, &[]).map_or(0, |h| h.len());
        if sel.pcrs.iter().any(|p| *p > 9) {
            out.notes.push(format!(
                "quoted PCRs {:?} ({alg}) include run-time PCRs: the PCR digest was not checked",
                sel.pcrs
            ));
            return;
        }
        let Some(replayed) = crate::eventlog::replay_boot_pcrs(log, &alg, sel.alg, size) else {
            out.notes.push(format!(
                "the event log cannot be replayed in bank {alg}: the quoted PCR digest was not \
                 checked"
            ));
            return;
        };
        for p in &sel.pcrs {
            let v = replayed.get(p).cloned().unwrap_or_else(|| {
                boardproof_formats::eventlog::initial_value(*p, size, log.startup_locality)
            });
            values.push(v);
        }
        shown.push(format!("{alg} {:?}", sel.pcrs));
    }
    // The digest uses the signing scheme's hash; the AK here signs with SHA-256, and the
    // digest's length tells the algorithm for any other.
    let alg = match attest.pcr_digest.len() {
        20 => boardproof_formats::eventlog::ALG_SHA1,
        48 => boardproof_formats::eventlog::ALG_SHA384,
        64 => boardproof_formats::eventlog::ALG_SHA512,
        _ => boardproof_formats::eventlog::ALG_SHA256,
    };
    let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
    let want = quote::pcr_digest(alg, &refs).unwrap_or_default();
    if want != attest.pcr_digest {
        out.findings.push(finding(
            FindingKind::PcrMismatch,
            Severity::Critical,
            format!("quoted PCRs {}", shown.join(", ")),
            Some(format!("{} (the event log replayed)", hex::encode(&want))),
            Some(format!(
                "{} (signed by the TPM)",
                hex::encode(&attest.pcr_digest)
            )),
            "the event log does not replay to the PCRs the TPM signed: the log was altered, or \
             the TPM was extended outside it",
        ));
    }
}
