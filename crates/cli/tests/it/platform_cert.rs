//! TCG Platform Certificates from ../shared/testdata/platform-cert: decoded like go-attestation
//! and paccor, signatures judged like OpenSSL, components compared with evidence.

use std::path::{Path, PathBuf};
use std::process::Command;

use boardproof_formats::platform_cert::{self, PlatformCert};

use crate::util::{code, require_tool, run, stderr, stdout, testdata, testdata_files};

fn load(p: &Path) -> PlatformCert {
    let der = platform_cert::decode_pem_or_der(&std::fs::read(p).unwrap()).unwrap();
    platform_cert::parse(&der).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn certs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = testdata_files("platform-cert", "")
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            !n.ends_with(".json")
                && !["IntelSigningKey", "CA", "ca.crt", "RootCA"]
                    .iter()
                    .any(|k| n.contains(k))
        })
        .collect();
    v.sort();
    v
}

/// Decimal text of a big-endian unsigned integer (go-attestation prints big.Int in decimal).
fn decimal(hex_text: &str) -> String {
    let mut digits = vec![0u8]; // little-endian base 10
    for b in hex::decode(hex_text).unwrap() {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

fn rfc3339(gt: &str) -> String {
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &gt[0..4],
        &gt[4..6],
        &gt[6..8],
        &gt[8..10],
        &gt[10..12],
        &gt[12..14]
    )
}

/// The digits of the `n`-th number after `"key":` in raw JSON text (go's big integers do not
/// fit serde_json's f64).
fn raw_number(json: &str, key: &str, n: usize) -> String {
    let pat = format!("\"{key}\":");
    let at = json
        .match_indices(&pat)
        .nth(n)
        .unwrap_or_else(|| panic!("{key} #{n}"))
        .0
        + pat.len();
    json[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect()
}

/// Every goattest certificate against go-attestation's own decoding of it.
#[test]
fn decoding_equals_go_attestation() {
    let mut compared = 0;
    for json in testdata_files("platform-cert", ".cer.json") {
        let cer = PathBuf::from(json.to_string_lossy().trim_end_matches(".json"));
        let raw = std::fs::read_to_string(&json).unwrap();
        let go: serde_json::Value = serde_json::from_str(&raw).unwrap();
        let c = load(&cer);
        let name = cer.display().to_string();
        let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
        let o = |x: &Option<String>| x.clone().unwrap_or_default();
        assert_eq!(o(&c.manufacturer), s(&go["PlatformManufacturer"]), "{name}");
        assert_eq!(o(&c.model), s(&go["PlatformModel"]), "{name}");
        assert_eq!(o(&c.version), s(&go["PlatformVersion"]), "{name}");
        assert_eq!(o(&c.platform_serial), s(&go["PlatformSerial"]), "{name}");
        assert_eq!(rfc3339(&c.not_before), s(&go["NotBefore"]), "{name}");
        assert_eq!(rfc3339(&c.not_after), s(&go["NotAfter"]), "{name}");
        assert_eq!(
            decimal(&c.serial),
            raw_number(&raw, "SerialNumber", 0),
            "{name}"
        );
        let (_, holder_serial) = c.holder.clone().unwrap();
        assert_eq!(
            decimal(&holder_serial),
            raw_number(&raw, "Serial", 0),
            "{name}"
        );
        let empty = vec![];
        let comps = go["Components"].as_array().unwrap_or(&empty);
        assert_eq!(c.components.len(), comps.len(), "{name}");
        for (i, (a, g)) in c.components.iter().zip(comps).enumerate() {
            assert_eq!(a.manufacturer, s(&g["Manufacturer"]), "{name}");
            assert_eq!(a.model, s(&g["Model"]), "{name}");
            assert_eq!(o(&a.serial), s(&g["Serial"]), "{name}");
            assert_eq!(o(&a.revision), s(&g["Revision"]), "{name}");
            assert_eq!(
                a.field_replaceable.unwrap_or(false),
                g["FieldReplaceable"].as_bool().unwrap(),
                "{name}"
            );
            // go reads the manufacturer id's content bytes as an integer.
            let id = a.manufacturer_id.as_deref().map_or("0".to_owned(), decimal);
            assert_eq!(id, raw_number(&raw, "ManufacturerID", i), "{name}");
            let ga = g["Addresses"].as_array().unwrap_or(&empty);
            assert_eq!(a.addresses.len(), ga.len(), "{name}");
            for (x, y) in a.addresses.iter().zip(ga) {
                let oid: Vec<String> = y["AddressType"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.to_string())
                    .collect();
                assert_eq!(x.kind, oid.join("."), "{name}");
                assert_eq!(x.value, s(&y["AddressValue"]), "{name}");
            }
        }
        let props = go["Properties"].as_array().unwrap_or(&empty);
        assert_eq!(c.properties.len(), props.len(), "{name}");
        for ((k, v), p) in c.properties.iter().zip(props) {
            assert_eq!(
                (k.clone(), v.clone()),
                (s(&p["PropertyName"]), s(&p["PropertyValue"])),
                "{name}"
            );
        }
        compared += 1;
    }
    assert_eq!(compared, 9);
}

/// paccor's certificate against the component list paccor made it from.
#[test]
fn decoding_equals_paccors_input() {
    let c = load(&testdata().join("platform-cert/paccor-platform_cert.20250909102720.crt"));
    let input: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            testdata().join("platform-cert/paccor-sample_testgen1-localhost-componentlist.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let p = &input["PLATFORM"];
    assert_eq!(
        c.manufacturer.as_deref(),
        p["PLATFORMMANUFACTURERSTR"].as_str()
    );
    assert_eq!(c.model.as_deref(), p["PLATFORMMODEL"].as_str());
    assert_eq!(c.version.as_deref(), p["PLATFORMVERSION"].as_str());
    assert_eq!(c.platform_serial.as_deref(), p["PLATFORMSERIAL"].as_str());
    assert_eq!(c.config_version, Some(3));
    let comps = input["COMPONENTS"].as_array().unwrap();
    assert_eq!(c.components.len(), comps.len());
    for (a, g) in c.components.iter().zip(comps) {
        let s = |k: &str| g[k].as_str().map(str::to_owned);
        assert_eq!(Some(a.manufacturer.clone()), s("MANUFACTURER"));
        assert_eq!(Some(a.model.clone()), s("MODEL"));
        assert_eq!(a.serial, s("SERIAL"), "{a:?}");
        assert_eq!(a.revision, s("REVISION"), "{a:?}");
        let class = a.class.as_ref().unwrap();
        assert_eq!(
            class.registry.as_deref(),
            g["COMPONENTCLASS"]["COMPONENTCLASSREGISTRY"].as_str()
        );
        assert_eq!(
            class.value.to_uppercase(),
            g["COMPONENTCLASS"]["COMPONENTCLASSVALUE"]
                .as_str()
                .unwrap()
                .to_uppercase()
        );
        assert_eq!(
            a.field_replaceable,
            s("FIELDREPLACEABLE").map(|v| v == "true"),
            "{a:?}"
        );
        let addrs: Vec<String> = g["ADDRESSES"]
            .as_array()
            .map(|v| {
                v.iter()
                    .flat_map(|m| m.as_object().unwrap().values())
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            a.addresses
                .iter()
                .map(|x| x.value.clone())
                .collect::<Vec<_>>(),
            addrs,
            "{a:?}"
        );
    }
}

fn openssl_verifies(cert: &Path, ca: &Path, alg: &str) -> Option<bool> {
    let w = tempfile::tempdir().unwrap();
    let der = w.path().join("c.der");
    std::fs::write(
        &der,
        platform_cert::decode_pem_or_der(&std::fs::read(cert).unwrap()).unwrap(),
    )
    .unwrap();
    let parse = Command::new("openssl")
        .args(["asn1parse", "-inform", "DER", "-in"])
        .arg(&der)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&parse.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let hl_l = |line: &str| -> (usize, usize) {
        let hl = line
            .split("hl=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let l = line
            .split("l=")
            .nth(2)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        (hl, l)
    };
    let (hl, l) = hl_l(lines[1]);
    let tbs = w.path().join("tbs.der");
    let sig = w.path().join("sig.bin");
    assert!(Command::new("openssl")
        .args([
            "asn1parse",
            "-inform",
            "DER",
            "-noout",
            "-offset",
            "4",
            "-length",
            &(hl + l).to_string(),
            "-in"
        ])
        .arg(&der)
        .arg("-out")
        .arg(&tbs)
        .status()
        .unwrap()
        .success());
    let sig_off = lines
        .last()
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .trim()
        .to_owned();
    assert!(Command::new("openssl")
        .args([
            "asn1parse",
            "-inform",
            "DER",
            "-noout",
            "-strparse",
            &sig_off,
            "-in"
        ])
        .arg(&der)
        .arg("-out")
        .arg(&sig)
        .status()
        .unwrap()
        .success());
    let pubkey = w.path().join("ca.pub");
    let ca_bytes = std::fs::read(ca).unwrap();
    let form = if ca_bytes.starts_with(b"-----") {
        "PEM"
    } else {
        "DER"
    };
    let o = Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-inform", form, "-in"])
        .arg(ca)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openssl x509 -pubkey {}: {}",
        ca.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(&pubkey, o.stdout).unwrap();
    let digest = boardproof_testkit::openssl_digest_option(alg)?;
    Some(boardproof_testkit::openssl_signature_verdict(
        digest, &pubkey, &sig, &tbs,
    ))
}

/// Every certificate against every CA in the test data: boardproof's signature verdict equals
/// OpenSSL's over the bytes OpenSSL itself cuts out of the certificate.
#[test]
fn signatures_judged_like_openssl() {
    if !require_tool("openssl") {
        return;
    }
    let cas: Vec<PathBuf> = testdata_files("platform-cert", "")
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.contains("SigningKey") || n.contains("CA") || n.ends_with("ca.crt")
        })
        .collect();
    assert_eq!(cas.len(), 6);
    let mut valid = Vec::new();
    for cert in certs() {
        let c = load(&cert);
        for ca in &cas {
            let anchor =
                boardproof_attest::ekcert::read_certificates(&std::fs::read(ca).unwrap()).unwrap();
            let ours = boardproof_attest::ekcert::verify_signature(
                &c.signature_algorithm,
                &c.tbs,
                &c.signature,
                &anchor[0],
            )
            .is_ok();
            let theirs = openssl_verifies(&cert, ca, &c.signature_algorithm).unwrap_or_else(|| {
                panic!(
                    "{}: algorithm {} unknown to the test",
                    cert.display(),
                    c.signature_algorithm
                )
            });
            assert_eq!(ours, theirs, "{} by {}", cert.display(), ca.display());
            if ours {
                valid.push(cert.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    // The four go-attestation verifies with Intel's key, Intel_pc1 (issued before that CA's
    // validity began), HIRS' three laptop certificates and paccor's.
    valid.sort();
    assert_eq!(
        valid,
        [
            "goattest-Intel_nuc_pc.cer",
            "goattest-Intel_nuc_pc2.cer",
            "goattest-Intel_pc1.cer",
            "goattest-Intel_pc2.cer",
            "goattest-Intel_pc3.cer",
            "hirs-laptop.default.1.base.cer",
            "hirs-laptop_base_platform_cert_addMem.crt",
            "hirs-laptop_deltaPlatCert_addMem.crt",
            "hirs-laptop_platCertLight_base_platform.crt",
            "paccor-platform_cert.20250909102720.crt",
        ]
    );
}

#[test]
fn cli_verifies_real_certificates_and_refuses_edited_ones() {
    let d = testdata().join("platform-cert");
    let ok = |args: &[&str]| {
        let o = run(args);
        assert_eq!(code(&o), 0, "{args:?}: {}{}", stdout(&o), stderr(&o));
        o
    };
    let paccor = d.join("paccor-platform_cert.20250909102720.crt");
    let ca = d.join("paccor-PCTestCA.example.com.pem");
    let o = ok(&[
        "platform-cert",
        "verify",
        paccor.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
        "--at",
        "2026-01-01T00:00:00Z",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signature"], "valid");
    assert_eq!(v["components"], 33);
    // Base + delta: the delta's added DIMM joins the list.
    let base = d.join("hirs-laptop_base_platform_cert_addMem.crt");
    let delta = d.join("hirs-laptop_deltaPlatCert_addMem.crt");
    let hca = d.join("hirs-ci-ca.crt");
    let o = ok(&[
        "platform-cert",
        "verify",
        base.to_str().unwrap(),
        "--ca",
        hca.to_str().unwrap(),
        "--delta",
        delta.to_str().unwrap(),
        "--at",
        "2026-01-01T00:00:00Z",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["components"], load(&base).components.len() + 1);
    // Expired at the time checked, wrong CA: exit 1, and the reason.
    for (at, ca, why) in [
        ("2040-01-01T00:00:00Z", &ca, "not at the time checked"),
        ("2026-01-01T00:00:00Z", &hca, "no CA given is its issuer"),
    ] {
        let o = run(&[
            "platform-cert",
            "verify",
            paccor.to_str().unwrap(),
            "--ca",
            ca.to_str().unwrap(),
            "--at",
            at,
        ]);
        assert_eq!(code(&o), 1, "{}", stdout(&o));
        assert!(stdout(&o).contains(why), "{}", stdout(&o));
    }
    // One byte of a component's serial changed: the signature no longer holds.
    let der = platform_cert::decode_pem_or_der(&std::fs::read(&paccor).unwrap()).unwrap();
    let at = der.windows(7).position(|w| w == b"DQXH253").unwrap();
    let mut bad = der.clone();
    bad[at] ^= 0x01;
    let w = tempfile::tempdir().unwrap();
    let f = w.path().join("edited.der");
    std::fs::write(&f, &bad).unwrap();
    let o = run(&[
        "platform-cert",
        "verify",
        f.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
        "--at",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("did not sign it"), "{}", stdout(&o));
    // Truncated: exit 2, one line naming the file and offset.
    std::fs::write(&f, &der[..der.len() / 2]).unwrap();
    let o = run(&["platform-cert", "show", f.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(
        e.contains("edited.der") && e.contains("offset") && e.lines().count() == 1,
        "{e}"
    );
}

/// DER for the certificates this test makes.
mod der_out {
    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend([0x81, n as u8]);
        } else {
            v.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }
    pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }
    pub fn set(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x31, &parts.concat())
    }
    pub fn utf8(s: &str) -> Vec<u8> {
        tlv(0x0c, s.as_bytes())
    }
    pub fn oid(s: &str) -> Vec<u8> {
        let n: Vec<u64> = s.split('.').map(|x| x.parse().unwrap()).collect();
        let mut out = vec![(n[0] * 40 + n[1]) as u8];
        for &x in &n[2..] {
            let mut b = vec![(x & 0x7f) as u8];
            let mut y = x >> 7;
            while y > 0 {
                b.push(((y & 0x7f) | 0x80) as u8);
                y >>= 7;
            }
            b.reverse();
            out.extend(b);
        }
        tlv(0x06, &out)
    }
    pub fn name(cn: &str) -> Vec<u8> {
        seq(&[set(&[seq(&[oid("2.5.4.3"), utf8(cn)])])])
    }
}

/// One component for [`make_cert`]: class, manufacturer, model, serial, revision, MAC.
type Listed<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// A v2 base platform certificate for `platform` listing `components`, signed with OpenSSL by
/// the CA in `dir` (ca.key / ca.pem, CN "Test Platform CA").
fn make_cert(dir: &Path, platform: [&str; 4], components: &[Listed<'_>], out: &Path) {
    use der_out::*;
    let comps: Vec<Vec<u8>> = components
        .iter()
        .map(|(class, mfr, model, serial, rev, mac)| {
            let mut f = vec![
                seq(&[
                    oid("2.23.133.18.3.1"),
                    tlv(0x04, &hex::decode(class).unwrap()),
                ]),
                utf8(mfr),
                utf8(model),
            ];
            if let Some(s) = serial {
                f.push(tlv(0x80, s.as_bytes()));
            }
            if let Some(r) = rev {
                f.push(tlv(0x81, r.as_bytes()));
            }
            if let Some(m) = mac {
                f.push(tlv(0xa4, &seq(&[oid("2.23.133.17.1"), utf8(m)])));
            }
            seq(&f)
        })
        .collect();
    let gt = |s: &str| tlv(0x18, s.as_bytes());
    let san = seq(&[tlv(
        0xa4,
        &seq(&[
            set(&[seq(&[oid("2.23.133.5.1.1"), utf8(platform[0])])]),
            set(&[seq(&[oid("2.23.133.5.1.4"), utf8(platform[1])])]),
            set(&[seq(&[oid("2.23.133.5.1.5"), utf8(platform[2])])]),
            set(&[seq(&[oid("2.23.133.5.1.6"), utf8(platform[3])])]),
        ]),
    )]);
    let tbs = seq(&[
        tlv(0x02, &[1]),
        seq(&[tlv(
            0xa0,
            &[seq(&[tlv(0xa4, &name("Test EK CA"))]), tlv(0x02, &[0x42])].concat(),
        )]),
        tlv(0xa0, &seq(&[tlv(0xa4, &name("Test Platform CA"))])),
        seq(&[oid("1.2.840.113549.1.1.11"), vec![0x05, 0x00]]),
        tlv(0x02, &[0x01, 0x23]),
        seq(&[gt("20260101000000Z"), gt("20360101000000Z")]),
        seq(&[
            seq(&[oid("2.23.133.2.25"), set(&[seq(&[oid("2.23.133.8.2")])])]),
            seq(&[
                oid("2.23.133.5.1.7.2"),
                set(&[seq(&[tlv(0xa0, &comps.concat())])]),
            ]),
        ]),
        seq(&[seq(&[oid("2.5.29.17"), tlv(0x04, &san)])]),
    ]);
    let tbs_f = dir.join("tbs.der");
    std::fs::write(&tbs_f, &tbs).unwrap();
    let sig = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(dir.join("ca.key"))
        .arg(&tbs_f)
        .output()
        .unwrap();
    assert!(sig.status.success());
    let mut bits = vec![0u8];
    bits.extend(sig.stdout);
    let cert = seq(&[
        tbs,
        seq(&[oid("1.2.840.113549.1.1.11"), vec![0x05, 0x00]]),
        tlv(0x03, &bits),
    ]);
    std::fs::write(out, cert).unwrap();
}

/// A certificate made here for the fixture server (real Supermicro SMBIOS table): the server
/// matches it; a DIMM with another serial, a NIC that is not there, another platform serial are
/// each found.
#[test]
fn components_are_compared_with_evidence() {
    if !require_tool("openssl") {
        return;
    }
    let m = crate::fixture::Machine::golden();
    m.smbios_from_dump(&testdata().join("smbios/siderolabs-SuperMicro-Quad-Opteron.dump"));
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let ev_path = d.join("ev.json");
    let ev = m.collect(&ev_path);
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=Test Platform CA",
            "-keyout",
        ])
        .arg(d.join("ca.key"))
        .arg("-out")
        .arg(d.join("ca.pem"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let smb = &ev["smbios"];
    let sys = &smb["system"];
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_else(|| panic!("{v}")).to_owned();
    let platform = [
        s(&sys["manufacturer"]),
        s(&sys["product"]),
        s(&sys["version"]),
        s(&sys["serial"]),
    ];
    let board = &smb["baseboards"][0];
    let dimm = smb["memory_devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["serial"].is_string() && d["part_number"].is_string())
        .expect("a DIMM with serial and part number in the dump")
        .clone();
    let cpu = &smb["processors"][0];
    let nic_mac = ev["components"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c["identity"]["permanent_mac"].as_str().map(str::to_owned))
        .expect("the fixture NIC has a MAC");
    let (bm, bp, bs) = (
        s(&board["manufacturer"]),
        s(&board["product"]),
        s(&board["serial"]),
    );
    let (dm, dp, ds) = (
        s(&dimm["manufacturer"]),
        s(&dimm["part_number"]),
        s(&dimm["serial"]),
    );
    let (cm, cv) = (s(&cpu["manufacturer"]), s(&cpu["version"]));
    fn pl(p: &[String; 4]) -> [&str; 4] {
        [p[0].as_str(), p[1].as_str(), p[2].as_str(), p[3].as_str()]
    }
    let good: Vec<Listed<'_>> = vec![
        ("00030003", &bm, &bp, Some(&bs), None, None),
        ("00060001", &dm, &dp, Some(&ds), None, None),
        ("00010002", &cm, &cv, None, None, None),
        ("00090002", "Intel", "NIC", None, None, Some(&nic_mac)),
    ];
    let verify = |cert: &Path| {
        let o = run(&[
            "platform-cert",
            "verify",
            cert.to_str().unwrap(),
            "--ca",
            d.join("ca.pem").to_str().unwrap(),
            "--evidence",
            ev_path.to_str().unwrap(),
            "--at",
            "2027-01-01T00:00:00Z",
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
        (code(&o), v)
    };
    let kinds = |v: &serde_json::Value| -> Vec<String> {
        v["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let cert = d.join("good.der");
    make_cert(d, pl(&platform), &good, &cert);
    let (c, v) = verify(&cert);
    assert_eq!((c, kinds(&v)), (0, vec![]), "{v}");
    assert_eq!(v["signature"], "valid");

    // The server's own inventory exported as a component list, made into a certificate:
    // every listed component is found again.
    let o = run(&["platform-cert", "components", ev_path.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows: Vec<[Option<String>; 6]> = list["COMPONENTS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let g = |k: &str| c[k].as_str().map(str::to_owned);
            [
                c["COMPONENTCLASS"]["COMPONENTCLASSVALUE"]
                    .as_str()
                    .map(str::to_owned),
                g("MANUFACTURER"),
                g("MODEL"),
                g("SERIAL"),
                g("REVISION"),
                c["ADDRESSES"][0]["ETHERNETMAC"].as_str().map(str::to_owned),
            ]
        })
        .collect();
    // 1 board, 1 chassis, 4 CPUs, 32 DIMMs from the table; the fixture's disk and NIC.
    assert!(rows.len() >= 38, "{list}");
    let exported: Vec<Listed<'_>> = rows
        .iter()
        .map(|r| {
            (
                r[0].as_deref().unwrap(),
                r[1].as_deref().unwrap(),
                r[2].as_deref().unwrap(),
                r[3].as_deref(),
                r[4].as_deref(),
                r[5].as_deref(),
            )
        })
        .collect();
    let p = &list["PLATFORM"];
    let plat = [
        s(&p["PLATFORMMANUFACTURERSTR"]),
        s(&p["PLATFORMMODEL"]),
        s(&p["PLATFORMVERSION"]),
        s(&p["PLATFORMSERIAL"]),
    ];
    let cert = d.join("exported.der");
    make_cert(d, pl(&plat), &exported, &cert);
    let (c, v) = verify(&cert);
    assert_eq!((c, kinds(&v)), (0, vec![]), "{v}");

    let mut wrong_dimm = good.clone();
    wrong_dimm[1].3 = Some("DEADBEEF");
    let mut extra_nic = good.clone();
    extra_nic.push((
        "00090002",
        "Intel",
        "NIC",
        None,
        None,
        Some("ac:1f:6b:ff:ff:ff"),
    ));
    let mut other_serial = platform.clone();
    other_serial[3] = "SOMEONE-ELSES".into();
    for (name, plat, comps, want) in [
        ("dimm", platform.clone(), wrong_dimm, "component-changed"),
        ("nic", platform.clone(), extra_nic, "component-removed"),
        ("serial", other_serial, good.clone(), "platform-changed"),
    ] {
        let cert = d.join(format!("{name}.der"));
        make_cert(d, pl(&plat), &comps, &cert);
        let (c, v) = verify(&cert);
        assert_eq!((c, kinds(&v)), (1, vec![want.to_owned()]), "{name}: {v}");
    }
}

/// The issuing CA's own issuers, when given, are checked link by link up to the root.
#[test]
fn a_chain_of_given_cas_is_followed_to_the_root() {
    if !require_tool("openssl") {
        return;
    }
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let ossl = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    for root in ["root", "other-root"] {
        ossl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=Test Root",
            "-keyout",
            &format!("{root}.key"),
            "-out",
            &format!("{root}.pem"),
        ]);
    }
    ossl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=Test Platform CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.csr",
    ]);
    ossl(&[
        "x509",
        "-req",
        "-in",
        "ca.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
        "-days",
        "3650",
        "-out",
        "ca.pem",
    ]);
    let cert = d.join("p.der");
    make_cert(
        d,
        ["V", "M", "1", "S"],
        &[("00030003", "V", "B", Some("1"), None, None)],
        &cert,
    );
    let verify = |cas: &[&str]| {
        let mut args = vec![
            "platform-cert".to_owned(),
            "verify".into(),
            cert.display().to_string(),
            "--at".into(),
            "2027-01-01T00:00:00Z".into(),
            "--json".into(),
        ];
        for c in cas {
            args.push("--ca".into());
            args.push(d.join(c).display().to_string());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&refs);
        let v: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
        (code(&o), v)
    };
    let (c, v) = verify(&["ca.pem", "root.pem"]);
    assert_eq!(c, 0, "{v}");
    assert_eq!(
        v["chain"],
        serde_json::json!(["CN=Test Platform CA", "CN=Test Root"]),
        "{v}"
    );
    // The issuing CA alone is trusted as given.
    let (c, v) = verify(&["ca.pem"]);
    assert_eq!((c, v["chain"].as_array().unwrap().len()), (0, 1), "{v}");
    // A root with the same name but another key did not sign the intermediate.
    let (c, v) = verify(&["ca.pem", "other-root.pem"]);
    assert_eq!(c, 1, "{v}");
    assert!(
        v["signature"].as_str().unwrap().contains("did not sign it"),
        "{v}"
    );
}

/// Category names equal the TCG registry's as HIRS publishes it (hirs-component-class.json).
#[test]
fn class_categories_are_named_as_the_registry() {
    let reg: serde_json::Value = serde_json::from_slice(
        &std::fs::read(testdata().join("platform-cert/hirs-component-class.json")).unwrap(),
    )
    .unwrap();
    let mut n = 0;
    for (name, cat) in reg["TCG"].as_object().unwrap() {
        let id = cat["ID"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x")
            .to_lowercase();
        let class = platform_cert::ComponentClass {
            registry: Some(platform_cert::OID_TCG_REGISTRY.into()),
            value: id,
        };
        assert_eq!(class.category_name(), Some(name.as_str()), "{cat}");
        n += 1;
    }
    assert_eq!(n, 19);
}
