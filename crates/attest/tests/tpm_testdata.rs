//! Every file of ../shared/testdata/tpm, read by boardproof and by the reference tools:
//! OpenSSL for the EK and CA certificates (names, serial, validity, key, and the signature
//! verdict on every certificate × issuer pair), tpm2_print for the TPM public areas and the
//! keylime quote. EK certificates as a TPM's NV index holds them (with the PC Client header,
//! with trailing padding) are unwrapped and verified for their own key, and refused for
//! another key, another CA, another time. A reference tool that fails fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use boardproof_attest::ekcert::{self, Certificate};
use boardproof_formats::tpm2::{Attest, Public, PublicKey, Signature};
use boardproof_testkit::{nonempty, require_tool};
use der::{Decode, Encode};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/tpm")
}

fn files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("../shared/testdata/tpm (is ../shared beside the workspace?)")
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    nonempty(v, "files in ../shared/testdata/tpm")
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn is_cert(p: &Path) -> bool {
    ["pem", "cer", "crt"].contains(&p.extension().unwrap().to_str().unwrap())
}

/// Files OpenSSL cannot read as they are: an EK certificate behind the PC Client NV header
/// (tag 0x1001, 0, size, tag 0x1002). The reference reads the DER after those 7 bytes.
const NV_HEADER: &[&str] = &[
    "hirs-ek_cert_with_security_assertions.cer",
    "hirs-nuc-1-ek_cert_untouched.cer",
];

/// A file with padding after the DER, which `openssl asn1parse` refuses ("too long"): the
/// reference reads the DER its own length header spans.
const NV_PADDING: &[&str] = &["hirs-ek_cert_with_padded_bytes.cer"];

/// OpenSSL's input for a certificate file: the file, its DER after the NV header, or its DER
/// without the padding.
fn openssl_input(p: &Path, dir: &Path) -> PathBuf {
    if NV_PADDING.contains(&name(p).as_str()) {
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(&bytes[..2], [0x30, 0x82]);
        let len = usize::from(bytes[2]) << 8 | usize::from(bytes[3]);
        let out = dir.join(name(p));
        std::fs::write(&out, &bytes[..4 + len]).unwrap();
        return out;
    }
    if NV_HEADER.contains(&name(p).as_str()) {
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(&bytes[..2], [0x10, 0x01]);
        assert_eq!(&bytes[5..7], [0x10, 0x02]);
        let out = dir.join(name(p));
        std::fs::write(&out, &bytes[7..]).unwrap();
        return out;
    }
    p.to_path_buf()
}

fn pem(p: &Path) -> bool {
    std::fs::read(p).unwrap().starts_with(b"-----BEGIN")
}

/// Runs openssl; a failed run fails the test.
fn openssl(args: &[&str]) -> String {
    let o = Command::new("openssl").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `openssl x509 -in INPUT -inform FORM -noout ARGS`.
fn x509(input: &Path, inform: &str, args: &[&str]) -> String {
    let mut all = vec![
        "x509",
        "-in",
        input.to_str().unwrap(),
        "-inform",
        inform,
        "-noout",
    ];
    all.extend_from_slice(args);
    openssl(&all)
}

fn ours(p: &Path) -> Certificate {
    let bytes = std::fs::read(p).unwrap();
    if pem(p) {
        let mut v = ekcert::read_certificates(&bytes).unwrap();
        assert_eq!(v.len(), 1, "{}", p.display());
        v.remove(0)
    } else {
        Certificate::from_der(ekcert::der_from_nv(&bytes))
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        .trim()
}

/// An RFC 4514 name as its RDNs, each RDN's members sorted: the members of a multi-valued
/// RDN are a SET, which OpenSSL and x509-cert print in different orders.
fn rdns(name: &str) -> Vec<Vec<String>> {
    let split = |s: &str, sep: char| -> Vec<String> {
        let (mut out, mut cur, mut esc) = (Vec::new(), String::new(), false);
        for ch in s.chars() {
            if esc {
                cur.push(ch);
                esc = false;
            } else if ch == '\\' {
                cur.push(ch);
                esc = true;
            } else if ch == sep {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.push(ch);
            }
        }
        out.push(cur);
        out
    };
    if name.is_empty() {
        return Vec::new();
    }
    split(name, ',')
        .iter()
        .map(|rdn| {
            let mut m = split(rdn, '+');
            m.sort();
            m
        })
        .collect()
}

fn iso(t: &x509_cert::time::Time) -> String {
    let d = t.to_date_time();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minutes(),
        d.seconds()
    )
}

#[test]
fn every_file_is_exercised() {
    // Certificates, two TPM public areas, a keylime quote, a go-tpm-tools attestation: each
    // file belongs to exactly one of the tests below, and a new file must be given one.
    let all = files();
    let known = |p: &Path| {
        is_cert(p)
            || name(p).ends_with(".pub")
            || name(p) == "rustkeylime-test-quote.txt"
            || name(p) == "gotpmtools-gce-cos-85-nonce9009.pb"
    };
    let unknown: Vec<String> = all.iter().filter(|p| !known(p)).map(|p| name(p)).collect();
    assert!(unknown.is_empty(), "files no test reads: {unknown:?}");
    assert_eq!(
        all.len(),
        20,
        "the test data changed: give new files a test"
    );
}

#[test]
fn certificates_read_as_openssl_reads_them() {
    if !require_tool("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certs: Vec<PathBuf> = files().into_iter().filter(|p| is_cert(p)).collect();
    assert_eq!(certs.len(), 16);
    let mut oaep = 0;
    for p in &certs {
        let c = ours(p);
        let input = openssl_input(p, dir.path());
        let inform = if pem(p) { "PEM" } else { "DER" };
        let text = x509(
            &input,
            inform,
            &[
                "-nameopt",
                "RFC2253",
                "-dateopt",
                "iso_8601",
                "-subject",
                "-issuer",
                "-serial",
                "-startdate",
                "-enddate",
            ],
        );
        let tbs = &c.tbs_certificate;
        let what = p.display();
        assert_eq!(
            rdns(field(&text, "subject=")),
            rdns(&tbs.subject.to_string()),
            "{what}"
        );
        assert_eq!(
            rdns(field(&text, "issuer=")),
            rdns(&tbs.issuer.to_string()),
            "{what}"
        );
        let serial = hex::encode_upper(tbs.serial_number.as_bytes());
        let serial = serial.trim_start_matches("00");
        assert_eq!(field(&text, "serial="), serial, "{what}");
        assert_eq!(
            field(&text, "notBefore="),
            iso(&tbs.validity.not_before),
            "{what}"
        );
        assert_eq!(
            field(&text, "notAfter="),
            iso(&tbs.validity.not_after),
            "{what}"
        );
        // An RSA key: modulus and exponent as OpenSSL's ASN.1 parser reads the key bits.
        if let Some((n, e)) = openssl_rsa(&input, inform) {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let k = rsa::RsaPublicKey::from_pkcs1_der(
                tbs.subject_public_key_info.subject_public_key.raw_bytes(),
            )
            .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(hex::encode_upper(k.n().to_bytes_be()), n, "{what}: modulus");
            assert_eq!(
                hex::encode_upper(k.e().to_bytes_be()).trim_start_matches('0'),
                e.trim_start_matches('0'),
                "{what}: exponent"
            );
        }
        // OpenSSL 3 does not decode id-RSAES-OAEP keys (TPM 1.2-style EK certificates):
        // for those the key bits above are the comparison; for every other key, the whole
        // SubjectPublicKeyInfo as OpenSSL re-encodes it.
        if tbs.subject_public_key_info.algorithm.oid.to_string() == "1.2.840.113549.1.1.7" {
            oaep += 1;
            continue;
        }
        let key_pem = x509(&input, inform, &["-pubkey"]);
        let key_file = dir.path().join("key.pem");
        std::fs::write(&key_file, key_pem).unwrap();
        let key_der = dir.path().join("key.der");
        openssl(&[
            "pkey",
            "-pubin",
            "-in",
            key_file.to_str().unwrap(),
            "-outform",
            "DER",
            "-out",
            key_der.to_str().unwrap(),
        ]);
        assert_eq!(
            std::fs::read(&key_der).unwrap(),
            tbs.subject_public_key_info.to_der().unwrap(),
            "{what}: public key"
        );
    }
    assert_eq!(oaep, 6, "id-RSAES-OAEP keys");
}

/// The modulus and exponent (upper-case hex) of an RSA certificate key, as `openssl asn1parse`
/// reads the SubjectPublicKeyInfo's bits; None for another kind of key.
fn openssl_rsa(input: &Path, inform: &str) -> Option<(String, String)> {
    let text = openssl(&[
        "asn1parse",
        "-in",
        input.to_str().unwrap(),
        "-inform",
        inform,
    ]);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with(":rsaEncryption") || l.ends_with(":rsaesOaep"))?;
    let bits = lines[at..].iter().find(|l| l.contains("BIT STRING"))?;
    let offset = bits.split(':').next().unwrap().trim();
    let key = openssl(&[
        "asn1parse",
        "-in",
        input.to_str().unwrap(),
        "-inform",
        inform,
        "-strparse",
        offset,
    ]);
    let ints: Vec<&str> = key
        .lines()
        .filter(|l| l.contains("INTEGER"))
        .map(|l| l.rsplit(':').next().unwrap())
        .collect();
    assert_eq!(ints.len(), 2, "{key}");
    Some((ints[0].to_owned(), ints[1].to_owned()))
}

/// The certificate's DER as a TPM or CA file holds it (PEM decoded, NV header and padding
/// removed).
fn raw_der(p: &Path) -> Vec<u8> {
    let bytes = std::fs::read(p).unwrap();
    if pem(p) {
        use base64::Engine;
        let text = String::from_utf8(bytes).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        return base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
    }
    ekcert::der_from_nv(&bytes).to_vec()
}

/// The TBSCertificate bytes of `der`, cut out by its two length headers (a test-side reading
/// independent of the der crate: SEQUENCE 30 82 hi lo around SEQUENCE 30 82 hi lo).
fn tbs_slice(der: &[u8]) -> &[u8] {
    assert_eq!(&der[..2], [0x30, 0x82]);
    assert_eq!(&der[4..6], [0x30, 0x82]);
    let len = usize::from(der[6]) << 8 | usize::from(der[7]);
    &der[4..8 + len]
}

/// OpenSSL's verdict on `sig` over `tbs` by the key of `issuer` (`openssl dgst -verify`, the
/// signature alone, without chain rules): true for "Verified OK", false for "Verification
/// failure"; any other outcome fails the test.
fn openssl_signature_verdict(alg: &str, tbs: &[u8], sig: &[u8], issuer: &Path, dir: &Path) -> bool {
    let digest = boardproof_testkit::openssl_digest_option(alg)
        .unwrap_or_else(|| panic!("no digest for {alg}"));
    let (t, s, k) = (dir.join("tbs"), dir.join("sig"), dir.join("issuer.pem"));
    std::fs::write(&t, tbs).unwrap();
    std::fs::write(&s, sig).unwrap();
    let inform = if pem(issuer) { "PEM" } else { "DER" };
    std::fs::write(&k, x509(issuer, inform, &["-pubkey"])).unwrap();
    boardproof_testkit::openssl_signature_verdict(digest, &k, &s, &t)
}

#[test]
fn signatures_agree_with_openssl_on_every_named_issuer() {
    if !require_tool("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certs: Vec<(PathBuf, Certificate, Vec<u8>)> = files()
        .into_iter()
        .filter(|p| is_cert(p))
        .map(|p| {
            let c = ours(&p);
            let d = raw_der(&p);
            (p, c, d)
        })
        .collect();
    let mut good = 0;
    let mut pairs = 0;
    for (cp, child, der) in &certs {
        let tbs = ekcert::tbs_as_signed(der).unwrap();
        assert_eq!(tbs, tbs_slice(der), "{}", name(cp));
        for (ip, issuer, _) in &certs {
            if child.tbs_certificate.issuer != issuer.tbs_certificate.subject {
                continue;
            }
            pairs += 1;
            let alg = child.signature_algorithm.oid.to_string();
            let sig = child.signature.raw_bytes();
            let mine = ekcert::verify_signature(&alg, &tbs, sig, issuer).is_ok();
            let theirs = openssl_signature_verdict(&alg, &tbs, sig, ip, dir.path());
            assert_eq!(mine, theirs, "{} issued by {}", name(cp), name(ip));
            good += usize::from(mine);
            // One bit of the signature, or of the signed bytes, flipped: both refuse it.
            let mut bad = sig.to_vec();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(ekcert::verify_signature(&alg, &tbs, &bad, issuer).is_err());
            assert!(!openssl_signature_verdict(&alg, &tbs, &bad, ip, dir.path()));
            let mut t = tbs.clone();
            t[40] ^= 1;
            assert!(ekcert::verify_signature(&alg, &t, sig, issuer).is_err());
            assert!(!openssl_signature_verdict(&alg, &t, sig, ip, dir.path()));
        }
    }
    // The EK certificates of STM's Intermediate CA 02, that CA under STM's root, the root
    // under GlobalSign's, and the self-signed roots.
    assert!(pairs >= 8, "{pairs} pairs");
    assert_eq!(good, pairs, "every named issuer in the data really signed");
    eprintln!("{pairs} certificate × issuer pairs agree with openssl");
}

/// The EK public area of a certificate's key, from OpenSSL's reading of it.
fn ek_of(cert: &Path, dir: &Path) -> Public {
    let input = openssl_input(cert, dir);
    let inform = if pem(cert) { "PEM" } else { "DER" };
    let (modulus, _) = openssl_rsa(&input, inform).expect("an RSA EK");
    rsa_ek(hex::decode(modulus).unwrap())
}

/// An RSA EK public area with `modulus` (exponent 65537); only the key takes part in
/// `ekcert::verify`.
fn rsa_ek(modulus: Vec<u8>) -> Public {
    Public {
        bytes: Vec::new(),
        key_type: 0x0001,
        name_alg: 0x000b,
        attributes: 0,
        auth_policy: Vec::new(),
        symmetric: 0x0006,
        symmetric_bits: 128,
        scheme: 0x0010,
        scheme_hash: 0x0010,
        key: PublicKey::Rsa {
            bits: u16::try_from(modulus.len() * 8).unwrap(),
            exponent: 0,
            modulus,
        },
    }
}

#[test]
fn ek_certificates_as_nv_holds_them_verify_for_their_key_only() {
    if !require_tool("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let td = testdata();
    let int02 = ours(&td.join("hirs-stmtpmekint02.crt"));
    let root = ours(&td.join("hirs-stmtpmekroot.crt"));
    // 2019-01-01: inside every one of these certificates' validity.
    let then = 1_546_300_800;
    let eks = [
        "hirs-ab21ccf2-tpmcert.pem",
        "hirs-nuc-1-ek_cert_untouched.cer",
        "hirs-nuc-1-ek_cert_7_byte_header_removed.cer",
        "paccor-ek.cer",
    ];
    let other = ek_of(&td.join("paccor-sample_testgen1-ek.crt"), dir.path());
    for f in eks {
        let p = td.join(f);
        let raw = std::fs::read(&p).unwrap();
        // The PEM one as the DER a TPM's NV index holds.
        let raw = if pem(&p) {
            ours(&p).to_der().unwrap()
        } else {
            raw
        };
        let ek = ek_of(&p, dir.path());
        let v = ekcert::verify(&raw, &ek, std::slice::from_ref(&int02), then)
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(v.path.len(), 2, "{f}");
        let e = ekcert::verify(&raw, &other, std::slice::from_ref(&int02), then).unwrap_err();
        assert!(e.to_string().contains("another key"), "{f}: {e}");
        let e = ekcert::verify(&raw, &ek, std::slice::from_ref(&root), then).unwrap_err();
        assert!(
            e.to_string().contains("no CA given is its issuer"),
            "{f}: {e}"
        );
        let e = ekcert::verify(&raw, &ek, &[], then).unwrap_err();
        assert!(e.to_string().contains("no CA"), "{f}: {e}");
        // 2030: past the EK certificate's validity.
        let e = ekcert::verify(&raw, &ek, std::slice::from_ref(&int02), 1_893_456_000).unwrap_err();
        assert!(e.to_string().contains("not now"), "{f}: {e}");
    }
    // The NV header and the padding are all that is removed: the untouched NV contents hold
    // exactly the header-removed certificate, and the padded one its DER.
    let untouched = std::fs::read(td.join("hirs-nuc-1-ek_cert_untouched.cer")).unwrap();
    let removed = std::fs::read(td.join("hirs-nuc-1-ek_cert_7_byte_header_removed.cer")).unwrap();
    assert_eq!(
        ekcert::der_from_nv(&untouched),
        ekcert::der_from_nv(&removed)
    );
    let padded = std::fs::read(td.join("hirs-ek_cert_with_padded_bytes.cer")).unwrap();
    let der = ekcert::der_from_nv(&padded);
    assert!(der.len() < padded.len());
    assert!(padded[der.len()..].iter().all(|b| *b == padded[der.len()]));
    // from_der refuses trailing bytes: what remains is exactly one certificate.
    assert!(Certificate::from_der(der).is_ok());
}

#[test]
fn every_cut_and_flip_of_every_certificate_is_an_error_or_a_certificate() {
    // A tampered server writes these bytes into NV: every prefix that ends inside the DER is
    // an error, each within a bounded time, and no flip panics.
    for p in files().into_iter().filter(|p| is_cert(p) && !pem(p)) {
        let raw = std::fs::read(&p).unwrap();
        let der = ekcert::der_from_nv(&raw);
        // Where the DER ends in the file (after the NV header, before any padding).
        let der_end = der.as_ptr() as usize - raw.as_ptr() as usize + der.len();
        let ek = ek_of_dummy();
        for n in 0..raw.len() {
            let t = std::time::Instant::now();
            let cut = &raw[..n];
            let parsed = Certificate::from_der(ekcert::der_from_nv(cut));
            let _ = ekcert::verify(cut, &ek, &[], 0);
            assert!(t.elapsed() < std::time::Duration::from_secs(1));
            if n < der_end {
                assert!(parsed.is_err(), "{}: cut at {n} parsed", p.display());
            }
        }
        let mut b = raw.clone();
        for i in 0..b.len() {
            b[i] ^= 0x80;
            let _ = Certificate::from_der(ekcert::der_from_nv(&b));
            assert!(ekcert::verify(&b, &ek, &[], 0).is_err());
            b[i] ^= 0x80;
        }
    }
}

fn ek_of_dummy() -> Public {
    rsa_ek(vec![0xc5; 256])
}

/// `key: value` lines of tpm2_print's YAML, nested keys joined by dots.
fn yaml(text: &str) -> Vec<(String, String)> {
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let Some((k, v)) = line.trim().split_once(':') else {
            continue;
        };
        while path.last().is_some_and(|(i, _)| *i >= indent) {
            path.pop();
        }
        let full: Vec<&str> = path.iter().map(|(_, p)| p.as_str()).chain([k]).collect();
        if v.trim().is_empty() {
            path.push((indent, k.to_owned()));
        } else {
            out.push((full.join("."), v.trim().to_owned()));
        }
    }
    out
}

fn tpm2_print(kind: &str, file: &Path) -> Vec<(String, String)> {
    let o = Command::new("tpm2_print")
        .args(["-t", kind])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "tpm2_print -t {kind} {}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    yaml(&String::from_utf8_lossy(&o.stdout))
}

fn get<'a>(y: &'a [(String, String)], k: &str) -> &'a str {
    y.iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("tpm2_print printed no {k}: {y:?}"))
}

#[test]
fn public_areas_read_as_tpm2_print_reads_them() {
    if !require_tool("tpm2_print") {
        return;
    }
    let pubs: Vec<PathBuf> = files()
        .into_iter()
        .filter(|p| name(p).ends_with(".pub"))
        .collect();
    assert_eq!(pubs.len(), 2);
    for p in pubs {
        // Despite the files' description these are TPMT_PUBLIC (no size prefix), as
        // tpm2_print reads them.
        let bytes = std::fs::read(&p).unwrap();
        let ours = Public::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let y = tpm2_print("TPMT_PUBLIC", &p);
        let hex_raw =
            |k: &str| u32::from_str_radix(get(&y, k).trim_start_matches("0x"), 16).unwrap();
        assert_eq!(u32::from(ours.name_alg), hex_raw("name-alg.raw"));
        assert_eq!(ours.attributes, hex_raw("attributes.raw"));
        assert_eq!(u32::from(ours.key_type), hex_raw("type.raw"));
        assert_eq!(u32::from(ours.scheme), hex_raw("scheme.raw"));
        assert_eq!(u32::from(ours.symmetric), hex_raw("sym-alg.raw"));
        // tpm2_print prints a policy only when there is one.
        match y.iter().find(|(k, _)| k == "authorization policy") {
            Some((_, v)) => assert_eq!(&hex::encode(&ours.auth_policy), v),
            None => assert!(ours.auth_policy.is_empty()),
        }
        let PublicKey::Rsa {
            bits,
            exponent,
            modulus,
        } = &ours.key
        else {
            panic!("{}: RSA", p.display())
        };
        assert_eq!(bits.to_string(), get(&y, "bits"));
        let e = if *exponent == 0 { 65537 } else { *exponent };
        assert_eq!(e.to_string(), get(&y, "exponent"));
        assert_eq!(hex::encode(modulus), get(&y, "rsa"));
        // A size prefix in front makes the TPM2B_PUBLIC form, which reads the same.
        let mut b = (u16::try_from(bytes.len()).unwrap()).to_be_bytes().to_vec();
        b.extend_from_slice(&bytes);
        assert_eq!(Public::parse_2b(&b).unwrap(), ours);
    }
}

#[test]
fn keylime_quote_reads_as_tpm2_print_reads_it() {
    use base64::Engine;
    if !require_tool("tpm2_print") {
        return;
    }
    let text = std::fs::read_to_string(testdata().join("rustkeylime-test-quote.txt")).unwrap();
    let parts: Vec<Vec<u8>> = text
        .trim()
        .trim_start_matches('r')
        .split(':')
        .map(|p| base64::engine::general_purpose::STANDARD.decode(p).unwrap())
        .collect();
    assert_eq!(parts.len(), 3);
    let dir = tempfile::tempdir().unwrap();
    let attest_file = dir.path().join("attest.bin");
    std::fs::write(&attest_file, &parts[0]).unwrap();
    let a = Attest::parse(&parts[0]).unwrap();
    let y = tpm2_print("TPMS_ATTEST", &attest_file);
    assert_eq!(get(&y, "magic"), "ff544347");
    assert_eq!(get(&y, "type"), "8018");
    assert_eq!(hex::encode(&a.qualified_signer), get(&y, "qualifiedSigner"));
    assert_eq!(hex::encode(&a.extra_data), get(&y, "extraData"));
    assert_eq!(a.clock.to_string(), get(&y, "clockInfo.clock"));
    assert_eq!(a.reset_count.to_string(), get(&y, "clockInfo.resetCount"));
    assert_eq!(
        a.restart_count.to_string(),
        get(&y, "clockInfo.restartCount")
    );
    assert_eq!(u8::from(a.safe).to_string(), get(&y, "clockInfo.safe"));
    // tpm2_print (tpm2-tools 5.x) prints firmwareVersion as the hex digits of its bytes in
    // reverse order (0x2019102300163636 as "3636160023101920"): compared in that form.
    let mut fw = a.firmware_version.to_be_bytes();
    fw.reverse();
    assert_eq!(hex::encode(fw), get(&y, "firmwareVersion"));
    assert_eq!(a.firmware_version, 0x2019_1023_0016_3636);
    assert_eq!(
        get(&y, "attested.quote.pcrSelect.count"),
        a.selection.len().to_string()
    );
    assert_eq!(
        hex::encode(&a.pcr_digest),
        get(&y, "attested.quote.pcrDigest")
    );
    let sel = &a.selection[0];
    assert_eq!(
        get(&y, "attested.quote.pcrSelect.pcrSelections.0.hash"),
        format!("{} (sha1)", sel.alg)
    );
    // The signature: RSASSA over SHA-1 with a 2048-bit key.
    match Signature::parse(&parts[1]).unwrap() {
        Signature::RsaSsa { hash, sig } => {
            assert_eq!(hash, 0x0004);
            assert_eq!(sig.len(), 256);
        }
        other => panic!("{other:?}"),
    }
}

/// go-tpm-tools' Attestation message (protobuf): the length-delimited fields `(number, bytes)`.
fn protobuf_fields(mut b: &[u8]) -> Vec<(u64, &[u8])> {
    fn varint(b: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (c, rest) = b.split_first().expect("varint");
            *b = rest;
            v |= u64::from(c & 0x7f) << shift;
            if c & 0x80 == 0 {
                break;
            }
        }
        v
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = varint(&mut b);
        match key & 7 {
            0 => {
                varint(&mut b);
            }
            2 => {
                let len = usize::try_from(varint(&mut b)).unwrap();
                let (v, rest) = b.split_at(len);
                out.push((key >> 3, v));
                b = rest;
            }
            w => panic!("wire type {w}"),
        }
    }
    out
}

/// The GCE vTPM's three quotes (SHA-1, SHA-256 and SHA-384 PCR banks) over nonce 9009 verify
/// with its AK, as tpm2_checkquote says; a flipped signature bit is refused by both.
#[test]
fn gce_quotes_verify_with_their_ak_as_tpm2_checkquote_says() {
    if !require_tool("tpm2_checkquote") {
        return;
    }
    let data = std::fs::read(testdata().join("gotpmtools-gce-cos-85-nonce9009.pb")).unwrap();
    let fields = protobuf_fields(&data);
    let ak_pub = fields.iter().find(|(n, _)| *n == 1).unwrap().1;
    let mut tpm2b = u16::try_from(ak_pub.len()).unwrap().to_be_bytes().to_vec();
    tpm2b.extend_from_slice(ak_pub);
    let ak = boardproof_attest::quote::attestation_key(&tpm2b).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ak_file = dir.path().join("ak.tss");
    std::fs::write(&ak_file, &tpm2b).unwrap();
    let checkquote = |q: &[u8], sig: &[u8]| -> bool {
        let (qf, sf) = (dir.path().join("q"), dir.path().join("s"));
        std::fs::write(&qf, q).unwrap();
        std::fs::write(&sf, sig).unwrap();
        let o = Command::new("tpm2_checkquote")
            .arg("-u")
            .arg(&ak_file)
            .arg("-m")
            .arg(&qf)
            .arg("-s")
            .arg(&sf)
            .args(["-g", "sha256", "-q", "9009"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() || err.contains("Verify signature failed"),
            "tpm2_checkquote gave no verdict: {err}"
        );
        o.status.success()
    };
    let quotes: Vec<&[u8]> = fields
        .iter()
        .filter(|(n, _)| *n == 2)
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(quotes.len(), 3);
    let mut banks = Vec::new();
    for q in quotes {
        let parts = protobuf_fields(q);
        let attest = parts.iter().find(|(n, _)| *n == 1).unwrap().1;
        let sig = parts.iter().find(|(n, _)| *n == 2).unwrap().1;
        let a = boardproof_attest::quote::verify(&ak, attest, sig).unwrap();
        assert!(checkquote(attest, sig));
        assert_eq!(a.extra_data, [0x90, 0x09]);
        banks.push(a.selection[0].alg);
        let mut bad = sig.to_vec();
        let at = bad.len() - 7;
        bad[at] ^= 1;
        assert!(boardproof_attest::quote::verify(&ak, attest, &bad).is_err());
        assert!(!checkquote(attest, &bad));
    }
    assert_eq!(banks, [0x0004, 0x000b, 0x000c]);
}
