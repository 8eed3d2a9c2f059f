//! The transparency log against published vectors and against itself: RFC 6962's test tree
//! (the roots certificate-transparency and Go's tlog test with), Go's signed-note example key,
//! every inclusion and consistency proof of a 40-leaf log verified offline, tampered proofs,
//! checkpoints and stored rows caught.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use boardproof_ledger::store::Store;
use boardproof_ledger::tlog::{self, LogKey};
use boardproof_ledger::Error;

fn key(origin: &str) -> LogKey {
    let sk = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    LogKey::new(origin, &sk).unwrap()
}

/// RFC 6962 test inputs and the roots of their first n leaves (as in certificate-transparency's
/// and Go's golang.org/x/mod/sumdb/tlog tests).
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn roots_equal_rfc6962_test_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let k = key("boardproof.test/log");
    for (n, leaf) in LEAVES.iter().enumerate() {
        tlog::append(store.log(), &k, &[hex::decode(leaf).unwrap()], "t").unwrap();
        let root = tlog::root(store.log(), n as u64 + 1).unwrap();
        assert_eq!(hex::encode(root), ROOTS[n], "root of {} leaves", n + 1);
    }
}

/// Go's published signed-note example: the private key of "PeterNeumann" gives its published
/// verifier key, so checkpoints signed here verify wherever Go's note package does.
#[test]
fn log_keys_match_gos_signed_note_example() {
    use base64::Engine;
    let private = base64::engine::general_purpose::STANDARD
        .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        .unwrap();
    let sk = ed25519_dalek::SigningKey::from_bytes(&private[1..].try_into().unwrap());
    let k = LogKey::new("PeterNeumann", &sk).unwrap();
    assert_eq!(
        k.verifier,
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let (_, note) = tlog::append(store.log(), &k, &[b"entry".to_vec()], "t").unwrap();
    let text = String::from_utf8(note.clone()).unwrap();
    assert!(text.starts_with("PeterNeumann\n1\n"), "{text}");
    assert!(text.contains("\n\n\u{2014} PeterNeumann x08go"), "{text}");
    // Go's own note, signed with the same key, is byte for byte the one Go's docs show.
    let go_text = "If you think cryptography is the answer to your problem,\n\
                   then you don't know what your problem is.\n";
    assert_eq!(
        String::from_utf8(k.sign_note(go_text.as_bytes()).unwrap()).unwrap(),
        format!(
            "{go_text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        )
    );
    let (origin, size, _) = tlog::open_checkpoint(&note, &k.verifier).unwrap();
    assert_eq!((origin.as_str(), size), ("PeterNeumann", 1));
}

/// A verifier key's base64 part holds `+` and `/` as often as not (a log whose key had one
/// was refused once: the key was cut at its last `+`). Keys with both, and with neither.
#[test]
fn checkpoints_open_whatever_characters_the_verifier_key_holds() {
    let key_part = |k: &LogKey| k.verifier.splitn(3, '+').nth(2).unwrap().to_owned();
    let mut plus = 0;
    let mut neither = 0;
    for seed in 0..=255u8 {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let k = LogKey::new("boardproof.test/log", &sk).unwrap();
        let part = key_part(&k);
        let has_plus = part.contains('+');
        if has_plus {
            plus += 1;
        } else if !part.contains('/') {
            neither += 1;
        }
        let note = k
            .sign_note(b"boardproof.test/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            .unwrap();
        let (origin, size, _) = tlog::open_checkpoint(&note, &k.verifier)
            .unwrap_or_else(|e| panic!("seed {seed}, verifier {}: {e}", k.verifier));
        assert_eq!((origin.as_str(), size), ("boardproof.test/log", 1));
    }
    assert!(
        plus > 10 && neither > 10,
        "{plus} keys with '+', {neither} with neither"
    );
}

#[test]
fn every_proof_of_a_40_leaf_log_verifies_offline_and_tampering_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let k = key("boardproof.test/log");
    let mut notes = vec![Vec::new()];
    let leaves: Vec<Vec<u8>> = (0..40u32)
        .map(|i| format!("verdict {i}").into_bytes())
        .collect();
    for leaf in &leaves {
        let (_, note) = tlog::append(store.log(), &k, std::slice::from_ref(leaf), "t").unwrap();
        notes.push(note);
    }
    let conn = store.log();
    assert_eq!(tlog::size(conn).unwrap(), 40);
    for t in 1..=40u64 {
        let note = &notes[t as usize];
        for n in 0..t {
            let proof = tlog::prove_inclusion(conn, n, t).unwrap();
            let leaf = &leaves[n as usize];
            tlog::verify_inclusion(note, &k.verifier, leaf, n, &proof).unwrap();
            // Another leaf, another index, one flipped bit: refused.
            assert!(tlog::verify_inclusion(note, &k.verifier, b"forged", n, &proof).is_err());
            if t > 1 {
                let other = (n + 1) % t;
                assert!(tlog::verify_inclusion(note, &k.verifier, leaf, other, &proof).is_err());
                let mut bad = proof.clone();
                bad[0][5] ^= 1;
                assert!(tlog::verify_inclusion(note, &k.verifier, leaf, n, &bad).is_err());
                let mut short = proof.clone();
                short.pop();
                assert!(tlog::verify_inclusion(note, &k.verifier, leaf, n, &short).is_err());
            }
        }
        for old in 1..=t {
            let proof = tlog::prove_consistency(conn, old, t).unwrap();
            tlog::verify_consistency(&notes[old as usize], note, &k.verifier, &proof).unwrap();
            if old < t {
                assert!(
                    tlog::verify_consistency(note, &notes[old as usize], &k.verifier, &proof)
                        .is_err()
                );
            }
        }
    }
    // A checkpoint with any byte changed, or checked with another key, is refused.
    let note = notes[40].clone();
    for i in 0..note.len() {
        let mut b = note.clone();
        b[i] ^= 0x01;
        assert!(tlog::open_checkpoint(&b, &k.verifier).is_err(), "byte {i}");
    }
    let other = key("boardproof.test/other");
    assert!(matches!(
        tlog::open_checkpoint(&note, &other.verifier),
        Err(Error::LogSignature(_))
    ));
    // Out of range requests are errors, not panics.
    assert!(tlog::prove_inclusion(conn, 40, 40).is_err());
    assert!(tlog::prove_inclusion(conn, 0, 41).is_err());
    assert!(tlog::prove_consistency(conn, 0, 5).is_err());
    assert!(tlog::prove_consistency(conn, 6, 5).is_err());
}

#[test]
fn audit_replays_the_log_and_catches_edited_storage() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let k = key("boardproof.test/log");
    for i in 0..10u32 {
        let batch: Vec<Vec<u8>> = (0..3).map(|j| format!("m {i} {j}").into_bytes()).collect();
        tlog::append(store.log(), &k, &batch, "t").unwrap();
    }
    let a = tlog::audit(store.log(), &k.verifier).unwrap();
    assert_eq!((a.leaves, a.checkpoints), (30, 10));
    assert!(a.problems.is_empty(), "{:?}", a.problems);

    // One leaf's bytes edited in the database.
    store
        .log()
        .execute("UPDATE tlog_leaves SET data = X'00' WHERE idx = 17", [])
        .unwrap();
    let a = tlog::audit(store.log(), &k.verifier).unwrap();
    assert!(!a.problems.is_empty());
    assert!(
        a.problems
            .iter()
            .any(|p| p.contains("checkpoint of 18 leaves")),
        "{:?}",
        a.problems
    );
    assert!(
        a.problems.iter().any(|p| p.contains("stored tree hashes")),
        "{:?}",
        a.problems
    );

    // A stored hash row deleted: proofs and audit say so, nothing panics.
    let dir2 = tempfile::tempdir().unwrap();
    let mut s2 = Store::open(dir2.path()).unwrap();
    for i in 0..8u32 {
        tlog::append(s2.log(), &k, &[vec![i as u8]], "t").unwrap();
    }
    s2.log()
        .execute("DELETE FROM tlog_hashes WHERE idx = 2", [])
        .unwrap();
    assert!(matches!(
        tlog::prove_inclusion(s2.log(), 2, 8),
        Err(Error::LogHash(2))
    ));
    let a = tlog::audit(s2.log(), &k.verifier).unwrap();
    assert!(
        a.problems
            .iter()
            .any(|p| p.contains("written with entry 1 ")),
        "{:?}",
        a.problems
    );
}
