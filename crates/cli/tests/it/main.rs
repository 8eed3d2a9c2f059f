//! Integration tests of the `boardproof` binary, one module per area.

// Test code: a failed unwrap is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attest_swtpm;
mod bounded;
mod buses;
mod chain;
mod corim;
mod crash;
mod documents;
mod e2e;
mod eventlog_tpm2;
mod firmware_capsule;
mod firmware_diff;
mod firmware_tiano;
mod firmware_uefiextract;
mod fixture;
mod hostile;
mod keys_openssl;
mod lab;
mod lab_golden;
mod log;
mod option_rom;
mod pci_names;
mod platform_cert;
mod readme;
mod scan;
mod schema;
mod smbios_dmidecode;
mod snapshot;
mod store_auth;
mod util;
mod written;
