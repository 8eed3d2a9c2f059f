//! SMBIOS decoding checked against `dmidecode --from-dump`, run live on every dump under
//! ../shared/testdata/smbios: same structure types and handles in the same order, and for types
//! 0, 1, 2, 3, 4 and 17 the same strings and key fields.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::util::{code, require_tool, run, testdata_files};

/// One structure as dmidecode prints it.
#[derive(Debug)]
struct DmiStruct {
    handle: u16,
    kind: u8,
    fields: BTreeMap<String, String>,
}

fn dmidecode(file: &Path) -> (Vec<DmiStruct>, String) {
    let out = Command::new("dmidecode")
        .arg("--from-dump")
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut v: Vec<DmiStruct> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Handle 0x") {
            // "Handle 0x0000, DMI type 0, 24 bytes"
            let (h, rest) = rest.split_once(", DMI type ").unwrap();
            let (t, _) = rest.split_once(',').unwrap();
            v.push(DmiStruct {
                handle: u16::from_str_radix(h, 16).unwrap(),
                kind: t.trim().parse().unwrap(),
                fields: BTreeMap::new(),
            });
        } else if let (Some(s), Some(l)) = (v.last_mut(), line.strip_prefix('\t')) {
            if !l.starts_with('\t') {
                if let Some((k, val)) = l.split_once(": ") {
                    s.fields
                        .entry(k.to_owned())
                        .or_insert_with(|| val.trim().to_owned());
                }
            }
        }
    }
    (v, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Our string as dmidecode prints it: unset is "Not Specified", escaped bytes are dots.
fn dmi_str(v: &serde_json::Value) -> String {
    match v.as_str() {
        None => "Not Specified".into(),
        Some(s) => {
            let mut out = String::new();
            let mut rest = s;
            while let Some(i) = rest.find('\\') {
                out.push_str(&rest[..i]);
                let tail = &rest[i..];
                if let Some(after) = tail.strip_prefix("\\\\") {
                    out.push('\\');
                    rest = after;
                } else if tail.len() >= 4 && tail.starts_with("\\x") {
                    out.push('.');
                    rest = &tail[4..];
                } else {
                    out.push('\\');
                    rest = &tail[1..];
                }
            }
            out.push_str(rest);
            out.trim().to_owned()
        }
    }
}

fn size_text(mib: &serde_json::Value) -> Option<String> {
    let m = mib.as_u64()?;
    Some(if m == 0 {
        "No Module Installed".into()
    } else if m % (1024 * 1024) == 0 {
        format!("{} TB", m / 1024 / 1024)
    } else if m % 1024 == 0 {
        format!("{} GB", m / 1024)
    } else {
        format!("{m} MB")
    })
}

struct Compare<'a> {
    file: String,
    dmi: &'a DmiStruct,
    mismatches: Vec<String>,
    compared: usize,
    /// Field names this comparison handles (whether dmidecode printed them or not).
    handled: Vec<&'static str>,
}

/// The one list of what dmidecode prints for a decoded type and boardproof does not compare,
/// with why. Every other field dmidecode prints must be compared: a new one fails the test.
const NOT_COMPARED: &[(u8, &[&str], &str)] = &[
    (0, &["Address", "Runtime Size", "ROM Size"], "ROM layout and feature flags: not identity; the whole structure is hashed"),
    (1, &["Wake-up Type"], "why the machine last powered on: changes every boot, deliberately not compared"),
    (2, &["Type", "Contained Object Handles", "Chassis Handle"], "board feature flags, board type and handle links: the whole structure is hashed"),
    (3, &["Type", "Lock", "Boot-up State", "Power Supply State", "Thermal State", "Security Status", "OEM Information", "Height", "Number Of Power Cords", "Contained Elements", "Asset Tag"], "chassis states and geometry: hashed, not decoded"),
    (4, &["Type", "Family", "Signature", "Voltage", "External Clock", "Current Speed", "Status", "Upgrade", "L1 Cache Handle", "L2 Cache Handle", "L3 Cache Handle", "Characteristics"], "CPU state and descriptive codes; the CPU's identity is its ID, version, serial and counts"),
    (17, &["Array Handle", "Error Information Handle", "Form Factor", "Set", "Type", "Type Detail", "Rank", "Configured Memory Speed", "Minimum Voltage", "Maximum Voltage", "Configured Voltage", "Memory Technology", "Memory Operating Mode Capability", "Firmware Version", "Module Manufacturer ID", "Module Product ID", "Memory Subsystem Controller Manufacturer ID", "Memory Subsystem Controller Product ID", "Non-Volatile Size", "Volatile Size", "Cache Size", "Logical Size"], "module technology and configuration: hashed; the DIMM's identity is locator, maker, part, serial, size, speed and widths"),
];

impl Compare<'_> {
    /// Compares when dmidecode printed the field.
    fn eq(&mut self, field: &'static str, ours: Option<String>) {
        self.handled.push(field);
        let Some(theirs) = self.dmi.fields.get(field) else {
            return;
        };
        self.compared += 1;
        let ours = ours.unwrap_or_else(|| "Unknown".into());
        if !ours.eq_ignore_ascii_case(theirs) {
            self.mismatches.push(format!(
                "{} handle {:#06x} type {} {field}: ours {ours:?}, dmidecode {theirs:?}",
                self.file, self.dmi.handle, self.dmi.kind
            ));
        }
    }
}

fn record_for(sm: &serde_json::Value, kind: u8, handle: u16) -> Option<&serde_json::Value> {
    let list = |k: &str| {
        sm[k].as_array().and_then(|a| {
            a.iter()
                .find(|r| r["handle"].as_u64() == Some(u64::from(handle)))
        })
    };
    match kind {
        0 => sm.get("bios"),
        1 => sm.get("system"),
        2 => list("baseboards"),
        3 => list("chassis"),
        4 => list("processors"),
        17 => list("memory_devices"),
        _ => None,
    }
}

#[test]
fn structures_and_fields_match_dmidecode() {
    if !require_tool("dmidecode") {
        return;
    }
    // Every file of the folder is a table dump except one documented sysfs text snapshot
    // (SOURCES.md); anything else new must be looked at, not skipped.
    let others: Vec<_> = std::fs::read_dir(crate::util::testdata().join("smbios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".dump") && n != "hirs-laptop_dmi.zip")
        .collect();
    assert!(
        others.is_empty(),
        "testdata/smbios files not compared: {others:?}"
    );
    let mut all_mismatches = Vec::new();
    let mut total_fields = 0;
    let mut exceptions_seen = std::collections::BTreeSet::new();
    for file in testdata_files("smbios", ".dump") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let o = run(&["smbios", "decode", "--json", file.to_str().unwrap()]);
        let sm: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", crate::util::stderr(&o)));
        let (theirs, their_err) = dmidecode(&file);
        let ours: Vec<(u16, u8)> = sm["structures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["handle"].as_u64().unwrap() as u16,
                    s["type"].as_u64().unwrap() as u8,
                )
            })
            .collect();
        let theirs_ht: Vec<(u16, u8)> = theirs.iter().map(|s| (s.handle, s.kind)).collect();
        assert_eq!(ours, theirs_ht, "{name}: structure handles/types differ");
        // A table dmidecode calls broken is an error for us too, at the same place.
        let broken = their_err.contains("DMI table is broken");
        assert_eq!(
            broken,
            sm.get("error").is_some(),
            "{name}: {their_err} / {}",
            sm["error"]
        );
        assert_eq!(code(&o), if broken { 2 } else { 0 }, "{name}");

        for d in &theirs {
            // Types boardproof decodes must each have a record; the others are compared as
            // structures (handle, type, hash) only.
            let decoded = [0u8, 1, 2, 3, 4, 17].contains(&d.kind);
            let Some(r) = record_for(&sm, d.kind, d.handle) else {
                if decoded && !broken {
                    all_mismatches.push(format!(
                        "{name} handle {:#06x} type {}: dmidecode decodes it, boardproof has no record",
                        d.handle, d.kind
                    ));
                }
                continue;
            };
            let mut c = Compare {
                file: name.clone(),
                dmi: d,
                mismatches: Vec::new(),
                compared: 0,
                handled: Vec::new(),
            };
            let s = |k: &str| Some(dmi_str(&r[k]));
            match d.kind {
                0 => {
                    c.eq("Vendor", s("vendor"));
                    c.eq("Version", s("version"));
                    c.eq("Release Date", s("release_date"));
                    c.eq(
                        "BIOS Revision",
                        r["bios_release"].as_str().map(str::to_owned),
                    );
                    c.eq(
                        "Firmware Revision",
                        r["ec_release"].as_str().map(str::to_owned),
                    );
                }
                1 => {
                    c.eq("Manufacturer", s("manufacturer"));
                    c.eq("Product Name", s("product"));
                    c.eq("Version", s("version"));
                    c.eq("Serial Number", s("serial"));
                    c.eq("SKU Number", s("sku"));
                    c.eq("Family", s("family"));
                    let uuid = match r["uuid"].as_str() {
                        None => "Not Present".to_owned(),
                        Some("00000000-0000-0000-0000-000000000000") => "Not Settable".to_owned(),
                        Some(u) => u.to_owned(),
                    };
                    c.eq("UUID", Some(uuid));
                }
                2 => {
                    c.eq("Manufacturer", s("manufacturer"));
                    c.eq("Product Name", s("product"));
                    c.eq("Version", s("version"));
                    c.eq("Serial Number", s("serial"));
                    c.eq("Asset Tag", s("asset_tag"));
                    c.eq("Location In Chassis", s("location_in_chassis"));
                }
                3 => {
                    c.eq("Manufacturer", s("manufacturer"));
                    c.eq("Version", s("version"));
                    c.eq("Serial Number", s("serial"));
                    c.eq("Asset Tag", s("asset_tag"));
                    c.eq("SKU Number", s("sku"));
                }
                4 => {
                    c.eq("Socket Designation", s("socket"));
                    c.eq("Manufacturer", s("manufacturer"));
                    c.eq("Version", s("version"));
                    c.eq("Serial Number", s("serial"));
                    c.eq("Asset Tag", s("asset_tag"));
                    c.eq("Part Number", s("part_number"));
                    c.eq(
                        "Core Count",
                        r["core_count"].as_u64().map(|n| n.to_string()),
                    );
                    c.eq(
                        "Core Enabled",
                        r["core_enabled"].as_u64().map(|n| n.to_string()),
                    );
                    c.eq(
                        "Thread Count",
                        r["thread_count"].as_u64().map(|n| n.to_string()),
                    );
                    c.eq(
                        "Max Speed",
                        r["max_speed_mhz"]
                            .as_u64()
                            .filter(|m| *m != 0)
                            .map(|m| format!("{m} MHz")),
                    );
                    let id = r["id"].as_str().map(|h| {
                        h.as_bytes()
                            .chunks(2)
                            .map(|p| String::from_utf8_lossy(p).into_owned())
                            .collect::<Vec<_>>()
                            .join(" ")
                    });
                    c.eq("ID", id);
                }
                17 => {
                    c.eq("Locator", s("locator"));
                    c.eq("Bank Locator", s("bank_locator"));
                    c.eq("Manufacturer", s("manufacturer"));
                    c.eq("Serial Number", s("serial"));
                    c.eq("Asset Tag", s("asset_tag"));
                    c.eq("Part Number", s("part_number"));
                    if !d.fields.get("Size").is_some_and(|x| x.ends_with("kB")) {
                        c.eq("Size", size_text(&r["size_mib"]));
                    }
                    c.eq(
                        "Speed",
                        r["speed_mts"].as_u64().map(|m| format!("{m} MT/s")),
                    );
                    c.eq(
                        "Total Width",
                        r["total_width"].as_u64().map(|m| format!("{m} bits")),
                    );
                    c.eq(
                        "Data Width",
                        r["data_width"].as_u64().map(|m| format!("{m} bits")),
                    );
                }
                _ => {}
            }
            let skipped: &[&str] = NOT_COMPARED
                .iter()
                .find(|(t, _, _)| *t == d.kind)
                .map_or(&[], |(_, f, _)| f);
            for f in d.fields.keys() {
                if skipped.contains(&f.as_str()) {
                    exceptions_seen.insert((d.kind, f.clone()));
                }
                if !c.handled.contains(&f.as_str()) && !skipped.contains(&f.as_str()) {
                    c.mismatches.push(format!(
                        "{name} handle {:#06x} type {}: dmidecode prints {f:?}, which is neither compared nor listed in NOT_COMPARED",
                        d.handle, d.kind
                    ));
                }
            }
            total_fields += c.compared;
            all_mismatches.extend(c.mismatches);
        }
    }
    assert!(
        all_mismatches.is_empty(),
        "{} mismatches:\n{}",
        all_mismatches.len(),
        all_mismatches.join("\n")
    );
    assert!(total_fields > 300, "only {total_fields} fields compared");
    // The exception list holds only fields dmidecode really printed in this data.
    let unused: Vec<String> = NOT_COMPARED
        .iter()
        .flat_map(|(t, fs, _)| fs.iter().map(move |f| (*t, *f)))
        .filter(|(t, f)| !exceptions_seen.contains(&(*t, (*f).to_owned())))
        .map(|(t, f)| format!("type {t} {f}"))
        .collect();
    assert!(
        unused.is_empty(),
        "NOT_COMPARED lists fields no dump printed: {unused:?}"
    );
    eprintln!("compared {total_fields} fields with dmidecode");
}
