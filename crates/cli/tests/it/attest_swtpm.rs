//! Attestation against a real TPM 2.0 (swtpm), run live: boardproof's own TPM client
//! re-creates the EK and AK, reads the EK certificate from NV, activates a credential made in
//! software by the verifier code and quotes over it; the verifier code checks the EK
//! certificate chain, the quote signature and the PCR digest. tpm2-tools is the reference on
//! the same TPM: its RSASSA and RSA-PSS quotes must verify with boardproof's code, and
//! boardproof's ECDSA quote must pass `tpm2_checkquote`.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use boardproof_attest::{credential, ekcert, quote};
use boardproof_collect::tpm2::{ak_template, ek_template, Stream, Tpm, NV_EK_CERT_RSA};
use boardproof_formats::tpm2::HashAlg;

const ALG_SHA256: u16 = HashAlg::Sha256.id();
use boardproof_formats::tpm2::{PcrSelection, Public, ALG_ECC, ALG_RSA};

use crate::util::require_tool;

/// A provisioned swtpm (EK certificate from a CA in its own folder), stopped by pid on drop.
pub struct SwTpm {
    child: Child,
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
}

impl SwTpm {
    pub fn start() -> Option<SwTpm> {
        if !require_tool("swtpm") || !require_tool("swtpm_setup") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let (conf, ca) = boardproof_lab::assets::swtpm_ca(&dir.path().join("cache")).unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        let st = Command::new("swtpm_setup")
            .arg("--tpm2")
            .arg("--tpmstate")
            .arg(&state)
            .args(["--create-ek-cert", "--pcr-banks", "sha1,sha256"])
            .arg("--config")
            .arg(&conf)
            .arg("--logfile")
            .arg(dir.path().join("setup.log"))
            .status()
            .unwrap();
        assert!(st.success(), "swtpm_setup failed");
        let sock = dir.path().join("data.sock");
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate"])
            .arg(format!("dir={}", state.display()))
            .arg("--server")
            .arg(format!("type=unixio,path={}", sock.display()))
            .arg("--ctrl")
            .arg(format!(
                "type=unixio,path={}",
                // libtss2's swtpm TCTI finds the control socket at <data socket>.ctrl.
                dir.path().join("data.sock.ctrl").display()
            ))
            .args(["--flags", "not-need-init,startup-clear"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while !sock.exists() {
            assert!(t.elapsed() < Duration::from_secs(10), "swtpm did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(SwTpm { child, dir, ca })
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("data.sock")
    }

    pub fn connect(&self) -> Tpm<Stream<UnixStream>> {
        Tpm::new(Stream(UnixStream::connect(self.socket()).unwrap()))
    }
}

impl Drop for SwTpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn certs(path: &Path) -> Vec<ekcert::Certificate> {
    ekcert::read_certificates(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn credential_activation_and_quote_on_a_real_tpm() {
    let Some(swtpm) = SwTpm::start() else { return };
    let mut tpm = swtpm.connect();
    let ek = tpm.create_primary(&ek_template(ALG_RSA)).unwrap();
    let ek_pub = Public::parse_2b(&ek.public).unwrap();
    let ak = tpm.create_primary(&ak_template()).unwrap();
    let ak_pub = quote::attestation_key(&ak.public).unwrap();
    let ak_name = ak_pub.name().unwrap();

    // The EK certificate in NV names this EK and chains to the CA that issued it; the root
    // alone is not enough (every given certificate is an anchor, and it did not sign the EK
    // certificate), and a certificate for another key is refused.
    let cert = tpm
        .nv_read_all(NV_EK_CERT_RSA)
        .unwrap()
        .expect("EK certificate in NV");
    let issuer = certs(&swtpm.ca.join("issuercert.pem"));
    let root = certs(&swtpm.ca.join("swtpm-localca-rootca-cert.pem"));
    let ok = ekcert::verify(&cert, &ek_pub, &issuer, now()).unwrap();
    assert_eq!(ok.path.len(), 2, "{ok:?}");
    let e = ekcert::verify(&cert, &ek_pub, &root, now()).unwrap_err();
    assert!(e.to_string().contains("no CA given"), "{e}");
    let e = ekcert::verify(&cert, &ak_pub, &issuer, now()).unwrap_err();
    assert!(e.to_string().contains("another key"), "{e}");
    // Before its notBefore (swtpm's EK certificates never expire: notAfter 9999-12-31).
    let e = ekcert::verify(&cert, &ek_pub, &issuer, 0).unwrap_err();
    assert!(e.to_string().contains("not now"), "{e}");

    // The TPM gives back exactly the secret the verifier encrypted for this EK and AK.
    let secret = credential::fresh_secret().unwrap();
    let ch = credential::make_credential(&ek_pub, &ak_name, &secret).unwrap();
    let got = tpm
        .activate_credential(
            ak.handle,
            ek.handle,
            &ch.credential_blob,
            &ch.encrypted_secret,
        )
        .unwrap();
    assert_eq!(got, secret);
    // Bound to another AK name: the TPM refuses (TPM_RC_INTEGRITY), secret not released.
    let mut other = ak_name.clone();
    *other.last_mut().unwrap() ^= 1;
    let ch2 = credential::make_credential(&ek_pub, &other, &secret).unwrap();
    let e = tpm
        .activate_credential(
            ak.handle,
            ek.handle,
            &ch2.credential_blob,
            &ch2.encrypted_secret,
        )
        .unwrap_err();
    assert!(e.to_string().contains("INTEGRITY"), "{e}");

    // A quote over the secret: signature and PCR digest verify; any flipped byte does not.
    let sel = [PcrSelection {
        alg: ALG_SHA256,
        pcrs: (0..10).collect(),
    }];
    let q = tpm.quote(ak.handle, &secret, &sel).unwrap();
    let attest = quote::verify(&ak_pub, &q.attest, &q.signature).unwrap();
    assert_eq!(attest.extra_data, secret);
    assert_eq!(attest.selection, sel.to_vec());
    let values = tpm.pcr_read(ALG_SHA256, &sel[0].pcrs).unwrap();
    assert_eq!(values.len(), 10);
    let refs: Vec<&[u8]> = values.iter().map(|(_, v)| v.as_slice()).collect();
    assert_eq!(
        quote::pcr_digest(ALG_SHA256, &refs).unwrap(),
        attest.pcr_digest
    );
    for i in 0..q.attest.len() {
        let mut a = q.attest.clone();
        a[i] ^= 0x01;
        assert!(
            quote::verify(&ak_pub, &a, &q.signature).is_err(),
            "attest byte {i}"
        );
    }
    for i in 0..q.signature.len() {
        let mut s = q.signature.clone();
        s[i] ^= 0x01;
        assert!(
            quote::verify(&ak_pub, &q.attest, &s).is_err(),
            "signature byte {i}"
        );
    }
    // The EK is a decryption key: it cannot pass as an attestation key.
    let e = quote::attestation_key(&ek.public).unwrap_err();
    assert!(e.to_string().contains("sign"), "{e}");

    // tpm2_checkquote (the reference) accepts boardproof's quote.
    if require_tool("tpm2_checkquote") {
        let d = swtpm.dir.path();
        std::fs::write(d.join("ak.pub"), &ak.public).unwrap();
        std::fs::write(d.join("attest.bin"), &q.attest).unwrap();
        std::fs::write(d.join("sig.bin"), &q.signature).unwrap();
        let out = Command::new("tpm2_checkquote")
            .arg("-u")
            .arg(d.join("ak.pub"))
            .arg("-m")
            .arg(d.join("attest.bin"))
            .arg("-s")
            .arg(d.join("sig.bin"))
            .arg("-q")
            .arg(hex::encode(secret))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tpm2_checkquote refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    tpm.flush(ak.handle).unwrap();
    tpm.flush(ek.handle).unwrap();
}

#[test]
fn credential_activation_with_an_ecc_ek() {
    let Some(swtpm) = SwTpm::start() else { return };
    let mut tpm = swtpm.connect();
    let ek = tpm.create_primary(&ek_template(ALG_ECC)).unwrap();
    let ek_pub = Public::parse_2b(&ek.public).unwrap();
    let ak = tpm.create_primary(&ak_template()).unwrap();
    let ak_name = Public::parse_2b(&ak.public).unwrap().name().unwrap();
    let secret = credential::fresh_secret().unwrap();
    let ch = credential::make_credential(&ek_pub, &ak_name, &secret).unwrap();
    let got = tpm
        .activate_credential(
            ak.handle,
            ek.handle,
            &ch.credential_blob,
            &ch.encrypted_secret,
        )
        .unwrap();
    assert_eq!(got, secret);
}

/// tpm2-tools makes RSA attestation keys (RSASSA and RSA-PSS) and quotes on the same TPM;
/// boardproof's verifier accepts each quote, and refuses it when one signature bit flips.
#[test]
fn tpm2_tools_rsa_quotes_verify() {
    if !require_tool("tpm2_createak") {
        return;
    }
    let Some(swtpm) = SwTpm::start() else { return };
    let d = swtpm.dir.path();
    let tcti = format!("swtpm:path={}", swtpm.socket().display());
    // swtpm has no resource manager: flush what each tool left loaded (its saved contexts
    // stay usable), as tpm2-abrmd would.
    let tool = |args: &[&str]| {
        for a in [
            args,
            &["tpm2_flushcontext", "-t"],
            &["tpm2_flushcontext", "-s"],
        ] {
            let out = Command::new(a[0])
                .args(&a[1..])
                .env("TPM2TOOLS_TCTI", &tcti)
                .current_dir(d)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{a:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    tool(&["tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub"]);
    for scheme in ["rsassa", "rsapss"] {
        let ak_pub = format!("ak-{scheme}.pub");
        let ak_ctx = format!("ak-{scheme}.ctx");
        tool(&[
            "tpm2_createak",
            "-C",
            "ek.ctx",
            "-c",
            &ak_ctx,
            "-G",
            "rsa",
            "-g",
            "sha256",
            "-s",
            scheme,
            "-u",
            &ak_pub,
        ]);
        tool(&[
            "tpm2_quote",
            "-c",
            &ak_ctx,
            "-l",
            "sha256:0,1,2,3,4,5,6,7",
            "-q",
            "0badc0de",
            "-m",
            "q.msg",
            "-s",
            "q.sig",
            "-o",
            "q.pcrs",
            "-g",
            "sha256",
            "--scheme",
            scheme,
        ]);
        let ak = quote::attestation_key(&std::fs::read(d.join(&ak_pub)).unwrap()).unwrap();
        let msg = std::fs::read(d.join("q.msg")).unwrap();
        let sig = std::fs::read(d.join("q.sig")).unwrap();
        let a = quote::verify(&ak, &msg, &sig).unwrap_or_else(|e| panic!("{scheme}: {e}"));
        assert_eq!(a.extra_data, [0x0b, 0xad, 0xc0, 0xde]);
        let mut bad = sig.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(quote::verify(&ak, &msg, &bad).is_err(), "{scheme}");
    }
}

/// The whole round through the CLI, as a verifier and a server would run it: `attest keys`,
/// `attest challenge` (EK certificate checked), `collect --challenge`, `verify
/// --challenge-secret --ek-ca`. A fresh quote verifies; the same quote against a newer
/// challenge is stale; a flipped quote byte is invalid; an event log that does not replay to
/// the quoted PCRs is a pcr-mismatch; without the secret, notes say what was not checked.
#[test]
fn cli_round_trip() {
    use crate::e2e::{keys as signing_keys, manifest_for};
    use crate::fixture::Machine;
    use crate::util::{code, run, stderr, stdout};
    let Some(swtpm) = SwTpm::start() else { return };
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_owned();
    let sock = swtpm.socket().to_str().unwrap().to_owned();
    let issuer = swtpm.ca.join("issuercert.pem").to_str().unwrap().to_owned();
    let root = swtpm
        .ca
        .join("swtpm-localca-rootca-cert.pem")
        .to_str()
        .unwrap()
        .to_owned();

    let o = run(&[
        "attest",
        "keys",
        "--tpm",
        &sock,
        "--out",
        &p("keys.json"),
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let w: boardproof_evidence::Written = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (w.command.as_str(), w.files[0].path.as_str()),
        ("attest keys", p("keys.json").as_str())
    );
    // A CA that did not issue the EK certificate: no challenge, exit 1, nothing written.
    let o = run(&[
        "attest",
        "challenge",
        &p("keys.json"),
        "--ek-ca",
        &root,
        "--out",
        &p("c0.json"),
        "--secret-out",
        &p("s0.json"),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no CA given is its issuer"),
        "{}",
        stderr(&o)
    );
    assert!(!d.path().join("c0.json").exists() && !d.path().join("s0.json").exists());
    let challenge = |n: &str| {
        let o = run(&[
            "attest",
            "challenge",
            &p("keys.json"),
            "--ek-ca",
            &issuer,
            "--out",
            &p(&format!("{n}.json")),
            "--secret-out",
            &p(&format!("{n}.secret.json")),
            "--json",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let w: boardproof_evidence::Written = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(w.command, "attest challenge");
        // The secret is named with its size, never a digest of it.
        assert_eq!(w.files[0].sha256, None);
        assert!(w.files[1].sha256.is_some());
    };
    challenge("c1");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(p("c1.secret.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    let m = Machine::golden();
    let o = run(&[
        "collect",
        "--root",
        &m.root_str(),
        "--challenge",
        &p("c1.json"),
        "--tpm",
        &sock,
        "--out",
        &p("ev.json"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ev: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("ev.json")).unwrap()).unwrap();
    assert!(ev["volatile"]["attestation"]["quote"].is_string(), "{ev}");
    let k = signing_keys();
    let man = manifest_for(std::path::Path::new(&p("ev.json")), &k);
    let verify = |ev: &str, secret: Option<&str>| {
        let mut a = vec![
            "verify".to_owned(),
            ev.to_owned(),
            "--manifest".into(),
            man.to_str().unwrap().into(),
            "--pubkey".into(),
            k.public.clone(),
            "--json".into(),
            "--ek-ca".into(),
            issuer.clone(),
        ];
        if let Some(s) = secret {
            a.extend(["--challenge-secret".to_owned(), s.to_owned()]);
        }
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = run(&a);
        let r: serde_json::Value = serde_json::from_str(&stdout(&o))
            .unwrap_or_else(|_| panic!("{} {}", stdout(&o), stderr(&o)));
        let kinds: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_owned())
            .collect();
        let notes = r["notes"].to_string();
        (code(&o), kinds, notes)
    };
    // Fresh, genuine: verified. The fixture has no event log, which a note says.
    let (c, kinds, notes) = verify(&p("ev.json"), Some(&p("c1.secret.json")));
    assert_eq!((c, kinds.clone()), (0, vec![]), "{kinds:?} {notes}");
    assert!(notes.contains("EK certificate chains"), "{notes}");
    assert!(
        notes.contains("not checked against an event log"),
        "{notes}"
    );
    // Without the secret: still exit 0, but a note says freshness was not checked.
    let (c, _, notes) = verify(&p("ev.json"), None);
    assert_eq!(c, 0);
    assert!(notes.contains("freshness"), "{notes}");
    // The same evidence answering a newer challenge: stale.
    challenge("c2");
    let (c, kinds, _) = verify(&p("ev.json"), Some(&p("c2.secret.json")));
    assert_eq!((c, kinds), (1, vec!["quote-stale".to_owned()]));
    // One flipped bit in the quote: invalid.
    let mut bad = ev.clone();
    let q = bad["volatile"]["attestation"]["quote"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bytes = hex::decode(&q).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    bad["volatile"]["attestation"]["quote"] = hex::encode(bytes).into();
    std::fs::write(p("bad.json"), bad.to_string()).unwrap();
    let (c, kinds, _) = verify(&p("bad.json"), Some(&p("c1.secret.json")));
    assert_eq!((c, kinds), (1, vec!["quote-invalid".to_owned()]));
    // An event log (empty: every PCR at its start value) matches the fresh TPM's quote; one
    // event more does not.
    let mut with_log = ev.clone();
    with_log["tpm"] = serde_json::json!({
        "device": "tpm0",
        "event_log": {"path": "x", "size": 0, "sha256": "00", "events": []}
    });
    std::fs::write(p("log.json"), with_log.to_string()).unwrap();
    let (_, kinds, notes) = verify(&p("log.json"), Some(&p("c1.secret.json")));
    assert!(!kinds.contains(&"pcr-mismatch".to_owned()), "{kinds:?}");
    assert!(
        !notes.contains("not checked against an event log"),
        "{notes}"
    );
    with_log["tpm"]["event_log"]["events"] = serde_json::json!([{
        "index": 0, "pcr": 4, "type": "EV_EFI_BOOT_SERVICES_APPLICATION",
        "digests": {"sha256": "11".repeat(32)}, "description": "extra"
    }]);
    std::fs::write(p("log2.json"), with_log.to_string()).unwrap();
    let (c, kinds, _) = verify(&p("log2.json"), Some(&p("c1.secret.json")));
    assert_eq!(c, 1);
    assert!(kinds.contains(&"pcr-mismatch".to_owned()), "{kinds:?}");
}
