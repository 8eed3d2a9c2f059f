//! Event logs checked against `tpm2_eventlog` (tpm2-tools), run live on every log under
//! ../shared/testdata/eventlog and on the lab's golden log: same events (PCR, type, every
//! digest) and the same replayed PCRs. Where tpm2_eventlog fails, the test states which side
//! is right and why.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::{code, require_tool, run, stderr, stdout, testdata_files, workspace};

#[derive(Debug, Default, PartialEq)]
struct RefEvent {
    pcr: u32,
    event_type: String,
    digests: BTreeMap<String, String>,
}

/// What an event's data says, beyond its digests: the size, and the fields tpm2_eventlog
/// decodes (`BlobBase`, `UnicodeName`, `ImageLengthInMemory`…); boardproof's side gives its
/// data size and description.
#[derive(Debug, Default, Clone)]
struct EventData {
    size: Option<u64>,
    fields: BTreeMap<String, String>,
    description: String,
}

/// Bank name → PCR index → hex value.
type Pcrs = BTreeMap<String, BTreeMap<u32, String>>;

#[derive(Debug, Default)]
struct RefLog {
    events: Vec<RefEvent>,
    data: Vec<EventData>,
    pcrs: Pcrs,
}

/// tpm2_eventlog prints YAML; the lines needed here have fixed indentation, so they are read
/// directly (its SHA-1 log output is not even valid YAML: events lack their list markers).
fn tpm2_eventlog(file: &Path) -> (i32, RefLog) {
    let out = Command::new("tpm2_eventlog").arg(file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut log = RefLog::default();
    let mut in_pcrs = false;
    let mut bank = String::new();
    let mut alg: Option<String> = None;
    for line in text.lines() {
        if line == "pcrs:" {
            in_pcrs = true;
            continue;
        }
        if in_pcrs {
            if let Some(b) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
                if !b.starts_with(' ') {
                    bank = b.to_owned();
                    continue;
                }
            }
            if let Some((i, v)) = line.trim().split_once(':') {
                let v = v.trim().trim_start_matches("0x").to_lowercase();
                log.pcrs
                    .entry(bank.clone())
                    .or_default()
                    .insert(i.trim().parse().unwrap(), v);
            }
            continue;
        }
        if let Some(p) = line.strip_prefix("  PCRIndex: ") {
            log.events.push(RefEvent {
                pcr: p.parse().unwrap(),
                ..RefEvent::default()
            });
            log.data.push(EventData::default());
        } else if let Some(h) = line
            .strip_prefix("  Event: \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            // Data it prints only as hex.
            if let Some(d) = log.data.last_mut() {
                d.fields.insert("hex".into(), h.to_owned());
            }
        } else if let Some(n) = line.strip_prefix("  EventSize: ") {
            log.data.last_mut().unwrap().size = Some(n.trim().parse().unwrap());
        } else if let Some((k, v)) = line
            .strip_prefix("    ")
            .filter(|l| !l.starts_with(' ') && !l.starts_with("Digest"))
            .and_then(|l| l.split_once(": "))
        {
            if let Some(d) = log.data.last_mut() {
                d.fields
                    .insert(k.to_owned(), v.trim_matches(['"', '\'']).to_owned());
            }
        } else if let Some(t) = line.strip_prefix("  EventType: ") {
            log.events.last_mut().unwrap().event_type = t.to_owned();
        } else if let Some(d) = line.strip_prefix("  Digest: ") {
            // The header event's single SHA-1 digest.
            log.events
                .last_mut()
                .unwrap()
                .digests
                .insert("sha1".into(), d.trim_matches('"').to_owned());
        } else if let Some(a) = line.strip_prefix("  - AlgorithmId: ") {
            alg = Some(a.to_owned());
        } else if let Some(d) = line.strip_prefix("    Digest: ") {
            let a = alg.take().expect("Digest after AlgorithmId");
            log.events
                .last_mut()
                .unwrap()
                .digests
                .insert(a, d.trim_matches('"').to_owned());
        }
    }
    (out.status.code().unwrap_or(-1), log)
}

/// boardproof's data size and description of every event of `file`.
fn our_data(file: &Path) -> Vec<EventData> {
    let shown = run(&["eventlog", "show", file.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&stdout(&shown)).unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| EventData {
            size: e["data_size"].as_u64(),
            fields: BTreeMap::new(),
            description: e["description"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// Compares what tpm2_eventlog decodes of an event's data with boardproof's description of
/// it; returns how many fields were compared. Types tpm2_eventlog prints only as hex are
/// compared by size alone.
fn compare_data(
    name: &str,
    i: usize,
    event_type: &str,
    ours: &EventData,
    theirs: &EventData,
) -> usize {
    let what = format!("{name}: event {i} {event_type}");
    assert_eq!(ours.size, theirs.size, "{what}: data size");
    let f = |k: &str| theirs.fields.get(k).map(String::as_str);
    let d = &ours.description;
    let mut n = 1;
    let mut has = |text: String| {
        assert!(
            d.contains(&text),
            "{what}: tpm2_eventlog decodes {text:?}, boardproof says {d:?}"
        );
        n += 1;
    };
    match event_type {
        "EV_EFI_PLATFORM_FIRMWARE_BLOB" => {
            if let (Some(b), Some(l)) = (f("BlobBase"), f("BlobLength")) {
                has(format!("firmware blob at {b}, {l} bytes"));
            }
        }
        t if t.starts_with("EV_EFI_VARIABLE") => {
            if let (Some(g), Some(u)) = (f("VariableName"), f("UnicodeName")) {
                has(format!("variable {u} ({})", g.to_uppercase()));
            }
            if let Some(len) = f("VariableDataLength") {
                has(format!("), {len} bytes"));
            }
        }
        "EV_EFI_BOOT_SERVICES_APPLICATION"
        | "EV_EFI_BOOT_SERVICES_DRIVER"
        | "EV_EFI_RUNTIME_SERVICES_DRIVER" => {
            if let (Some(at), Some(len)) = (f("ImageLocationInMemory"), f("ImageLengthInMemory")) {
                has(format!(" at {at}, {len} bytes"));
            }
        }
        // tpm2_eventlog prints the S-CRTM version as hex. boardproof's text must be exactly
        // those bytes (ASCII or UCS-2, then only NULs; or a GUID's 16 bytes), else it must
        // say bytes: a string misread from other bytes ("㙍0" from "M60\0…") fails here.
        "EV_S_CRTM_VERSION" => {
            let Some(raw) = f("hex").map(|h| hex::decode(h).unwrap()) else {
                return n;
            };
            match serde_json::from_str::<String>(d) {
                Ok(t) => {
                    let ascii: Vec<u8> = t.bytes().collect();
                    let ucs2: Vec<u8> = t.encode_utf16().flat_map(u16::to_le_bytes).collect();
                    let then_nuls = |p: &[u8]| {
                        raw.len() >= p.len()
                            && raw[..p.len()] == *p
                            && raw[p.len()..].iter().all(|b| *b == 0)
                    };
                    let guid = raw.len() == 16 && t.len() == 36;
                    assert!(
                        then_nuls(&ascii) || then_nuls(&ucs2) || guid,
                        "{what}: boardproof says {t:?}, the bytes are {}",
                        hex::encode(&raw)
                    );
                }
                Err(_) => assert_eq!(*d, format!("{} bytes", raw.len()), "{what}"),
            }
            n += 1;
        }
        _ => {}
    }
    n
}

fn ours(file: &Path) -> Option<(Vec<RefEvent>, Pcrs)> {
    let f = file.to_str().unwrap();
    let shown = run(&["eventlog", "show", f, "--json"]);
    if code(&shown) != 0 {
        return None;
    }
    let v: Value = serde_json::from_str(&stdout(&shown)).unwrap();
    let events = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| RefEvent {
            pcr: e["pcr"].as_u64().unwrap() as u32,
            event_type: e["type"].as_str().unwrap().to_owned(),
            digests: e["digests"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect(),
        })
        .collect();
    let replayed = run(&["eventlog", "replay", f, "--json"]);
    let r: Value = serde_json::from_str(&stdout(&replayed)).unwrap();
    // A bank the Spec ID event declares but the events do not carry (PFP 10.2.2 requires a
    // digest per declared algorithm in every event) is named and the exit code is 2: those
    // PCRs are not verified. tpm2_eventlog just leaves the bank out.
    match r["errors"].as_object() {
        None => assert_eq!(code(&replayed), 0, "{f}: {}", stderr(&replayed)),
        Some(errors) => {
            assert_eq!(code(&replayed), 2, "{f}");
            for (bank, why) in errors {
                assert!(
                    why.as_str().unwrap().contains("has no"),
                    "{f}: {bank}: {why}"
                );
            }
        }
    }
    let pcrs = r["banks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(b, m)| {
            (
                b.clone(),
                m.as_object()
                    .unwrap()
                    .iter()
                    .map(|(i, v)| (i.parse().unwrap(), v.as_str().unwrap().to_owned()))
                    .collect(),
            )
        })
        .collect();
    Some((events, pcrs))
}

/// Event data fields compared with tpm2_eventlog over the run (sizes and decoded fields).
static DATA_FIELDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Logs tpm2_eventlog cannot read, with what boardproof must do and why it is right.
fn disagreement(name: &str) -> Option<(&'static str, bool)> {
    // (why, whether boardproof parses it)
    Some(match name {
        "goattest-short_no_action_eventlog.bin" => (
            "one SHA-1-format EV_NO_ACTION event carrying 'StartupLocality\\0' + locality 3. \
             tpm2_eventlog takes any leading EV_NO_ACTION for a Spec ID event and fails on its \
             size; PFP 10.4.5.1 identifies the Spec ID event by its signature 'Spec ID Event03', \
             so this is a valid one-event SHA-1 log (go-attestation parses it the same way)",
            true,
        ),
        "gotpmtools-agent-cel.bin" => (
            "a TCG Canonical Event Log (CEL-TLV), not a PC Client log: both reject it",
            false,
        ),
        "keylime-binary_bios_measurements-bogus.bin" => (
            "not an event log: tpm2_eventlog crashes (SIGSEGV), boardproof gives a one-line \
             error with the offset",
            false,
        ),
        "keylime-binary_bios_measurements-empty.bin" => {
            ("empty: there is no event to read; both refuse it", false)
        }
        _ => return None,
    })
}

fn compare(file: &Path) -> usize {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let (rc, reference) = tpm2_eventlog(file);
    if let Some((why, parses)) = disagreement(&name) {
        assert_ne!(rc, 0, "{name}: tpm2_eventlog now reads it; recheck: {why}");
        let got = ours(file);
        assert_eq!(got.is_some(), parses, "{name}: {why}");
        if !parses {
            let out = run(&["eventlog", "show", file.to_str().unwrap()]);
            assert_eq!(code(&out), 2);
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(&name), "{err}");
        }
        return 0;
    }
    assert_eq!(
        rc, 0,
        "{name}: tpm2_eventlog failed and no reason is recorded"
    );
    let (events, pcrs) = ours(file).unwrap_or_else(|| panic!("{name}: boardproof refused it"));
    assert_eq!(events.len(), reference.events.len(), "{name}: event count");
    for (i, (a, b)) in events.iter().zip(&reference.events).enumerate() {
        // tpm2_eventlog names types outside the PFP "Unknown event type"; boardproof prints
        // the number, so nothing is lost.
        if b.event_type == "Unknown event type" {
            assert!(a.event_type.starts_with("0x"), "{name}: event {i}: {a:?}");
            assert_eq!(
                (a.pcr, &a.digests),
                (b.pcr, &b.digests),
                "{name}: event {i}"
            );
            continue;
        }
        assert_eq!(a, b, "{name}: event {i}");
    }
    let data = our_data(file);
    assert_eq!(data.len(), reference.data.len(), "{name}");
    let mut fields = 0;
    for (i, (a, b)) in data.iter().zip(&reference.data).enumerate() {
        fields += compare_data(&name, i, &events[i].event_type, a, b);
    }
    DATA_FIELDS.fetch_add(fields, std::sync::atomic::Ordering::Relaxed);
    // tpm2_eventlog prints the PCRs some event extended, like boardproof. It differs on PCR 0
    // of logs with EV_NO_ACTION events after the header: those are informational and "SHALL
    // NOT be extended" (PFP 10.4.5), and a StartupLocality event sets PCR 0's initial value
    // to the locality (PFP 10.4.5.3). tpm2_eventlog 5.4 extends them and starts from zero.
    let no_action_pcrs: Vec<u32> = events
        .iter()
        .skip(1)
        .filter(|e| e.event_type == "EV_NO_ACTION")
        .map(|e| e.pcr)
        .collect();
    assert_eq!(
        pcrs.keys().collect::<Vec<_>>(),
        reference.pcrs.keys().collect::<Vec<_>>()
    );
    for (bank, ours_bank) in &pcrs {
        let theirs = &reference.pcrs[bank];
        assert_eq!(
            ours_bank.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>()
        );
        for (i, v) in ours_bank {
            if no_action_pcrs.contains(i) {
                continue;
            }
            assert_eq!(v, &theirs[i], "{name}: {bank} PCR {i}");
        }
    }
    for &i in &no_action_pcrs {
        // Their sha256 value is exactly "extend every event of this PCR, EV_NO_ACTION too,
        // from zero": the one rule in which the two differ.
        let mut pcr = vec![0u8; 32];
        for e in events.iter().skip(1).filter(|e| e.pcr == i) {
            let mut h = Sha256::new();
            h.update(&pcr);
            h.update(hex::decode(&e.digests["sha256"]).unwrap());
            pcr = h.finalize().to_vec();
        }
        if let Some(theirs) = reference.pcrs.get("sha256").and_then(|b| b.get(&i)) {
            assert_eq!(
                &hex::encode(&pcr),
                theirs,
                "{name}: tpm2_eventlog's PCR {i} model"
            );
            assert_ne!(&pcrs["sha256"][&i], theirs, "{name}: PCR {i}");
        }
    }
    events.len()
}

/// PCR 0 of go-tpm-tools' gLinux laptop log as its TPM reported it (go-tpm-tools
/// server/eventlog_test.go, GlinuxNoSecureBootLaptop): the log has StartupLocality 3, and
/// only a replay that starts PCR 0 at locality 3 reaches these values.
#[test]
fn startup_locality_replays_to_the_real_tpms_pcr0() {
    let file = crate::util::testdata().join("eventlog/gotpmtools-glinux-alex.bin");
    let (_, pcrs) = ours(&file).unwrap();
    assert_eq!(pcrs["sha1"][&0], "29d236609a5f9cc6912af44ba5f57b13a17c8a84");
    assert_eq!(
        pcrs["sha256"][&0],
        "0e5ea849d7647a1ac1becc096fee4df98f00f8015f934afadaab0b8aa20b38a5"
    );
    assert_eq!(
        pcrs["sha256"][&7],
        "9d1be46302bc4f5055c90a0376d9142e397ca8744f387c9824170f1bc855fde5"
    );
}

#[test]
fn every_shared_log_agrees_with_tpm2_eventlog() {
    if !require_tool("tpm2_eventlog") {
        return;
    }
    let mut total = 0;
    let mut files = testdata_files("eventlog", ".bin");
    files.extend(testdata_files("eventlog", ".rimel"));
    for f in &files {
        total += compare(f);
    }
    assert!(total > 1000, "compared {total} events");
    let fields = DATA_FIELDS.load(std::sync::atomic::Ordering::Relaxed);
    assert!(fields > total, "compared {fields} event data fields");
    eprintln!("{total} events, {fields} event data fields equal tpm2_eventlog's");
}

#[test]
fn the_lab_log_agrees_with_tpm2_eventlog_and_replays_to_the_guests_pcrs() {
    if !require_tool("tpm2_eventlog") {
        return;
    }
    let golden = workspace().join("testdata/lab/golden");
    let log = golden.join("eventlog.bin");
    assert!(compare(&log) > 20);
    // The guest read its PCRs from the TPM (sysfs pcr-sha256): the log replays to them.
    let (_, pcrs) = ours(&log).unwrap();
    let tpm = std::fs::read_to_string(golden.join("pcrs-sha256.txt")).unwrap();
    let mut checked = 0;
    for line in tpm.lines() {
        let (i, v) = line.split_once(' ').unwrap();
        let i: u32 = i.parse().unwrap();
        let v = v.to_lowercase();
        match pcrs["sha256"].get(&i) {
            Some(replayed) => {
                assert_eq!(replayed, &v, "PCR {i}");
                checked += 1;
            }
            // PCR 10 is IMA's (not in this log); the rest were never extended.
            None if i == 10 => {}
            None => assert!(
                v.chars().all(|c| c == '0') || v.chars().all(|c| c == 'f'),
                "PCR {i} = {v} but no event extends it"
            ),
        }
    }
    assert_eq!(checked, 9, "PCRs 0-7 and 9");
}
