//! The hot paths whose instruction counts scripts/perf-guard.sh checks under callgrind: a
//! regression guard that holds on a noisy machine, where wall-clock figures do not. Each case
//! prepares its input, then runs the measured work inside `measured` (callgrind collects only
//! there: `--toggle-collect=*measured*`), REPEAT times.
//!
//! `instructions CASE [REPEAT]` runs one case; `instructions --list` names them; run by
//! `cargo bench` (no case) it runs every case once, so a broken case fails there too.

// A bench harness: it panics on a fixture it cannot read, which is a failed run.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/server.rs"]
mod server;

use std::hint::black_box;
use std::path::{Path, PathBuf};

use boardproof_evidence::Reference;
use boardproof_formats::{eventlog, smbios, uefi};
use boardproof_ledger::dsse::Envelope;
use boardproof_ledger::keys::{Algorithm, PrivateKey};

const CASES: &[&str] = &[
    "verify-200-clean",
    "verify-200-one-added",
    "eventlog-parse-replay",
    "smbios-decode",
    "firmware-inspect-ovmf",
    "dsse-ed25519-verify",
    "dsse-p256-verify",
    "rsa2048-pss-verify",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    let p = p.as_ref();
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The only function callgrind collects in: everything `work` does, `repeat` times.
#[inline(never)]
fn measured(repeat: u32, work: &mut dyn FnMut()) {
    for _ in 0..repeat {
        work();
    }
}

fn dsse(alg: Algorithm) -> Box<dyn FnMut()> {
    let key = PrivateKey::generate(alg);
    let payload = vec![b'x'; 1024];
    let bytes =
        Envelope::sign("application/vnd.boardproof.bench", &payload, &key).to_canonical_bytes();
    let public = key.public();
    Box::new(move || {
        let env = Envelope::from_canonical_bytes(black_box(&bytes)).unwrap();
        black_box(
            env.verify(&public, "application/vnd.boardproof.bench")
                .unwrap(),
        );
    })
}

/// RSA-2048 PSS with SHA-256, as an RSA attestation key signs a quote: the key comes from a
/// fixed seed, so every run verifies the same signature.
fn rsa_pss() -> Box<dyn FnMut()> {
    use boardproof_signature::{HashAlg, PublicKey, Scheme};
    use rand_chacha::rand_core::SeedableRng;
    use rsa::signature::{RandomizedSigner, SignatureEncoding};
    use rsa::traits::PublicKeyParts;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    let sk = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let (n, e) = (sk.n().to_bytes_be(), sk.e().to_bytes_be());
    let msg = [0x5au8; 97];
    let sig = rsa::pss::SigningKey::<sha2::Sha256>::new(sk)
        .sign_with_rng(&mut rng, &msg)
        .to_vec();
    Box::new(move || {
        let key = PublicKey::Rsa { n: &n, e: &e };
        boardproof_signature::verify(key, Scheme::RsaPss(HashAlg::Sha256), black_box(&msg), &sig)
            .unwrap();
    })
}

/// The prepared work of `case`.
fn prepare(case: &str) -> Box<dyn FnMut()> {
    match case {
        "verify-200-clean" | "verify-200-one-added" => {
            let ev = server::evidence(200);
            let reference = Reference::from_evidence(&ev);
            let mut now = ev.clone();
            now.inventory.components.reverse();
            if case.ends_with("one-added") {
                now.inventory.components.push(server::component(1000));
            }
            Box::new(move || {
                black_box(boardproof_verify::verify(&reference, black_box(&now)));
            })
        }
        "eventlog-parse-replay" => {
            let bytes = read(workspace().join("testdata/lab/golden/eventlog.bin"));
            Box::new(move || {
                let log = eventlog::parse(black_box(&bytes)).unwrap();
                black_box(eventlog::replay(&log).unwrap());
            })
        }
        "smbios-decode" => {
            let bytes = read(
                workspace().join("../shared/testdata/smbios/jcreekmore-dell-precision-3620.dump"),
            );
            Box::new(move || {
                let (ep, table) = smbios::from_dump(black_box(&bytes)).unwrap();
                black_box(boardproof_collect::smbios::inventory(&ep, &table));
            })
        }
        "firmware-inspect-ovmf" => {
            let bytes = read("/usr/share/OVMF/OVMF_CODE_4M.fd");
            Box::new(move || {
                black_box(uefi::parse_image(black_box(&bytes)).unwrap());
            })
        }
        "dsse-ed25519-verify" => dsse(Algorithm::Ed25519),
        "dsse-p256-verify" => dsse(Algorithm::EcdsaP256),
        "rsa2048-pss-verify" => rsa_pss(),
        other => {
            eprintln!(
                "instructions: no case {other:?}; cases: {}",
                CASES.join(", ")
            );
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list") => {
            for c in CASES {
                println!("{c}");
            }
        }
        Some(case) if !case.starts_with('-') => {
            let repeat = match args.get(1).map(|r| r.parse::<u32>()) {
                None => 1,
                Some(Ok(n)) if n > 0 => n,
                Some(_) => {
                    eprintln!("instructions: REPEAT must be a positive number");
                    std::process::exit(2);
                }
            };
            let mut work = prepare(case);
            // Once outside the count: the allocator's first large request after setup merges
            // every small block setup freed (glibc's malloc_consolidate), a one-off that was
            // half of the verify case's count; the guard counts the steady state.
            work();
            measured(repeat, &mut *work);
        }
        // `cargo bench` passes `--bench`: every case once.
        _ => {
            for c in CASES {
                let mut work = prepare(c);
                measured(1, &mut *work);
                println!("instructions: {c} ran");
            }
        }
    }
}
