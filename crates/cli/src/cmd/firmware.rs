//! `boardproof firmware inspect`: the tree of a UEFI firmware image, volume by volume, file by
//! file, section by section, with the SHA-256 of every module's body. `firmware diff`: two
//! images compared module by module, as verify compares the images of evidence.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_evidence::{FirmwareImage, FirmwareTree, TreeNode, FIRMWARE_INSPECT_SCHEMA};
use boardproof_formats::uefi::{self, Content, File, Section, TopItem, Volume};

use super::Kind;
use crate::output;
use crate::Outcome;

type Node = TreeNode;

/// The tree of `image`.
pub fn tree(image: &uefi::Image) -> Vec<Node> {
    items_tree(&image.items)
}

fn items_tree(items: &[TopItem]) -> Vec<Node> {
    items
        .iter()
        .map(|i| match i {
            TopItem::Volume(v) => volume_node(v),
            TopItem::Gap(g) => Node {
                kind: "gap".into(),
                subtype: if g.empty { "empty (0xFF)" } else { "non-empty" }.into(),
                offset: Some(g.offset),
                size: g.size,
                guid: None,
                name: None,
                sha256: hex::encode(g.sha256),
                notes: if g.empty {
                    vec![]
                } else {
                    vec!["data outside any firmware volume".into()]
                },
                children: vec![],
            },
            TopItem::Region(r) => Node {
                kind: "region".into(),
                subtype: format!("{} region", r.name()),
                offset: Some(r.region.offset),
                size: r.region.size,
                guid: None,
                name: None,
                sha256: hex::encode(r.region.sha256),
                notes: if r.region.empty {
                    vec!["erased".into()]
                } else {
                    vec![]
                },
                children: items_tree(&r.items),
            },
        })
        .collect()
}

fn volume_node(v: &Volume) -> Node {
    let mut notes = Vec::new();
    if !v.header_checksum_ok {
        notes.push("volume header checksum does not add up".into());
    }
    if v.ffs_version().is_none() && v.variables.is_none() {
        notes.push("not an FFS volume: hashed whole, files not read".into());
    }
    let mut children: Vec<Node> = v.files.iter().map(file_node).collect();
    if let Some(store) = &v.variables {
        children.extend(store.variables.iter().map(|var| Node {
            kind: "variable".into(),
            subtype: if var.is_live() {
                format!("attributes {:#x}", var.attributes)
            } else {
                format!("attributes {:#x}, not live", var.attributes)
            },
            offset: Some(var.offset),
            size: var.data_size,
            guid: Some(var.vendor.to_string()),
            name: Some(var.name.clone()),
            sha256: hex::encode(var.data_sha256),
            notes: if var.is_live() {
                vec![]
            } else {
                vec![format!(
                    "state {:#04x}: deleted or superseded, still in flash",
                    var.state
                )]
            },
            children: vec![],
        }));
        children.push(Node {
            kind: "free-space".into(),
            subtype: if store.free.empty {
                "empty"
            } else {
                "non-empty"
            }
            .into(),
            offset: Some(store.free.offset),
            size: store.free.size,
            guid: None,
            name: None,
            sha256: hex::encode(store.free.sha256),
            notes: if store.free.empty {
                vec![]
            } else {
                vec!["unused variable store space holds data".into()]
            },
            children: vec![],
        });
    }
    if let Some(free) = &v.free_space {
        children.push(Node {
            kind: "free-space".into(),
            subtype: if free.region.empty {
                "empty"
            } else {
                "non-empty"
            }
            .into(),
            offset: free.location.image_offset(),
            size: free.region.size,
            guid: None,
            name: None,
            sha256: hex::encode(free.region.sha256),
            notes: if free.region.empty {
                vec![]
            } else {
                vec!["free space holds data that is not erased flash".into()]
            },
            children: vec![],
        });
    }
    Node {
        kind: "volume".into(),
        subtype: v.kind_name(),
        offset: v.location.image_offset(),
        size: v.length,
        guid: Some(v.file_system.to_string()),
        name: v.name.map(|g| g.to_string()),
        sha256: hex::encode(v.sha256),
        notes,
        children,
    }
}

fn file_node(f: &File) -> Node {
    let mut notes = Vec::new();
    if !f.checksums_ok {
        notes.push("file checksum does not add up".into());
    }
    if f.is_deleted() {
        notes.push(format!(
            "file state {:#04x}: deleted or invalid, still in flash",
            f.state
        ));
    }
    Node {
        kind: "file".into(),
        subtype: uefi::file_type_name(f.file_type),
        offset: f.location.image_offset(),
        size: f.size,
        guid: (!f.is_pad()).then(|| f.name.to_string()),
        name: f.ui_name().map(str::to_owned),
        sha256: hex::encode(f.body_sha256),
        notes,
        children: f
            .sections
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(section_node)
            .collect(),
    }
}

fn section_node(s: &Section) -> Node {
    let mut notes = Vec::new();
    let mut guid = None;
    let mut name = None;
    let mut children: Vec<Node> = s.children().iter().map(section_node).collect();
    match &s.content {
        Content::Ui(t) => name = Some(t.clone()),
        Content::Version { build, text } => name = Some(format!("{text} (build {build})")),
        Content::Depex(ops) => name = Some(ops.join(" ")),
        Content::FreeformGuid(g) => guid = Some(g.to_string()),
        Content::Guided { guid: g, inner, .. } => {
            guid = Some(g.to_string());
            name = uefi::guided_name(g).map(str::to_owned);
            if let uefi::Inner::Opaque(why) = inner {
                notes.push(why.clone());
            }
        }
        Content::Compressed {
            inner,
            variant,
            compression_type,
            ..
        } => {
            name = Some(match (compression_type, variant) {
                (0, _) => "not compressed".into(),
                (_, Some(uefi::tiano::Variant::Efi)) => "EFI".into(),
                (_, Some(uefi::tiano::Variant::Tiano)) => "Tiano".into(),
                (t, None) => format!("compression type {t}"),
            });
            if let uefi::Inner::Opaque(why) = inner {
                notes.push(why.clone());
            }
        }
        Content::Volume(v) => children.push(volume_node(v)),
        Content::Leaf => {}
    }
    Node {
        kind: "section".into(),
        subtype: s.kind().name(),
        offset: s.location.image_offset(),
        size: s.size,
        guid,
        name,
        sha256: hex::encode(s.body_sha256),
        notes,
        children,
    }
}

/// A capsule, its payloads and their trees.
fn capsule_node(bytes: &[u8], c: &uefi::capsule::Capsule) -> Node {
    use uefi::capsule::Body;
    let header = bytes
        .get(..usize::try_from(c.header_size).unwrap_or(0))
        .unwrap_or_default();
    let (subtype, children) = match &c.body {
        Body::Image(image) => ("capsule".to_owned(), tree(image)),
        Body::Fmp(fmp) => {
            let mut children: Vec<Node> = fmp
                .drivers
                .iter()
                .map(|(at, size, digest)| Node {
                    kind: "driver".into(),
                    subtype: "FMP embedded driver".into(),
                    offset: Some(*at),
                    size: *size,
                    guid: None,
                    name: None,
                    sha256: hex::encode(digest),
                    notes: vec![],
                    children: vec![],
                })
                .collect();
            children.extend(fmp.payloads.iter().map(|p| {
                let mut notes = Vec::new();
                if let Some((count, cert, len)) = p.auth {
                    notes.push(format!(
                        "authenticated: monotonic count {count}, {len}-byte certificate of type \
                         {cert} (signature not checked here)"
                    ));
                }
                if let Some((fw, lsv)) = p.fmp_header {
                    notes.push(format!(
                        "FMP payload header: version {fw:#x}, lowest supported {lsv:#x}"
                    ));
                }
                if p.image.is_none() {
                    notes.push(boardproof_formats::uefi::capsule::NOT_FIRMWARE.to_owned());
                }
                Node {
                    kind: "payload".into(),
                    subtype: format!(
                        "FMP payload v{}, image index {}, hardware instance {}",
                        p.header_version, p.image_index, p.hardware_instance
                    ),
                    offset: Some(p.data.0),
                    size: p.data.1,
                    guid: Some(p.image_type_id.to_string()),
                    name: None,
                    sha256: hex::encode(p.data.2),
                    notes,
                    children: p.image.as_ref().map(tree).unwrap_or_default(),
                }
            }));
            (format!("FMP capsule v{}", fmp.version), children)
        }
    };
    Node {
        kind: "capsule".into(),
        subtype,
        offset: Some(0),
        size: usize::try_from(c.image_size).unwrap_or(0),
        guid: Some(c.guid.to_string()),
        name: Some(format!("flags {:#010x}", c.flags)),
        sha256: hex::encode(uefi::sha256_of(header)),
        notes: vec![],
        children,
    }
}

fn walk<'a>(nodes: &'a [Node], depth: usize, out: &mut Vec<(usize, &'a Node)>) {
    for n in nodes {
        out.push((depth, n));
        walk(&n.children, depth.saturating_add(1), out);
    }
}

pub fn inspect(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let bytes = super::read(path, Kind::Firmware)?;
    // A PCI option ROM (a ROM file, or sys/bus/pci/devices/*/rom copied out) starts with the
    // expansion ROM signature; a firmware image never does (its first volume or descriptor
    // comes first).
    if bytes.starts_with(&[0x55, 0xaa]) {
        return inspect_rom(path, &bytes, json);
    }
    let (size, items) = if uefi::capsule::is_capsule(&bytes) {
        let c =
            uefi::capsule::parse_capsule(&bytes).with_context(|| format!("{}", path.display()))?;
        (bytes.len(), vec![capsule_node(&bytes, &c)])
    } else {
        let image = uefi::parse_image(&bytes).with_context(|| format!("{}", path.display()))?;
        (image.size, tree(&image))
    };
    if json {
        let v = FirmwareTree {
            schema: FIRMWARE_INSPECT_SCHEMA.into(),
            image: path.display().to_string(),
            size,
            sha256: hex::encode(boardproof_formats::uefi::sha256_of(&bytes)),
            items,
        };
        output::print(&output::json(&v)?)?;
        return Ok(Outcome::Clean);
    }
    let mut flat = Vec::new();
    walk(&items, 0, &mut flat);
    let rows: Vec<Vec<String>> = flat
        .iter()
        .map(|(depth, n)| {
            let what = format!("{}{} {}", "  ".repeat(*depth), n.kind, n.subtype);
            let mut label = if n.kind == "volume" && n.name.is_some() {
                String::new()
            } else {
                n.guid.clone().unwrap_or_default()
            };
            if let Some(name) = &n.name {
                if !label.is_empty() {
                    label.push(' ');
                }
                label.push_str(name);
            }
            for note in &n.notes {
                label.push_str(&format!(" [{note}]"));
            }
            vec![
                n.offset
                    .map(|o| format!("{o:#x}"))
                    .unwrap_or_else(|| "-".into()),
                format!("{:#x}", n.size),
                what,
                n.sha256.get(..16).unwrap_or(&n.sha256).to_owned(),
                label,
            ]
        })
        .collect();
    // Pad files are counted apart, as the module inventory (and `firmware diff`) keeps them.
    let pads = flat
        .iter()
        .filter(|(_, n)| n.kind == "file" && n.subtype == "Pad")
        .count();
    let files = flat
        .iter()
        .filter(|(_, n)| n.kind == "file")
        .count()
        .saturating_sub(pads);
    let volumes = flat.iter().filter(|(_, n)| n.kind == "volume").count();
    let mut text = format!(
        "{}: {} bytes, {volumes} volumes, {files} files and {pads} pad files (offsets '-' lie inside decompressed data)\n",
        path.display(),
        size
    );
    text.push_str(&output::listing(
        &["offset", "size", "item", "sha256", "guid / name"],
        &rows,
    ));
    output::print(&text)?;
    Ok(Outcome::Clean)
}

/// Reads `--firmware [LABEL=]PATH` arguments; two images may not share a label.
pub fn read_specs(specs: &[String]) -> anyhow::Result<Vec<FirmwareImage>> {
    let mut images: Vec<FirmwareImage> = Vec::new();
    for spec in specs {
        let (label, path) = match spec.split_once('=') {
            Some((label, path)) if !label.is_empty() && !label.contains('/') => {
                (label.to_owned(), Path::new(path))
            }
            _ => {
                let path = Path::new(spec.as_str());
                let label = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .with_context(|| format!("--firmware {spec}: no file name to label it by"))?;
                (label, path)
            }
        };
        if images.iter().any(|i| i.label == label) {
            anyhow::bail!(
                "--firmware {spec}: label {label} is given twice (use LABEL=PATH to tell them apart)"
            );
        }
        images.push(boardproof_collect::firmware::read(&label, path)?);
    }
    Ok(images)
}

pub fn diff(a: &Path, b: &Path, json: bool) -> anyhow::Result<Outcome> {
    let want = boardproof_collect::firmware::read("image", a)?;
    let got = boardproof_collect::firmware::read("image", b)?;
    let mut outcome = boardproof_verify::Outcome::default();
    boardproof_verify::firmware::image(&want, &got, &mut outcome);
    boardproof_verify::sort(&mut outcome);
    let found = !outcome.findings.is_empty();
    let report = boardproof_verify::report(
        outcome,
        format!("firmware image {} (as {})", a.display(), b.display()),
    );
    if json {
        output::print(&output::json(&report)?)?;
    } else {
        let count = |i: &FirmwareImage, k: &str| i.items.iter().filter(|x| x.kind == k).count();
        let mut text = format!(
            "{}: {} files and {} pad files; {}: {} files and {} pad files\n",
            a.display(),
            count(&want, "file"),
            count(&want, "pad"),
            b.display(),
            count(&got, "file"),
            count(&got, "pad")
        );
        text.push_str(&output::report_text(&report));
        output::print(&text)?;
    }
    Ok(if found {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn inspect_rom(path: &Path, bytes: &[u8], json: bool) -> anyhow::Result<Outcome> {
    boardproof_formats::pci_rom::parse(bytes).with_context(|| format!("{}", path.display()))?;
    let name = path.display().to_string();
    let rom = boardproof_collect::option_rom_record(bytes, &name);
    if json {
        output::print(&output::json(&rom)?)?;
        return Ok(Outcome::Clean);
    }
    let rows: Vec<Vec<String>> = rom
        .images
        .iter()
        .map(|i| {
            vec![
                format!("{:#x}", i.offset),
                format!("{:#x}", i.length),
                i.code_type.clone(),
                i.pci_id.clone(),
                i.class_code.clone(),
                i.sha256.get(..16).unwrap_or(&i.sha256).to_owned(),
                match (&i.efi, &i.driver_sha256) {
                    (Some(e), Some(d)) => format!("{e}; driver sha256 {d}"),
                    _ => String::new(),
                },
            ]
        })
        .collect();
    let mut text = format!(
        "{name}: PCI option ROM, {} bytes, {} images, sha256 {}\n",
        rom.size,
        rom.images.len(),
        rom.sha256
    );
    text.push_str(&output::listing(
        &["offset", "size", "code", "pci id", "class", "sha256", "EFI"],
        &rows,
    ));
    if let Some(t) = &rom.trailing {
        text.push_str(&format!("after the last image: {t}\n"));
    }
    output::print(&text)?;
    Ok(Outcome::Clean)
}

// The arguments of `boardproof firmware inspect`.
#[derive(clap::Args, Debug)]
pub struct Inspect {
    /// Firmware image file.
    pub image: PathBuf,
}

impl Inspect {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { image } = self;
        {
            inspect(&image, json)
        }
    }
}

// The arguments of `boardproof firmware diff`.
#[derive(clap::Args, Debug)]
pub struct Diff {
    /// The reference image.
    pub a: PathBuf,
    /// The image compared with it.
    pub b: PathBuf,
}

impl Diff {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { a, b } = self;
        {
            diff(&a, &b, json)
        }
    }
}

// The `boardproof firmware` commands.
#[derive(clap::Subcommand, Debug)]
pub enum FirmwareCommand {
    /// Every volume, file and section of an image (a flash dump, an OVMF CODE or VARS file, a
    /// bare volume), with GUIDs, UI names, types, sizes and the SHA-256 of each body.
    Inspect(Inspect),
    /// Module by module: which files (GUID, UI name) were added, removed or changed from image
    /// A to image B, and any other changed bytes (volume headers, pads, free space, gaps).
    /// Exit 1 when anything differs.
    Diff(Diff),
}

impl FirmwareCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            FirmwareCommand::Inspect(a) => a.run(json),
            FirmwareCommand::Diff(a) => a.run(json),
        }
    }
}
