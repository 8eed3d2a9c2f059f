//! The sources evidence is collected from, by name.
//!
//! One type, so that the collector that names a source and the verifier that reasons about
//! what a source did not see cannot disagree on a spelling: a typo is a compile error, and a
//! name read from a file or the command line that is no source is an error that lists them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A collection source.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// SMBIOS/DMI tables.
    Smbios,
    /// PCI functions.
    Pci,
    /// PCI option ROMs (read only when asked).
    OptionRoms,
    /// USB devices.
    Usb,
    /// I2C/SMBus clients (and, when asked, probed addresses).
    I2c,
    /// Block devices.
    Block,
    /// Network interfaces.
    Net,
    /// Processors (/proc/cpuinfo).
    Cpu,
    /// Loaded kernel modules.
    KernelModules,
    /// ACPI tables.
    Acpi,
    /// The TPM and its event log.
    Tpm,
    /// The IMA measurement list.
    Ima,
    /// Firmware images given to the collector.
    Firmware,
}

impl Source {
    /// The sources the host collector runs, in the order it runs them (firmware images are
    /// given, not found, and come after).
    pub const COLLECTED: [Source; 12] = [
        Source::Smbios,
        Source::Pci,
        Source::OptionRoms,
        Source::Usb,
        Source::I2c,
        Source::Block,
        Source::Net,
        Source::Cpu,
        Source::KernelModules,
        Source::Acpi,
        Source::Tpm,
        Source::Ima,
    ];

    /// Every source: the collected ones, then firmware.
    pub const ALL: [Source; 13] = {
        let mut all = [Source::Firmware; 13];
        let mut i = 0;
        while i < Source::COLLECTED.len() {
            all[i] = Source::COLLECTED[i];
            i += 1;
        }
        all
    };

    /// The name evidence and the command line use.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Smbios => "smbios",
            Source::Pci => "pci",
            Source::OptionRoms => "option-roms",
            Source::Usb => "usb",
            Source::I2c => "i2c",
            Source::Block => "block",
            Source::Net => "net",
            Source::Cpu => "cpu",
            Source::KernelModules => "kernel-modules",
            Source::Acpi => "acpi",
            Source::Tpm => "tpm",
            Source::Ima => "ima",
            Source::Firmware => "firmware",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a source (sources: smbios, pci, option-roms, usb, i2c, block, net, cpu, kernel-modules, acpi, tpm, ima, firmware)")]
pub struct UnknownSource(pub String);

impl std::str::FromStr for Source {
    type Err = UnknownSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Source::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| UnknownSource(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_str() {
        for s in Source::ALL {
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(s.as_str().parse::<Source>(), Ok(s));
        }
        assert!("kernel_modules".parse::<Source>().is_err());
        let msg = UnknownSource("x".into()).to_string();
        for s in Source::ALL {
            assert!(msg.contains(s.as_str()), "{msg}");
        }
    }
}
