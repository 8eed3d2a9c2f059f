//! PCI names from hwdata's pci.ids, checked against `lspci -mm -nn` on the machine running the
//! test (display only: names are never identity).

use std::collections::BTreeMap;
use std::process::Command;

use crate::util::require_tool;

/// Splits one `lspci -mm -nn -D` line into its quoted and bare fields.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                if !quoted {
                    out.push(std::mem::take(&mut cur));
                }
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// "Intel Corporation [8086]" -> "Intel Corporation"; lspci's "Device [0d57]" means unknown.
fn name(field: &str) -> Option<String> {
    let n = field.rsplit_once(" [").map_or(field, |(n, _)| n).to_owned();
    (n != "Device" && !n.is_empty()).then_some(n)
}

#[test]
fn names_match_lspci() {
    if !require_tool("lspci") {
        return;
    }
    let db = boardproof_collect::load_pci_ids().expect("hwdata pci.ids installed");
    let out = Command::new("lspci")
        .args(["-mm", "-nn", "-D"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f = fields(line);
        let addr = &f[0];
        let dev = std::path::Path::new("/sys/bus/pci/devices").join(addr);
        let hex = |a: &str| {
            let t = std::fs::read_to_string(dev.join(a)).unwrap();
            u32::from_str_radix(t.trim().trim_start_matches("0x"), 16).unwrap()
        };
        let (v, d, class) = (hex("vendor") as u16, hex("device") as u16, hex("class"));
        let (sv, sd) = (
            hex("subsystem_vendor") as u16,
            hex("subsystem_device") as u16,
        );
        // Fields: slot, class, vendor, device, then -rXX / -pXX flags, then svendor, sdevice.
        let quoted: Vec<&String> = f
            .iter()
            .skip(1)
            .filter(|x| !x.starts_with('-') || x.contains('['))
            .collect();
        let mut ours = BTreeMap::new();
        let mut theirs = BTreeMap::new();
        ours.insert("class", db.class(class).map(str::to_owned));
        theirs.insert("class", name(quoted[0]));
        ours.insert("vendor", db.vendor(v).map(str::to_owned));
        theirs.insert("vendor", name(quoted[1]));
        ours.insert("device", db.device(v, d).map(str::to_owned));
        theirs.insert("device", name(quoted[2]));
        if quoted.len() >= 5 {
            ours.insert("svendor", db.vendor(sv).map(str::to_owned));
            theirs.insert("svendor", name(quoted[3]));
            ours.insert("sdevice", db.subsystem(v, d, sv, sd).map(str::to_owned));
            theirs.insert("sdevice", name(quoted[4]));
        }
        assert_eq!(ours, theirs, "{line}");
        checked += 1;
    }
    assert!(checked > 0, "lspci listed no device");
}
