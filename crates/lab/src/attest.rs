//! The host as the verifier while the lab server boots: it serves the guest's third serial
//! port (ttyS2, a Unix socket), receives the TPM's keys, checks the EK certificate against the
//! lab's swtpm CA and answers with a fresh challenge, keeping the secret for verify. This is
//! the same round a user runs with `attest keys` / `attest challenge` / `collect --challenge`,
//! with the serial port as the network.
//!
//! Protocol, one line each, after whatever the firmware wrote to the port first:
//! guest `BOARDPROOF-LAB KEYS <base64 of the attest-keys JSON>`, host
//! `BOARDPROOF-LAB CHALLENGE <base64 of the challenge JSON>` or `BOARDPROOF-LAB REFUSED
//! <reason>`.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use boardproof_attest::ekcert::{self, Certificate};
use boardproof_attest::round;
use boardproof_evidence::{AttestationKeys, AttestationSecret};

use crate::assets::Assets;
use crate::Error;

const KEYS: &str = "BOARDPROOF-LAB KEYS ";
/// The keys line is a few kilobytes; anything far longer is not a guest speaking the protocol.
const MAX_LINE: usize = 64 * 1024;

/// The lab's EK CA: the swtpm local CA's issuing certificate.
pub fn lab_cas(assets: &Assets) -> Result<Vec<Certificate>, Error> {
    let p = assets.swtpm_ca_dir.join("issuercert.pem");
    let bytes = std::fs::read(&p).map_err(Error::io(&p))?;
    ekcert::read_certificates(&bytes).map_err(|e| Error::Invalid(format!("{}: {e}", p.display())))
}

/// Serves one attestation round on `sock` until it completes or `stop` is set. The result is
/// the secret to verify the guest's quote with, or why there is none.
pub fn serve(
    sock: PathBuf,
    cas: Vec<Certificate>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Result<AttestationSecret, String>> {
    std::thread::spawn(move || {
        let mut s = loop {
            if stop.load(Ordering::SeqCst) {
                return Err("QEMU ended before its attestation port opened".into());
            }
            match UnixStream::connect(&sock) {
                Ok(s) => break s,
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        let line = loop {
            if let Some(line) = keys_line(&buf)? {
                break line;
            }
            let mut chunk = [0u8; 4096];
            match s.read(&mut chunk) {
                Ok(0) => return Err("the guest closed the attestation port".into()),
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if stop.load(Ordering::SeqCst) {
                        return Err("the guest never sent its TPM keys".into());
                    }
                }
                Err(e) => return Err(format!("attestation port: {e}")),
            }
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let answer = b64
            .decode(line.trim())
            .map_err(|e| format!("keys line: {e}"))
            .and_then(|json| {
                serde_json::from_slice::<AttestationKeys>(&json)
                    .map_err(|e| format!("keys document: {e}"))
            })
            .and_then(|keys| {
                round::challenge(&keys, &cas, ekcert::unix_now()).map_err(|e| e.to_string())
            });
        match answer {
            Ok((challenge, secret)) => {
                let json = serde_json::to_vec(&challenge).map_err(|e| e.to_string())?;
                let msg = format!("BOARDPROOF-LAB CHALLENGE {}\n", b64.encode(json));
                s.write_all(msg.as_bytes()).map_err(|e| e.to_string())?;
                // Hold the connection until QEMU ends: on a hang-up QEMU drops what the guest's
                // UART has not taken yet, and a 16550 takes 16 bytes at a time.
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(secret)
            }
            Err(why) => {
                let one_line = why.replace('\n', " ");
                let _ = s.write_all(format!("BOARDPROOF-LAB REFUSED {one_line}\n").as_bytes());
                Err(format!("challenge refused: {why}"))
            }
        }
    })
}

/// The base64 text of the first complete keys line in `buf`, skipping what comes before it.
fn keys_line(buf: &[u8]) -> Result<Option<String>, String> {
    let text = String::from_utf8_lossy(buf);
    let Some(at) = text.find(KEYS) else {
        if buf.len() > MAX_LINE {
            return Err("no keys line in the first 64 KiB of the attestation port".into());
        }
        return Ok(None);
    };
    let rest = text.get(at + KEYS.len()..).unwrap_or_default();
    match rest.find('\n') {
        Some(end) => Ok(Some(rest.get(..end).unwrap_or_default().to_owned())),
        None if rest.len() > MAX_LINE => Err("keys line longer than 64 KiB".into()),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_line_skips_firmware_noise_and_waits_for_the_end() {
        assert_eq!(keys_line(b"\x1b[2J\x1b[01;01H").unwrap(), None);
        assert_eq!(keys_line(b"junk BOARDPROOF-LAB KEYS abc").unwrap(), None);
        assert_eq!(
            keys_line(b"junk BOARDPROOF-LAB KEYS abc=\nmore").unwrap(),
            Some("abc=".into())
        );
        assert!(keys_line(&vec![b'x'; MAX_LINE + 1]).is_err());
    }
}
