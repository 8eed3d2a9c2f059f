//! Evidence JSON as `verify` and `manifest create` read it: parse, reduce to a reference,
//! verify against itself (clean, but for pcr-mismatch: whether a log replays to the TPM's
//! PCRs is a property of the evidence alone) and round-trip through serde.
#![no_main]

use boardproof_evidence::{Evidence, FindingKind, Reference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ev) = Evidence::from_json(data) else {
        return;
    };
    let reference = Reference::from_evidence(&ev);
    let outcome = boardproof_verify::verify(&reference, &ev);
    let against_itself: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.kind != FindingKind::PcrMismatch)
        .collect();
    assert!(
        against_itself.is_empty(),
        "evidence differs from itself: {:?}",
        outcome.findings
    );
    let again = serde_json::to_vec(&ev).expect("serialise parsed evidence");
    let back = Evidence::from_json(&again).expect("re-read serialised evidence");
    assert_eq!(back.inventory.components, ev.inventory.components);
});
