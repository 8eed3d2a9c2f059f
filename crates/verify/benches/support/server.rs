//! A synthetic large server for benches and the instruction-count guard: 200 components (PCI
//! functions over 8 root ports, DIMMs, NVMe drives), each source ok. Shared so that the
//! criterion figure and the guarded count measure the same input.

use std::collections::BTreeMap;

use boardproof_evidence::{
    Component, ComponentClass, Evidence, Host, Inventory, Source, SourceReport, SourceStatus,
    Volatile, EVIDENCE_SCHEMA,
};

/// A plausible component: PCI functions spread over 8 root ports, the rest keyed by serials.
pub fn component(i: usize) -> Component {
    let (class, location, identity): (ComponentClass, String, Vec<(&str, String)>) = match i % 5 {
        0..=2 => (
            ComponentClass::Pci,
            format!("pci0000:00/{:02x}.0/{:02x}.{}", 0x1c + i % 8, i / 8, i % 8),
            vec![
                ("vendor", "8086".to_owned()),
                ("device", format!("{:04x}", 0x1500 + i)),
                ("class", "020000".to_owned()),
                ("subsystem_vendor", "15d9".to_owned()),
                ("subsystem_device", format!("{:04x}", i)),
                ("revision", "03".to_owned()),
            ],
        ),
        3 => (
            ComponentClass::Dimm,
            format!("P0_DIMM{i}"),
            vec![
                ("manufacturer", "Samsung".to_owned()),
                ("part_number", "M393A4K40DB3-CWE".to_owned()),
                ("serial_number", format!("{:08X}", 0x4000_0000 + i)),
            ],
        ),
        _ => (
            ComponentClass::Block,
            format!("pci0000:00/1d.0/00.0/nvme{i}"),
            vec![
                ("model", "SAMSUNG MZQL23T8HCLS-00A07".to_owned()),
                ("serial", format!("S64HNE0T{i:06}")),
                ("size_bytes", "3840755982336".to_owned()),
            ],
        ),
    };
    Component {
        class,
        identity: identity
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        location,
        description: Some("display name, never compared".to_owned()),
        attributes: BTreeMap::from([("driver".to_owned(), "e1000e".to_owned())]),
    }
}

pub fn evidence(n: usize) -> Evidence {
    Evidence {
        schema: EVIDENCE_SCHEMA.to_owned(),
        host: Host::default(),
        inventory: Inventory {
            components: (0..n).map(component).collect(),
            ..Inventory::default()
        },
        sources: [
            Source::Smbios,
            Source::Pci,
            Source::Usb,
            Source::I2c,
            Source::Block,
            Source::Net,
        ]
        .into_iter()
        .map(|s| SourceReport {
            name: s,
            status: SourceStatus::Ok,
            reason: None,
            items: 1,
            notes: Vec::new(),
        })
        .collect(),
        volatile: Volatile::default(),
    }
}
