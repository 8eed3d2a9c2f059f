//! UEFI device paths as text, in the style of EDK2's DevicePathToText (UEFI 2.10, 10.6), for
//! the node types boot events carry. Unknown nodes print as `Path(type,subtype,hex)`, so no
//! byte of a path is ever hidden.

use crate::guid::{guid_text, utf16z};
use crate::reader::{le16_at as le16, le32_at as le32, le64_at as le64};

/// One node's text, or `None` when its body is too short for its type.
fn node(t: u8, s: u8, body: &[u8]) -> Option<String> {
    Some(match (t, s) {
        (0x01, 0x01) => format!("Pci({:#x},{:#x})", body.get(1)?, body.first()?),
        (0x01, 0x04) => format!("VenHw({})", guid_text(body.get(..16)?)),
        (0x02, 0x01) => {
            let hid = le32(body, 0)?;
            let uid = le32(body, 4)?;
            match hid {
                0x0a03_41d0 => format!("PciRoot({uid:#x})"),
                0x0a08_41d0 => format!("PcieRoot({uid:#x})"),
                _ => format!("Acpi({hid:#010x},{uid:#x})"),
            }
        }
        (0x03, 0x02) => format!("Scsi({:#x},{:#x})", le16(body, 0)?, le16(body, 2)?),
        (0x03, 0x05) => format!("USB({:#x},{:#x})", body.first()?, body.get(1)?),
        (0x03, 0x0b) => {
            let mac: Vec<String> = body.get(..6)?.iter().map(|b| format!("{b:02x}")).collect();
            format!("MAC({})", mac.join(""))
        }
        (0x03, 0x12) => format!(
            "Sata({:#x},{:#x},{:#x})",
            le16(body, 0)?,
            le16(body, 2)?,
            le16(body, 4)?
        ),
        (0x03, 0x17) => format!("NVMe({:#x},{:016x})", le32(body, 0)?, le64(body, 4)?),
        (0x03, 0x18) => format!("Uri({})", String::from_utf8_lossy(body)),
        (0x04, 0x01) => {
            let part = le32(body, 0)?;
            let sig = body.get(20..36)?;
            match body.get(37)? {
                2 => format!("HD({part},GPT,{})", guid_text(sig)),
                1 => format!("HD({part},MBR,{:#010x})", le32(sig, 0)?),
                _ => format!("HD({part})"),
            }
        }
        (0x04, 0x03) => format!("VenMedia({})", guid_text(body.get(..16)?)),
        (0x04, 0x04) => utf16z(body),
        (0x04, 0x06) => format!("FvFile({})", guid_text(body.get(..16)?)),
        (0x04, 0x07) => format!("Fv({})", guid_text(body.get(..16)?)),
        (0x04, 0x08) => format!("Offset({:#x},{:#x})", le64(body, 4)?, le64(body, 12)?),
        _ => return None,
    })
}

/// The text of a device path; nodes are joined with `/`, instances with `,`. A node whose
/// length runs past the end stops the walk with `…(truncated)`.
pub fn device_path_text(path: &[u8]) -> String {
    let mut out = String::new();
    let mut at = 0usize;
    let mut guard = 0u32;
    while at < path.len() && guard < 256 {
        guard = guard.saturating_add(1);
        let (Some(t), Some(s), Some(len)) = (
            path.get(at),
            path.get(at.saturating_add(1)),
            le16(path, at.saturating_add(2)),
        ) else {
            out.push_str("…(truncated)");
            break;
        };
        let len = usize::from(len);
        let Some(body) = (len >= 4)
            .then(|| path.get(at.saturating_add(4)..at.saturating_add(len)))
            .flatten()
        else {
            out.push_str("…(truncated)");
            break;
        };
        match (*t, *s) {
            (0x7f, 0xff) => break,
            (0x7f, 0x01) => out.push(','),
            _ => {
                if !out.is_empty() && !out.ends_with(',') {
                    out.push('/');
                }
                out.push_str(&node(*t, *s, body).unwrap_or_else(|| {
                    let hex: String = body.iter().map(|b| format!("{b:02x}")).collect();
                    format!("Path({t},{s},{hex})")
                }));
            }
        }
        at = at.saturating_add(len);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(t: u8, s: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![t, s];
        v.extend_from_slice(&((body.len() + 4) as u16).to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn common_nodes() {
        let mut p = n(2, 1, &[0xd0, 0x41, 0x03, 0x0a, 0, 0, 0, 0]);
        p.extend(n(1, 1, &[0, 0x1f]));
        p.extend(n(3, 0x12, &[0, 0, 0xff, 0xff, 0, 0]));
        let file: Vec<u8> = "\\EFI\\BOOT\\BOOTX64.EFI\0"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        p.extend(n(4, 4, &file));
        p.extend(n(0x7f, 0xff, &[]));
        assert_eq!(
            device_path_text(&p),
            "PciRoot(0x0)/Pci(0x1f,0x0)/Sata(0x0,0xffff,0x0)/\\EFI\\BOOT\\BOOTX64.EFI"
        );
    }

    #[test]
    fn broken_paths_say_so() {
        assert_eq!(device_path_text(&[1, 1, 0x40, 0]), "…(truncated)");
        assert_eq!(
            device_path_text(&[1, 1, 2, 0]),
            "…(truncated)",
            "length below the header"
        );
        assert_eq!(device_path_text(&n(9, 9, &[0xab])), "Path(9,9,ab)");
        assert_eq!(device_path_text(&[]), "");
    }
}
