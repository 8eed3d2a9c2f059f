//! Replaying a log to PCR values.

use super::{algorithm_name, EventLog, EV_NO_ACTION};
use crate::error::{ErrorKind, ParseError};
use crate::tpm2::HashAlg;

/// PCR values of one bank after replaying a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    /// Algorithm.
    pub alg: u16,
    /// PCR index → value, for every PCR some event extended (in index order).
    pub pcrs: Vec<(u32, Vec<u8>)>,
    /// Why this bank could not be replayed (an algorithm boardproof cannot compute, or an
    /// event without a digest for it); `pcrs` is then empty.
    pub error: Option<String>,
}

/// Number of PCRs of a PC Client TPM.
pub const PCR_COUNT: u32 = 24;

/// `H(parts[0] || parts[1] || ...)` with the TPM algorithm `alg`, or `None` when boardproof
/// cannot compute it.
pub fn hash(alg: u16, parts: &[&[u8]]) -> Option<Vec<u8>> {
    Some(HashAlg::from_id(alg)?.hash(parts))
}

/// One extend, `H(old || digest)`; `None` for an algorithm boardproof cannot compute.
pub fn extend(alg: u16, old: &[u8], digest: &[u8]) -> Option<Vec<u8>> {
    hash(alg, &[old, digest])
}

/// What a PCR holds before any extend (PFP 3.3.4.2 and 10.4.5.3): all ones for 17-22, zeros
/// otherwise, and for PCR 0 the startup locality in the last byte when the log gives one.
pub fn initial_value(pcr: u32, size: usize, locality: Option<u8>) -> Vec<u8> {
    let mut v = vec![if (17..=22).contains(&pcr) { 0xff } else { 0 }; size];
    if pcr == 0 {
        if let (Some(l), Some(last)) = (locality, v.last_mut()) {
            *last = l;
        }
    }
    v
}

/// Whether boardproof can compute this algorithm.
pub fn can_hash(alg: u16) -> bool {
    hash(alg, &[]).is_some()
}

/// Replays the log: every event but EV_NO_ACTION extends its PCR, `new = H(old || digest)`.
/// PCRs 17-22 start as all ones, the others as zeros; PCR 0 starts with the locality in its
/// last byte when a StartupLocality event says so (PFP 10.4.5.3, 3.3.4.2).
pub fn replay(log: &EventLog<'_>) -> Result<Vec<Bank>, ParseError> {
    let locality = log.startup_locality();
    let mut banks = Vec::new();
    for a in log.algorithms() {
        let size = usize::from(a.size);
        if !can_hash(a.id) {
            banks.push(Bank {
                alg: a.id,
                pcrs: Vec::new(),
                error: Some(format!(
                    "{} cannot be computed by boardproof",
                    algorithm_name(a.id)
                )),
            });
            continue;
        }
        let mut values: Vec<Option<Vec<u8>>> = vec![None; PCR_COUNT as usize];
        let mut error = None;
        for e in &log.events {
            if e.event_type == EV_NO_ACTION {
                continue;
            }
            let Some(slot) = values.get_mut(e.pcr as usize) else {
                return Err(ParseError {
                    offset: e.offset,
                    field: "pcr index",
                    kind: ErrorKind::Invalid("PCR index beyond 23"),
                });
            };
            let Some(d) = e.digest(a.id) else {
                error = Some(format!(
                    "event {} has no {} digest",
                    e.index,
                    algorithm_name(a.id)
                ));
                break;
            };
            let old = slot
                .take()
                .unwrap_or_else(|| initial_value(e.pcr, size, locality));
            *slot = extend(a.id, &old, d);
        }
        let pcrs = if error.is_some() {
            Vec::new()
        } else {
            values
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| Some((u32::try_from(i).ok()?, v?)))
                .collect()
        };
        banks.push(Bank {
            alg: a.id,
            pcrs,
            error,
        });
    }
    Ok(banks)
}
