//! PCI option ROMs compared device by device.
//!
//! A ROM is compared only where the device itself is the same in the reference and the
//! evidence (same location, same identity): the ROM of an added, removed or swapped device is
//! explained by that component's own finding, and reporting it again would claim two changes
//! where there is one. Such ROMs are named in a note.

use std::collections::BTreeMap;

use boardproof_evidence::{
    Component, ComponentClass, Finding, FindingKind, OptionRom, OptionRomImage, Severity,
};

use crate::{by_occurrence, Outcome};

/// Compares the option ROMs of `want` and `got`, given both sides' components.
pub fn compare(
    want: &[OptionRom],
    got: &[OptionRom],
    want_components: &[Component],
    got_components: &[Component],
    out: &mut Outcome,
) {
    // Most evidence has no ROMs (collect --option-roms is opt-in): nothing to index then.
    // Building these maps for every verify, with identities as joined text, once made a
    // 200-component verify 9x slower (150 µs, docs/performance.md).
    if want.is_empty() && got.is_empty() {
        return;
    }
    let (wc, gc) = (
        pci_identities(want_components),
        pci_identities(got_components),
    );
    let same_device = |loc: &str| wc.get(loc).is_some_and(|w| gc.get(loc) == Some(w));
    let w = by_occurrence(want, |r| r.location.as_str());
    let g = by_occurrence(got, |r| r.location.as_str());
    let mut skipped = Vec::new();
    for key in w
        .keys()
        .chain(g.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let loc = key.0;
        let (a, b) = (w.get(key).copied(), g.get(key).copied());
        if !same_device(loc) {
            skipped.push(loc);
            continue;
        }
        let device = a.or(b).map_or("?", |r| r.device.as_str());
        let subject = format!("option ROM of pci {loc} ({device})");
        match (a, b) {
            (Some(a), Some(b)) if a.sha256 != b.sha256 => {
                let what = what_differs(a, b);
                out.findings.push(
                    Finding::new(
                        FindingKind::OptionRomChanged,
                        Severity::Critical,
                        subject,
                        Some(summary(a)),
                        Some(format!("{} ({what})", summary(b))),
                        format!(
                            "the option ROM of PCI device {device} at {loc} differs from the \
                         reference: {what}"
                        ),
                    )
                    .at("location", loc)
                    .at("device", device)
                    .at("change", "changed")
                    .at("images_changed", images_changed(a, b)),
                )
            }
            (Some(a), None) => out.findings.push(
                Finding::new(
                    FindingKind::OptionRomChanged,
                    Severity::Critical,
                    subject,
                    Some(summary(a)),
                    None,
                    format!(
                        "PCI device {device} at {loc} no longer exposes the option ROM the \
                     reference has"
                    ),
                )
                .at("location", loc)
                .at("device", device)
                .at("change", "removed"),
            ),
            (None, Some(b)) => out.findings.push(
                Finding::new(
                    FindingKind::OptionRomChanged,
                    Severity::Critical,
                    subject,
                    None,
                    Some(summary(b)),
                    format!(
                    "PCI device {device} at {loc} exposes an option ROM the reference does not \
                     have"
                ),
                )
                .at("location", loc)
                .at("device", device)
                .at("change", "added"),
            ),
            _ => {}
        }
    }
    skipped.dedup();
    let skipped: Vec<&str> = skipped
        .into_iter()
        .filter(|loc| {
            // Only ROMs that differ or exist on one side are worth a note.
            let key = |m: &BTreeMap<(&str, usize), &OptionRom>| {
                m.iter()
                    .filter(|((l, _), _)| l == loc)
                    .map(|(_, r)| r.sha256.clone())
                    .collect::<Vec<_>>()
            };
            key(&w) != key(&g)
        })
        .collect();
    if !skipped.is_empty() {
        out.notes.push(format!(
            "option ROMs of devices that were added, removed or swapped are not compared (the \
             component findings cover them): {}",
            skipped.join(", ")
        ));
    }
}

/// Location → identity of the PCI functions of one side.
fn pci_identities(side: &[Component]) -> BTreeMap<&str, &BTreeMap<String, String>> {
    side.iter()
        .filter(|c| c.class == ComponentClass::Pci)
        .map(|c| (c.location.as_str(), &c.identity))
        .collect()
}

fn summary(r: &OptionRom) -> String {
    let kinds: Vec<String> = r.images.iter().map(|i| i.code_type.clone()).collect();
    format!(
        "sha256={} size={} images=[{}]",
        r.sha256,
        r.size,
        kinds.join(", ")
    )
}

fn image_label(i: &OptionRomImage, n: usize) -> String {
    match &i.efi {
        Some(e) => format!("image {n} ({} {e})", i.code_type),
        None => format!("image {n} ({})", i.code_type),
    }
}

/// The numbers (from 1) of the images whose bytes differ, comma-separated; images only one
/// side has count as differing.
fn images_changed(a: &OptionRom, b: &OptionRom) -> String {
    let n = a.images.len().max(b.images.len());
    (0..n)
        .filter(|&i| a.images.get(i).map(|x| &x.sha256) != b.images.get(i).map(|y| &y.sha256))
        .map(|i| i.saturating_add(1).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Which images (or the trailing bytes) changed, in words.
fn what_differs(a: &OptionRom, b: &OptionRom) -> String {
    let mut parts = Vec::new();
    for (n, (x, y)) in a.images.iter().zip(&b.images).enumerate() {
        if x.sha256 != y.sha256 {
            let mut s = format!("{} changed", image_label(y, n.saturating_add(1)));
            if x.driver_sha256.is_some() && x.driver_sha256 != y.driver_sha256 {
                s.push_str(", its EFI driver too");
            } else if x.driver_sha256.is_some() {
                s.push_str(", its EFI driver decodes the same");
            }
            parts.push(s);
        }
    }
    if a.images.len() != b.images.len() {
        parts.push(format!(
            "{} images, the reference has {}",
            b.images.len(),
            a.images.len()
        ));
    }
    if a.trailing != b.trailing {
        parts.push(format!(
            "the bytes after the last image differ ({})",
            b.trailing.as_deref().unwrap_or("none now")
        ));
    }
    if a.error != b.error {
        if let Some(e) = &b.error {
            parts.push(format!("it no longer decodes: {e}"));
        }
    }
    if parts.is_empty() {
        parts.push("its bytes differ".into());
    }
    parts.join("; ")
}
