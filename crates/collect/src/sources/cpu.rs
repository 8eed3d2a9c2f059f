//! CPU packages from proc/cpuinfo (one component per physical package).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use boardproof_evidence::{Component, ComponentClass, Inventory};

use crate::fsutil::{read_capped, under};
use crate::{Error, SourceOutput};

/// Fields of a logical CPU that identify the package model and its microcode.
const IDENTITY_FIELDS: [(&str, &str); 6] = [
    ("vendor_id", "vendor"),
    ("cpu family", "family"),
    ("model", "model"),
    ("stepping", "stepping"),
    ("model name", "model_name"),
    ("microcode", "microcode"),
];

pub fn collect(root: &Path, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    let path = under(root, "proc/cpuinfo");
    if !path.exists() {
        return Err(Error::Unavailable(format!(
            "{} does not exist",
            path.display()
        )));
    }
    let text = String::from_utf8_lossy(&read_capped(&path)?).into_owned();
    // package id -> field -> set of values seen on its logical CPUs
    let mut packages: BTreeMap<String, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    let mut logical: BTreeMap<String, u64> = BTreeMap::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let fields: BTreeMap<&str, &str> = block
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        if !fields.contains_key("processor") {
            continue;
        }
        let pkg = fields.get("physical id").copied().unwrap_or("0").to_owned();
        *logical.entry(pkg.clone()).or_default() += 1;
        let entry = packages.entry(pkg).or_default();
        for (src, dst) in IDENTITY_FIELDS {
            if let Some(v) = fields.get(src) {
                entry.entry(dst).or_default().insert((*v).to_owned());
            }
        }
    }
    if packages.is_empty() {
        return Err(Error::Unavailable(format!(
            "{}: no processor entries",
            path.display()
        )));
    }
    let mut out = SourceOutput::default();
    for (pkg, fields) in packages {
        let identity: BTreeMap<String, String> = fields
            .into_iter()
            .map(|(k, vals)| (k.to_owned(), vals.into_iter().collect::<Vec<_>>().join(",")))
            .collect();
        inv.components.push(Component {
            class: ComponentClass::Cpu,
            description: identity.get("model_name").cloned(),
            identity,
            location: format!("package{pkg}"),
            attributes: BTreeMap::from([(
                "logical_cpus".to_owned(),
                logical.get(&pkg).copied().unwrap_or(0).to_string(),
            )]),
        });
        out.items += 1;
    }
    Ok(out)
}
