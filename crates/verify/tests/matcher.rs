//! Properties of verify that must hold for any inventory, not only the fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

mod common;

use boardproof_evidence::{Component, ComponentClass, Evidence, FindingKind, Inventory, Reference};
use common::kinds;
use proptest::prelude::*;

fn class() -> impl Strategy<Value = ComponentClass> {
    prop_oneof![
        Just(ComponentClass::Pci),
        Just(ComponentClass::Usb),
        Just(ComponentClass::Block),
        Just(ComponentClass::Dimm),
    ]
}

/// Small value spaces on purpose: duplicates, shared locations and shared identities are the
/// cases where a matcher could depend on order.
fn component() -> impl Strategy<Value = Component> {
    (class(), 0u8..4, 0u8..4, 0u8..3).prop_map(|(class, loc, id, serial)| Component {
        class,
        identity: BTreeMap::from([
            ("device".to_owned(), format!("{id:04x}")),
            ("serial".to_owned(), format!("S{serial}")),
        ]),
        location: format!("pci0000:00/{loc:02x}.0"),
        description: None,
        attributes: BTreeMap::new(),
    })
}

fn evidence(components: Vec<Component>) -> Evidence {
    common::evidence(Inventory {
        components,
        ..Inventory::default()
    })
}

proptest! {
    /// The order in which sysfs lists devices never changes the findings.
    #[test]
    fn shuffling_either_side_never_changes_findings(
        expected in proptest::collection::vec(component(), 0..24),
        observed in proptest::collection::vec(component(), 0..24),
        seed in any::<u64>(),
    ) {
        let r = Reference::from_evidence(&evidence(expected.clone()));
        let ev = evidence(observed.clone());
        let want = boardproof_verify::verify(&r, &ev);

        let mut rng = seed;
        let mut shuffle = |v: &mut Vec<Component>| {
            for i in (1..v.len()).rev() {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                v.swap(i, (rng >> 33) as usize % (i + 1));
            }
        };
        let mut e2 = expected;
        let mut o2 = observed;
        shuffle(&mut e2);
        shuffle(&mut o2);
        let got = boardproof_verify::verify(
            &Reference::from_evidence(&evidence(e2)),
            &evidence(o2),
        );
        prop_assert_eq!(want.findings, got.findings);
    }

    /// Evidence compared with a reference made from itself is always clean.
    #[test]
    fn evidence_against_itself_is_clean(
        comps in proptest::collection::vec(component(), 0..32),
    ) {
        let ev = evidence(comps);
        prop_assert!(kinds(&Reference::from_evidence(&ev), &ev).is_empty());
    }

    /// Every device counts: adding one to any inventory gives exactly one `component-added`,
    /// removing one exactly one `component-removed`, whatever else was there.
    #[test]
    fn one_device_more_or_less_is_exactly_one_finding(
        comps in proptest::collection::vec(component(), 1..32),
        extra in component(),
        gone in any::<prop::sample::Index>(),
    ) {
        let r = Reference::from_evidence(&evidence(comps.clone()));
        let mut more = comps.clone();
        more.push(extra);
        prop_assert_eq!(kinds(&r, &evidence(more)), vec![FindingKind::ComponentAdded]);

        let mut fewer = comps;
        fewer.remove(gone.index(fewer.len()));
        prop_assert_eq!(kinds(&r, &evidence(fewer)), vec![FindingKind::ComponentRemoved]);
    }
}
