//! TCG Platform Certificates (attribute certificates): arbitrary bytes as DER and as PEM.
#![no_main]

use boardproof_formats::platform_cert;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = platform_cert::parse(data) {
        assert!(c.components.len() <= platform_cert::MAX_COMPONENTS);
        assert!(c.tbs.len() <= data.len());
    }
    if let Ok(der) = platform_cert::decode_pem_or_der(data) {
        let _ = platform_cert::parse(&der);
    }
});
