//! SMBIOS decoding properties over generated tables: whatever the bytes, decoding returns
//! records or an error with an in-range offset, and a well-formed table reads back exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use boardproof_formats::smbios::{self, Table, Version};
use proptest::prelude::*;

const V3: Version = Version {
    major: 3,
    minor: 3,
    docrev: 0,
};

/// Walks a table to its end, decoding every structure. Returns (type, handle) of each good one.
fn walk(t: &Table<'_>, len: usize) -> Vec<(u8, u16)> {
    let mut seen = Vec::new();
    for s in t.structures() {
        match s {
            Ok(s) => {
                let _ = smbios::decode(&s, t.version());
                seen.push((s.kind, s.handle));
            }
            Err(e) => {
                assert!(e.offset <= len + 32, "offset {} beyond {len}", e.offset);
                assert!(!e.to_string().is_empty());
                break;
            }
        }
    }
    seen
}

/// One structure to generate: type, handle, formatted area and strings.
#[derive(Debug, Clone)]
struct Gen {
    kind: u8,
    handle: u16,
    formatted: Vec<u8>,
    strings: Vec<Vec<u8>>,
}

fn structure() -> impl Strategy<Value = Gen> {
    (
        prop_oneof![
            Just(0u8),
            Just(1),
            Just(2),
            Just(3),
            Just(4),
            Just(9),
            Just(16),
            Just(17),
            Just(38),
            Just(39),
            Just(41),
            42u8..126
        ],
        0u16..0xFEFF,
        proptest::collection::vec(any::<u8>(), 0..120),
        proptest::collection::vec(proptest::collection::vec(1u8..=255, 1..20), 0..6),
    )
        .prop_map(|(kind, handle, formatted, strings)| Gen {
            kind,
            handle,
            formatted,
            strings,
        })
}

fn encode(structs: &[Gen]) -> Vec<u8> {
    let mut out = Vec::new();
    for g in structs {
        out.push(g.kind);
        out.push(u8::try_from(4 + g.formatted.len()).unwrap());
        out.extend_from_slice(&g.handle.to_le_bytes());
        out.extend_from_slice(&g.formatted);
        if g.strings.is_empty() {
            out.extend_from_slice(&[0, 0]);
        } else {
            for s in &g.strings {
                out.extend_from_slice(s);
                out.push(0);
            }
            out.push(0);
        }
    }
    out.extend_from_slice(&[127, 4, 0xFF, 0xFE, 0, 0]);
    out
}

/// A valid 24-byte SMBIOS 3.0 entry point with its table at offset 32.
fn entry_point_v3(max_size: u32) -> Vec<u8> {
    let mut ep = b"_SM3_".to_vec();
    ep.push(0); // checksum, set below
    ep.extend_from_slice(&[0x18, 3, 3, 0, 1, 0]);
    ep.extend_from_slice(&max_size.to_le_bytes());
    ep.extend_from_slice(&32u64.to_le_bytes());
    let sum = ep.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    ep[5] = 0u8.wrapping_sub(sum);
    ep
}

#[test]
fn the_generated_entry_point_opens() {
    let mut file = entry_point_v3(6);
    file.resize(32, 0);
    file.extend_from_slice(&[127, 4, 0xFF, 0xFE, 0, 0]);
    let (_, t) = smbios::from_dump(&file).unwrap();
    assert_eq!(walk(&t, file.len()), [(127, 0xFEFF)]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes after a valid 3.x entry point: no panic, errors carry an in-range offset.
    #[test]
    fn arbitrary_table_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let t = Table::new(&bytes, 0, V3, None);
        walk(&t, bytes.len());
    }

    /// Any bytes as a whole dump file (entry point included).
    #[test]
    fn arbitrary_dump_files_never_panic(
        head in prop_oneof![Just(b"_SM3_".to_vec()), Just(b"_SM_".to_vec()), Just(b"_DMI_".to_vec())],
        rest in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut file = head;
        file.extend(rest);
        if let Ok((_, t)) = smbios::from_dump(&file) {
            walk(&t, file.len());
        }
    }

    /// Random table bytes behind a valid SMBIOS 3.0 entry point (checksum right, table at
    /// offset 32, any maximum size): the dump always opens, so the walk runs on every case
    /// (random entry points almost never pass the checksum, so the test above rarely walks).
    #[test]
    fn arbitrary_tables_behind_a_valid_entry_point_never_panic(
        table in proptest::collection::vec(any::<u8>(), 0..2048),
        max_size in 0u32..4096,
        structures in proptest::collection::vec(structure(), 0..6),
    ) {
        for body in [table.clone(), [encode(&structures), table].concat()] {
            let mut file = entry_point_v3(max_size);
            file.resize(32, 0);
            file.extend_from_slice(&body);
            let (_, t) = smbios::from_dump(&file).unwrap();
            walk(&t, file.len());
        }
    }

    /// A well-formed table reads back with the same types, handles and strings.
    #[test]
    fn generated_tables_read_back(structs in proptest::collection::vec(structure(), 0..24)) {
        let bytes = encode(&structs);
        let t = Table::new(&bytes, 0, V3, None);
        let got: Vec<_> = t.structures().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(got.len(), structs.len() + 1);
        for (g, s) in structs.iter().zip(&got) {
            prop_assert_eq!((g.kind, g.handle), (s.kind, s.handle));
            let strings: Vec<&[u8]> = s.string_set().collect();
            let want: Vec<&[u8]> = g.strings.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(strings, want);
            let _ = smbios::decode(s, V3);
        }
        prop_assert_eq!(got.last().unwrap().kind, 127);
    }

    /// One flipped byte in a well-formed table: records up to the damage, then maybe an error.
    #[test]
    fn a_flipped_byte_never_panics(
        structs in proptest::collection::vec(structure(), 1..12),
        at in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let mut bytes = encode(&structs);
        let i = at.index(bytes.len());
        bytes[i] ^= mask;
        walk(&Table::new(&bytes, 0, V3, None), bytes.len());
    }
}
