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
}

impl Compare<'_> {
    /// Compares when dmidecode printed the field.
    fn eq(&mut self, field: &str, ours: Option<String>) {
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
            let Some(r) = record_for(&sm, d.kind, d.handle) else {
                continue;
            };
            let mut c = Compare {
                file: name.clone(),
                dmi: d,
                mismatches: Vec::new(),
                compared: 0,
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
    eprintln!("compared {total_fields} fields with dmidecode");
}
