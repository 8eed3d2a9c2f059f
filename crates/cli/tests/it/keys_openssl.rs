//! Keys and signatures against OpenSSL: keys OpenSSL makes load and sign here, signatures made
//! here verify with OpenSSL and the other way round, for Ed25519 and ECDSA P-256.

use std::path::Path;
use std::process::Command;

use boardproof_ledger::keys::{load_private_key, load_public_key, Algorithm};

use crate::e2e::verify_json;
use crate::fixture::Machine;
use crate::util::{code, require_tool, run, stderr};

fn openssl(args: &[&str]) -> std::process::Output {
    let o = Command::new("openssl").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn openssl_keys_and_signatures_interoperate() {
    if !require_tool("openssl") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let m = Machine::golden();
    let ev = w.join("ev.json");
    m.collect(&ev);
    for (alg, gen) in [
        (Algorithm::Ed25519, vec!["-algorithm", "ed25519"]),
        (
            Algorithm::EcdsaP256,
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
    ] {
        let name = alg.as_str();
        let key = w.join(format!("{name}.pem"));
        let public = w.join(format!("{name}.pub"));
        let mut a = vec!["genpkey"];
        a.extend(&gen);
        a.extend(["-out", s(&key)]);
        openssl(&a);
        openssl(&["pkey", "-in", s(&key), "-pubout", "-out", s(&public)]);
        let sk = load_private_key(&key).unwrap();
        let pk = load_public_key(&public).unwrap();
        assert_eq!((sk.algorithm(), pk.algorithm()), (alg, alg));
        assert_eq!(sk.public(), pk);
        // Key id: SHA-256 of the raw key, i.e. the SPKI's BIT STRING contents.
        let der = openssl(&["pkey", "-pubin", "-in", s(&public), "-outform", "DER"]).stdout;
        let raw = &der[der.len() - if alg == Algorithm::Ed25519 { 32 } else { 65 }..];
        use sha2::Digest;
        assert_eq!(pk.key_id(), hex::encode(sha2::Sha256::digest(raw)));

        // A manifest signed with OpenSSL's key verifies here, and its DSSE signature verifies
        // with OpenSSL over the PAE.
        let man = w.join(format!("{name}.manifest"));
        let o = run(&[
            "manifest",
            "create",
            s(&ev),
            "--key",
            s(&key),
            "--out",
            s(&man),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let k = crate::e2e::Keys::from_files(&key, &public);
        assert_eq!(verify_json(&ev, &man, &k).0, 0);
        let env =
            boardproof_ledger::dsse::Envelope::from_canonical_bytes(&std::fs::read(&man).unwrap())
                .unwrap();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let pae =
            boardproof_ledger::dsse::pae(&env.payload_type, &b64.decode(&env.payload).unwrap());
        let (pae_f, sig_f) = (w.join("pae.bin"), w.join("sig.bin"));
        std::fs::write(&pae_f, &pae).unwrap();
        std::fs::write(&sig_f, b64.decode(&env.signatures[0].sig).unwrap()).unwrap();
        let verify_args: Vec<&str> = match alg {
            Algorithm::Ed25519 => vec![
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                s(&public),
                "-rawin",
                "-in",
                s(&pae_f),
                "-sigfile",
                s(&sig_f),
            ],
            Algorithm::EcdsaP256 => vec![
                "dgst",
                "-sha256",
                "-verify",
                s(&public),
                "-signature",
                s(&sig_f),
                s(&pae_f),
            ],
        };
        openssl(&verify_args);

        // OpenSSL's signature verifies here; over another message it does not.
        let msg = w.join("msg");
        std::fs::write(&msg, b"boardproof interop").unwrap();
        let sig = w.join("openssl.sig");
        match alg {
            Algorithm::Ed25519 => openssl(&[
                "pkeyutl",
                "-sign",
                "-inkey",
                s(&key),
                "-rawin",
                "-in",
                s(&msg),
                "-out",
                s(&sig),
            ]),
            Algorithm::EcdsaP256 => openssl(&[
                "dgst",
                "-sha256",
                "-sign",
                s(&key),
                "-out",
                s(&sig),
                s(&msg),
            ]),
        };
        let sig = std::fs::read(&sig).unwrap();
        assert!(pk.verify(b"boardproof interop", &sig), "{name}");
        assert!(!pk.verify(b"boardproof interoq", &sig), "{name}");
    }
}
