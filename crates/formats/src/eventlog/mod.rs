//! TCG PC Client Platform Firmware Profile event logs (`binary_bios_measurements`).
//!
//! Two formats exist (PFP specification, section 10): the SHA-1 log of TPM 1.2 firmware, where
//! every event is a `TCG_PCClientPCREvent` with one SHA-1 digest, and the crypto-agile log,
//! whose first event is still in the SHA-1 form but carries a `TCG_EfiSpecIDEvent`
//! ("Spec ID Event03") naming the digest algorithms and their sizes; every later event is a
//! `TCG_PCR_EVENT2` with one digest per algorithm.
//!
//! The digest sizes come from the Spec ID event, never from the algorithm id alone: a log may
//! name an algorithm this parser cannot hash, and must still parse. Every count and size is
//! checked against what is there and against a cap before anything is allocated.

use crate::error::{ErrorKind, ParseError};
use crate::reader::Reader;
use crate::tpm2::HashAlg;

mod data;
mod device_path;
mod replay;

pub use data::{describe, EventData};
pub use device_path::device_path_text;
pub use replay::{can_hash, extend, hash, initial_value, replay, Bank, PCR_COUNT};

/// At most this many events (firmware logs hold tens to a few hundred).
pub const MAX_EVENTS: usize = 100_000;
/// At most this much event data per event (a Secure Boot `db` is tens of KiB).
pub const MAX_EVENT_DATA: usize = 16 << 20;
/// At most this many digest algorithms in the Spec ID event (the TCG registry has fewer).
pub const MAX_ALGORITHMS: u32 = 16;
/// The largest digest size accepted from a Spec ID event (SHA-512: 64).
pub const MAX_DIGEST_SIZE: u16 = 64;

/// EV_NO_ACTION: informational, never extended into a PCR.
pub const EV_NO_ACTION: u32 = 0x3;

/// The name tpm2-tools uses for an algorithm id (`sha256`), or `alg_0xNNNN`.
pub fn algorithm_name(alg: u16) -> String {
    match HashAlg::from_id(alg) {
        Some(a) => a.name().to_owned(),
        None => format!("alg_{alg:#06x}"),
    }
}

/// The algorithm id of a name [`algorithm_name`] gives.
pub fn algorithm_id(name: &str) -> Option<u16> {
    match HashAlg::from_name(name) {
        Some(a) => Some(a.id()),
        None => u16::from_str_radix(name.strip_prefix("alg_0x")?, 16).ok(),
    }
}

/// The PFP name of an event type (`EV_EFI_BOOT_SERVICES_APPLICATION`), or its number.
pub fn event_type_name(t: u32) -> String {
    let name = match t {
        0x0 => "EV_PREBOOT_CERT",
        0x1 => "EV_POST_CODE",
        0x2 => "EV_UNUSED",
        0x3 => "EV_NO_ACTION",
        0x4 => "EV_SEPARATOR",
        0x5 => "EV_ACTION",
        0x6 => "EV_EVENT_TAG",
        0x7 => "EV_S_CRTM_CONTENTS",
        0x8 => "EV_S_CRTM_VERSION",
        0x9 => "EV_CPU_MICROCODE",
        0xa => "EV_PLATFORM_CONFIG_FLAGS",
        0xb => "EV_TABLE_OF_DEVICES",
        0xc => "EV_COMPACT_HASH",
        0xd => "EV_IPL",
        0xe => "EV_IPL_PARTITION_DATA",
        0xf => "EV_NONHOST_CODE",
        0x10 => "EV_NONHOST_CONFIG",
        0x11 => "EV_NONHOST_INFO",
        0x12 => "EV_OMIT_BOOT_DEVICE_EVENTS",
        0x13 => "EV_POST_CODE2",
        0x8000_0000 => "EV_EFI_EVENT_BASE",
        0x8000_0001 => "EV_EFI_VARIABLE_DRIVER_CONFIG",
        0x8000_0002 => "EV_EFI_VARIABLE_BOOT",
        0x8000_0003 => "EV_EFI_BOOT_SERVICES_APPLICATION",
        0x8000_0004 => "EV_EFI_BOOT_SERVICES_DRIVER",
        0x8000_0005 => "EV_EFI_RUNTIME_SERVICES_DRIVER",
        0x8000_0006 => "EV_EFI_GPT_EVENT",
        0x8000_0007 => "EV_EFI_ACTION",
        0x8000_0008 => "EV_EFI_PLATFORM_FIRMWARE_BLOB",
        0x8000_0009 => "EV_EFI_HANDOFF_TABLES",
        0x8000_000a => "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
        0x8000_000b => "EV_EFI_HANDOFF_TABLES2",
        0x8000_000c => "EV_EFI_VARIABLE_BOOT2",
        0x8000_000d => "EV_EFI_GPT_EVENT2",
        0x8000_0010 => "EV_EFI_HCRTM_EVENT",
        0x8000_00e0 => "EV_EFI_VARIABLE_AUTHORITY",
        0x8000_00e1 => "EV_EFI_SPDM_FIRMWARE_BLOB",
        0x8000_00e2 => "EV_EFI_SPDM_FIRMWARE_CONFIG",
        other => return format!("{other:#010x}"),
    };
    name.to_owned()
}

/// Which of the two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TPM 1.2 style: one SHA-1 digest per event.
    Sha1,
    /// Crypto-agile: a Spec ID event, then one digest per declared algorithm.
    CryptoAgile,
}

/// An algorithm and its digest size, from the Spec ID event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Algorithm {
    /// TPM_ALG_ID.
    pub id: u16,
    /// Digest size in bytes.
    pub size: u16,
}

/// The `TCG_EfiSpecIDEvent` of a crypto-agile log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecId {
    /// Platform class (0 client, 1 server).
    pub platform_class: u32,
    /// Spec version major, minor, errata.
    pub version: (u8, u8, u8),
    /// UINTN size (1: 32-bit, 2: 64-bit firmware).
    pub uintn_size: u8,
    /// The digest algorithms every later event carries.
    pub algorithms: Vec<Algorithm>,
    /// Vendor information bytes.
    pub vendor_info: Vec<u8>,
}

/// One event: a view into the log's bytes (digests and data are not copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// Position in the log (0 is the first event).
    pub index: usize,
    /// Byte offset of the event in the log.
    pub offset: usize,
    /// PCR index.
    pub pcr: u32,
    /// Event type.
    pub event_type: u32,
    /// Digests: (algorithm id, bytes), in log order.
    pub digests: Vec<(u16, &'a [u8])>,
    /// Event data.
    pub data: &'a [u8],
}

impl<'a> Event<'a> {
    /// The digest of `alg`, if the event carries one.
    pub fn digest(&self, alg: u16) -> Option<&'a [u8]> {
        self.digests
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, d)| *d)
    }
}

/// A parsed log, borrowing the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLog<'a> {
    /// Which format.
    pub format: Format,
    /// The Spec ID event's contents (crypto-agile logs).
    pub spec_id: Option<SpecId>,
    /// Every event, the first (header) event included.
    pub events: Vec<Event<'a>>,
}

const SPEC_ID_SIGNATURE: &[u8; 16] = b"Spec ID Event03\0";
const STARTUP_LOCALITY_SIGNATURE: &[u8; 16] = b"StartupLocality\0";

fn event_data<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], ParseError> {
    let size = r.u32_le("event data size")?;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if size > MAX_EVENT_DATA || size > r.remaining() {
        return Err(r.err("event data size", ErrorKind::BadLength(size as u64)));
    }
    r.take(size, "event data")
}

/// A `TCG_PCClientPCREvent` (SHA-1 form).
fn sha1_event<'a>(r: &mut Reader<'a>, index: usize) -> Result<Event<'a>, ParseError> {
    let offset = r.offset();
    let pcr = r.u32_le("pcr index")?;
    let event_type = r.u32_le("event type")?;
    let digest = r.take(20, "sha1 digest")?;
    let data = event_data(r)?;
    Ok(Event {
        index,
        offset,
        pcr,
        event_type,
        digests: vec![(HashAlg::Sha1.id(), digest)],
        data,
    })
}

fn spec_id(data: &[u8], base: usize) -> Result<SpecId, ParseError> {
    let mut r = Reader::new(data, base);
    r.skip(16, "spec id signature")?;
    let platform_class = r.u32_le("platform class")?;
    let minor = r.u8("spec version minor")?;
    let major = r.u8("spec version major")?;
    let errata = r.u8("spec errata")?;
    let uintn_size = r.u8("uintn size")?;
    let count = r.u32_le("number of algorithms")?;
    if count == 0 || count > MAX_ALGORITHMS {
        return Err(r.err("number of algorithms", ErrorKind::TooMany(u64::from(count))));
    }
    let mut algorithms = Vec::new();
    for _ in 0..count {
        let id = r.u16_le("algorithm id")?;
        let size = r.u16_le("digest size")?;
        if size == 0 || size > MAX_DIGEST_SIZE {
            return Err(r.err("digest size", ErrorKind::BadLength(u64::from(size))));
        }
        if algorithms.iter().any(|a: &Algorithm| a.id == id) {
            return Err(r.err("algorithm id", ErrorKind::Invalid("algorithm listed twice")));
        }
        algorithms.push(Algorithm { id, size });
    }
    let vendor_size = r.u8("vendor info size")?;
    let vendor_info = r.take(usize::from(vendor_size), "vendor info")?.to_vec();
    Ok(SpecId {
        platform_class,
        version: (major, minor, errata),
        uintn_size,
        algorithms,
        vendor_info,
    })
}

/// A `TCG_PCR_EVENT2`.
fn agile_event<'a>(
    r: &mut Reader<'a>,
    index: usize,
    spec: &SpecId,
) -> Result<Event<'a>, ParseError> {
    let offset = r.offset();
    let pcr = r.u32_le("pcr index")?;
    let event_type = r.u32_le("event type")?;
    let count = r.u32_le("digest count")?;
    if count > MAX_ALGORITHMS {
        return Err(r.err("digest count", ErrorKind::TooMany(u64::from(count))));
    }
    let mut digests = Vec::new();
    for _ in 0..count {
        let alg = r.u16_le("digest algorithm")?;
        let size = spec
            .algorithms
            .iter()
            .find(|a| a.id == alg)
            .map(|a| a.size)
            .ok_or_else(|| {
                r.err(
                    "digest algorithm",
                    ErrorKind::Invalid("algorithm not declared in the Spec ID event"),
                )
            })?;
        let d = r.take(usize::from(size), "digest")?;
        digests.push((alg, d));
    }
    let data = event_data(r)?;
    Ok(Event {
        index,
        offset,
        pcr,
        event_type,
        digests,
        data,
    })
}

/// Parses a whole log. An empty input is an error (a TPM with a log has at least one event).
pub fn parse(data: &[u8]) -> Result<EventLog<'_>, ParseError> {
    let mut r = Reader::new(data, 0);
    if r.is_empty() {
        return Err(r.err("first event", ErrorKind::Truncated));
    }
    let first = sha1_event(&mut r, 0)?;
    let is_spec_id = first.event_type == EV_NO_ACTION
        && first.pcr == 0
        && first.data.get(..16) == Some(SPEC_ID_SIGNATURE.as_slice());
    let spec = if is_spec_id {
        // The event data starts after pcr(4) type(4) digest(20) size(4).
        Some(spec_id(first.data, first.offset.saturating_add(32))?)
    } else {
        None
    };
    let mut events = vec![first];
    while !r.is_empty() {
        if events.len() >= MAX_EVENTS {
            return Err(r.err("event", ErrorKind::TooMany(events.len() as u64)));
        }
        let index = events.len();
        let e = match &spec {
            Some(s) => agile_event(&mut r, index, s)?,
            None => sha1_event(&mut r, index)?,
        };
        events.push(e);
    }
    Ok(EventLog {
        format: if spec.is_some() {
            Format::CryptoAgile
        } else {
            Format::Sha1
        },
        spec_id: spec,
        events,
    })
}

impl EventLog<'_> {
    /// The algorithms every event carries.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        match &self.spec_id {
            Some(s) => s.algorithms.clone(),
            None => vec![Algorithm {
                id: HashAlg::Sha1.id(),
                size: 20,
            }],
        }
    }

    /// The locality of an EV_NO_ACTION StartupLocality event (PFP 10.4.5.3), if any.
    pub fn startup_locality(&self) -> Option<u8> {
        self.events.iter().find_map(|e| {
            (e.event_type == EV_NO_ACTION
                && e.pcr == 0
                && e.data.get(..16) == Some(STARTUP_LOCALITY_SIGNATURE.as_slice()))
            .then(|| e.data.get(16).copied())
            .flatten()
        })
    }
}
