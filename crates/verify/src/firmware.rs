//! Firmware images compared module by module.
//!
//! Files are modules: one added, removed or whose own content differs is
//! `firmware-module-added`, `-removed` or `-changed`, naming its GUID and UI name. Volumes,
//! pads, free space and gaps are not modules; a change there is `firmware-changed` naming the
//! item. Erased flash that only grew or shrank (a pad after a module that grew) is no finding:
//! it holds nothing. A container whose stored bytes differ while everything below it decodes
//! the same (recompressed, a header field) is reported too, since that is still a change in
//! flash; a container whose descendants changed is not reported again.

use std::collections::BTreeMap;

use boardproof_evidence::{Finding, FindingKind, FirmwareImage, FirmwareItem, Severity};

use crate::Outcome;

/// Compares the images of a reference with those of evidence, label by label.
pub fn compare(want: &[FirmwareImage], got: &[FirmwareImage], out: &mut Outcome) {
    let got_by: BTreeMap<&str, &FirmwareImage> =
        got.iter().map(|i| (i.label.as_str(), i)).collect();
    let want_by: BTreeMap<&str, &FirmwareImage> =
        want.iter().map(|i| (i.label.as_str(), i)).collect();
    for (label, w) in &want_by {
        match got_by.get(label) {
            Some(g) => image(w, g, out),
            None => out.findings.push(
                Finding::new(
                    FindingKind::SourceMissing,
                    Severity::Medium,
                    format!("firmware {label}"),
                    Some(format!("sha256={} size={}", w.sha256, w.size)),
                    Some("not collected".into()),
                    format!(
                        "the reference has firmware image {label} but this evidence does not \
                     (the image was not given under that label): its modules are not compared"
                    ),
                )
                .at("source", "firmware")
                .at("image", *label),
            ),
        }
    }
    for label in got_by.keys() {
        if !want_by.contains_key(label) {
            out.notes.push(format!(
                "firmware image {label} is in the evidence but not in the reference: not compared"
            ));
        }
    }
}

/// Compares two images with the same label.
pub fn image(want: &FirmwareImage, got: &FirmwareImage, out: &mut Outcome) {
    if want.sha256 == got.sha256 {
        return;
    }
    let label = want.label.as_str();
    let w: BTreeMap<&str, &FirmwareItem> =
        want.items.iter().map(|i| (i.path.as_str(), i)).collect();
    let g: BTreeMap<&str, &FirmwareItem> = got.items.iter().map(|i| (i.path.as_str(), i)).collect();
    let before = out.findings.len();
    // Paths of items whose own content changed, were added or removed: their containers are
    // not reported again for stored bytes.
    let mut changed: Vec<&str> = Vec::new();
    for (path, wi) in &w {
        match g.get(path) {
            None if wi.erased => {}
            None => {
                changed.push(path);
                out.findings.push(removed(label, wi));
            }
            Some(gi) if wi.erased && gi.erased => {}
            Some(gi) if wi.sha256 != gi.sha256 || wi.kind != gi.kind => {
                changed.push(path);
                out.findings.push(item_changed(label, wi, gi));
            }
            Some(_) => {}
        }
    }
    for (path, gi) in &g {
        if !w.contains_key(path) && !gi.erased {
            changed.push(path);
            out.findings.push(added(label, gi));
        }
    }
    // Items that read the same but are stored differently. Only the innermost is reported: a
    // header byte changed inside a compressed volume also changes the compressed bytes of the
    // file around it, which is the same change.
    let stored_only: Vec<(&str, &FirmwareItem, &FirmwareItem)> = w
        .iter()
        .filter_map(|(path, wi)| {
            let gi = g.get(path)?;
            (wi.sha256 == gi.sha256
                && wi.stored_sha256 != gi.stored_sha256
                && !(wi.erased && gi.erased))
                .then_some((*path, *wi, *gi))
        })
        .collect();
    for (path, wi, gi) in &stored_only {
        let inside = format!("{path}/");
        if changed.iter().any(|c| c.starts_with(&inside))
            || stored_only.iter().any(|(p, _, _)| p.starts_with(&inside))
        {
            continue;
        }
        let f = Finding::new(
            kind_of(wi, Change::Changed),
            Severity::Critical,
            subject(label, wi),
            Some(describe_stored(wi)),
            Some(describe_stored(gi)),
            format!(
                "{} differs as stored in flash ({} bytes, was {}) although every item read \
                 from it is the same: recompressed, a header or checksum field, or bytes no \
                 item covers (deleted variables, say) changed",
                what(wi),
                gi.size,
                wi.size
            ),
        );
        out.findings.push(at(f, label, wi));
    }
    if out.findings.len() == before {
        // Every byte of an image lies in some item, so this means the comparison itself missed
        // something: say so rather than report the image as equal.
        out.findings.push(
            Finding::new(
                FindingKind::FirmwareChanged,
                Severity::Critical,
                format!("firmware {label}"),
                Some(format!("sha256={} size={}", want.sha256, want.size)),
                Some(format!("sha256={} size={}", got.sha256, got.size)),
                format!(
                    "firmware image {label} differs from the reference, but no item read from it \
                 does"
                ),
            )
            .at("image", label),
        );
    }
}

#[derive(Clone, Copy)]
enum Change {
    Added,
    Removed,
    Changed,
}

fn kind_of(item: &FirmwareItem, change: Change) -> FindingKind {
    match (item.kind.as_str(), change) {
        ("file", Change::Added) => FindingKind::FirmwareModuleAdded,
        ("file", Change::Removed) => FindingKind::FirmwareModuleRemoved,
        ("file", Change::Changed) => FindingKind::FirmwareModuleChanged,
        _ => FindingKind::FirmwareChanged,
    }
}

fn subject(label: &str, item: &FirmwareItem) -> String {
    match (&item.guid, &item.name) {
        (Some(guid), Some(name)) if item.kind == "file" => {
            format!("firmware {label}: {guid} {name}")
        }
        _ => format!("firmware {label}: {}", item.path),
    }
}

/// "DXE driver PlatformDxe (D6A2…)" or "free space of fv:…".
fn what(item: &FirmwareItem) -> String {
    match item.kind.as_str() {
        "file" => format!(
            "{} {}({})",
            item.subtype.as_deref().unwrap_or("file"),
            item.name
                .as_deref()
                .map(|n| format!("{n} "))
                .unwrap_or_default(),
            item.guid.as_deref().unwrap_or("?")
        ),
        "volume" => format!(
            "{} volume {}",
            item.subtype.as_deref().unwrap_or(""),
            item.path
        ),
        "variable" => format!(
            "UEFI variable {} ({})",
            item.name.as_deref().unwrap_or("?"),
            item.guid.as_deref().unwrap_or("?")
        ),
        "region" | "payload" | "capsule" => format!(
            "{} at {}",
            item.subtype.as_deref().unwrap_or(item.kind.as_str()),
            item.path
        ),
        other => format!("{other} {}", item.path),
    }
}

/// For a file, the volume it sits in (its whole path is the finding's subject otherwise).
fn place(item: &FirmwareItem) -> String {
    if item.kind != "file" {
        return String::new();
    }
    let parent = item.path.rsplit_once('/').map_or("", |(p, _)| p);
    match parent.rsplit('/').find(|c| c.starts_with("fv:")) {
        Some(fv) => format!(", in volume {}", fv.trim_start_matches("fv:")),
        None => String::new(),
    }
}

fn describe(item: &FirmwareItem) -> String {
    let mut s = format!("sha256={} size={}", item.sha256, item.size);
    if let Some(name) = &item.name {
        s.push_str(&format!(" name={name}"));
    }
    if item.kind != "file" && item.kind != "volume" {
        s.push_str(if item.erased {
            " erased"
        } else {
            " holds data"
        });
    }
    s
}

fn describe_stored(item: &FirmwareItem) -> String {
    format!("stored sha256={} size={}", item.stored_sha256, item.size)
}

/// `locus` of a finding about `item` of image `label`: the image, the item's path, kind and,
/// where it has them, GUID and UI name (the reference's, for a changed item).
fn at(
    f: boardproof_evidence::Finding,
    label: &str,
    item: &FirmwareItem,
) -> boardproof_evidence::Finding {
    let mut f = f
        .at("image", label)
        .at("path", &item.path)
        .at("item", &item.kind);
    if let Some(g) = &item.guid {
        f = f.at("guid", g);
    }
    if let Some(n) = &item.name {
        f = f.at("name", n);
    }
    f
}

fn removed(label: &str, item: &FirmwareItem) -> boardproof_evidence::Finding {
    let f = Finding::new(
        kind_of(item, Change::Removed),
        Severity::Critical,
        subject(label, item),
        Some(describe(item)),
        None,
        format!("{} of the reference is gone{}", what(item), place(item)),
    );
    at(f, label, item)
}

fn added(label: &str, item: &FirmwareItem) -> boardproof_evidence::Finding {
    let extra = if item.kind == "file" {
        String::new()
    } else {
        " and holds data that is not erased flash".into()
    };
    let f = Finding::new(
        kind_of(item, Change::Added),
        Severity::Critical,
        subject(label, item),
        None,
        Some(describe(item)),
        format!(
            "{} is not in the reference{extra}{}",
            what(item),
            place(item)
        ),
    );
    at(f, label, item)
}

fn item_changed(label: &str, w: &FirmwareItem, g: &FirmwareItem) -> boardproof_evidence::Finding {
    let renamed = match (&w.name, &g.name) {
        (Some(a), Some(b)) if a != b => format!(" (UI name {a} is now {b})"),
        _ => String::new(),
    };
    let f = Finding::new(
        kind_of(w, Change::Changed),
        Severity::Critical,
        subject(label, w),
        Some(describe(w)),
        Some(describe(g)),
        format!(
            "{} differs from the reference{renamed}{}",
            what(w),
            place(w)
        ),
    );
    let f = at(f, label, w);
    match (&w.name, &g.name) {
        (Some(a), Some(b)) if a != b => f.at("observed_name", b),
        _ => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, kind: &str, own: &str, stored: &str) -> FirmwareItem {
        FirmwareItem {
            path: path.into(),
            kind: kind.into(),
            subtype: None,
            guid: Some("G".into()),
            name: Some(path.into()),
            size: 1,
            sha256: own.into(),
            stored_sha256: stored.into(),
            erased: false,
        }
    }

    fn image(sha: &str, items: Vec<FirmwareItem>) -> FirmwareImage {
        FirmwareImage {
            label: "flash".into(),
            path: "-".into(),
            size: 1,
            sha256: sha.into(),
            items,
        }
    }

    fn kinds(a: &FirmwareImage, b: &FirmwareImage) -> Vec<(String, String)> {
        let mut out = Outcome::default();
        super::image(a, b, &mut out);
        out.findings
            .iter()
            .map(|f| (f.kind.as_str().to_owned(), f.subject.clone()))
            .collect()
    }

    #[test]
    fn only_the_innermost_stored_difference_is_reported() {
        let a = image(
            "1",
            vec![
                item("fv:A", "volume", "h", "s1"),
                item("fv:A/file:B", "file", "o", "s2"),
                item("fv:A/file:B/fv:C", "volume", "h2", "s3"),
            ],
        );
        let b = image(
            "2",
            vec![
                item("fv:A", "volume", "h", "t1"),
                item("fv:A/file:B", "file", "o", "t2"),
                item("fv:A/file:B/fv:C", "volume", "h2", "t3"),
            ],
        );
        assert_eq!(
            kinds(&a, &b),
            [(
                "firmware-changed".into(),
                "firmware flash: fv:A/file:B/fv:C".into()
            )]
        );
        // An own change below: only that module, no container.
        let mut c = b.clone();
        c.items
            .push(item("fv:A/file:B/fv:C/file:D", "file", "new", "new"));
        let mut a2 = a.clone();
        a2.items
            .push(item("fv:A/file:B/fv:C/file:D", "file", "old", "old"));
        assert_eq!(
            kinds(&a2, &c),
            [(
                "firmware-module-changed".into(),
                "firmware flash: G fv:A/file:B/fv:C/file:D".into()
            )]
        );
    }

    #[test]
    fn erased_space_that_moved_is_no_finding_and_a_missed_change_is_said() {
        let mut pad = item("fv:A/pad", "pad", "p1", "p1");
        pad.erased = true;
        let mut pad2 = item("fv:A/pad", "pad", "p2", "p2");
        pad2.erased = true;
        let a = image("1", vec![item("fv:A", "volume", "h", "s"), pad]);
        let b = image("2", vec![item("fv:A", "volume", "h", "s"), pad2]);
        // The pads differ only in erased size and nothing else differs: the image digests do,
        // which no item explains, and that is said rather than hidden.
        assert_eq!(
            kinds(&a, &b),
            [("firmware-changed".into(), "firmware flash".into())]
        );
        assert!(kinds(&a, &a).is_empty());
    }
}
