//! Turns a parsed SMBIOS table into the evidence model: every structure hashed, the
//! identity-bearing types decoded. Shared by `collect` and `boardproof smbios decode`.

use boardproof_evidence::{Handled, Smbios, SmbiosStructure};
use boardproof_formats::smbios::{decode, EntryPoint, EntryPointKind, Record, Table};

use crate::fsutil::sha256_hex;

/// The wake-up type byte of the type 1 structure, which changes with how the machine was
/// powered on and so is kept out of identity.
pub fn wake_up_type(table: &Table<'_>) -> Option<u8> {
    table
        .structures()
        .filter_map(Result::ok)
        .find(|s| s.kind == 1)
        .and_then(|s| s.byte(0x18))
}

/// Decodes every structure of `table`. A malformed structure ends the walk; what came before it
/// is kept and the error is recorded in `error`.
pub fn inventory(ep: &EntryPoint, table: &Table<'_>) -> Smbios {
    let mut out = Smbios {
        version: table.version().to_string(),
        entry_point: match ep.kind {
            EntryPointKind::Smbios2 => "smbios2",
            EntryPointKind::Smbios3 => "smbios3",
            EntryPointKind::LegacyDmi => "legacy-dmi",
        }
        .to_owned(),
        ..Smbios::default()
    };
    for item in table.structures() {
        let s = match item {
            Ok(s) => s,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        };
        out.structures.push(SmbiosStructure {
            kind: s.kind,
            handle: s.handle,
            length: u8::try_from(s.formatted.len()).unwrap_or(u8::MAX),
            sha256: sha256_hex(s.raw),
        });
        let handle = s.handle;
        match decode(&s, table.version()) {
            Record::Bios(r) => {
                out.bios.get_or_insert(r);
            }
            Record::System(r) => {
                out.system.get_or_insert(r);
            }
            Record::Baseboard(record) => out.baseboards.push(Handled { handle, record }),
            Record::Chassis(record) => out.chassis.push(Handled { handle, record }),
            Record::Processor(record) => out.processors.push(Handled { handle, record }),
            Record::Slot(record) => out.slots.push(Handled { handle, record }),
            Record::MemoryArray(record) => out.memory_arrays.push(Handled { handle, record }),
            Record::MemoryDevice(record) => out.memory_devices.push(Handled { handle, record }),
            Record::Ipmi(record) => out.ipmi.push(Handled { handle, record }),
            Record::PowerSupply(record) => out.power_supplies.push(Handled { handle, record }),
            Record::OnboardDevice(record) => out.onboard_devices.push(Handled { handle, record }),
            Record::Other(_) => {}
        }
    }
    out
}
