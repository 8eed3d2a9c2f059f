//! SMBIOS comparison: decoded records field by field, and every other structure by its hash.
//!
//! Left out on purpose (listed in docs/verify.md): types 15 (event log), 18 and 33 (memory
//! error information), 23 (system reset counters) and 32 (boot status), which change on their
//! own; the hashes of types 1 and 4, whose structures hold the wake-up type and current speed
//! (their decoded identity fields are still compared); types 17 and 39, which are compared as
//! DIMM and power-supply components.

use std::collections::BTreeMap;

use boardproof_evidence::{Finding, FindingKind, Handled, Severity, Smbios, SmbiosStructure};
use serde::Serialize;
use serde_json::Value;

use crate::{by_occurrence, Outcome};

/// Types whose contents change without any change to the server.
const VOLATILE_TYPES: [u8; 5] = [15, 18, 23, 32, 33];
/// Types not hashed because their decoded or component form is compared instead.
const NOT_HASHED: [u8; 4] = [1, 4, 17, 39];
/// Field names whose change is an identity change (severity high).
const SERIAL_FIELDS: [&str; 3] = ["serial", "uuid", "asset_tag"];

fn type_name(t: u8) -> &'static str {
    match t {
        0 => "BIOS",
        1 => "System",
        2 => "Baseboard",
        3 => "Chassis",
        4 => "Processor",
        9 => "System Slot",
        16 => "Physical Memory Array",
        17 => "Memory Device",
        38 => "IPMI Device",
        39 => "Power Supply",
        41 => "Onboard Device",
        _ => "structure",
    }
}

fn fields<T: Serialize>(r: &T) -> BTreeMap<String, Value> {
    match serde_json::to_value(r) {
        Ok(Value::Object(m)) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(not set)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `locus` of an SMBIOS finding: the structure's type and, where it has one that identifies
/// it, its handle.
fn smbios_at(
    f: boardproof_evidence::Finding,
    t: u8,
    handle: Option<u16>,
) -> boardproof_evidence::Finding {
    let f = f.at("smbios_type", t);
    match handle {
        Some(h) => f.at("handle", format!("{h:#06x}")),
        None => f,
    }
}

fn diff_record<T: Serialize>(
    subject: &str,
    (t, handle): (u8, Option<u16>),
    want: &T,
    got: &T,
    out: &mut Outcome,
) {
    let (w, g) = (fields(want), fields(got));
    let mut keys: Vec<&String> = w.keys().chain(g.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        if k == "handle" || w.get(k) == g.get(k) {
            continue;
        }
        let sev = if SERIAL_FIELDS.contains(&k.as_str()) {
            Severity::High
        } else {
            Severity::Low
        };
        let f = Finding::new(
            FindingKind::PlatformChanged,
            sev,
            format!("{subject}: {k}"),
            Some(show(w.get(k))),
            Some(show(g.get(k))),
            format!("SMBIOS {subject} {k} differs from the reference"),
        );
        out.findings.push(smbios_at(f, t, handle).at("field", k));
    }
}

fn diff_handled<T: Serialize + PartialEq>(
    t: u8,
    want: &[Handled<T>],
    got: &[Handled<T>],
    out: &mut Outcome,
) {
    let g = by_occurrence(got, |h| h.handle);
    for (key, w) in by_occurrence(want, |h| h.handle) {
        if let Some(r) = g.get(&key) {
            if r.record != w.record {
                let subject = format!("{} (type {t}) handle {:#06x}", type_name(t), w.handle);
                diff_record(&subject, (t, Some(w.handle)), &w.record, &r.record, out);
            }
        }
        // A missing structure is reported by the structure comparison.
    }
}

fn structure_key(s: &SmbiosStructure) -> (u8, u16) {
    (s.kind, s.handle)
}

/// Compares the SMBIOS parts of reference and evidence.
pub fn compare(want: Option<&Smbios>, got: Option<&Smbios>, out: &mut Outcome) {
    let (Some(w), Some(g)) = (want, got) else {
        // Missing on one side: the smbios source check reports it.
        return;
    };
    let start = out.findings.len();
    if let (Some(a), Some(b)) = (&w.bios, &g.bios) {
        diff_record("BIOS (type 0)", (0, None), a, b, out);
    }
    if let (Some(a), Some(b)) = (&w.system, &g.system) {
        diff_record("System (type 1)", (1, None), a, b, out);
    }
    diff_handled(2, &w.baseboards, &g.baseboards, out);
    diff_handled(3, &w.chassis, &g.chassis, out);
    diff_handled(4, &w.processors, &g.processors, out);
    diff_handled(9, &w.slots, &g.slots, out);
    diff_handled(16, &w.memory_arrays, &g.memory_arrays, out);
    diff_handled(38, &w.ipmi, &g.ipmi, out);
    diff_handled(41, &w.onboard_devices, &g.onboard_devices, out);
    let decoded_end = out.findings.len();

    let compared = |s: &&SmbiosStructure| !VOLATILE_TYPES.contains(&s.kind);
    // Handles are unique in a well-formed table; hostile firmware may repeat one, so every
    // copy is compared (by occurrence), never only the last.
    let gw = by_occurrence(g.structures.iter().filter(compared), structure_key);
    let ww = by_occurrence(w.structures.iter().filter(compared), structure_key);
    for (key, s) in &ww {
        let k = &key.0;
        let subject = format!("{} (type {}) handle {:#06x}", type_name(k.0), k.0, k.1);
        match gw.get(key) {
            None => out.findings.push(
                smbios_at(
                    Finding::new(
                        FindingKind::PlatformChanged,
                        Severity::Medium,
                        subject.clone(),
                        Some(format!("sha256={}", s.sha256)),
                        None,
                        format!("SMBIOS {subject} of the reference is gone"),
                    ),
                    k.0,
                    Some(k.1),
                )
                .at("change", "removed"),
            ),
            Some(o) if o.sha256 != s.sha256 && !NOT_HASHED.contains(&k.0) => {
                // Only when no decoded field already explained the change.
                let prefix = format!("{} (type {})", type_name(k.0), k.0);
                let explained = out.findings[start..decoded_end].iter().any(|f| {
                    f.subject.starts_with(&subject) || (k.0 == 0 && f.subject.starts_with(&prefix))
                });
                if !explained {
                    let f = Finding::new(
                        FindingKind::PlatformChanged,
                        Severity::Medium,
                        subject.clone(),
                        Some(format!("sha256={}", s.sha256)),
                        Some(format!("sha256={}", o.sha256)),
                        format!("SMBIOS {subject} changed in bytes boardproof does not decode"),
                    );
                    out.findings
                        .push(smbios_at(f, k.0, Some(k.1)).at("change", "bytes"));
                }
            }
            Some(_) => {}
        }
    }
    for (key, s) in &gw {
        let k = &key.0;
        if !ww.contains_key(key) {
            let subject = format!("{} (type {}) handle {:#06x}", type_name(k.0), k.0, k.1);
            let f = Finding::new(
                FindingKind::PlatformChanged,
                Severity::Medium,
                subject.clone(),
                None,
                Some(format!("sha256={}", s.sha256)),
                format!("SMBIOS {subject} is not in the reference"),
            );
            out.findings
                .push(smbios_at(f, k.0, Some(k.1)).at("change", "added"));
        }
    }
}
