//! The agent's TPM client fed arbitrary responses (a hostile TPM, or something between the
//! kernel and it): every command must end with a value or an error, never a panic or a hang.
#![no_main]

use boardproof_collect::tpm2::{ak_template, Tpm, Transport};
use boardproof_formats::tpm2::HashAlg;

const ALG_SHA256: u16 = HashAlg::Sha256.id();
use boardproof_formats::tpm2::PcrSelection;
use libfuzzer_sys::fuzz_target;

/// Answers every command with the same bytes.
struct Same(Vec<u8>);

impl Transport for Same {
    fn transact(&mut self, _command: &[u8]) -> std::io::Result<Vec<u8>> {
        Ok(self.0.clone())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut tpm = Tpm::new(Same(data.to_vec()));
    let _ = tpm.pcr_read(ALG_SHA256, &(0..24).collect::<Vec<_>>());
    let _ = tpm.create_primary(&ak_template());
    let _ = tpm.nv_read_all(0x01c0_0002);
    let _ = tpm.quote(
        0x8000_0000,
        b"nonce",
        &[PcrSelection {
            alg: ALG_SHA256,
            pcrs: (0..11).collect(),
        }],
    );
    let _ = tpm.activate_credential(0x8000_0000, 0x8000_0001, &[0, 0], &[0, 0]);
});
