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
use boardproof_formats::platform_cert::{Component, ComponentStatus, PlatformCert};

use crate::Outcome;

/// Something in the evidence a listed component may be: its category (the TCG class's upper
/// 16 bits) and the strings that identify it.
struct Candidate {
    category: u16,
    what: String,
    manufacturer: Option<String>,
    models: Vec<String>,
    serial: Option<String>,
    revision: Option<String>,
    macs: Vec<String>,
}

fn norm(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

fn mac(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn candidates(ev: &Evidence) -> Vec<Candidate> {
    let mut out = Vec::new();
    let c = |category, what: String| Candidate {
        category,
        what,
        manufacturer: None,
        models: Vec::new(),
        serial: None,
        revision: None,
        macs: Vec::new(),
    };
    if let Some(s) = &ev.inventory.smbios {
        for p in &s.processors {
            let r = &p.record;
            let mut x = c(
                0x0001,
                format!("SMBIOS processor {}", r.socket.as_deref().unwrap_or("?")),
            );
            x.manufacturer = r.manufacturer.clone();
            x.models = [r.version.clone(), r.part_number.clone()]
                .into_iter()
                .flatten()
                .collect();
            x.serial = r.serial.clone();
            out.push(x);
        }
        for ch in &s.chassis {
            let r = &ch.record;
            let mut x = c(0x0002, "SMBIOS chassis".into());
            x.manufacturer = r.manufacturer.clone();
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
            let mut x = c(0x0003, "SMBIOS baseboard".into());
            x.manufacturer = r.manufacturer.clone();
            x.models = r.product.clone().into_iter().collect();
            x.serial = r.serial.clone();
            x.revision = r.version.clone();
            out.push(x);
        }
        for m in &s.memory_devices {
            let r = &m.record;
            let mut x = c(
                0x0006,
                format!("SMBIOS memory {}", r.locator.as_deref().unwrap_or("?")),
            );
            x.manufacturer = r.manufacturer.clone();
            x.models = r.part_number.clone().into_iter().collect();
            x.serial = r.serial.clone();
            out.push(x);
        }
    }
    for comp in &ev.inventory.components {
        let id = |k: &str| comp.identity.get(k).cloned();
        let category = match comp.class {
            ComponentClass::Block => 0x0007,
            ComponentClass::Nic => 0x0009,
            ComponentClass::Cpu => 0x0001,
            ComponentClass::Dimm => 0x0006,
            _ => continue,
        };
        let mut x = c(category, comp.label());
        x.manufacturer = id("vendor").or_else(|| id("manufacturer"));
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

fn category(c: &Component) -> Option<u16> {
    let v = hex::decode(&c.class.as_ref()?.value).ok()?;
    match v.as_slice() {
        [a, b, _, _] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
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

fn fit(c: &Component, x: &Candidate) -> Fit {
    let addrs: Vec<String> = c
        .addresses
        .iter()
        .map(|a| mac(&a.value))
        .filter(|m| m.len() == 12)
        .collect();
    if !addrs.is_empty() {
        return if addrs.iter().any(|a| x.macs.contains(a)) {
            Fit::Same
        } else {
            Fit::No
        };
    }
    let model_ok = x.models.iter().any(|m| norm(m) == norm(&c.model));
    let mfr_ok = x
        .manufacturer
        .as_deref()
        .is_none_or(|m| norm(m) == norm(&c.manufacturer) || norm(&c.manufacturer).is_empty());
    let serial_ok = c
        .serial
        .as_deref()
        .is_none_or(|s| x.serial.as_deref().is_some_and(|y| norm(y) == norm(s)));
    let rev_ok = c
        .revision
        .as_deref()
        .is_none_or(|r| x.revision.as_deref().is_none_or(|y| norm(y) == norm(r)));
    // A serial alone identifies (the model string is often formatted differently).
    if c.serial.is_some() && serial_ok && rev_ok && (model_ok || mfr_ok) {
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
    Fit::No
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
    for c in components {
        let cat = category(c);
        let pool = cands.iter().enumerate().filter(|(i, x)| {
            !used.get(*i).copied().unwrap_or(true) && cat.is_none_or(|k| k == x.category)
        });
        let mut other = None;
        let mut found = None;
        for (i, x) in pool {
            match fit(c, x) {
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
    out.notes.push(format!(
        "{} components listed by the platform certificate checked against {} candidates in the evidence (SMBIOS processors, chassis, baseboards, memory; disks, NICs); evidence items the certificate does not list are not findings",
        components.len(),
        cands.len()
    ));
    crate::sort(&mut out);
    out
}
