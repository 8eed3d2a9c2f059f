//! A firmware image's module inventory: every volume, file, pad, free space and gap of a parsed
//! image as one flat list keyed by where it sits, for evidence and for `firmware diff`.
//!
//! The key is a path of GUIDs, not an offset: a module that moves because a neighbour grew is
//! the same module. Each item's digest covers what the item itself holds, decompressed, with
//! nested volumes left out (their files are items of their own), so that a patched DXE driver
//! inside OVMF's LZMA-compressed DXE volume changes the driver's digest and not the digest of
//! the file that carries the compressed volume. The stored digest covers the bytes as they lie
//! in flash, so a change that decodes to the same content (other compression, a header field)
//! is still seen.

use std::collections::BTreeMap;
use std::path::Path;

use boardproof_evidence::{FirmwareImage, FirmwareItem};
use boardproof_formats::uefi::{self, Content, File, Inner, Section, TopItem, Volume};
use sha2::{Digest, Sha256};

use crate::{read_capped, Error};

/// Reads the image at `path` and lists its items under `label`.
pub fn read(label: &str, path: &Path) -> Result<FirmwareImage, Error> {
    let bytes = read_capped(path)?;
    let image = uefi::parse_image(&bytes).map_err(|source| Error::Parse {
        path: path.to_owned(),
        source,
    })?;
    Ok(inventory(
        label,
        &path.display().to_string(),
        &bytes,
        &image,
    ))
}

/// The items of `image` (parsed from `bytes`).
pub fn inventory(label: &str, path: &str, bytes: &[u8], image: &uefi::Image) -> FirmwareImage {
    let mut items = Vec::new();
    let mut seen = Occurrences::default();
    for item in &image.items {
        match item {
            TopItem::Volume(v) => volume(v, "", &mut seen, &mut items),
            TopItem::Gap(g) => items.push(FirmwareItem {
                path: seen.key("", "gap"),
                kind: "gap".into(),
                subtype: None,
                guid: None,
                name: None,
                size: g.size as u64,
                sha256: hex::encode(g.sha256),
                stored_sha256: hex::encode(g.sha256),
                erased: g.empty,
            }),
        }
    }
    FirmwareImage {
        label: label.to_owned(),
        path: path.to_owned(),
        size: bytes.len() as u64,
        sha256: hex::encode(uefi::sha256_of(bytes)),
        items,
    }
}

/// Counts how often each full path was given, so the second item with one GUID in one
/// container gets `#1`.
#[derive(Default)]
struct Occurrences(BTreeMap<String, usize>);

impl Occurrences {
    fn key(&mut self, parent: &str, name: &str) -> String {
        let base = if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}/{name}")
        };
        let n = self.0.entry(base.clone()).or_default();
        let key = if *n == 0 { base } else { format!("{base}#{n}") };
        *n = n.saturating_add(1);
        key
    }
}

fn volume(v: &Volume, parent: &str, seen: &mut Occurrences, out: &mut Vec<FirmwareItem>) {
    let guid = v.name.unwrap_or(v.file_system);
    let path = seen.key(parent, &format!("fv:{guid}"));
    // A volume whose files are not read (an NVRAM store) is one item: all of its bytes.
    let own = if v.ffs_version().is_some() {
        v.header_sha256
    } else {
        v.sha256
    };
    out.push(FirmwareItem {
        path: path.clone(),
        kind: "volume".into(),
        subtype: Some(v.kind_name()),
        guid: Some(guid.to_string()),
        name: None,
        size: v.length as u64,
        sha256: hex::encode(own),
        stored_sha256: hex::encode(v.sha256),
        erased: false,
    });
    for f in &v.files {
        file(f, &path, seen, out);
    }
    if let Some(free) = &v.free_space {
        out.push(FirmwareItem {
            path: format!("{path}/free-space"),
            kind: "free-space".into(),
            subtype: None,
            guid: None,
            name: None,
            size: free.region.size as u64,
            sha256: hex::encode(free.region.sha256),
            stored_sha256: hex::encode(free.region.sha256),
            erased: free.region.empty,
        });
    }
}

fn file(f: &File, parent: &str, seen: &mut Occurrences, out: &mut Vec<FirmwareItem>) {
    if f.is_pad() {
        out.push(FirmwareItem {
            path: seen.key(parent, "pad"),
            kind: "pad".into(),
            subtype: Some(uefi::file_type_name(f.file_type)),
            guid: None,
            name: None,
            size: f.size as u64,
            sha256: hex::encode(f.body_sha256),
            stored_sha256: hex::encode(f.body_sha256),
            erased: f.body_erased,
        });
        return;
    }
    let path = seen.key(parent, &format!("file:{}", f.name));
    let mut h = Sha256::new();
    // What the firmware acts on besides the sections: the type, the attributes and the state
    // (a file marked deleted is skipped at boot).
    h.update([f.file_type, f.attributes, f.state]);
    let mut nested = Vec::new();
    match &f.sections {
        Some(sections) => own_sections(sections, &mut h, &mut nested),
        None => h.update(f.body_sha256),
    }
    out.push(FirmwareItem {
        path: path.clone(),
        kind: "file".into(),
        subtype: Some(uefi::file_type_name(f.file_type)),
        guid: Some(f.name.to_string()),
        name: f.ui_name().map(str::to_owned),
        size: f.size as u64,
        sha256: hex::encode(h.finalize()),
        stored_sha256: hex::encode(f.body_sha256),
        erased: false,
    });
    // Nested volumes come after the file that carries them.
    for v in nested {
        volume(v, &path, seen, out);
    }
}

/// Feeds the file's own content to `h`, section by section, decompressed; collects the volumes
/// found inside instead of hashing them.
fn own_sections<'a>(sections: &'a [Section], h: &mut Sha256, nested: &mut Vec<&'a Volume>) {
    for s in sections {
        h.update([s.section_type]);
        match &s.content {
            Content::Leaf
            | Content::Ui(_)
            | Content::Version { .. }
            | Content::Depex(_)
            | Content::FreeformGuid(_) => h.update(s.body_sha256),
            Content::Compressed {
                compression_type,
                inner,
                ..
            } => {
                h.update([*compression_type]);
                own_inner(inner, s, h, nested);
            }
            Content::Guided {
                guid,
                attributes,
                inner,
            } => {
                h.update(guid.0);
                h.update(attributes.to_le_bytes());
                own_inner(inner, s, h, nested);
            }
            Content::Volume(v) => {
                h.update(b"volume");
                nested.push(v);
            }
        }
    }
}

fn own_inner<'a>(inner: &'a Inner, s: &Section, h: &mut Sha256, nested: &mut Vec<&'a Volume>) {
    match inner {
        Inner::Sections(inner) => own_sections(inner, h, nested),
        // Not decoded: the bytes as stored are all there is to compare.
        Inner::Opaque(_) => h.update(s.body_sha256),
    }
}
