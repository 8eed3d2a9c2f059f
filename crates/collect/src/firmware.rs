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

use boardproof_evidence::{Evidence, FirmwareImage, FirmwareItem, SourceReport, SourceStatus};
use boardproof_formats::uefi::{self, capsule, Content, File, Inner, Section, TopItem, Volume};
use sha2::{Digest, Sha256};

use crate::Error;

/// Reads the image (or UEFI capsule) at `path` and lists its items under `label`.
pub fn read(label: &str, path: &Path) -> Result<FirmwareImage, Error> {
    let bytes = boardproof_input::read(path, boardproof_input::Kind::Firmware)?;
    let parse_error = |source| Error::Parse {
        path: path.to_owned(),
        source,
    };
    let shown = path.display().to_string();
    if capsule::is_capsule(&bytes) {
        let c = capsule::parse_capsule(&bytes).map_err(parse_error)?;
        return Ok(capsule_inventory(label, &shown, &bytes, &c));
    }
    let image = uefi::parse_image(&bytes).map_err(parse_error)?;
    Ok(inventory(label, &shown, &bytes, &image))
}

/// Adds `images` to `ev` with their `firmware` source report (one note per image, plus
/// `note` when given); nothing when there are none, so the source stays absent.
pub fn attach(ev: &mut Evidence, images: Vec<FirmwareImage>, note: Option<&str>) {
    if images.is_empty() {
        return;
    }
    let mut notes: Vec<String> = images
        .iter()
        .map(|i| {
            let files = i.items.iter().filter(|x| x.kind == "file").count();
            format!("{}: {} ({} bytes, {files} files)", i.label, i.path, i.size)
        })
        .collect();
    notes.extend(note.map(str::to_owned));
    ev.sources.push(SourceReport {
        name: boardproof_evidence::Source::Firmware,
        status: SourceStatus::Ok,
        reason: None,
        items: images.len() as u64,
        notes,
    });
    ev.inventory.firmware.extend(images);
}

/// The items of `image` (parsed from `bytes`).
pub fn inventory(label: &str, path: &str, bytes: &[u8], image: &uefi::Image) -> FirmwareImage {
    let mut items = Vec::new();
    let mut seen = Occurrences::default();
    image_items(&image.items, "", &mut seen, &mut items);
    record(label, path, bytes, items)
}

fn record(label: &str, path: &str, bytes: &[u8], items: Vec<FirmwareItem>) -> FirmwareImage {
    FirmwareImage {
        label: label.to_owned(),
        path: path.to_owned(),
        size: bytes.len() as u64,
        sha256: hex::encode(uefi::sha256_of(bytes)),
        items,
    }
}

/// The items of a capsule: its header, each embedded driver (a module: code the firmware runs
/// to apply the update), each payload, and the items of every payload that is a firmware
/// image, under `capsule/payload:<UpdateImageTypeId>`.
pub fn capsule_inventory(
    label: &str,
    path: &str,
    bytes: &[u8],
    c: &capsule::Capsule,
) -> FirmwareImage {
    let mut items = Vec::new();
    let mut seen = Occurrences::default();
    let header = bytes
        .get(..usize::try_from(c.header_size).unwrap_or(0))
        .unwrap_or_default();
    let header_digest = hex::encode(uefi::sha256_of(header));
    items.push(FirmwareItem {
        path: "capsule".into(),
        kind: "capsule".into(),
        subtype: Some(format!("flags {:#010x}", c.flags)),
        guid: Some(c.guid.to_string()),
        name: None,
        size: u64::from(c.image_size),
        sha256: header_digest.clone(),
        stored_sha256: header_digest,
        erased: false,
    });
    match &c.body {
        capsule::Body::Image(image) => image_items(&image.items, "capsule", &mut seen, &mut items),
        capsule::Body::Fmp(fmp) => {
            for (_, size, digest) in &fmp.drivers {
                items.push(FirmwareItem {
                    path: seen.key("capsule", "driver"),
                    kind: "file".into(),
                    subtype: Some("FMP embedded driver".into()),
                    guid: None,
                    name: None,
                    size: *size as u64,
                    sha256: hex::encode(digest),
                    stored_sha256: hex::encode(digest),
                    erased: false,
                });
            }
            for p in &fmp.payloads {
                let at = seen.key("capsule", &format!("payload:{}", p.image_type_id));
                let mut subtype = format!("FMP payload, image index {}", p.image_index);
                if let Some((fw, lsv)) = p.fmp_header {
                    subtype.push_str(&format!(", version {fw:#x}, lowest supported {lsv:#x}"));
                }
                if let Some((count, _, _)) = p.auth {
                    subtype.push_str(&format!(", signed (monotonic count {count})"));
                }
                // A payload read as an image is compared by its items and its header facts;
                // one that is not is compared by its bytes.
                let own = match &p.image {
                    Some(_) => uefi::sha256_of(subtype.as_bytes()),
                    None => p.data.2,
                };
                items.push(FirmwareItem {
                    path: at.clone(),
                    kind: "payload".into(),
                    subtype: Some(subtype),
                    guid: Some(p.image_type_id.to_string()),
                    name: None,
                    size: p.data.1 as u64,
                    sha256: hex::encode(own),
                    stored_sha256: hex::encode(p.sha256),
                    erased: false,
                });
                if let Some(image) = &p.image {
                    image_items(&image.items, &at, &mut seen, &mut items);
                }
            }
        }
    }
    record(label, path, bytes, items)
}

fn image_items(
    top: &[TopItem],
    parent: &str,
    seen: &mut Occurrences,
    items: &mut Vec<FirmwareItem>,
) {
    for item in top {
        match item {
            TopItem::Volume(v) => volume(v, parent, seen, items),
            TopItem::Gap(g) => items.push(FirmwareItem {
                path: seen.key(parent, "gap"),
                kind: "gap".into(),
                subtype: None,
                guid: None,
                name: None,
                size: g.size as u64,
                sha256: hex::encode(g.sha256),
                stored_sha256: hex::encode(g.sha256),
                erased: g.empty,
            }),
            TopItem::Region(r) => {
                let path = seen.key(parent, &format!("region:{}", r.name()));
                let stored = hex::encode(r.region.sha256);
                // A region whose volumes are read is compared through them; the others (ME,
                // GbE, EC, ...) by their bytes.
                let own = if r.items.is_empty() {
                    stored.clone()
                } else {
                    hex::encode(uefi::sha256_of(r.name().as_bytes()))
                };
                items.push(FirmwareItem {
                    path: path.clone(),
                    kind: "region".into(),
                    subtype: Some(format!("{} region", r.name())),
                    guid: None,
                    name: None,
                    size: r.region.size as u64,
                    sha256: own,
                    stored_sha256: stored,
                    erased: r.region.empty,
                });
                image_items(&r.items, &path, seen, items);
            }
        }
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
    // A volume whose contents are not read is one item: all of its bytes. One whose files or
    // variables are read is compared through them, and by its header.
    let own = if v.ffs_version().is_some() || v.variables.is_some() {
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
    if let Some(store) = &v.variables {
        variables(store, &path, seen, out);
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

/// The live variables of a store, and its unused space. Deleted and superseded copies are not
/// items (every write leaves one behind); their bytes are still in the volume's stored digest.
fn variables(
    store: &uefi::nvram::Store,
    parent: &str,
    seen: &mut Occurrences,
    out: &mut Vec<FirmwareItem>,
) {
    for var in store.variables.iter().filter(|v| v.is_live()) {
        let mut h = Sha256::new();
        h.update(var.attributes.to_le_bytes());
        h.update(var.data_sha256);
        out.push(FirmwareItem {
            path: seen.key(parent, &format!("var:{}:{}", var.vendor, var.name)),
            kind: "variable".into(),
            subtype: Some(format!("attributes {:#x}", var.attributes)),
            guid: Some(var.vendor.to_string()),
            name: Some(var.name.clone()),
            size: var.data_size as u64,
            sha256: hex::encode(h.finalize()),
            stored_sha256: hex::encode(var.sha256),
            erased: false,
        });
    }
    out.push(FirmwareItem {
        path: format!("{parent}/variable-store-free"),
        kind: "free-space".into(),
        subtype: None,
        guid: None,
        name: None,
        size: store.free.size as u64,
        sha256: hex::encode(store.free.sha256),
        stored_sha256: hex::encode(store.free.sha256),
        erased: store.free.empty,
    });
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
