//! Duplicated keys must not hide a change: hostile firmware can repeat an SMBIOS handle, and an
//! evidence file can repeat a table or module name. Found by the `evidence_json` fuzz target.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use boardproof_evidence::{
    AcpiTable, Evidence, FindingKind, Inventory, Reference, Smbios, SmbiosStructure,
};
use common::{evidence, kinds};

fn structure(kind: u8, handle: u16, sha: &str) -> SmbiosStructure {
    SmbiosStructure {
        kind,
        handle,
        length: 8,
        sha256: sha.to_owned(),
    }
}

fn with_structures(s: Vec<SmbiosStructure>) -> Evidence {
    evidence(Inventory {
        smbios: Some(Smbios {
            version: "3.3.0".into(),
            entry_point: "smbios3".into(),
            structures: s,
            ..Smbios::default()
        }),
        ..Inventory::default()
    })
}

#[test]
fn a_change_in_the_first_of_two_structures_with_one_handle_is_found() {
    let golden = with_structures(vec![
        structure(11, 0x0b00, "aa"),
        structure(11, 0x0b00, "bb"),
    ]);
    let r = Reference::from_evidence(&golden);
    assert!(kinds(&r, &golden).is_empty(), "self-compare is clean");

    let changed = with_structures(vec![
        structure(11, 0x0b00, "ee"),
        structure(11, 0x0b00, "bb"),
    ]);
    assert_eq!(kinds(&r, &changed), vec![FindingKind::PlatformChanged]);

    let third = with_structures(vec![
        structure(11, 0x0b00, "aa"),
        structure(11, 0x0b00, "bb"),
        structure(11, 0x0b00, "cc"),
    ]);
    assert_eq!(kinds(&r, &third), vec![FindingKind::PlatformChanged]);
}

#[test]
fn repeated_acpi_table_names_are_compared_copy_by_copy() {
    let table = |sha: &str| AcpiTable {
        name: "SSDT1".into(),
        signature: "SSDT".into(),
        oem_id: None,
        oem_table_id: None,
        oem_revision: None,
        length: 36,
        checksum_valid: Some(true),
        sha256: sha.into(),
    };
    let acpi = |t: Vec<AcpiTable>| {
        evidence(Inventory {
            acpi_tables: t,
            ..Inventory::default()
        })
    };
    let golden = acpi(vec![table("aa"), table("bb")]);
    let r = Reference::from_evidence(&golden);
    assert!(kinds(&r, &golden).is_empty());
    assert_eq!(
        kinds(&r, &acpi(vec![table("ee"), table("bb")])),
        vec![FindingKind::AcpiTableChanged]
    );
    assert_eq!(
        kinds(&r, &acpi(vec![table("aa"), table("bb"), table("cc")])),
        vec![FindingKind::AcpiTableAdded]
    );
}

#[test]
fn a_repeated_source_name_is_compared_copy_by_copy() {
    use boardproof_evidence::{SourceReport, SourceStatus};
    let src = |status| SourceReport {
        name: boardproof_evidence::Source::I2c,
        status,
        reason: None,
        items: 0,
        notes: Vec::new(),
    };
    let mut golden = evidence(Inventory::default());
    golden.sources = vec![src(SourceStatus::Unavailable), src(SourceStatus::Ok)];
    let r = Reference::from_evidence(&golden);
    assert!(kinds(&r, &golden).is_empty());
    let mut now = golden.clone();
    now.sources[1].status = SourceStatus::Error;
    assert_eq!(kinds(&r, &now), vec![FindingKind::SourceMissing]);
}
