//! Helpers shared by the verify integration tests.

use boardproof_evidence::{
    Evidence, FindingKind, Host, Inventory, Reference, Volatile, EVIDENCE_SCHEMA,
};

/// Evidence with this inventory and nothing else.
pub fn evidence(inventory: Inventory) -> Evidence {
    Evidence {
        schema: EVIDENCE_SCHEMA.to_owned(),
        host: Host::default(),
        inventory,
        sources: Vec::new(),
        volatile: Volatile::default(),
    }
}

/// The kinds of the findings of verifying `ev` against `r`, in report order.
pub fn kinds(r: &Reference, ev: &Evidence) -> Vec<FindingKind> {
    boardproof_verify::verify(r, ev)
        .findings
        .iter()
        .map(|f| f.kind)
        .collect()
}
