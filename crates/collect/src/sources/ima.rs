//! The IMA runtime measurement list (sys/kernel/security/ima/binary_runtime_measurements).

use std::collections::BTreeMap;
use std::path::Path;

use boardproof_evidence::{ImaList, ImaMeasurement, Inventory};
use boardproof_formats::ima;
use sha2::{Digest, Sha256};

use crate::fsutil::{read_capped, under};
use crate::{Error, SourceOutput};

/// Below the root.
pub const LIST: &str = "sys/kernel/security/ima/binary_runtime_measurements";

pub fn collect(root: &Path, inv: &mut Inventory) -> Result<SourceOutput, Error> {
    let path = under(root, LIST);
    if !path.exists() {
        return Err(Error::Unavailable(format!(
            "{} does not exist: the kernel has no IMA, or securityfs is not mounted",
            path.display()
        )));
    }
    let bytes = read_capped(&path)?;
    let entries = ima::parse(&bytes).map_err(|source| Error::Parse {
        path: path.clone(),
        source,
    })?;
    let mut out = SourceOutput {
        items: entries.len() as u64,
        ..SourceOutput::default()
    };
    if entries.len() <= 1 {
        out.notes.push(
            "only the boot aggregate is measured: the IMA policy measures nothing else \
             (boot with ima_policy=tcb or load a policy)"
                .to_owned(),
        );
    }
    inv.ima = Some(ImaList {
        path: LIST.to_owned(),
        entries: entries
            .iter()
            .map(|e| ImaMeasurement {
                pcr: e.pcr,
                template: e.template.clone(),
                digest: e.digest_text(),
                name: e.name.clone(),
                signed: e.template == "ima-sig" && e.extra.is_some(),
                template_digests: BTreeMap::from([
                    ("sha1".to_owned(), hex::encode(e.template_digest)),
                    (
                        "sha256".to_owned(),
                        hex::encode(Sha256::digest(&e.template_data)),
                    ),
                ]),
            })
            .collect(),
    });
    Ok(out)
}
