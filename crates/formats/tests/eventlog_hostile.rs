//! Every real event log under ../shared/testdata/eventlog and the lab's, truncated and with
//! bits flipped: parse, replay and the data decoders return values or errors, never panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;

use boardproof_formats::eventlog;

fn logs() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("../shared/testdata/eventlog"))
        .expect("../shared/testdata/eventlog (is ../shared beside the workspace?)")
        .map(|e| e.unwrap().path())
        .collect();
    files.push(root.join("testdata/lab/golden/eventlog.bin"));
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn exercise(bytes: &[u8]) -> bool {
    match eventlog::parse(bytes) {
        Ok(log) => {
            for e in &log.events {
                let _ = eventlog::describe(e).to_string();
            }
            let _ = eventlog::replay(&log);
            true
        }
        Err(e) => {
            assert!(
                e.offset <= bytes.len(),
                "offset {} beyond {}",
                e.offset,
                bytes.len()
            );
            false
        }
    }
}

#[test]
fn truncations_never_panic_and_cut_events_are_errors() {
    let mut runs = 0;
    for (name, bytes) in logs() {
        let Ok(full) = eventlog::parse(&bytes) else {
            continue;
        };
        let boundaries: Vec<usize> = full.events.iter().map(|e| e.offset).collect();
        for cut in (0..bytes.len()).step_by(7) {
            let ok = exercise(&bytes[..cut]);
            // A cut inside an event must be an error; only a cut at an event boundary parses.
            if ok {
                assert!(boundaries.contains(&cut), "{name}: cut at {cut} parsed");
            }
            runs += 1;
        }
    }
    assert!(runs > 30_000, "{runs}");
}

#[test]
fn bit_flips_never_panic() {
    let mut runs = 0;
    for (_, bytes) in logs() {
        let mut m = bytes.clone();
        // Every 17th byte, low and high bit: each flip parses and replays a whole log, so a
        // denser sweep costs minutes; cargo-fuzz covers the rest (fuzz/fuzz_targets/eventlog.rs).
        for i in (0..bytes.len()).step_by(17) {
            for bit in [0u8, 7] {
                m[i] ^= 1 << bit;
                exercise(&m);
                m[i] ^= 1 << bit;
                runs += 1;
            }
        }
    }
    assert!(runs > 30_000, "{runs}");
}

#[test]
fn hostile_sizes_are_refused_before_allocation() {
    // A crypto-agile header declaring 16 algorithms, then an event claiming a 4 GiB payload.
    let (_, golden) = logs()
        .into_iter()
        .find(|(n, _)| n.ends_with("golden/eventlog.bin"))
        .unwrap();
    let log = eventlog::parse(&golden).unwrap();
    let second = log.events[1].offset;
    let mut m = golden[..second].to_vec();
    m.extend_from_slice(&0u32.to_le_bytes()); // pcr
    m.extend_from_slice(&1u32.to_le_bytes()); // type
    m.extend_from_slice(&0u32.to_le_bytes()); // no digests
    m.extend_from_slice(&u32::MAX.to_le_bytes()); // event size
    let err = eventlog::parse(&m).unwrap_err();
    assert_eq!(err.field, "event data size");
    assert!(err.to_string().contains("at offset"), "{err}");
    // An algorithm the Spec ID event did not declare.
    let mut m = golden[..second].to_vec();
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&0x0012u16.to_le_bytes());
    assert_eq!(eventlog::parse(&m).unwrap_err().field, "digest algorithm");
    // PCR 24 cannot be replayed: an event on it with a digest of every declared algorithm
    // (so nothing else is wrong with it) is refused for its PCR index, at its offset.
    let mut m = golden[..second].to_vec();
    m.extend_from_slice(&24u32.to_le_bytes());
    m.extend_from_slice(&1u32.to_le_bytes());
    let algs = log.algorithms();
    m.extend_from_slice(&u32::try_from(algs.len()).unwrap().to_le_bytes());
    for a in algs {
        m.extend_from_slice(&a.id.to_le_bytes());
        m.extend(std::iter::repeat_n(0xab, usize::from(a.size)));
    }
    m.extend_from_slice(&0u32.to_le_bytes());
    let parsed = eventlog::parse(&m).unwrap();
    assert_eq!(parsed.events.len(), 2);
    let err = eventlog::replay(&parsed).unwrap_err();
    assert_eq!(err.field, "pcr index");
    assert_eq!(err.offset, second);
    // The same event on PCR 23 replays.
    m[second..second + 4].copy_from_slice(&23u32.to_le_bytes());
    let banks = eventlog::replay(&eventlog::parse(&m).unwrap()).unwrap();
    assert!(banks.iter().all(|b| b.error.is_none()));
}
