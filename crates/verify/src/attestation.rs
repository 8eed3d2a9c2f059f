//! The quote in the evidence: made by a key of a genuine TPM, fresh, and over the PCRs the
//! event log replays to. Each failed step is a finding; each step that could not be taken for
//! lack of input (no CA set, no challenge secret, no event log) is a note, never a silent pass.

use boardproof_attest::{ekcert, quote};
use boardproof_evidence::{
    Attestation, AttestationSecret, Evidence, Finding, FindingKind, Severity,
};
use boardproof_formats::eventlog::algorithm_name;
use boardproof_formats::tpm2::HashAlg;
use boardproof_formats::tpm2::Public;
use sha2::{Digest, Sha256};

use crate::Outcome;

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

/// A `quote-invalid` finding; `check` (its `locus`) names the step that failed: `encoding`,
/// `ak`, `signature`, `ek`, `ek-certificate` or `binding`.
fn invalid(subject: &str, check: &str, why: String) -> boardproof_evidence::Finding {
    Finding::new(
        FindingKind::QuoteInvalid,
        Severity::Critical,
        subject,
        None,
        None,
        why,
    )
    .at("check", check)
}

/// Checks `ev`'s quote with `check`.
pub(crate) fn check(ev: &Evidence, check: &QuoteCheck, out: &mut Outcome) {
    let Some(a) = &ev.volatile.attestation else {
        if check.secret.is_some() {
            out.findings.push(
                Finding::new(
                    FindingKind::QuoteStale,
                    Severity::Critical,
                    "TPM quote",
                    Some("a quote over the challenge".into()),
                    Some("no quote in the evidence".into()),
                    "a challenge was issued but the evidence carries no quote: freshness and the \
                 TPM's identity cannot be shown",
                )
                .at("check", "freshness")
                .at("quote", "missing"),
            );
        }
        return;
    };
    let Some(bytes) = decode(a, out) else { return };
    let ak = match quote::attestation_key(&bytes.ak) {
        Ok(k) => k,
        Err(e) => {
            return out
                .findings
                .push(invalid("TPM attestation key", "ak", e.to_string()))
        }
    };
    let attest = match quote::verify(&ak, &bytes.quote, &bytes.signature) {
        Ok(q) => q,
        Err(e) => {
            return out
                .findings
                .push(invalid("TPM quote", "signature", e.to_string()))
        }
    };
    let ek = match Public::parse_2b(&bytes.ek) {
        Ok(k) => k,
        Err(e) => {
            return out.findings.push(invalid(
                "TPM endorsement key",
                "ek",
                format!("EK public area: {e}"),
            ))
        }
    };
    // The EK is the TPM's identity: its certificate says a TPM vendor made it.
    if check.ek_cas.is_empty() {
        out.notes.push(
            "EK certificate not checked (no EK CA was given): the quote is not shown to come \
             from a genuine TPM"
                .into(),
        );
    } else {
        match bytes.ek_cert.as_deref() {
            None => out.findings.push(invalid(
                "TPM endorsement key",
                "ek-certificate",
                "the TPM reported no EK certificate, so its EK cannot be tied to a TPM vendor"
                    .into(),
            )),
            Some(der) => match ekcert::verify(der, &ek, &check.ek_cas, check.now) {
                Ok(v) => out
                    .notes
                    .push(format!("EK certificate chains: {}", v.path.join(" <- "))),
                Err(e) => out.findings.push(invalid(
                    "TPM endorsement key",
                    "ek-certificate",
                    e.to_string(),
                )),
            },
        }
    }
    match &check.secret {
        None => out.notes.push(
            "quote freshness and the AK's binding to the EK not checked (no challenge secret \
             was given): an old quote would pass"
                .into(),
        ),
        Some(s) => {
            let ak_name = ak.name().map(hex::encode).unwrap_or_default();
            let ek_sha = hex::encode(Sha256::digest(&bytes.ek));
            if s.ak_name != ak_name || s.ek_public_sha256 != ek_sha {
                out.findings.push(invalid(
                    "TPM attestation key",
                    "binding",
                    "the quote's AK or EK is not the pair the challenge was made for".into(),
                ));
            } else if hex::encode(&attest.extra_data) != s.secret {
                out.findings.push(
                    Finding::new(
                        FindingKind::QuoteStale,
                        Severity::Critical,
                        "TPM quote",
                        Some("the challenge's secret as qualifying data".into()),
                        Some(format!("{} (other data)", hex::encode(&attest.extra_data))),
                        "the quote was not made over this challenge: an old quote replayed, or an \
                     answer to another verifier",
                    )
                    .at("check", "freshness")
                    .at("quote", "other-qualifying-data"),
                );
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
    // The error is the name of the field that is not hex, and why.
    let field = |name: &str, v: &str| hex::decode(v).map_err(|e| format!("{name} is not hex: {e}"));
    let run = || -> Result<Bytes, String> {
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
        Err(why) => {
            out.findings.push(invalid("TPM quote", "encoding", why));
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
    // Per selected PCR, the values it may hold: one for boot PCRs (the log's replay), every
    // prefix replay of the IMA list for PCR 10 (the list is read after the quote).
    let mut choices: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut shown = Vec::new();
    for sel in &attest.selection {
        let alg = algorithm_name(sel.alg);
        let size = boardproof_formats::eventlog::hash(sel.alg, &[]).map_or(0, |h| h.len());
        if sel.pcrs.iter().any(|p| *p > 10) {
            out.notes.push(format!(
                "quoted PCRs {:?} ({alg}) include run-time PCRs other than 10: the PCR digest \
                 was not checked",
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
            if *p == 10 {
                let Some(list) = &ev.inventory.ima else {
                    out.notes.push(
                        "the quote covers PCR 10 but the evidence has no IMA list: the quoted \
                         PCR digest was not checked"
                            .into(),
                    );
                    return;
                };
                let Some(values) = crate::ima::pcr10_values(list, &alg, sel.alg, size) else {
                    out.notes.push(format!(
                        "the IMA list lacks {alg} template digests: the quoted PCR digest \
                         (which covers PCR 10) was not checked"
                    ));
                    return;
                };
                choices.push(values);
                continue;
            }
            let v = replayed.get(p).cloned().unwrap_or_else(|| {
                boardproof_formats::eventlog::initial_value(*p, size, log.startup_locality)
            });
            choices.push(vec![v]);
        }
        shown.push(format!("{alg} {:?}", sel.pcrs));
    }
    // The digest uses the signing scheme's hash; the AK here signs with SHA-256, and the
    // digest's length tells the algorithm for any other.
    let alg = match attest.pcr_digest.len() {
        20 => HashAlg::Sha1,
        48 => HashAlg::Sha384,
        64 => HashAlg::Sha512,
        _ => HashAlg::Sha256,
    }
    .id();
    // Only PCR 10 has several candidates; try each (in list order) until one matches.
    let multi = choices.iter().position(|c| c.len() > 1);
    let candidates = multi.map_or(1, |i| choices.get(i).map_or(1, Vec::len));
    let mut want = Vec::new();
    for k in 0..candidates {
        let refs: Vec<&[u8]> = choices
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let pick = if Some(i) == multi { k } else { 0 };
                c.get(pick).map(Vec::as_slice)
            })
            .collect();
        want = quote::pcr_digest(alg, &refs).unwrap_or_default();
        if want == attest.pcr_digest {
            return;
        }
    }
    if want != attest.pcr_digest {
        out.findings.push(Finding::new(
            FindingKind::PcrMismatch,
            Severity::Critical,
            format!("quoted PCRs {}", shown.join(", ")),
            Some(format!(
                "{} (the event log{} replayed)",
                hex::encode(&want),
                if multi.is_some() { " and IMA list" } else { "" }
            )),
            Some(format!(
                "{} (signed by the TPM)",
                hex::encode(&attest.pcr_digest)
            )),
            "the event log (and, for PCR 10, the IMA list) does not replay to the PCRs the TPM \
             signed: a log was altered, or the TPM was extended outside it",
        )
        .at("check", "pcr-digest")
        .at("pcrs", shown.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boardproof_attest::testkey::TestKey;
    use boardproof_evidence::{EventLogDigest, ImaList, ImaMeasurement, Tpm, EVIDENCE_SCHEMA};
    use boardproof_formats::eventlog::extend;
    const ALG_SHA256: u16 = HashAlg::Sha256.id();
    use boardproof_formats::tpm2::PcrSelection;

    /// Evidence with an empty event log (PCRs 0-9 at their start values), an IMA list of two
    /// entries, and a quote by a software AK over PCRs 0-10 whose PCR 10 is `pcr10`.
    fn evidence(pcr10: &[u8], ima: bool) -> Evidence {
        let key = TestKey::new(3);
        let mut values: Vec<Vec<u8>> = (0..10).map(|_| vec![0u8; 32]).collect();
        values.push(pcr10.to_vec());
        let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        let digest = quote::pcr_digest(ALG_SHA256, &refs).unwrap();
        let sel = [PcrSelection {
            alg: ALG_SHA256,
            pcrs: (0..11).collect(),
        }];
        let (attest, sig) = key.quote(b"nonce", &sel, &digest);
        let mut ev = Evidence {
            schema: EVIDENCE_SCHEMA.into(),
            host: Default::default(),
            inventory: Default::default(),
            sources: Vec::new(),
            volatile: Default::default(),
        };
        ev.inventory.tpm = Some(Tpm {
            device: "tpm0".into(),
            version_major: None,
            event_log: Some(EventLogDigest {
                path: "log".into(),
                size: 0,
                sha256: String::new(),
                events: Vec::new(),
                startup_locality: None,
            }),
        });
        if ima {
            ev.inventory.ima = Some(ImaList {
                path: "ima".into(),
                entries: [[1u8; 32], [2u8; 32]]
                    .iter()
                    .map(|d| ImaMeasurement {
                        pcr: 10,
                        template: "ima-ng".into(),
                        digest: None,
                        name: None,
                        signed: false,
                        template_digests: [("sha256".to_owned(), hex::encode(d))].into(),
                    })
                    .collect(),
            });
        }
        ev.volatile.attestation = Some(Attestation {
            ek_public: String::new(),
            ek_certificate: None,
            ak_public: hex::encode(key.public()),
            quote: hex::encode(attest),
            signature: hex::encode(sig),
        });
        ev
    }

    fn run(ev: &Evidence) -> Outcome {
        let mut out = Outcome::default();
        pcr_digest(
            ev,
            &quote::verify(
                &quote::attestation_key(
                    &hex::decode(&ev.volatile.attestation.as_ref().unwrap().ak_public).unwrap(),
                )
                .unwrap(),
                &hex::decode(&ev.volatile.attestation.as_ref().unwrap().quote).unwrap(),
                &hex::decode(&ev.volatile.attestation.as_ref().unwrap().signature).unwrap(),
            )
            .unwrap(),
            &mut out,
        );
        out
    }

    #[test]
    fn quoted_pcr10_must_equal_a_prefix_of_the_ima_list() {
        let one = extend(ALG_SHA256, &[0; 32], &[1; 32]).unwrap();
        let two = extend(ALG_SHA256, &one, &[2; 32]).unwrap();
        // The quote saw one entry, the list read afterwards has two: fine. Both, or none: fine.
        for pcr10 in [&one, &two, &vec![0u8; 32]] {
            let out = run(&evidence(pcr10, true));
            assert!(out.findings.is_empty() && out.notes.is_empty(), "{out:?}");
        }
        // A value no prefix gives (an entry removed from the list, or PCR 10 extended outside
        // IMA): pcr-mismatch.
        let other = extend(ALG_SHA256, &[0; 32], &[2; 32]).unwrap();
        let out = run(&evidence(&other, true));
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(out.findings[0].kind, FindingKind::PcrMismatch);
        assert!(out.findings[0].subject.contains("sha256"), "{out:?}");
        // No IMA list: not checked, and the note says so.
        let out = run(&evidence(&one, false));
        assert!(out.findings.is_empty());
        assert!(out.notes[0].contains("no IMA list"), "{out:?}");
    }
}
