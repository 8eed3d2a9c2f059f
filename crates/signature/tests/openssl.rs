//! Differential: signatures OpenSSL made, over every scheme the stack supports, verify here;
//! the same signatures over a changed message are refused here and by OpenSSL; schemes
//! outside the stack are `Unsupported`, never valid.

use boardproof_formats::tpm2::HashAlg;
use boardproof_signature::{verify, Curve, EcdsaEncoding, Error, PublicKey, Scheme};
use std::path::Path;
use std::process::Command;

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl {args:?}: {e}"));
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn digest_opt(h: HashAlg) -> &'static str {
    match h {
        HashAlg::Sha1 => "-sha1",
        HashAlg::Sha256 => "-sha256",
        HashAlg::Sha384 => "-sha384",
        _ => "-sha512",
    }
}

struct Case {
    key: &'static str,
    scheme: Scheme,
    sigopts: &'static [&'static str],
}

/// Signs `msg` with OpenSSL and returns the signature; `pss` adds the PSS options.
fn sign(dir: &Path, key: &str, h: Option<HashAlg>, sigopts: &[&str]) -> Vec<u8> {
    let mut args: Vec<&str> = match h {
        Some(h) => vec!["dgst", digest_opt(h), "-sign", key],
        None => vec!["pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", "msg"],
    };
    for o in sigopts {
        args.extend(["-sigopt", o]);
    }
    if h.is_some() {
        args.push("msg");
    }
    openssl(&args, dir)
}

/// OpenSSL's verdict on the changed message: it must refuse too.
fn openssl_refuses(dir: &Path, key: &str, h: Option<HashAlg>, sigopts: &[&str]) -> bool {
    let mut args: Vec<&str> = match h {
        Some(h) => vec!["dgst", digest_opt(h), "-prverify", key, "-signature", "sig"],
        None => vec![
            "pkeyutl", "-verify", "-rawin", "-inkey", key, "-sigfile", "sig", "-in", "other",
        ],
    };
    for o in sigopts {
        args.extend(["-sigopt", o]);
    }
    if h.is_some() {
        args.push("other");
    }
    let o = Command::new("openssl")
        .args(&args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        !o.status.success() && (out.contains("failure") || out.contains("Failure")),
        "openssl gave no refusal for {args:?}: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    true
}

fn der_to_fixed(der: &[u8], curve: Curve) -> Vec<u8> {
    match curve {
        Curve::P256 => p256::ecdsa::Signature::from_der(der)
            .expect("openssl's DER")
            .to_bytes()
            .to_vec(),
        Curve::P384 => p384::ecdsa::Signature::from_der(der)
            .expect("openssl's DER")
            .to_bytes()
            .to_vec(),
    }
}

#[test]
fn openssl_signatures_verify_and_changed_messages_do_not() {
    if !boardproof_testkit::require_tool("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("msg"),
        b"the signed bytes, as a TPM quote or a DSSE PAE",
    )
    .unwrap();
    std::fs::write(
        d.join("other"),
        b"the signed bytes, as a TPM quote or a DSSE PAe",
    )
    .unwrap();
    for (name, args) in [
        (
            "rsa2048.pem",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
        ),
        (
            "rsa1024.pem",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        ),
        (
            "rsa3072.pem",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
        ),
        (
            "p256.pem",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (
            "p384.pem",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        ),
        ("ed25519.pem", &["-algorithm", "ED25519"]),
    ] {
        let mut a = vec!["genpkey"];
        a.extend_from_slice(args);
        a.extend(["-out", name]);
        openssl(&a, d);
    }
    let spki = |k: &str| openssl(&["pkey", "-in", k, "-pubout", "-outform", "DER"], d);
    let pkcs1 = |k: &str| {
        openssl(
            &["rsa", "-in", k, "-RSAPublicKey_out", "-outform", "DER"],
            d,
        )
    };
    const PSS: &[&str] = &["rsa_padding_mode:pss", "rsa_pss_saltlen:digest"];
    const PSS_MAX: &[&str] = &["rsa_padding_mode:pss", "rsa_pss_saltlen:max"];
    let mut cases = Vec::new();
    for key in ["rsa2048.pem", "rsa3072.pem"] {
        for h in [
            HashAlg::Sha1,
            HashAlg::Sha256,
            HashAlg::Sha384,
            HashAlg::Sha512,
        ] {
            cases.push(Case {
                key,
                scheme: Scheme::RsaPkcs1(h),
                sigopts: &[],
            });
        }
        for h in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            cases.push(Case {
                key,
                scheme: Scheme::RsaPss(h),
                sigopts: PSS,
            });
            cases.push(Case {
                key,
                scheme: Scheme::RsaPss(h),
                sigopts: PSS_MAX,
            });
        }
    }
    for h in [HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha512] {
        cases.push(Case {
            key: "rsa1024.pem",
            scheme: Scheme::RsaPkcs1(h),
            sigopts: &[],
        });
    }
    for key in ["p256.pem", "p384.pem"] {
        for h in [HashAlg::Sha256, HashAlg::Sha384] {
            for enc in [EcdsaEncoding::Der, EcdsaEncoding::Fixed] {
                cases.push(Case {
                    key,
                    scheme: Scheme::Ecdsa(h, enc),
                    sigopts: &[],
                });
            }
        }
    }
    cases.push(Case {
        key: "ed25519.pem",
        scheme: Scheme::Ed25519,
        sigopts: &[],
    });
    let cases = boardproof_testkit::nonempty(cases, "signature cases");
    let msg = std::fs::read(d.join("msg")).unwrap();
    let other = std::fs::read(d.join("other")).unwrap();
    for c in &cases {
        let h = match c.scheme {
            Scheme::Ed25519 => None,
            Scheme::Ecdsa(h, _) | Scheme::RsaPkcs1(h) | Scheme::RsaPss(h) => Some(h),
        };
        let sig = sign(d, c.key, h, c.sigopts);
        std::fs::write(d.join("sig"), &sig).unwrap();
        let spki = spki(c.key);
        let mut keys = Vec::new();
        let (pkcs1_der, n, e);
        match c.scheme {
            Scheme::RsaPkcs1(_) | Scheme::RsaPss(_) => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                use rsa::traits::PublicKeyParts;
                pkcs1_der = pkcs1(c.key);
                let k = rsa::RsaPublicKey::from_pkcs1_der(&pkcs1_der).unwrap();
                (n, e) = (k.n().to_bytes_be(), k.e().to_bytes_be());
                keys.push(PublicKey::RsaPkcs1Der(&pkcs1_der));
                keys.push(PublicKey::Rsa { n: &n, e: &e });
            }
            Scheme::Ecdsa(..) => {
                let curve = if c.key == "p256.pem" {
                    Curve::P256
                } else {
                    Curve::P384
                };
                let point = &spki[spki.len() - 1 - 2 * curve.size()..];
                keys.push(PublicKey::Ec { curve, point });
            }
            Scheme::Ed25519 => keys.push(PublicKey::Ed25519(&spki[spki.len() - 32..])),
        }
        let sig = match (c.scheme, keys[0]) {
            (Scheme::Ecdsa(_, EcdsaEncoding::Fixed), PublicKey::Ec { curve, .. }) => {
                der_to_fixed(&sig, curve)
            }
            _ => sig,
        };
        for k in keys {
            let what = format!("{} {:?} {:?} ({k:?})", c.key, c.scheme, c.sigopts);
            assert_eq!(verify(k, c.scheme, &msg, &sig), Ok(()), "{what}");
            assert_eq!(
                verify(k, c.scheme, &other, &sig),
                Err(Error::Invalid),
                "{what}"
            );
            let mut flipped = sig.clone();
            let last = flipped.len() - 1;
            flipped[last] ^= 1;
            assert!(verify(k, c.scheme, &msg, &flipped).is_err(), "{what}");
        }
        assert!(openssl_refuses(d, c.key, h, c.sigopts));
    }
}

#[test]
fn pairings_outside_the_stack_are_unsupported_not_valid() {
    let point = [4u8; 65];
    for h in [HashAlg::Sha1, HashAlg::Sha512, HashAlg::Sm3_256] {
        let r = verify(
            PublicKey::Ec {
                curve: Curve::P256,
                point: &point,
            },
            Scheme::Ecdsa(h, EcdsaEncoding::Fixed),
            b"m",
            &[1; 64],
        );
        assert!(matches!(r, Err(Error::Unsupported(_))), "{h:?}: {r:?}");
    }
    let r = verify(
        PublicKey::Ed25519(&[1; 32]),
        Scheme::RsaPkcs1(HashAlg::Sha256),
        b"m",
        &[0],
    );
    assert!(matches!(r, Err(Error::Unsupported(_))), "{r:?}");
    let r = verify(
        PublicKey::Ed25519(&[1; 31]),
        Scheme::Ed25519,
        b"m",
        &[0; 64],
    );
    assert!(matches!(r, Err(Error::BadKey(_))), "{r:?}");
    let r = verify(
        PublicKey::Ec {
            curve: Curve::P384,
            point: &point,
        },
        Scheme::Ecdsa(HashAlg::Sha384, EcdsaEncoding::Fixed),
        b"m",
        &[1; 96],
    );
    assert!(matches!(r, Err(Error::BadKey(_))), "{r:?}");
}

#[test]
fn hostile_signatures_and_keys_never_panic() {
    let n = [0xffu8; 256];
    for len in [0usize, 1, 63, 64, 65, 96, 255, 256, 257, 1000] {
        let sig = vec![0x30u8; len];
        for (key, scheme) in [
            (PublicKey::Ed25519(&[9; 32]), Scheme::Ed25519),
            (
                PublicKey::Ec {
                    curve: Curve::P256,
                    point: &[4; 65],
                },
                Scheme::Ecdsa(HashAlg::Sha384, EcdsaEncoding::Fixed),
            ),
            (
                PublicKey::Rsa {
                    n: &n,
                    e: &[1, 0, 1],
                },
                Scheme::RsaPss(HashAlg::Sha256),
            ),
            (
                PublicKey::Rsa { n: &n, e: &[] },
                Scheme::RsaPkcs1(HashAlg::Sha256),
            ),
            (
                PublicKey::RsaPkcs1Der(&sig),
                Scheme::RsaPss(HashAlg::Sha512),
            ),
        ] {
            assert!(verify(key, scheme, b"m", &sig).is_err());
        }
    }
}
