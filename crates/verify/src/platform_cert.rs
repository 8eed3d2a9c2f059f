//! Evidence against a TCG Platform Certificate's component list, as HIRS validates components:
//! every component the certificate lists must be found in the evidence with the same
//! manufacturer, model, serial and revision (where the certificate gives them) or MAC address;
//! the platform's manufacturer, model and serial must be SMBIOS type 1's.
//!
//! A certificate lists what the platform manufacturer chose to list (typically CPUs, DIMMs,
//! boards, chassis, disks, NICs), so evidence items the certificate does not mention are not
//! findings: the manifest comparison covers those.

use std::collections::BTreeMap;

use boardproof_evidence::{ComponentClass, Evidence, Finding, FindingKind, Severity};
use boardproof_formats::component_class::{Category, Meaning};
use boardproof_formats::platform_cert::{Component, ComponentStatus, PlatformCert};

use crate::Outcome;

/// Something in the evidence a listed component may be: what kind of thing it is and the
/// strings that identify it.
struct Candidate {
    kind: Meaning,
    what: String,
    /// Any one of these is the manufacturer (none: not known, so not compared).
    manufacturers: Vec<String>,
    models: Vec<String>,
    serial: Option<String>,
    revision: Option<String>,
    macs: Vec<String>,
}

fn norm(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// Text that firmware writes where it has nothing to say; a certificate that lists it has
/// not named anything.
fn placeholder(s: &str) -> bool {
    matches!(
        norm(s).as_str(),
        "" | "not specified" | "to be filled by o.e.m." | "default string" | "n/a"
    )
}

fn given(s: Option<&str>) -> Option<String> {
    s.filter(|s| !placeholder(s)).map(norm)
}

fn mac(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A listed component as it is compared: placeholders dropped, each registry's way of
/// writing identities brought to the evidence's.
struct Want {
    manufacturer: Option<String>,
    model: Option<String>,
    /// Any one of these is the serial (the storage registry packs several ids into one).
    serials: Vec<String>,
    revision: Option<String>,
    macs: Vec<String>,
}

fn want(c: &Component, kind: Option<Meaning>) -> Want {
    let mut w = Want {
        manufacturer: given(Some(&c.manufacturer)),
        model: given(Some(&c.model)),
        serials: given(c.serial.as_deref()).into_iter().collect(),
        revision: given(c.revision.as_deref()),
        macs: c
            .addresses
            .iter()
            .map(|a| mac(&a.value))
            .filter(|m| m.len() == 12)
            .collect(),
    };
    match kind {
        // HIRS writes the BIOS version as the revision under model "Not Specified"; paccor
        // writes it as the model. Either way it is SMBIOS type 0's version.
        Some(Meaning::Category(Category::Firmware)) => {
            if w.model.is_none() {
                w.model = w.revision.take();
            } else {
                w.revision = None;
            }
        }
        // PCIe registry: "vendor:subsystem vendor:" and "device:subsystem device:".
        Some(Meaning::PciFunction(_)) => {
            let ids = |s: Option<String>| s.map(|s| s.trim_end_matches(':').to_owned());
            w.manufacturer = ids(w.manufacturer);
            w.model = ids(w.model);
            w.serials = w
                .serials
                .into_iter()
                .map(|s| s.trim_end_matches(':').to_owned())
                .filter(|s| !s.is_empty())
                .collect();
        }
        // Storage registry: the manufacturer is PCI ids and an OUI, the serial field packs
        // EUI/NGUID, the serial number and the NQN, separated by colons.
        Some(Meaning::Drive) => {
            w.manufacturer = None;
            w.serials = c
                .serial
                .as_deref()
                .unwrap_or("")
                .split(':')
                .map(norm)
                .filter(|s| !s.is_empty() && !s.chars().all(|c| c == '0'))
                .collect();
        }
        _ => {}
    }
    w
}

fn candidates(ev: &Evidence) -> Vec<Candidate> {
    let mut out = Vec::new();
    let c = |kind, what: String| Candidate {
        kind,
        what,
        manufacturers: Vec::new(),
        models: Vec::new(),
        serial: None,
        revision: None,
        macs: Vec::new(),
    };
    let cat = Meaning::Category;
    if let Some(s) = &ev.inventory.smbios {
        if let Some(b) = &s.bios {
            let mut x = c(cat(Category::Firmware), "SMBIOS BIOS (type 0)".into());
            x.manufacturers = b.vendor.clone().into_iter().collect();
            x.models = b.version.clone().into_iter().collect();
            out.push(x);
        }
        if let Some(r) = &s.system {
            let mut x = c(Meaning::System, "SMBIOS system (type 1)".into());
            x.manufacturers = r.manufacturer.clone().into_iter().collect();
            x.models = r.product.clone().into_iter().collect();
            x.serial = r.serial.clone();
            x.revision = r.version.clone();
            out.push(x);
        }
        for p in &s.processors {
            let r = &p.record;
            let mut x = c(
                cat(Category::Processors),
                format!("SMBIOS processor {}", r.socket.as_deref().unwrap_or("?")),
            );
            x.manufacturers = r.manufacturer.clone().into_iter().collect();
            // HIRS writes the processor family as decimal ("198"), paccor as hex ("C6").
            x.models = [
                r.version.clone(),
                r.part_number.clone(),
                r.family.map(|f| f.to_string()),
                r.family.map(|f| format!("{f:02X}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            x.serial = r.serial.clone();
            out.push(x);
        }
        for ch in &s.chassis {
            let r = &ch.record;
            let mut x = c(cat(Category::Containers), "SMBIOS chassis".into());
            x.manufacturers = r.manufacturer.clone().into_iter().collect();
            x.models = [
                r.version.clone(),
                r.sku.clone(),
                r.chassis_type.map(|t| t.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            x.serial = r.serial.clone();
            x.revision = r.version.clone();
            out.push(x);
        }
        for b in &s.baseboards {
            let r = &b.record;
            let mut x = c(cat(Category::IcBoards), "SMBIOS baseboard".into());
            x.manufacturers = r.manufacturer.clone().into_iter().collect();
            x.models = r.product.clone().into_iter().collect();
            x.serial = r.serial.clone();
            x.revision = r.version.clone();
            out.push(x);
        }
        for m in &s.memory_devices {
            let r = &m.record;
            let mut x = c(
                cat(Category::Memory),
                format!("SMBIOS memory {}", r.locator.as_deref().unwrap_or("?")),
            );
            x.manufacturers = r.manufacturer.clone().into_iter().collect();
            x.models = r.part_number.clone().into_iter().collect();
            x.serial = r.serial.clone();
            out.push(x);
        }
    }
    for comp in &ev.inventory.components {
        let id = |k: &str| comp.identity.get(k).cloned();
        let kind = match comp.class {
            ComponentClass::Block => Meaning::Drive,
            ComponentClass::Nic => cat(Category::NetworkAdapters),
            ComponentClass::Cpu => cat(Category::Processors),
            ComponentClass::Dimm => cat(Category::Memory),
            ComponentClass::Pci => {
                let code = id("class")
                    .and_then(|c| u32::from_str_radix(&c, 16).ok())
                    .unwrap_or(u32::MAX);
                let mut x = c(Meaning::PciFunction(code), comp.label());
                // The id alone, and with the subsystem's (certificates write "8086::" for
                // a function listed without its subsystem ids).
                let ids = |a: &str, b: &str| -> Vec<String> {
                    let Some(a) = id(a) else { return Vec::new() };
                    match id(b) {
                        Some(b) => vec![format!("{a}:{b}"), a],
                        None => vec![a],
                    }
                };
                x.manufacturers = ids("vendor", "subsystem_vendor");
                x.models = ids("device", "subsystem_device");
                x.serial = id("serial_number");
                x.revision = id("revision");
                out.push(x);
                continue;
            }
            _ => continue,
        };
        let mut x = c(kind, comp.label());
        x.manufacturers = id("vendor")
            .or_else(|| id("manufacturer"))
            .into_iter()
            .collect();
        x.models = id("model").into_iter().collect();
        x.serial = id("serial").or_else(|| id("wwn"));
        x.macs = [id("permanent_mac"), id("mac")]
            .into_iter()
            .flatten()
            .map(|m| mac(&m))
            .collect();
        out.push(x);
    }
    out
}

/// Whether a candidate of `kind` may be what a component whose class means `listed` is.
fn may_be(listed: Option<Meaning>, kind: Meaning) -> bool {
    match (listed, kind) {
        // A class not known here: any candidate (identities still have to agree).
        (None, _) => true,
        // Drives are Storage in the TCG registry and Drive in the storage registry.
        (Some(Meaning::Category(Category::Storage)), Meaning::Drive) => true,
        // PCIe classes: the base class and subclass must agree (the interface byte is often
        // written as 00 where the function has another).
        (Some(Meaning::PciFunction(a)), Meaning::PciFunction(b)) => a >> 8 == b >> 8,
        // A network function listed with its MAC is the NIC that has that MAC.
        (Some(Meaning::PciFunction(a)), Meaning::Category(Category::NetworkAdapters)) => {
            a >> 16 == 0x02
        }
        (Some(a), b) => a == b,
    }
}

/// Whether the evidence has candidates of this kind at all. A certificate may list things
/// no collector here sees (fans, sensors, a TPM by its SMBIOS type 43); not finding such a
/// component says nothing about the server, so it is a note, never `component-removed`.
fn inventoried(kind: Meaning) -> bool {
    match kind {
        Meaning::Category(c) => matches!(
            c,
            Category::Firmware
                | Category::Processors
                | Category::Containers
                | Category::IcBoards
                | Category::Memory
                | Category::Storage
                | Category::NetworkAdapters
        ),
        Meaning::System | Meaning::PciFunction(_) | Meaning::Drive => true,
    }
}

/// `locus` of a finding about a certificate's component: who made it, its model and, when
/// the certificate gives one, its serial.
fn cert_component_at(c: &Component) -> BTreeMap<String, String> {
    let mut m = BTreeMap::from([
        ("manufacturer".to_owned(), c.manufacturer.trim().to_owned()),
        ("model".to_owned(), c.model.trim().to_owned()),
    ]);
    if let Some(s) = &c.serial {
        m.insert("serial".to_owned(), s.trim().to_owned());
    }
    if let Some(k) = &c.class {
        m.insert("class".to_owned(), k.value.clone());
    }
    m
}

fn describe(c: &Component) -> String {
    let mut s = format!("{} {}", c.manufacturer.trim(), c.model.trim());
    if let Some(x) = &c.serial {
        s.push_str(&format!(" serial {}", x.trim()));
    }
    if let Some(x) = &c.revision {
        s.push_str(&format!(" revision {}", x.trim()));
    }
    for a in &c.addresses {
        s.push_str(&format!(" address {}", a.value.trim()));
    }
    s
}

/// How well a candidate fits a listed component.
enum Fit {
    Same,
    /// Same manufacturer and model, another serial or revision.
    Other(String),
    No,
}

fn fit(w: &Want, x: &Candidate) -> Fit {
    if !w.macs.is_empty() {
        return if w.macs.iter().any(|a| x.macs.contains(a)) {
            Fit::Same
        } else {
            Fit::No
        };
    }
    let model_ok = w
        .model
        .as_deref()
        .is_some_and(|m| x.models.iter().any(|y| norm(y) == m));
    let mfr_ok = match &w.manufacturer {
        Some(a) if !x.manufacturers.is_empty() => x.manufacturers.iter().any(|b| norm(b) == *a),
        _ => true,
    };
    let serial_ok = w.serials.is_empty()
        || x.serial
            .as_deref()
            .is_some_and(|y| w.serials.contains(&norm(y)));
    let rev_ok = w
        .revision
        .as_deref()
        .is_none_or(|r| x.revision.as_deref().is_none_or(|y| norm(y) == r));
    // A serial alone identifies (the model string is often formatted differently).
    if !w.serials.is_empty() && serial_ok && rev_ok && (model_ok || mfr_ok) {
        return Fit::Same;
    }
    if model_ok && mfr_ok {
        if serial_ok && rev_ok {
            return Fit::Same;
        }
        return Fit::Other(format!(
            "{} serial {} revision {}",
            x.what,
            x.serial.as_deref().unwrap_or("(none)"),
            x.revision.as_deref().unwrap_or("(none)")
        ));
    }
    // The same kind of thing from the same maker, under another model: for firmware this is
    // another version of it (the evidence has one system BIOS).
    if mfr_ok && w.manufacturer.is_some() && x.kind == Meaning::Category(Category::Firmware) {
        return Fit::Other(format!(
            "{} version {}",
            x.what,
            x.models.first().map_or("(none)", String::as_str)
        ));
    }
    Fit::No
}

/// Checks that each delta platform certificate can amend `base`, in the order given: its
/// holder is the base (issuer and serial), it names the same platform, and its validity
/// starts no earlier than the base's and than the delta before it (a delta is a later
/// statement; one dated before its base was not made about the platform the base certified).
pub fn check_deltas(base: &PlatformCert, deltas: &[(String, PlatformCert)]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut after = (
        base.not_before_unix,
        format!("the base's ({})", base.not_before),
    );
    let bad = |name: &str, expected: String, observed: String, why: String| {
        Finding::new(
            FindingKind::DeltaInvalid,
            Severity::Critical,
            format!("delta platform certificate {name}"),
            Some(expected),
            Some(observed),
            format!("delta platform certificate {name}: {why}"),
        )
        .at("delta", name)
    };
    for (name, d) in deltas {
        let base_id = (base.issuer.clone(), base.serial.clone());
        match &d.holder {
            Some(h) if norm(&h.0) == norm(&base_id.0) && norm(&h.1) == norm(&base_id.1) => {}
            h => out.push(bad(
                name,
                format!(
                    "holder: base certificate {} of {}",
                    base.serial, base.issuer
                ),
                h.as_ref()
                    .map_or("no holder".into(), |(i, s)| format!("{s} of {i}")),
                "its holder is not the base certificate given, so it amends another one".into(),
            )),
        }
        for (field, b, x) in [
            ("manufacturer", &base.manufacturer, &d.manufacturer),
            ("model", &base.model, &d.model),
            ("serial", &base.platform_serial, &d.platform_serial),
        ] {
            if let (Some(b), Some(x)) = (b, x) {
                if norm(b) != norm(x) {
                    out.push(
                        bad(
                            name,
                            format!("platform {field} {b:?}"),
                            format!("platform {field} {x:?}"),
                            format!("it names platform {field} {x:?}, the base {b:?}"),
                        )
                        .at("field", field),
                    );
                }
            }
        }
        if d.not_before_unix < after.0 {
            out.push(
                bad(
                    name,
                    format!("validity starting at or after {}", after.1),
                    format!("validity starting {}", d.not_before),
                    format!(
                        "its validity starts {}, before {}: deltas amend in order, each after what it amends",
                        d.not_before, after.1
                    ),
                )
                .at("field", "notBefore"),
            );
        } else {
            after = (
                d.not_before_unix,
                format!("the delta before it ({}, {})", name, d.not_before),
            );
        }
    }
    out
}

/// The components of a base certificate with its deltas applied in order.
pub fn apply_deltas(base: &PlatformCert, deltas: &[PlatformCert]) -> Vec<Component> {
    let mut list = base.components.clone();
    let key = |c: &Component| {
        (
            norm(&c.manufacturer),
            norm(&c.model),
            c.serial.as_deref().map(norm),
        )
    };
    for d in deltas {
        for c in &d.components {
            match c.status {
                Some(ComponentStatus::Removed) => list.retain(|x| key(x) != key(c)),
                Some(ComponentStatus::Modified) => {
                    if let Some(x) = list.iter_mut().find(|x| {
                        norm(&x.manufacturer) == norm(&c.manufacturer)
                            && norm(&x.model) == norm(&c.model)
                    }) {
                        *x = Component {
                            status: None,
                            ..c.clone()
                        };
                    } else {
                        list.push(Component {
                            status: None,
                            ..c.clone()
                        });
                    }
                }
                Some(ComponentStatus::Added) | None => list.push(Component {
                    status: None,
                    ..c.clone()
                }),
            }
        }
    }
    list
}

/// Compares the evidence with the certificate's platform identity and `components` (the
/// base certificate's, or [`apply_deltas`]'s).
pub fn compare(cert: &PlatformCert, components: &[Component], ev: &Evidence) -> Outcome {
    let mut out = Outcome::default();
    let sys = ev.inventory.smbios.as_ref().and_then(|s| s.system.as_ref());
    for (field, listed, seen) in [
        (
            "manufacturer",
            &cert.manufacturer,
            sys.and_then(|s| s.manufacturer.clone()),
        ),
        ("model", &cert.model, sys.and_then(|s| s.product.clone())),
        (
            "serial",
            &cert.platform_serial,
            sys.and_then(|s| s.serial.clone()),
        ),
    ] {
        let Some(listed) = listed else { continue };
        if seen.as_deref().map(norm) != Some(norm(listed)) {
            out.findings.push(Finding {
                kind: FindingKind::PlatformChanged,
                severity: Severity::Critical,
                subject: format!("platform {field}"),
                expected: Some(listed.clone()),
                observed: Some(seen.clone().unwrap_or_else(|| "(none in SMBIOS)".into())),
                message: format!(
                    "the platform certificate says {field} {listed:?}, SMBIOS type 1 says {}",
                    seen.map_or("nothing".to_owned(), |s| format!("{s:?}"))
                ),
                locus: BTreeMap::from([("field".to_owned(), field.to_owned())]),
            });
        }
    }
    let cands = candidates(ev);
    let mut used = vec![false; cands.len()];
    let mut uncompared = Vec::new();
    for c in components {
        let kind = c.class.as_ref().and_then(|k| k.meaning());
        let w = want(c, kind);
        let pool = cands
            .iter()
            .enumerate()
            .filter(|(i, x)| !used.get(*i).copied().unwrap_or(true) && may_be(kind, x.kind));
        let mut other = None;
        let mut found = None;
        for (i, x) in pool {
            match fit(&w, x) {
                Fit::Same => {
                    found = Some(i);
                    break;
                }
                Fit::Other(what) if other.is_none() => other = Some(what),
                _ => {}
            }
        }
        match (found, other) {
            (Some(i), _) => {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
            }
            (None, Some(what)) => out.findings.push(Finding {
                kind: FindingKind::ComponentChanged,
                severity: Severity::Critical,
                subject: format!(
                    "platform certificate component {} {}",
                    c.manufacturer.trim(),
                    c.model.trim()
                ),
                expected: Some(describe(c)),
                observed: Some(what.clone()),
                message: format!(
                    "the platform certificate lists {}, the evidence has {what} instead",
                    describe(c)
                ),
                locus: cert_component_at(c),
            }),
            (None, None) if c.class.is_some() && !kind.is_some_and(inventoried) => {
                uncompared.push(format!(
                    "{} (class {})",
                    describe(c),
                    c.class.as_ref().map_or("?", |k| k.value.as_str())
                ));
            }
            (None, None) => out.findings.push(Finding {
                kind: FindingKind::ComponentRemoved,
                severity: Severity::Critical,
                subject: format!(
                    "platform certificate component {} {}",
                    c.manufacturer.trim(),
                    c.model.trim()
                ),
                expected: Some(describe(c)),
                observed: None,
                message: format!(
                    "the platform certificate lists {}, which is not in the evidence",
                    describe(c)
                ),
                locus: cert_component_at(c),
            }),
        }
    }
    if !uncompared.is_empty() {
        out.notes.push(format!(
            "{} listed components are of classes boardproof does not inventory and were not compared: {}",
            uncompared.len(),
            uncompared.join("; ")
        ));
    }
    out.notes.push(format!(
        "{} components listed by the platform certificate checked against {} candidates in the evidence (SMBIOS BIOS, system, processors, chassis, baseboards, memory; PCI functions, disks, NICs); evidence items the certificate does not list are not findings",
        components.len(),
        cands.len()
    ));
    crate::sort(&mut out);
    out
}
