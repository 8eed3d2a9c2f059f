//! Collecting this host in one call: every source, the firmware images given, and the TPM
//! quote over a verifier's challenge (feature `collector`).

use std::path::Path;

use boardproof_evidence::{Attestation, AttestationChallenge, Evidence, FirmwareImage};
use boardproof_formats::tpm2::HashAlg;

use crate::Error;

/// What to collect.
#[derive(Debug)]
pub struct Request<'a> {
    /// The directory the sources read below (`/` on a live host).
    pub root: &'a Path,
    /// Actively probe I2C/SMBus adapters.
    pub probe_i2c: bool,
    /// Read PCI option ROMs.
    pub option_roms: bool,
    /// Firmware images already read (a flash dump, an OVMF image), each under its label.
    pub firmware: Vec<FirmwareImage>,
    /// Answer this challenge with the TPM, and where the challenge came from.
    pub challenge: Option<Challenge<'a>>,
}

/// A verifier's challenge to answer with a TPM.
#[derive(Debug)]
pub struct Challenge<'a> {
    /// The TPM: a resource manager device or a Unix socket speaking raw TPM commands.
    pub tpm: &'a Path,
    /// The challenge.
    pub challenge: &'a AttestationChallenge,
    /// What to call it in errors (its path).
    pub name: &'a str,
}

/// Collects `req`; `progress` is told each source as it starts (name, index, count).
///
/// The quote is made first: the event log and IMA list read afterwards hold at least what
/// it covers. A challenge that cannot be answered stops here, before anything is collected.
pub fn collect(
    req: Request<'_>,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Evidence, Error> {
    let attestation = match &req.challenge {
        Some(c) => Some(answer(
            c,
            req.root
                .join("sys/kernel/security/ima/binary_runtime_measurements")
                .exists(),
        )?),
        None => None,
    };
    let mut opts = boardproof_collect::Options::new(req.root);
    opts.probe_i2c = req.probe_i2c;
    opts.option_roms = req.option_roms;
    let mut ev = boardproof_collect::collect(&opts, progress);
    ev.volatile.attestation = attestation;
    boardproof_collect::firmware::attach(&mut ev, req.firmware, None);
    Ok(ev)
}

/// Answers a challenge with the TPM: recovers its secret for the AK and quotes PCRs 0-9 and,
/// when the kernel keeps an IMA list (`with_ima`), PCR 10, SHA-256 bank.
pub fn answer(c: &Challenge<'_>, with_ima: bool) -> Result<Attestation, Error> {
    let unhex = |field: &str, v: &str| {
        hex::decode(v).map_err(|_| Error::Invalid(format!("{}: {field} is not hex", c.name)))
    };
    let ak_name = unhex("ak_name", &c.challenge.ak_name)?;
    let blob = unhex("credential_blob", &c.challenge.credential_blob)?;
    let enc = unhex("encrypted_secret", &c.challenge.encrypted_secret)?;
    let tpm_error = |e: boardproof_collect::tpm2::TpmError| Error::Tpm {
        name: format!("TPM {}", c.tpm.display()),
        why: e.to_string(),
    };
    let mut tpm = boardproof_collect::tpm2::open(c.tpm).map_err(tpm_error)?;
    let k = tpm.keys().map_err(tpm_error)?;
    let pcrs: Vec<u32> = if with_ima {
        (0..11).collect()
    } else {
        (0..10).collect()
    };
    let q = tpm.answer(&k, &ak_name, &blob, &enc, HashAlg::Sha256.id(), &pcrs);
    // Transient keys go whatever the answer was: a TPM has few slots.
    let _ = tpm.flush(k.ak.handle);
    let _ = tpm.flush(k.ek.handle);
    let q = q.map_err(|e| Error::Tpm {
        name: c.name.to_owned(),
        why: e.to_string(),
    })?;
    Ok(Attestation {
        ek_public: hex::encode(&k.ek.public),
        ek_certificate: k.ek_certificate.as_ref().map(hex::encode),
        ak_public: hex::encode(&k.ak.public),
        quote: hex::encode(&q.attest),
        signature: hex::encode(&q.signature),
    })
}
