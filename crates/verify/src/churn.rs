//! Expected churn: measured-boot events the verifier declares may differ from the reference
//! (an OS update replaces the boot loader in PCR 4; efibootmgr rewrites boot variables in
//! PCR 1; repartitioning changes the GPT event in PCR 5). A declared change is moved from the
//! findings to the notes, with the declaration that covered it: never dropped, never silent.
//! Only `eventlog-event-changed` can be declared; a `pcr-mismatch` (a log that does not replay,
//! a quote that does not match) never can.

use boardproof_evidence::FindingKind;

use crate::Outcome;

/// One declaration: every part given must match (`pcr=4,type=EV_EFI_BOOT_SERVICES_APPLICATION,
/// text=grubx64.efi`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpectedChange {
    /// The PCR.
    pub pcr: Option<u32>,
    /// The event type (`EV_EFI_VARIABLE_BOOT`).
    pub event_type: Option<String>,
    /// Text the event's description must contain (case-sensitive).
    pub text: Option<String>,
    /// The declaration as written, for the note.
    pub spec: String,
}

/// Why an expected-change declaration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadExpectedChange {
    /// `text=` with nothing after it.
    #[error("{spec:?}: text= is empty")]
    EmptyText {
        /// The declaration.
        spec: String,
    },
    /// `pcr=` not followed by a number.
    #[error("{spec:?}: pcr={value} is not a number")]
    PcrNotANumber {
        /// The declaration.
        spec: String,
        /// What followed `pcr=`.
        value: String,
    },
    /// A PCR beyond 23.
    #[error("{spec:?}: pcr={pcr} (PCRs are 0-23)")]
    PcrOutOfRange {
        /// The declaration.
        spec: String,
        /// The PCR.
        pcr: u32,
    },
    /// `type=` that is no `EV_` name.
    #[error("{spec:?}: type={value} is not an event type (EV_...)")]
    NotAnEventType {
        /// The declaration.
        spec: String,
        /// What followed `type=`.
        value: String,
    },
    /// A part that is none of `pcr=`, `type=`, `text=`.
    #[error("{spec:?}: expected pcr=N, type=EV_... or text=... (comma-separated)")]
    UnknownPart {
        /// The declaration.
        spec: String,
    },
    /// Nothing declared.
    #[error("{spec:?}: declares nothing")]
    Empty {
        /// The declaration.
        spec: String,
    },
}

impl ExpectedChange {
    /// Parses `pcr=N`, `type=EV_...`, `text=...`, comma-separated; at least one part. `text`
    /// must come last (it may contain commas).
    pub fn parse(spec: &str) -> Result<ExpectedChange, BadExpectedChange> {
        let spec_owned = || spec.to_owned();
        let mut out = ExpectedChange {
            spec: spec.to_owned(),
            ..ExpectedChange::default()
        };
        let mut rest = spec;
        while !rest.is_empty() {
            if let Some(t) = rest.strip_prefix("text=") {
                if t.is_empty() {
                    return Err(BadExpectedChange::EmptyText { spec: spec_owned() });
                }
                out.text = Some(t.to_owned());
                break;
            }
            let (part, tail) = rest.split_once(',').unwrap_or((rest, ""));
            rest = tail;
            match part.split_once('=') {
                Some(("pcr", n)) => {
                    let n: u32 = n.parse().map_err(|_| BadExpectedChange::PcrNotANumber {
                        spec: spec_owned(),
                        value: n.to_owned(),
                    })?;
                    if n > 23 {
                        return Err(BadExpectedChange::PcrOutOfRange {
                            spec: spec_owned(),
                            pcr: n,
                        });
                    }
                    out.pcr = Some(n);
                }
                Some(("type", t)) if t.starts_with("EV_") => out.event_type = Some(t.to_owned()),
                Some(("type", t)) => {
                    return Err(BadExpectedChange::NotAnEventType {
                        spec: spec_owned(),
                        value: t.to_owned(),
                    })
                }
                _ => return Err(BadExpectedChange::UnknownPart { spec: spec_owned() }),
            }
        }
        if out.pcr.is_none() && out.event_type.is_none() && out.text.is_none() {
            return Err(BadExpectedChange::Empty { spec: spec_owned() });
        }
        Ok(out)
    }

    /// Whether the finding's subject (`PCR 4 event 12 EV_...: description`) matches.
    fn matches(&self, subject: &str) -> bool {
        let Some(rest) = subject.strip_prefix("PCR ") else {
            return false;
        };
        let Some((pcr, rest)) = rest.split_once(' ') else {
            return false;
        };
        // rest: "event N TYPE: description"
        let mut words = rest.splitn(3, ' ');
        let (Some("event"), Some(_), Some(tail)) = (words.next(), words.next(), words.next())
        else {
            return false;
        };
        let (event_type, description) = tail.split_once(": ").unwrap_or((tail, ""));
        self.pcr.is_none_or(|p| pcr.parse() == Ok(p))
            && self.event_type.as_deref().is_none_or(|t| t == event_type)
            && self.text.as_deref().is_none_or(|t| description.contains(t))
    }
}

/// Moves the findings `declared` covers to notes.
pub(crate) fn apply(declared: &[ExpectedChange], out: &mut Outcome) {
    if declared.is_empty() {
        return;
    }
    let mut used = vec![false; declared.len()];
    let mut kept = Vec::new();
    for f in std::mem::take(&mut out.findings) {
        let by = (f.kind == FindingKind::EventlogEventChanged)
            .then(|| declared.iter().position(|d| d.matches(&f.subject)))
            .flatten();
        match by {
            Some(i) => {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                let spec = declared.get(i).map_or("", |d| d.spec.as_str());
                out.notes.push(format!(
                    "expected change (declared {spec}): {} — {}",
                    f.subject, f.message
                ));
            }
            None => kept.push(f),
        }
    }
    out.findings = kept;
    for (d, u) in declared.iter().zip(used) {
        if !u {
            out.notes.push(format!(
                "declared change {} did not occur (no event matched)",
                d.spec
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boardproof_evidence::{Finding, Severity};

    fn f(kind: FindingKind, subject: &str) -> boardproof_evidence::Finding {
        Finding::new(kind, Severity::Critical, subject, None, None, "m")
    }

    #[test]
    fn parse_accepts_parts_and_rejects_nonsense() {
        let d =
            ExpectedChange::parse("pcr=4,type=EV_EFI_BOOT_SERVICES_APPLICATION,text=a,b").unwrap();
        assert_eq!(d.pcr, Some(4));
        assert_eq!(d.text.as_deref(), Some("a,b"));
        for bad in ["", "pcr=x", "pcr=24", "type=boot", "colour=red", "text="] {
            assert!(ExpectedChange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn declared_changes_become_notes_and_nothing_else_does() {
        let mut out = Outcome {
            findings: vec![
                f(
                    FindingKind::EventlogEventChanged,
                    "PCR 4 event 12 EV_EFI_BOOT_SERVICES_APPLICATION: image \\EFI\\debian\\grubx64.efi",
                ),
                f(
                    FindingKind::EventlogEventChanged,
                    "PCR 0 event 3 EV_EFI_PLATFORM_FIRMWARE_BLOB: blob at 0x900000",
                ),
                f(FindingKind::PcrMismatch, "PCR 4 (sha256)"),
            ],
            notes: vec![],
            ..Outcome::default()
        };
        let declared = [
            ExpectedChange::parse("pcr=4,text=grubx64.efi").unwrap(),
            ExpectedChange::parse("pcr=5,type=EV_EFI_GPT_EVENT").unwrap(),
        ];
        apply(&declared, &mut out);
        let kinds: Vec<&str> = out.findings.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "PCR 0 event 3 EV_EFI_PLATFORM_FIRMWARE_BLOB: blob at 0x900000",
                "PCR 4 (sha256)"
            ]
        );
        assert!(out.notes[0].starts_with("expected change (declared pcr=4,text=grubx64.efi)"));
        assert!(out.notes[1].contains("pcr=5,type=EV_EFI_GPT_EVENT did not occur"));
    }
}
