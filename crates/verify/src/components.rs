//! Two-pass component matching (DESIGN.md, "Matching components").
//!
//! First exact identity and location; then identity alone (a device that moved, or whose
//! location was renumbered: reported as a note, not a finding); then same location, other
//! identity (a swapped part: `component-changed`). What is left is added or removed.
//!
//! Both sides are sorted first, so the outcome depends only on the sets compared, never on the
//! order in which sysfs listed them.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use rustc_hash::FxHasher;

use boardproof_evidence::{Component, ComponentClass, Finding, FindingKind, Severity};

use crate::Outcome;

/// How the components of two sides pair up (indices into the sides as given).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Matching {
    /// Same identity, same location.
    pub exact: Vec<(usize, usize)>,
    /// Same identity, other location.
    pub moved: Vec<(usize, usize)>,
    /// Same location, other identity.
    pub changed: Vec<(usize, usize)>,
    /// Only in the reference.
    pub removed: Vec<usize>,
    /// Only in the evidence.
    pub added: Vec<usize>,
}

type Identity<'a> = (ComponentClass, &'a BTreeMap<String, String>);

/// A cheap key for pass 1: class and location hashed. Equal components have equal keys; a
/// key match is confirmed by comparing the components in full.
fn location_key(c: &Component) -> u64 {
    let mut h = FxHasher::default();
    c.class.hash(&mut h);
    c.location.hash(&mut h);
    h.finish()
}

/// The observed components under one location key: almost always one.
enum Slot {
    One(usize),
    Many(Vec<usize>),
}

impl Slot {
    fn push(&mut self, o: usize) {
        match self {
            Slot::One(first) => *self = Slot::Many(vec![*first, o]),
            Slot::Many(v) => v.push(o),
        }
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let (one, many) = match self {
            Slot::One(o) => (Some(*o), &[][..]),
            Slot::Many(v) => (None, v.as_slice()),
        };
        one.into_iter().chain(many.iter().copied())
    }
}

/// Same class, location and identity (description and attributes are never compared).
fn same(a: &Component, b: &Component) -> bool {
    a.class == b.class && a.location == b.location && a.identity == b.identity
}

/// Sorts a subset of one side by (class, location, identity), so that passes 2 and 3 pair
/// leftovers the same way whatever order sysfs listed them in.
fn sorted(side: &[Component], mut idx: Vec<usize>) -> Vec<usize> {
    idx.sort_by(|&a, &b| {
        let (x, y) = (&side[a], &side[b]);
        (x.class, &x.location, &x.identity).cmp(&(y.class, &y.location, &y.identity))
    });
    idx
}

/// Matches `expected` against `observed`.
pub fn match_components(expected: &[Component], observed: &[Component]) -> Matching {
    let mut m = Matching {
        exact: Vec::with_capacity(expected.len().min(observed.len())),
        ..Matching::default()
    };
    let mut obs_used = vec![false; observed.len()];
    let mut exp_left: Vec<usize> = Vec::new();

    // Pass 1: identity + location. The observed side is indexed by location key (class and
    // location hashed); each expected component, in order, takes the first unused observed
    // one under its key that is fully equal. Equal components are interchangeable, so which
    // copy pairs with which does not matter, and `exact` comes out sorted by expected index.
    // This pass does almost all the work on a clean server: one hash per component, no sort.
    let mut by_location: HashMap<u64, Slot, BuildHasherDefault<FxHasher>> =
        HashMap::with_capacity_and_hasher(observed.len(), BuildHasherDefault::default());
    for (o, c) in observed.iter().enumerate() {
        by_location
            .entry(location_key(c))
            .and_modify(|s| s.push(o))
            .or_insert(Slot::One(o));
    }
    for (e, c) in expected.iter().enumerate() {
        let hit = by_location
            .get(&location_key(c))
            .and_then(|slot| slot.iter().find(|&o| !obs_used[o] && same(&observed[o], c)));
        match hit {
            Some(o) => {
                obs_used[o] = true;
                m.exact.push((e, o));
            }
            None => exp_left.push(e),
        }
    }
    if exp_left.is_empty() && m.exact.len() == observed.len() {
        return m;
    }
    let exp = sorted(expected, exp_left);
    let obs = sorted(
        observed,
        (0..observed.len()).filter(|&o| !obs_used[o]).collect(),
    );

    // Pass 2: identity alone, among what is left.
    let mut by_identity: HashMap<Identity<'_>, Vec<usize>> = HashMap::new();
    for &o in obs.iter().rev() {
        let c = &observed[o];
        by_identity
            .entry((c.class, &c.identity))
            .or_default()
            .push(o);
    }
    let mut still = Vec::new();
    for e in exp {
        let c = &expected[e];
        match by_identity
            .get_mut(&(c.class, &c.identity))
            .and_then(Vec::pop)
        {
            Some(o) => {
                obs_used[o] = true;
                m.moved.push((e, o));
            }
            None => still.push(e),
        }
    }

    // Pass 3: same location, different identity.
    let mut by_location: HashMap<(ComponentClass, &str), Vec<usize>> = HashMap::new();
    for &o in obs.iter().rev().filter(|&&o| !obs_used[o]) {
        let c = &observed[o];
        by_location
            .entry((c.class, c.location.as_str()))
            .or_default()
            .push(o);
    }
    for e in still {
        let c = &expected[e];
        match by_location
            .get_mut(&(c.class, c.location.as_str()))
            .and_then(Vec::pop)
        {
            Some(o) => {
                obs_used[o] = true;
                m.changed.push((e, o));
            }
            None => m.removed.push(e),
        }
    }
    m.added = obs.into_iter().filter(|&o| !obs_used[o]).collect();
    m
}

fn added_severity(class: ComponentClass) -> Severity {
    match class {
        // Devices that can master a bus, reach memory or talk to the host.
        ComponentClass::Pci | ComponentClass::Usb | ComponentClass::I2c => Severity::Critical,
        _ => Severity::High,
    }
}

/// Compares and records findings and notes.
pub fn compare(expected: &[Component], observed: &[Component], out: &mut Outcome) {
    let m = match_components(expected, observed);
    for (e, o) in &m.moved {
        out.notes.push(format!(
            "{} is now at {} (same identity; moved or renumbered)",
            expected[*e].label(),
            observed[*o].location
        ));
    }
    for (e, o) in &m.changed {
        let (want, got) = (&expected[*e], &observed[*o]);
        let keys: Vec<&str> = want
            .identity
            .keys()
            .chain(got.identity.keys())
            .map(String::as_str)
            .filter(|k| want.identity.get(*k) != got.identity.get(*k))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        out.findings.push(
            Finding::new(
                FindingKind::ComponentChanged,
                Severity::High,
                format!("{} {}", got.class.as_str(), got.location),
                Some(want.identity_text()),
                Some(got.identity_text()),
                format!(
                    "{} at {} has a different identity ({} {}): swapped or reprogrammed",
                    got.class.as_str(),
                    got.location,
                    keys.join(", "),
                    if keys.len() == 1 { "differs" } else { "differ" }
                ),
            )
            .at_all(&got.identity)
            .at("component", got.class.as_str())
            .at("location", &got.location)
            .at("changed", keys.join(",")),
        );
    }
    for e in &m.removed {
        let c = &expected[*e];
        out.findings.push(
            Finding::new(
                FindingKind::ComponentRemoved,
                Severity::High,
                c.label(),
                Some(c.identity_text()),
                None,
                format!("{} of the reference is missing", c.label()),
            )
            .at_all(&c.identity)
            .at("component", c.class.as_str())
            .at("location", &c.location),
        );
    }
    for o in &m.added {
        let c = &observed[*o];
        out.findings.push(
            Finding::new(
                FindingKind::ComponentAdded,
                added_severity(c.class),
                c.label(),
                None,
                Some(c.identity_text()),
                format!("{} is not in the reference", c.label()),
            )
            .at_all(&c.identity)
            .at("component", c.class.as_str())
            .at("location", &c.location),
        );
    }
}
