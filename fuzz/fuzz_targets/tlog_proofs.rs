//! The transparency log's offline checks on hostile input: a checkpoint note, a leaf, an index
//! and an inclusion proof, and a consistency proof between two notes. Every outcome is a
//! verdict or an error.
#![no_main]

use boardproof_ledger::tlog::{open_checkpoint, verify_consistency, verify_inclusion};
use libfuzzer_sys::fuzz_target;

/// The verifier key of the fuzzed checkpoints (Go's signed-note example key).
const VERIFIER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    // note | 0xff | leaf | 0xff | index (8 bytes) | proof hashes
    let mut parts = data.splitn(3, |b| *b == 0xff);
    let note = parts.next().unwrap_or_default();
    let leaf = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    let _ = open_checkpoint(note, VERIFIER);
    let n = rest
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .unwrap_or(0);
    let proof: Vec<[u8; 32]> = rest
        .get(8..)
        .unwrap_or_default()
        .chunks_exact(32)
        .take(80)
        .map(|c| c.try_into().unwrap_or([0; 32]))
        .collect();
    let _ = verify_inclusion(note, VERIFIER, leaf, n, &proof);
    let _ = verify_consistency(note, leaf, VERIFIER, &proof);
});
