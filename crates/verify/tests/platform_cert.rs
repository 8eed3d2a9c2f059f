//! Real platform certificates (HIRS, paccor) against evidence of the server they describe:
//! every listed component found, and each kind of difference found as what it is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[allow(dead_code)] // the helpers other tests use
mod common;

use std::path::{Path, PathBuf};

use boardproof_evidence::{Component, ComponentClass, FindingKind, Handled, Inventory, Smbios};
use boardproof_formats::platform_cert::{self, PlatformCert};
use boardproof_formats::smbios::records::{
    Baseboard, Bios, Chassis, MemoryDevice, Processor, System,
};
use boardproof_verify::platform_cert::{apply_deltas, check_deltas, compare};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/platform-cert")
}

fn load(name: &str) -> PlatformCert {
    let bytes = std::fs::read(testdata().join(name)).unwrap();
    platform_cert::parse(&platform_cert::decode_pem_or_der(&bytes).unwrap()).unwrap()
}

fn h<T>(record: T) -> Handled<T> {
    Handled { handle: 0, record }
}

fn s(x: &str) -> Option<String> {
    Some(x.to_owned())
}

/// SMBIOS of the Dell Latitude 5580 that HIRS' laptop certificates describe, written from
/// what the certificate lists (chassis type 10, baseboard 08T986, BIOS 1.5.3, a Core i7 of
/// processor family 198, two Hynix DIMMs).
fn latitude_5580(bios_version: Option<&str>) -> Inventory {
    let smbios = Smbios {
        version: "3.0.0".into(),
        entry_point: "smbios3".into(),
        bios: bios_version.map(|v| Bios {
            vendor: s("Dell Inc."),
            version: s(v),
            ..Bios::default()
        }),
        system: Some(System {
            manufacturer: s("Dell Inc."),
            product: s("Latitude 5580"),
            serial: s("56LMWD2"),
            ..System::default()
        }),
        chassis: vec![h(Chassis {
            manufacturer: s("Dell Inc."),
            chassis_type: Some(10),
            serial: s("56LMWD2"),
            ..Chassis::default()
        })],
        baseboards: vec![h(Baseboard {
            manufacturer: s("Dell Inc."),
            product: s("08T986"),
            version: s("A00"),
            serial: s("/56LMWD2/TW320707A30298/"),
            ..Baseboard::default()
        })],
        processors: vec![h(Processor {
            manufacturer: s("Intel(R) Corporation"),
            family: Some(198),
            version: s("Intel(R) Core(TM) i7-7820HQ CPU @ 2.90GHz"),
            serial: s("To Be Filled By O.E.M."),
            ..Processor::default()
        })],
        memory_devices: ["29AC2764", "29AC274B"]
            .into_iter()
            .map(|serial| {
                h(MemoryDevice {
                    manufacturer: s("80AD000080AD"),
                    part_number: s("HMA81GS6AFR8N-UH"),
                    serial: s(serial),
                    ..MemoryDevice::default()
                })
            })
            .collect(),
        ..Smbios::default()
    };
    Inventory {
        smbios: Some(smbios),
        ..Inventory::default()
    }
}

fn kinds(cert: &PlatformCert, inv: Inventory) -> Vec<(FindingKind, String)> {
    let ev = common::evidence(inv);
    compare(cert, &cert.components, &ev)
        .findings
        .into_iter()
        .map(|f| (f.kind, f.subject))
        .collect()
}

/// HIRS' base certificate lists the system BIOS as class 00130003 (Firmware / System BIOS),
/// "Dell Inc." model "Not Specified" revision "1.5.3". It is SMBIOS type 0's vendor and
/// version: found when they agree, changed when the version differs, removed when the
/// evidence has no type 0.
#[test]
fn hirs_firmware_component_is_smbios_type_0() {
    let cert = load("hirs-laptop.default.1.base.cer");
    let fw: Vec<_> = cert
        .components
        .iter()
        .filter(|c| c.class.as_ref().is_some_and(|k| k.value == "00130003"))
        .collect();
    assert_eq!(fw.len(), 1, "the certificate lists one System BIOS");
    assert_eq!(kinds(&cert, latitude_5580(Some("1.5.3"))), vec![]);
    let changed = kinds(&cert, latitude_5580(Some("1.6.0")));
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].0, FindingKind::ComponentChanged, "{changed:?}");
    assert!(changed[0].1.contains("Dell Inc."), "{changed:?}");
    let gone = kinds(&cert, latitude_5580(None));
    assert_eq!(
        gone.iter().map(|k| k.0).collect::<Vec<_>>(),
        vec![FindingKind::ComponentRemoved],
        "{gone:?}"
    );
}

/// The same laptop with a DIMM of another serial: one finding for that DIMM, nothing else.
#[test]
fn hirs_dimm_swap_is_one_finding() {
    let cert = load("hirs-laptop.default.1.base.cer");
    let mut inv = latitude_5580(Some("1.5.3"));
    if let Some(m) = inv
        .smbios
        .as_mut()
        .and_then(|s| s.memory_devices.get_mut(1))
    {
        m.record.serial = s("DEADBEEF");
    }
    let k = kinds(&cert, inv);
    assert_eq!(k.len(), 1, "{k:?}");
    assert!(k[0].1.contains("HMA81GS6AFR8N-UH"), "{k:?}");
}

/// paccor's certificate uses the SMBIOS, PCIe and storage registries. Its SMBIOS-registry
/// BIOS (type 0: "Dell Inc." model "1.2.16"), system (type 1) and PCI functions (ids as
/// "vendor:subsystem vendor:") are matched as what they are; its TPM (SMBIOS type 43), which
/// nothing here inventories, is a note, not a removed component.
#[test]
fn paccor_registries_are_matched_as_what_they_name() {
    let cert = load("paccor-platform_cert.20250909102720.crt");
    let mut inv = Inventory::default();
    let smbios = Smbios {
        bios: Some(Bios {
            vendor: s("Dell Inc."),
            version: s("1.2.16"),
            ..Bios::default()
        }),
        system: Some(System {
            manufacturer: s("Dell Inc."),
            product: s("Latitude 5510"),
            serial: s("DQXH253"),
            ..System::default()
        }),
        baseboards: vec![h(Baseboard {
            manufacturer: s("Dell Inc."),
            product: s("08PHDH"),
            version: s("A00"),
            serial: s("/DQXH253/TW3207009A0050/"),
            ..Baseboard::default()
        })],
        chassis: vec![h(Chassis {
            manufacturer: s("Dell Inc."),
            chassis_type: Some(10),
            serial: s("DQXH253"),
            ..Chassis::default()
        })],
        processors: vec![h(Processor {
            manufacturer: s("Intel(R) Corporation"),
            family: Some(0xc6),
            version: s("Intel(R) Core(TM) i7-10810U CPU @ 1.10GHz"),
            ..Processor::default()
        })],
        memory_devices: ["37CCD269", "37CCD1F9"]
            .into_iter()
            .map(|serial| {
                h(MemoryDevice {
                    manufacturer: s("80CE000080CE"),
                    part_number: s("M471A1K43DB1-CWE"),
                    serial: s(serial),
                    ..MemoryDevice::default()
                })
            })
            .collect(),
        ..Smbios::default()
    };
    inv.smbios = Some(smbios);
    // Every PCIe-registry component as the PCI function it names, from the certificate's
    // own ids (class code from its class value).
    for (i, c) in cert.components.iter().enumerate() {
        let Some(k) = &c.class else { continue };
        if k.registry.as_deref() != Some(boardproof_formats::component_class::OID_PCIE) {
            continue;
        }
        let ids = |t: &str| -> Vec<String> { t.split(':').map(str::to_lowercase).collect() };
        let (v, d) = (ids(&c.manufacturer), ids(&c.model));
        let mut identity = std::collections::BTreeMap::from([
            ("vendor".to_owned(), v[0].clone()),
            ("device".to_owned(), d[0].clone()),
            ("class".to_owned(), k.value[2..].to_owned()),
        ]);
        if !v[1].is_empty() {
            identity.insert("subsystem_vendor".into(), v[1].clone());
            identity.insert("subsystem_device".into(), d[1].clone());
        }
        identity.insert(
            "revision".into(),
            c.revision.clone().unwrap().to_lowercase(),
        );
        if let Some(sn) = &c.serial {
            identity.insert(
                "serial_number".into(),
                sn.trim_end_matches(':').to_lowercase(),
            );
        }
        inv.components.push(Component {
            class: ComponentClass::Pci,
            identity,
            location: format!("0000:00:{i:02x}.0"),
            description: None,
            attributes: Default::default(),
        });
    }
    inv.components.push(Component {
        class: ComponentClass::Block,
        identity: [
            ("model", "KXG6AZNV512G NVMe SED KIOXIA 512GB"),
            ("serial", "30OF304WF7SL"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect(),
        location: "nvme0n1".into(),
        description: None,
        attributes: Default::default(),
    });
    // The Ethernet function is listed by its MAC: the NIC that has it.
    inv.components.push(Component {
        class: ComponentClass::Nic,
        identity: [
            ("permanent_mac", "cc:48:3a:4b:eb:00"),
            ("pci_id", "8086:0d4e"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect(),
        location: "eth0".into(),
        description: None,
        attributes: Default::default(),
    });
    let ev = common::evidence(inv.clone());
    let out = compare(&cert, &cert.components, &ev);
    assert_eq!(out.findings, vec![], "{:#?}", out.findings);
    assert!(
        out.notes
            .iter()
            .any(|n| n.starts_with("1 listed components") && n.contains("002b0000")),
        "{:?}",
        out.notes
    );
    // Another BIOS version and one PCI function gone: exactly those two.
    let mut inv2 = inv;
    if let Some(b) = inv2.smbios.as_mut().and_then(|s| s.bios.as_mut()) {
        b.version = s("1.3.0");
    }
    let gone = inv2
        .components
        .iter()
        .position(|c| c.identity.get("device").map(String::as_str) == Some("9bca"))
        .unwrap();
    inv2.components.remove(gone);
    let k = kinds(&cert, inv2);
    let mut got: Vec<FindingKind> = k.iter().map(|x| x.0).collect();
    got.sort();
    assert_eq!(
        got,
        vec![FindingKind::ComponentRemoved, FindingKind::ComponentChanged],
        "{k:?}"
    );
}

/// HIRS' delta (validity from 2018-01-05) amends its base (from 2018-01-01): in order. The
/// same delta dated before the base, naming another base, or another platform serial is
/// `delta-invalid`, each naming the delta.
#[test]
fn delta_validity_and_holder_are_judged() {
    let base = load("hirs-laptop_base_platform_cert_addMem.crt");
    let delta = load("hirs-laptop_deltaPlatCert_addMem.crt");
    assert!(delta.is_delta() && !base.is_delta());
    assert!(delta.not_before_unix > base.not_before_unix);
    let name = "delta.crt".to_owned();
    assert_eq!(
        check_deltas(&base, &[(name.clone(), delta.clone())]),
        vec![]
    );
    assert!(
        apply_deltas(&base, std::slice::from_ref(&delta)).len() > base.components.len(),
        "the delta adds a DIMM"
    );

    let mut early = delta.clone();
    early.not_before_unix = base.not_before_unix - 86_400;
    early.not_before = "20171231000000Z".into();
    let f = check_deltas(&base, &[(name.clone(), early.clone())]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].kind, FindingKind::DeltaInvalid);
    assert_eq!(f[0].locus.get("delta"), Some(&name));
    assert!(f[0].message.contains("20171231000000Z"), "{}", f[0].message);

    // Two deltas out of order: the second starts before the first.
    let f = check_deltas(
        &base,
        &[
            (name.clone(), delta.clone()),
            ("b".into(), {
                let mut d = delta.clone();
                d.not_before_unix = delta.not_before_unix - 1;
                d
            }),
        ],
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].locus.get("delta").map(String::as_str), Some("b"));

    let mut other = delta.clone();
    other.holder = Some((base.issuer.clone(), "02".into()));
    other.platform_serial = Some("SOMEONE-ELSES".into());
    let f = check_deltas(&base, &[(name, other)]);
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f.iter().all(|x| x.kind == FindingKind::DeltaInvalid));
}
