//! USB and I2C on a fake machine (this VM has neither): what collect records, and that an added
//! device on either bus is a critical `component-added`.

use crate::e2e::{keys, manifest_for, verify_json};
use crate::fixture::Machine;

fn components(ev: &serde_json::Value, class: &str) -> Vec<serde_json::Value> {
    ev["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["class"] == class)
        .cloned()
        .collect()
}

#[test]
fn usb_and_i2c_devices_are_recorded_and_an_added_one_is_found() {
    let m = Machine::golden();
    m.usb(
        None,
        &[
            ("idVendor", "1d6b"),
            ("idProduct", "0002"),
            ("bcdDevice", "0601"),
            ("speed", "480"),
            ("product", "xHCI Host Controller"),
        ],
    );
    m.usb(
        Some("2"),
        &[
            ("idVendor", "0781"),
            ("idProduct", "5581"),
            ("bcdDevice", "0100"),
            ("serial", "4C530001230508117340"),
            ("manufacturer", "SanDisk"),
            ("product", "Ultra"),
            ("speed", "480"),
        ],
    );
    m.i2c_client(0x50, "ee1004");

    let work = tempfile::tempdir().unwrap();
    let ev_path = work.path().join("golden.json");
    let ev = m.collect(&ev_path);
    let usb = components(&ev, "usb");
    assert_eq!(
        usb.len(),
        2,
        "root hub and stick, not the interface: {usb:?}"
    );
    let stick = usb
        .iter()
        .find(|c| c["identity"]["vendor"] == "0781")
        .unwrap();
    assert_eq!(stick["identity"]["serial"], "4C530001230508117340");
    assert_eq!(stick["identity"]["bcd_device"], "0100");
    assert_eq!(stick["location"], "pci0000:00/14.0/usb480/2");
    let hub = usb
        .iter()
        .find(|c| c["identity"]["vendor"] == "1d6b")
        .unwrap();
    assert!(
        hub["identity"].get("bcd_device").is_none(),
        "a root hub's bcdDevice is the kernel version, not identity: {hub}"
    );
    let i2c = components(&ev, "i2c");
    assert_eq!(i2c.len(), 1, "{i2c:?}");
    // The I/O address the firmware assigned is not identity: it moves when another device
    // takes I/O space.
    assert_eq!(
        i2c[0]["location"],
        "pci0000:00/1f.4/SMBus I801 adapter@0x50"
    );
    assert_eq!(i2c[0]["identity"]["adapter"], "SMBus I801 adapter");
    assert_eq!(
        i2c[0]["attributes"]["adapter_name"],
        "SMBus I801 adapter at efa0"
    );
    assert_eq!(i2c[0]["identity"]["name"], "ee1004");
    let i2c_src = ev["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "i2c")
        .unwrap();
    assert!(
        i2c_src["notes"][0]
            .as_str()
            .unwrap()
            .contains("nothing declared does not appear"),
        "the limit of the i2c source is always said: {i2c_src}"
    );

    let k = keys();
    let man = manifest_for(&ev_path, &k);

    // An implant on each bus.
    m.usb(
        Some("3"),
        &[
            ("idVendor", "1a86"),
            ("idProduct", "7523"),
            ("bcdDevice", "0264"),
            ("speed", "12"),
        ],
    );
    m.i2c_client(0x2c, "unknown");
    let now = work.path().join("now.json");
    m.collect(&now);
    let (c, r) = verify_json(&now, &man, &k);
    assert_eq!(c, 1, "{r}");
    let got: Vec<(String, String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter()
            .all(|(k, s, _)| k == "component-added" && s == "critical"),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(_, _, s)| s.starts_with("usb pci0000:00/14.0/usb480/3")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(_, _, s)| s.starts_with("i2c pci0000:00/1f.4/SMBus I801 adapter@0x2c")),
        "{got:?}"
    );
}
