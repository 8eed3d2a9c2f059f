//! Parsers for the bytes boardproof reads from a server: SMBIOS tables, ACPI table headers,
//! Linux kernel module signature trailers, the hwdata `pci.ids` name database, TCG event logs,
//! IMA lists, TPM 2.0 structures and UEFI firmware images.
//!
//! Everything here is pure: no I/O, deterministic, and written for hostile input. Firmware,
//! a BMC or an attacker with root may have written these bytes, so every read is bounds-checked,
//! every length is checked against what is really there and against a named cap before it is
//! used, and a malformed input gives a [`ParseError`] carrying the absolute offset and the field,
//! never a panic.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )
)]
#![warn(missing_docs)]

pub mod acpi;
pub mod component_class;
pub mod error;
pub mod eventlog;
pub mod guid;
pub mod ima;
pub mod kmod_sig;
pub mod pci_config;
pub mod pci_ids;
pub mod pci_rom;
pub mod platform_cert;
pub mod reader;
pub mod smbios;
pub mod tpm2;
pub mod uefi;

pub use error::{ErrorKind, ParseError};
