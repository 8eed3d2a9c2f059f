//! The agent's side of attestation: a small TPM 2.0 client over the kernel's resource manager
//! (`/dev/tpmrm0`) or any byte stream that carries raw TPM commands (swtpm's socket).
//!
//! Own code rather than tss-esapi: boardproof is one static-enough binary that must run on any
//! server and inside the lab's minimal initramfs, and tss-esapi links libtss2 (a C library
//! that a server may not have) and needs `unsafe` bindings, which this workspace forbids. The
//! nine commands used here are marshalled by hand after TPM 2.0 Part 3; the responses are read
//! with the same bounds-checked reader as every other parser.
//!
//! Keys: the EK is re-created from the TCG default template (EK Credential Profile 2.0, B.3.3
//! L-1 RSA 2048 / B.3.4 L-2 ECC P-256), which gives the key the EK certificate in NV names.
//! The AK is a primary ECC P-256 restricted signing key in the endorsement hierarchy: the same
//! template gives the same key on every boot of the same TPM, so a verifier can enrol it once.

use std::io::{Read, Write};
use std::path::Path;

use boardproof_formats::reader::Reader;
use boardproof_formats::tpm2::{
    marshal_pcr_selection, HashAlg, PcrSelection, ALG_AES, ALG_CFB, ALG_ECC, ALG_ECDSA, ALG_NULL,
    ALG_RSA, ECC_NIST_P256,
};

/// Errors of the TPM client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TpmError {
    /// The device or socket failed.
    #[error("TPM I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The TPM answered a command with an error code.
    #[error("TPM2_{command} failed: TPM_RC {code:#x} ({meaning})")]
    Command {
        /// The command.
        command: &'static str,
        /// The response code.
        code: u32,
        /// What the code means, as far as boardproof knows.
        meaning: &'static str,
    },
    /// The challenge file cannot be used with this TPM.
    #[error("challenge: {0}")]
    Challenge(String),
    /// The response did not parse.
    #[error("TPM2_{command} response: {source}")]
    Response {
        /// The command.
        command: &'static str,
        /// Where and why.
        source: boardproof_formats::ParseError,
    },
}

/// The bank and hash boardproof asks the TPM for.
const SHA256: u16 = HashAlg::Sha256.id();
const TAG_NO_SESSIONS: u16 = 0x8001;
const TAG_SESSIONS: u16 = 0x8002;
const RS_PW: u32 = 0x4000_0009;
const RH_ENDORSEMENT: u32 = 0x4000_000b;
const RH_OWNER: u32 = 0x4000_0001;
const RH_NULL: u32 = 0x4000_0007;
/// The largest response: TPM_PT_MAX_RESPONSE_SIZE is 4096 on PC Client TPMs.
const MAX_RESPONSE: usize = 4096;
/// NV reads in chunks no TPM refuses (TPM_PT_NV_BUFFER_MAX is at least 512, usually 1024).
const NV_CHUNK: u16 = 512;

/// The NV index of the RSA 2048 EK certificate (EK Credential Profile 2.0, 2.2.1.4).
pub const NV_EK_CERT_RSA: u32 = 0x01c0_0002;
/// The NV index of the ECC P-256 EK certificate.
pub const NV_EK_CERT_ECC: u32 = 0x01c0_000a;

/// The policy digest PolicySecret(TPM_RH_ENDORSEMENT) that guards the default EK.
const EK_POLICY: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
];

/// A channel to a TPM: one command in, one response out.
pub trait Transport {
    /// Sends `command` and returns the whole response.
    fn transact(&mut self, command: &[u8]) -> std::io::Result<Vec<u8>>;
}

/// Any stream speaking raw TPM commands: the kernel's `/dev/tpmrm0` (a response is one read)
/// or swtpm's data socket (a response may arrive in pieces).
pub struct Stream<S: Read + Write>(pub S);

impl<S: Read + Write> Transport for Stream<S> {
    fn transact(&mut self, command: &[u8]) -> std::io::Result<Vec<u8>> {
        self.0.write_all(command)?;
        self.0.flush()?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; MAX_RESPONSE];
        loop {
            let n = self.0.read(&mut buf)?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the TPM closed the channel inside a response",
                ));
            }
            out.extend_from_slice(buf.get(..n).unwrap_or_default());
            if let Some(size) = out.get(2..6) {
                let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
                if !(10..=MAX_RESPONSE).contains(&size) {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("TPM response size {size}"),
                    ));
                }
                if out.len() >= size {
                    out.truncate(size);
                    return Ok(out);
                }
            }
        }
    }
}

/// A TPM client.
pub struct Tpm<T: Transport> {
    t: T,
}

/// A byte stream in either direction (a device file or a socket).
pub trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Opens a TPM: the kernel's resource manager device (`/dev/tpmrm0`), or a Unix socket that
/// carries raw commands (swtpm's `--server type=unixio`), chosen by what `path` is.
pub fn open(path: &Path) -> Result<Tpm<Stream<Box<dyn ReadWrite>>>, TpmError> {
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?
        .file_type();
    let s: Box<dyn ReadWrite> = if kind.is_socket() {
        Box::new(std::os::unix::net::UnixStream::connect(path)?)
    } else {
        Box::new(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?,
        )
    };
    Ok(Tpm::new(Stream(s)))
}

/// The EK and AK of this TPM, loaded (flush both handles when done).
pub struct Keys {
    /// The EK.
    pub ek: Key,
    /// Its certificate from NV, when the TPM has one.
    pub ek_certificate: Option<Vec<u8>>,
    /// The AK.
    pub ak: Key,
}

impl<T: Transport> Tpm<T> {
    /// Loads the EK whose certificate the TPM holds (RSA first, then ECC; RSA when it holds
    /// none) and the AK.
    pub fn keys(&mut self) -> Result<Keys, TpmError> {
        let (ek_type, ek_certificate) = match self.nv_read_all(NV_EK_CERT_RSA)? {
            Some(c) => (ALG_RSA, Some(c)),
            None => match self.nv_read_all(NV_EK_CERT_ECC)? {
                Some(c) => (ALG_ECC, Some(c)),
                None => (ALG_RSA, None),
            },
        };
        let ek = self.create_primary(&ek_template(ek_type))?;
        let ak = match self.create_primary(&ak_template()) {
            Ok(ak) => ak,
            Err(e) => {
                let _ = self.flush(ek.handle);
                return Err(e);
            }
        };
        Ok(Keys {
            ek,
            ek_certificate,
            ak,
        })
    }

    /// Answers a verifier's challenge: recovers its secret with the EK for the AK, and quotes
    /// `pcrs` of `bank` with the secret as qualifying data.
    pub fn answer(
        &mut self,
        keys: &Keys,
        ak_name: &[u8],
        credential_blob: &[u8],
        encrypted_secret: &[u8],
        bank: u16,
        pcrs: &[u32],
    ) -> Result<Quote, TpmError> {
        let ours = boardproof_formats::tpm2::Public::parse_2b(&keys.ak.public)
            .ok()
            .and_then(|p| p.name());
        if ours.as_deref() != Some(ak_name) {
            return Err(TpmError::Challenge(
                "it was made for another attestation key than this TPM's (a challenge for \
                 another server, or this TPM was cleared since `attest keys`)"
                    .into(),
            ));
        }
        let secret = self.activate_credential(
            keys.ak.handle,
            keys.ek.handle,
            credential_blob,
            encrypted_secret,
        )?;
        self.quote(
            keys.ak.handle,
            &secret,
            &[PcrSelection {
                alg: bank,
                pcrs: pcrs.to_vec(),
            }],
        )
    }
}

/// A created primary key: its transient handle and its TPM2B_PUBLIC.
#[derive(Debug, Clone)]
pub struct Key {
    /// Transient handle (flushed by [`Tpm::flush`]).
    pub handle: u32,
    /// TPM2B_PUBLIC, size included.
    pub public: Vec<u8>,
}

/// A quote as the TPM returned it.
#[derive(Debug, Clone)]
pub struct Quote {
    /// TPMS_ATTEST bytes (the TPM2B_ATTEST's body): what the signature covers.
    pub attest: Vec<u8>,
    /// TPMT_SIGNATURE bytes.
    pub signature: Vec<u8>,
}

struct Command {
    buf: Vec<u8>,
    name: &'static str,
}

impl Command {
    fn new(code: u32, name: &'static str, sessions: bool) -> Command {
        let mut buf = Vec::new();
        let tag = if sessions {
            TAG_SESSIONS
        } else {
            TAG_NO_SESSIONS
        };
        buf.extend_from_slice(&tag.to_be_bytes());
        buf.extend_from_slice(&0u32.to_be_bytes());
        buf.extend_from_slice(&code.to_be_bytes());
        Command { buf, name }
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    /// A TPM2B: u16 size and the bytes.
    fn sized(&mut self, v: &[u8]) -> &mut Self {
        self.u16(u16::try_from(v.len()).unwrap_or(u16::MAX));
        self.bytes(v)
    }
    /// The authorization area: each session as (handle, attributes), empty nonce and hmac.
    fn auth(&mut self, sessions: &[u32]) -> &mut Self {
        let each = 4 + 2 + 1 + 2;
        self.u32(u32::try_from(sessions.len() * each).unwrap_or(u32::MAX));
        for &s in sessions {
            self.u32(s).u16(0).u8(0).u16(0);
        }
        self
    }
    fn finish(mut self) -> (Vec<u8>, &'static str) {
        let size = u32::try_from(self.buf.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes();
        if let Some(s) = self.buf.get_mut(2..6) {
            s.copy_from_slice(&size);
        }
        (self.buf, self.name)
    }
}

/// A successful response: handles and parameters after the header.
struct Response {
    body: Vec<u8>,
    name: &'static str,
}

impl Response {
    fn reader(&self) -> Reader<'_> {
        Reader::new(&self.body, 10)
    }
    fn err(&self) -> impl Fn(boardproof_formats::ParseError) -> TpmError + '_ {
        move |source| TpmError::Response {
            command: self.name,
            source,
        }
    }
}

impl<T: Transport> Tpm<T> {
    /// A client over `t`.
    pub fn new(t: T) -> Self {
        Tpm { t }
    }

    fn run(&mut self, cmd: Command) -> Result<Response, TpmError> {
        let (bytes, name) = cmd.finish();
        let mut tries = 0;
        let resp = loop {
            let resp = self.t.transact(&bytes)?;
            let code = resp
                .get(6..10)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
            // TPM_RC_RETRY, TPM_RC_YIELDED, TPM_RC_TESTING: the command was not run; send it
            // again (Part 2, 6.6.3), a bounded number of times.
            if matches!(code, Some(0x922 | 0x908 | 0x90a)) && tries < 16 {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10 * tries));
                continue;
            }
            break resp;
        };
        let mut r = Reader::new(&resp, 0);
        let parse = |source| TpmError::Response {
            command: name,
            source,
        };
        r.u16_be("tag").map_err(parse)?;
        r.u32_be("responseSize").map_err(parse)?;
        let code = r.u32_be("responseCode").map_err(parse)?;
        if code != 0 {
            return Err(TpmError::Command {
                command: name,
                code,
                meaning: meaning(code),
            });
        }
        Ok(Response {
            body: r.rest().to_vec(),
            name,
        })
    }

    /// TPM2_PCR_Read of `pcrs` in bank `alg`; returns (pcr, value) in PCR order. The TPM
    /// returns at most 8 values per call, so this asks until every PCR is read.
    pub fn pcr_read(&mut self, alg: u16, pcrs: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, TpmError> {
        let mut left: Vec<u32> = pcrs.to_vec();
        let mut out = Vec::new();
        while !left.is_empty() {
            let mut c = Command::new(0x17e, "PCR_Read", false);
            c.bytes(&marshal_pcr_selection(&[PcrSelection {
                alg,
                pcrs: left.clone(),
            }]));
            let resp = self.run(c)?;
            let mut r = resp.reader();
            let e = resp.err();
            r.u32_be("pcrUpdateCounter").map_err(&e)?;
            let count = r.u32_be("pcrSelectionOut.count").map_err(&e)?;
            let mut got = Vec::new();
            for _ in 0..count.min(16) {
                r.u16_be("hash").map_err(&e)?;
                let n = r.u8("sizeofSelect").map_err(&e)?;
                let bits = r.take(usize::from(n), "pcrSelect").map_err(&e)?;
                for (byte, b) in (0u32..).zip(bits) {
                    for bit in 0..8 {
                        if b & (1 << bit) != 0 {
                            got.push(byte * 8 + bit);
                        }
                    }
                }
            }
            let values = r.u32_be("pcrValues.count").map_err(&e)?;
            if values as usize != got.len() || got.is_empty() {
                return Err(TpmError::Command {
                    command: "PCR_Read",
                    code: 0,
                    meaning: "the TPM returned no values for PCRs it was asked for (bank not \
                              allocated?)",
                });
            }
            for pcr in &got {
                let size = r.u16_be("digest.size").map_err(&e)?;
                let v = r.take(usize::from(size), "digest").map_err(&e)?;
                out.push((*pcr, v.to_vec()));
            }
            // A TPM that answers with PCRs it was not asked for would keep this loop going, or
            // slip values into the result that nobody asked for.
            if got.iter().any(|p| !left.contains(p)) {
                return Err(TpmError::Command {
                    command: "PCR_Read",
                    code: 0,
                    meaning: "the TPM returned PCRs it was not asked for",
                });
            }
            left.retain(|p| !got.contains(p));
        }
        out.sort_by_key(|(p, _)| *p);
        Ok(out)
    }

    /// TPM2_CreatePrimary in the endorsement hierarchy with `template` (a TPMT_PUBLIC).
    pub fn create_primary(&mut self, template: &[u8]) -> Result<Key, TpmError> {
        let mut c = Command::new(0x131, "CreatePrimary", true);
        c.u32(RH_ENDORSEMENT).auth(&[RS_PW]);
        // TPM2B_SENSITIVE_CREATE: empty userAuth, empty data.
        c.u16(4).u16(0).u16(0);
        c.sized(template);
        c.u16(0); // outsideInfo
        c.u32(0); // creationPCR
        let resp = self.run(c)?;
        let mut r = resp.reader();
        let e = resp.err();
        let handle = r.u32_be("objectHandle").map_err(&e)?;
        r.u32_be("parameterSize").map_err(&e)?;
        let at = r.rest();
        let size = r.u16_be("outPublic.size").map_err(&e)?;
        r.skip(usize::from(size), "outPublic").map_err(&e)?;
        let public = at
            .get(..usize::from(size) + 2)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        Ok(Key { handle, public })
    }

    /// TPM2_FlushContext.
    pub fn flush(&mut self, handle: u32) -> Result<(), TpmError> {
        let mut c = Command::new(0x165, "FlushContext", false);
        c.u32(handle);
        self.run(c).map(|_| ())
    }

    /// Reads a whole NV index (an EK certificate); `None` when the index is not defined.
    pub fn nv_read_all(&mut self, index: u32) -> Result<Option<Vec<u8>>, TpmError> {
        let mut c = Command::new(0x169, "NV_ReadPublic", false);
        c.u32(index);
        let resp = match self.run(c) {
            Ok(r) => r,
            // TPM_RC_HANDLE for parameter 1: no such index.
            Err(TpmError::Command { code, .. }) if code & 0xbf == 0x8b => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut r = resp.reader();
        let e = resp.err();
        r.u16_be("nvPublic.size").map_err(&e)?;
        r.u32_be("nvIndex").map_err(&e)?;
        r.u16_be("nameAlg").map_err(&e)?;
        r.u32_be("attributes").map_err(&e)?;
        let p = r.u16_be("authPolicy.size").map_err(&e)?;
        r.skip(usize::from(p), "authPolicy").map_err(&e)?;
        let size = r.u16_be("dataSize").map_err(&e)?;
        let mut data = Vec::with_capacity(usize::from(size));
        // The index's own auth (AUTHREAD, empty) first, then the owner's (OWNERREAD).
        'auth: for auth in [index, RH_OWNER] {
            data.clear();
            let mut offset = 0u16;
            while offset < size {
                let n = NV_CHUNK.min(size - offset);
                let mut c = Command::new(0x14e, "NV_Read", true);
                c.u32(auth).u32(index).auth(&[RS_PW]).u16(n).u16(offset);
                let resp = match self.run(c) {
                    Ok(r) => r,
                    Err(e) if auth == index => {
                        let _ = e;
                        continue 'auth;
                    }
                    Err(e) => return Err(e),
                };
                let mut r = resp.reader();
                let e = resp.err();
                r.u32_be("parameterSize").map_err(&e)?;
                let got = r.u16_be("data.size").map_err(&e)?;
                if got != n {
                    return Err(TpmError::Command {
                        command: "NV_Read",
                        code: 0,
                        meaning: "the TPM returned fewer bytes than asked",
                    });
                }
                data.extend_from_slice(r.take(usize::from(got), "data").map_err(&e)?);
                offset += n;
            }
            return Ok(Some(data));
        }
        Ok(None)
    }

    /// TPM2_Quote with `ak` over `nonce` and `selection`.
    pub fn quote(
        &mut self,
        ak: u32,
        nonce: &[u8],
        selection: &[PcrSelection],
    ) -> Result<Quote, TpmError> {
        let mut c = Command::new(0x158, "Quote", true);
        c.u32(ak).auth(&[RS_PW]);
        c.sized(nonce).u16(ALG_NULL);
        c.bytes(&marshal_pcr_selection(selection));
        let resp = self.run(c)?;
        let mut r = resp.reader();
        let e = resp.err();
        r.u32_be("parameterSize").map_err(&e)?;
        let size = r.u16_be("quoted.size").map_err(&e)?;
        let attest = r.take(usize::from(size), "quoted").map_err(&e)?.to_vec();
        let rest = r.rest();
        // TPMT_SIGNATURE runs to the response's authorization area (9 bytes per session).
        let sig_len = rest.len().saturating_sub(5);
        let signature = rest.get(..sig_len).unwrap_or_default().to_vec();
        Ok(Quote { attest, signature })
    }

    /// TPM2_ActivateCredential: recovers the verifier's secret with the EK (authorised by
    /// PolicySecret(TPM_RH_ENDORSEMENT) in a fresh policy session) for the AK.
    pub fn activate_credential(
        &mut self,
        ak: u32,
        ek: u32,
        credential_blob: &[u8],
        encrypted_secret: &[u8],
    ) -> Result<Vec<u8>, TpmError> {
        let mut c = Command::new(0x176, "StartAuthSession", false);
        c.u32(RH_NULL).u32(RH_NULL);
        c.sized(&[0x5a; 16]); // nonceCaller
        c.u16(0); // encryptedSalt
        c.u8(0x01); // TPM_SE_POLICY
        c.u16(ALG_NULL); // symmetric
        c.u16(SHA256);
        let resp = self.run(c)?;
        let session = resp.reader().u32_be("sessionHandle").map_err(resp.err())?;
        let result = self.activate_in(session, ak, ek, credential_blob, encrypted_secret);
        if result.is_err() {
            let _ = self.flush(session);
        }
        result
    }

    fn activate_in(
        &mut self,
        session: u32,
        ak: u32,
        ek: u32,
        credential_blob: &[u8],
        encrypted_secret: &[u8],
    ) -> Result<Vec<u8>, TpmError> {
        let mut c = Command::new(0x151, "PolicySecret", true);
        c.u32(RH_ENDORSEMENT).u32(session).auth(&[RS_PW]);
        c.u16(0).u16(0).u16(0).u32(0);
        self.run(c)?;
        let mut c = Command::new(0x147, "ActivateCredential", true);
        c.u32(ak).u32(ek).auth(&[RS_PW, session]);
        c.bytes(credential_blob).bytes(encrypted_secret);
        let resp = self.run(c)?;
        let mut r = resp.reader();
        let e = resp.err();
        r.u32_be("parameterSize").map_err(&e)?;
        let n = r.u16_be("certInfo.size").map_err(&e)?;
        Ok(r.take(usize::from(n), "certInfo").map_err(&e)?.to_vec())
    }
}

/// The TCG default EK template for `key_type` (RSA or ECC).
pub fn ek_template(key_type: u16) -> Vec<u8> {
    let mut c = Command::new(0, "", false);
    c.buf.clear();
    c.u16(key_type).u16(SHA256).u32(0x0003_00b2);
    c.sized(&EK_POLICY);
    c.u16(ALG_AES).u16(128).u16(ALG_CFB);
    c.u16(ALG_NULL);
    if key_type == ALG_RSA {
        c.u16(2048).u32(0).sized(&[0u8; 256]);
    } else {
        c.u16(ECC_NIST_P256)
            .u16(ALG_NULL)
            .sized(&[0u8; 32])
            .sized(&[0u8; 32]);
    }
    c.buf
}

/// The AK template: ECC P-256, ECDSA-SHA256, fixedTPM | fixedParent | sensitiveDataOrigin |
/// userWithAuth | restricted | sign.
pub fn ak_template() -> Vec<u8> {
    let mut c = Command::new(0, "", false);
    c.buf.clear();
    c.u16(ALG_ECC).u16(SHA256).u32(0x0005_0072);
    c.u16(0);
    c.u16(ALG_NULL);
    c.u16(ALG_ECDSA).u16(SHA256);
    c.u16(ECC_NIST_P256).u16(ALG_NULL);
    c.u16(0).u16(0);
    c.buf
}

/// A short meaning for the response codes an attestation meets.
fn meaning(code: u32) -> &'static str {
    // Format-one codes carry a parameter/handle/session number in bits 8-11.
    let base = if code & 0x80 != 0 { code & 0xbf } else { code };
    match base {
        0x100 => "TPM_RC_INITIALIZE: TPM2_Startup was not run",
        0x101 => "TPM_RC_FAILURE: the TPM is in failure mode",
        0x922 => "TPM_RC_RETRY: the TPM was busy (asked again, still busy)",
        0x921 => "TPM_RC_LOCKOUT: the TPM is in dictionary-attack lockout",
        0x902 => "TPM_RC_OBJECT_MEMORY: no room for another object",
        0x903 => "TPM_RC_SESSION_MEMORY: no room for another session",
        0x83 => "TPM_RC_HASH: unsupported hash",
        0x84 => "TPM_RC_VALUE: a value out of range",
        0x8b => "TPM_RC_HANDLE: no such handle",
        0x8e => "TPM_RC_AUTH_FAIL: authorization failed",
        0x95 => "TPM_RC_SIZE: a size is wrong",
        0x9c => "TPM_RC_KEY: the key is not fit",
        0x9d => "TPM_RC_POLICY_FAIL: the policy session does not satisfy the key's policy",
        0x9f => "TPM_RC_INTEGRITY: the credential is not for this EK and AK",
        0xa2 => "TPM_RC_BAD_AUTH: authorization failed",
        _ => "see TPM 2.0 Part 2, 6.6",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers each command with the next scripted response.
    struct Script(Vec<Vec<u8>>);

    impl Transport for Script {
        fn transact(&mut self, _command: &[u8]) -> std::io::Result<Vec<u8>> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("script ended"));
            }
            Ok(self.0.remove(0))
        }
    }

    /// A PCR_Read response carrying `pcrs` of SHA-256, each value 32 bytes of its number.
    fn pcr_read_response(pcrs: &[u32]) -> Vec<u8> {
        let mut select = [0u8; 3];
        for p in pcrs {
            select[(*p / 8) as usize] |= 1 << (p % 8);
        }
        let mut body = Vec::new();
        body.extend_from_slice(&7u32.to_be_bytes());
        body.extend_from_slice(&1u32.to_be_bytes());
        body.extend_from_slice(&SHA256.to_be_bytes());
        body.push(3);
        body.extend_from_slice(&select);
        body.extend_from_slice(&(pcrs.len() as u32).to_be_bytes());
        for p in pcrs {
            body.extend_from_slice(&32u16.to_be_bytes());
            body.extend_from_slice(&[*p as u8; 32]);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&TAG_NO_SESSIONS.to_be_bytes());
        out.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn pcr_read_asks_until_every_pcr_is_read() {
        let mut tpm = Tpm::new(Script(vec![
            pcr_read_response(&(0..8).collect::<Vec<_>>()),
            pcr_read_response(&[8, 9, 10]),
        ]));
        let got = tpm.pcr_read(SHA256, &(0..11).collect::<Vec<_>>()).unwrap();
        assert_eq!(got.len(), 11);
        for (i, (pcr, value)) in got.iter().enumerate() {
            assert_eq!(*pcr, i as u32);
            assert_eq!(value, &vec![i as u8; 32]);
        }
    }

    #[test]
    fn pcr_read_rejects_pcrs_nobody_asked_for() {
        // Asked for 0-3, answered 0-3 and 16: PCR 16's value must not slip into the result.
        let mut tpm = Tpm::new(Script(vec![pcr_read_response(&[0, 1, 2, 3, 16])]));
        let err = tpm.pcr_read(SHA256, &[0, 1, 2, 3]).unwrap_err();
        assert!(err.to_string().contains("not asked for"), "{err}");
        // A TPM repeating PCRs already read would otherwise loop for ever.
        let mut tpm = Tpm::new(Script(vec![
            pcr_read_response(&[0, 1]),
            pcr_read_response(&[0, 1]),
        ]));
        let err = tpm.pcr_read(SHA256, &[0, 1, 2]).unwrap_err();
        assert!(err.to_string().contains("not asked for"), "{err}");
    }
}
